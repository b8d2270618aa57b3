"""A lead trains a reward model from the page on a real worker, watches the curves, scores the
held-out comparisons, and follows the model's provenance back to the guideline versions."""
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD
from tests.training.conftest import TINY, read_jsonl, wait_finished
from webapp.audit.models import AuditEvent
from webapp.runs.models import Job
from webapp.training.models import RewardModel, TrainingLog

pytestmark = pytest.mark.slow


def _lead(world) -> Client:
    client = Client()
    assert client.login(username=world.carol.username, password=PASSWORD)
    return client


def test_a_lead_trains_watches_scores_and_traces_a_model(celery_worker, exported_tx):
    world, client = exported_tx, _lead(exported_tx)
    page = client.get(f"/lead/{world.project.slug}/train/")
    assert page.status_code == 200 and f'value="{world.export.pk}"' in page.content.decode()

    response = client.post(f"/lead/{world.project.slug}/train/", {"export": world.export.pk, "use_margin": "on",
                                                                   **{k: str(v) for k, v in TINY.items()}})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(kind="training")
    assert response["Location"] == f"/training/{job.pk}/"
    job = wait_finished(job.pk)
    assert job.state == "succeeded", job.error
    assert job.progress_done == job.progress_total == TINY["max_steps"]

    # The curve the page drew while it ran: one logged loss per step, and the charts show them.
    assert sorted(TrainingLog.objects.filter(job=job, values__has_key="loss").values_list("step", flat=True)) == [1, 2, 3, 4]
    charts = client.get(f"/training/{job.pk}/charts.json").json()
    assert charts["finished"] and 'data-name="training loss" data-points="4"' in charts["loss"]
    assert 'data-name="eval accuracy"' in charts["accuracy"]
    detail = client.get(f"/training/{job.pk}/").content.decode()
    assert "<svg" in detail and "Reward model" in detail

    # The model: a complete folder, registered with its provenance.
    model = RewardModel.objects.get(job=job)
    folder = Path(model.path)
    assert folder.parent == Path(settings.WB_MODEL_DIR) and (folder / "model.safetensors").is_file()
    card = (folder / "README.md").read_text()
    manifest_sha = __import__("hashlib").sha256((world.export_dir / "manifest.json").read_bytes()).hexdigest()
    assert model.manifest_sha256 == manifest_sha and manifest_sha in card
    assert model.export_job_id == world.export.pk
    assert [g["version"] for g in model.guideline_versions] == [world.guideline.number]
    assert model.guideline_versions[0]["sha256"] == world.guideline.sha256
    assert model.counts["steps"] == 4 and model.counts["train_pairs"] + model.counts["eval_pairs"] == 32
    assert model.eval_metrics["pairs"] == model.counts["eval_pairs"] > 0  # the export's test split
    assert not list(folder.parent.glob(".*checkpoints")), "checkpoints are removed once the model is written"

    # Models page -> model page -> export provenance -> guideline versions.
    models_page = client.get(f"/lead/{world.project.slug}/models/").content.decode()
    assert f"/models/{model.pk}/" in models_page and manifest_sha[:12] in models_page
    model_page = client.get(f"/models/{model.pk}/").content.decode()
    assert f'href="/exports/{world.export.pk}/"' in model_page and manifest_sha in model_page
    assert f'href="/lead/{world.project.slug}/guidelines/"' in model_page  # the guideline versions it learned from
    export_page = client.get(f"/exports/{world.export.pk}/").content.decode()
    assert world.guideline.sha256 in export_page and re.search(r"/judgments?/\d+", export_page)

    # Score the held-out comparisons from the model page.
    response = client.post(f"/models/{model.pk}/score/", {"what": "held_out"})
    assert response.status_code == 302, response.content.decode()[:2000]
    scoring = wait_finished(Job.objects.get(kind="scoring").pk)
    assert scoring.state == "succeeded", scoring.error
    rows = read_jsonl(Path(scoring.result["output"]))
    test_rows = read_jsonl(world.export_dir / "test.jsonl")
    assert [r["index"] for r in rows] == list(range(len(test_rows)))
    assert all(set(r) >= {"reward_chosen", "reward_rejected", "p_chosen"} for r in rows)
    summary = scoring.result["summary"]
    assert summary["pairs"] == len(test_rows)
    assert summary["accuracy"] == sum(r["reward_chosen"] > r["reward_rejected"] for r in rows) / len(rows)
    assert summary["model_provenance"]["export_id"] == world.export.pk
    score_page = client.get(f"/scores/{scoring.pk}/").content.decode()
    assert "Calibration error" in score_page and manifest_sha in score_page

    actions = set(AuditEvent.objects.filter(object_id=str(job.pk), object_type="runs.job").values_list("action", flat=True))
    assert {"training.requested", "training.started", "training.succeeded"} <= actions
    actions = set(AuditEvent.objects.filter(object_id=str(scoring.pk)).values_list("action", flat=True))
    assert {"scoring.requested", "scoring.succeeded"} <= actions
