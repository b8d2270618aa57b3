"""The job machinery (webapp/runs): transitions, cancel, sweeper, and a real worker."""
import datetime as dt
import time

import pytest
from django.core.management import call_command
from django.test import Client

from webapp.audit.models import AuditEvent
from webapp.core import clock
from webapp.core.errors import InvalidTransition
from webapp.runs import kinds, services
from webapp.runs.models import Job

WRITTEN = []  # files the counting kind wrote and did not remove, across attempts


def _count_run(job, ctx):
    """A job kind for these tests: counts to params["n"], ticking progress, writing one file."""
    out = ctx_dir(job)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "count.txt"
    WRITTEN.append(target)
    n = job.params["n"]
    with open(target, "w") as handle:
        for i in range(n):
            handle.write(f"{i}\n")
            ctx.progress(i + 1, n, f"counted {i + 1}")
            time.sleep(job.params.get("sleep", 0))
    if job.params.get("explode"):
        raise RuntimeError("the counter exploded")
    return services.JobOutcome(artifacts=[services.ArtifactFile(name="count.txt", path=target, rows=n)],
                               result={"counted": n})


def _count_cleanup(job):
    import shutil

    shutil.rmtree(ctx_dir(job), ignore_errors=True)


def ctx_dir(job):
    from django.conf import settings

    return settings.VAR_DIR / "test-jobs" / str(job.pk)


kinds.register(kinds.JobKind(name="test-count", run=_count_run, cleanup=_count_cleanup))
kinds.register(kinds.JobKind(name="test-training-queue", run=_count_run, queue="training", max_attempts=1))


def _create(world, **params):
    return services.job_create(kind="test-count", project=world.project, actor=world.carol,
                               params={"n": 3, **params})


def test_it_runs_a_job_through_its_states_with_audit_events(world):
    job = _create(world)
    assert job.state == Job.State.QUEUED
    finished = services.job_run(job_id=job.pk)
    assert (finished.state, finished.attempts, finished.progress_done, finished.progress_total) == (
        "succeeded", 1, 3, 3)
    artifact = finished.artifacts.get()
    assert (artifact.name, artifact.rows, artifact.size_bytes) == ("count.txt", 3, len("0\n1\n2\n"))
    import hashlib
    assert artifact.sha256 == hashlib.sha256(b"0\n1\n2\n").hexdigest()
    actions = list(AuditEvent.objects.filter(object_type="runs.job", object_id=str(job.pk))
                   .order_by("seq").values_list("action", flat=True))
    assert actions == ["job.requested", "job.started", "job.succeeded"]


def test_it_does_nothing_when_a_finished_job_is_delivered_again(world):
    job = _create(world)
    services.job_run(job_id=job.pk)
    events = AuditEvent.objects.count()
    assert services.job_run(job_id=job.pk) is None
    assert Job.objects.get(pk=job.pk).attempts == 1 and AuditEvent.objects.count() == events


def test_it_fails_a_job_with_the_reason_and_removes_its_output(world):
    job = _create(world, explode=True)
    finished = services.job_run(job_id=job.pk)
    assert (finished.state, finished.error) == ("failed", "the counter exploded")
    assert not ctx_dir(job).exists() and not finished.artifacts.exists()


def test_it_refuses_to_cancel_a_finished_job(world):
    job = _create(world)
    services.job_run(job_id=job.pk)
    with pytest.raises(InvalidTransition, match="already succeeded"):
        services.job_cancel(job_id=job.pk, actor=world.carol)


def test_a_cancelled_queued_job_never_starts(world):
    job = _create(world)
    services.job_cancel(job_id=job.pk, actor=world.carol)
    assert services.job_run(job_id=job.pk) is None
    assert Job.objects.get(pk=job.pk).state == "cancelled"


