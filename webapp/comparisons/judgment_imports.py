"""Importing judgments made elsewhere (import_judgments): rows of a CSV/JSONL file become Judgments
of origin "import", by ExternalRaters, on comparisons imported before.

All or nothing by default (every invalid row is reported); with skip_invalid the valid rows are
imported and the rejected ones kept on the batch. Re-importing a file adds nothing: each row's
content key is stored as the judgment's idempotency key. Two rows of one rater on one comparison
are reported on the batch and only the latest is kept; a later file with a different answer of
the same rater supersedes the earlier judgment (judgments stay append-only).
"""
import datetime as dt
import hashlib
import io
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from prefkit.formats import ImportFormatError, RecordProblem
from prefkit.hashing import canonical_hash
from prefkit.judgment_formats import JudgmentRow, read_judgments
from webapp.accounts.services import pseudonym_for
from webapp.audit.services import audit_record
from webapp.comparisons.models import Comparison, ExternalRater, ImportBatch, Judgment
from webapp.comparisons.uploads import check_size, file_digest
from webapp.core import clock

MAX_STORED_REJECTS = 1000
LOOKUP_CHUNK = 1000
IMPORT_SCOPE = "import"  # external raters of files; a --source narrows it to "import:<source>"


@dataclass(frozen=True)
class _Target:
    """What a row needs to know of its comparison."""

    id: int
    model_a: str
    model_b: str
    metadata: dict


@dataclass
class _Accepted:
    row: JudgmentRow
    comparison_id: int
    choice: str
    choice_displayed: str
    display_order: str
    key: str


def rater_scope(source: str) -> str:
    return f"{IMPORT_SCOPE}:{source}" if source else IMPORT_SCOPE


def judgments_import_contents(batch: ImportBatch, stream, *, source: str = "") -> None:
    """Import the judgments file in `stream` into batch.project, as `batch`; see the module docstring."""
    project = batch.project
    rows, rejects, file_format = [], [], ""
    for file_format, item in read_judgments(stream, file_name=batch.file_name):
        (rejects if isinstance(item, RecordProblem) else rows).append(item)
    read = len(rows) + len(rejects)
    targets = _targets(project, rows)
    accepted = []
    for row in rows:
        try:
            accepted.append(_accept(row, targets))
        except _RowProblem as problem:
            rejects.append(RecordProblem(line=row.line, field=problem.field, reason=problem.reason))
    rejects.sort(key=lambda problem: problem.line)
    if rejects and not batch.skip_invalid:
        raise ImportFormatError.from_problems(rejects[:MAX_STORED_REJECTS], len(rejects), file_name=batch.file_name)
    kept, repeats = _latest_per_rater_and_comparison(accepted)
    created, existing = _store(batch, kept, source=source or batch.file_name, scope=rater_scope(source))
    counts = {"read": read,
              "created": created, "already_present": existing, "rejected": len(rejects),
              "repeated_rater_and_comparison": len(repeats)}
    ImportBatch.objects.filter(pk=batch.pk).update(
        format=file_format, kind=ImportBatch.Kind.JUDGMENTS,
        read_count=counts["read"], created_count=created, existing_count=existing, rejected_count=len(rejects),
        duplicate_count=len(repeats), rejects=[p.as_dict() for p in rejects[:MAX_STORED_REJECTS]],
        notes=[p.as_dict() for p in repeats[:MAX_STORED_REJECTS]], upload=None,
    )
    audit_record(actor=batch.imported_by, action="judgments.imported", obj=batch, project_id=project.pk,
                 payload={"file_name": batch.file_name, "sha256": batch.sha256, "format": file_format,
                          "source": source, "skip_invalid": batch.skip_invalid, **counts})


class _RowProblem(Exception):
    def __init__(self, reason: str, field: str | None):
        super().__init__(reason)
        self.reason, self.field = reason, field


