"""Importing the committed real Label Studio exports (fixtures/labelstudio, made by a live Label Studio)."""
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from prefkit.labelstudio import LabelStudioError, check_config, pairwise_config
from tests.conftest import make_world
from webapp.audit.models import AuditEvent
from webapp.comparisons.models import Comparison, ExternalRater, Judgment

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "labelstudio"
EXPORT, EXPORT_MIN = FIXTURES / "pairwise_export.json", FIXTURES / "pairwise_export_min.json"

pytestmark = pytest.mark.django_db

# What the fixture's annotations say (see fixtures/labelstudio/make_export.py):
# (task prompt, Label Studio user id) -> (left/right/tie picked, strength, lead time s)
EXPECTED = {
    ("What is the capital of France?", "1"): ("left", 3, 12.5),
    ("What is the capital of France?", "2"): ("right", 1, 30.25),
    ("Give me a synonym for happy.", "1"): ("right", 2, 8.0),
    ("Give me a synonym for happy.", "2"): ("left", 1, 7.0),  # the later of user 2's two annotations
    ("How many legs does a spider have?", "1"): ("tie", None, 4.0),
}


def _judgments(project):
    return list(Judgment.objects.filter(comparison__project=project).select_related(
        "comparison__prompt", "comparison__response_a", "comparison__response_b", "external_rater"))


@pytest.mark.parametrize("path", [EXPORT, EXPORT_MIN], ids=["JSON", "JSON_MIN"])
def test_real_export_imports_as_external_judgments(path, capsys):
    world = make_world(n_comparisons=0)
    call_command("labelstudio_import", str(path), "--into", "demo")
    out = capsys.readouterr().out
    assert "5 judgments added" in out and "has a later annotation (5) than 4" in out
    judgments = _judgments(world.project)
    assert len(judgments) == 5
    tasks = {t["id"]: t for t in json.loads(EXPORT.read_text())}
    for j in judgments:
        prompt = j.comparison.prompt.messages[0]["content"]
        picked, strength, lead = EXPECTED[(prompt, j.external["annotator_id"])]
        task = tasks[j.external["task_id"]]
        # answer1 (left) became response A: a foreign task's left is our A.
        assert (j.comparison.response_a.text, j.comparison.response_b.text) == (
            task["data"]["answer1"], task["data"]["answer2"])
        assert j.display_order == "AB"
        assert j.choice == {"left": "a", "right": "b", "tie": "tie"}[picked]
        assert j.choice_displayed == picked
        assert j.strength == strength and j.active_ms == round(lead * 1000)
        assert j.origin == Judgment.Origin.EXTERNAL and j.rater_id is None and j.assignment_id is None
        assert j.guideline_version_id is None  # not pushed by us: guideline unknown
        annotation = next(a for a in task["annotations"] if a["id"] == j.external["annotation_id"])
        assert j.submitted_at.isoformat().replace("+00:00", "Z") == annotation["updated_at"]
        assert not annotation["was_cancelled"]
    raters = ExternalRater.objects.filter(project=world.project)
    assert sorted(r.external_id for r in raters) == ["1", "2"]
    assert all(r.scope.startswith("label-studio:") and r.pseudonym not in ("", r.external_id) for r in raters)
    assert Comparison.objects.filter(project=world.project).count() == 3
    assert AuditEvent.objects.filter(action="labelstudio.imported").count() == 1


def test_json_export_keeps_the_label_studio_project_id():
    world = make_world(n_comparisons=0)
    call_command("labelstudio_import", str(EXPORT), "--into", "demo")
    assert {j.external["label_studio_project"] for j in _judgments(world.project)} == {1}
    assert {r.scope for r in ExternalRater.objects.all()} == {"label-studio:file#1"}


def test_reimport_adds_nothing(capsys):
    world = make_world(n_comparisons=0)
    call_command("labelstudio_import", str(EXPORT), "--into", "demo")
    call_command("labelstudio_import", str(EXPORT), "--into", "demo")
    assert "0 judgments added, 5 already present" in capsys.readouterr().out
    assert len(_judgments(world.project)) == 5
    assert Comparison.objects.filter(project=world.project).count() == 3


def test_sides_follow_an_existing_comparison_held_the_other_way_round(tmp_path):
    world = make_world(n_comparisons=0)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": [{"role": "user", "content": "What is the capital of France?"}],
                                 "response_a": {"text": "Lyon, I think."}, "response_b": {"text": "Paris."},
                                 "id": "ours-1"}) + "\n")
    call_command("import_comparisons", str(pairs), "--project", "demo")
    call_command("labelstudio_import", str(EXPORT), "--into", "demo")
    france = [j for j in _judgments(world.project) if j.comparison.external_id == "ours-1"]
    assert len(france) == 2
    by_user = {j.external["annotator_id"]: j for j in france}
    # User 1 picked the left answer "Paris.", which is our B here.
    assert (by_user["1"].choice, by_user["1"].display_order, by_user["1"].choice_displayed) == ("b", "BA", "left")
    assert (by_user["2"].choice, by_user["2"].display_order) == ("a", "BA")


def _fails(tmp_path, content, *extra):
    path = tmp_path / "export.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    world = make_world(n_comparisons=0)
    with pytest.raises(CommandError) as error:
        call_command("labelstudio_import", str(path), "--into", "demo", *extra)
    assert not Judgment.objects.exists() and not Comparison.objects.filter(project=world.project).exists()
    assert not AuditEvent.objects.filter(action="labelstudio.imported").exists()
    return str(error.value)


def test_not_json_is_refused(tmp_path):
    assert "export.json: not a Label Studio export (not JSON" in _fails(tmp_path, "prompt,chosen\n1,2\n")


def test_json_that_is_not_an_export_is_refused(tmp_path):
    assert "export.json: not a Label Studio export" in _fails(tmp_path, {"tasks": []})


def test_a_broken_task_names_task_and_field_and_writes_nothing(tmp_path):
    tasks = json.loads(EXPORT.read_text())
    del tasks[2]["data"]["answer2"]
    message = _fails(tmp_path, tasks)
    assert "task 3" in message and "data.answer2" in message


def test_an_annotation_without_the_pairwise_control_is_refused(tmp_path):
    message = _fails(tmp_path, json.loads(EXPORT.read_text()), "--pairwise-name", "pw")
    assert "task 1, annotation 1" in message and "'pw'" in message


def test_other_data_keys_are_options(tmp_path):
    tasks = json.loads(EXPORT.read_text())
    for task in tasks:
        data = task["data"]
        data["question"], data["left"], data["right"] = data.pop("prompt"), data.pop("answer1"), data.pop("answer2")
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(tasks))
    world = make_world(n_comparisons=0)
    call_command("labelstudio_import", str(path), "--into", "demo", "--prompt-key", "question",
                 "--left-key", "left", "--right-key", "right")
    assert len(_judgments(world.project)) == 5


def test_config_checks():
    check_config(pairwise_config())
    with pytest.raises(LabelStudioError, match="no Pairwise control"):
        check_config('<View><Text name="t" value="$t"/><Choices name="c" toName="t"/></View>')
    with pytest.raises(LabelStudioError, match="named 'comparison'.*'pw'"):
        check_config('<View><Pairwise name="pw" toName="a,b"/></View>')
