"""write_export: the one entry point the webapp calls (being filled in on branch `exporters`)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from exporters.records import ComparisonRecord, ExportRequest, JudgmentRecord


def write_export(groups: Callable[[], Iterable[tuple[ComparisonRecord, list[JudgmentRecord]]]],
                 request: ExportRequest, out_dir: Path, *,
                 progress: Callable[[int, int | None, str], None] | None = None,
                 total_judgments: int | None = None,
                 provenance: dict | None = None) -> dict:
    """Aggregate, format and write the selected judgments; return the manifest dict."""
    raise NotImplementedError("write_export is being implemented on branch exporters")
