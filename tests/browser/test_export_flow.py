"""A lead requests an export on the page and watches its job page fill in without a reload (real Chromium)."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_rater_flow import log_in
from tests.conftest import acknowledge, judge_canonical, make_world
from webapp.runs.models import Job
from webapp.runs.services import job_run

pytestmark = pytest.mark.browser


def test_a_lead_exports_and_the_job_page_shows_progress_and_files_live(live_server, open_browser):
    world = make_world(overlap=2, n_comparisons=3)
    acknowledge(world, "alice", "bob")
    for _ in range(3):
        judge_canonical(world.project, world.alice, "a")
        judge_canonical(world.project, world.bob, "a")
    lead = open_browser("carol")
    log_in(lead, live_server.url, "carol", path="/lead/demo/export/")
    expect(lead).to_have_url(re.compile(r"/lead/demo/export/$"))
    lead.select_option('select[name="format"]', "trl-standard")
    lead.select_option('select[name="aggregate"]', "majority")
    lead.select_option('select[name="file_format"]', "hf")
    with lead.expect_navigation():
        lead.click("button.primary")
    job = Job.objects.get(kind="export")
    expect(lead).to_have_url(re.compile(rf"/jobs/{job.pk}/$"))
    expect(lead.locator("[data-field='state']")).to_have_text("queued")
    job_run(job_id=job.pk)  # what the worker does; the open page polls and updates itself
    expect(lead.locator("[data-field='state']")).to_have_text("succeeded")
    expect(lead.locator("progress")).to_have_attribute("value", "1")
    readme = lead.locator("[data-field='artifacts'] a", has_text="README.md")
    expect(readme).to_be_visible()
    with lead.expect_download() as download:
        readme.click()
    assert "configs" in open(download.value.path(), encoding="utf-8").read()