def _targets(project, rows: list[JudgmentRow]) -> dict[tuple[str, str], list[_Target]]:
    """(key kind, key) -> the project's comparisons with that key (more than one: ambiguous)."""
    found: dict[tuple[str, str], list[_Target]] = {}
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        by_kind.setdefault(row.key_kind, set()).add(row.key)
    for kind, keys in by_kind.items():
        column = "id" if kind == "comparison_id" else kind
        wanted = sorted(k for k in keys if k.isdigit()) if kind == "comparison_id" else sorted(keys)
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start:start + LOOKUP_CHUNK]
            for cid, key, model_a, model_b, metadata in (
                Comparison.objects.filter(project=project, **{f"{column}__in": chunk})
                .values_list("id", column, "response_a__model_name", "response_b__model_name", "metadata")
            ):
                found.setdefault((kind, str(key)), []).append(_Target(cid, model_a, model_b, metadata or {}))
    return found


def _accept(row: JudgmentRow, targets) -> _Accepted:
    matches = targets.get((row.key_kind, row.key), [])
    field = "id" if row.key_kind == "external_id" else row.key_kind
    if not matches:
        raise _RowProblem(f"no comparison of this project has {row.key_kind} {row.key!r} (import its pairs first)",
                          field)
    if len(matches) > 1:
        raise _RowProblem(f"{len(matches)} comparisons of this project have {row.key_kind} {row.key!r}; "
                          "use comparison_id or content_hash", field)
    target = matches[0]
    left_is_a = _left_is_a(row, target)
    if row.choice in ("left", "right"):
        if left_is_a is None:
            raise _RowProblem(_UNKNOWN_SIDES, "left")
        choice = "a" if (row.choice == "left") == left_is_a else "b"
        displayed = row.choice
    else:
        choice = row.choice
        displayed = row.choice if row.choice in ("tie", "both_bad") or left_is_a is not None else ""
        if displayed not in ("", "tie", "both_bad"):
            displayed = "left" if (choice == "a") == left_is_a else "right"
    key = canonical_hash({
        "comparison": target.id, "rater": row.rater, "choice": choice, "strength": row.strength,
        "active_ms": row.active_ms, "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
    })
    order = "" if left_is_a is None else ("AB" if left_is_a else "BA")
    return _Accepted(row=row, comparison_id=target.id, choice=choice, choice_displayed=displayed,
                     display_order=order, key=key)


_UNKNOWN_SIDES = ("cannot tell which response was shown on the left: give 'left'/'right' as A/B or as the "
                  "responses' model names, or the LLMFAO columns model_x/model_y")


def _left_is_a(row: JudgmentRow, target: _Target) -> bool | None:
    """Whether response A was shown on the left, from what the row says was shown; None if it does not say."""
    left, right = row.left.lower(), row.right.lower()
    if left in ("a", "b") or right in ("a", "b"):
        return left == "a" if left in ("a", "b") else right == "b"
    names = {target.model_a: True, target.model_b: False} if target.model_a != target.model_b else {}
    for shown, meaning in ((row.left, True), (row.right, False)):
        if shown and shown in names:
            return names[shown] == meaning
    x, y = row.extra.get("model_x"), row.extra.get("model_y")
    ours = (str(target.metadata.get("model_x")), str(target.metadata.get("model_y")))
    if x is not None and y is not None and "model_x" in target.metadata:
        # LLMFAO: 'left' and 'right' name model_x and model_y, and our A is the pair's x.
        if (str(x), str(y)) == ours:
            return True
        if (str(y), str(x)) == ours:
            return False
    return None


def _latest_per_rater_and_comparison(accepted: list[_Accepted]) -> tuple[list[_Accepted], list[RecordProblem]]:
    """Keep the latest row of each (rater, comparison): by timestamp, then by line. Report the others."""
    def when(a: _Accepted):
        return (a.row.submitted_at or dt.datetime.min.replace(tzinfo=dt.UTC), a.row.line)

    latest: dict[tuple[str, int], _Accepted] = {}
    for item in accepted:
        slot = (item.row.rater, item.comparison_id)
        if slot not in latest or when(item) > when(latest[slot]):
            latest[slot] = item
    kept_lines = {item.row.line for item in latest.values()}
    repeats = [
        RecordProblem(line=item.row.line, field="rater", reason=(
            f"rater {item.row.rater!r} has a later row for this comparison (line "
            f"{latest[(item.row.rater, item.comparison_id)].row.line}); only the latest is kept"))
        for item in accepted if item.row.line not in kept_lines
    ]
    return sorted(latest.values(), key=lambda a: a.row.line), repeats


