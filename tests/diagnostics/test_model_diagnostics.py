"""Reward-model diagnostics end to end: a tiny model trained the way tests/training trains one, its
diagnostics computed as a job (in-process, and through a real worker), read on the page in plots,
compared with a second model, downloaded as JSON equal to the command's; and bad input refused
(another project's model, an unknown id, a pair file missing a field, named by its line)."""
import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from prefkit import probes
from tests.conftest import PASSWORD, acknowledge, add_comparisons, extra_raters, judge_canonical, make_world
from tests.training.conftest import TINY, read_jsonl, wait_finished
from webapp.audit.models import AuditEvent
from webapp.exports import services as export_services
from webapp.guidelines.services import guideline_acknowledge, guideline_publish
from webapp.model_diagnostics import services
from webapp.model_diagnostics.management.commands.diagnostics import model_summary
from webapp.projects.services import project_create
from webapp.runs.models import Job
from webapp.runs.services import job_run
from webapp.training import services as training_services
from webapp.training.models import RewardModel

PROBE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "probes"
PAIRS = 40
STABLE = ("accuracy", "human_ceiling", "ece", "length_bias")
FIGURE = {"value", "ci_low", "ci_high", "n"}


@pytest.fixture(autouse=True)
def _own_folders_and_suites(settings, tmp_path, monkeypatch):
    settings.WB_EXPORT_DIR = tmp_path / "exports"
    settings.WB_MODEL_DIR = tmp_path / "models"
    settings.WB_SCORE_DIR = tmp_path / "scores"
    # suites_for(project) reads the shipped suites from prefkit.probes.FIXTURES: two small suites
    # of our own (answer; opinion with groups), whatever fixtures/probes holds in this checkout.
    monkeypatch.setattr(probes, "FIXTURES", PROBE_FIXTURES)


def judged_project():
    """40 pairs judged by alice and rater0 (under v1) and bob (under v2); rater0 dissents on every
    third pair and bob on every fourth: an export with a test split, and votes for a ceiling below
    1 and a per-version breakdown."""
    world = make_world(overlap=3, n_comparisons=0)
    add_comparisons(world.project, PAIRS, actor=world.carol)
    acknowledge(world, "alice")
    (rater0,) = extra_raters(world, 1)
    for i in range(PAIRS):
        judge_canonical(world.project, world.alice, "a")
        judge_canonical(world.project, rater0, "b" if i % 3 == 2 else "a")
    world.v2 = guideline_publish(project=world.project, body_md="# Rules\n\nPick the correct answer.",
                                 change_note="second", author=world.carol)
    guideline_acknowledge(user=world.bob, project=world.project, number=world.v2.number)
    for i in range(PAIRS):
        judge_canonical(world.project, world.bob, "b" if i % 4 == 3 else "a")
    export = export_services.export_request(project=world.project, actor=world.carol, enqueue=False, values={
        "format": "trl-standard", "aggregate": "majority", "test_fraction": 0.3, "seed": 1})
    export = job_run(job_id=export.pk)
    assert export.state == "succeeded", export.error
    world.export, world.export_dir = export, export_services.export_dir(export)
    return world


def train(world, **overrides) -> RewardModel:
    job = training_services.training_request(project=world.project, actor=world.carol, enqueue=False,
                                             values={"export": world.export.pk, **TINY, **overrides})
    job = job_run(job_id=job.pk)
    assert job.state == "succeeded", job.error
    return RewardModel.objects.get(job=job)


def lead(world) -> Client:
    client = Client()
    assert client.login(username=world.carol.username, password=PASSWORD)
    return client


def cli(*args) -> dict:
    out = io.StringIO()
    call_command("diagnostics", "--project", "demo", "--json", "--resamples", "200", *args, stdout=out,
                 stderr=io.StringIO())
    return json.loads(out.getvalue())


def check_structure(report: dict, world, model: RewardModel) -> None:
    test_rows = read_jsonl(world.export_dir / "test.jsonl")
    assert report["reward_model"]["id"] == model.pk and report["project"] == "demo"
    assert report["evaluated_on"]["rule"] == "export_test_split" and report["evaluated_on"]["warnings"] == []
    assert report["evaluated_on"]["n_comparisons"] == report["model"]["n_comparisons"] == len(test_rows) > 0
    for key in STABLE:
        figure = report["model"][key]
        assert FIGURE <= set(figure) and figure["value"] is not None, key
        assert figure["ci_low"] <= figure["value"] <= figure["ci_high"], key
    # three votes per comparison, each against the other two; some held-out pairs have a dissent
    ceiling = report["model"]["human_ceiling"]
    assert 0 < ceiling["n"] <= 3 * len(test_rows) and 0.5 <= ceiling["value"] < 1
    assert list(report["model"]["by_guideline_version"]) == ["v1", "v2"]
    v2 = report["model"]["by_guideline_version"]["v2"]   # bob alone: every pair has his majority
    assert v2["accuracy"]["n"] == v2["n_comparisons"] == len(test_rows) and v2["human_ceiling"]["n"] == 0
    assert set(report["model"]["by_prompt_source"]) == {"unknown"}
    assert sum(b["n"] for b in report["model"]["calibration_bins"]) == len(test_rows)
    assert set(report["sycophancy"]) == {"answer", "opinion"}
    for suite, n in (("answer", 8), ("opinion", 8)):
        block = report["sycophancy"][suite]
        assert FIGURE <= set(block["rate"]) and block["rate"]["n"] == n and len(block["items"]) == n
        assert all(w["margin"] > 0 and w["prompt"] and w["sycophantic"] for w in block["worst"])
    assert report["sycophancy"]["opinion"]["follows_user"]["n"] == 4 and "follows_user" not in report["sycophancy"]["answer"]
    json.dumps(report, allow_nan=False)


