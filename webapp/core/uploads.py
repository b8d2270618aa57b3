"""Request bodies with limits: small for JSON and forms, large only where a view takes an upload.

Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) is global and its overflow answers a bare 400;
here every limit is checked against Content-Length before a byte is read, answers 413 with a
message, and an accepted upload goes to a temporary file, never into memory as a whole.
"""
import contextlib
import mmap
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

from webapp.core.errors import PayloadTooLarge

CHUNK_BYTES = 64 * 1024
# Multipart framing (boundaries, part headers, the CSRF field) on top of the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def refuse_if_larger(request, limit: int, *, what: str, setting: str, stated_limit: int | None = None) -> None:
    """Raise PayloadTooLarge (413) when the declared body exceeds `limit`, after draining it.
    `stated_limit` is the figure people know (the file limit, without multipart framing)."""
    size = content_length(request)
    if size > limit:
        drain(request)
        shown = stated_limit if stated_limit is not None else limit
        raise PayloadTooLarge(f"{what} is {megabytes(size)}; the limit is {megabytes(shown)} ({setting})")


def refuse_oversized_upload(request) -> None:
    refuse_if_larger(request, import_body_limit(), what="the upload", setting="WB_MAX_IMPORT_BYTES",
                     stated_limit=settings.WB_MAX_IMPORT_BYTES)


def drain(request) -> None:
    """Read and discard an unread body (bounded), so the client gets our answer instead of a reset
    connection: closing a socket with unread data makes the kernel send RST."""
    if getattr(request, "_read_started", False):
        return
    left = min(content_length(request), settings.WB_MAX_DRAIN_BYTES)
    with contextlib.suppress(OSError):
        while left > 0:
            chunk = request.read(min(CHUNK_BYTES, left))
            if not chunk:
                break
            left -= len(chunk)


@dataclass
class SpooledUpload:
    """An upload on disk: its file (positioned at 0), name, size and SHA-256."""

    file: object
    name: str
    size: int

    @contextlib.contextmanager
    def buffer(self) -> Iterator[memoryview]:
        """The contents as a read-only buffer mapped from the file (not copied onto the heap)."""
        self.file.seek(0)
        if self.size == 0:  # mmap refuses empty files
            yield memoryview(b"")
            return
        with mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                yield view
            finally:
                view.release()


def body_to_tempfile(request, *, file_name: str) -> SpooledUpload:
    """Stream the raw request body into a temporary file, refusing more than the import limit."""
    refuse_if_larger(request, settings.WB_MAX_IMPORT_BYTES, what="the upload", setting="WB_MAX_IMPORT_BYTES")
    target = tempfile.TemporaryFile(prefix="wb-upload-")
    size, left = 0, content_length(request)
    while left > 0:
        chunk = request.read(min(CHUNK_BYTES, left))
        if not chunk:
            break
        target.write(chunk)
        size += len(chunk)
        left -= len(chunk)
    target.flush()
    return SpooledUpload(file=target, name=file_name, size=size)


def uploaded_file(upload) -> SpooledUpload:
    """A file Django's upload handlers already put on disk, as a SpooledUpload."""
    return SpooledUpload(file=upload.file, name=upload.name, size=upload.size)


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Multipart files go to a temporary file; more than `limit` bytes of them stop the upload."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit, self.received = limit, 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise RequestDataTooBig(f"the uploaded files are over {megabytes(self.limit)}")
        return super().receive_data_chunk(raw_data, start)


class NoFileUploadHandler(TemporaryFileUploadHandler):
    """The default: pages and endpoints that take no upload refuse file parts of any size."""

    def new_file(self, *args, **kwargs):
        raise RequestDataTooBig("this address takes no file uploads")

    def receive_data_chunk(self, raw_data, start):  # never reached: new_file refuses
        raise StopUpload(connection_reset=True)


def use_import_upload_handlers(request) -> None:
    """Let this request carry an import file (multipart), streamed to disk, up to the import limit."""
    request.upload_handlers = [LimitedTemporaryFileUploadHandler(request, limit=settings.WB_MAX_IMPORT_BYTES)]


def import_body_limit() -> int:
    return settings.WB_MAX_IMPORT_BYTES + MULTIPART_OVERHEAD_BYTES
