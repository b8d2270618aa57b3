"""A worker SIGKILLed mid-import: the sweeper (celery beat in the next worker) retries the batch
within seconds, then fails it with the reason once it has had its attempts. Real worker processes."""
import time

import pytest

from tests.conftest import comparisons_jsonl
from tests.worker_processes import kill_worker, start_worker, stop_worker, wait_for
from webapp.audit.models import AuditEvent
from webapp.comparisons.imports import import_request
from webapp.comparisons.models import Comparison, ImportBatch
from webapp.runs import services
from webapp.runs.models import Job

PAIRS = 4000  # a few seconds of importing on a slow machine: long enough to be killed in the middle


def _kill_mid_import(tmp_path, world) -> ImportBatch:
    before = Comparison.objects.count()
    worker = start_worker(tmp_path, "doomed", beat=False)
    try:
        batch = import_request(project=world.project, data=comparisons_jsonl(PAIRS, start=10_000),
                               file_name="big.jsonl", actor=world.carol)
        wait_for(lambda: Job.objects.get(pk=batch.job_id).state == "running", 90, "the import to start")
        time.sleep(0.3)
        kill_worker(worker)
    finally:
        stop_worker(worker)
    job = Job.objects.get(pk=batch.job_id)
    assert (job.state, job.attempts) == ("running", 1), (job.state, job.error)
    assert Comparison.objects.count() == before, "the killed attempt's transaction must roll back"
    return ImportBatch.objects.select_related("job").get(pk=batch.pk)


@pytest.mark.slow
def test_a_batch_whose_worker_was_killed_is_retried_and_finishes(transactional_db, tmp_path, world):
    batch = _kill_mid_import(tmp_path, world)
    killed_at = time.monotonic()
    # The next worker runs beat; the sweeper finds the silent job and re-queues it (attempt 2).
    worker = start_worker(tmp_path, "rescuer", beat=True, WB_JOB_STALE_SECONDS="3", WB_JOB_SWEEP_SECONDS="1")
    try:
        wait_for(lambda: ImportBatch.objects.select_related("job").get(pk=batch.pk).status in ("done", "failed"),
                 120, "the retried import to finish")
    finally:
        stop_worker(worker)
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
    assert batch.upload is None, "the sweeper ran the kind's cleanup: a batch tried for the last time drops its upload"
