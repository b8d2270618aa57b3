import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from webapp.audit.models import AuditEvent
from webapp.audit.services import audit_verify

pytestmark = pytest.mark.django_db


def test_it_chains_every_event_to_the_previous_one(world):
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))
    assert {"project.created", "guideline.published", "comparisons.imported", "user.created"} <= {e.action for e in events}
    assert audit_verify().ok


def test_it_catches_a_row_edited_directly_in_the_database(world, capsys):
    call_command("audit_verify")
    assert "intact" in capsys.readouterr().out
    victim = AuditEvent.objects.filter(action="guideline.published").get()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=f"#{victim.seq}"):
        call_command("audit_verify")


def test_it_refuses_updates_and_deletes_through_the_orm(world):
    event = AuditEvent.objects.first()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()


def test_it_catches_a_truncated_chain_with_a_checkpoint(world, capsys):
    call_command("audit_verify")
    checkpoint = capsys.readouterr().out.split("checkpoint: ")[1].strip()
    call_command("audit_verify", "--checkpoint", checkpoint)
    last_seq = int(checkpoint.split(":")[0])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [last_seq])
    call_command("audit_verify")  # without the checkpoint a cut tail looks like a shorter, intact chain
    with pytest.raises(CommandError, match="truncated"):
        call_command("audit_verify", "--checkpoint", checkpoint)
