"""Hand-written SQL of the audit app: appending an event, which every judgment does (why:
webapp/core/sql.py). Column lists come from the AuditEvent model."""
from webapp.audit.models import GENESIS_HASH, AuditEvent, chain_hash
from webapp.core import sql

_CHAINED = ("seq", "prev_hash", "hash")
# The event's own fields, in model order: also the order of audit_append()'s arguments after the
# lock key and the digest (audit/migrations/0002_append_function.py).
_BODY_PARAMS = sql.param_readers(sql.insert_fields(AuditEvent, computed=_CHAINED))
_ALL_FIELDS = sql.insert_fields(AuditEvent)
_ALL_PARAMS = sql.param_readers(_ALL_FIELDS)

_LAST_EVENT = "SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1"
_INSERT_EVENT = f"""
    INSERT INTO audit_auditevent {sql.insert_columns(AuditEvent)}
    VALUES ({", ".join(["%s"] * len(_ALL_FIELDS))}) RETURNING id"""
# PostgreSQL: lock, read the head, chain and insert in one statement.
_APPEND_PG = """
    SELECT event_id, event_seq, event_prev_hash, event_hash FROM audit_append(
        %s::bigint, %s::text, %s::timestamptz, %s::bigint, %s::text, %s::text, %s::text, %s::text, %s::bigint,
        %s::text, %s::text, %s::jsonb)"""


def append_pg(event: AuditEvent, *, lock_key: int, digest: str) -> None:
    """Chain and insert `event` in one statement; set its id, seq, prev_hash and hash."""
    row = sql.one(_APPEND_PG, [lock_key, digest, *sql.insert_params(event, _BODY_PARAMS)])
    event.pk, event.seq, event.prev_hash, event.hash = row


def append_serialized(event: AuditEvent, *, digest: str) -> None:
    """SQLite: the caller's transaction already holds the write lock (IMMEDIATE mode)."""
    last = sql.one(_LAST_EVENT, [])
    event.seq, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    event.hash = chain_hash(event.seq, event.prev_hash, digest)
    event.pk = sql.one(_INSERT_EVENT, sql.insert_params(event, _ALL_PARAMS))[0]
