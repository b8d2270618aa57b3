"""The audit log page and its streamed exports: filters, permissions, hash columns."""
import csv
import datetime as dt
import hashlib
import io
import json
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.urls import reverse

from tests.conftest import PASSWORD, acknowledge, make_world
from webapp.accounts.services import login_failure_record, user_create
from webapp.audit.models import GENESIS_HASH, AuditEvent
from webapp.lead.audit_selectors import filter_events
from webapp.audit.services import audit_record
from webapp.lead.audit_views import EXPORT_FIELDS, HASHED_FIELDS
from webapp.comparisons.services import assignment_next, judgment_submit
from webapp.core import clock
from webapp.core.errors import ValidationFailed
from webapp.projects.services import membership_add, project_create

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


def login(client, user):
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def page_events(response) -> list[AuditEvent]:
    assert response.status_code == 200, response.content[:500]
    return [row["event"] for row in response.context["rows"]]


def export(client, kind: str, **params) -> tuple:
    response = client.get(reverse(f"audit-export-{kind}"), params)
    assert response.status_code == 200
    assert response.streaming
    return response, b"".join(response.streaming_content).decode()


def csv_rows(body: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(body))
    return reader.fieldnames, list(reader)


def recomputed_hash(row: dict) -> str:
    """What an offline verifier does, from the exported fields alone (README: the audit trail):
    digest = SHA-256 of the body as canonical JSON; hash = SHA-256 of "seq:prev_hash:digest"."""
    body = {field: row[field] for field in HASHED_FIELDS if field not in ("seq", "prev_hash")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return hashlib.sha256(f"{row['seq']}:{row['prev_hash']}:{digest}".encode()).hexdigest()


def from_csv(row: dict) -> dict:
    as_int = {"seq", "actor_id", "project_id", "actor_pseudonymized"}
    row = {k: (int(v) if v else None) if k in as_int else v for k, v in row.items()}
    row["payload"] = json.loads(row["payload"])
    return row


def record_at(moment: dt.datetime, action: str = "test.marker", **fields) -> AuditEvent:
    with clock.frozen_at(moment), transaction.atomic():
        return audit_record(actor=None, action=action, **fields)


@pytest.fixture
def second_project(world):
    """Another project with its own lead (frank) and a rater of its own."""
    frank = user_create(username="frank", role="lead", password=PASSWORD)
    gina = user_create(username="gina", role="rater", password=PASSWORD)
    project = project_create(slug="other", name="Other project", actor=frank)
    membership_add(project=project, user=gina, actor=frank)
    return SimpleNamespace(project=project, lead=frank)


def test_it_lists_events_newest_first_with_every_column(client, world):
    login(client, world.dave)
    response = client.get(reverse("audit-events"))
    events = page_events(response)
    assert [e.seq for e in events] == sorted((e.seq for e in AuditEvent.objects.all()), reverse=True)
    newest = events[0]
    html = response.content.decode()
    for shown in (newest.action, newest.actor_label, newest.hash[:10], f"<td class=\"num\">{newest.seq}</td>"):
        assert shown in html


def test_it_filters_by_actor(client, world):
    login(client, world.dave)
    events = page_events(client.get(reverse("audit-events"), {"actor": "carol"}))
    assert events and {e.actor_label for e in events} == {"carol"}
    assert {"project.created", "guideline.published", "membership.added"} <= {e.action for e in events}


def test_it_filters_by_action(client, world):
    login(client, world.dave)
    response = client.get(reverse("audit-events"), {"action": "membership.added"})
    events = page_events(response)
    assert len(events) == 2 and {e.action for e in events} == {"membership.added"}
    assert '<option value="membership.added" selected>' in response.content.decode()


def test_it_filters_by_object_and_project(client, world, second_project):
    login(client, world.dave)
    events = page_events(client.get(reverse("audit-events"), {"object_type": "projects.project",
                                                              "object_id": str(world.project.pk)}))
    assert [e.action for e in events] == ["project.created"]
    events = page_events(client.get(reverse("audit-events"), {"project": "other"}))
    assert events and {e.project_id for e in events} == {second_project.project.pk}


def test_it_filters_by_time_range_with_dates_and_datetimes(client, world):
    early = record_at(dt.datetime(2024, 1, 10, 9, 0, tzinfo=UTC))
    late_that_day = record_at(dt.datetime(2024, 1, 11, 23, 59, 59, tzinfo=UTC))
    next_day = record_at(dt.datetime(2024, 1, 12, 0, 0, 1, tzinfo=UTC))
    login(client, world.dave)
    in_range = page_events(client.get(reverse("audit-events"), {"from": "2024-01-11", "to": "2024-01-11"}))
    assert [e.pk for e in in_range] == [late_that_day.pk]  # a date in `to` means the whole day
    in_range = page_events(client.get(reverse("audit-events"),
                                      {"from": "2024-01-10T08:00", "to": "2024-01-12T00:00:01"}))
    assert {e.pk for e in in_range} == {early.pk, late_that_day.pk, next_day.pk}
    in_range = page_events(client.get(reverse("audit-events"), {"from": "2024-01-10T09:00:01Z", "to": "2024-01-12"}))
    assert {e.pk for e in in_range} == {late_that_day.pk, next_day.pk}


def test_it_rejects_a_bad_date_with_a_clear_message(client, world):
    with pytest.raises(ValidationFailed, match="not an ISO date") as failure:
        filter_events(AuditEvent.objects.all(), {"from": "last tuesday"})
    assert failure.value.field == "from"
    with pytest.raises(ValidationFailed, match="ends before it starts"):
        filter_events(AuditEvent.objects.all(), {"from": "2024-02-02", "to": "2024-02-01"})
    login(client, world.dave)
    response = client.get(reverse("audit-events"), {"to": "2024-02-30"})
    assert response.status_code == 400
    assert "is not an ISO date" in response.content.decode()
    assert client.get(reverse("audit-export-csv"), {"to": "2024-13-01"}).status_code == 400


def test_it_paginates_a_hundred_per_page(client, world):
    with transaction.atomic():
        for i in range(120):
            audit_record(actor=None, action="test.bulk", payload={"i": i})
    login(client, world.dave)
    first = page_events(client.get(reverse("audit-events"), {"action": "test.bulk"}))
    second = page_events(client.get(reverse("audit-events"), {"action": "test.bulk", "page": 2}))
    assert len(first) == 100 and len(second) == 20
    assert [e.payload["i"] for e in first + second] == list(range(119, -1, -1))


def test_it_escapes_payloads(client, world):
    login_failure_record(username="<script>alert(1)</script>", ip="10.0.0.9")
    login(client, world.dave)
    html = client.get(reverse("audit-events"), {"action": "auth.login_failed"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_it_exports_csv_with_hash_columns_that_verify_offline(client, world):
    login(client, world.dave)
    response, body = export(client, "csv")
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
    header, rows = csv_rows(body)
    assert tuple(header) == EXPORT_FIELDS
    rows = [from_csv(row) for row in rows]
    assert [row["seq"] for row in rows] == list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert rows[0]["prev_hash"] == GENESIS_HASH
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(rows, rows[1:]))
    assert all(recomputed_hash(row) == row["hash"] for row in rows)
    assert not any(row["actor_pseudonymized"] for row in rows)  # admins export real identities


def test_it_exports_csv_with_the_page_filters(client, world):
    login(client, world.dave)
    _, body = export(client, "csv", actor="carol", action="membership.added")
    _, rows = csv_rows(body)
    expected = AuditEvent.objects.filter(actor_label="carol", action="membership.added").order_by("seq")
    assert [int(row["seq"]) for row in rows] == [e.seq for e in expected] and len(rows) == 2
    assert {row["hash"] for row in rows} == {e.hash for e in expected}


def test_it_exports_jsonl_with_the_page_filters_and_hash_columns(client, world):
    marker = record_at(dt.datetime(2024, 3, 1, 12, 0, tzinfo=UTC), payload={"note": "ünïcode ✓"})
    record_at(dt.datetime(2024, 3, 3, 12, 0, tzinfo=UTC))
    login(client, world.dave)
    response, body = export(client, "jsonl", action="test.marker", to="2024-03-01")
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["Content-Disposition"].startswith("attachment;") and ".jsonl" in response["Content-Disposition"]
    rows = [json.loads(line) for line in body.splitlines()]
    assert len(rows) == 1
    (row,) = rows
    assert tuple(row) == EXPORT_FIELDS
    assert (row["seq"], row["hash"], row["prev_hash"]) == (marker.seq, marker.hash, marker.prev_hash)
    assert row["payload"] == {"note": "ünïcode ✓"}
    assert recomputed_hash(row) == row["hash"]


def test_it_shows_leads_only_their_projects_events(client, world, second_project):
    login(client, world.carol)
    carols = page_events(client.get(reverse("audit-events")))
    assert carols and {e.project_id for e in carols} == {world.project.pk}
    _, body = export(client, "csv")
    assert {int(row["project_id"]) for row in csv_rows(body)[1]} == {world.project.pk}
    assert page_events(client.get(reverse("audit-events"), {"project": "other"})) == []

    client.logout()
    login(client, second_project.lead)
    franks = page_events(client.get(reverse("audit-events")))
    assert franks and {e.project_id for e in franks} == {second_project.project.pk}
    _, body = export(client, "jsonl")
    assert {json.loads(line)["project_id"] for line in body.splitlines()} == {second_project.project.pk}


def test_it_forbids_raters_and_sends_anonymous_visitors_to_log_in(client, world):
    for url in (reverse("audit-events"), reverse("audit-export-csv"), reverse("audit-export-jsonl")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for name in ("alice", "eve"):
        login(client, getattr(world, name))
        for url in (reverse("audit-events"), reverse("audit-export-csv"), reverse("audit-export-jsonl")):
            assert client.get(url).status_code == 403
        client.logout()


def test_it_shows_admins_where_the_chain_breaks(client, world):
    login(client, world.dave)
    assert "Chain intact" in client.get(reverse("audit-events")).content.decode()
    victim = AuditEvent.objects.get(action="guideline.published")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET payload = %s WHERE id = %s", ['{"number": 99}', victim.pk])
    html = client.get(reverse("audit-events")).content.decode()
    assert f"Chain broken at <strong>#{victim.seq}</strong>" in html


def test_it_shows_leads_no_chain_indicator(client, world):
    login(client, world.carol)
    html = client.get(reverse("audit-events")).content.decode()
    assert 'id="chain-status"' not in html


def test_it_links_judgment_events_to_their_provenance(client):
    world = make_world(n_comparisons=1)
    with transaction.atomic():
        audit_record(actor=None, action="judgment.submitted", object_type="comparisons.judgment", object_id="42",
                     project_id=world.project.pk)
    login(client, world.dave)
    html = client.get(reverse("audit-events"), {"action": "judgment.submitted"}).content.decode()
    assert f'href="{reverse("judgment-provenance", args=[42])}"' in html


def alice_judges(world):
    acknowledge(world, "alice")
    assignment = assignment_next(project=world.project, rater=world.alice)
    judgment, _ = judgment_submit(assignment_id=assignment.pk, rater=world.alice, choice="left", idempotency_key="k")
    return judgment


def test_it_shows_leads_raters_by_pseudonym_only(client, world):
    judgment = alice_judges(world)
    pseudonym = world.alice.profile.pseudonym
    login(client, world.carol)
    response = client.get(reverse("audit-events"), {"action": "judgment.submitted"})
    assert [e.object_id for e in page_events(response)] == [str(judgment.pk)]
    html = response.content.decode()
    assert pseudonym in html and "alice" not in html
    # Looking a rater up by username finds nothing; by pseudonym it works.
    assert page_events(client.get(reverse("audit-events"), {"actor": "alice"})) == []
    by_pseudonym = page_events(client.get(reverse("audit-events"), {"actor": pseudonym}))
    assert by_pseudonym and {e.actor_id for e in by_pseudonym} == {world.alice.pk}
    assert page_events(client.get(reverse("audit-events"), {"actor": "carol"}))  # leads stay named


def test_it_exports_raters_by_pseudonym_to_leads_and_flags_those_rows(client, world):
    alice_judges(world)
    login(client, world.carol)
    _, body = export(client, "csv")
    rows = [from_csv(row) for row in csv_rows(body)[1]]
    alices = [row for row in rows if row["actor_pseudonymized"]]
    assert {row["action"] for row in alices} == {"guideline.acknowledged", "judgment.submitted"}
    assert all(row["actor_label"] == world.alice.profile.pseudonym and row["actor_id"] is None for row in alices)
    assert "alice" not in {row["actor_label"] for row in rows}
    others = [row for row in rows if not row["actor_pseudonymized"]]
    assert others and all(recomputed_hash(row) == row["hash"] for row in others)
    _, body = export(client, "jsonl", actor="alice")
    assert body == ""


def test_it_lets_admins_find_a_rater_by_username_or_pseudonym(client, world):
    alice_judges(world)
    login(client, world.dave)
    by_name = page_events(client.get(reverse("audit-events"), {"actor": "alice"}))
    by_pseudonym = page_events(client.get(reverse("audit-events"), {"actor": world.alice.profile.pseudonym}))
    assert by_name and [e.pk for e in by_name] == [e.pk for e in by_pseudonym]
