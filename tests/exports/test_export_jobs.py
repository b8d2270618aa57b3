"""Exports end to end: a real worker, the command, the files, the audit trail."""
import json
import time

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from tests.exports.test_selection import judged  # noqa: F401 - fixture
from webapp.audit.models import AuditEvent
from webapp.exports import services
from webapp.runs.models import Job
from webapp.runs.services import job_cancel, job_run


def _wait_finished(job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.state} after {timeout} s")


def test_a_queued_export_runs_on_a_real_worker_and_records_its_files(celery_worker, judged):
    job = services.export_request(project=judged.project, actor=judged.carol,
                                  values={"format": "trl-standard", "aggregate": "majority", "file_format": "parquet"})
    job = _wait_finished(job.pk)
    assert job.state == "succeeded", job.error
    folder = services.export_dir(job)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["provenance"]["export_job"] == job.pk
    assert manifest["provenance"]["guideline_versions"][0]["sha256"] == judged.guideline.sha256
    artifacts = {a.name: a for a in job.artifacts.all()}
    data = artifacts["data/train.parquet"] if "data/train.parquet" in artifacts else next(
        a for n, a in artifacts.items() if n.endswith(".parquet"))
    assert data.rows == pq.read_metadata(data.path).num_rows == manifest["counts"]["rows_written"]
    assert data.sha256 == manifest["files"][data.name]["sha256"]
    assert "manifest.json" in artifacts
    actions = set(AuditEvent.objects.filter(object_id=str(job.pk), object_type="runs.job").values_list("action", flat=True))
    assert {"export.requested", "export.started", "export.succeeded"} <= actions


def test_the_command_exports_in_process_with_a_progress_bar(judged, tmp_path, capsys):
    out = tmp_path / "dataset"
    call_command("export_dataset", "--project", "demo", "--format", "raw", "--ties", "keep", "--file-format", "jsonl",
                 "--output", str(out), "--exclude-raters", judged.bob.profile.pseudonym, "--as-user", "carol")
    captured = capsys.readouterr()
    assert "judgments" in captured.err and str(out) in captured.out
    rows = [json.loads(line) for f in sorted(out.rglob("*.jsonl")) for line in f.read_text().splitlines()]
    assert len(rows) == 5 and all(r["rater"] == judged.alice.profile.pseudonym for r in rows)
    job = Job.objects.get(kind="export")
    assert job.state == "succeeded" and job.params["output"] == str(out.resolve())


def test_the_command_queues_and_prints_the_job_id(judged, capsys):
    call_command("export_dataset", "--project", "demo", "--format", "raw", "--queue")
    job = Job.objects.get(kind="export")
    assert f"export job {job.pk} queued" in capsys.readouterr().out and job.state == "queued"


@pytest.mark.parametrize("args, message", [
    (["--project", "nope", "--format", "raw"], "no project"),
    (["--project", "demo", "--format", "raw", "--origin", "mars"], "origin"),
    (["--project", "demo", "--format", "raw", "--min-judgments", "9"], "select no judgments"),
    (["--project", "demo", "--format", "raw", "--as-user", "alice"], "only data leads"),
])
def test_the_command_refuses_bad_input_and_writes_nothing(judged, args, message, tmp_path):
    with pytest.raises(CommandError, match=message):
        call_command("export_dataset", *args, "--output", str(tmp_path / "never"))
    assert not (tmp_path / "never").exists() and not Job.objects.exists()


def test_a_cancelled_export_leaves_no_files(judged):
    job = services.export_request(project=judged.project, actor=judged.carol, values={"format": "raw"},
                                  enqueue=False)

    def cancel_at_first_tick(done, total, message):
        job_cancel(job_id=job.pk, actor=judged.carol)

    finished = job_run(job_id=job.pk, observer=cancel_at_first_tick)
    assert finished.state == "cancelled" and not finished.artifacts.exists()
    assert not services.export_dir(finished).exists()
    assert not list(services.export_dir(finished).parent.glob(f".{services.export_dir(finished).name}*"))


def test_a_failed_export_never_removes_files_it_did_not_write_in_a_chosen_output_folder(judged, tmp_path):
    """The folder was empty when the export was requested; someone put a file there before it ran. The
    export fails naming the folder, and the file stays: the cleanup removes only what the job wrote."""
    out = tmp_path / "dataset"
    job = services.export_request(project=judged.project, actor=judged.carol, values={"format": "raw"},
                                  output=out, enqueue=False)
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (tmp_path / ".dataset.partial-0123456789ab").mkdir()  # another export's, writing to the same folder now
    finished = job_run(job_id=job.pk)
    assert finished.state == "failed" and "not empty" in finished.error
    assert (out / "keep.txt").read_text() == "mine"
    assert (tmp_path / ".dataset.partial-0123456789ab").is_dir()


def test_a_retried_export_to_a_chosen_folder_replaces_what_its_earlier_attempt_left(judged, tmp_path):
    """An attempt killed after renaming its folder (before the job was marked done) and one killed
    mid-write: the retry removes both, as it does in the default export folder, and writes afresh."""
    out = tmp_path / "dataset"
    job = services.export_request(project=judged.project, actor=judged.carol, values={"format": "raw"},
                                  output=out, enqueue=False)
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"provenance": {"export_job": job.pk}, "stale": True}))
    (tmp_path / f".dataset.partial-job{job.pk}-0123456789ab").mkdir()
    finished = job_run(job_id=job.pk)
    assert finished.state == "succeeded", finished.error
    manifest = json.loads((out / "manifest.json").read_text())
    assert "stale" not in manifest and manifest["provenance"]["export_job"] == job.pk
    assert not list(tmp_path.glob(".dataset.partial-*"))
