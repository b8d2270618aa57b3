"""Importing comparison files: streamed, written in chunks, idempotent by content hash.

All or nothing by default (every invalid line is reported); with skip_invalid the valid lines are
imported and the rejected ones (line, field, reason) kept on the batch.
"""
import contextlib
import hashlib
import io
import queue
import threading
from pathlib import Path

from django.conf import settings
from django.db import transaction

from webapp.audit.services import audit_record
from webapp.comparisons import sql as comparison_sql
from webapp.comparisons.judgment_imports import judgments_import_contents
from webapp.comparisons.models import Comparison, ImportBatch, Prompt, Response
from webapp.comparisons.uploads import check_size, file_digest
from prefkit.formats import ImportFormatError, ImportReader, ParsedComparison, RecordProblem
from prefkit.rendering import render_markdown_many
from webapp.core import clock
from webapp.core.errors import ValidationFailed
from webapp.runs.services import JobContext, JobOutcome, job_create

IMPORT_JOB_KIND = "import"
CHUNK = 1000  # comparisons per round of lookups and bulk inserts
MAX_STORED_REJECTS = 1000  # rejected lines listed on a batch; rejected_count has the total
EMPTY_TURN_HTML = '<p class="empty-turn"><em>(empty: nothing was said in this turn)</em></p>'




@transaction.atomic
def import_request(*, project, data: bytes | memoryview, file_name: str, actor, skip_invalid: bool = False,
                   kind: str = ImportBatch.Kind.COMPARISONS, source: str = "") -> ImportBatch:
    """Store an upload as a batch with a queued job; a worker imports it (see import_job_run). `kind`
    says whether the file holds comparisons or judgments made elsewhere (then `source` names where).

    `data` may be a buffer mapped from the uploaded file (webapp.core.uploads), so a large upload
    is not copied onto the heap on its way to the database."""
    check_size(len(data), file_name)
    job = job_create(kind=IMPORT_JOB_KIND, project=project, actor=actor, params={"file_name": file_name[:255]})
    batch = ImportBatch.objects.create(
        project=project, file_name=file_name[:255], sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data),
        imported_by=actor, requested_at=clock.now(), upload=data, skip_invalid=skip_invalid, kind=kind,
        source=source[:200], job=job,
    )
    audit_record(actor=actor, action="import.requested", obj=batch, project_id=project.pk,
                 payload={"file_name": batch.file_name, "sha256": batch.sha256, "size_bytes": len(data),
                          "skip_invalid": skip_invalid, "kind": kind, "source": source, "job": job.pk})
    return batch


def import_job_run(job, ctx: JobContext) -> None:
    """Run an import job (the "import" job kind). The rows and the job's success commit in one
    transaction, so a killed or cancelled attempt leaves nothing and a retry starts clean."""
    batch = ImportBatch.objects.select_related("project", "imported_by").get(job=job)
    try:
        with transaction.atomic():
            if batch.kind == ImportBatch.Kind.JUDGMENTS:
                judgments_import_contents(batch, io.BytesIO(bytes(batch.upload or b"")), source=batch.source)
            else:
                _import_batch_contents(batch, io.BytesIO(bytes(batch.upload or b"")))
            ctx.succeed(JobOutcome(result={"import_id": batch.pk}))
    except (ImportFormatError, ValidationFailed) as error:
        _import_fail(batch, error)
        raise


def import_job_cleanup(job) -> None:
    """A failed or cancelled import will not be tried again: drop the uploaded bytes."""
    ImportBatch.objects.filter(job=job).update(upload=None)


def import_file(*, project, file_name: str, actor, data: bytes | None = None, path: Path | None = None,
                skip_invalid: bool = False) -> ImportBatch:
    """Import synchronously (the management command), from `data` or streamed from `path`.

    All or nothing: a bad file raises ImportFormatError listing every invalid line, and nothing is
    kept. With `skip_invalid` the valid lines are imported and the rejected ones listed on the batch.
    """
    size, sha256 = (len(data), hashlib.sha256(data).hexdigest()) if path is None else file_digest(path)
    check_size(size, file_name)
    batch = ImportBatch(
        project=project, file_name=file_name[:255], sha256=sha256, size_bytes=size, imported_by=actor,
        requested_at=clock.now(), skip_invalid=skip_invalid,
    )
    with transaction.atomic(), (open(path, "rb") if path is not None else io.BytesIO(data)) as stream:
        batch.save(force_insert=True)
        _import_batch_contents(batch, stream)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def _import_fail(batch: ImportBatch, error: Exception) -> None:
    problems = getattr(error, "problems", [])
    ImportBatch.objects.filter(pk=batch.pk).update(
        upload=None, rejected_count=getattr(error, "problem_count", 0), rejects=[p.as_dict() for p in problems],
    )
    audit_record(actor=batch.imported_by, action="import.failed", obj=batch, project_id=batch.project_id,
                 payload={"error": str(error)[:2000]})


