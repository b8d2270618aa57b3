"""write_export: selected judgments in, a dataset folder with its manifest out.

One pass over the records (two for Dawid-Skene: labels first, texts second). Everything is
streamed: rows go to the sinks in batches and the statistics for the manifest are running counts,
so memory does not grow with the export. Files are written under a hidden sibling folder that is
renamed to `out_dir` only when complete; any exception (including one raised by `progress`, which
is how the webapp cancels) removes it.
"""
from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from exporters import stats as stats_mod
from exporters.aggregate import DawidSkeneLabels, majority, one_vote_per_rater, votes
from exporters.card import write_card
from exporters.formats import SCHEMAS, Rows
from exporters.margins import margin_for, resolve_margins
from exporters.records import CHOICES, ComparisonRecord, ExportError, ExportRequest, JudgmentRecord
from exporters.writers import open_sink, sha256_file, split_paths

PROGRESS_EVERY = 5000  # judgments between progress calls
# Judgments between collections of the young generation while the cyclic GC is off (see _export_into).
# A collection scans the objects allocated since the last one that are still alive: the few batches
# in the read-ahead and write-behind queues, about as many at every collection, so collecting at
# every progress tick cost 1.1 s of a 13 s export of 1M judgments; this rarely, 0.06 s.
COLLECT_EVERY = 100_000
MANIFEST_VERSION = 1

Groups = Callable[[], Iterable[tuple[ComparisonRecord, list[JudgmentRecord]]]]


def write_export(groups: Groups, request: ExportRequest, out_dir: Path, *,
                 progress: Callable[[int, int | None, str], None] | None = None,
                 total_judgments: int | None = None,
                 provenance: dict | None = None, partial_tag: str = "") -> dict:
    """Aggregate, format and write the selected judgments; return the manifest dict.

    The files are written in `.<out_dir name>.partial-<partial_tag>-<random>` beside out_dir: a caller
    whose process may be killed mid-write (a job) passes a tag of its own, so that a retry removes its
    earlier partial folder and no one else's."""
    margins = _check_request(request)
    for name, value in (("provenance", provenance), ("filters", request.filters)):
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ExportError(f"{name} must be JSON-serialisable (strings, numbers, lists, dicts): {exc}",
                              field=name) from None
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"output folder {out_dir} exists and is not empty", field="output")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{partial_tag}-" if partial_tag else ""
    tmp = out_dir.parent / f".{out_dir.name}.partial-{tag}{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    report = progress or (lambda done, total, message: None)
    try:
        manifest = _export_into(tmp, groups, request, margins, report, total_judgments, provenance or {})
        if out_dir.exists():
            out_dir.rmdir()
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _check_request(request: ExportRequest) -> dict[int, float]:
    if not isinstance(request, ExportRequest):
        raise ExportError("request must be an ExportRequest", field="request")
    request.validate()
    if request.format != "raw" and request.aggregate == "none" and request.ties == "keep":
        raise ExportError("a TRL format has no way to write a single tie judgment as chosen/rejected: "
                          "use --ties drop, or aggregate (majority, dawid-skene) so ties count as votes, "
                          "or the raw format", field="ties")
    return resolve_margins(request.scale, request.margins)


