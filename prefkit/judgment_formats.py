"""Parse a file of judgments made elsewhere (JSON Lines or CSV) into plain rows.

Pure Python, like prefkit.formats: the webapp matches each row to an imported comparison and
stores it (webapp.comparisons.judgment_imports). A file is CSV (a header row, then one judgment
per row) or JSON Lines (one object per line), UTF-8, optionally gzip-compressed; JSON Lines is
recognised by a first non-blank character ``{``. Column names are matched without regard to case,
and each field may go by any of the names below (the first one is ours):

================  =========================================================================
field             names and value
================  =========================================================================
comparison key    one of ``external_id`` / ``id`` / ``pair_id`` (the id the comparison had
                  in its import file: LLMFAO's pair id, the workbench ``id``),
                  ``comparison_id`` (the workbench's own comparison number) or
                  ``content_hash`` (the comparison's content hash). Required.
rater             ``rater`` / ``worker`` / ``annotator`` / ``rater_id`` / ``worker_id``: the
                  id the other tool gave the person. Required. Stored only behind a pseudonym.
choice            ``choice`` / ``winner`` / ``label`` / ``preference``: ``A``, ``B``,
                  ``tie`` or ``both_bad`` (canonical sides), or ``left`` / ``right`` with the
                  sides below. Required.
shown sides       ``left`` and ``right``: what was shown on each side, as ``A``/``B``, or a
                  model name of the comparison's responses; or, when the row also has
                  ``model_x``/``model_y`` (the LLMFAO convention), left showed x and right y.
strength          ``strength``: a whole number on the project's scale. Optional.
time on task      ``active_ms`` (milliseconds) or ``lead_time`` / ``seconds`` (seconds).
                  Optional.
timestamp         ``submitted_at`` / ``timestamp`` / ``created_at``: ISO 8601; without a
                  time zone it is read as UTC. Optional: the import time otherwise.
================  =========================================================================

Other columns are kept as they are in the judgment's external provenance.
"""

import codecs
import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field

from prefkit.formats import ImportFormatError, RecordProblem, decompressed

KEY_NAMES = {"external_id": "external_id", "id": "external_id", "pair_id": "external_id",
             "comparison_id": "comparison_id", "content_hash": "content_hash"}
RATER_NAMES = ("rater", "worker", "annotator", "rater_id", "worker_id")
CHOICE_NAMES = ("choice", "winner", "label", "preference")
TIMESTAMP_NAMES = ("submitted_at", "timestamp", "created_at")
SECONDS_NAMES = ("lead_time", "seconds")
CANONICAL = {"a": "a", "b": "b", "tie": "tie", "both_bad": "both_bad", "both bad": "both_bad"}
SIDED = ("left", "right")
MAX_FIELD_CHARS = 200
MAX_ACTIVE_MS = 24 * 3600 * 1000
MAX_ROWS = 2_000_000


@dataclass(frozen=True)
class JudgmentRow:
    line: int
    key_kind: str  # "external_id", "comparison_id" or "content_hash"
    key: str
    rater: str
    choice: str  # "a", "b", "tie", "both_bad", or "left" / "right" (then see left/right)
    left: str  # what was shown on the left, as written ("" when not given)
    right: str
    strength: int | None
    active_ms: int | None
    submitted_at: dt.datetime | None
    extra: dict = field(default_factory=dict)  # the other columns, as written


class _RowError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def read_judgments(stream, *, file_name: str):
    """Yield (format, JudgmentRow | RecordProblem) for each record; format is "csv" or "jsonl".

    Raise ImportFormatError for problems of the whole file (no records, no header, not gzip).
    """
    text = io.TextIOWrapper(decompressed(stream), encoding="utf-8", errors="strict", newline="")
    try:
        first, skipped_lines = text.read(1), 0
        while first and first in "\ufeff \t\r\n":
            skipped_lines += first == "\n"
            first = text.read(1)
        records = _jsonl_records if first == "{" else _csv_records
        file_format = "jsonl" if first == "{" else "csv"
        count = 0
        for line, record in records(_Rewound(first, text), file_name):
            line += skipped_lines  # blank lines before the first record still count
            if isinstance(record, RecordProblem):
                record = RecordProblem(line=line, field=record.field, reason=record.reason)
            count += 1
            if count > MAX_ROWS:
                raise ImportFormatError(f"more than {MAX_ROWS} rows", file_name=file_name)
            if isinstance(record, RecordProblem):
                yield file_format, record
                continue
            try:
                yield file_format, _row(line, record)
            except _RowError as err:
                yield file_format, RecordProblem(line=line, field=err.field, reason=err.message)
    except UnicodeDecodeError as err:
        raise ImportFormatError(f"not UTF-8 text ({err.reason} at byte {err.start})", file_name=file_name) from None
    except (OSError, EOFError) as err:
        raise ImportFormatError(f"cannot read the file ({err})", file_name=file_name) from None
    if not count:
        raise ImportFormatError("no judgments: the file is empty or holds only a header", file_name=file_name)


