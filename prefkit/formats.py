"""Parse a comparison import file into plain dataclasses.

Pure Python: no Django here, so the importer can be tested and reused without a
database. An import file is JSON Lines (one JSON object per line), UTF-8, and
may be gzip-compressed (recognised by its first two bytes, 1f 8b, whatever the
file is called). Blank lines are skipped; line numbers in errors count them.
Files are read as a stream (ImportReader), one line at a time. Every bad line is
reported with its line, field and reason; an importer either fails the whole
file listing them all, or (skip-invalid) imports the rest and keeps the list. All records of a file must be in the same format; the format is
recognised from each record's keys.

Workbench format (``"workbench"``, our own)
-------------------------------------------
Recognised by a ``response_a`` or ``response_b`` key.

===============  ========  ====================================================
key              required  value
===============  ========  ====================================================
``prompt``       yes       a string (one user message), or a non-empty array of
                           ``{"role": "user"|"assistant"|"system",
                           "content": string}`` whose last message is a user
                           turn
``response_a``   yes       a string, or ``{"text": string, "model": string
                           (optional), "generation": object (optional)}``
``response_b``   yes       same as ``response_a``
``gold``         no        ``"a"``, ``"b"``, ``"tie"`` or ``null``: a reference
                           answer, not a rater's judgment
``metadata``     no        an object, stored with the comparison
``id``           no        a string or integer: your id for the pair
``source``       no        a string naming where the prompt comes from
===============  ========  ====================================================

Other keys are an error (extra data goes under ``metadata``), and so are keys
other than those listed inside a response or a message. Texts (message contents
and response texts) must not be empty or whitespace only, and may hold at most
``max_text_chars`` characters (100,000 by default). ``model``, ``source`` and
``id`` hold at most 200 characters. No string anywhere may contain a NUL
character or an unpaired surrogate, because PostgreSQL cannot store them.

HH-RLHF format (``"hh-rlhf"``)
------------------------------
Recognised by a ``chosen`` or ``rejected`` key: Anthropic's transcripts
(``"\\n\\nHuman: …\\n\\nAssistant: …"``). The two must share every turn but the
final Assistant turn, which becomes the two responses. The label is kept as the
gold answer (``"a"`` or ``"b"``). The chosen reply becomes A when the first
byte of sha256(chosen + rejected), over the UTF-8 transcripts, is even, and B
otherwise: the order is stable across re-imports, and A is the chosen reply in
about half the pairs, so position says nothing about the label. Turn texts are stripped of surrounding
whitespace; Human turns must not be empty, but an empty Assistant turn, in the
history or as a final reply, is kept (it is what the model said, and the worker
judged it) and counted. A ``chosen`` and a ``rejected`` whose histories differ
cannot form one comparison: that line is invalid. Extra keys go to the
comparison's metadata; the prompt source is ``"hh-rlhf"``, models are unknown.

LLMFAO format (``"llmfao"``)
----------------------------
Recognised by a ``result_x`` or ``result_y`` key: pairs from
github.com/dustalov/llmfao (``id, prompt, text, type, slug, note, model_x,
result_x, model_y, result_y``). A is x and B is y; the prompt is one user
message, ``text``. An empty result is kept: in LLMFAO an empty answer is what a
model returned (about one pair in eight has one), and the crowd judged it.
LLMFAO names models by numeric id, so model 98 becomes ``"llmfao:98"``; the
pair id becomes the external id, and the prompt id, type, slug and note go to
both the prompt's and the comparison's metadata.

Identity
--------
``content_hash`` is the sha256 hex digest of the UTF-8 canonical JSON
(``sort_keys=True, separators=(",", ":"), ensure_ascii=False``) of
``{"prompt": messages, "response_a": {"text", "model"}, "response_b": {"text",
"model"}}``. Gold, metadata, id and source are not part of it, so the same pair
imported twice has the same hash; swapping A and B gives a different one. A
repeated hash within one file keeps the first record only. The prompt and each
response have their own hash (``prompt_hash``, ``response_a_hash``,
``response_b_hash``), the same kind of digest of ``{"messages": messages}`` and
of ``{"text", "model"}``: the importer keys stored prompts and responses by
them. Each text is encoded once for all three (prefkit.hashing.canonical_object_json).
"""

