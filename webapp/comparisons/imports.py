"""Importing comparison files: all-or-nothing, idempotent by content hash."""
import datetime as dt
import hashlib

from django.conf import settings
from django.db import transaction

from webapp.audit.services import audit_record
from webapp.comparisons.models import Comparison, ImportBatch, Prompt, Response
from prefkit.formats import ImportFormatError, ParsedComparison, parse_import
from prefkit.hashing import canonical_hash
from webapp.core import clock
from webapp.core.errors import ValidationFailed
from webapp.core.queue import enqueue, enqueue_on_commit
from prefkit.rendering import render_markdown

IMPORT_RUN_TASK = "webapp.comparisons.tasks.import_run_task"  # defined in tasks.py, which imports this module


def _check_size(data: bytes, file_name: str) -> None:
    if len(data) > settings.WB_MAX_IMPORT_BYTES:
        raise ValidationFailed(f"{file_name}: {len(data)} bytes; the limit is {settings.WB_MAX_IMPORT_BYTES} (WB_MAX_IMPORT_BYTES)")


@transaction.atomic
def import_request(*, project, data: bytes, file_name: str, actor) -> ImportBatch:
    """Store an upload as a pending batch; a worker imports it (see import_run)."""
    _check_size(data, file_name)
    batch = ImportBatch.objects.create(
        project=project, file_name=file_name[:255], sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data),
        imported_by=actor, requested_at=clock.now(), upload=data,
    )
    audit_record(actor=actor, action="import.requested", obj=batch, project_id=project.pk,
                 payload={"file_name": batch.file_name, "sha256": batch.sha256, "size_bytes": len(data)})
    enqueue_on_commit(IMPORT_RUN_TASK, batch.pk)
    return batch


def import_run(*, batch_id: int) -> ImportBatch:
    """Import a pending batch. Idempotent: a batch that is not pending is left as it is."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(
        status=ImportBatch.Status.RUNNING, started_at=clock.now()
    )
    batch = ImportBatch.objects.select_related("project", "imported_by").get(pk=batch_id)
    if not claimed:
        return batch
    try:
        _import_batch_contents(batch, bytes(batch.upload or b""))
    except (ImportFormatError, ValidationFailed) as error:
        _import_fail(batch, str(error))
    return ImportBatch.objects.get(pk=batch_id)


def import_file(*, project, data: bytes, file_name: str, actor) -> ImportBatch:
    """Import synchronously (the management command). Raises on a bad file; nothing is kept then."""
    _check_size(data, file_name)
    batch = ImportBatch(
        project=project, file_name=file_name[:255], sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data),
        imported_by=actor, requested_at=clock.now(), status=ImportBatch.Status.RUNNING,
    )
    with transaction.atomic():
        batch.save(force_insert=True)
        _import_batch_contents(batch, data)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def _import_fail(batch: ImportBatch, error: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.FAILED, error=error, finished_at=clock.now(), upload=None
    )
    audit_record(actor=batch.imported_by, action="import.failed", obj=batch, project_id=batch.project_id,
                 payload={"error": error[:2000]})


@transaction.atomic
def _import_batch_contents(batch: ImportBatch, data: bytes) -> None:
    fmt, parsed = parse_import(data, file_name=batch.file_name, max_text_chars=settings.WB_MAX_TEXT_CHARS)
    project = batch.project
    known = set(
        Comparison.objects.filter(project=project, content_hash__in=[p.content_hash for p in parsed])
        .values_list("content_hash", flat=True)
    )
    new = [p for p in parsed if p.content_hash not in known]
    prompts = _prompts_for(project, new)
    responses = _responses_for(prompts, new)
    Comparison.objects.bulk_create(
        [
            Comparison(
                project=project, prompt=prompts[_prompt_key(p)],
                response_a=responses[(_prompt_key(p), _response_key(p.response_a))],
                response_b=responses[(_prompt_key(p), _response_key(p.response_b))],
                gold=p.gold, metadata=p.metadata, external_id=p.external_id[:200], content_hash=p.content_hash,
                batch=batch,
            )
            for p in new
        ],
        batch_size=500,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.DONE, format=fmt, created_count=len(new), existing_count=len(parsed) - len(new),
        finished_at=clock.now(), upload=None,
    )
    audit_record(actor=batch.imported_by, action="comparisons.imported", obj=batch, project_id=project.pk,
                 payload={"file_name": batch.file_name, "sha256": batch.sha256, "format": fmt,
                          "created": len(new), "already_present": len(parsed) - len(new)})


def _prompt_key(p: ParsedComparison) -> str:
    return canonical_hash({"messages": p.prompt_messages})


def _response_key(r) -> str:
    return canonical_hash({"text": r.text, "model": r.model})


def _prompts_for(project, parsed: list[ParsedComparison]) -> dict[str, Prompt]:
    by_key = {_prompt_key(p): p for p in parsed}
    existing = {pr.content_hash: pr for pr in Prompt.objects.filter(project=project, content_hash__in=list(by_key))}
    missing = [
        Prompt(
            project=project, messages=p.prompt_messages, content_hash=key, source=p.prompt_source[:200],
            metadata=p.prompt_metadata,
            messages_html=[{"role": m["role"], "html": render_markdown(m["content"])} for m in p.prompt_messages],
        )
        for key, p in by_key.items() if key not in existing
    ]
    for prompt in Prompt.objects.bulk_create(missing, batch_size=500):
        existing[prompt.content_hash] = prompt
    return existing


def _responses_for(prompts: dict[str, Prompt], parsed: list[ParsedComparison]) -> dict[tuple[str, str], Response]:
    wanted = {}
    for p in parsed:
        for r in (p.response_a, p.response_b):
            wanted[(_prompt_key(p), _response_key(r))] = r
    prompt_ids = {prompts[pk].pk: pk for pk, _ in wanted}
    found = {
        (prompt_ids[resp.prompt_id], resp.content_hash): resp
        for resp in Response.objects.filter(prompt_id__in=list(prompt_ids))
    }
    missing = [
        Response(prompt=prompts[pk], text=r.text, html=render_markdown(r.text), model_name=r.model[:200],
                 generation=r.generation, content_hash=rk)
        for (pk, rk), r in wanted.items() if (pk, rk) not in found
    ]
    for resp in Response.objects.bulk_create(missing, batch_size=500):
        found[(prompt_ids[resp.prompt_id], resp.content_hash)] = resp
    return found


def imports_sweep(*, running_for_seconds: int, pending_for_seconds: int = 120) -> int:
    """Re-queue batches whose worker vanished. The broker may drop a message when a worker is
    killed, and a killed import rolled back, so starting it again is safe."""
    now = clock.now()
    stale_running = ImportBatch.objects.filter(
        status=ImportBatch.Status.RUNNING, started_at__lt=now - dt.timedelta(seconds=running_for_seconds)
    )
    reset = stale_running.update(status=ImportBatch.Status.PENDING)
    # Re-sending a message that is only queued is harmless: import_run claims with compare-and-set.
    pending = list(
        ImportBatch.objects.filter(
            status=ImportBatch.Status.PENDING, requested_at__lt=now - dt.timedelta(seconds=pending_for_seconds)
        ).values_list("pk", flat=True)
    )
    for batch_id in pending:
        enqueue(IMPORT_RUN_TASK, batch_id)
    return reset + len(pending)
