"""Parse a comparison import file into plain dataclasses.

Pure Python: no Django here, so the importer can be tested and reused without a
database. An import file is JSON Lines (one JSON object per line), UTF-8, and
may be gzip-compressed (recognised by its first two bytes, 1f 8b, whatever the
file is called). Blank lines are skipped; line numbers in errors count them.
The first bad line fails the whole file, and the error names the file, the line
and the field. All records of a file must be in the same format; the format is
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
whitespace; prompt turns must not be empty, but an empty final reply is kept
(it is what the model said, and the worker judged it). Extra keys go to the
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
repeated hash within one file keeps the first record only.
"""

import codecs
import gzip
import hashlib
import io
import json
import re
import zlib
from dataclasses import dataclass

from prefkit.hashing import canonical_hash

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

_HH_TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):")
_HH_ROLES = {"Human": "user", "Assistant": "assistant"}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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


@dataclass(frozen=True)
class ParsedImport:
    format: str
    comparisons: list[ParsedComparison]
    duplicates_in_file: int  # records dropped because an earlier line had the same content hash


class ImportFormatError(ValueError):
    """A file that cannot be imported; str() names the file, line and field."""

    def __init__(self, message: str, *, file_name: str, line: int | None = None, field: str | None = None):
        self.message = message
        self.file_name = file_name
        self.line = line
        self.field = field
        parts = [file_name]
        if line is not None:
            parts.append(f"line {line}")
        if field:
            parts.append(f"field '{field}'")
        super().__init__(": ".join([*parts, message]))