def test_a_job_cancelled_while_running_stops_at_its_next_tick_and_leaves_no_output(world):
    job = _create(world, n=1000)

    def cancel_midway(job_, ctx):
        original = ctx.progress

        def progress(done, total=None, message=""):
            if done == 10:
                services.job_cancel(job_id=job_.pk, actor=world.carol)
                ctx._last_tick = 0  # the next tick writes (and so checks) at once
            original(done, total, message)
        ctx.progress = progress
        return _count_run(job_, ctx)

    kinds.register(kinds.JobKind(name="test-cancel", run=cancel_midway, cleanup=_count_cleanup))
    Job.objects.filter(pk=job.pk).update(kind="test-cancel")
    finished = services.job_run(job_id=job.pk)
    assert finished.state == "cancelled" and finished.progress_done < 1000
    assert not ctx_dir(job).exists() and not finished.artifacts.exists()
    assert AuditEvent.objects.filter(action="job.cancelled", object_id=str(job.pk)).count() == 1


def test_the_sweeper_requeues_a_silent_job_then_fails_it_after_its_attempts(world, settings):
    settings.WB_JOB_MAX_ATTEMPTS = 2
    job = _create(world)
    for attempt in (1, 2):
        started = services.job_start(job_id=job.pk)
        assert started.attempts == attempt
        later = clock.now() + dt.timedelta(seconds=61)
        with clock.frozen_at(later):
            outcome = services.jobs_sweep(stale_after_seconds=60, resend_after_seconds=600)
        if attempt == 1:
            assert outcome["requeued"] == 1 and Job.objects.get(pk=job.pk).state == "queued"
    job.refresh_from_db()
    assert (job.state, outcome["failed"]) == ("failed", 1)
    assert "no heartbeat for 61 s" in job.error and "gave up after 2 attempts" in job.error


def test_a_job_the_sweeper_gives_up_on_gets_its_kinds_cleanup(world, settings):
    # Its worker died without cleaning up; nobody else would remove what the attempt wrote.
    settings.WB_JOB_MAX_ATTEMPTS = 1
    job = _create(world)
    services.job_start(job_id=job.pk)
    ctx_dir(job).mkdir(parents=True, exist_ok=True)
    (ctx_dir(job) / "count.txt").write_text("0\n")
    with clock.frozen_at(clock.now() + dt.timedelta(seconds=61)):
        assert services.jobs_sweep(stale_after_seconds=60, resend_after_seconds=600)["failed"] == 1
    assert Job.objects.get(pk=job.pk).state == "failed" and not ctx_dir(job).exists()


def test_a_job_the_sweeper_requeues_keeps_its_files_for_the_next_attempt(world):
    job = _create(world)
    services.job_start(job_id=job.pk)
    ctx_dir(job).mkdir(parents=True, exist_ok=True)
    with clock.frozen_at(clock.now() + dt.timedelta(seconds=61)):
        assert services.jobs_sweep(stale_after_seconds=60, resend_after_seconds=600)["requeued"] == 1
    assert ctx_dir(job).exists()
    _count_cleanup(job)


def test_the_sweeper_leaves_a_job_with_a_fresh_heartbeat_alone(world):
    job = _create(world)
    started = services.job_start(job_id=job.pk)
    with clock.frozen_at(clock.now() + dt.timedelta(seconds=50)):
        services.job_heartbeat(job_id=job.pk, attempt=started.attempts, done=1, total=3)
    with clock.frozen_at(clock.now() + dt.timedelta(seconds=61)):
        assert services.jobs_sweep(stale_after_seconds=60, resend_after_seconds=600)["requeued"] == 0
    assert Job.objects.get(pk=job.pk).state == "running"


def test_a_stale_attempt_cannot_finish_a_job_the_sweeper_requeued(world):
    job = _create(world)
    first = services.job_start(job_id=job.pk)
    with clock.frozen_at(clock.now() + dt.timedelta(seconds=61)):
        services.jobs_sweep(stale_after_seconds=60, resend_after_seconds=600)
    with pytest.raises(services.JobCancelled):
        services.job_heartbeat(job_id=job.pk, attempt=first.attempts, done=2)
    assert not services.job_succeed(job_id=job.pk, attempt=first.attempts, outcome=services.JobOutcome())


