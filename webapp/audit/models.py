import hashlib

from django.conf import settings
from django.db import models

from prefkit.hashing import canonical_hash
from webapp.core.models import AppendOnlyModel

GENESIS_HASH = "0" * 64


class AuditEvent(AppendOnlyModel):
    """One state change of consequence. Append-only and hash-chained by `seq`."""

    change_refused = "audit events are append-only"

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The actor's username at the time, so the chain still verifies if the user row changes.
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def body(self) -> dict:
        """What the event says, without its place in the chain."""
        return {
            "at": self.at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "project_id": self.project_id,
            "request_id": self.request_id,
            "ip": self.ip,
            "payload": self.payload,
        }

    def content(self) -> dict:
        return {"seq": self.seq, **self.body(), "prev_hash": self.prev_hash}

    def body_digest(self) -> str:
        return body_digest(self.body())

    def compute_hash(self) -> str:
        return chain_hash(self.seq, self.prev_hash, self.body_digest())


def body_digest(body: dict) -> str:
    """SHA-256 of an event's body as canonical JSON (prefkit.hashing: sorted keys, no spaces, UTF-8)."""
    return canonical_hash(body)


def chain_hash(seq: int, prev_hash: str, digest: str) -> str:
    """An event's hash: its place in the chain and its body's digest. PostgreSQL computes the same
    in audit_append() (audit/migrations/0002_append_function.py), so that an append is one
    statement under the chain lock; keep the two in step."""
    return hashlib.sha256(f"{seq}:{prev_hash}:{digest}".encode()).hexdigest()
