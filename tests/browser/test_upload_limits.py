"""A lead uploads a file over the import limit in a real Chromium and reads why it was refused."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_rater_flow import log_in
from tests.conftest import comparisons_jsonl, make_world
from webapp.comparisons.models import ImportBatch

pytestmark = pytest.mark.browser


def test_an_oversized_upload_gets_a_readable_page_not_a_reset_connection(live_server, open_browser, settings,
                                                                        tmp_path):
    make_world()
    settings.WB_MAX_IMPORT_BYTES = 200_000
    big = tmp_path / "big.jsonl"
    big.write_bytes(comparisons_jsonl(12_000))  # ~2.8 MB: the server must drain it to be heard
    batches = ImportBatch.objects.count()
    lead = open_browser("carol")
    log_in(lead, live_server.url, "carol", path="/lead/demo/")
    lead.set_input_files('input[name="file"]', str(big))
    with lead.expect_navigation() as navigation:
        lead.click('button:has-text("Import")')
    assert navigation.value.status == 413
    expect(lead.locator("h1")).to_have_text("That was too large")
    expect(lead.locator("body")).to_contain_text("the limit is 0.2 MB (WB_MAX_IMPORT_BYTES)")
    assert ImportBatch.objects.count() == batches
