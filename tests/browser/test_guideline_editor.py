"""A lead writes a guideline with the live preview and publishes it (real Chromium)."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_rater_flow import log_in
from tests.conftest import make_world
from webapp.audit.models import AuditEvent
from webapp.guidelines.models import GuidelineVersion, body_sha256

pytestmark = pytest.mark.browser


def test_it_previews_live_and_publishes_a_new_version(live_server, open_browser):
    world = make_world(n_comparisons=0)
    page = open_browser("carol")
    log_in(page, live_server.url, "carol", path="/lead/demo/guidelines/new/")
    expect(page).to_have_url(re.compile(r"/lead/demo/guidelines/new/$"))
    editor = page.locator("#body_md")
    editor.fill("")
    with page.expect_response(lambda r: r.url.endswith("/guidelines/preview")):
        editor.type("# Rules v2\n\n**Prefer correct answers.** <script>window.__xss=1</script> [x](javascript:alert(1))")
    expect(page.locator("#preview strong")).to_have_text("Prefer correct answers.")
    expect(page.locator("#preview h1")).to_have_text("Rules v2")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#preview script, #preview a[href^='javascript']").count() == 0
    page.fill("#change_note", "correctness first")
    with page.expect_navigation():
        page.click("#publish")
    version = GuidelineVersion.objects.get(project=world.project, number=2)
    assert version.sha256 == body_sha256(version.body_md) and version.body_md.startswith("# Rules v2")
    expect(page.locator("body")).to_contain_text(version.sha256)
    assert AuditEvent.objects.filter(action="guideline.published", object_id=str(version.pk)).exists()