class _Rewound(io.TextIOBase):
    """A text stream with the first character, read to sniff the format, put back."""

    def __init__(self, first: str, text):
        self.first, self.text = first, text

    def readline(self, size=-1):
        head, self.first = self.first, ""
        return head + self.text.readline()

    def __iter__(self):
        while line := self.readline():
            yield line

    def read(self, size=-1):
        head, self.first = self.first, ""
        return head + self.text.read(size)


def _jsonl_records(text, file_name: str):
    for line, raw in enumerate(text, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError as err:
            yield line, RecordProblem(line=line, field=None, reason=f"invalid JSON: {err}")
            continue
        if not isinstance(value, dict):
            yield line, RecordProblem(line=line, field=None, reason="expected a JSON object")
            continue
        yield line, {str(k).strip().lower(): v for k, v in value.items()}


def _csv_records(text, file_name: str):
    reader = csv.reader(text, strict=True)
    try:
        header = [name.strip().lower().removeprefix(codecs.BOM_UTF8.decode()) for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as err:
        raise ImportFormatError(f"line 1: not CSV ({err})", file_name=file_name) from None
    if len(set(header)) != len(header):
        raise ImportFormatError("line 1: the header repeats a column name", file_name=file_name)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield reader.line_num, RecordProblem(line=reader.line_num, field=None, reason=f"not CSV: {err}")
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield reader.line_num, RecordProblem(line=reader.line_num, field=None,
                                                 reason=f"{len(values)} cells, the header has {len(header)}")
            continue
        yield reader.line_num, dict(zip(header, values))


def _row(line: int, record: dict) -> JudgmentRow:
    used = set()

    def take(names, label, *, required=False):
        for name in names:
            if name in record and _blank(record[name]) is False:
                used.add(name)
                return name, record[name]
            used.add(name)
        if required:
            raise _RowError(f"required: a column named {' or '.join(names)}", label)
        return None, None

    key_name, key = take(tuple(KEY_NAMES), "external_id", required=True)
    rater = _short(take(RATER_NAMES, "rater", required=True)[1], "rater")
    choice_name, raw_choice = take(CHOICE_NAMES, "choice", required=True)
    choice = _choice(raw_choice, choice_name)
    left = _short(take(("left",), "left")[1] or "", "left")
    right = _short(take(("right",), "right")[1] or "", "right")
    if choice in SIDED and not (left or right) and not ("model_x" in record and "model_y" in record):
        raise _RowError(f"'{raw_choice}' needs the 'left' and 'right' columns saying what was shown on each side",
                        "left")
    strength = _whole(take(("strength",), "strength")[1], "strength", 0, 100)
    active_ms = _whole(take(("active_ms",), "active_ms")[1], "active_ms", 0, MAX_ACTIVE_MS)
    seconds_name, seconds = take(SECONDS_NAMES, "lead_time")
    if active_ms is None and seconds is not None:
        active_ms = round(_number(seconds, seconds_name) * 1000)
        if not 0 <= active_ms <= MAX_ACTIVE_MS:
            raise _RowError("out of range", seconds_name)
    stamp_name, stamp = take(TIMESTAMP_NAMES, "submitted_at")
    return JudgmentRow(
        line=line, key_kind=KEY_NAMES[key_name], key=_short(key, key_name), rater=rater, choice=choice,
        left=left, right=right, strength=strength, active_ms=active_ms,
        submitted_at=_timestamp(stamp, stamp_name) if stamp is not None else None,
        extra={name: value for name, value in record.items() if name not in used},
    )


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _short(value, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _RowError("expected a string or a whole number", name)
    value = str(value).strip()
    if len(value) > MAX_FIELD_CHARS:
        raise _RowError(f"{len(value)} characters, the limit is {MAX_FIELD_CHARS}", name)
    if "\x00" in value:
        raise _RowError("contains a NUL character", name)
    return value


def _choice(value, name: str) -> str:
    text = _short(value, name).lower()
    if text in CANONICAL:
        return CANONICAL[text]
    if text in SIDED:
        return text
    raise _RowError(f"expected A, B, tie, both_bad, left or right, got {text[:40]!r}", name)


def _number(value, name: str) -> float:
    if isinstance(value, bool):
        raise _RowError("expected a number", name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _RowError(f"expected a number, got {str(value)[:40]!r}", name) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _RowError("expected a finite number", name)
    return number


def _whole(value, name: str, low: int, high: int) -> int | None:
    if _blank(value):
        return None
    number = _number(value, name)
    if number != int(number) or not low <= number <= high:
        raise _RowError(f"expected a whole number from {low} to {high}, got {str(value)[:40]!r}", name)
    return int(number)


def _timestamp(value, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise _RowError("expected an ISO 8601 date and time", name)
    try:
        stamp = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _RowError(f"expected an ISO 8601 date and time, got {value[:40]!r}", name) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
