"""Sycophancy probe suites: the JSON Lines format, read and checked without Django.

A probe is a pair of replies to one prompt where one reply goes along with what the user said
they believe, like or wrote (the *sycophantic* reply) and the other does not (it keeps to the
facts, keeps its earlier answer, or gives the same assessment without the user's framing). A
reward model or a rater that prefers the sycophantic reply more often than not has learned to
please rather than to help. Suites ship in ``fixtures/probes/`` and a lead may upload their own.

One JSON object per line, UTF-8 (optionally gzip-compressed):

==============  ===========================================================================
field           meaning
==============  ===========================================================================
``suite``       the suite's name, ``[a-z0-9_-]{1,40}``, the same on every line of a file
                (ours: ``opinion``, ``answer``, ``pushback``, ``feedback``). Required.
``id``          unique within the suite, ``[A-Za-z0-9_.:-]{1,80}``. Required.
``prompt``      the conversation up to the reply, in HH-RLHF form
                (``\\n\\nHuman: ...\\n\\nAssistant:``; a pushback probe holds the earlier
                assistant turn and the user's "Are you sure?"). A plain string that does not
                start with ``Human:`` is read as one user turn and wrapped. Required.
``sycophantic`` the reply that follows the user. Required, not empty.
``other``       the reply that does not. Required, not empty, different from ``sycophantic``.
``group``       optional: items that ask the same question under different user views share
                a group (the opinion suite: one conservative and one liberal user). A model
                whose choice follows the user across a group is sycophantic even where each
                item alone could be read as taste.
``meta``        optional object, kept as it is (source file and line, the correct answer, ...).
==============  ===========================================================================

Errors name the file, the line and the field; a file with any error yields nothing.

Mixed into a rater queue, a probe becomes a comparison (``as_comparison_record``, the import
format's workbench record) whose ``metadata["probe"]`` (``METADATA_KEY``) is
``{"suite", "sycophantic": "a" | "b", "item", "seed"}``: which side holds the sycophantic reply is
decided by a hash of the seed, the suite and the item (``sycophantic_side``), so it is A about
half the time and the same again for the same seed.
"""

import gzip
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

HUMAN, ASSISTANT = "\n\nHuman: ", "\n\nAssistant:"
SUITE_NAME = re.compile(r"[a-z0-9_-]{1,40}")
ITEM_ID = re.compile(r"[A-Za-z0-9_.:-]{1,80}")
BUILT_IN = ("opinion", "answer", "pushback", "feedback")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "probes"
MAX_ITEMS = 100_000
METADATA_KEY = "probe"  # comparison.metadata["probe"] on a probe mixed into a rater queue
_TURN = re.compile(r"\n\n(Human|Assistant):[ ]?")


class ProbeFormatError(ValueError):
    """A probe file that does not follow the format; the message names file, line and field."""


@dataclass(frozen=True)
class ProbeItem:
    suite: str
    id: str
    prompt: str
    sycophantic: str
    other: str
    group: str | None = None
    meta: dict = field(default_factory=dict)


def as_conversation(prompt: str) -> str:
    """The prompt in HH-RLHF form, ending with the Assistant cue the reply follows."""
    text = prompt if prompt.lstrip().startswith("Human:") or prompt.startswith(HUMAN) \
        else HUMAN + prompt.strip()
    if not text.startswith("\n\n"):
        text = "\n\n" + text.lstrip()
    text = text.rstrip()
    return text if text.endswith("Assistant:") else text + ASSISTANT


def _text(row: dict, name: str, where: str, *, required: bool = True) -> str | None:
    value = row.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ProbeFormatError(f"{where}, field '{name}': expected a non-empty string")
    return value


def parse_item(row, where: str) -> ProbeItem:
    if not isinstance(row, dict):
        raise ProbeFormatError(f"{where}: expected a JSON object")
    suite = _text(row, "suite", where)
    if not SUITE_NAME.fullmatch(suite):
        raise ProbeFormatError(f"{where}, field 'suite': {suite[:60]!r} is not a suite name "
                               "(lower-case letters, digits, '-' and '_', at most 40)")
    item_id = row.get("id")
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    if not isinstance(item_id, str) or not ITEM_ID.fullmatch(item_id):
        raise ProbeFormatError(f"{where}, field 'id': expected letters, digits or '_.:-' (at most 80)")
    syc, other = _text(row, "sycophantic", where), _text(row, "other", where)
    if syc.strip() == other.strip():
        raise ProbeFormatError(f"{where}, fields 'sycophantic' and 'other': the two replies are the same")
    group = row.get("group")
    if group is not None and not isinstance(group, (str, int)):
        raise ProbeFormatError(f"{where}, field 'group': expected a string")
    meta = row.get("meta", {})
    if not isinstance(meta, dict):
        raise ProbeFormatError(f"{where}, field 'meta': expected an object")
    return ProbeItem(suite=suite, id=item_id, prompt=as_conversation(_text(row, "prompt", where)),
                     sycophantic=syc.strip(), other=other.strip(),
                     group=None if group is None else str(group), meta=meta)


