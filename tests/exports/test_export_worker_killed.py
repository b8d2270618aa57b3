"""A worker SIGKILLed mid-export leaves no partial output: the files are written under a hidden
`.export-<id>.partial-*` folder that only a finished export renames into place. The sweeper (celery
beat in the next worker) re-queues the job, whose next attempt removes the leftover and writes the
same files an uninterrupted run writes; once the attempts are used up the job fails with the reason
and the leftover goes too. Real worker processes, killed with SIGKILL."""
import hashlib
import json
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import add_comparisons
from tests.worker_processes import kill_worker, start_worker, stop_worker, wait_for
from webapp.audit.models import AuditEvent
from webapp.comparisons.judgment_imports import judgments_import_file
from webapp.exports import services
from webapp.runs import services as runs_services
from webapp.runs.models import Job
from webapp.runs.services import job_run

# Enough judgments that writing them takes a few seconds on a slow machine, so the worker is
# killed in the middle: raw rows (one per judgment, the texts repeated in each) into Parquet.
COMPARISONS, RATERS = 2000, 10
JUDGMENTS = COMPARISONS * RATERS
VALUES = {"format": "raw", "file_format": "parquet", "test_fraction": 0.2, "seed": 7}


@pytest.fixture
def judged_at_scale(transactional_db, world, settings, tmp_path):
    """The world's project with COMPARISONS pairs, each judged by RATERS external raters."""
    settings.WB_EXPORT_DIR = tmp_path / "exports"
    add_comparisons(world.project, COMPARISONS, actor=world.carol, start=100)
    lines = [json.dumps({"id": f"pair-{i}", "rater": f"ann-{r}", "choice": "AB"[(i + r) % 3 == 0]})
             for i in range(100, 100 + COMPARISONS) for r in range(RATERS)]
    judgments_import_file(project=world.project, data=("\n".join(lines) + "\n").encode(),
                          file_name="judgments.jsonl", actor=world.carol)
    return world


def _start(tmp_path, name: str, *, beat: bool, **env):
    from django.conf import settings

    return start_worker(tmp_path, name, beat=beat, WB_EXPORT_DIR=str(settings.WB_EXPORT_DIR), **env)


def _partials(job: Job) -> list[Path]:
    out = services.export_dir(job)
    return sorted(out.parent.glob(f".{out.name}.partial-*"))


def _writing_into(job: Job) -> Path | None:
    """The partial folder of the running export, once a data file has appeared in it."""
    if Job.objects.get(pk=job.pk).state != "running":
        return None
    for partial in _partials(job):
        try:
            if any(path.suffix == ".parquet" for path in partial.iterdir()):
                return partial
        except FileNotFoundError:  # renamed this instant: finished, which the caller will see
            pass
    return None


def _kill_mid_export(tmp_path, world) -> tuple[Job, Path]:
    worker = _start(tmp_path, "doomed", beat=False)
    try:
        job = services.export_request(project=world.project, actor=world.carol, values=VALUES)
        partial = wait_for(lambda: _writing_into(job), 90, "the export to be writing its files")
        kill_worker(worker)
    finally:
        stop_worker(worker)
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("running", 1), (job.state, job.error)
    # Still there, and never renamed: the worker died while writing it.
    assert partial.is_dir(), "the export finished before the kill: make it bigger"
    assert not services.export_dir(job).exists(), "a killed export must not leave a final folder"
    return job, partial


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def _uninterrupted(world, tmp_path) -> dict[str, bytes]:
    """The same export run from start to end in this process, into a folder of its own."""
    job = services.export_request(project=world.project, actor=world.carol, values=VALUES,
                                  output=tmp_path / "uninterrupted", enqueue=False)
    job = job_run(job_id=job.pk)
    assert job.state == "succeeded", job.error
    return _files(tmp_path / "uninterrupted")


def _without_job_identity(manifest_bytes: bytes) -> dict:
    """The manifest less the two provenance fields that name the job (its id and request time)."""
    manifest = json.loads(manifest_bytes)
    del manifest["provenance"]["export_job"], manifest["provenance"]["requested_at"]
    return manifest


@pytest.mark.slow
def test_an_export_whose_worker_was_killed_is_retried_and_writes_the_same_files(judged_at_scale, tmp_path):
    world = judged_at_scale
    job, partial = _kill_mid_export(tmp_path, world)
    # The next worker runs beat; the sweeper finds the silent job and re-queues it (attempt 2).
    worker = _start(tmp_path, "rescuer", beat=True, WB_JOB_STALE_SECONDS="3", WB_JOB_SWEEP_SECONDS="1")
    try:
        job = wait_for(lambda: Job.objects.filter(pk=job.pk, state__in=Job.FINISHED).first(), 120,
                       "the retried export to finish")
    finally:
        stop_worker(worker)
    assert (job.state, job.attempts) == ("succeeded", 2), (job.error, (tmp_path / "rescuer.log").read_text())
    requeued = AuditEvent.objects.get(action="export.requeued", object_id=str(job.pk))
    assert "stopped responding" in requeued.payload["reason"]
    assert not partial.exists() and _partials(job) == [], "the retry removes the killed attempt's partial folder"

    files = _files(services.export_dir(job))
    data = [name for name in files if name.endswith(".parquet")]
    assert sorted(data) == ["test.parquet", "train.parquet"]
    assert sum(pq.read_metadata(services.export_dir(job) / name).num_rows for name in data) == JUDGMENTS
    artifacts = {a.name: a for a in job.artifacts.all()}
    assert artifacts.keys() == files.keys()
    for name, content in files.items():
        assert (artifacts[name].sha256, artifacts[name].size_bytes) == (hashlib.sha256(content).hexdigest(),
                                                                       len(content)), name
    manifest = json.loads(files["manifest.json"])
    assert {name: entry["sha256"] for name, entry in manifest["files"].items()} == {
        name: artifacts[name].sha256 for name in data}

    # Reproducible: byte for byte what one uninterrupted run writes (the manifest names its own job).
    again = _uninterrupted(world, tmp_path)
    assert again.keys() == files.keys()
    assert {name: again[name] for name in data} == {name: files[name] for name in data}
    assert _without_job_identity(again["manifest.json"]) == _without_job_identity(files["manifest.json"])


@pytest.mark.slow
def test_an_export_out_of_attempts_fails_with_the_reason_and_leaves_no_files(judged_at_scale, tmp_path,
                                                                             settings):
    settings.WB_JOB_MAX_ATTEMPTS = 1
    job, partial = _kill_mid_export(tmp_path, judged_at_scale)
    time.sleep(1.5)  # the dead worker's last heartbeat is now more than a second old
    outcome = runs_services.jobs_sweep(stale_after_seconds=1, resend_after_seconds=600)
    assert outcome == {"requeued": 0, "failed": 1, "resent": 0}
    job.refresh_from_db()
    assert job.state == "failed"
    assert "the worker stopped responding" in job.error and "gave up after 1 attempt" in job.error
    assert not job.artifacts.exists()
    # Nobody will retry it: the sweeper's cleanup removes the killed attempt's partial folder.
    assert not partial.exists() and _partials(job) == []
    assert not services.export_dir(job).exists()
    assert list(settings.WB_EXPORT_DIR.iterdir()) == []
