"""Recommendations in each layout reviews use: labels, R-numbers, numbered paragraphs, plain
lists and tables (fictional text)."""

from __future__ import annotations

import pytest

from ingest.recommendations import addressee_in, extract, timescale_in
from ingest.structure import build
from reviewlens.model import Block, BlockKind, RawDocument, Recommendation


def recs(*lines: tuple[str, int] | tuple[str, int, BlockKind]) -> list[Recommendation]:
    blocks = [
        Block(text=line[0], page=line[1], kind=line[2] if len(line) == 3 else "paragraph")
        for line in lines
    ]
    sections, passages = build(
        RawDocument(media_type="application/pdf", page_count=9, blocks=blocks)
    )
    return extract(sections, passages)


def test_labelled_recommendations_with_fields_and_continuations() -> None:
    found = recs(
        ("8. Recommendations", 8),
        ("8.1 The review makes the following recommendations.", 8),
        ("Recommendation 1", 8, "heading"),
        ("The Partnership should audit cases of neglect in under-fives within 6 months.", 8),
        ("The audit should include cases closed to early help.", 8),
        ("Recommendation 2", 8, "heading"),
        ("Health agencies should revise the bruising protocol for non-mobile babies.", 8),
        ("To: Westvale Integrated Care Board", 8),
        ("Timescale: by March 2025", 8),
    )
    assert [r.number for r in found] == ["1", "2"]
    first, second = found
    assert first.text.endswith("The audit should include cases closed to early help.")
    assert first.addressee == "The Partnership"
    assert first.timescale == "within 6 months"
    assert first.section == "8. Recommendations"
    assert first.page == 8
    assert second.addressee == "Westvale Integrated Care Board"
    assert second.timescale == "by March 2025"


def test_r_numbers_and_numbered_paragraphs_in_a_recommendations_section() -> None:
    found = recs(
        ("Recommendations", 9, "heading"),
        ("R1 Westvale Police should record the voice of the child in every domestic", 9),
        ("abuse incident report.", 9),
        ("R2 It is recommended that the Community Safety Partnership commissions", 9),
        ("a perpetrator programme by the end of 2025.", 9),
    )
    assert [(r.number, r.addressee) for r in found] == [
        ("R1", "Westvale Police"),
        ("R2", "the Community Safety Partnership"),
    ]
    assert found[1].timescale == "by the end of 2025"

    found = recs(
        ("5. Recommendations", 6),
        ("5.1 The Safeguarding Adults Board should seek assurance on self-neglect training.", 6),
        ("5.2 Adult Social Care must review its hoarding guidance within three months.", 6),
        ("6. Glossary", 7),
        ("6.1 MARM stands for multi-agency risk management meeting in this report.", 7),
    )
    assert [(r.number, r.addressee, r.timescale) for r in found] == [
        ("5.1", "The Safeguarding Adults Board", None),
        ("5.2", "Adult Social Care", "within three months"),
    ]


def test_plain_numbered_list_and_sub_items() -> None:
    found = recs(
        ("What needs to improve?", 2),
        ("1. The quality of supervision, so that plans are tested and progress is made.", 2),
        ("2. The timeliness of assessments for children in need of help.", 2, "list_item"),
        ("(a) especially for disabled children", 2, "list_item"),
    )
    assert [r.number for r in found] == ["1", "2"]
    assert "(a) especially for disabled children" in found[1].text


def test_recommendations_as_a_table() -> None:
    found = recs(
        ("Recommendations", 5, "heading"),
        ("No | Recommendation | Lead agency | Timescale", 5, "table_row"),
        (
            "1 | Review the supervision policy for health visitors | Westvale Community Health "
            "| Six months",
            5,
            "table_row",
        ),
        (
            "2 | Train front door staff in the neglect toolkit | Westvale Council | April 2025",
            5,
            "table_row",
        ),
    )
    assert [(r.number, r.text, r.addressee, r.timescale) for r in found] == [
        (
            "1",
            "Review the supervision policy for health visitors",
            "Westvale Community Health",
            "Six months",
        ),
        ("2", "Train front door staff in the neglect toolkit", "Westvale Council", "April 2025"),
    ]


def test_table_in_other_column_order() -> None:
    found = recs(
        ("Recommendations", 5, "heading"),
        ("Agency | Recommendation | By when", 5, "table_row"),
        (
            "Westvale Police | Recommendation 4: share MARAC actions with schools | Q2 2025",
            5,
            "table_row",
        ),
    )
    assert [(r.number, r.text, r.addressee, r.timescale) for r in found] == [
        ("4", "share MARAC actions with schools", "Westvale Police", "Q2 2025")
    ]


def test_summary_repeats_are_kept_once_and_intro_text_is_not_a_recommendation() -> None:
    found = recs(
        ("Executive summary", 1, "heading"),
        ("Recommendation 1: The Partnership should refresh its neglect strategy.", 1),
        ("7. Recommendations", 8),
        ("The panel agreed the following recommendations:", 8),
        ("Recommendation 1: The Partnership should refresh its neglect strategy by June 2025.", 8),
        ("Recommendation 2: All agencies should use the graded care profile.", 8),
        ("8. Action plan", 9),
        ("Recommendation | Action | Lead | Timescale", 9, "table_row"),
        (
            "1 | Hold a launch event for the new strategy | Partnership | within 3 months",
            9,
            "table_row",
        ),
    )
    assert [(r.number, r.page) for r in found] == [("1", 8), ("2", 8)]
    assert found[0].timescale == "by June 2025"


