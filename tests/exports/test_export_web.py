"""The export page, the export API and the provenance page."""
import json

from django.test import Client

from tests.exports.test_selection import judged  # noqa: F401 - fixture
from webapp.audit.models import AuditEvent
from webapp.runs.models import Job
from webapp.runs.services import job_run


def _bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _post(client, body, token, slug="demo"):
    return client.post(f"/api/v1/projects/{slug}/exports", data=json.dumps(body), content_type="application/json",
                       **_bearer(token))


def test_the_api_queues_an_export_and_its_files_download(judged, tokens):
    client = Client()
    response = _post(client, {"format": "trl-conversational", "aggregate": "majority", "file_format": "hf",
                              "test_fraction": 0.4, "seed": 3, "exclude_raters": []}, tokens["carol"])
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    assert response.json()["state"] == "queued"
    job_run(job_id=job_id)
    status = client.get(f"/api/v1/jobs/{job_id}", **_bearer(tokens["carol"])).json()
    assert status["state"] == "succeeded", status["error"]
    names = {a["name"] for a in status["artifacts"]}
    assert "README.md" in names and any(n.startswith("data/") and n.endswith(".parquet") for n in names)
    readme = next(a for a in status["artifacts"] if a["name"] == "README.md")
    body = b"".join(client.get(readme["url"], **_bearer(tokens["carol"])).streaming_content)
    assert b"configs" in body
    assert AuditEvent.objects.filter(action="export.downloaded", object_id=str(job_id)).exists()


def test_the_api_names_the_bad_field_and_queues_nothing(judged, tokens):
    client = Client()
    cases = [
        ({"format": "dpo"}, "format"),
        ({"format": "raw", "aggregate": "majority"}, "aggregate"),
        ({"format": "raw", "origin": ["mars"]}, "origin"),
        ({"format": "raw", "colour": "blue"}, "colour"),
        ({"format": "raw", "guideline_versions": [9]}, "guideline_versions"),
        ({"format": "raw", "min_judgments": 5}, "filters"),
        ({"format": "raw", "since": "soon"}, "since"),
    ]
    for body, field in cases:
        response = _post(client, body, tokens["carol"])
        assert response.status_code == 400, (body, response.content)
        assert response.json()["field"] == field, (body, response.json())
    assert _post(client, {"format": "raw"}, tokens["alice"]).status_code == 403
    assert _post(client, {"format": "raw"}, tokens["eve"]).status_code == 404
    assert _post(client, {"format": "raw"}, tokens["carol"], slug="nope").status_code == 404
    assert not Job.objects.exists()


def test_the_page_shows_errors_then_queues_and_the_provenance_page_traces_rows(judged):
    lead = Client()
    lead.force_login(judged.carol)
    assert lead.get("/lead/demo/export/").status_code == 200
    bad = lead.post("/lead/demo/export/", {"format": "raw", "aggregate": "majority"})
    assert bad.status_code == 400 and "aggregate" in bad.content.decode()
    ok = lead.post("/lead/demo/export/", {"format": "raw", "ties": "keep", "origin": ["here"],
                                          "guideline_versions": ["1"]})
    job = Job.objects.get(kind="export")
    assert ok.status_code == 302 and ok["Location"] == f"/jobs/{job.pk}/"
    job_run(job_id=job.pk)
    page = lead.get(f"/exports/{job.pk}/").content.decode()
    assert "/provenance/judgments/" in page and judged.guideline.sha256 in page
    rater = Client()
    rater.force_login(judged.alice)
    assert rater.get("/lead/demo/export/").status_code == 403
    assert rater.get(f"/exports/{job.pk}/").status_code == 403
