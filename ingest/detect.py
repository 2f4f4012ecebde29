"""Decide what a file is from its bytes, because uploads are often misnamed.

The extension is consulted only to break ties between text formats (Markdown versus plain text)
and to word a better refusal; it never makes a binary file acceptable.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

from reviewlens.errors import CorruptFile, EmptyFile, EncryptedFile, UnsupportedType

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # also the wrapper of password-protected .docx
# formats we recognise but do not read, so the refusal can say what the file is
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc/.xls); save it as .docx"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image; save it as a PDF to have it read by OCR"),
    (b"\xff\xd8\xff", "a JPEG image; save it as a PDF to have it read by OCR"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image; save it as a PDF to have it read by OCR"),
    (b"MM\x00*", "a TIFF image; save it as a PDF to have it read by OCR"),
    (b"{\\rtf", "an RTF file; save it as .docx"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)
_HTML_MARKERS = re.compile(
    rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<title>|<(?:p|div|h[1-6]|table)[\s>]",
    re.IGNORECASE,
)
_MD_HEADING = re.compile(rb"^#{1,6}[ \t]+\S", re.MULTILINE)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def extension(file_name: str) -> str:
    """Lower-case suffix without the dot; the name is never used as a path."""
    return PurePath(file_name.replace("\\", "/")).suffix.lower().lstrip(".")


def _looks_textual(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with BOM
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls <= max(1, len(head) // 100)


def _zip_kind(data: bytes) -> str | None:
    """DOCX if the archive holds word/document.xml; None for any other archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise CorruptFile(f"the file is a damaged zip archive ({type(exc).__name__})") from None
    return DOCX if "word/document.xml" in names else None


def sniff(data: bytes, file_name: str) -> str:
    """Media type by content; raises EmptyFile, CorruptFile or UnsupportedType with a reason."""
    if not data:
        raise EmptyFile("the file is empty (0 bytes)")
    ext = extension(file_name)
    head = data[:4096]
    if b"%PDF-" in data[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        kind = _zip_kind(data)
        if kind is None:
            raise UnsupportedType("the file is a zip archive but not a Word .docx document")
        return kind
    if head.startswith(_OLE) and "EncryptedPackage".encode("utf-16-le") in data:
        raise EncryptedFile("the Office file is protected by a password; save an unprotected copy")
    for magic, what in _FOREIGN_MAGIC:
        if head.startswith(magic):
            raise UnsupportedType(f"the file is {what}")
    if not _looks_textual(head):
        if ext == "pdf":
            raise CorruptFile("the file is named .pdf but has no PDF header; it is not a PDF")
        if ext == "docx":
            raise CorruptFile("the file is named .docx but is not a zip archive; it is not a DOCX")
        raise UnsupportedType("the file is binary data of a type ReviewLens does not read")
    stripped = head
    for bom in _BOMS:
        if stripped.startswith(bom):
            stripped = stripped[len(bom) :]
            break
    if stripped.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in stripped[:200]:
        stripped = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    if _HTML_MARKERS.search(stripped):
        return HTML
    if ext in {"md", "markdown"}:
        return MARKDOWN
    if ext in {"html", "htm", "xhtml"}:
        return HTML
    if ext in {"txt", "text"}:
        return TEXT
    if _MD_HEADING.search(stripped):
        return MARKDOWN
    return TEXT
