"""Which judgments an export reads, and the records it hands to `exporters`."""
import pytest

from tests.conftest import acknowledge, judge_canonical
from webapp.comparisons import services as comparison_services
from webapp.comparisons.models import Judgment
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.exports import selectors, services
from webapp.guidelines.services import guideline_publish
from webapp.runs.models import Job


@pytest.fixture
def judged(world):
    """alice and bob judge every comparison; alice corrects her first judgment."""
    acknowledge(world, "alice", "bob")
    for _ in range(5):
        judge_canonical(world.project, world.alice, "a")
        judge_canonical(world.project, world.bob, "b")
    first = Judgment.objects.filter(rater=world.alice).order_by("id").first()
    comparison_services.judgment_submit(assignment_id=first.assignment_id, rater=world.alice, choice="tie",
                                        idempotency_key="correction-1")
    world.corrected = first
    return world


def _records(world, **values):
    filters = selectors.parse_filters(values, project=world.project)
    return list(selectors.export_groups(world.project, filters)())


def test_it_streams_every_live_judgment_by_comparison_with_pseudonyms(judged):
    groups = _records(judged)
    assert [c.comparison_id for c, _ in groups] == sorted(c.comparison_id for c, _ in groups)
    judgments = [j for _, js in groups for j in js]
    assert len(judgments) == 10  # the corrected judgment is replaced by its correction
    assert judged.corrected.pk not in {j.judgment_id for j in judgments}
    pseudonyms = {judged.alice.profile.pseudonym, judged.bob.profile.pseudonym}
    assert {j.rater for j in judgments} == pseudonyms
    assert not {j.rater for j in judgments} & {"alice", "bob"}
    comparison, its = groups[0]
    assert comparison.prompt_messages[-1]["role"] == "user" and comparison.gold == "a"
    assert (comparison.model_a, comparison.model_b, comparison.round) == ("model-a", "model-b", 1)
    one = its[0]
    assert (one.origin, one.guideline_version, one.guideline_sha256) == ("here", 1, judged.guideline.sha256)
    assert one.display_order in ("AB", "BA") and one.submitted_at.endswith("Z") and one.round == 1


def test_filters_narrow_the_selection(judged):
    bob = judged.bob.profile.pseudonym
    without_bob = [j for _, js in _records(judged, exclude_raters=bob) for j in js]
    assert len(without_bob) == 5 and {j.rater for j in without_bob} == {judged.alice.profile.pseudonym}
    assert len(_records(judged, min_judgments=2)) == 5
    assert _records(judged, min_judgments=3) == []
    assert _records(judged, gold="without") == [] and len(_records(judged, gold="with")) == 5
    assert _records(judged, origin="external") == [] and len(_records(judged, origin="here,import")) == 5
    assert _records(judged, until="2000-01-01") == [] and len(_records(judged, since="2000-01-01")) == 5
    assert len(_records(judged, guideline_versions=[1])) == 5 and len(_records(judged, quiz="without")) == 5


def test_current_round_only_leaves_out_judgments_of_earlier_rounds(judged):
    guideline_publish(project=judged.project, body_md="# Rules v2\n\nPrefer the correct answer.", change_note="v2",
                      author=judged.carol)
    comparison_id = _records(judged)[0][0].comparison_id
    comparison_services.comparisons_requeue(project=judged.project, comparison_ids=[comparison_id], actor=judged.carol)
    assert comparison_id not in {c.comparison_id for c, _ in _records(judged, rounds="current")}
    assert comparison_id in {c.comparison_id for c, _ in _records(judged, rounds="all")}


