"""Training as a job without a worker: cancel leaves nothing, a killed attempt resumes from its
checkpoint when the sweeper retries it, and the commands train and score in-process."""
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from rm_training.score import score
from rm_training.data import load_pairs
from tests.training.conftest import TINY, read_jsonl
from webapp.audit.models import AuditEvent
from webapp.core import clock
from webapp.runs.models import Job
from webapp.runs.services import job_cancel, job_requeue_stale, job_run
from webapp.training import services
from webapp.training.models import RewardModel, TrainingLog

pytestmark = pytest.mark.slow


def _request(world, **overrides):
    return services.training_request(project=world.project, actor=world.carol, enqueue=False,
                                     values={"export": world.export.pk, **TINY, **overrides})


def test_a_cancelled_run_stops_at_its_next_step_and_leaves_no_model_folder(exported):
    job = _request(exported, max_steps=6)
    seen = []

    def cancel_at_step_two(done, total, message):
        seen.append(done)
        if done == 2:
            job_cancel(job_id=job.pk, actor=exported.carol)

    finished = job_run(job_id=job.pk, observer=cancel_at_step_two)
    assert finished.state == "cancelled" and max(seen) == 2
    out = services.model_dir(finished)
    assert not out.exists() and not services.checkpoint_dir(finished).exists()
    assert not list(out.parent.glob(f".{out.name}*"))  # no partial either
    assert not RewardModel.objects.exists()
    assert AuditEvent.objects.filter(action="training.cancelled", object_id=str(job.pk)).exists()


class WorkerDied(BaseException):
    """What a SIGKILL looks like from inside: nothing below catches it, nothing cleans up."""


def test_a_run_killed_mid_way_resumes_from_its_last_checkpoint_when_the_sweeper_retries_it(exported):
    job = _request(exported, max_steps=6, save_steps=2)

    def die_at_step_five(done, total, message):
        if done == 5:
            raise WorkerDied

    with pytest.raises(WorkerDied):
        job_run(job_id=job.pk, observer=die_at_step_five)
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("running", 1)
    checkpoints = sorted(p.name for p in services.checkpoint_dir(job).glob("checkpoint-*"))
    assert checkpoints and "checkpoint-4" in checkpoints

    assert job_requeue_stale(job_id=job.pk, stale_before=clock.now()) == "queued"  # the sweeper's decision
    steps_seen = []
    finished = job_run(job_id=job.pk, observer=lambda done, total, message: steps_seen.append(done))
    assert finished.state == "succeeded", finished.error
    assert finished.attempts == 2
    model = RewardModel.objects.get(job=finished)
    assert model.counts["resumed_from_step"] == 4 and model.counts["steps"] == 6
    assert min(s for s in steps_seen if s) == 5, "the second attempt starts after the checkpoint, not at step 1"
    assert not services.checkpoint_dir(finished).exists()
    # The curve keeps both attempts' steps, each step once.
    from webapp.training.selectors import curve_points
    assert [step for step, _ in curve_points(finished)["loss"]] == [1, 2, 3, 4, 5, 6]
    assert TrainingLog.objects.filter(job=finished, attempt=2).exists()


def test_the_commands_train_on_any_trl_file_and_score_in_input_order(exported, tmp_path, capsys):
    dataset = exported.export_dir / "train.jsonl"  # a plain TRL JSONL file, not an export folder
    out = tmp_path / "rm"
    call_command("train_rm", "--dataset", str(dataset), "--output", str(out), "--max-steps", "3", "--batch-size", "4",
                 "--max-length", "48", "--save-steps", "3", "--eval-fraction", "0.25", "--project", "demo")
    captured = capsys.readouterr()
    assert "/3 steps" in captured.err and str(out) in captured.out
    model = RewardModel.objects.get()
    assert model.path == str(out.resolve()) and model.export_job is None and model.project == exported.project
    assert (out / "config.json").is_file() and (out / "README.md").is_file()

    pairs = exported.export_dir / "test.jsonl"
    scores = tmp_path / "scores.jsonl"
    call_command("score_rm", "--model", str(model.pk), "--pairs", str(pairs), "--output", str(scores))
    summary = json.loads(capsys.readouterr().out.split("\n", 1)[1])["summary"]
    rows = read_jsonl(scores)
    direct = score(out, load_pairs(pairs).train)  # the scorer called directly: the same numbers
    assert [r["reward_chosen"] for r in rows] == pytest.approx([r["reward_chosen"] for r in direct.rows], abs=1e-6)
    assert [r["index"] for r in rows] == list(range(len(read_jsonl(pairs))))
    assert summary["pairs"] == len(rows) and 0 <= summary["calibration_error"] <= 1
    assert Job.objects.get(kind="scoring").state == "succeeded"
    assert summary["inference"]["quantize"] is None
    # The same model by path, then queued for the workers: the job id is printed.
    call_command("score_rm", "--model", str(out), "--pairs", str(pairs), "--queue")
    queued = Job.objects.filter(kind="scoring", state="queued").get()
    assert f"scoring job {queued.pk} queued" in capsys.readouterr().out
    # int8 on the CPU: the job carries it, the summary reports it, the same side wins on every pair.
    int8_scores = tmp_path / "int8.jsonl"
    call_command("score_rm", "--model", str(out), "--pairs", str(pairs), "--output", str(int8_scores),
                 "--quantize", "int8")
    int8_job = Job.objects.get(kind="scoring", params__quantize="int8")
    assert int8_job.state == "succeeded" and int8_job.result["summary"]["inference"]["quantize"] == "int8"
    assert [r["reward_chosen"] > r["reward_rejected"] for r in read_jsonl(int8_scores)] == \
        [r["reward_chosen"] > r["reward_rejected"] for r in rows]


def test_train_rm_queue_hands_the_run_to_the_training_queue(exported, capsys, settings):
    from webapp.runs import kinds

    call_command("train_rm", "--export", str(exported.export.pk), "--max-steps", "2", "--queue")
    job = Job.objects.get(kind="training")
    assert job.state == "queued" and f"training job {job.pk} queued" in capsys.readouterr().out
    assert kinds.queue_for("training") == settings.WB_TRAINING_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == {settings.CELERY_TASK_DEFAULT_QUEUE,
                                                             settings.WB_TRAINING_QUEUE}
