"""Kept originals, addressed by content: `originals/ab/abcdef...` under the data folder.

The file name a user uploaded is only a label in the jobs database; it never becomes part of a
path, so no name (however crafted) can reach outside this folder. Keeping the bytes lets the whole
index be rebuilt after a taxonomy change without anyone uploading again.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from reviewlens.errors import FileTooLarge, NotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


def is_document_id(value: str) -> bool:
    return bool(_SHA256.match(value))


class OriginalStore:
    """Write-once files named by their SHA-256; a rename makes each write all-or-nothing."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "originals"
        self.tmp = Path(data_dir) / "tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, document_id: str) -> Path:
        if not is_document_id(document_id):
            raise NotFound("No such document.")
        return self.root / document_id[:2] / document_id

    def exists(self, document_id: str) -> bool:
        return is_document_id(document_id) and self.path(document_id).is_file()

    def read(self, document_id: str) -> bytes:
        try:
            return self.path(document_id).read_bytes()
        except FileNotFoundError:
            raise NotFound("The original file is not kept.") from None

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Keep `data`; returns (document id, size)."""
        return self.put_chunks(iter([data]), max_bytes=None)

    def put_stream(self, stream: BinaryIO, max_bytes: int | None) -> tuple[str, int]:
        return self.put_chunks(iter(lambda: stream.read(CHUNK), b""), max_bytes)

    def put_chunks(self, chunks: Iterator[bytes], max_bytes: int | None) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix=f"upload-{os.getpid()}-")
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise FileTooLarge(
                            f"The file is larger than the limit of {max_bytes} bytes."
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            document_id = digest.hexdigest()
            target = self.path(document_id)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                tmp_path.unlink()
            else:
                os.replace(tmp_path, target)
            return document_id, size
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise

    def delete(self, document_id: str) -> None:
        self.path(document_id).unlink(missing_ok=True)

    def ids(self) -> list[str]:
        return sorted(p.name for p in self.root.glob("??/*") if is_document_id(p.name))

    def clean_tmp(self) -> int:
        """Drop half-written uploads left by a killed process (never a live one's)."""
        removed = 0
        for leftover in self.tmp.glob("upload-*"):
            pid = leftover.name.split("-")[1]
            if pid.isdigit() and _alive(int(pid)):
                continue
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
