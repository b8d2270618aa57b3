"""Bad input fails before any training step, with the reason in the form, the command or the job,
and leaves no job folder and no model behind."""
import json
import shutil

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from rm_training.config import default_base_model
from tests.conftest import PASSWORD
from tests.training.conftest import TINY, build_export
from webapp.core.errors import ValidationFailed
from webapp.runs.models import Job
from webapp.runs.services import job_run
from webapp.training import services
from webapp.training.models import RewardModel


def _post(world, **fields):
    client = Client()
    assert client.login(username="carol", password=PASSWORD)
    values = {"export": world.export.pk, **{k: str(v) for k, v in TINY.items()}, **fields}
    return client.post(f"/lead/{world.project.slug}/train/", values)


@pytest.mark.parametrize("fields, message", [
    ({"base_model": "/no/such/model"}, "base model '/no/such/model' cannot be loaded"),
    ({"max_length": "1024"}, "max_length 1024 is beyond"),
    ({"learning_rate": "fast"}, "learning_rate must be a number"),
    ({"batch_size": "0"}, "batch_size must be between 1 and 4096"),
    ({"export": "99999"}, "there is no export 99999 of project demo"),
])
def test_the_form_names_what_is_wrong_and_queues_nothing(exported, fields, message):
    response = _post(exported, **fields)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Job.objects.filter(kind="training").exists()


def test_a_raw_export_is_refused(db):
    world = build_export(format="raw")
    response = _post(world)
    assert response.status_code == 400 and "raw format" in response.content.decode()


def test_raters_cannot_train(exported):
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    assert client.get(f"/lead/{exported.project.slug}/train/").status_code in (403, 404)


def test_a_dataset_with_a_missing_field_is_named_by_line(exported, tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}) + "\n"
                    + json.dumps({"prompt": "p", "chosen": "a"}) + "\n")
    with pytest.raises(CommandError, match=r"pairs.jsonl, line 2: missing field 'rejected'"):
        call_command("train_rm", "--dataset", str(data), "--max-steps", "1")
    assert not Job.objects.filter(kind="training").exists()


def test_an_empty_test_split_is_refused(exported, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(exported.export_dir, folder)
    (folder / "test.jsonl").write_text("")
    with pytest.raises(CommandError, match="the test split is empty"):
        call_command("train_rm", "--dataset", str(folder), "--max-steps", "1")


def test_an_output_folder_in_use_is_refused_and_kept(exported, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="exists and is not an empty folder"):
        call_command("train_rm", "--export", str(exported.export.pk), "--output", str(out), "--max-steps", "1")
    assert (out / "keep.txt").read_text() == "mine" and not Job.objects.filter(kind="training").exists()


def test_scoring_refuses_a_folder_that_is_not_a_reward_model(exported, tmp_path):
    pairs = exported.export_dir / "test.jsonl"
    with pytest.raises(CommandError, match="not a reward model"):
        call_command("score_rm", "--model", default_base_model(), "--pairs", str(pairs))
    with pytest.raises(CommandError, match="not a model folder"):
        call_command("score_rm", "--model", str(tmp_path), "--pairs", str(pairs))
    assert not Job.objects.filter(kind="scoring").exists()


def test_scoring_refuses_an_unknown_quantization_before_queueing(exported):
    with pytest.raises(ValidationFailed, match="'int4' is not one of int8") as failure:
        services.scoring_request(actor=exported.carol, model_path=default_base_model(),
                                 pairs=exported.export_dir / "test.jsonl", quantize="int4")
    assert failure.value.field == "quantize" and not Job.objects.filter(kind="scoring").exists()


def test_a_job_whose_data_vanished_fails_with_the_reason_and_writes_nothing(exported):
    job = services.training_request(project=exported.project, actor=exported.carol, enqueue=False,
                                     values={"export": exported.export.pk, **TINY})
    shutil.rmtree(exported.export_dir)  # deleted between the request and the run
    finished = job_run(job_id=job.pk)
    assert finished.state == "failed" and "no such file or folder" in finished.error
    assert not services.model_dir(finished).exists() and not services.checkpoint_dir(finished).exists()
    assert not RewardModel.objects.exists()


def test_files_that_arrive_in_the_chosen_output_folder_after_the_request_are_kept(exported, tmp_path):
    """The folder was empty when the run was requested. Files put there before it ran make training
    refuse it, naming it; the job's cleanup then removes nothing it did not write."""
    out = tmp_path / "model"
    job = services.training_request(project=exported.project, actor=exported.carol,
                                     values={"export": exported.export.pk, **TINY}, output=out, enqueue=False)
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    finished = job_run(job_id=job.pk)
    assert finished.state == "failed" and "not empty" in finished.error
    assert (out / "keep.txt").read_text() == "mine"
    assert not RewardModel.objects.exists()


def test_a_retry_replaces_the_model_folder_its_earlier_attempt_wrote_in_the_chosen_folder(exported, tmp_path):
    """Killed after writing the folder but before registering the model: the retry removes that folder
    (its metrics.json names the job) and trains again, as it does in the default model folder."""
    out = tmp_path / "model"
    job = services.training_request(project=exported.project, actor=exported.carol,
                                     values={"export": exported.export.pk, **TINY}, output=out, enqueue=False)
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps({"provenance": {"training_job": job.pk}, "stale": True}))
    finished = job_run(job_id=job.pk)
    assert finished.state == "succeeded", finished.error
    record = json.loads((out / "metrics.json").read_text())
    assert "stale" not in record and record["provenance"]["training_job"] == job.pk
    assert RewardModel.objects.get(job=job).path == str(out)
