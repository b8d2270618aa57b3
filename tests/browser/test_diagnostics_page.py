"""A lead computes diagnostics of imported LLMFAO crowd judgments plus simulated raters and reads
them in plots that render offline (no request leaves the live server); screenshot kept for a look."""
import io
import json
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.test_rater_flow import log_in
from tests.conftest import make_world
from webapp.runs.models import Job
from webapp.runs.services import job_run

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_a_lead_computes_diagnostics_and_reads_the_plots_offline(live_server, open_browser, tmp_path):
    world = make_world(n_comparisons=40)
    call_command("import_comparisons", str(FIXTURES / "llmfao_demo.jsonl"), "--project", "demo", stdout=io.StringIO())
    call_command("import_judgments", str(FIXTURES / "llmfao_crowd_demo.csv"), "--project", "demo",
                 "--source", "llmfao-crowd", stdout=io.StringIO())
    call_command("simulate_raters", "--project", "demo", "--raters", "3", "--left-rate", "0.6", "--seed", "1",
                 stdout=io.StringIO())
    lead = open_browser("carol")
    outside = []
    lead.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    log_in(lead, live_server.url, "carol", path="/lead/demo/diagnostics/")
    expect(lead.locator("#no-report")).to_be_visible()
    with lead.expect_navigation():
        lead.click("#compute")
    job = Job.objects.get(kind="diagnostics")
    expect(lead).to_have_url(re.compile(rf"/jobs/{job.pk}/$"))
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    lead.goto(f"{live_server.url}/lead/demo/diagnostics/")
    plots = lead.locator("#plots svg.chart")
    expect(plots.first).to_be_visible()
    assert plots.count() >= 7
    expect(lead.locator("#plots")).to_contain_text("Cohen's kappa")
    assert lead.locator("#plots svg.chart rect.cell").count() > 0       # heatmap cells
    assert lead.locator("#plots svg.chart circle.dot").count() > 10     # per-rater dots
    expect(lead.locator("#plots svg.chart[data-kind=heatmap] > desc")).to_contain_text(" ~ ")  # values in words
    # the simulated raters chose "left" 80 % of the time: flagged, and one click fills the export form
    expect(lead.locator("#raters")).to_contain_text("position_bias")
    href = lead.locator("#exclude-flagged").get_attribute("href")
    assert "exclude_raters=" in href
    with lead.expect_download() as download:
        lead.click("#download-json")
    report = json.loads(Path(download.value.path()).read_text())
    assert report["agreement"]["krippendorff_alpha_nominal"]["value"] is not None
    assert set(report["by_origin"]) == {"here", "import"}
    shots = Path(os.environ.get("WB_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    lead.screenshot(path=str(shots / "diagnostics_page.png"), full_page=True)
    lead.screenshot(path=str(shots / "diagnostics_page_top.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1280, "height": 1400})
    assert not outside, f"the page fetched from elsewhere: {outside}"