def _export_into(tmp: Path, groups: Groups, request: ExportRequest, margins: dict[int, float],
                 report: Callable, total: int | None, provenance: dict) -> dict:
    splits = ("train", "test") if request.test_fraction > 0 else ("train",)
    paths = split_paths(request.file_format, splits)
    schema = SCHEMAS[request.format]
    sinks: dict = {}  # opened on a split's first row: a split without rows gets no file (datasets rejects one)
    acc = stats_mod.Accumulator()
    try:
        ds = None
        if request.aggregate == "dawid-skene":
            report(0, total, "Dawid-Skene: reading labels")
            ds = DawidSkeneLabels(lambda: _checked(groups, report, total, "Dawid-Skene: reading labels", acc=None),
                                  request.ties)
        # The loop allocates millions of short-lived tuples and no reference cycles of its own: the
        # cyclic collector would mostly re-scan live objects (up to 1.9x slower measured). It stays
        # off here, and the young generation is collected every COLLECT_EVERY judgments, so cycles
        # a caller's iterator makes (an ORM cursor, say) are still freed.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for comparison, judgments in _checked(groups, report, total, "exporting", acc=acc):
                rows = _rows(comparison, judgments, request, margins, ds, acc)
                if not rows:
                    continue
                split = _split_of(comparison.prompt_id, request.seed, request.test_fraction)
                sink = sinks.get(split)
                if sink is None:
                    sink = sinks[split] = open_sink(request.file_format, tmp / paths[split], schema)
                sink.add_rows(rows)
                acc.rows[split] += len(rows)
        finally:
            if gc_was_enabled:
                gc.enable()
    finally:
        for sink in sinks.values():
            sink.close()
    if acc.judgments_read == 0:
        raise ExportError("the selection holds no judgments: nothing to export", field="filters")
    if sum(acc.rows.values()) == 0:
        raise ExportError(f"none of the {acc.judgments_read} selected judgments made a row "
                          f"(dropped judgments: {dict(acc.dropped_judgments)}, "
                          f"dropped comparisons: {dict(acc.dropped_comparisons)})")
    report(acc.judgments_read, total, "writing manifest")
    splits = tuple(s for s in splits if s in sinks)

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "request": _request_dict(request),
        "margins": {"mapping": {str(k): v for k, v in margins.items()}, "no_strength": 0.0,
                    "default": request.margins is None},
        "counts": acc.counts(),
        "splits": {s: {"path": paths[s], "rows": sinks[s].rows} for s in splits},
        "guideline_versions": acc.guideline_versions(),
        "origins": acc.origins(),
        "agreement": acc.agreement(seed=request.seed),
        "position_bias": acc.position_bias(),
        "length_bias": acc.length_bias(),
        "code_version": code_version(),
        "provenance": provenance,
        "files": {},
    }
    files = {paths[s]: _file_entry(tmp / paths[s], sinks[s].rows) for s in splits}
    if request.file_format == "hf":
        write_card(tmp / "README.md", manifest, files, schema, sinks, {s: paths[s] for s in splits})
        files["README.md"] = _file_entry(tmp / "README.md", None)
    manifest["files"] = dict(sorted(files.items()))
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _file_entry(path: Path, rows: int | None) -> dict:
    entry = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    if rows is not None:
        entry["rows"] = rows
    return entry


def _checked(groups: Groups, report: Callable, total: int | None, message: str, acc):
    """Iterate the groups once, checking order and records, counting, and calling progress."""
    previous = None
    done = 0
    next_tick = PROGRESS_EVERY
    next_collection = COLLECT_EVERY
    for comparison, judgments in groups():
        cid = comparison.comparison_id
        if previous is not None and cid <= previous:
            raise ExportError(f"comparisons must come ordered by comparison_id without repeats: "
                              f"{cid} after {previous}", field="groups")
        previous = cid
        last_id = None
        ordered = True
        for j in judgments:  # the common case costs three membership tests per judgment
            if j.comparison_id != cid or j.choice not in _CHOICES or j.display_order not in _ORDERS:
                _reject(j, cid)
            if last_id is not None and j.judgment_id <= last_id:
                ordered = False
            last_id = j.judgment_id
        if not ordered:
            judgments = sorted(judgments, key=lambda j: j.judgment_id)
        if acc is not None:
            acc.add_comparison(comparison, judgments)
        yield comparison, judgments
        done += len(judgments)
        if done >= next_tick:
            report(done if acc is not None else 0, total, message)
            next_tick = done + PROGRESS_EVERY
        if done >= next_collection:
            gc.collect(0)
            next_collection = done + COLLECT_EVERY


_CHOICES = frozenset(CHOICES)
_ORDERS = frozenset(("AB", "BA", None))