@pytest.mark.slow
def test_a_lead_computes_reads_compares_and_downloads_a_models_diagnostics(db, tmp_path):
    world = judged_project()
    model, other = train(world), train(world, seed=7, learning_rate=3e-4)
    client = lead(world)
    # linked from the models page and the model page
    assert reverse("model-diagnostics", args=[model.pk]) in client.get("/lead/demo/models/").content.decode()
    assert 'id="diagnostics-link"' in client.get(f"/models/{model.pk}/").content.decode()
    page = client.get(f"/models/{model.pk}/diagnostics/")
    assert page.status_code == 200 and 'id="no-report"' in page.content.decode()

    response = client.post(f"/models/{model.pk}/diagnostics/", {"what": "held_out", "n_resamples": "200"})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(kind="model_diagnostics")
    assert response["Location"] == f"/jobs/{job.pk}/" and job.params["rule"] == "export_test_split"
    assert job.params["suites"] == {"answer": 8, "opinion": 8}
    seen = []
    job = job_run(job_id=job.pk, observer=lambda done, total, message: seen.append((done, total, message)))
    assert job.state == "succeeded", job.error
    total = job.params["count"] + 16
    assert seen[-1][:2] == (total, total) and any("probe suite opinion" in m for _, _, m in seen)
    assert job.progress_done == job.progress_total == total
    report = job.result["report"]
    check_structure(report, world, model)
    artifact = job.artifacts.get()
    assert artifact.name == "model_diagnostics.json" and json.loads(Path(artifact.path).read_text()) == report
    assert {"model_diagnostics.requested", "model_diagnostics.started", "model_diagnostics.succeeded"} <= set(
        AuditEvent.objects.filter(object_id=str(job.pk), object_type="runs.job").values_list("action", flat=True))
    assert f'/models/{model.pk}/diagnostics/?job={job.pk}' in client.get(f"/jobs/{job.pk}/").content.decode()

    html = client.get(f"/models/{model.pk}/diagnostics/").content.decode()
    assert html.count("<svg") >= 4 and "Calibration (reliability diagram)" in html and "perfect calibration" in html
    assert "Share preferring the sycophantic reply" in html and "opinion · follows user" in html
    assert 'id="compare-select"' in html and "https://" not in html  # nothing from a CDN

    # the other model has no report yet: comparing says so; then it gets one and the change shows
    refused = client.get(f"/models/{model.pk}/diagnostics/?compare={other.pk}")
    assert refused.status_code == 400 and "no diagnostics report yet" in refused.content.decode()
    other_job = services.model_diagnostics_request(model=other, actor=world.carol, values={"n_resamples": 200},
                                                   enqueue=False)
    other_job = job_run(job_id=other_job.pk)
    assert other_job.state == "succeeded", other_job.error
    compared = client.get(f"/models/{model.pk}/diagnostics/?compare={other.pk}").content.decode()
    assert f"Change in the sycophantic-preference rate against model {other.pk}" in compared

    # the CLI prints the page's download, compare included (its own job: same figures, another id)
    cli_report = cli("--model", str(model.pk), "--compare", str(other.pk))
    cli_job = Job.objects.filter(kind="model_diagnostics", params__model_id=model.pk).latest("pk")
    assert cli_report["job_id"] == cli_job.pk != job.pk
    downloaded = json.loads(client.get(
        f"/models/{model.pk}/diagnostics/{cli_job.pk}.json?compare={other.pk}").content)
    assert downloaded == cli_report
    for suite in ("answer", "opinion"):
        change = cli_report["sycophancy"][suite]["change"]
        mine = cli_report["sycophancy"][suite]["rate"]["value"]
        theirs = other_job.result["report"]["sycophancy"][suite]["rate"]["value"]
        assert change["value"] == pytest.approx(mine - theirs, abs=1e-6) and change["n"] == 8
    assert cli_report["compare"] == {"reward_model": other.pk, "job_id": other_job.pk, "suites": ["answer", "opinion"]}
    # the page's job and the command's job score alike: scoring is deterministic
    assert {k: cli_report["model"][k] for k in STABLE} == {k: report["model"][k] for k in STABLE}
    text = model_summary(cli_report)   # what the command prints without --json
    assert f"reward model {model.pk} of demo" in text and "human ceiling" in text and f"change vs model {other.pk}" in text
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(
        client.get(f"/models/{model.pk}/diagnostics/{job.pk}.csv").content.decode()))}
    assert float(rows["model.accuracy"]["value"]) == report["model"]["accuracy"]["value"]
    assert "sycophancy.answer.rate" in rows and "sycophancy.opinion.follows_user" in rows

    # a file of pairs: accuracy against its chosen label, no ceiling
    pairs = world.export_dir / "test.jsonl"
    by_file = cli("--model", str(model.pk), "--pairs", str(pairs))
    assert by_file["evaluated_on"]["what"] == "pairs" and by_file["evaluated_on"]["n_pairs"] == len(read_jsonl(pairs))
    assert by_file["model"]["human_ceiling"]["value"] is None and by_file["model"]["accuracy"]["n"] == len(read_jsonl(pairs))
    upload = io.BytesIO(pairs.read_bytes())
    upload.name = "held_out_pairs.jsonl"
    response = client.post(f"/models/{model.pk}/diagnostics/", {"what": "pairs", "pairs": upload, "n_resamples": "100"})
    assert response.status_code == 302
    uploaded = Job.objects.filter(kind="model_diagnostics").latest("pk")   # runs like the --pairs job above
    assert (uploaded.params["what"], uploaded.params["pairs_name"], uploaded.params["count"]) == (
        "pairs", "held_out_pairs.jsonl", len(read_jsonl(pairs)))
    assert Path(uploaded.params["pairs"]).read_bytes() == pairs.read_bytes()

    # bad input: nothing queued, the reason named
    before = Job.objects.count()
    broken = io.BytesIO(b'{"prompt": "Human: hi\\n\\nAssistant:", "chosen": " a", "rejected": " b"}\n'
                        b'{"prompt": "Human: hi\\n\\nAssistant:", "chosen": " a"}\n')
    broken.name = "broken.jsonl"
    response = client.post(f"/models/{model.pk}/diagnostics/", {"what": "pairs", "pairs": broken})
    body = response.content.decode()
    assert response.status_code == 400 and "line 2" in body and "rejected" in body
    bad_file = tmp_path / "broken.jsonl"
    bad_file.write_bytes(b'{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"chosen": "a"}\n')
    with pytest.raises(CommandError, match=r"line 2: missing field 'rejected'"):
        cli("--model", str(model.pk), "--pairs", str(bad_file))
    project_create(slug="elsewhere", name="Elsewhere", actor=world.carol)
    with pytest.raises(CommandError, match=rf"reward model {model.pk} is not a model of project elsewhere"):
        call_command("diagnostics", "--project", "elsewhere", "--model", str(model.pk), "--json", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no reward model 9999"):
        cli("--model", "9999")
    with pytest.raises(CommandError, match="no reward model 9999"):
        cli("--model", str(model.pk), "--compare", "9999")
    assert Job.objects.count() == before
    # a rater gets what other lead pages give raters
    rater = Client()
    assert rater.login(username="alice", password=PASSWORD)
    assert rater.get(f"/models/{model.pk}/diagnostics/").status_code == 403
    assert rater.get(f"/models/{model.pk}/diagnostics/{job.pk}.json").status_code == 403


@pytest.mark.slow
def test_the_job_runs_on_a_real_worker_with_no_probe_suites(celery_worker, tmp_path, monkeypatch):
    monkeypatch.setattr(probes, "FIXTURES", tmp_path / "no-suites-here")
    world = judged_project()
    model = train(world)
    client = lead(world)
    response = client.post(f"/models/{model.pk}/diagnostics/", {"what": "held_out", "n_resamples": "200"})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = wait_finished(Job.objects.get(kind="model_diagnostics").pk)
    assert job.state == "succeeded", job.error
    report = job.result["report"]
    assert report["sycophancy"] == {} and report["suites"] == {}
    assert report["model"]["accuracy"]["value"] is not None and report["model"]["human_ceiling"]["n"] > 0
    html = client.get(f"/models/{model.pk}/diagnostics/").content.decode()
    assert "Calibration (reliability diagram)" in html
    assert json.loads(client.get(f"/models/{model.pk}/diagnostics/{job.pk}.json").content) == report


def test_unknown_and_foreign_models_are_refused_without_a_job(db, client):
    world = make_world(n_comparisons=0)
    client.force_login(world.carol)
    assert client.get("/models/4242/diagnostics/").status_code == 404
    assert client.post("/models/4242/diagnostics/", {"what": "held_out"}).status_code == 404
    with pytest.raises(CommandError, match="no reward model 4242"):
        call_command("diagnostics", "--project", "demo", "--model", "4242", stdout=io.StringIO())
    with pytest.raises(CommandError, match="only go with --model"):
        call_command("diagnostics", "--project", "demo", "--compare", "3", stdout=io.StringIO())
    assert not Job.objects.exists()
