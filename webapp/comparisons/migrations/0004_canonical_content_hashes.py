"""Re-key prompts and responses with the one canonical-JSON hash (prefkit.hashing).

Their content hashes used to be SHA-256 of json.dumps with the default ", " / ": " separators,
unlike comparisons' and audit events' hashes. Without this, a file imported before the change and
again after would store its prompts and responses a second time. The formula is written out here
(not imported) so this migration keeps meaning what it meant when it ran.
"""
import hashlib
import json

from django.db import migrations

CHUNK = 2000


def _canonical_hash(value) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rehash(model, fields, key) -> None:
    batch = []
    for row in model.objects.only("id", "content_hash", *fields).iterator(chunk_size=CHUNK):
        new = _canonical_hash(key(row))
        if new != row.content_hash:
            row.content_hash = new
            batch.append(row)
        if len(batch) >= CHUNK:
            model.objects.bulk_update(batch, ["content_hash"])
            batch = []
    model.objects.bulk_update(batch, ["content_hash"])


def forwards(apps, schema_editor):
    _rehash(apps.get_model("comparisons", "Prompt"), ["messages"], lambda p: {"messages": p.messages})
    _rehash(apps.get_model("comparisons", "Response"), ["text", "model_name"],
            lambda r: {"text": r.text, "model": r.model_name})


class Migration(migrations.Migration):
    dependencies = [("comparisons", "0003_rounds")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
