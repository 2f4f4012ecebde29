"""Content decides the type; the extension only breaks ties between text formats."""

from __future__ import annotations

import pytest
from fixtures_bad import HTML_REPORT, docx_bytes, not_docx_zip, random_bytes, text_pdf

from ingest.detect import DOCX, HTML, MARKDOWN, PDF, TEXT, sniff
from ingest.extractors import auction, registered
from reviewlens.errors import CorruptFile, EmptyFile, EncryptedFile, UnsupportedType


def test_pdf_and_docx_by_magic_bytes_whatever_the_name() -> None:
    assert sniff(text_pdf(pages=1), "report.docx") == PDF
    assert sniff(text_pdf(pages=1), "no-extension") == PDF
    assert sniff(docx_bytes(), "report.pdf") == DOCX


def test_pdf_header_after_leading_junk_is_still_pdf() -> None:
    assert sniff(b"\r\n\x00junk" + text_pdf(pages=1), "x.bin") == PDF


def test_html_named_pdf_is_html() -> None:
    assert sniff(HTML_REPORT.encode(), "inspection.pdf") == HTML


def test_text_formats_use_extension_only_as_tiebreak() -> None:
    body = b"Some review text.\n\nA second paragraph.\n"
    assert sniff(body, "notes.md") == MARKDOWN
    assert sniff(body, "notes.txt") == TEXT
    assert sniff(body, "notes") == TEXT
    assert sniff(b"# Heading\n\nText\n", "notes") == MARKDOWN
    assert sniff(b"<p>Para</p>", "notes.txt") == HTML


def test_zero_bytes_is_empty_file() -> None:
    with pytest.raises(EmptyFile):
        sniff(b"", "empty.pdf")


def test_binary_named_pdf_is_refused_with_reason() -> None:
    with pytest.raises(CorruptFile, match="no PDF header"):
        sniff(random_bytes(), "scan.pdf")
    with pytest.raises(UnsupportedType):
        sniff(random_bytes(), "scan.bin")


def test_known_foreign_formats_are_named() -> None:
    with pytest.raises(UnsupportedType, match="PNG"):
        sniff(b"\x89PNG\r\n\x1a\n" + bytes(64), "photo.pdf")
    with pytest.raises(UnsupportedType, match="legacy Office"):
        sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old.doc")
    with pytest.raises(UnsupportedType, match="not a Word"):
        sniff(not_docx_zip(), "archive.docx")


def test_password_protected_office_file_is_encrypted() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(EncryptedFile):
        sniff(ole, "locked.docx")


def test_every_media_type_has_an_extractor_and_auction_prefers_higher_score() -> None:
    names = {auction(media, "").name for media in (PDF, DOCX, HTML, MARKDOWN, TEXT)}
    assert names == {"pdf", "docx", "html", "markdown", "text"}
    assert len(registered()) >= 5
    with pytest.raises(UnsupportedType):
        auction("application/x-unknown", "bin")