class _RecordError(Exception):
    """A problem inside one record; the line loop adds the file name and line."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def parse_import(data: bytes, *, file_name: str, max_text_chars: int = 100_000) -> tuple[str, list[ParsedComparison]]:
    """Return (format_name, comparisons). Raise ImportFormatError on the first bad line."""
    parsed = parse_import_detailed(data, file_name=file_name, max_text_chars=max_text_chars)
    return parsed.format, parsed.comparisons


def parse_import_detailed(data: bytes, *, file_name: str, max_text_chars: int = 100_000) -> ParsedImport:
    """Parse like parse_import, and also count the in-file duplicates that were dropped."""
    file_format, parsed = _parse_records(_decompress(data, file_name), file_name, max_text_chars)
    if not parsed:
        raise ImportFormatError("no records: the file is empty or holds only blank lines", file_name=file_name)
    unique = {}
    for comparison in parsed:
        unique.setdefault(comparison.content_hash, comparison)  # the first line with a hash wins
    comparisons = list(unique.values())
    return ParsedImport(format=file_format, comparisons=comparisons, duplicates_in_file=len(parsed) - len(comparisons))


def _parse_records(content: bytes, file_name: str, limit: int) -> tuple[str | None, list[ParsedComparison]]:
    file_format, first_line, parsed = None, None, []
    for line, record in _records(content, file_name):
        try:
            line_format = _detect_format(record)
            file_format, first_line = file_format or line_format, first_line or line
            if line_format != file_format:
                raise _RecordError(
                    f"this record is in the {line_format!r} format, but line {first_line} is in the "
                    f"{file_format!r} format; a file may not mix formats"
                )
            parsed.append(_PARSERS[file_format](record, line, limit))
        except _RecordError as err:
            raise ImportFormatError(err.message, file_name=file_name, line=line, field=err.field) from None
    return file_format, parsed


# --- Reading lines -------------------------------------------------------------------------------


def _decompress(data: bytes, file_name: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            content = stream.read(MAX_DECOMPRESSED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise ImportFormatError(f"not a valid gzip file ({err})", file_name=file_name) from None
    if len(content) > MAX_DECOMPRESSED_BYTES:
        raise ImportFormatError(f"decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes", file_name=file_name)
    return content


def _records(content: bytes, file_name: str):
    """Yield (line number, object) for each non-blank line."""
    # Split on b"\n" only: JSON strings cannot hold a raw newline, and other
    # separators (\x85, \u2028) may legitimately appear inside text.
    content = content.removeprefix(codecs.BOM_UTF8)
    for line, raw in enumerate(content.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ImportFormatError(
                f"invalid UTF-8 at byte {err.start + 1} of the line", file_name=file_name, line=line
            ) from None
        if text.strip():
            yield line, _load_object(text, file_name, line)


def _load_object(text: str, file_name: str, line: int) -> dict:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        message = f"invalid JSON: {err.msg} (column {err.colno})"
        raise ImportFormatError(message, file_name=file_name, line=line) from None
    except ValueError as err:
        raise ImportFormatError(f"invalid JSON: {err}", file_name=file_name, line=line) from None
    if not isinstance(value, dict):
        message = f"expected a JSON object, got {_type_name(value)} (JSON Lines: one object per line)"
        raise ImportFormatError(message, file_name=file_name, line=line)
    try:
        _check_storable(value, "")
    except _RecordError as err:
        raise ImportFormatError(err.message, file_name=file_name, line=line, field=err.field) from None
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
    if not allow_empty and not value.strip():
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
    content_hash = canonical_hash(
        {
            "prompt": prompt_messages,
            "response_a": {"text": response_a.text, "model": response_a.model},
            "response_b": {"text": response_b.text, "model": response_b.model},
        }
    )
    return ParsedComparison(
        line=line,
        prompt_messages=prompt_messages,
        response_a=response_a,
        response_b=response_b,
        content_hash=content_hash,
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
        _text(message["content"], f"chosen (turn {index + 1})", limit)
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
    )


def _hh_response(text: str, field: str, limit: int) -> ParsedResponse:
    # An empty final turn is a reply the model gave and the worker judged: keep it.
    return ParsedResponse(text=_text(text, field, limit, allow_empty=True), model="", generation={})


def _hh_turns(transcript: str, field: str) -> list[dict]:
    pieces = _HH_TURN.split(transcript)
    if pieces[0].strip() or len(pieces) < 3:
        raise _RecordError("expected a transcript of '\\n\\nHuman: …' and '\\n\\nAssistant: …' turns", field)
    return [
        {"role": _HH_ROLES[speaker], "content": content.strip()}
        for speaker, content in zip(pieces[1::2], pieces[2::2])
    ]


def _hh_split(chosen: list[dict], rejected: list[dict]) -> tuple[list[dict], str, str]:
    """Return (prompt, chosen reply, rejected reply) from the two transcripts' turns."""
    for field, turns in (("chosen", chosen), ("rejected", rejected)):
        if turns[-1]["role"] != "assistant":
            raise _RecordError("the transcript must end with an Assistant turn", field)
    prompt = chosen[:-1]
    if prompt != rejected[:-1]:
        raise _RecordError("'chosen' and 'rejected' must share every turn but the final Assistant turn", "rejected")
    if not prompt:
        raise _RecordError("no Human turn before the final Assistant turn", "chosen")
    _check_ends_with_user(prompt, "chosen")
    if chosen[-1]["content"] == rejected[-1]["content"]:
        raise _RecordError("the final Assistant turns of 'chosen' and 'rejected' are identical", "rejected")
    return prompt, chosen[-1]["content"], rejected[-1]["content"]


def _chosen_goes_first(chosen: str, rejected: str) -> bool:
    # Deterministic (a re-import gives the same order and hash) yet about half and
    # half, so neither position nor file order gives the label away.
    return hashlib.sha256((chosen + rejected).encode("utf-8")).digest()[0] % 2 == 0


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
    return _comparison(
        line,
        [{"role": "user", "content": _text(_required(record, "text"), "text", limit)}],
        _llmfao_response(record, "x", limit),
        _llmfao_response(record, "y", limit),
        prompt_source="llmfao",
        prompt_metadata=prompt_metadata,
        gold="",
        metadata={"pair_id": pair_id, **prompt_metadata, **extra},
        external_id=external_id,
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
