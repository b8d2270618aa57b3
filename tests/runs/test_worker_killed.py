"""A worker SIGKILLed mid-import: the sweeper (celery beat in the next worker) retries the batch
within seconds, then fails it with the reason once it has had its attempts. Real worker processes."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import comparisons_jsonl
from webapp.audit.models import AuditEvent
from webapp.comparisons.imports import import_request
from webapp.comparisons.models import Comparison, ImportBatch
from webapp.runs import services
from webapp.runs.models import Job

ROOT = Path(__file__).resolve().parents[2]
PAIRS = 4000  # a few seconds of importing on a slow machine: long enough to be killed in the middle


def _worker_env(**extra) -> dict:
    """The test's database, broker and queue, for a worker in another process."""
    env = {**os.environ, "WB_JOB_HEARTBEAT_SECONDS": "1", **extra}
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["WB_SQLITE_PATH"] = db["NAME"]
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return env


def _start_worker(tmp_path, name: str, *, beat: bool, **env) -> subprocess.Popen:
    args = [sys.executable, "-m", "celery", "-A", "webapp", "worker", "--pool", "solo", "-l", "WARNING",
            "-n", f"{name}@%h", "--without-mingle", "--without-gossip"]
    if beat:
        args += ["-B", "-s", str(tmp_path / f"{name}-beat")]
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen(args, cwd=ROOT, env=_worker_env(**env), stdout=log, stderr=subprocess.STDOUT)


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _kill_mid_import(tmp_path, world) -> ImportBatch:
    before = Comparison.objects.count()
    worker = _start_worker(tmp_path, "doomed", beat=False)
    try:
        batch = import_request(project=world.project, data=comparisons_jsonl(PAIRS, start=10_000),
                               file_name="big.jsonl", actor=world.carol)
        _wait(lambda: Job.objects.get(pk=batch.job_id).state == "running", 90, "the import to start")
        time.sleep(0.3)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        _stop(worker)
    job = Job.objects.get(pk=batch.job_id)
    assert (job.state, job.attempts) == ("running", 1), (job.state, job.error)
    assert Comparison.objects.count() == before, "the killed attempt's transaction must roll back"
    return ImportBatch.objects.select_related("job").get(pk=batch.pk)


@pytest.mark.slow
def test_a_batch_whose_worker_was_killed_is_retried_and_finishes(transactional_db, tmp_path, world):
    batch = _kill_mid_import(tmp_path, world)
    killed_at = time.monotonic()
    # The next worker runs beat; the sweeper finds the silent job and re-queues it (attempt 2).
    worker = _start_worker(tmp_path, "rescuer", beat=True, WB_JOB_STALE_SECONDS="3", WB_JOB_SWEEP_SECONDS="1")
    try:
        _wait(lambda: ImportBatch.objects.select_related("job").get(pk=batch.pk).status in ("done", "failed"),
              120, "the retried import to finish")
    finally:
        _stop(worker)
    batch = ImportBatch.objects.select_related("job").get(pk=batch.pk)
    assert (batch.status, batch.created_count, batch.job.attempts) == ("done", PAIRS, 2), (tmp_path / "rescuer.log").read_text()
    assert time.monotonic() - killed_at < 120
    assert Comparison.objects.filter(batch=batch).count() == PAIRS
    requeued = AuditEvent.objects.get(action="job.requeued", object_id=str(batch.job_id))
    assert "stopped responding" in requeued.payload["reason"]


@pytest.mark.slow
def test_a_batch_is_failed_with_the_reason_after_its_last_attempt(transactional_db, tmp_path, world, settings):
    settings.WB_JOB_MAX_ATTEMPTS = 1
    batch = _kill_mid_import(tmp_path, world)
    time.sleep(1.5)
    outcome = services.jobs_sweep(stale_after_seconds=1, resend_after_seconds=600)
    assert outcome == {"requeued": 0, "failed": 1, "resent": 0}
    batch = ImportBatch.objects.select_related("job").get(pk=batch.pk)
    assert batch.status == "failed"
    assert "the worker stopped responding" in batch.error and "gave up after 1 attempt" in batch.error
    assert not Comparison.objects.filter(batch=batch).exists()