def _reject(j: JudgmentRecord, cid: int) -> None:
    if j.comparison_id != cid:
        raise ExportError(f"judgment {j.judgment_id} belongs to comparison {j.comparison_id}, "
                          f"but came with comparison {cid}", field="groups")
    if j.choice not in _CHOICES:
        raise ExportError(f"judgment {j.judgment_id}: choice must be one of {', '.join(CHOICES)}; "
                          f"got {j.choice!r}", field="choice")
    raise ExportError(f"judgment {j.judgment_id}: display_order must be 'AB', 'BA' or None; "
                      f"got {j.display_order!r}", field="display_order")


def _rows(comparison: ComparisonRecord, judgments: list[JudgmentRecord], request: ExportRequest,
          margins: dict[int, float], ds: DawidSkeneLabels | None, acc) -> list[tuple]:
    """The comparison's rows (a list, not a generator: this runs once per comparison)."""
    if not judgments:
        return []
    voters = one_vote_per_rater(judgments)  # a rater's consistency repeat is a row at most, never a vote
    if request.aggregate != "none":
        acc.drop_judgments("repeat", len(judgments) - len(voters))
        judgments = voters
    counted = votes(judgments, request.ties)
    acc.drop_judgments("tie", len(judgments) - len(counted))
    if not counted and request.aggregate != "none":
        acc.drop_comparison("no_votes_left")
        return []
    tally: dict[str, int] = {}
    tallied = counted if voters is judgments else votes(voters, request.ties)
    for j in tallied:
        tally[j.choice] = tally.get(j.choice, 0) + 1
    n = len(tallied)

    def margin(j: JudgmentRecord) -> float:
        return margin_for(j.strength, margins, j.judgment_id, request.scale)

    def share(j: JudgmentRecord) -> float | None:
        # A repeat row's choice may have no vote (its rater's vote is the first judgment), and when
        # that first judgment was a dropped tie there may be no votes at all.
        return tally.get(j.choice, 0) / n if n else None

    if request.format == "raw":
        rows = Rows(request.format, comparison)
        return [rows.raw(j, margin(j) if j.choice in ("a", "b") else None, share(j)) for j in counted]
    if request.aggregate == "none":
        rows = Rows(request.format, comparison)
        preferences = [rows.preference(j.choice, margin(j), share(j), [j.judgment_id])
                       for j in counted if j.choice != "both_bad"]
        acc.drop_judgments("both_bad", len(counted) - len(preferences))
        return preferences
    if ds is not None:
        winner, reason = ds.decide(comparison.comparison_id)
    else:
        winner, reason = majority(tally)
    if winner is None:
        acc.drop_comparison(reason)
        return []
    # Margin: mean over the winner's backers who gave a strength (an unknown strength is not "weakest").
    backing = [margin(j) for j in counted if j.choice == winner and j.strength is not None]
    mean_margin = sum(backing) / len(backing) if backing else 0.0
    return [Rows(request.format, comparison).preference(winner, mean_margin, tally.get(winner, 0) / n,
                                                        [j.judgment_id for j in counted])]


@functools.lru_cache(maxsize=4096)
def _split_of(prompt_id: int, seed: int, test_fraction: float) -> str:
    """Hash-based, so a prompt's split depends only on (seed, prompt id): never in both splits,
    and a prompt keeps its split when the export is re-run with more data."""
    if test_fraction <= 0:
        return "train"
    digest = hashlib.blake2b(f"{seed}:{prompt_id}".encode(), digest_size=8).digest()
    return "test" if int.from_bytes(digest, "big") / 2**64 < test_fraction else "train"


def _request_dict(request: ExportRequest) -> dict:
    return {
        "format": request.format, "aggregate": request.aggregate, "ties": request.ties,
        "file_format": request.file_format, "scale": request.scale,
        "margins": None if request.margins is None else {str(k): v for k, v in sorted(request.margins.items())},
        "test_fraction": request.test_fraction, "seed": request.seed, "filters": request.filters,
    }


def code_version() -> dict:
    """The package version and, when run from a git checkout, its commit."""
    from importlib import metadata
    try:
        version = metadata.version("preference-workbench")
    except metadata.PackageNotFoundError:
        version = None
    return {"package": version, "git_commit": _git_commit(Path(__file__).resolve().parent.parent),
            "manifest_version": MANIFEST_VERSION}


def _git_commit(root: Path) -> str | None:
    import subprocess
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
