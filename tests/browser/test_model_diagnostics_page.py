"""A lead reads a reward model's diagnostics in a real Chromium: the plots render offline (no request
leaves the live server), the page passes axe-core and fits a 390 px screen (the model page needs a
trained model, so it is checked here rather than in test_pages_accessible's list)."""
import pytest
from playwright.sync_api import expect

from prefkit import probes
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_pages_accessible import check_page
from tests.browser.test_rater_flow import log_in
from tests.diagnostics.test_model_diagnostics import PROBE_FIXTURES, judged_project, train
from webapp.model_diagnostics import services
from webapp.runs.services import job_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_model_diagnostics_page_reads_offline_and_passes_axe(live_server, open_browser, axe_source, tmp_path,
                                                                   settings, monkeypatch):
    settings.WB_EXPORT_DIR, settings.WB_MODEL_DIR = tmp_path / "exports", tmp_path / "models"
    settings.WB_SCORE_DIR = tmp_path / "scores"
    monkeypatch.setattr(probes, "FIXTURES", PROBE_FIXTURES)
    world = judged_project()
    model, other = train(world), train(world, seed=7)
    for m in (model, other):
        job = services.model_diagnostics_request(model=m, actor=world.carol, values={"n_resamples": 200}, enqueue=False)
        assert job_run(job_id=job.pk).state == "succeeded"

    lead = open_browser("carol")
    outside = []
    lead.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    log_in(lead, live_server.url, "carol", path=f"/models/{model.pk}/diagnostics/")
    expect(lead.locator("#figures")).to_contain_text("Human ceiling")
    assert lead.locator("svg").count() >= 4
    expect(lead.locator("figure[data-chart='calibration'] svg")).to_contain_text("perfect calibration")
    lead.select_option("#compare-select", str(other.pk))
    with lead.expect_navigation():
        lead.click("#compare-button")
    expect(lead.locator("#compare")).to_contain_text(f"against model {other.pk}")
    (SCREENSHOTS / "390").mkdir(parents=True, exist_ok=True)
    lead.screenshot(path=str(SCREENSHOTS / "model_diagnostics_page.png"), full_page=True)
    problems = check_page(lead, f"{live_server.url}/models/{model.pk}/diagnostics/?compare={other.pk}", "#figures",
                          axe_source, "carol-model-diagnostics")
    assert not problems, "\n".join(problems)
    assert not outside, f"the page fetched from elsewhere: {outside}"
