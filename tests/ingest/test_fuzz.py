"""Random and mutated bytes into every extractor: only ExtractionError may come out, quickly."""

from __future__ import annotations

from datetime import timedelta

from fixtures_bad import (
    HTML_REPORT,
    banded_two_column_pdf,
    docx_bytes,
    drawn_bullets_pdf,
    ruled_table_pdf,
    table_pdf,
    text_pdf,
    two_column_pdf,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.extractors import extract_raw, registered
from reviewlens.errors import ExtractionError
from reviewlens.model import RawDocument
from reviewlens.settings import Settings

SETTINGS = Settings(ocr=False, max_pages=50)
SEEDS = {
    "pdf": text_pdf(pages=2),
    "table.pdf": table_pdf(),
    "columns.pdf": two_column_pdf(),
    "bands.pdf": banded_two_column_pdf(),
    "ruled.pdf": ruled_table_pdf(),
    "bullets.pdf": drawn_bullets_pdf(),
    "docx": docx_bytes(),
    "html": HTML_REPORT.encode(),
    "md": b"# Title\n\n- item\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nText para-\ngraph.\n",
}
FUZZ = settings(
    max_examples=40,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _only_extraction_errors(call: object, *args: object) -> None:
    try:
        result = call(*args)  # type: ignore[operator]
    except ExtractionError as exc:
        assert exc.code and exc.message
        return
    assert isinstance(result, RawDocument)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "splice"]))
        where = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[where] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[where:]
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[where : where + draw(st.integers(1, 512))]
        else:
            other = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
            data[where:] = other[draw(st.integers(0, len(other) - 1)) :]
    return name, bytes(data)


@FUZZ
@given(
    data=st.binary(max_size=4096), name=st.sampled_from(["a.pdf", "a.docx", "a.html", "a.txt", "a"])
)
def test_random_bytes_through_extract_raw(data: bytes, name: str) -> None:
    _only_extraction_errors(extract_raw, data, name, SETTINGS)


@FUZZ
@given(case=mutated())
def test_mutated_files_through_extract_raw(case: tuple[str, bytes]) -> None:
    name, data = case
    _only_extraction_errors(extract_raw, data, f"file.{name}", SETTINGS)


@FUZZ
@given(case=mutated(), which=st.sampled_from([e.name for e in registered()]))
def test_mutated_files_straight_into_each_extractor(case: tuple[str, bytes], which: str) -> None:
    """Without sniffing or the last-resort wrapper, each extractor must hold its own line."""
    _, data = case
    extractor = next(e for e in registered() if e.name == which)
    _only_extraction_errors(extractor.extract, data, "file", SETTINGS)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_straight_into_each_extractor(data: bytes) -> None:
    for extractor in registered():
        _only_extraction_errors(extractor.extract, data, "file", SETTINGS)
