"""Checks on an uploaded or local import file before it is read."""
import hashlib
from pathlib import Path

from django.conf import settings

from webapp.core.errors import PayloadTooLarge


def check_size(size: int, file_name: str) -> None:
    if size > settings.WB_MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"{file_name}: {size} bytes; the limit is {settings.WB_MAX_IMPORT_BYTES} (WB_MAX_IMPORT_BYTES)")


def file_digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
