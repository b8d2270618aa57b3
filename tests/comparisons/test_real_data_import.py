"""Public pair files as published: every invalid line reported, --skip-invalid with a rejects report,
empty assistant turns kept and shown as empty. Fixtures are real HH-RLHF lines (fixtures/LICENSES.md)."""
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.conftest import PASSWORD, comparisons_jsonl
from prefkit.formats import ImportFormatError
from webapp.audit.models import AuditEvent
from webapp.comparisons.imports import EMPTY_TURN_HTML, import_file
from webapp.comparisons.models import Comparison, ImportBatch

pytestmark = pytest.mark.django_db
EDGE_CASES = Path(__file__).resolve().parents[2] / "fixtures" / "hh_rlhf_real_edge_cases.jsonl"
DIFFERING_HISTORIES = [4, 6]  # the file's lines whose chosen and rejected histories differ
HISTORY_REASON = "'chosen' and 'rejected' must share every turn but the final Assistant turn; their histories differ"


def test_it_refuses_the_real_file_listing_every_invalid_line_and_imports_nothing(world):
    before = Comparison.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command("import_comparisons", str(EDGE_CASES), "--project", "demo")
    message = str(caught.value)
    assert message.startswith("hh_rlhf_real_edge_cases.jsonl: 2 invalid lines:")
    assert f"line 4: field 'rejected': {HISTORY_REASON}" in message
    assert f"line 6: field 'rejected': {HISTORY_REASON}" in message
    assert "nothing was imported; --skip-invalid imports the valid lines" in message
    assert Comparison.objects.count() == before
    assert not ImportBatch.objects.filter(file_name=EDGE_CASES.name).exists()


def test_it_imports_the_valid_real_lines_and_keeps_the_rejects_report(world):
    out = io.StringIO()
    call_command("import_comparisons", str(EDGE_CASES), "--project", "demo", "--skip-invalid", stdout=out)
    batch = ImportBatch.objects.get(file_name=EDGE_CASES.name)
    assert (batch.status, batch.read_count, batch.created_count, batch.existing_count, batch.rejected_count) == \
        ("done", 6, 4, 0, 2)
    assert batch.empty_turn_count == 2  # an empty turn in the history (line 2) and an empty final reply (line 5)
    assert [(r["line"], r["field"]) for r in batch.rejects] == [(line, "rejected") for line in DIFFERING_HISTORIES]
    assert [r["reason"] for r in batch.rejects] == [
        f"{HISTORY_REASON} from turn 5 (4 and 5 turns)", f"{HISTORY_REASON} from turn 2 (3 and 2 turns)"]
    assert "6 read, 4 new comparisons, 0 already present, 0 repeated in the file, 2 rejected, 2 with an empty turn" \
        in out.getvalue()
    assert f"rejected line 4: field 'rejected': {HISTORY_REASON}" in out.getvalue()
    audit = AuditEvent.objects.get(action="comparisons.imported", object_id=str(batch.pk))
    assert (audit.payload["rejected"], audit.payload["created"], audit.payload["skip_invalid"]) == (2, 4, True)


def test_it_shows_an_empty_assistant_turn_as_visibly_empty(world):
    batch = import_file(project=world.project, path=EDGE_CASES, file_name=EDGE_CASES.name, actor=world.carol,
                        skip_invalid=True)
    comparisons = Comparison.objects.filter(batch=batch).select_related("prompt", "response_a", "response_b")
    history = [c for c in comparisons if any(not m["content"] for m in c.prompt.messages)]
    assert len(history) == 1
    turns = history[0].prompt.messages
    empty_index = next(i for i, m in enumerate(turns) if not m["content"])
    assert turns[empty_index]["role"] == "assistant"
    assert history[0].prompt.messages_html[empty_index]["html"] == EMPTY_TURN_HTML
    replies = [r for c in comparisons for r in (c.response_a, c.response_b) if not r.text]
    assert len(replies) == 1 and replies[0].html == EMPTY_TURN_HTML