@transaction.atomic
def _import_batch_contents(batch: ImportBatch, stream) -> None:
    comparison_sql.check_references_as_rows_arrive()
    reader = ImportReader(stream, file_name=batch.file_name, max_text_chars=settings.WB_MAX_TEXT_CHARS)
    writer = _ComparisonWriter(batch)
    rejects, rejected = [], 0
    with PrerenderedChunks(reader, chunk_size=CHUNK) as chunks:
        for items, rendered in chunks:
            writer.rendered = rendered
            for item in items:
                if isinstance(item, RecordProblem):
                    rejected += 1
                    if len(rejects) < MAX_STORED_REJECTS:
                        rejects.append(item)
                elif not rejected or batch.skip_invalid:  # all or nothing: after a bad line, only look for more
                    writer.add(item)
            # Render ahead only what will likely be written: not after a bad line of an all-or-nothing
            # import, nor while the texts are mostly in the database already (a re-import).
            chunks.speculate = writer.mostly_new and (batch.skip_invalid or not rejected)
    if rejected and not batch.skip_invalid:
        raise ImportFormatError.from_problems(rejects, rejected, file_name=batch.file_name)
    writer.flush()
    counts = {"read": reader.read, "created": writer.created, "already_present": writer.existing,
              "duplicates_in_file": reader.duplicates, "rejected": rejected, "empty_turns": reader.empty_turns}
    ImportBatch.objects.filter(pk=batch.pk).update(
        format=reader.format or "", created_count=writer.created,
        existing_count=writer.existing, read_count=reader.read, rejected_count=rejected,
        duplicate_count=reader.duplicates, empty_turn_count=reader.empty_turns,
        rejects=[problem.as_dict() for problem in rejects], upload=None,
    )
    audit_record(actor=batch.imported_by, action="comparisons.imported", obj=batch, project_id=batch.project_id,
                 payload={"file_name": batch.file_name, "sha256": batch.sha256, "format": reader.format or "",
                          "skip_invalid": batch.skip_invalid, **counts})


class _ComparisonWriter:
    """Insert parsed comparisons CHUNK at a time: one lookup per table, markdown rendered as a batch,
    bulk inserts. Memory stays at one chunk whatever the file's size."""

    def __init__(self, batch: ImportBatch):
        self.batch, self.project = batch, batch.project
        self.pending: list[ParsedComparison] = []
        self.created = self.existing = 0
        self.rendered: dict[str, str] = {}  # HTML made ahead by PrerenderedChunks, by text
        self.mostly_new = True  # most texts of the last chunk were new: rendering them ahead pays

    def add(self, parsed: ParsedComparison) -> None:
        self.pending.append(parsed)
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        chunk, self.pending = self.pending, []
        if not chunk:
            return
        known = {content_hash for content_hash, in comparison_sql.rows_matching(
            Comparison, ("content_hash",), where={"project_id": self.project.pk},
            any_of=("content_hash", [p.content_hash for p in chunk]))}
        new = [p for p in chunk if p.content_hash not in known]
        self.existing += len(chunk) - len(new)
        new_texts = self._insert(new) if new else 0
        self.created += len(new)
        self.mostly_new = new_texts * 2 >= sum(len(p.prompt_messages) + 2 for p in chunk)

    def _insert(self, new: list[ParsedComparison]) -> int:
        """Write the chunk's new comparisons (and their new prompts and responses); return how many
        texts were new."""
        render = _Renderer(self.rendered)
        prompt_ids, created = _prompts_for(self.project, {p.prompt_hash: p for p in new}, render)
        response_ids = _responses_for(prompt_ids, created, new, render)
        _insert_rows(Comparison, [
            {"project_id": self.project.pk, "prompt_id": prompt_ids[p.prompt_hash],
             "response_a_id": response_ids[(p.prompt_hash, p.response_a_hash)],
             "response_b_id": response_ids[(p.prompt_hash, p.response_b_hash)],
             "gold": p.gold, "metadata": p.metadata, "external_id": p.external_id[:200],
             "content_hash": p.content_hash, "batch_id": self.batch.pk}
            for p in new
        ])
        return render.asked


def _insert_rows(model, rows: list[dict]) -> list[int]:
    """Insert rows (attname -> value) and return their ids: COPY on PostgreSQL, bulk_create on SQLite."""
    if comparison_sql.copy_supported():
        return comparison_sql.copy_rows(model, rows)
    return [obj.pk for obj in model.objects.bulk_create([model(**row) for row in rows], batch_size=CHUNK)]


def _render(texts: list[str]) -> list[str]:
    # An empty turn is real data (a model that said nothing): show it as visibly empty, not as nothing.
    return [html if text and not text.isspace() else EMPTY_TURN_HTML for text, html in zip(texts, render_markdown_many(texts))]


