"""The four row layouts: TRL standard / conversational / implicit prompt, and raw.

Text rendering (trl-standard, trl-implicit) follows the HH-RLHF convention, so the files read like
the public preference sets TRL users already know:

    prompt  = "Human: <turn>\\n\\nAssistant: <turn>\\n\\nHuman: <last user turn>\\n\\nAssistant:"
    chosen  = " <response>"            (trl-standard: TRL joins prompt + chosen, so the space and
                                         the "Assistant:" tag are the separator)
    chosen  = prompt + " <response>"   (trl-implicit: the full transcript; TRL's
                                         maybe_extract_prompt recovers the shared prompt)

A system message renders as "System: <text>" before the first turn.
"""
from __future__ import annotations

import pyarrow as pa

from exporters.records import ComparisonRecord, ExportError

ROLE_TAGS = {"system": "System", "user": "Human", "assistant": "Assistant"}
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
MESSAGES = pa.list_(MESSAGE)

# Every TRL row carries these after its text columns: the margin for RewardTrainer, the share of
# the counted votes that agree with this row, and where the row came from.
TRACE_FIELDS = [
    ("margin", pa.float64()),
    ("agreement", pa.float64()),
    ("comparison_id", pa.int64()),
    ("judgment_ids", pa.list_(pa.int64())),
]

SCHEMAS: dict[str, pa.Schema] = {
    "trl-standard": pa.schema([("prompt", pa.string()), ("chosen", pa.string()), ("rejected", pa.string()),
                               *TRACE_FIELDS]),
    "trl-conversational": pa.schema([("prompt", MESSAGES), ("chosen", MESSAGES), ("rejected", MESSAGES),
                                     *TRACE_FIELDS]),
    "trl-implicit": pa.schema([("chosen", pa.string()), ("rejected", pa.string()), *TRACE_FIELDS]),
    "raw": pa.schema([
        ("judgment_id", pa.int64()), ("comparison_id", pa.int64()), ("prompt_id", pa.int64()),
        ("origin", pa.string()), ("rater", pa.string()),
        ("guideline_version", pa.int64()), ("guideline_sha256", pa.string()),
        ("display_order", pa.string()), ("choice", pa.string()), ("strength", pa.int64()),
        ("margin", pa.float64()), ("agreement", pa.float64()),
        ("active_ms", pa.int64()), ("served_at", pa.string()), ("submitted_at", pa.string()),
        ("gold", pa.string()), ("is_gold", pa.bool_()), ("is_quiz", pa.bool_()),
        ("flags", pa.list_(pa.string())), ("repeat", pa.bool_()), ("round", pa.int64()),
        ("comparison_round", pa.int64()),
        ("model_a", pa.string()), ("model_b", pa.string()), ("source", pa.string()),
        ("prompt", MESSAGES), ("response_a", pa.string()), ("response_b", pa.string()),
    ]),
}


def check_messages(comparison: ComparisonRecord) -> list[dict]:
    """The prompt as plain {role, content} dicts; ExportError if it cannot be a TRL prompt."""
    messages = comparison.prompt_messages
    where = f"comparison {comparison.comparison_id}: prompt_messages"
    if not isinstance(messages, list) or not messages:
        raise ExportError(f"{where} must be a non-empty list of messages", field="prompt_messages")
    if all(type(m) is dict and len(m) == 2 and m.get("role") in ROLE_TAGS and type(m.get("content")) is str
           for m in messages):
        clean = messages  # already exactly {role, content}: no copy (the common case, and hot)
    else:
        clean = _clean_messages(messages, where)
    if clean[-1]["role"] != "user":
        raise ExportError(f"{where} must end with a user turn", field="prompt_messages")
    return clean


def _clean_messages(messages: list, where: str) -> list[dict]:
    clean = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if role not in ROLE_TAGS or not isinstance(content, str):
            raise ExportError(f"{where}[{i}] must be {{'role': user|assistant|system, 'content': str}}",
                              field="prompt_messages")
        clean.append({"role": role, "content": content})
    return clean


def render_prompt(messages: list[dict]) -> str:
    return "\n\n".join(f"{ROLE_TAGS[m['role']]}: {m['content']}" for m in messages) + "\n\nAssistant:"


class Rows:
    """Builds the rows of one comparison in the requested layout. Texts are rendered once per
    comparison: with --aggregate none its rows share them (a third of the time of a 1M-judgment
    export went into building and copying the same reply strings again for every judgment)."""

    def __init__(self, fmt: str, comparison: ComparisonRecord):
        self.fmt = fmt
        self.c = comparison
        self.messages = check_messages(comparison)
        if fmt == "raw":
            return
        if fmt == "trl-conversational":
            self.prompt = self.messages
            a, b = ([{"role": "assistant", "content": text}] for text in (comparison.response_a, comparison.response_b))
        else:
            self.prompt = render_prompt(self.messages)
            start = " " if fmt == "trl-standard" else self.prompt + " "  # trl-implicit: whole transcripts
            a, b = start + comparison.response_a, start + comparison.response_b
        self.replies = {"a": (a, b), "b": (b, a)}  # winner -> (chosen, rejected)

    def preference(self, winner: str, margin: float, agreement: float, judgment_ids: list[int]) -> tuple:
        chosen, rejected = self.replies[winner]
        trace = (margin, agreement, self.c.comparison_id, judgment_ids)
        if self.fmt == "trl-implicit":
            return (chosen, rejected, *trace)
        return (self.prompt, chosen, rejected, *trace)

    def raw(self, j, margin: float | None, agreement: float) -> tuple:
        c = self.c
        return (j.judgment_id, c.comparison_id, c.prompt_id, j.origin, j.rater,
                j.guideline_version, j.guideline_sha256, j.display_order, j.choice, j.strength,
                margin, agreement, j.active_ms, j.served_at, j.submitted_at,
                c.gold, c.gold != "", c.is_quiz, list(j.flags), j.repeat, j.round, c.round,
                c.model_a, c.model_b, c.source, self.messages, c.response_a, c.response_b)
