"""The one canonical-JSON hash: what the workbench means by "the SHA-256 of a JSON value".

Canonical JSON is ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
encoded as UTF-8: sorted keys, no spaces, characters as themselves. Content hashes of imported
pairs, prompts and responses and the body digest of audit events (README, "the audit trail") are
all this function, so anyone can recompute them with the same three lines in any language.
"""
import hashlib
import json

# json.dumps with these arguments builds this same encoder on every call; imports call it millions of times.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value) -> str:
    """Return value as canonical JSON text; values JSON cannot represent raise TypeError."""
    return _CANONICAL.encode(value)


def canonical_hash(value) -> str:
    """Return the sha256 hex digest of value's canonical JSON (sorted keys, no spaces, UTF-8)."""
    return sha256_hex(canonical_json(value))


def sha256_hex(text: str) -> str:
    """Return the sha256 hex digest of text encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_object_json(members: dict[str, str]) -> str:
    """Return canonical_json of an object from its members' canonical JSON texts.

    canonical_object_json({key: canonical_json(value), ...}) == canonical_json({key: value, ...}):
    a large value encoded once can then be hashed alone and inside the objects that hold it
    (an import hashes each prompt and response, and each pair made of them).
    """
    return "{" + ",".join(f"{canonical_json(key)}:{members[key]}" for key in sorted(members)) + "}"