class _Renderer:
    """_render, taking the HTML rendered ahead where there is some; counts the texts asked for."""

    def __init__(self, ahead: dict[str, str]):
        self.ahead = ahead
        self.asked = 0

    def __call__(self, texts: list[str]) -> list[str]:
        self.asked += len(texts)
        missing = [text for text in texts if text not in self.ahead]
        made = dict(zip(missing, _render(missing)))
        return [made[text] if text in made else self.ahead[text] for text in texts]


class PrerenderedChunks:
    """Parse the file and render its texts in a thread, a chunk ahead of the database writes.

    The thread touches no database: it runs while the importer waits for PostgreSQL (lookups, COPY),
    so parsing and rendering the next chunk overlap with writing this one (psycopg waits with the
    GIL released). Iterating yields (items, rendered): up to `chunk_size` comparisons with the
    problems read between them, and the HTML of their texts by text. Only texts that will likely
    be written are worth rendering ahead: the importer sets `speculate` to False when the last
    chunk's texts were mostly in the database already (a re-import) or after a bad line in an
    all-or-nothing import, and back to True when it writes mostly new texts again.
    """

    _DONE = object()

    def __init__(self, reader, *, chunk_size: int):
        self.reader, self.chunk_size = reader, chunk_size
        self.speculate = True
        self._queue: queue.Queue = queue.Queue(maxsize=1)  # one chunk ready while one is written
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="import-prerender", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        while self._thread.is_alive():  # unblock a put() waiting for room
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()
        return False

    def __iter__(self):
        while True:
            kind, value = self._queue.get()
            if kind is self._DONE:
                return
            if kind == "error":
                raise value
            yield value

    def _run(self) -> None:
        try:
            items, comparisons = [], 0
            for item in self.reader:
                if self._stop.is_set():
                    return
                items.append(item)
                comparisons += not isinstance(item, RecordProblem)
                if comparisons == self.chunk_size:
                    self._put("chunk", (items, self._render_ahead(items)))
                    items, comparisons = [], 0
            self._put("chunk", (items, self._render_ahead(items)))
            self._put(self._DONE, None)
        except BaseException as error:  # handed to the importer's thread, which raises it
            self._put("error", error)

    def _render_ahead(self, items) -> dict[str, str]:
        if not self.speculate:
            return {}
        texts = []
        for item in items:
            if not isinstance(item, RecordProblem):
                texts.extend(message["content"] for message in item.prompt_messages)
                texts += (item.response_a.text, item.response_b.text)
        return dict(zip(texts, _render(texts)))

    def _put(self, kind, value) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put((kind, value), timeout=0.05)
                return


def _prompts_for(project, by_key: dict[str, ParsedComparison], render=_render) -> tuple[dict[str, int], set[int]]:
    """Prompt id by content hash: the chunk's prompts, found or created; and the ids of those created."""
    ids = dict(comparison_sql.rows_matching(Prompt, ("content_hash", "id"), where={"project_id": project.pk},
                                            any_of=("content_hash", list(by_key))))
    missing = [(key, p) for key, p in by_key.items() if key not in ids]
    html = iter(render([m["content"] for _, p in missing for m in p.prompt_messages]))
    rows = [{"project_id": project.pk, "messages": p.prompt_messages, "content_hash": key,
             "source": p.prompt_source[:200], "metadata": p.prompt_metadata,
             "messages_html": [{"role": m["role"], "html": next(html)} for m in p.prompt_messages]}
            for key, p in missing]
    created = _insert_rows(Prompt, rows)
    ids.update(zip((key for key, _ in missing), created))
    return ids, set(created)


def _responses_for(prompt_ids: dict[str, int], created_prompts: set[int],
                   new: list[ParsedComparison], render=_render) -> dict[tuple[str, str], int]:
    """Response id by (prompt hash, response hash): the chunk's responses, found or created. Prompts
    created in this chunk have no responses yet, so only the others are looked up."""
    wanted = {}
    for p in new:
        wanted[(p.prompt_hash, p.response_a_hash)] = p.response_a
        wanted[(p.prompt_hash, p.response_b_hash)] = p.response_b
    prompt_keys = {prompt_ids[key]: key for key, _ in wanted}
    earlier = [prompt_id for prompt_id in prompt_keys if prompt_id not in created_prompts]
    found = {
        (prompt_keys[prompt_id], content_hash): pk
        for pk, prompt_id, content_hash in
        comparison_sql.rows_matching(Response, ("id", "prompt_id", "content_hash"), where={}, any_of=("prompt_id", earlier))
    }
    missing = [(key, r) for key, r in wanted.items() if key not in found]
    html = render([r.text for _, r in missing])
    rows = [{"prompt_id": prompt_ids[pk], "text": r.text, "html": h, "model_name": r.model[:200],
             "generation": r.generation, "content_hash": rk}
            for ((pk, rk), r), h in zip(missing, html)]
    found.update(zip((key for key, _ in missing), _insert_rows(Response, rows)))
    return found
