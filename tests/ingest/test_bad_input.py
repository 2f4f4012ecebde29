"""Every kind of bad file gets its own error type and a reason, fast, without text leaking."""

from __future__ import annotations

import shutil
import time

import pytest
from fixtures_bad import (
    HTML_REPORT,
    corrupt_pdf,
    docx_bytes,
    encrypted_pdf,
    huge_page_image_pdf,
    many_pages_pdf,
    random_bytes,
    text_pdf,
    truncated_pdf,
)

from ingest.extractors import extract_raw
from ingest.extractors.pdf import MAX_RENDER_PIXELS, MAX_RENDER_SIDE, render_scale
from ingest.limits import check_zip
from ingest.sandbox import run_isolated
from reviewlens.errors import (
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    ExtractionError,
    ExtractionOutOfMemory,
    ExtractionTimeout,
    FileTooLarge,
    NoText,
    TooManyPages,
    ZipBomb,
)
from reviewlens.settings import Settings


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    return docx_bytes(with_bomb=200 * 1024 * 1024)


def test_zero_byte_file() -> None:
    with pytest.raises(EmptyFile) as caught:
        extract_raw(b"", "nothing.pdf", Settings())
    assert caught.value.code == "empty_file"


def test_whitespace_only_text_has_no_text() -> None:
    with pytest.raises(NoText):
        extract_raw(b" \r\n\t\n\xc2\xa0\n", "blank.txt", Settings())


def test_blank_pdf_without_ocr_has_no_text_and_says_why() -> None:
    with pytest.raises(NoText, match="OCR"):
        extract_raw(many_pages_pdf(pages=2), "blank.pdf", Settings(ocr=False))


def test_corrupt_pdf() -> None:
    with pytest.raises(CorruptFile):
        extract_raw(corrupt_pdf(), "broken.pdf", Settings())


def test_truncated_pdf() -> None:
    with pytest.raises(CorruptFile, match="truncated"):
        extract_raw(truncated_pdf(), "half.pdf", Settings())


def test_encrypted_pdf() -> None:
    with pytest.raises(EncryptedFile, match="password") as caught:
        extract_raw(encrypted_pdf(), "locked.pdf", Settings())
    assert caught.value.code == "encrypted_file"


def test_html_named_pdf_is_read_as_html() -> None:
    raw = extract_raw(HTML_REPORT.encode(), "inspection.pdf", Settings())
    assert raw.media_type == "text/html"
    assert raw.blocks[0].text.startswith("Elmbridge Vale")


def test_random_bytes_named_pdf_refused() -> None:
    with pytest.raises(CorruptFile, match="not a PDF"):
        extract_raw(random_bytes(), "scan.pdf", Settings())


def test_oversized_file_refused_before_parsing() -> None:
    data = text_pdf(pages=2)
    with pytest.raises(FileTooLarge) as caught:
        extract_raw(data, "big.pdf", Settings(max_upload_bytes=len(data) - 1))
    assert caught.value.http_status == 413


def test_docx_zip_bomb_refused_before_parsing(zip_bomb: bytes) -> None:
    assert len(zip_bomb) < 2 * 1024 * 1024  # 200 MB of zeros squeezed small
    start = time.perf_counter()
    with pytest.raises(ZipBomb):
        extract_raw(zip_bomb, "bomb.docx", Settings())
    assert time.perf_counter() - start < 1.0


def test_declared_size_over_limit_is_a_bomb_even_at_low_ratio() -> None:
    data = docx_bytes()
    with pytest.raises(ZipBomb, match="unpack"):
        check_zip(data, max_unzipped_bytes=1000)


def test_truncated_docx_is_corrupt() -> None:
    data = docx_bytes()
    with pytest.raises(CorruptFile):
        extract_raw(data[: len(data) // 2], "cut.docx", Settings())


def test_thousands_of_pages_refused_fast_by_count() -> None:
    data = many_pages_pdf(pages=5000)
    start = time.perf_counter()
    with pytest.raises(TooManyPages, match="5000 pages"):
        extract_raw(data, "huge.pdf", Settings(max_pages=2000))
    assert time.perf_counter() - start < 1.0


def test_render_size_is_capped_for_huge_pages() -> None:
    side = 14_173.0  # a 5 m page, in PDF units
    scale = render_scale(side, side)
    assert side * scale <= MAX_RENDER_SIDE
    assert (side * scale) ** 2 <= MAX_RENDER_PIXELS * 1.001
    assert render_scale(595, 842) == pytest.approx(300 / 72)  # A4 keeps full resolution


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_huge_page_image_is_read_within_memory_and_time() -> None:
    data = huge_page_image_pdf()
    try:
        raw = run_isolated(
            extract_raw, data, "poster.pdf", Settings(), timeout_s=90, memory_mb=1536
        )
    except NoText:
        return  # the picture holds no words: a clean, specific answer
    assert raw.page_count == 1


def test_sandbox_returns_result() -> None:
    raw = run_isolated(extract_raw, text_pdf(pages=2), "ok.pdf", Settings(), timeout_s=60)
    assert raw.page_count == 2 and raw.blocks


def test_sandbox_reraises_child_error_with_code() -> None:
    with pytest.raises(EncryptedFile) as caught:
        run_isolated(extract_raw, encrypted_pdf(), "locked.pdf", Settings(), timeout_s=60)
    assert caught.value.code == "encrypted_file"
    assert "password" in str(caught.value)


def test_sandbox_timeout() -> None:
    start = time.perf_counter()
    with pytest.raises(ExtractionTimeout):
        run_isolated(time.sleep, 30, timeout_s=1.0)
    assert time.perf_counter() - start < 10


def test_sandbox_memory_limit() -> None:
    with pytest.raises(ExtractionOutOfMemory):
        run_isolated(bytearray, 4 * 1024**3, timeout_s=30, memory_mb=512)


def test_sandbox_unexpected_error_reported_by_type_only() -> None:
    with pytest.raises(ExtractionError, match="ValueError") as caught:
        run_isolated(int, "not a number: secret text", timeout_s=30)
    assert "secret" not in str(caught.value)
