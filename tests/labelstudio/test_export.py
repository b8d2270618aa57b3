"""Export to Label Studio JSON: tasks with their annotations, readable by Label Studio and by our import."""
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from label_studio_sdk import LabelStudio

from prefkit.labelstudio import pairwise_config, parse_export
from tests.conftest import make_world
from webapp.comparisons.models import Judgment
from webapp.projects.services import project_create

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "labelstudio" / "pairwise_export.json"
pytestmark = pytest.mark.django_db


def _exported(tmp_path):
    world = make_world(n_comparisons=0)
    call_command("labelstudio_import", str(FIXTURE), "--into", "demo")
    out = tmp_path / "for-label-studio.json"
    call_command("labelstudio_export", "--project", "demo", "--output", str(out))
    return world, out


def test_export_carries_every_current_judgment_with_its_side(tmp_path):
    world, out = _exported(tmp_path)
    parsed = parse_export(out.read_bytes(), name=out.name)
    assert len(parsed.tasks) == 3 and len(parsed.annotations) == 5
    judgments = {j.pk: j for j in Judgment.objects.filter(comparison__project=world.project)}
    for a in parsed.annotations:
        j = judgments[a.annotation_id]
        assert a.selected == {"a": "left", "b": "right", "tie": "tie"}[j.choice]
        assert a.strength == j.strength and a.annotator == j.external_rater.pseudonym
        task = parsed.tasks[a.task_id]
        assert task.comparison_id == j.comparison_id and task.swapped is False
        assert (task.left, task.right) == (j.comparison.response_a.text, j.comparison.response_b.text)

    # And into another workbench project it imports as the same answers.
    other = project_create(slug="other", name="Other", actor=world.carol)
    data = json.loads(out.read_text())
    for task in data:  # a foreign project: our comparison ids mean nothing there
        del task["data"]["wb_comparison_id"], task["data"]["wb_swapped"]
    (tmp_path / "foreign.json").write_text(json.dumps(data))
    call_command("labelstudio_import", str(tmp_path / "foreign.json"), "--into", "other")
    mine = sorted((j.comparison.response_a.text, j.choice, j.strength)
                  for j in Judgment.objects.filter(comparison__project=world.project))
    theirs = sorted((j.comparison.response_a.text, j.choice, j.strength)
                    for j in Judgment.objects.filter(comparison__project=other))
    assert mine == theirs


def test_export_refuses_an_existing_file(tmp_path):
    make_world(n_comparisons=1)
    out = tmp_path / "x.json"
    out.write_text("keep")
    with pytest.raises(CommandError, match="exists"):
        call_command("labelstudio_export", "--project", "demo", "--output", str(out))
    assert out.read_text() == "keep"


def test_label_studio_loads_the_export(tmp_path, live_label_studio):
    _, out = _exported(tmp_path)
    lead = LabelStudio(base_url=live_label_studio.url, api_key=live_label_studio.lead_token)
    project = lead.projects.create(title="Loaded from the workbench", label_config=pairwise_config())
    lead.projects.import_tasks(id=project.id, request=json.loads(out.read_text()))
    loaded = sorted(lead.tasks.list(project=project.id, fields="all"), key=lambda t: t.id)
    assert len(loaded) == 3
    assert sum(t.total_annotations for t in loaded) == 5