def test_action_plan_is_used_when_there_is_no_recommendations_section() -> None:
    found = recs(
        ("Action plan", 3, "heading"),
        ("Recommendation | Lead | Timescale", 3, "table_row"),
        (
            "Schools to log every missing episode | Education Safeguarding Team | September 2025",
            3,
            "table_row",
        ),
    )
    assert len(found) == 1
    assert found[0].addressee == "Education Safeguarding Team"


def test_passage_index_points_at_the_passage() -> None:
    blocks = [
        Block(text="Recommendations", page=4, kind="heading"),
        Block(
            text="Recommendation 1: The Partnership should set up a hidden men working group.",
            page=4,
        ),
    ]
    sections, passages = build(RawDocument(media_type="text/plain", page_count=4, blocks=blocks))
    (found,) = extract(sections, passages)
    assert found.passage_index is not None
    assert "hidden men working group" in passages[found.passage_index].text


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("The Partnership should test its escalation policy.", "The Partnership"),
        ("That Westvale Police should review missing reports.", "Westvale Police"),
        ("All agencies must record the ethnicity of the child.", "All agencies"),
        ("Lead agency: Westvale ICB. Review the GP template.", "Westvale ICB"),
        ("It is recommended that the ICB ensures GPs flag the family record.", "the ICB"),
        ("Practitioners were not confident to challenge.", None),
    ],
)
def test_addressee(text: str, who: str | None) -> None:
    assert addressee_in(text) == who


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("Review the guidance within 6 months.", "within 6 months"),
        ("Review the guidance within twelve weeks of publication.", "within twelve weeks"),
        ("Report back by March 2025.", "by March 2025"),
        ("Report back by the end of Q3 2025.", "by the end of Q3 2025"),
        ("Timescale: immediate and ongoing", "immediate and ongoing"),
        ("Review the guidance.", None),
        ("In 2019 the guidance changed.", None),
    ],
)
def test_timescale(text: str, when: str | None) -> None:
    assert timescale_in(text) == when


def test_numbered_items_run_together_in_one_paragraph() -> None:
    found = recs(
        ("Actions agreed by the partnership", 1, "heading"),
        (
            "1. Every agency will send a supervision plan to the Quality Assurance Group by "
            "December 2020. 2. The partnership will run a workshop on standard 4. It will be led "
            "by young advisers, by October 2020. 3. The partnership will commission training by "
            "March 2021.",
            1,
            "list_item",
        ),
    )
    assert [(r.number, r.timescale) for r in found] == [
        ("1", "by December 2020"),
        ("2", "by October 2020"),
        ("3", "by March 2021"),
    ]
    assert found[1].text.startswith("The partnership will run a workshop on standard 4. It will")


def test_unnumbered_list_keeps_no_number() -> None:
    found = recs(
        ("Recommendations", 1, "heading"),
        ("The commissioning group should reduce waiting times for CAMHS.", 1, "list_item"),
        ("The paediatric team should help non-verbal children share their views.", 1, "list_item"),
    )
    assert [(r.number, r.addressee) for r in found] == [
        (None, "The commissioning group"),
        (None, "The paediatric team"),
    ]


def test_jtai_areas_for_improvement_are_findings_not_recommendations() -> None:
    from ingest.pipeline import structure_document

    raw = RawDocument(
        media_type="application/pdf",
        page_count=2,
        blocks=[
            Block(text="Joint targeted area inspection of Westvale", page=1, kind="heading"),
            Block(text="Areas for improvement", page=2, kind="heading"),
            Block(text="7. Partners should improve work with perpetrators of abuse.", page=2),
        ],
    )
    doc = structure_document(b"letter", "letter.pdf", raw)
    assert doc.doc_type == "jtai"
    assert doc.recommendations == []
    assert doc.sections[1].kind == "findings"
    assert doc.passages[-1].section_kind == "findings"

    raw.blocks[0] = Block(text="Serious Case Review: Child E", page=1, kind="heading")
    doc = structure_document(b"review", "review.pdf", raw)
    assert [r.number for r in doc.recommendations] == ["7"]
    assert doc.passages[doc.recommendations[0].passage_index or 0].is_recommendation


def test_addressee_line_above_its_recommendation() -> None:
    found = recs(
        ("Recommendations", 6, "heading"),
        ("To: Westvale Police", 6),
        ("Recommendation 1: Record the voice of the child at every incident.", 6),
        ("Timescale: within six months", 6),
        ("To: Westvale Integrated Care Board", 6),
        ("Recommendation 2: Add a safeguarding prompt to the GP template.", 6),
    )
    assert [(r.number, r.addressee, r.timescale) for r in found] == [
        ("1", "Westvale Police", "within six months"),
        ("2", "Westvale Integrated Care Board", None),
    ]
