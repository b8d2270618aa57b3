"""A real headless Chromium (Playwright, sync API) against pytest-django's live server.

While Playwright's sync API is started, an asyncio event loop counts as running in the test
thread, and Django refuses ORM calls from such a thread (SynchronousOnlyOperation). The tests
call the ORM only between browser actions, never concurrently with them, which is the case
Django documents DJANGO_ALLOW_ASYNC_UNSAFE for. It is set only while Playwright runs, so the
rest of the suite keeps Django's check.
"""

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach the network, which is closed here.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def playwright():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as instance:
            yield instance


@pytest.fixture
def open_browser(playwright, tmp_path):
    """Return `open_browser(name) -> Page`: a fresh Chromium profile per person, closed after the test.

    Uncaught JavaScript errors on any page fail the test at teardown.
    """
    contexts, js_errors = [], []

    def open_one(name: str):
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{name}"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        page.on("pageerror", lambda error: js_errors.append(f"{name}: {error}"))
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert not js_errors, f"JavaScript errors in the page: {js_errors}"
