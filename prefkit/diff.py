"""Side-by-side, line-based diff of two guideline texts (pure Python, no Django).

Rows pair a left (old) line with a right (new) line. Changed lines that were paired up also
carry their intra-line parts, so a page can highlight just the words that changed.
"""
import difflib
import re
from dataclasses import dataclass, field

# Word-level matching is quadratic; past this many characters a changed line is highlighted whole.
MAX_INLINE_CHARS = 2_000
# Below this similarity a changed line was rewritten, not edited: highlighting scattered words is noise.
MIN_INLINE_RATIO = 0.5
# Words, runs of spaces, or single punctuation marks: highlights then fall on whole words.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass(frozen=True)
class Part:
    text: str
    changed: bool


@dataclass(frozen=True)
class DiffRow:
    left_no: int | None  # 1-based line number in the old text; None where the line was inserted
    left_text: str
    right_no: int | None  # 1-based line number in the new text; None where the line was deleted
    right_text: str
    kind: str  # "equal", "insert", "delete" or "replace"
    left_parts: tuple[Part, ...] = field(default=(), compare=False)
    right_parts: tuple[Part, ...] = field(default=(), compare=False)


def diff_lines(old: str, new: str) -> list[DiffRow]:
    """Return the side-by-side rows that turn `old` into `new`, compared line by line."""
    left, right = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [_equal(i, left[i], j, right[j]) for i, j in zip(range(i1, i2), range(j1, j2))]
        elif tag == "delete":
            rows += [_deleted(i, left[i]) for i in range(i1, i2)]
        elif tag == "insert":
            rows += [_inserted(j, right[j]) for j in range(j1, j2)]
        else:
            rows += _replaced(left, i1, i2, right, j1, j2)
    return rows


def diff_stats(rows: list[DiffRow]) -> dict[str, int]:
    """Count the lines added and removed; a replaced line counts as one of each."""
    added = sum(1 for row in rows if row.kind in ("insert", "replace"))
    removed = sum(1 for row in rows if row.kind in ("delete", "replace"))
    return {"added": added, "removed": removed}


def inline_parts(old: str, new: str) -> tuple[tuple[Part, ...], tuple[Part, ...]]:
    """Split two versions of one line into parts, marking the words that differ."""
    if len(old) + len(new) > MAX_INLINE_CHARS:
        return _whole(old), _whole(new)
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    left: list[Part] = []
    right: list[Part] = []
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    if matcher.ratio() < MIN_INLINE_RATIO:
        return _whole(old), _whole(new)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        _append(left, "".join(old_tokens[i1:i2]), changed=tag != "equal")
        _append(right, "".join(new_tokens[j1:j2]), changed=tag != "equal")
    return tuple(left), tuple(right)


def _whole(text: str, *, changed: bool = True) -> tuple[Part, ...]:
    return (Part(text, changed),) if text else ()


def _append(parts: list[Part], text: str, *, changed: bool) -> None:
    if not text:
        return
    if parts and parts[-1].changed == changed:
        parts[-1] = Part(parts[-1].text + text, changed)
    else:
        parts.append(Part(text, changed))


def _equal(i: int, old: str, j: int, new: str) -> DiffRow:
    return DiffRow(i + 1, old, j + 1, new, "equal", left_parts=_whole(old, changed=False),
                   right_parts=_whole(new, changed=False))


def _deleted(i: int, text: str) -> DiffRow:
    return DiffRow(i + 1, text, None, "", "delete", left_parts=_whole(text))


def _inserted(j: int, text: str) -> DiffRow:
    return DiffRow(None, "", j + 1, text, "insert", right_parts=_whole(text))


def _replaced(left: list[str], i1: int, i2: int, right: list[str], j1: int, j2: int) -> list[DiffRow]:
    # Pair the changed lines in order; whichever side has more lines goes on as deletes or inserts.
    paired = min(i2 - i1, j2 - j1)
    rows = []
    for offset in range(paired):
        old, new = left[i1 + offset], right[j1 + offset]
        left_parts, right_parts = inline_parts(old, new)
        rows.append(DiffRow(i1 + offset + 1, old, j1 + offset + 1, new, "replace",
                            left_parts=left_parts, right_parts=right_parts))
    rows += [_deleted(i, left[i]) for i in range(i1 + paired, i2)]
    rows += [_inserted(j, right[j]) for j in range(j1 + paired, j2)]
    return rows


@dataclass(frozen=True)
class BlockRow:
    kind: str  # "equal", "insert" (only in the new text) or "delete" (only in the old text)
    text: str  # the Markdown of one block: a paragraph, heading, list, table or fenced code block


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def markdown_blocks(text: str) -> list[str]:
    """Split Markdown into its blank-line separated blocks; a fenced code block stays whole even when
    it contains blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    fence = ""
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        if not line.strip() and not fence:
            if current:
                blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def diff_blocks(old: str, new: str) -> list[BlockRow]:
    """The new text block by block, with the blocks it dropped from the old one where they were, so a
    page can render each block and show the change as raters will read it. A changed block appears
    twice: its old form (delete) and then its new form (insert)."""
    left, right = markdown_blocks(old), markdown_blocks(new)
    rows: list[BlockRow] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [BlockRow("equal", block) for block in right[j1:j2]]
            continue
        rows += [BlockRow("delete", block) for block in left[i1:i2]]
        rows += [BlockRow("insert", block) for block in right[j1:j2]]
    return rows
