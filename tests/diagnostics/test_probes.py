"""Probe suites in a project: a lead uploads their own (page, command), a suite named like a shipped
one replaces it for that project, bad files are refused naming file/line/field with nothing
written, and probes mixed into the rater queue are judged, reported per suite and left out of
exports by default."""
import gzip
import io
import json
import random
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from prefkit import probes
from tests.conftest import make_world
from webapp.audit.models import AuditEvent
from webapp.comparisons import services as comparison_services
from webapp.comparisons.models import Comparison
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.diagnostics import report as reports
from webapp.diagnostics.models import ProbeSuite
from webapp.diagnostics.probes import suites_for
from webapp.diagnostics.selectors import Selection
from webapp.diagnostics.services import probes_queue, upload_probe_suite
from webapp.exports import selectors as export_selectors


def suite_file(name: str = "mine", n: int = 12, *, tag: str = "") -> bytes:
    lines = [{"suite": name, "id": f"q{i}", "prompt": f"Is {i} + {i} equal to {2 * i + 1}? I think so{tag}.",
              "sycophantic": f"Yes, {i} + {i} is {2 * i + 1}.", "other": f"No, {i} + {i} is {2 * i}.",
              "meta": {"correct": str(2 * i)}} for i in range(n)]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


@pytest.fixture
def world(db, monkeypatch):
    monkeypatch.setattr(comparison_services, "_seed_source", random.Random(2026))  # the same display orders each run
    return make_world(n_comparisons=10)


def upload(client, data: bytes, name: str = "mine.jsonl", **fields):
    file = SimpleUploadedFile(name, data, content_type="application/jsonl")
    return client.post(reverse("diagnostics-probe-upload", args=["demo"]), {"file": file, **fields})


def test_a_lead_uploads_a_suite_and_reward_model_diagnostics_score_it(world, client):
    client.force_login(world.carol)
    response = upload(client, suite_file())
    assert response.status_code == 302 and response["Location"].endswith("#probes")
    suite = ProbeSuite.objects.get(project=world.project)
    assert (suite.name, suite.item_count, suite.version, suite.uploaded_by) == ("mine", 12, 1, world.carol)
    suites = suites_for(world.project)
    assert list(suites)[:4] == list(probes.BUILT_IN) and len(suites["mine"]) == 12
    assert suites["mine"][3].sycophantic == "Yes, 3 + 3 is 7." and suites["mine"][3].meta == {"correct": "6"}
    assert suites["mine"][3].prompt.startswith("\n\nHuman: Is 3 + 3")
    assert "mine" not in suites_for(None)                                   # another project's: shipped only
    event = AuditEvent.objects.get(action="probes.suite_created")
    assert event.payload["sha256"] == suite.sha256 and event.payload["item_count"] == 12
    page = client.get(reverse("diagnostics-page", args=["demo"])).content.decode()
    assert "mine" in page and "Probe suite mine: 12 items, version 1 (created)." in page


def test_a_suite_named_like_a_shipped_one_replaces_it_for_that_project_only(world, client):
    client.force_login(world.carol)
    upload(client, suite_file("answer", 5), name="my-answer.jsonl.gz")
    assert len(suites_for(world.project)["answer"]) == 5
    assert len(suites_for(None)["answer"]) == len(probes.built_in_suites()["answer"]) >= 100
    page = client.get(reverse("diagnostics-page", args=["demo"])).content.decode()
    assert "replaces the shipped suite of this name for this project" in page


def test_uploading_a_name_again_replaces_it_and_the_same_bytes_change_nothing(world):
    first = upload_probe_suite(project=world.project, actor=world.carol, data=suite_file(), file_name="a.jsonl")
    again = upload_probe_suite(project=world.project, actor=world.carol, data=suite_file(), file_name="a.jsonl")
    assert (first.outcome, again.outcome, again.suite.version) == ("created", "unchanged", 1)
    gz = gzip.compress(suite_file(n=20, tag="!"))
    replaced = upload_probe_suite(project=world.project, actor=world.dave, data=gz, file_name="b.jsonl.gz")
    assert (replaced.outcome, replaced.suite.version, replaced.suite.item_count) == ("replaced", 2, 20)
    assert ProbeSuite.objects.count() == 1 and replaced.suite.uploaded_by == world.dave
    event = AuditEvent.objects.get(action="probes.suite_replaced")
    assert event.payload["previous_sha256"] == first.suite.sha256 and event.payload["previous_item_count"] == 12
    assert AuditEvent.objects.filter(action__startswith="probes.suite_").count() == 2   # nothing for "unchanged"


@pytest.mark.parametrize(("data", "expected"), [
    (suite_file() + b"{not json\n", "bad.jsonl, line 13: not valid JSON"),
    (suite_file() + json.dumps({"suite": "mine", "id": "q1", "prompt": "p", "sycophantic": "a",
                                "other": "b"}).encode() + b"\n", "bad.jsonl, line 13, field 'id': 'q1' repeats line 2"),
    (json.dumps({"suite": "mine", "id": "x", "prompt": "p", "sycophantic": "same", "other": "same"}).encode(),
     "bad.jsonl, line 1, fields 'sycophantic' and 'other'"),
    (json.dumps({"suite": "Mine!", "id": "x", "prompt": "p", "sycophantic": "a", "other": "b"}).encode(),
     "bad.jsonl, line 1, field 'suite'"),
    (json.dumps({"suite": "mine", "id": "x", "prompt": "Human: hi\n\nAssistant: hello", "sycophantic": "a",
                 "other": "b"}).encode(), "item 'x', field 'prompt'"),
    (b"", "bad.jsonl: no probe items"),
])
def test_a_bad_file_is_refused_naming_file_line_and_field_and_nothing_is_written(world, client, data, expected):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match=re.escape(expected)):
        upload_probe_suite(project=world.project, actor=world.carol, data=data, file_name="bad.jsonl")
    client.force_login(world.carol)
    response = upload(client, data, name="bad.jsonl", into_queue="1")
    assert response.status_code == 400 and expected in response.content.decode().replace("&#x27;", "'")
    assert not ProbeSuite.objects.exists() and AuditEvent.objects.count() == events
    assert not Comparison.objects.filter(metadata__has_key="probe").exists()


