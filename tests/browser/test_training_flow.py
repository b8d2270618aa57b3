"""A lead starts a training run on the page and watches the step counter and the curves fill in
without a reload (real Chromium; the charts are server-drawn SVG, nothing comes from a CDN)."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_rater_flow import log_in
from tests.training.conftest import TINY, build_export
from webapp.runs.models import Job
from webapp.runs.services import job_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_training_page_draws_the_curves_live(live_server, open_browser, tmp_path, settings):
    settings.WB_EXPORT_DIR, settings.WB_MODEL_DIR = tmp_path / "exports", tmp_path / "models"
    world = build_export()
    lead = open_browser("carol")
    requests = []
    lead.on("request", lambda request: requests.append(request.url))
    log_in(lead, live_server.url, "carol", path="/lead/demo/train/")
    lead.select_option('select[name="export"]', str(world.export.pk))
    for name, value in TINY.items():
        if name in ("max_steps", "batch_size", "max_length", "eval_fraction", "learning_rate"):
            lead.fill(f'input[name="{name}"]', str(value))
    with lead.expect_navigation(timeout=60_000):  # the request is checked (data, base model) before queueing
        lead.click("button.primary")
    job = Job.objects.get(kind="training")
    expect(lead).to_have_url(re.compile(rf"/training/{job.pk}/$"))
    expect(lead.locator("[data-field='state']")).to_have_text("queued")
    expect(lead.locator("figure[data-chart='loss'] svg")).to_contain_text("waiting for the first step")

    job_run(job_id=job.pk)  # what the training worker does; the open page polls and redraws
    expect(lead.locator("[data-field='state']")).to_have_text("succeeded", timeout=30_000)
    loss = lead.locator("figure[data-chart='loss'] g.series[data-name='training loss']")
    expect(loss).to_have_attribute("data-points", "4", timeout=15_000)
    expect(lead.locator("figure[data-chart='accuracy'] g.series[data-name='eval accuracy'] circle")).not_to_have_count(0)
    expect(lead.locator("#model-link a")).to_be_visible()
    expect(lead.locator("[data-field='done']")).to_have_text("4 / 4")
    lead.locator("#charts").screenshot(path=str(tmp_path / "training-curves.png"))
    lead.screenshot(path=str(tmp_path / "training-page.png"), full_page=True)
    assert all(url.startswith(live_server.url) for url in requests), "everything is served by the workbench"

    lead.click("#model-link a")
    expect(lead.locator("#provenance")).to_contain_text(f"export {world.export.pk}")
    expect(lead.locator("#export-link")).to_have_attribute("href", f"/exports/{world.export.pk}/")
