"""Streaming sinks: rows go in, files come out, in bounded memory and byte-for-byte reproducibly.

Parquet options are pinned (zstd level 1 without dictionaries was the fastest codec here that still
shrinks text ~5x: the repeated prompt and responses of neighbouring rows fall in zstd's window), as are the page version, statistics and row-group size,
and pyarrow writes no timestamps, so the same rows give the same bytes with the same pyarrow.
"""
from __future__ import annotations

import hashlib
import json
import queue
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 4096          # rows per row group: bounded memory whatever the export size
PARQUET_OPTIONS = dict(
    compression="zstd", compression_level=1, use_dictionary=False, write_statistics=False,
    version="2.6", data_page_version="1.0", store_schema=True,
)


class ParquetSink:
    def __init__(self, path: Path, schema: pa.Schema):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schema = schema
        self.names = schema.names
        self._pending: list[tuple] = []
        self.rows = 0
        self.nbytes = 0  # in-memory Arrow size: the dataset card's num_bytes
        self._writer = _BackgroundWriter(pq.ParquetWriter(str(path), schema, **PARQUET_OPTIONS))

    def add_rows(self, rows: list[tuple]) -> None:
        self._pending.extend(rows)
        while len(self._pending) >= BATCH_ROWS:  # every batch but the last has exactly BATCH_ROWS rows
            self._flush(self._pending[:BATCH_ROWS])
            del self._pending[:BATCH_ROWS]

    def _flush(self, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = zip(*rows)  # rows -> columns in C, not a Python loop per value
        batch = pa.RecordBatch.from_arrays(
            [pa.array(col, type=field.type) for col, field in zip(columns, self.schema)], schema=self.schema)
        self._writer.write(batch)
        self.rows += batch.num_rows
        self.nbytes += batch.nbytes

    def close(self) -> None:
        self._flush(self._pending)
        self._pending = []
        self._writer.close()


class _BackgroundWriter:
    """Writes record batches on a thread of its own: Parquet encoding and zstd run in C++ without
    the GIL, so they overlap the Python that builds the next batch (about a third of an export's
    time was spent in them). The same batches reach the same writer in the same order, so the
    bytes do not change. At most two batches wait (bounded memory); a failure in the thread is
    raised in the caller at its next write or at close."""

    def __init__(self, writer: pq.ParquetWriter):
        self._writer = writer
        self._batches: queue.Queue = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="parquet-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._batches.get()) is not None:
            if self._error is None:  # after a failure, drain without writing until close
                try:
                    self._writer.write_batch(batch, row_group_size=BATCH_ROWS)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    self._error = exc

    def write(self, batch: pa.RecordBatch) -> None:
        self._raise_failure()
        self._batches.put(batch)

    def close(self) -> None:
        self._batches.put(None)
        self._thread.join()
        self._writer.close()
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error


class JsonlSink:
    def __init__(self, path: Path, schema: pa.Schema):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.names = schema.names
        self.schema = schema
        self.rows = 0
        self.nbytes = 0
        self._file = open(path, "w", encoding="utf-8", newline="\n")
        self._buffer: list[str] = []

    def add_rows(self, rows: list[tuple]) -> None:
        names = self.names
        self._buffer.extend(json.dumps(dict(zip(names, row)), ensure_ascii=False, separators=(",", ":"))
                            for row in rows)
        self.rows += len(rows)
        if len(self._buffer) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._file.write("\n".join(self._buffer) + "\n")
            self._buffer = []

    def close(self) -> None:
        self._flush()
        self._file.close()
        self.nbytes = self.path.stat().st_size


def split_paths(file_format: str, splits: tuple[str, ...]) -> dict[str, str]:
    """Where each split's data goes, relative to the export folder."""
    if file_format == "hf":
        return {s: f"data/{s}-00000-of-00001.parquet" for s in splits}
    return {s: f"{s}.{file_format}" for s in splits}


def open_sink(file_format: str, path: Path, schema: pa.Schema):
    return JsonlSink(path, schema) if file_format == "jsonl" else ParquetSink(path, schema)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
