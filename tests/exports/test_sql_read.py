"""The PostgreSQL read path of exports (webapp/exports/sql.py) gives exactly the records of the ORM
path (selectors.orm_export_groups), record by record, for every filter, on a project that has a bit
of everything: corrections, repeats, probes, quiz and gold items, an earlier round and judgments
made elsewhere."""
import functools
import itertools
import json
import threading

import pytest

from exporters import ExportRequest, write_export
from exporters import export as export_module
from tests.conftest import acknowledge, judge_canonical, make_world
from tests.diagnostics.test_probes import suite_file
from webapp.comparisons import services as comparison_services
from webapp.comparisons.judgment_imports import judgments_import_file
from webapp.comparisons.models import Comparison, ExternalRater, Judgment
from webapp.comparisons.quiz import quiz_set
from webapp.diagnostics.services import upload_probe_suite
from webapp.exports import selectors, sql
from webapp.guidelines.services import guideline_publish
from webapp.runs.services import JobCancelled

pytestmark = pytest.mark.postgres


class _AlwaysDraw:
    """The consistency re-serve draw, made certain."""

    def random(self) -> float:
        return 0.0


def _judge_all(project, rater):
    # Every choice in turn, not drawn by assignment id: ids differ from run to run (sequences are not
    # reset between transactional tests), and a draw once gave no both_bad (so no flags) at all.
    choices = itertools.cycle(["left", "right", "tie", "both_bad"])
    while (assignment := comparison_services.assignment_next(project=project, rater=rater)) is not None:
        choice = next(choices)
        comparison_services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice=choice,
                                            flags=["unsafe"] if choice == "both_bad" else [],
                                            idempotency_key=f"{rater.pk}-{assignment.pk}")


def build_project(monkeypatch):
    world = make_world(overlap=3, n_comparisons=8, consistency_fraction=0.2, consistency_min_gap=1,
                       allow_both_bad=True)
    acknowledge(world, "alice", "bob")
    upload_probe_suite(project=world.project, actor=world.carol, data=suite_file(n=3), file_name="mine.jsonl",
                       into_queue=True)
    _judge_all(world.project, world.alice)
    first = Judgment.objects.filter(rater=world.alice).order_by("pk").first()
    comparison_services.judgment_submit(assignment_id=first.assignment_id, rater=world.alice, choice="tie",
                                        idempotency_key="correction-1")  # supersedes alice's first
    monkeypatch.setattr(comparison_services, "_repeat_draw", _AlwaysDraw())
    for _ in range(4):  # bob gets re-serves of his own judged pairs between new ones
        judge_canonical(world.project, world.bob, "b")
    lines = [{"id": c.external_id, "rater": rater, "choice": choice, "submitted_at": "2024-03-01T10:00:00Z"}
             for c, rater, choice in zip(Comparison.objects.exclude(external_id="").order_by("pk")[:3],
                                         ["ann-1", "ann-1", "ben-2"], ["A", "B", "tie"])]
    judgments_import_file(project=world.project, data="".join(json.dumps(x) + "\n" for x in lines).encode(),
                          file_name="elsewhere.jsonl", actor=world.carol)
    quiz_set(version=world.guideline, threshold=0.5, actor=world.carol,  # last: raters must pass it to be served
             comparison_ids=list(Comparison.objects.order_by("pk").values_list("pk", flat=True)[:2]))
    guideline_publish(project=world.project, body_md="# Rules v2\n\nPrefer the correct answer.", change_note="v2",
                      author=world.carol)
    last = Comparison.objects.filter(judgments__isnull=False).order_by("-pk").first()
    comparison_services.comparisons_requeue(project=world.project, comparison_ids=[last.pk], actor=world.carol)
    return world


def filter_cases(world) -> list[dict]:
    alice = world.alice.profile.pseudonym
    ann = ExternalRater.objects.get(external_id="ann-1").pseudonym
    return [
        {}, {"repeats": "any"}, {"repeats": "with"}, {"probes": "any"}, {"probes": "with"},
        {"origin": "import"}, {"origin": "here,external"}, {"guideline_versions": [1]},
        {"since": "2024-03-01T10:00:00Z", "until": "2024-03-01"}, {"since": "2030-01-01"},
        {"exclude_raters": [alice, ann]}, {"min_judgments": 2}, {"min_judgments": 3},
        {"gold": "with"}, {"gold": "without", "probes": "any"}, {"quiz": "with"}, {"quiz": "without"},
        {"rounds": "current"}, {"rounds": "current", "repeats": "any", "probes": "any", "min_judgments": 2},
    ]


