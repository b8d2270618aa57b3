"""Read preference pairs from any of the formats a user may hand us, and fail early with the line at fault.

Accepted rows (one per line of JSONL, one per Parquet row):
- TRL standard, explicit prompt: `prompt`, `chosen`, `rejected` strings;
- TRL conversational: `prompt` a list of `{role, content}` messages, `chosen` / `rejected` one-message
  assistant lists (or longer lists with no `prompt`: implicit);
- implicit prompt: `chosen` / `rejected` whole transcripts that share their beginning (HH-RLHF's
  `\\n\\nHuman: ... \\n\\nAssistant: ...` strings, or message lists);
each with an optional float `margin`. Sources: a `.jsonl` (or `.jsonl.gz`) or `.parquet` file, or a folder
holding `train*` / `test*` files at its top or under `data/` (Hugging Face layout), with an optional
`manifest.json` (our exports) whose provenance is carried into the model card.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
ROLE_NAMES = {"user": "Human", "assistant": "Assistant", "system": "System"}
ASSISTANT_CUE = "\n\nAssistant:"


class DatasetError(ValueError):
    """A dataset that cannot be trained or scored on; the message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class Pair:
    """One preference: the prompt as text (ending where the reply starts) and the two replies."""

    prompt: str
    chosen: str
    rejected: str
    margin: float | None = None


@dataclass
class PairSet:
    """The pairs of a dataset, split as its files say, and where they came from."""

    train: list[Pair]
    test: list[Pair]
    files: list[str]
    row_format: str
    manifest: dict | None = None
    manifest_sha256: str | None = None
    has_margin: bool = False
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- one row -> one Pair

def render_messages(messages: list, where: str) -> str:
    """Render chat messages as an HH-RLHF style transcript (`\\n\\nHuman: ...`), the text MiniLM sees."""
    if not isinstance(messages, list) or not messages:
        raise DatasetError(f"{where}: expected a non-empty list of {{role, content}} messages")
    parts = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise DatasetError(f"{where}: message {i} must be an object with a string 'content'")
        role = ROLE_NAMES.get(message.get("role"))
        if role is None:
            raise DatasetError(f"{where}: message {i} has role {message.get('role')!r}; "
                               f"expected one of {sorted(ROLE_NAMES)}")
        parts.append(f"\n\n{role}: {message['content']}")
    return "".join(parts)


def split_implicit(chosen: str, rejected: str) -> tuple[str, str, str]:
    """Split two transcripts into their shared prompt and the two replies.

    The prompt ends at the last `Assistant:` cue the two share (so each reply is only the final turn,
    as in HH-RLHF); without such a cue, at the last whitespace of their common prefix.
    """
    common = 0
    for a, b in zip(chosen, rejected):
        if a != b:
            break
        common += 1
    cut = chosen.rfind(ASSISTANT_CUE, 0, common - len(ASSISTANT_CUE) + 1)
    if cut >= 0:
        cut += len(ASSISTANT_CUE)
    else:
        cut = max(chosen.rfind(" ", 0, common), chosen.rfind("\n", 0, common), 0)
    return chosen[:cut], chosen[cut:], rejected[cut:]