import codecs
import gzip
import hashlib
import io
import json
import re
import zlib
from dataclasses import dataclass

from prefkit.hashing import canonical_json, canonical_object_json, sha256_hex

FORMAT_WORKBENCH = "workbench"
FORMAT_HH_RLHF = "hh-rlhf"
FORMAT_LLMFAO = "llmfao"

ROLES = ("user", "assistant", "system")
GOLD_VALUES = ("a", "b", "tie")
MAX_LABEL_CHARS = 200  # model names, sources and ids: CharField(max_length=200) in the models
# A small gzip file can expand enormously; refuse before it exhausts memory.
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024

WORKBENCH_KEYS = ("prompt", "response_a", "response_b", "gold", "metadata", "id", "source")
RESPONSE_KEYS = ("text", "model", "generation")
MESSAGE_KEYS = ("role", "content")
LLMFAO_PROMPT_KEYS = ("prompt", "type", "slug", "note")
LLMFAO_TEXT_KEYS = ("id", "text", "result_x", "result_y")

_HH_TURN = re.compile(r"\n\n(Human|Assistant):")  # and "Human:" or "Assistant:" at the very start
_HH_SPEAKERS = ("Human:", "Assistant:")
_HH_ROLES = {"Human": "user", "Assistant": "assistant"}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In a JSON text a NUL or a surrogate can only be written as a \u escape (raw, json or UTF-8
# decoding refuses them). A line without such an escape needs no walk through its values.
_MAYBE_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


@dataclass(frozen=True)
class ParsedResponse:
    text: str
    model: str  # "" when unknown
    generation: dict  # generation metadata (params etc.), {} when none


@dataclass(frozen=True)
class ParsedComparison:
    line: int  # 1-based line number in the (decompressed) file
    prompt_messages: list[dict]  # [{"role", "content"}, ...], the last one a user turn
    prompt_source: str
    prompt_metadata: dict
    response_a: ParsedResponse
    response_b: ParsedResponse
    gold: str  # "a", "b", "tie" or "": a reference answer, not a judgment
    metadata: dict
    external_id: str
    content_hash: str
    prompt_hash: str  # of {"messages": prompt_messages}
    response_a_hash: str  # of {"text", "model"} of response_a
    response_b_hash: str
    has_empty_turn: bool = False  # an assistant turn (history or reply) is empty: real data, kept


@dataclass(frozen=True)
class ParsedImport:
    format: str
    comparisons: list[ParsedComparison]
    duplicates_in_file: int  # records dropped because an earlier line had the same content hash


@dataclass(frozen=True)
class RecordProblem:
    """One invalid line: reported (all-or-nothing) or rejected and listed (--skip-invalid)."""

    line: int
    field: str | None
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        return ": ".join([f"line {self.line}", *([f"field '{self.field}'"] if self.field else []), self.reason])


class ImportFormatError(ValueError):
    """A file that cannot be imported; str() names the file, line and field.

    With several invalid lines, `problems` lists them (capped at MAX_LISTED_PROBLEMS) and
    `problem_count` is the total; line and field are the first problem's.
    """

    def __init__(self, message: str, *, file_name: str, line: int | None = None, field: str | None = None):
        self.message = message
        self.file_name = file_name
        self.line = line
        self.field = field
        self.problems: list[RecordProblem] = []
        self.problem_count = 0
        parts = [file_name]
        if line is not None:
            parts.append(f"line {line}")
        if field:
            parts.append(f"field '{field}'")
        super().__init__(": ".join([*parts, message]))

    @classmethod
    def from_problems(cls, problems: list[RecordProblem], total: int, *, file_name: str,
                      shown: int = 50) -> "ImportFormatError":
        """One error for every invalid line: the first `shown` listed, and the total."""
        first = problems[0]
        if total == 1:
            error = cls(first.reason, file_name=file_name, line=first.line, field=first.field)
        else:
            listed = "\n".join(f"  {problem}" for problem in problems[:shown])
            more = f"\n  … and {total - shown} more" if total > shown else ""
            error = cls(f"{total} invalid lines:\n{listed}{more}", file_name=file_name)
            error.line, error.field = first.line, first.field
        error.problems, error.problem_count = list(problems), total
        return error


class _RecordError(Exception):
    """A problem inside one record; the line loop adds the file name and line."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ImportReader:
    """Stream a comparison import file: iterating yields ParsedComparison for each valid new record
    and RecordProblem for each invalid line, one line in memory at a time.

    `source` is the file's bytes or a binary stream (an open file). Records repeating an earlier
    record's content hash are skipped and counted. Problems of the whole file (not gzip, too
    large, no records) raise ImportFormatError.
    """

    def __init__(self, source, *, file_name: str, max_text_chars: int = 100_000):
        self.file_name, self.limit = file_name, max_text_chars
        self.stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
        self.format: str | None = None
        self.read = 0  # records read: non-blank lines, valid or not
        self.duplicates = 0
        self.empty_turns = 0  # records kept that hold an empty assistant turn
        self._first_line: int | None = None
        self._seen: set[str] = set()

    def __iter__(self):
        for line, raw in _lines(self.stream, self.file_name):
            try:
                record = _load_object(raw)
                if record is None:
                    continue
                parsed = self._parse(record, line)
            except _RecordError as err:
                self.read += 1
                yield RecordProblem(line=line, field=err.field, reason=err.message)
                continue
            self.read += 1
            if parsed.content_hash in self._seen:  # the first line with a hash wins
                self.duplicates += 1
                continue
            self._seen.add(parsed.content_hash)
            self.empty_turns += parsed.has_empty_turn
            yield parsed
        if not self.read:
            raise ImportFormatError("no records: the file is empty or holds only blank lines", file_name=self.file_name)

    def _parse(self, record: dict, line: int) -> ParsedComparison:
        line_format = _detect_format(record)
        if self.format is None:
            self.format, self._first_line = line_format, line
        if line_format != self.format:
            raise _RecordError(
                f"this record is in the {line_format!r} format, but line {self._first_line} is in the "
                f"{self.format!r} format; a file may not mix formats"
            )
        return _PARSERS[self.format](record, line, self.limit)


def parse_import(data: bytes, *, file_name: str, max_text_chars: int = 100_000) -> tuple[str, list[ParsedComparison]]:
    """Return (format_name, comparisons). Raise ImportFormatError listing every bad line."""
    parsed = parse_import_detailed(data, file_name=file_name, max_text_chars=max_text_chars)
    return parsed.format, parsed.comparisons


def parse_import_detailed(data: bytes, *, file_name: str, max_text_chars: int = 100_000) -> ParsedImport:
    """Parse like parse_import, and also count the in-file duplicates that were dropped."""
    reader = ImportReader(data, file_name=file_name, max_text_chars=max_text_chars)
    items = list(reader)
    problems = [item for item in items if isinstance(item, RecordProblem)]
    if problems:
        raise ImportFormatError.from_problems(problems, len(problems), file_name=file_name)
    return ParsedImport(format=reader.format, comparisons=items, duplicates_in_file=reader.duplicates)


# --- Reading lines -------------------------------------------------------------------------------


def _lines(stream, file_name: str):
    """Yield (line number, raw bytes) from a plain or gzip stream, one line at a time."""
    # Lines end at b"\n" only: JSON strings cannot hold a raw newline, and other
    # separators (\x85, \u2028) may legitimately appear inside text.
    total = 0
    try:
        for line, raw in enumerate(decompressed(stream), start=1):
            total += len(raw)
            if total > MAX_DECOMPRESSED_BYTES:
                raise ImportFormatError(f"decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes", file_name=file_name)
            yield line, (raw.removeprefix(codecs.BOM_UTF8) if line == 1 else raw)
    except (OSError, EOFError, zlib.error) as err:
        raise ImportFormatError(f"not a valid gzip file ({err})", file_name=file_name) from None


def decompressed(stream):
    """Return a binary stream of `stream`'s content, gunzipped on the fly when it starts with the gzip magic."""
    head = stream.read(2)
    rest = io.BufferedReader(_Prefixed(head, stream))
    return gzip.GzipFile(fileobj=rest) if head == b"\x1f\x8b" else rest


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff gzip), put back in front."""

    def __init__(self, head: bytes, stream):
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n], self.head = self.head[:n], self.head[n:]
            return n
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _load_object(raw: bytes) -> dict | None:
    """The line's JSON object, or None for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _RecordError(f"invalid UTF-8 at byte {err.start + 1} of the line") from None
    if not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise _RecordError(f"invalid JSON: {err.msg} (column {err.colno})") from None
    except ValueError as err:
        raise _RecordError(f"invalid JSON: {err}") from None
    if not isinstance(value, dict):
        raise _RecordError(f"expected a JSON object, got {_type_name(value)} (JSON Lines: one object per line)")
    if _MAYBE_UNSTORABLE_ESCAPE.search(raw):
        _check_storable(value, "")
    return value


