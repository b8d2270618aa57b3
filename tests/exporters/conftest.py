import json
from pathlib import Path

import pytest

from exporters import ExportRequest, write_export
from tests.exporters.fixture import groups


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def export(tmp_path):
    """export(format=..., aggregate=..., ...) -> (folder, manifest) over the hand-built fixture."""
    counter = iter(range(1000))

    def run(*, groups_fn=groups, out=None, provenance=None, progress=None, **request):
        request.setdefault("ties", "drop")
        request.setdefault("file_format", "jsonl")
        request.setdefault("scale", "seven_point")
        folder = out or tmp_path / f"export-{next(counter)}"
        manifest = write_export(groups_fn, ExportRequest(**request), folder, provenance=provenance,
                                progress=progress)
        return folder, manifest

    return run
