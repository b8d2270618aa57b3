"""The project page's Label Studio card: upload, pull and push by a lead; tokens never shown back."""
import base64
import json
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import PASSWORD, make_world
from webapp.comparisons.models import Judgment
from webapp.audit.models import AuditEvent
from webapp.labelstudio.models import LabelStudioPush, PendingLabelStudioToken
from webapp.labelstudio.services import labelstudio_push
from webapp.runs.models import Job

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "labelstudio" / "pairwise_export_min.json"
pytestmark = pytest.mark.django_db


def _as(client, user):
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def test_lead_uploads_an_export_from_the_project_page(client):
    world = make_world(n_comparisons=0)
    _as(client, world.carol)
    page = client.get("/lead/demo/")
    assert b'id="labelstudio"' in page.content and b'type="password" name="token"' in page.content
    reply = client.post("/lead/demo/labelstudio/upload/",
                        {"file": SimpleUploadedFile(FIXTURE.name, FIXTURE.read_bytes())}, follow=True)
    assert "5 judgments added" in reply.content.decode()
    assert Judgment.objects.filter(comparison__project=world.project, origin="external").count() == 5
    reply = client.post("/lead/demo/labelstudio/upload/",
                        {"file": SimpleUploadedFile("bad.json", b"[1, 2]")}, follow=True)
    assert "Nothing imported: bad.json: not a Label Studio export" in reply.content.decode()


def test_raters_cannot_use_it(client):
    world = make_world(n_comparisons=0)
    _as(client, world.alice)
    reply = client.post("/lead/demo/labelstudio/upload/", {"file": SimpleUploadedFile(FIXTURE.name,
                                                                                       FIXTURE.read_bytes())})
    assert reply.status_code == 403 and not Judgment.objects.exists()


def _wait_finished(job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.state} after {timeout} s")


def _job_from(reply):
    path = reply.redirect_chain[-1][0]
    assert path.startswith("/jobs/"), reply.redirect_chain
    return int(path.strip("/").split("/")[1])


def _nowhere(token, client, *jobs):
    assert not PendingLabelStudioToken.objects.exists()
    for job in jobs:
        assert token not in json.dumps(job.params) and token not in json.dumps(job.result)
        assert token not in client.get(f"/jobs/{job.pk}/").content.decode()
        assert token not in client.get(f"/jobs/{job.pk}/status.json").content.decode()
    assert not any(token in json.dumps(e.payload) for e in AuditEvent.objects.all())


@pytest.mark.django_db(transaction=True)
def test_lead_pushes_and_pulls_from_the_page_as_jobs(client, live_label_studio, celery_worker):
    live = live_label_studio
    world = make_world(n_comparisons=3)
    _as(client, world.carol)
    reply = client.post("/lead/demo/labelstudio/push/", {"url": live.url, "token": live.lead_token}, follow=True)
    text = reply.content.decode()
    assert live.lead_token not in text and "progress" in text
    push_job = _wait_finished(_job_from(reply))
    assert push_job.kind == "labelstudio-push" and push_job.state == "succeeded", push_job.error
    assert push_job.progress_done == push_job.progress_total == 3
    push = LabelStudioPush.objects.get()
    assert push_job.result["label_studio_project"] == push.ls_project_id and push_job.result["guideline_version"] == 1

    from label_studio_sdk import LabelStudio
    lead = LabelStudio(base_url=live.url, api_key=live.lead_token)
    tasks = sorted(lead.tasks.list(project=push.ls_project_id, page_size=100), key=lambda t: t.id)
    for task in tasks[:2]:
        lead.annotations.create(id=task.id, result=[{"from_name": "comparison", "to_name": "answer1,answer2",
                                                     "type": "pairwise", "value": {"selected": "left"}}], lead_time=2.0)
    reply = client.post("/lead/demo/labelstudio/pull/", {"url": live.url, "token": live.lead_token,
                                                         "ls_project": push.ls_project_id}, follow=True)
    assert live.lead_token not in reply.content.decode()
    pull_job = _wait_finished(_job_from(reply))
    assert pull_job.kind == "labelstudio-pull" and pull_job.state == "succeeded", pull_job.error
    assert pull_job.result["created"] == 2 and pull_job.progress_done == pull_job.progress_total == 2
    assert Judgment.objects.filter(origin=Judgment.Origin.EXTERNAL).count() == 2
    _nowhere(live.lead_token, client, push_job, pull_job)

    reply = client.post("/lead/demo/labelstudio/pull/", {"url": live.url, "token": "wrong-token-abcdef",
                                                         "ls_project": push.ls_project_id}, follow=True)
    bad = _wait_finished(_job_from(reply))
    assert bad.state == "failed" and "refused the token" in bad.error
    assert Judgment.objects.filter(origin=Judgment.Origin.EXTERNAL).count() == 2
    _nowhere("wrong-token-abcdef", client, bad)


def test_a_cancelled_pull_writes_nothing(live_label_studio, monkeypatch):
    """Cancel seen at the last progress tick, after the judgments were written: all rolled back."""
    from webapp.labelstudio import jobs
    from webapp.runs import services as runs

    live = live_label_studio
    world = make_world(n_comparisons=2)
    push = labelstudio_push(project=world.project, url=live.url, token=live.lead_token, actor=world.carol)
    from label_studio_sdk import LabelStudio
    lead = LabelStudio(base_url=live.url, api_key=live.lead_token)
    for task in lead.tasks.list(project=push.ls_project_id, page_size=100):
        lead.annotations.create(id=task.id, result=[{"from_name": "comparison", "to_name": "answer1,answer2",
                                                     "type": "pairwise", "value": {"selected": "right"}}])
    job = jobs.labelstudio_job_request(kind=jobs.PULL_JOB_KIND, project=world.project, actor=world.carol,
                                       url=live.url, token=live.lead_token, ls_project_id=push.ls_project_id)

    beat = runs.job_heartbeat

    def heartbeat(*, job_id, attempt, done=None, total=None, message=None):
        if message == "annotations stored":  # as if the lead had pressed cancel just now (another connection)
            raise runs.JobCancelled("cancelled")
        beat(job_id=job_id, attempt=attempt, done=done, total=total, message=message)

    monkeypatch.setattr(runs, "job_heartbeat", heartbeat)
    job = runs.job_run(job_id=job.pk)
    assert job.state == "running" and job.progress_message != "annotations stored"  # the sweeper ends it
    assert not Judgment.objects.filter(origin=Judgment.Origin.EXTERNAL).exists()
    assert not PendingLabelStudioToken.objects.exists()


def test_the_token_is_sealed_not_plain():
    from webapp.labelstudio.jobs import seal_token, unseal_token

    sealed = seal_token("secret-token-0123456789")
    assert "secret-token" not in sealed and "secret-token" not in base64.urlsafe_b64decode(
        sealed.split(":")[0] + "==").decode(errors="replace")
    assert unseal_token(sealed) == "secret-token-0123456789"
