"""Checks that refuse a pathological file before a parser spends memory on it."""

from __future__ import annotations

import io
import zipfile

from reviewlens.errors import CorruptFile, ZipBomb

MAX_ZIP_MEMBERS = 5_000
MAX_RATIO = 200  # a member inflating more than this, and to more than RATIO_FLOOR, is a bomb
RATIO_FLOOR = 20 * 1024 * 1024


def check_zip(data: bytes, max_unzipped_bytes: int) -> None:
    """Refuse archives whose declared sizes or ratios would blow memory when unpacked.

    zipfile stops reading a member at its declared size (and then fails its CRC), so the
    declared sizes checked here bound what parsing can allocate.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise CorruptFile("the file is a damaged zip archive") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise ZipBomb(f"the archive holds {len(members)} files; the limit is {MAX_ZIP_MEMBERS}")
    total = 0
    for member in members:
        total += member.file_size
        if total > max_unzipped_bytes:
            raise ZipBomb(
                f"the archive would unpack to more than {max_unzipped_bytes // 1_048_576} MB"
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise ZipBomb(f"a member of the archive inflates {ratio:.0f} times; refused")