@pytest.mark.parametrize("values, field", [
    ({"format": "dpo"}, "format"),
    ({"format": "raw", "aggregate": "majority"}, "aggregate"),
    ({"format": "trl-standard", "file_format": "csv"}, "file_format"),
    ({"format": "trl-standard", "test_fraction": "a lot"}, "test_fraction"),
    ({"format": "trl-standard", "origin": "mars"}, "origin"),
    ({"format": "trl-standard", "guideline_versions": "7"}, "guideline_versions"),
    ({"format": "trl-standard", "exclude_raters": "R-NOBODY"}, "exclude_raters"),
    ({"format": "trl-standard", "min_judgments": 0}, "min_judgments"),
    ({"format": "trl-standard", "since": "yesterday"}, "since"),
    ({"format": "trl-standard", "since": "2030-01-02", "until": "2030-01-01"}, "until"),
    ({"format": "trl-standard", "colour": "blue"}, "colour"),
    ({"format": "trl-standard", "min_judgments": 3}, "filters"),
    ({}, "format"),
])
def test_bad_requests_name_the_field_and_record_nothing(judged, values, field):
    with pytest.raises(ValidationFailed) as caught:
        services.export_request(project=judged.project, actor=judged.carol, values=values)
    assert caught.value.field == field, caught.value.message
    assert not Job.objects.filter(kind="export").exists()


def test_a_rater_cannot_export(judged):
    with pytest.raises(Forbidden):
        services.export_request(project=judged.project, actor=judged.alice, values={"format": "raw"})


def test_an_output_folder_that_is_not_empty_is_refused(judged, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ValidationFailed) as caught:
        services.export_request(project=judged.project, actor=judged.carol, values={"format": "raw"}, output=tmp_path)
    assert caught.value.field == "output" and (tmp_path / "keep.txt").read_text() == "mine"


def test_judgments_made_elsewhere_export_with_their_origin_and_external_pseudonym(judged):
    import json as json_module

    from webapp.comparisons.judgment_imports import judgments_import_file
    from webapp.comparisons.models import Comparison, ExternalRater

    pair = Comparison.objects.filter(project=judged.project).order_by("pk").first()
    line = {"id": pair.external_id, "rater": "ann-1", "choice": "B", "submitted_at": "2024-03-01T10:00:00Z"}
    judgments_import_file(project=judged.project, data=(json_module.dumps(line) + "\n").encode(),
                          file_name="elsewhere.jsonl", actor=judged.carol)
    external = ExternalRater.objects.get(external_id="ann-1")
    imported = [j for _, js in _records(judged, origin="import") for j in js]
    assert [(j.rater, j.choice, j.origin, j.round, j.display_order, j.guideline_version) for j in imported] == [
        (external.pseudonym, "b", "import", 1, None, None)]
    assert imported[0].submitted_at.startswith("2024-03-01T10:00:00")
    assert len([j for _, js in _records(judged, rounds="current") for j in js]) == 11
    assert [j for _, js in _records(judged, exclude_raters=external.pseudonym) for j in js if j.origin == "import"] == []
    assert len([j for _, js in _records(judged, origin="here") for j in js]) == 10


class _AlwaysReServe:
    """The consistency re-serve draw, made certain."""

    def random(self) -> float:
        return 0.0


@pytest.mark.django_db
def test_judgments_made_on_consistency_re_serves_are_marked_repeat_when_an_export_asks_for_them(monkeypatch):
    """Left out by default; with repeats=any a rater's two judgments of one pair come out, the second marked."""
    from tests.conftest import make_world

    world = make_world(overlap=1, n_comparisons=3, consistency_fraction=0.2, consistency_min_gap=1)
    acknowledge(world, "alice")
    judge_canonical(world.project, world.alice, "a")
    judge_canonical(world.project, world.alice, "a")
    monkeypatch.setattr(comparison_services, "_repeat_draw", _AlwaysReServe())
    re_served = judge_canonical(world.project, world.alice, "a")
    assert re_served.repeat_of_id is not None

    def marks(**values):
        return sorted((c.comparison_id, j.repeat) for c, js in _records(world, **values) for j in js)

    original = re_served.repeat_of.comparison_id
    assert len(marks()) == 2 and (original, False) in marks() and not any(repeat for _, repeat in marks())
    assert marks(repeats="with") == [(original, True)]
    assert marks(repeats="any") == sorted(marks() + [(original, True)])
