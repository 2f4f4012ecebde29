"""Cleaning rules on blocks and strings (fictional text)."""

from __future__ import annotations

import pytest

from ingest.clean import clean, join_lines, normalise, remove_contents, remove_running_lines
from reviewlens.model import Block, RawDocument


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["the practi-", "tioners met"], "the practitioners met"),
        (["a multi-", "agency meeting"], "a multi-agency meeting"),
        (["an inter-", "agency plan"], "an inter-agency plan"),
        (["the inter-", "vention began"], "the intervention began"),
        (["her well-", "being"], "her well-being"),
        (["child's self-", "neglect"], "child's self-neglect"),
        (["in mid-", "2019"], "in mid-2019"),
        (["the safe-", "guarding lead"], "the safeguarding lead"),
        (["a soft\u00ad", "ware fault"], "a software fault"),
        (["a word -", "and a dash"], "a word - and a dash"),
        (["first line", "second line"], "first line second line"),
    ],
)
def test_join_lines_mends_hyphenation_only_when_likelier(lines: list[str], expected: str) -> None:
    assert join_lines(lines) == expected


def test_pdfium_hyphen_marks_follow_the_same_rule() -> None:
    assert normalise("conversa\ufffetions about multi\ufffeagency work") == (
        "conversations about multi-agency work"
    )


def test_normalise_ligatures_and_odd_spaces() -> None:
    text = (
        "The \ufb01rst \ufb02at, \ufb00ort and \ufb03cer\u00a0visit\u200b to\u202fthe\tfamily\u00ad"
    )
    assert normalise(text) == "The first flat, ffort and fficer visit to the family"


def _page(page: int, *texts: str) -> list[Block]:
    return [Block(text=text, page=page) for text in texts]


def test_running_headers_footers_and_page_numbers_removed_by_repetition() -> None:
    blocks: list[Block] = []
    for page in range(1, 7):
        blocks += _page(
            page,
            "Ashgrove SAB | Adult X review",
            f"Body paragraph about visit {chr(64 + page)} to the care home by the district nurse.",
            "Recommendation 3: review the discharge pathway."
            if page == 4
            else f"Another body paragraph, on {chr(70 + page)} events.",
            f"Page {page} of 6",
            str(page + 1),
        )
    kept = [block.text for block in remove_running_lines(blocks)]
    assert not any("Ashgrove SAB" in text for text in kept)
    assert not any(text.startswith("Page ") for text in kept)
    assert not any(text.isdigit() for text in kept)
    assert "Recommendation 3: review the discharge pathway." in kept
    assert sum(text.startswith("Body paragraph") for text in kept) == 6


def test_repeated_headings_that_do_not_follow_page_numbers_are_kept() -> None:
    blocks: list[Block] = []
    for page in range(1, 5):
        blocks += _page(page, f"Finding {page * 3}", "A finding's text that differs " + "x" * page)
    kept = [block.text for block in remove_running_lines(blocks)]
    assert kept.count("Finding 3") == 1 and "Finding 12" in kept


def test_single_page_documents_are_left_alone() -> None:
    blocks = _page(1, "Only page header", "Text")
    assert remove_running_lines(blocks) == blocks


def test_contents_page_removed() -> None:
    blocks = [
        Block(text="Contents", kind="heading"),
        Block(text="1. Introduction .......................... 3"),
        Block(text="2. Terms of reference 4"),
        Block(text="Appendix A: glossary \u2026\u2026\u2026 21"),
        Block(text="1. Introduction", kind="heading"),
        Block(text="1.1 This review was commissioned in 2023 by the partnership board."),
        Block(text="Stray leaders elsewhere . . . . . . 9"),
    ]
    kept = [block.text for block in remove_contents(blocks)]
    assert kept == [
        "1. Introduction",
        "1.1 This review was commissioned in 2023 by the partnership board.",
    ]


def test_clean_drops_blocks_that_become_empty() -> None:
    raw = RawDocument(
        media_type="text/plain",
        page_count=1,
        blocks=[Block(text="\u200b\u00a0"), Block(text="Real \ufb01nding")],
    )
    assert [block.text for block in clean(raw).blocks] == ["Real finding"]


def test_bare_page_numbers_go_but_short_words_stay() -> None:
    blocks = _page(1, "iv", "Body on one.", "civil") + _page(2, "- 5 -", "Body on two.", "Page 6")
    assert [block.text for block in remove_running_lines(blocks)] == [
        "Body on one.",
        "civil",
        "Body on two.",
    ]
