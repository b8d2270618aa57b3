"""Writing and verifying the hash-chained audit trail."""
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from webapp.audit import sql as audit_sql
from webapp.audit.models import GENESIS_HASH, AuditEvent
from webapp.core import clock, context

# Arbitrary constant key for PostgreSQL's advisory lock that serializes chain appends.
_CHAIN_LOCK_KEY = 0x5EED_A0D17


def audit_record(*, actor, action: str, obj=None, object_type: str = "", object_id: str = "",
                 project_id: int | None = None, payload: dict | None = None) -> AuditEvent | None:
    """Append one event to the chain. Call it inside the transaction of the change it records,
    and as late as possible: the chain lock is held until that transaction commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    if settings.WB_AUDIT_DISABLED_FOR_BENCHMARK:
        return None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    ctx = context.current()
    actor = actor if actor is not None and getattr(actor, "pk", None) else None
    event = AuditEvent(
        at=clock.now(), actor=actor, actor_label=actor.get_username() if actor else "",
        action=action, object_type=object_type, object_id=object_id, project_id=project_id,
        request_id=ctx.request_id, ip=ctx.ip, payload=payload or {},
    )
    # The body is hashed before the chain is locked; only its place in the chain is decided under the lock.
    digest = event.body_digest()
    if connection.vendor == "postgresql":
        audit_sql.append_pg(event, lock_key=_CHAIN_LOCK_KEY, digest=digest)
    else:
        audit_sql.append_serialized(event, digest=digest)
    event._state.adding = False
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    problem: str = ""
    head_hash: str = GENESIS_HASH  # hash of the last event checked: record it elsewhere as a checkpoint

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def audit_verify(batch_size: int = 2000, *, checkpoint: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain in order; report the first event whose hash or link does not hold.

    A chain only proves itself from the inside: someone who can write the database could cut off
    its tail or rewrite it whole. `checkpoint` (seq, hash), recorded outside the database from an
    earlier run, catches that: the event must still be there with the same hash.
    """
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainReport(checked, event.seq, f"sequence gap: expected #{expected_seq}, found #{event.seq}")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "prev_hash does not match the previous event's hash")
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event.seq, "content does not match its stored hash (edited?)")
        if checkpoint and event.seq == checkpoint[0] and event.hash != checkpoint[1]:
            return ChainReport(checked, event.seq, "hash differs from the recorded checkpoint (chain rewritten?)")
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    if checkpoint and checked < checkpoint[0]:
        return ChainReport(checked, checkpoint[0], f"the checkpoint event #{checkpoint[0]} is missing (chain truncated?)")
    return ChainReport(checked, head_hash=expected_prev)