def _sql_groups(world, filters):
    return sql.export_groups(selectors.judgment_rows(world.project, filters), selectors.comparison_rows,
                             min_judgments=filters.min_judgments)


def _assert_same_records(world):
    assert Judgment.objects.filter(supersedes__isnull=False).exists() and Judgment.objects.filter(repeat=True).exists()
    for values in filter_cases(world):
        filters = selectors.parse_filters(values, project=world.project)
        expected = list(selectors.orm_export_groups(world.project, filters)())
        got = list(_sql_groups(world, filters)())
        assert got == expected, values
        assert selectors.selection_counts(world.project, filters) == (sum(len(js) for _, js in got), len(got))
    everything = selectors.parse_filters({"repeats": "any", "probes": "any"}, project=world.project)
    groups = list(_sql_groups(world, everything)())
    judgments = [j for _, js in groups for j in js]
    # The fixture does hold what the cases are about.
    assert {j.origin for j in judgments} == {"here", "import"} and any(j.guideline_version is None for j in judgments)
    assert any(c.is_quiz for c, _ in groups) and any(c.gold == "" for c, _ in groups)
    assert any(c.round == 2 for c, _ in groups) and any(len(js) == 1 for _, js in groups)
    assert all(isinstance(c.prompt_messages, list) and isinstance(j.flags, tuple) for c, js in groups for j in js)
    assert {j.flags for j in judgments} == {(), ("unsafe",)}
    assert {j.repeat for j in judgments} == {True, False}
    only_repeats = list(_sql_groups(world, selectors.parse_filters({"repeats": "with"}, project=world.project))())
    assert only_repeats and all(j.repeat for _, js in only_repeats for j in js)


@pytest.mark.django_db
def test_inside_a_transaction_it_reads_on_the_callers_connection_and_matches_the_orm(monkeypatch):
    _assert_same_records(build_project(monkeypatch))


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_it_reads_on_its_own_connection_and_matches_the_orm(monkeypatch):
    _assert_same_records(build_project(monkeypatch))


@pytest.mark.django_db
@pytest.mark.parametrize("rows_per_chunk", [1, 3], ids=["one row at a time (libpq before 17)", "chunks of 3"])
def test_chunks_that_split_a_comparison_and_single_rows_give_the_same_records(monkeypatch, rows_per_chunk):
    monkeypatch.setattr(sql, "ROWS_PER_CHUNK", rows_per_chunk)
    _assert_same_records(build_project(monkeypatch))


@pytest.mark.django_db(transaction=True)
def test_the_callers_connection_stays_usable_between_groups(monkeypatch):
    """The job writes its progress on the caller's connection while the read is under way."""
    world = build_project(monkeypatch)
    filters = selectors.parse_filters({"repeats": "any", "probes": "any"}, project=world.project)
    seen = 0
    for comparison, judgments in _sql_groups(world, filters)():
        seen += Comparison.objects.filter(pk=comparison.comparison_id).count()
    assert seen == selectors.selection_counts(world.project, filters)[1] > 0


def _reader_threads() -> list:
    return [t for t in threading.enumerate() if t.name == "export-reader"]


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_export_stops_the_reading_thread_and_leaves_no_files(monkeypatch, tmp_path):
    world = build_project(monkeypatch)
    filters = selectors.parse_filters({"repeats": "any", "probes": "any"}, project=world.project)
    monkeypatch.setattr(sql, "JUDGMENTS_PER_BATCH", 1)  # one comparison a batch: the thread is mid-read at the cancel
    monkeypatch.setattr(sql, "BATCHES_AHEAD", 1)
    monkeypatch.setattr(export_module, "PROGRESS_EVERY", 1)
    request = ExportRequest(format="raw", aggregate="none", ties="keep", file_format="parquet",
                            scale=world.project.scale)

    def cancel(done, total, message):
        if done >= 2:
            raise JobCancelled("cancelled while exporting")

    with pytest.raises(JobCancelled):
        write_export(_sql_groups(world, filters), request, tmp_path / "out", progress=cancel)
    assert _reader_threads() == [] and list(tmp_path.iterdir()) == []


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_reading_thread_is_raised_in_the_exporter():
    from django.db import connection
    from psycopg.errors import DivisionByZero

    connect = functools.partial(connection.get_new_connection, connection.get_connection_params())
    reader = sql._Reader(functools.partial(sql._read_groups, query="SELECT 1 / 0", min_judgments=1), connect)
    with pytest.raises(DivisionByZero):
        reader.next_batch()
    reader.stop()
    assert _reader_threads() == []