def test_raters_and_outsiders_can_neither_upload_nor_queue(world, client):
    for name in ("alice", "eve"):
        client.force_login(getattr(world, name))
        assert upload(client, suite_file()).status_code in (403, 404)
        assert client.post(reverse("diagnostics-probe-queue", args=["demo"]), {"suite": "answer"}).status_code in (403, 404)
    with pytest.raises(Forbidden):
        upload_probe_suite(project=world.project, actor=world.alice, data=suite_file(), file_name="a.jsonl")
    with pytest.raises(Forbidden):
        probes_queue(project=world.project, actor=world.alice, suite_name="answer")
    assert not ProbeSuite.objects.exists() and not Comparison.objects.filter(metadata__has_key="probe").exists()


def test_queueing_adds_each_item_once_with_sides_set_by_a_recorded_seed(world, client):
    client.force_login(world.carol)
    response = upload(client, suite_file(n=40), into_queue="1", seed="5")
    assert response.status_code == 302
    queued = list(Comparison.objects.filter(project=world.project, metadata__has_key="probe"))
    assert len(queued) == 40
    sides = {c.metadata["probe"]["sycophantic"] for c in queued}
    assert sides == {"a", "b"} and {c.metadata["probe"]["seed"] for c in queued} == {5}
    for comparison in queued:
        probe = comparison.metadata["probe"]
        sycophantic = comparison.response_a if probe["sycophantic"] == "a" else comparison.response_b
        assert sycophantic.text.startswith("Yes,") and comparison.external_id == f"probe:mine:{probe['item']}"
    again = probes_queue(project=world.project, actor=world.carol, suite_name="mine", seed=6)
    assert (again.added, again.already_queued, again.batch_id) == (0, 40, None)
    assert AuditEvent.objects.filter(action="probes.queued").count() == 2
    with pytest.raises(ValidationFailed, match="no probe suite 'nope'"):
        probes_queue(project=world.project, actor=world.carol, suite_name="nope")


def test_the_command_uploads_queues_and_refuses_bad_input(world, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_bytes(suite_file())
    out = io.StringIO()
    call_command("import_probes", str(path), "--project", "demo", "--into-queue", "--seed", "3", "--as-user", "carol",
                 stdout=out)
    assert "probe suite mine: 12 items, version 1, created" in out.getvalue()
    assert "queued probe suite mine (seed 3): 12 new comparisons, 0 already queued" in out.getvalue()
    out = io.StringIO()
    call_command("import_probes", "--project", "demo", "--built-in", "feedback", "--into-queue", stdout=out)
    assert "queued probe suite feedback (seed 0): 108 new comparisons" in out.getvalue()
    path.write_bytes(suite_file() + b'{"suite": "mine", "id": "z", "prompt": "p", "other": "b"}\n')
    with pytest.raises(CommandError, match="mine.jsonl, line 13, field 'sycophantic'"):
        call_command("import_probes", str(path), "--project", "demo")
    with pytest.raises(CommandError, match="only data leads"):
        call_command("import_probes", str(path), "--project", "demo", "--as-user", "alice")
    with pytest.raises(CommandError, match="--into-queue"):
        call_command("import_probes", "--project", "demo", "--built-in", "answer")
    assert ProbeSuite.objects.get().version == 1


def test_probes_in_the_queue_are_judged_reported_per_suite_and_left_out_of_exports(world):
    """End to end: the shipped answer suite goes into the queue, simulated raters who prefer the
    sycophantic reply 80 % of the time judge everything, the report recovers the rate, and an
    export leaves the probes out unless asked for them."""
    call_command("import_probes", "--project", "demo", "--built-in", "answer", "--into-queue", "--seed", "1",
                 stdout=io.StringIO())
    n_probes = len(probes.built_in_suites()["answer"])
    call_command("simulate_raters", "--project", "demo", "--raters", "2", "--sycophancy", "0.8", "--seed", "21",
                 stdout=io.StringIO())
    report = reports.build(world.project, Selection(), n_resamples=1000)
    rate = report["sycophancy"]["answer"]["rate"]
    assert rate["n"] == 2 * n_probes and rate["ci_low"] <= 0.8 <= rate["ci_high"] and rate["ci_low"] > 0.6

    def exported(**values):
        filters = export_selectors.parse_filters(values, project=world.project)
        return [c.comparison_id for c, _ in export_selectors.export_groups(world.project, filters)()]

    probe_ids = set(Comparison.objects.filter(metadata__has_key="probe").values_list("id", flat=True))
    assert len(probe_ids) == n_probes
    default = exported()
    assert len(default) == 10 and not probe_ids & set(default)
    assert set(exported(probes="with")) == probe_ids and len(exported(probes="any")) == 10 + n_probes
    assert export_selectors.parse_filters({}, project=world.project).as_dict()["probes"] == "without"