def _store(batch: ImportBatch, kept: list[_Accepted], *, source: str, scope: str) -> tuple[int, int]:
    raters = _external_raters(batch.project, scope, {item.row.rater for item in kept})
    current = _current_judgments(raters, kept)
    now, new, existing = clock.now(), [], 0
    for item in kept:
        rater = raters[item.row.rater]
        earlier = current.get((rater.pk, item.comparison_id))
        if earlier is not None and earlier[1] == item.key:
            existing += 1
            continue
        new.append(Judgment(
            origin=Judgment.Origin.IMPORT, comparison_id=item.comparison_id, external_rater=rater,
            import_batch=batch, source=source[:200], choice=item.choice, choice_displayed=item.choice_displayed,
            display_order=item.display_order, strength=item.row.strength, active_ms=item.row.active_ms,
            submitted_at=item.row.submitted_at or now, idempotency_key=item.key,
            supersedes_id=earlier[0] if earlier else None,
            external={"file": batch.file_name, "line": item.row.line, "key": item.row.key,
                      "rater_id": item.row.rater, "left": item.row.left or None, "right": item.row.right or None,
                      "columns": item.row.extra},
        ))
    Judgment.objects.bulk_create(new, batch_size=LOOKUP_CHUNK)
    if batch.project.overlap_counts_external:
        _count_toward_overlap([j.comparison_id for j in new if j.supersedes_id is None])
    return len(new), existing


def _count_toward_overlap(comparison_ids: list[int]) -> None:
    """The lead chose to let judgments made elsewhere fill overlap slots: each new rater's judgment
    takes one (a comparison at k is no longer served; one over k just stays over)."""
    for comparison_id, count in sorted(Counter(comparison_ids).items()):
        Comparison.objects.filter(pk=comparison_id).update(taken=F("taken") + count, judged=F("judged") + count)


def _external_raters(project, scope: str, ids: set[str]) -> dict[str, ExternalRater]:
    found = {r.external_id: r for r in ExternalRater.objects.filter(project=project, scope=scope, external_id__in=ids)}
    missing = [ExternalRater(project=project, scope=scope, external_id=i,
                             pseudonym=pseudonym_for(f"external:{project.pk}:{scope}:{i}"))
               for i in sorted(ids - set(found))]
    for rater in ExternalRater.objects.bulk_create(missing, batch_size=LOOKUP_CHUNK):
        found[rater.external_id] = rater
    return found


def _current_judgments(raters: dict[str, ExternalRater], kept: list[_Accepted]) -> dict[tuple[int, int], tuple[int, str]]:
    """(external rater id, comparison id) -> (id, idempotency key) of that rater's current judgment."""
    rater_ids = [r.pk for r in raters.values()]
    comparison_ids = sorted({item.comparison_id for item in kept})
    current = {}
    for start in range(0, len(comparison_ids), LOOKUP_CHUNK):
        for jid, rid, cid, key in (
            Judgment.objects.filter(external_rater_id__in=rater_ids,
                                    comparison_id__in=comparison_ids[start:start + LOOKUP_CHUNK],
                                    superseded_by__isnull=True)
            .values_list("id", "external_rater_id", "comparison_id", "idempotency_key")
        ):
            current[(rid, cid)] = (jid, key)
    return current


def judgments_import_file(*, project, file_name: str, actor, data: bytes | None = None, path=None,
                          skip_invalid: bool = False, source: str = "") -> ImportBatch:
    """Import a judgments file synchronously (the management command); raises on a bad file, keeping nothing."""
    size, sha256 = (len(data), hashlib.sha256(data).hexdigest()) if path is None else file_digest(path)
    check_size(size, file_name)
    batch = ImportBatch(
        project=project, file_name=file_name[:255], sha256=sha256, size_bytes=size, imported_by=actor,
        requested_at=clock.now(), skip_invalid=skip_invalid, kind=ImportBatch.Kind.JUDGMENTS,
    )
    with transaction.atomic(), (open(path, "rb") if path is not None else io.BytesIO(data)) as stream:
        batch.save(force_insert=True)
        judgments_import_contents(batch, stream, source=source)
    batch.refresh_from_db()
    return batch