def test_it_imports_nothing_more_when_the_same_real_file_comes_again(world):
    import_file(project=world.project, path=EDGE_CASES, file_name=EDGE_CASES.name, actor=world.carol, skip_invalid=True)
    again = import_file(project=world.project, path=EDGE_CASES, file_name=EDGE_CASES.name, actor=world.carol,
                        skip_invalid=True)
    assert (again.created_count, again.existing_count, again.rejected_count) == (0, 4, 2)


def test_it_caps_the_listed_errors_and_gives_the_total(world):
    bad = b"".join(json.dumps({"prompt": "hi", "response_a": i, "response_b": "x"}).encode() + b"\n" for i in range(60))
    with pytest.raises(ImportFormatError) as caught:
        import_file(project=world.project, data=comparisons_jsonl(2, start=900) + bad, file_name="many.jsonl",
                    actor=world.carol)
    error = caught.value
    assert error.problem_count == 60 and (error.line, error.field) == (3, "response_a")
    message = str(error)
    assert message.startswith("many.jsonl: 60 invalid lines:")
    assert "line 52: field 'response_a'" in message and "line 53:" not in message
    assert message.endswith("… and 10 more")
    assert not Comparison.objects.filter(external_id="pair-900").exists()


def test_it_shows_the_rejects_on_the_batch_page_and_in_the_api(world, tokens):
    batch = import_file(project=world.project, path=EDGE_CASES, file_name=EDGE_CASES.name, actor=world.carol,
                        skip_invalid=True)
    browser = Client()
    browser.login(username="carol", password=PASSWORD)
    page = browser.get(f"/provenance/imports/{batch.pk}/").content.decode()
    assert "Rejected lines" in page and HISTORY_REASON.replace("'", "&#x27;") in page
    assert "with an empty assistant turn (kept)" in page
    lead_page = browser.get("/lead/demo/").content.decode()
    assert f'/provenance/imports/{batch.pk}/#rejects' in lead_page
    api = Client().get(f"/api/v1/imports/{batch.pk}", HTTP_AUTHORIZATION=f"Bearer {tokens['carol']}").json()
    assert (api["read"], api["created"], api["rejected"], api["empty_turns"]) == (6, 4, 2, 2)
    assert [r["line"] for r in api["rejects"]] == DIFFERING_HISTORIES
    rater = Client()
    rater.login(username="alice", password=PASSWORD)
    assert rater.get(f"/provenance/imports/{batch.pk}/").status_code == 404


def test_it_skips_invalid_lines_of_an_upload_through_the_worker(celery_worker, world, tokens):
    client = Client()
    response = client.post(f"/api/v1/projects/demo/imports?file_name={EDGE_CASES.name}&skip_invalid=true",
                           data=EDGE_CASES.read_bytes(), content_type="application/octet-stream",
                           HTTP_AUTHORIZATION=f"Bearer {tokens['carol']}")
    assert response.status_code == 202 and response.json()["skip_invalid"] is True
    from tests.api.test_api import _wait_for_import

    status = _wait_for_import(client, response.json()["url"], tokens["carol"])
    assert (status["status"], status["created"], status["rejected"]) == ("done", 4, 2)


def test_it_reports_every_invalid_line_of_a_failed_upload(celery_worker, world, tokens):
    client = Client()
    response = client.post(f"/api/v1/projects/demo/imports?file_name={EDGE_CASES.name}",
                           data=EDGE_CASES.read_bytes(), content_type="application/octet-stream",
                           HTTP_AUTHORIZATION=f"Bearer {tokens['carol']}")
    from tests.api.test_api import _wait_for_import

    status = _wait_for_import(client, response.json()["url"], tokens["carol"])
    assert (status["status"], status["created"], status["rejected"]) == ("failed", 0, 2)
    assert "line 4" in status["error"] and "line 6" in status["error"]
    assert [r["line"] for r in status["rejects"]] == DIFFERING_HISTORIES