def _reject_constant(name: str):
    # Python's json accepts NaN and Infinity, which are not JSON and which jsonb refuses.
    raise ValueError(f"{name} is not allowed")


def _check_storable(value, path: str) -> None:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            message = "contains a NUL character or an unpaired surrogate, which cannot be stored"
            raise _RecordError(message, path or None)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, path or None)
            _check_storable(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_storable(item, f"{path}[{index}]")


def _detect_format(record: dict) -> str:
    # The most specific keys first: LLMFAO records also have a "prompt" key.
    if "result_x" in record or "result_y" in record:
        return FORMAT_LLMFAO
    if "chosen" in record or "rejected" in record:
        return FORMAT_HH_RLHF
    if "response_a" in record or "response_b" in record:
        return FORMAT_WORKBENCH
    raise _RecordError(
        "unrecognised record: expected the workbench keys (prompt, response_a, response_b), "
        "HH-RLHF's (chosen, rejected) or LLMFAO's (text, model_x, result_x, model_y, result_y)"
    )


# --- Field checks --------------------------------------------------------------------------------


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _show(value) -> str:
    return repr(value[:40]) if isinstance(value, str) else _type_name(value)


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _required(obj: dict, key: str, parent: str = ""):
    if key not in obj:
        raise _RecordError("required field is missing", _join(parent, key))
    return obj[key]


def _reject_unknown_keys(obj: dict, allowed: tuple, parent: str = "") -> None:
    for key in obj:
        if key not in allowed:
            hint = " (put extra data under 'metadata')" if not parent else ""
            raise _RecordError(f"unknown field; expected one of {', '.join(allowed)}{hint}", _join(parent, key))


def _text(value, field: str, limit: int | None, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise _RecordError(f"expected a string, got {_type_name(value)}", field)
    if not allow_empty and (not value or value.isspace()):  # = not value.strip(), without copying the text
        raise _RecordError("must not be empty", field)
    if limit is not None and len(value) > limit:
        raise _RecordError(f"{len(value)} characters, the limit is {limit}", field)
    return value


def _label(obj: dict, key: str, parent: str = "") -> str:
    """Return an optional short string field (model, source, id); absent or null is ""."""
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _RecordError(f"expected a string, got {_type_name(value)}", _join(parent, key))
    if len(value) > MAX_LABEL_CHARS:
        raise _RecordError(f"{len(value)} characters, the limit is {MAX_LABEL_CHARS}", _join(parent, key))
    return value


def _object(obj: dict, key: str, parent: str = "") -> dict:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _RecordError(f"expected an object, got {_type_name(value)}", _join(parent, key))
    return value


def _gold(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value in GOLD_VALUES:
        return value
    raise _RecordError(f"expected 'a', 'b', 'tie' or null, got {_show(value)}", "gold")


def _check_ends_with_user(messages: list[dict], field: str) -> None:
    if messages[-1]["role"] != "user":
        raise _RecordError(f"the last message must be a user turn, got {messages[-1]['role']!r}", field)


def _comparison(line: int, prompt_messages: list[dict], response_a, response_b, **fields) -> ParsedComparison:
    prompt_json = canonical_json(prompt_messages)
    a_json = canonical_json({"text": response_a.text, "model": response_a.model})
    b_json = canonical_json({"text": response_b.text, "model": response_b.model})
    return ParsedComparison(
        line=line,
        prompt_messages=prompt_messages,
        response_a=response_a,
        response_b=response_b,
        content_hash=sha256_hex(canonical_object_json({"prompt": prompt_json, "response_a": a_json, "response_b": b_json})),
        prompt_hash=sha256_hex(canonical_object_json({"messages": prompt_json})),
        response_a_hash=sha256_hex(a_json),
        response_b_hash=sha256_hex(b_json),
        **fields,
    )


# --- Workbench -----------------------------------------------------------------------------------


def _parse_workbench(record: dict, line: int, limit: int) -> ParsedComparison:
    _reject_unknown_keys(record, WORKBENCH_KEYS)
    return _comparison(
        line,
        _workbench_prompt(_required(record, "prompt"), limit),
        _workbench_response(_required(record, "response_a"), "response_a", limit),
        _workbench_response(_required(record, "response_b"), "response_b", limit),
        prompt_source=_label(record, "source"),
        prompt_metadata={},
        gold=_gold(record.get("gold")),
        metadata=_object(record, "metadata"),
        external_id=_label(record, "id"),
    )


def _workbench_prompt(value, limit: int) -> list[dict]:
    if isinstance(value, str):
        return [{"role": "user", "content": _text(value, "prompt", limit)}]
    if not isinstance(value, list):
        raise _RecordError(f"expected a string or an array of messages, got {_type_name(value)}", "prompt")
    if not value:
        raise _RecordError("must hold at least one message", "prompt")
    messages = [_message(item, f"prompt[{index}]", limit) for index, item in enumerate(value)]
    _check_ends_with_user(messages, "prompt")
    return messages


def _message(item, field: str, limit: int) -> dict:
    if not isinstance(item, dict):
        raise _RecordError(f"expected an object with 'role' and 'content', got {_type_name(item)}", field)
    _reject_unknown_keys(item, MESSAGE_KEYS, field)
    role = _required(item, "role", field)
    if role not in ROLES:
        raise _RecordError(f"expected 'user', 'assistant' or 'system', got {_show(role)}", f"{field}.role")
    content = _text(_required(item, "content", field), f"{field}.content", limit)
    return {"role": role, "content": content}


def _workbench_response(value, field: str, limit: int) -> ParsedResponse:
    if isinstance(value, str):
        return ParsedResponse(text=_text(value, field, limit), model="", generation={})
    if not isinstance(value, dict):
        raise _RecordError(f"expected a string or an object with 'text', got {_type_name(value)}", field)
    _reject_unknown_keys(value, RESPONSE_KEYS, field)
    return ParsedResponse(
        text=_text(_required(value, "text", field), f"{field}.text", limit),
        model=_label(value, "model", field),
        generation=_object(value, "generation", field),
    )


# --- HH-RLHF -------------------------------------------------------------------------------------


def _parse_hh(record: dict, line: int, limit: int) -> ParsedComparison:
    # Whole transcripts have no size limit of their own: the limit applies to each turn.
    chosen = _text(_required(record, "chosen"), "chosen", None)
    rejected = _text(_required(record, "rejected"), "rejected", None)
    if chosen == rejected:
        raise _RecordError("'chosen' and 'rejected' are identical", "rejected")
    prompt, chosen_reply, rejected_reply = _hh_split(_hh_turns(chosen, "chosen"), _hh_turns(rejected, "rejected"))
    for index, message in enumerate(prompt):
        # An empty Assistant turn in the history is what the model said (about 0.5 % of the
        # published lines): keep it. An empty Human turn has nothing to answer: refuse it.
        _text(message["content"], f"chosen (turn {index + 1})", limit, allow_empty=message["role"] == "assistant")
    chosen_response = _hh_response(chosen_reply, "chosen (final turn)", limit)
    rejected_response = _hh_response(rejected_reply, "rejected (final turn)", limit)
    chosen_first = _chosen_goes_first(chosen, rejected)
    return _comparison(
        line,
        prompt,
        chosen_response if chosen_first else rejected_response,
        rejected_response if chosen_first else chosen_response,
        prompt_source="hh-rlhf",
        prompt_metadata={},
        gold="a" if chosen_first else "b",
        metadata={key: value for key, value in record.items() if key not in ("chosen", "rejected")},
        external_id="",
        has_empty_turn=not (chosen_reply and rejected_reply and all(m["content"] for m in prompt)),
    )


def _hh_response(text: str, field: str, limit: int) -> ParsedResponse:
    # An empty final turn is a reply the model gave and the worker judged: keep it.
    return ParsedResponse(text=_text(text, field, limit, allow_empty=True), model="", generation={})


def _hh_turns(transcript: str, field: str) -> list[dict]:
    pieces = _HH_TURN.split(transcript)
    if pieces[0].startswith(_HH_SPEAKERS):  # a turn at the very start, without "\n\n" before it
        speaker, _, content = pieces[0].partition(":")
        pieces[:1] = ["", speaker, content]
    if pieces[0].strip() or len(pieces) < 3:
        raise _RecordError("expected a transcript of '\\n\\nHuman: …' and '\\n\\nAssistant: …' turns", field)
    return [
        {"role": _HH_ROLES[speaker], "content": content.strip()}
        for speaker, content in zip(pieces[1::2], pieces[2::2])
    ]


def _hh_split(chosen: list[dict], rejected: list[dict]) -> tuple[list[dict], str, str]:
    """Return (prompt, chosen reply, rejected reply) from the two transcripts' turns."""
    prompt = chosen[:-1]
    if prompt != rejected[:-1]:
        # Published lines do this (e.g. a "Humans:" typo in one transcript): no single prompt exists.
        differ = next((i for i, (c, r) in enumerate(zip(chosen, rejected)) if c != r), min(len(chosen), len(rejected)))
        raise _RecordError(
            "'chosen' and 'rejected' must share every turn but the final Assistant turn; their histories "
            f"differ from turn {differ + 1} ({len(chosen)} and {len(rejected)} turns)", "rejected")
    for field, turns in (("chosen", chosen), ("rejected", rejected)):
        if turns[-1]["role"] != "assistant":
            raise _RecordError("the transcript must end with an Assistant turn", field)
    if not prompt:
        raise _RecordError("no Human turn before the final Assistant turn", "chosen")
    _check_ends_with_user(prompt, "chosen")
    if chosen[-1]["content"] == rejected[-1]["content"]:
        raise _RecordError("the final Assistant turns of 'chosen' and 'rejected' are identical", "rejected")
    return prompt, chosen[-1]["content"], rejected[-1]["content"]


def _chosen_goes_first(chosen: str, rejected: str) -> bool:
    # Deterministic (a re-import gives the same order and hash) yet about half and
    # half, so neither position nor file order gives the label away.
    digest = hashlib.sha256(chosen.encode("utf-8"))
    digest.update(rejected.encode("utf-8"))  # = sha256 of chosen + rejected, without joining them
    return digest.digest()[0] % 2 == 0


# --- LLMFAO --------------------------------------------------------------------------------------


def _parse_llmfao(record: dict, line: int, limit: int) -> ParsedComparison:
    pair_id = _required(record, "id")
    external_id = _label(record, "id")
    if not external_id:
        raise _RecordError("must not be empty", "id")
    prompt_metadata = {
        ("prompt_id" if key == "prompt" else key): record[key] for key in LLMFAO_PROMPT_KEYS if key in record
    }
    # Everything but the texts: model_x/model_y stay as ids, to join with LLMFAO's own files.
    extra = {key: value for key, value in record.items() if key not in (*LLMFAO_TEXT_KEYS, *LLMFAO_PROMPT_KEYS)}
    response_a, response_b = _llmfao_response(record, "x", limit), _llmfao_response(record, "y", limit)
    return _comparison(
        line,
        [{"role": "user", "content": _text(_required(record, "text"), "text", limit)}],
        response_a,
        response_b,
        prompt_source="llmfao",
        prompt_metadata=prompt_metadata,
        gold="",
        metadata={"pair_id": pair_id, **prompt_metadata, **extra},
        external_id=external_id,
        has_empty_turn=not (response_a.text and response_b.text),
    )


def _llmfao_response(record: dict, side: str, limit: int) -> ParsedResponse:
    text = _text(_required(record, f"result_{side}"), f"result_{side}", limit, allow_empty=True)
    model = _required(record, f"model_{side}")
    # LLMFAO names models by a numeric id (see its models.jsonl); keep it recognisable.
    is_id = isinstance(model, int) and not isinstance(model, bool)
    name = f"llmfao:{model}" if is_id else _label(record, f"model_{side}")
    return ParsedResponse(text=text, model=name, generation={})


_PARSERS = {
    FORMAT_WORKBENCH: _parse_workbench,
    FORMAT_HH_RLHF: _parse_hh,
    FORMAT_LLMFAO: _parse_llmfao,
}