def _lines(data: bytes, name: str):
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ProbeFormatError(f"{name}: not a readable gzip file ({error})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProbeFormatError(f"{name}: not UTF-8 (byte {error.start})") from None
    return text.splitlines()


def parse_suite(data: bytes, name: str = "probe file") -> list[ProbeItem]:
    """Every item of one suite file, or ProbeFormatError for the first problem found."""
    items, seen, suite = [], {}, None
    for number, line in enumerate(_lines(data, name), start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        try:
            row = json.loads(line)
        except ValueError as error:
            raise ProbeFormatError(f"{where}: not valid JSON ({error})") from None
        item = parse_item(row, where)
        if suite is None:
            suite = item.suite
        elif item.suite != suite:
            raise ProbeFormatError(f"{where}, field 'suite': {item.suite!r}, but the file began with "
                                   f"{suite!r} (one suite per file)")
        if item.id in seen:
            raise ProbeFormatError(f"{where}, field 'id': {item.id!r} repeats line {seen[item.id]}")
        seen[item.id] = number
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise ProbeFormatError(f"{name}: more than {MAX_ITEMS:,} items")
    if not items:
        raise ProbeFormatError(f"{name}: no probe items")
    return items


def read_suite(path: str | Path) -> list[ProbeItem]:
    path = Path(path)
    return parse_suite(path.read_bytes(), path.name)


def built_in_suites() -> dict[str, list[ProbeItem]]:
    """The four suites shipped in fixtures/probes, by name (those present)."""
    return {name: read_suite(FIXTURES / f"{name}.jsonl") for name in BUILT_IN
            if (FIXTURES / f"{name}.jsonl").exists()}


def as_record(item: ProbeItem) -> dict:
    """The item as one line of a suite file (what parse_item reads back to an equal item)."""
    record = {"suite": item.suite, "id": item.id, "prompt": item.prompt, "sycophantic": item.sycophantic,
              "other": item.other}
    if item.group is not None:
        record["group"] = item.group
    if item.meta:
        record["meta"] = item.meta
    return record


def conversation_messages(item: ProbeItem) -> list[dict]:
    """The prompt as chat messages ([{role, content}], ending with the user turn the replies answer)."""
    parts = _TURN.split(item.prompt)
    messages = [{"role": "user" if role == "Human" else "assistant", "content": text.strip()}
                for role, text in zip(parts[1::2], parts[2::2])]
    if messages and messages[-1] == {"role": "assistant", "content": ""}:
        messages.pop()  # the cue the reply follows
    where = f"suite {item.suite!r}, item {item.id!r}, field 'prompt'"
    if parts[0].strip() or not messages or messages[-1]["role"] != "user":
        raise ProbeFormatError(f"{where}: expected Human/Assistant turns ending with a Human turn")
    if any(not m["content"] for m in messages):
        raise ProbeFormatError(f"{where}: a turn is empty")
    return messages


def sycophantic_side(item: ProbeItem, seed: int) -> str:
    """"a" or "b": where the sycophantic reply goes when the item is queued with this seed."""
    digest = hashlib.sha256(f"{seed}:{item.suite}:{item.id}".encode()).digest()
    return "a" if digest[0] % 2 == 0 else "b"


def as_comparison_record(item: ProbeItem, *, seed: int) -> dict:
    """The item as a comparison in the import's workbench format, its probe recorded in metadata."""
    side = sycophantic_side(item, seed)
    first, second = (item.sycophantic, item.other) if side == "a" else (item.other, item.sycophantic)
    probe = {"suite": item.suite, "sycophantic": side, "item": item.id, "seed": seed}
    if item.group is not None:
        probe["group"] = item.group
    return {"prompt": conversation_messages(item), "response_a": {"text": first}, "response_b": {"text": second},
            "metadata": {METADATA_KEY: probe}, "id": f"probe:{item.suite}:{item.id}", "source": f"probe:{item.suite}"}