def _reply_text(value, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        if value[0].get("role") != "assistant" or not isinstance(value[0].get("content"), str):
            raise DatasetError(f"{where}: expected one assistant message with a string 'content'")
        return " " + value[0]["content"]
    raise DatasetError(f"{where}: expected a string or a one-message assistant list")


def _margin(row: dict, where: str) -> float | None:
    value = row.get("margin")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DatasetError(f"{where}, field 'margin': expected a finite number, got {value!r}")
    return float(value)


def _wrong_format_hint(row: dict) -> str:
    if "choice" in row or "judgment_id" in row:
        return " (this looks like a raw judgment export: export with --format trl-standard, " \
               "trl-conversational or trl-implicit)"
    if "response_a" in row or "result_x" in row:
        return " (this looks like unjudged comparisons, not preference pairs)"
    return ""


def row_to_pair(row, where: str) -> tuple[Pair, str]:
    """Turn one dataset row into a Pair and name its format; raise DatasetError naming what is wrong."""
    if not isinstance(row, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for name in ("chosen", "rejected"):
        if row.get(name) is None:
            raise DatasetError(f"{where}: missing field '{name}'{_wrong_format_hint(row)}")
    chosen, rejected, prompt = row["chosen"], row["rejected"], row.get("prompt")
    margin = _margin(row, where)
    if prompt is None:
        if isinstance(chosen, list) and isinstance(rejected, list):
            chosen = render_messages(chosen, f"{where}, field 'chosen'")
            rejected = render_messages(rejected, f"{where}, field 'rejected'")
            kind = "conversational-implicit"
        elif isinstance(chosen, str) and isinstance(rejected, str):
            kind = "implicit"
        else:
            raise DatasetError(f"{where}: 'chosen' and 'rejected' must both be strings or both message lists")
        prompt, chosen, rejected = split_implicit(chosen, rejected)
    elif isinstance(prompt, list):
        prompt = render_messages(prompt, f"{where}, field 'prompt'") + ASSISTANT_CUE
        chosen = _reply_text(chosen, f"{where}, field 'chosen'")
        rejected = _reply_text(rejected, f"{where}, field 'rejected'")
        kind = "conversational"
    elif isinstance(prompt, str):
        for name, value in (("chosen", chosen), ("rejected", rejected)):
            if not isinstance(value, str):
                raise DatasetError(f"{where}, field '{name}': expected a string beside a string 'prompt'")
        kind = "standard"
    else:
        raise DatasetError(f"{where}, field 'prompt': expected a string or a list of messages")
    if not chosen.strip() and not rejected.strip():
        raise DatasetError(f"{where}: 'chosen' and 'rejected' are both empty")
    return Pair(prompt, chosen, rejected, margin), kind


# ---------------------------------------------------------------- files -> rows

def _jsonl_rows(path: Path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield f"{path}, line {number}", json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}, line {number}: not valid JSON ({error.msg})") from None


def _parquet_rows(path: Path):
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise DatasetError(f"{path}: not a readable Parquet file ({error})") from None
    for number, row in enumerate(table.to_pylist(), start=1):
        yield f"{path}, row {number}", row


def read_pairs(path: Path) -> tuple[list[Pair], set[str]]:
    """Read every pair of one file; return them and the row formats seen."""
    rows = _parquet_rows(path) if path.suffix == ".parquet" else _jsonl_rows(path)
    pairs, kinds = [], set()
    for where, row in rows:
        pair, kind = row_to_pair(row, where)
        pairs.append(pair)
        kinds.add(kind)
    return pairs, kinds


# ---------------------------------------------------------------- a path -> a PairSet

def _is_data_file(path: Path) -> bool:
    return path.is_file() and path.name.endswith(DATA_SUFFIXES)


def find_split_files(folder: Path) -> dict[str, list[Path]]:
    """Find `train*` / `test*` data files at the folder's top or under `data/` (the Hub layout)."""
    candidates = sorted(p for p in [*folder.glob("*"), *folder.glob("data/*")] if _is_data_file(p))
    splits = {"train": [], "test": []}
    for path in candidates:
        for split in splits:
            if path.name.startswith(split):
                splits[split].append(path)
    if not splits["train"] and len(candidates) == 1:
        splits["train"] = candidates
    return splits


def _read_manifest(folder: Path) -> tuple[dict | None, str | None]:
    path = folder / "manifest.json"
    if not path.is_file():
        return None, None
    raw = path.read_bytes()
    try:
        return json.loads(raw), hashlib.sha256(raw).hexdigest()
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}: not valid JSON ({error.msg})") from None


def load_pairs(source: str | Path) -> PairSet:
    """Load a dataset file or folder; raise DatasetError (file, line, field) on anything unusable."""
    source = Path(source)
    manifest, manifest_sha = None, None
    if source.is_dir():
        manifest, manifest_sha = _read_manifest(source)
        splits = find_split_files(source)
        if not splits["train"] and not splits["test"]:
            raise DatasetError(f"{source}: no data files (expected train*/test* .jsonl or .parquet files, "
                               f"at the top or under data/)")
    elif _is_data_file(source):
        splits = {"train": [source], "test": []}
    elif source.exists():
        raise DatasetError(f"{source}: unsupported file type (expected .jsonl, .jsonl.gz or .parquet)")
    else:
        raise DatasetError(f"{source}: no such file or folder")
    loaded, kinds = {}, set()
    for split, paths in splits.items():
        loaded[split] = []
        for path in paths:
            pairs, seen = read_pairs(path)
            loaded[split] += pairs
            kinds |= seen
    if not loaded["train"]:
        raise DatasetError(f"{source}: the training split is empty (no pairs in "
                           f"{', '.join(map(str, splits['train'])) or 'any train* file'})")
    if splits["test"] and not loaded["test"]:
        raise DatasetError(f"{source}: the test split is empty ({', '.join(map(str, splits['test']))})")
    has_margin = any(p.margin is not None for p in loaded["train"])
    return PairSet(train=loaded["train"], test=loaded["test"],
                   files=[str(p) for paths in splits.values() for p in paths],
                   row_format="+".join(sorted(kinds)), manifest=manifest, manifest_sha256=manifest_sha,
                   has_margin=has_margin)


def manifest_provenance(pairs: PairSet) -> dict:
    """Pick what the model card records from an export's manifest (absent keys are skipped)."""
    manifest = pairs.manifest or {}
    provenance = dict(manifest.get("provenance") or {})
    for key in ("export_id", "guideline_versions", "request", "code_version", "created_at"):
        if key in manifest and key not in provenance:
            provenance[key] = manifest[key]
    if pairs.manifest_sha256:
        provenance["manifest_sha256"] = pairs.manifest_sha256
    provenance["dataset_files"] = pairs.files
    provenance["row_format"] = pairs.row_format
    return provenance


def split_comparison_ids(source: str | Path) -> dict[str, list[int] | None]:
    """The `comparison_id` column of each split of a dataset (our exports write one per row), so a
    model's held-out comparisons can be told from those it trained on. A split whose rows lack the
    column (a dataset from elsewhere) maps to None; a split with no files to []."""
    import pyarrow.parquet as pq

    source = Path(source)
    splits = find_split_files(source) if source.is_dir() else {"train": [source], "test": []}
    out: dict[str, list[int] | None] = {}
    for split, paths in splits.items():
        ids: list[int] | None = []
        for path in paths:
            if path.suffix == ".parquet":
                has = "comparison_id" in pq.read_schema(path).names
                column = pq.read_table(path, columns=["comparison_id"]).column(0).to_pylist() if has else None
            else:
                column = [row.get("comparison_id") if isinstance(row, dict) else None for _, row in _jsonl_rows(path)]
            if column is None or any(not isinstance(c, int) or isinstance(c, bool) for c in column):
                ids = None
                break
            ids += column
        out[split] = ids
    return out
