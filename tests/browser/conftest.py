"""A real headless Chromium (Playwright, sync API) against pytest-django's live server.

While Playwright's sync API is started, an asyncio event loop counts as running in the test
thread, and Django refuses ORM calls from such a thread (SynchronousOnlyOperation). The tests
call the ORM only between browser actions, never concurrently with them, which is the case
Django documents DJANGO_ALLOW_ASYNC_UNSAFE for. It is set only while Playwright runs, so the
rest of the suite keeps Django's check.
"""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
# `./run test` installs axe-core from npm into .cache/node and says where (WB_AXE_JS); never from a CDN.
AXE_JS = Path(os.environ.get("WB_AXE_JS") or ROOT / ".cache/node/node_modules/axe-core/axe.min.js")
SCREENSHOTS = ROOT / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}

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
    """Return `open_browser(name, viewport=None) -> Page`: a fresh Chromium profile per person, closed after the test.

    Uncaught JavaScript errors on any page fail the test at teardown.
    """
    contexts, js_errors = [], []

    def open_one(name: str, *, viewport: dict | None = None):
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{name}"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport=viewport or {"width": 1280, "height": 900},
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


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is not installed at {AXE_JS}: run the suite with ./run test, which installs it "
                    f"(npm install --prefix .cache/node axe-core)")
    return AXE_JS.read_text()


def axe_violations(page, axe_source: str) -> list[str]:
    """Run axe-core's default rules (WCAG 2 A/AA and best practices) on the page as it is now.

    Returns one readable line per violation and element, empty when the page passes.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source)
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary.replace(/\\s+/g, " "))}));
    }""")
    url = page.url
    return [f"{url} [{v['id']}, {v['impact']}] {v['help']} -> {node}" for v in found for node in v["nodes"]]


def horizontal_overflow(page) -> dict | None:
    """The page's scroll width and the widest elements sticking out of the viewport, or None when it fits."""
    found = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) return null;
        const culprits = [];
        for (const el of document.body.querySelectorAll("*")) {
            const box = el.getBoundingClientRect();
            if (box.right > width + 1 && box.width > 0) culprits.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
                + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "")
                + " right=" + Math.round(box.right));
        }
        return {scroll_width: document.documentElement.scrollWidth, viewport: width, culprits: culprits.slice(0, 8)};
    }""")
    return json.loads(json.dumps(found)) if found else None
