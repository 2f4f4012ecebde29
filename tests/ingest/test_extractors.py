"""Each extractor on a real file built in the test: order, kinds, headings, pages, OCR."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures_bad import (
    BULLETS,
    HEADER,
    HTML_REPORT,
    LEFT_COLUMN,
    RIGHT_COLUMN,
    SCANNED_TEXT,
    TABLE_ROWS,
    banded_two_column_pdf,
    browser_pdf,
    docx_bytes,
    docx_with_revisions,
    drawn_bullets_pdf,
    hyphenated_pdf,
    ruled_table_pdf,
    scanned_pdf,
    table_pdf,
    text_pdf,
    two_column_pdf,
)

from ingest.extractors import extract_raw
from reviewlens.model import RawDocument
from reviewlens.settings import Settings


def texts(raw: RawDocument) -> list[str]:
    return [block.text for block in raw.blocks]


def test_pdf_pages_headings_and_paragraphs() -> None:
    raw = extract_raw(text_pdf(pages=4), "child-w.pdf", Settings())
    assert raw.media_type == "application/pdf"
    assert raw.page_count == 4
    assert raw.file_title == "Child W"
    headings = [block for block in raw.blocks if block.kind == "heading"]
    assert [h.text for h in headings] == [
        f"{n + 2}. Findings about area {chr(64 + n)}" for n in range(1, 5)
    ]
    assert all(h.heading_level == 1 and h.font_size == 16 for h in headings)
    paragraphs = [block for block in raw.blocks if block.kind == "paragraph"]
    assert len(paragraphs) == 16  # four numbered paragraphs a page, lines merged
    assert paragraphs[0].page == 1 and paragraphs[-1].page == 4
    assert paragraphs[0].text.startswith("3.1 In area A, ") and paragraphs[0].text.endswith(".")
    assert all(block.font_size == 11 for block in paragraphs)


def test_pdf_running_header_and_page_footer_removed() -> None:
    joined = "\n".join(texts(extract_raw(text_pdf(pages=4), "child-w.pdf", Settings())))
    assert HEADER not in joined
    assert "Page 2 of 4" not in joined


def test_pdf_hyphenation_mended_but_compounds_kept() -> None:
    (block,) = extract_raw(hyphenated_pdf(), "h.pdf", Settings()).blocks
    assert "practitioners who knew" in block.text
    assert "multi-agency safeguarding hub" in block.text


def test_pdf_two_columns_read_column_by_column() -> None:
    raw = extract_raw(two_column_pdf(), "columns.pdf", Settings())
    assert raw.blocks[0].kind == "heading"
    body = " ".join(texts(raw)[1:])
    left = " ".join(LEFT_COLUMN)
    right = " ".join(RIGHT_COLUMN)
    assert body == f"{left} {right}"
    assert [b.text.split(":")[0] for b in raw.blocks[1:]] == [
        "Left one", "Left two", "Right one", "Right two"
    ]  # fmt: skip


def test_pdf_full_width_line_splits_the_columns_into_bands() -> None:
    raw = extract_raw(banded_two_column_pdf(), "bands.pdf", Settings())
    words = " ".join(texts(raw)).split(". ")
    order = [w.split(" one")[0].split(" two")[0].split(" three")[0] for w in words]
    assert [o for o in order if o in ("Top left", "Top right", "Low left", "Low right")] == [
        "Top left", "Top left", "Top left", "Top right", "Top right", "Top right",
        "Low left", "Low left", "Low left", "Low right", "Low right", "Low right",
    ]  # fmt: skip
    joined = " ".join(texts(raw))
    full = joined.index("This full-width sentence")
    assert joined.index("Top right three.") < full < joined.index("Low left one.")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_pdf_printed_by_a_browser_reads_words_headings_and_columns(tmp_path: Path) -> None:
    data = browser_pdf(shutil.which("chromium") or "chromium", tmp_path)
    raw = extract_raw(data, "browser.pdf", Settings())
    assert [(b.kind, b.heading_level) for b in raw.blocks] == [
        ("heading", 1), ("heading", 2), ("paragraph", None), ("heading", 2),
        ("paragraph", None), ("paragraph", None), ("paragraph", None),
    ]  # fmt: skip
    assert raw.blocks[0].text == "Practice review: Child Y"
    intro = raw.blocks[2].text
    assert intro.startswith("1.1 The official notification described")
    assert intro.endswith("made by an unqualified officer.")
    columns = [block.text for block in raw.blocks[4:]]
    assert columns[0].startswith("Column text begins") and columns[0].endswith("to respond.")
    assert "because the surgery had merged with another practice" in columns[1]
    assert columns[2].startswith("A third paragraph")


def test_pdf_bordered_table_comes_out_as_rows_in_place() -> None:
    raw = extract_raw(table_pdf(), "table.pdf", Settings())
    rows = [block.text for block in raw.blocks if block.kind == "table_row"]
    assert rows == [" | ".join(cells) for cells in TABLE_ROWS]
    order = texts(raw)
    assert order[0] == "The partnership agreed the actions below."
    assert order[-1] == "Progress will be reported to the board."


def test_pdf_table_drawn_with_lines_read_by_pdfplumber() -> None:
    raw = extract_raw(ruled_table_pdf(), "ruled.pdf", Settings())
    assert texts(raw) == [
        "Actions agreed by the board are listed below.",
        "Action | Owner",
        "Train front-door staff on the bruising protocol | Named nurse",
        "Audit referrals | Quality assurance group",
        "The board will review these actions in six months.",
    ]


def test_pdf_drawn_bullets_make_list_items() -> None:
    raw = extract_raw(drawn_bullets_pdf(), "bullets.pdf", Settings())
    items = [block.text for block in raw.blocks if block.kind == "list_item"]
    assert items == BULLETS
    assert raw.blocks[0].kind == "paragraph"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_pdf_scanned_page_read_by_ocr_only_where_needed() -> None:
    raw = extract_raw(scanned_pdf(), "scan.pdf", Settings())
    assert raw.ocr_pages == [2]
    assert all(not block.ocr for block in raw.blocks if block.page == 1)
    ocr_text = " ".join(block.text for block in raw.blocks if block.page == 2)
    assert all(block.ocr for block in raw.blocks if block.page == 2)
    for line in SCANNED_TEXT:
        assert line.lower() in ocr_text.lower()


def test_pdf_ocr_off_leaves_scanned_page_empty() -> None:
    raw = extract_raw(scanned_pdf(), "scan.pdf", Settings(ocr=False))
    assert raw.ocr_pages == []
    assert {block.page for block in raw.blocks} == {1}


def test_docx_body_order_headings_lists_tables_and_no_header_footer() -> None:
    raw = extract_raw(docx_bytes(), "review.docx", Settings())
    assert raw.file_title == "Child W review"
    kinds = [(block.kind, block.heading_level) for block in raw.blocks]
    assert kinds == [
        ("heading", 1), ("paragraph", None), ("heading", 2), ("list_item", None),
        ("list_item", None), ("list_item", None), ("table_row", None), ("table_row", None),
        ("paragraph", None), ("heading", 2), ("paragraph", None),
    ]  # fmt: skip
    assert raw.blocks[3].text == "1. Whether the home conditions were understood."
    assert raw.blocks[4].text == "2. Whether the lodger was known to agencies."
    assert raw.blocks[5].text == "Views of the nursery staff."
    assert raw.blocks[6].text == " | ".join(TABLE_ROWS[0])
    joined = " ".join(texts(raw))
    assert "header text" not in joined and "Footer text" not in joined


def test_docx_links_and_tracked_changes_read_as_accepted() -> None:
    raw = extract_raw(docx_with_revisions(), "revised.docx", Settings())
    assert texts(raw) == ["The procedure is on the partnership website and in the staff handbook."]


def test_html_main_content_only() -> None:
    raw = extract_raw(HTML_REPORT.encode(), "report.html", Settings())
    assert raw.file_title == "Elmbridge Vale: inspection of children's services"
    joined = "\n".join(texts(raw))
    for chrome in ("cookies", "Inspectorate home", "Contact us", "Crown copyright", "tracking",
                   "Related reports", "Was this page useful", "font-family"):  # fmt: skip
        assert chrome not in joined
    assert raw.blocks[0].kind == "heading" and raw.blocks[0].heading_level == 1
    assert "Care leavers | Requires improvement to be good" in texts(raw)
    items = [block.text for block in raw.blocks if block.kind == "list_item"]
    assert items == ["Pathway plans for care leavers.", "Oversight of early help in the north."]
    assert ("Children in care: good", 3) in [(b.text, b.heading_level) for b in raw.blocks]
    assert "Children told inspectors that they feel listened to. Most live in stable homes." in (
        texts(raw)
    )


def test_html_escaping_and_entities_decoded_to_text() -> None:
    raw = extract_raw(b"<p>Mother &amp; baby unit &lt;script&gt;</p>", "x.html", Settings())
    assert texts(raw) == ["Mother & baby unit <script>"]


def test_markdown_headings_lists_and_tables() -> None:
    source = (
        b"# Learning brief: Child P\n\nWhat happened\nin short.\n\n## What we learned\n\n"
        b"- Ask who lives in the home\n- Share what children say\n\n| Theme | Count |\n|---|---|\n"
        b"| Neglect | 4 |\n"
    )
    raw = extract_raw(source, "brief.md", Settings())
    assert [(b.kind, b.heading_level, b.text) for b in raw.blocks] == [
        ("heading", 1, "Learning brief: Child P"),
        ("paragraph", None, "What happened in short."),
        ("heading", 2, "What we learned"),
        ("list_item", None, "Ask who lives in the home"),
        ("list_item", None, "Share what children say"),
        ("table_row", None, "Theme | Count"),
        ("table_row", None, "Neglect | 4"),
    ]
    assert raw.file_title == "Learning brief: Child P"


def test_text_blank_line_paragraphs_bom_and_cp1252_fallback() -> None:
    utf8 = "\ufeffFirst paragraph\nwraps here.\n\n\nSecond \u2013 paragraph.\n".encode()
    assert texts(extract_raw(utf8, "a.txt", Settings())) == [
        "First paragraph wraps here.",
        "Second \u2013 paragraph.",
    ]
    cp1252 = "The child\u2019s views \u2013 \u201cheard\u201d".encode("cp1252")
    assert texts(extract_raw(cp1252, "b.txt", Settings())) == [
        "The child\u2019s views \u2013 \u201cheard\u201d"
    ]
    utf16 = "Paragraph in UTF-16.".encode("utf-16")
    assert texts(extract_raw(utf16, "c.txt", Settings())) == ["Paragraph in UTF-16."]


def test_text_form_feeds_give_pages() -> None:
    raw = extract_raw(b"Page one text.\fPage two text.", "paged.txt", Settings())
    assert raw.page_count == 2
    assert [(b.page, b.text) for b in raw.blocks] == [(1, "Page one text."), (2, "Page two text.")]
