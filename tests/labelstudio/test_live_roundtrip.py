"""Against a real Label Studio (the live_label_studio fixture starts one): push, annotate as two
users through the SDK, pull back, check every judgment; bad URLs, tokens, projects and configs."""
import pytest
from django.core.management import CommandError, call_command
from label_studio_sdk import LabelStudio

from tests.conftest import make_world
from webapp.audit.models import AuditEvent
from webapp.comparisons.models import ExternalRater, Judgment
from webapp.labelstudio.models import LabelStudioPush

pytestmark = pytest.mark.django_db


def _pick(side, strength=None):
    result = [{"from_name": "comparison", "to_name": "answer1,answer2", "type": "pairwise",
               "value": {"selected": side}}]
    if strength:
        result.append({"from_name": "strength", "to_name": "prompt", "type": "choices",
                       "value": {"choices": [strength]}})
    return result


def test_push_annotate_pull_round_trip(live_label_studio, capsys):
    live = live_label_studio
    world = make_world(n_comparisons=6)
    call_command("labelstudio_push", "--url", live.url, "--token", live.lead_token, "--from", "demo", "--seed", "3")
    assert live.lead_token not in capsys.readouterr().out
    push = LabelStudioPush.objects.get(project=world.project)
    assert push.guideline_version == world.guideline and len(push.tasks) == 6
    swaps = {int(task): swapped for task, (_, swapped) in push.tasks.items()}
    assert set(swaps.values()) == {True, False}, "seed 3 swaps some sides and not others"

    lead = LabelStudio(base_url=live.url, api_key=live.lead_token)
    rater = LabelStudio(base_url=live.url, api_key=live.rater_token)
    remote = lead.projects.get(id=push.ls_project_id)
    assert "Pick the more helpful answer" in remote.expert_instruction
    tasks = sorted(lead.tasks.list(project=push.ls_project_id), key=lambda t: t.id)
    by_id = {world.project.comparisons.get(pk=t.data["wb_comparison_id"]).pk: t for t in tasks}
    assert sorted(by_id) == sorted(world.project.comparisons.values_list("pk", flat=True))
    for t in tasks:  # the task shows our responses, B on the left when swapped
        comparison = world.project.comparisons.get(pk=t.data["wb_comparison_id"])
        a, b = comparison.response_a.text, comparison.response_b.text
        assert (t.data["answer1"], t.data["answer2"]) == ((b, a) if swaps[t.id] else (a, b))

    # What each Label Studio user picks: (task index) -> (side, strength label)
    lead_picks = {0: ("left", "better"), 1: ("right", "much better"), 2: ("left", None), 3: ("right", "tie")}
    rater_picks = {0: ("right", "slightly better"), 1: ("right", None), 4: ("left", "much better")}
    for client, picks in ((lead, lead_picks), (rater, rater_picks)):
        for index, (side, strength) in picks.items():
            client.annotations.create(id=tasks[index].id, result=_pick(side, strength), lead_time=2.5 + index)
    rater.annotations.create(id=tasks[5].id, result=[], was_cancelled=True)  # skipped: no judgment

    call_command("labelstudio_pull", "--url", live.url, "--token", live.lead_token,
                 "--project", str(push.ls_project_id), "--into", "demo")
    out = capsys.readouterr().out
    assert "7 judgments added" in out and live.lead_token not in out
    judgments = list(Judgment.objects.filter(comparison__project=world.project).select_related("external_rater"))
    assert len(judgments) == 7
    emails = {1: "lead", 2: "rater"}
    for j in judgments:
        task_index = next(i for i, t in enumerate(tasks) if t.id == j.external["task_id"])
        picks = lead_picks if emails[int(j.external["annotator_id"])] == "lead" else rater_picks
        side, strength = picks[task_index]
        swapped = swaps[tasks[task_index].id]
        assert j.comparison_id == tasks[task_index].data["wb_comparison_id"]
        assert j.display_order == ("BA" if swapped else "AB")
        if strength == "tie":
            assert j.choice == "tie" and j.strength is None
        else:
            assert j.choice == ("a" if (side == "left") != swapped else "b"), (side, swapped)
            assert j.strength == {None: None, "slightly better": 1, "better": 2, "much better": 3}[strength]
        assert j.origin == "external" and j.rater_id is None and j.assignment_id is None
        assert j.guideline_version == world.guideline, "pushed under v1: pinned to it"
        assert j.active_ms == round((2.5 + task_index) * 1000)
        assert j.external["label_studio_project"] == push.ls_project_id
        assert j.source == f"label-studio:{live.url}#{push.ls_project_id}"
    assert ExternalRater.objects.filter(project=world.project).count() == 2
    assert {j.choice for j in judgments} >= {"a", "b", "tie"}

    # A second pull brings only what is new.
    call_command("labelstudio_pull", "--url", live.url, "--token", live.lead_token,
                 "--project", str(push.ls_project_id), "--into", "demo")
    assert "0 judgments added, 7 already present" in capsys.readouterr().out
    rater.annotations.create(id=tasks[3].id, result=_pick("left"), lead_time=1.0)
    call_command("labelstudio_pull", "--url", live.url, "--token", live.lead_token,
                 "--project", str(push.ls_project_id), "--into", "demo")
    assert "1 judgments added, 7 already present" in capsys.readouterr().out
    assert Judgment.objects.filter(comparison__project=world.project).count() == 8
    assert AuditEvent.objects.filter(action="labelstudio.imported").count() == 3
    assert not any(live.lead_token in str(e.payload) for e in AuditEvent.objects.all())


def _refused(*args):
    with pytest.raises(CommandError) as error:
        call_command("labelstudio_pull", *args, "--into", "demo")
    assert not Judgment.objects.exists() and not ExternalRater.objects.exists()
    return str(error.value)


def test_bad_pulls_name_what_is_wrong_and_write_nothing(live_label_studio):
    live = live_label_studio
    make_world(n_comparisons=2)
    message = _refused("--url", "http://127.0.0.1:1", "--token", live.lead_token, "--project", "1")
    assert "http://127.0.0.1:1 is unreachable" in message
    message = _refused("--url", live.url, "--token", "not-the-token-123456", "--project", "1")
    assert "refused the token" in message and "not-the-token" not in message
    message = _refused("--url", live.url, "--token", live.lead_token, "--project", "999999")
    assert f"{live.url} has no project 999999" in message
    lead = LabelStudio(base_url=live.url, api_key=live.lead_token)
    plain = lead.projects.create(title="Not pairwise", label_config=(
        '<View><Text name="text" value="$text"/><Choices name="c" toName="text">'
        '<Choice value="x"/></Choices></View>'))
    message = _refused("--url", live.url, "--token", live.lead_token, "--project", str(plain.id))
    assert f"project {plain.id}" in message and "no Pairwise control" in message