def test_the_queue_is_a_property_of_the_job_kind():
    assert kinds.queue_for("test-training-queue") == "training"
    assert kinds.queue_for("test-count") is None


def test_it_runs_a_job_on_a_real_worker_and_cancels_from_the_cli(celery_worker, world):
    done = _create(world)
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=done.pk).state != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Job.objects.get(pk=done.pk).state == "succeeded"
    slow = _create(world, n=10_000, sleep=0.01)
    while Job.objects.get(pk=slow.pk).state != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    call_command("job_cancel", str(slow.pk))
    while ctx_dir(slow).exists() and time.monotonic() < deadline:  # its next tick sees the cancel
        time.sleep(0.05)
    job = Job.objects.get(pk=slow.pk)
    assert job.state == "cancelled" and job.progress_done < 10_000
    assert not ctx_dir(job).exists()


def _bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_leads_see_the_jobs_page_and_its_live_status_and_raters_do_not(world):
    job = _create(world)
    services.job_run(job_id=job.pk)
    lead = Client()
    lead.force_login(world.carol)
    page = lead.get(f"/lead/{world.project.slug}/jobs/")
    assert page.status_code == 200 and f'/jobs/{job.pk}/status.json' in page.content.decode()
    status = lead.get(f"/jobs/{job.pk}/status.json").json()
    assert (status["state"], status["progress"]["fraction"], status["artifacts"][0]["rows"]) == ("succeeded", 1.0, 3)
    detail = lead.get(f"/jobs/{job.pk}/").content.decode()
    assert "count.txt" in detail and "<progress" in detail
    download = lead.get(status["artifacts"][0]["url"])
    assert b"".join(download.streaming_content) == b"0\n1\n2\n"
    assert AuditEvent.objects.filter(action="job.downloaded", object_id=str(job.pk)).count() == 1
    rater = Client()
    rater.force_login(world.alice)
    for url in (f"/lead/{world.project.slug}/jobs/", f"/jobs/{job.pk}/", f"/jobs/{job.pk}/status.json",
                status["artifacts"][0]["url"]):
        assert rater.get(url).status_code == 403, url
    outsider = Client()
    outsider.force_login(world.eve)
    assert outsider.get(f"/jobs/{job.pk}/").status_code == 404


def test_the_page_cancels_a_queued_job(world):
    job = _create(world)
    lead = Client()
    lead.force_login(world.carol)
    response = lead.post(f"/jobs/{job.pk}/cancel/")
    assert response.status_code == 302 and Job.objects.get(pk=job.pk).state == "cancelled"


def test_the_api_reads_cancels_and_downloads_with_a_token(world, tokens):
    finished, queued = _create(world), _create(world)
    services.job_run(job_id=finished.pk)
    client = Client()
    body = client.get(f"/api/v1/jobs/{finished.pk}", **_bearer(tokens["carol"])).json()
    assert (body["state"], body["artifacts"][0]["name"]) == ("succeeded", "count.txt")
    file = client.get(body["artifacts"][0]["url"], **_bearer(tokens["carol"]))
    assert file.status_code == 200 and b"".join(file.streaming_content) == b"0\n1\n2\n"
    cancelled = client.post(f"/api/v1/jobs/{queued.pk}/cancel", **_bearer(tokens["carol"]))
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    again = client.post(f"/api/v1/jobs/{queued.pk}/cancel", **_bearer(tokens["carol"]))
    assert (again.status_code, again.json()["error"]) == (409, "invalid_transition")
    assert client.get(f"/api/v1/jobs/{finished.pk}", **_bearer(tokens["alice"])).status_code == 403
    assert client.get(f"/api/v1/jobs/{finished.pk}", **_bearer(tokens["eve"])).status_code == 404
    assert client.get(f"/api/v1/jobs/{finished.pk}").json()["error"] == "unauthenticated"
    assert client.get(f"/api/v1/jobs/{finished.pk}/artifacts/nope.txt", **_bearer(tokens["carol"])).status_code == 404
