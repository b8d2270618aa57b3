"""The diagnostics page and its job: leads only, computed by a job, the JSON download equals the
CLI's JSON, CSV lists every figure, flagged raters link to the export form's excluded raters."""
import csv
import io
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import make_world
from webapp.runs.models import Job
from webapp.runs.services import job_run


@pytest.fixture
def simulated(db):
    world = make_world(n_comparisons=40)
    call_command("simulate_raters", "--project", "demo", "--raters", "3", "--left-rate", "0.9", "--seed", "3",
                 stdout=io.StringIO())
    return world


def compute(client, **fields):
    response = client.post(reverse("diagnostics-page", args=["demo"]), {"n_resamples": "200", **fields})
    assert response.status_code == 302, response.content[:500]
    job = Job.objects.filter(kind="diagnostics").latest("pk")
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    return job


def test_only_leads_see_and_compute_diagnostics(simulated, client):
    client.force_login(simulated.alice)
    assert client.get(reverse("diagnostics-page", args=["demo"])).status_code == 403
    assert client.post(reverse("diagnostics-page", args=["demo"])).status_code == 403
    assert not Job.objects.filter(kind="diagnostics").exists()


def test_the_page_shows_the_jobs_report_in_plots_and_the_download_equals_the_cli(simulated, client):
    client.force_login(simulated.carol)
    job = compute(client)
    page = client.get(reverse("diagnostics-page", args=["demo"]))
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<svg") >= 7
    assert "position_bias" in html and "exclude_raters=" in html       # left 95 % of the time: flagged
    flagged = [r["rater"] for r in job.result["report"]["raters"] if r["flags"]]
    assert len(flagged) == 3
    # one click: the export form comes pre-filled with the flagged raters as excluded raters
    exclude_url = re.search(r'id="exclude-flagged" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    export_form = client.get(exclude_url).content.decode()
    assert f'name="exclude_raters" placeholder="pseudonyms, comma-separated" value="{",".join(flagged)}"' in export_form
    downloaded = json.loads(client.get(reverse("diagnostics-download", args=["demo", job.pk, "json"])).content)
    out = io.StringIO()
    call_command("diagnostics", "--project", "demo", "--json", "--resamples", "200", stdout=out)
    cli = json.loads(out.getvalue())
    downloaded.pop("job_id")
    assert downloaded == cli
    rows = list(csv.DictReader(io.StringIO(
        client.get(reverse("diagnostics-download", args=["demo", job.pk, "csv"])).content.decode())))
    by_metric = {r["metric"]: r for r in rows}
    assert float(by_metric["position_bias.overall_p_left"]["value"]) == cli["position_bias"]["overall_p_left"]["value"]


def test_a_bad_field_is_refused_naming_it_and_queues_nothing(simulated, client):
    client.force_login(simulated.carol)
    response = client.post(reverse("diagnostics-page", args=["demo"]), {"since": "last week"})
    assert response.status_code == 400 and b"since" in response.content
    assert not Job.objects.filter(kind="diagnostics").exists()


def test_the_origin_filter_narrows_the_report(simulated, client):
    client.force_login(simulated.carol)
    job = compute(client, origin="import")
    assert job.result["report"]["n_judgments"] == 0
    assert job.result["report"]["selection"]["origin"] == "import"
