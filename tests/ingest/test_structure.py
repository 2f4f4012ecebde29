"""Headings, section kinds, numbered paragraphs and page-break repair, on blocks as the
extractors hand them over (fictional text)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.structure import build, heading_kind, split_paragraph_number
from reviewlens.model import Block, BlockKind, RawDocument


def raw(*blocks: Block, pages: int = 5) -> RawDocument:
    return RawDocument(media_type="application/pdf", page_count=pages, blocks=list(blocks))


def para(text: str, page: int | None = 1, kind: BlockKind = "paragraph", **extra: object) -> Block:
    return Block(text=text, page=page, kind=kind, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("Executive Summary", "summary"),
        ("1. Introduction", "summary"),
        ("Terms of Reference", "terms_of_reference"),
        ("Key lines of enquiry", "terms_of_reference"),
        ("Scope of the review", "terms_of_reference"),
        ("Family composition", "background"),
        ("Pen picture of Mr B", "background"),
        ("3. Background", "background"),
        ("Chronology of key events", "chronology"),
        ("Narrative", "chronology"),
        ("Key Practice Episodes", "key_practice_episodes"),
        ("Appraisal of practice", "analysis"),
        ("5 Analysis", "analysis"),
        ("Themes", "analysis"),
        ("Findings", "findings"),
        ("Lessons learned", "learning"),
        ("What worked well", "good_practice"),
        ("Good practice", "good_practice"),
        ("Strengths", "good_practice"),
        ("What needs to improve?", "recommendations"),
        ("Areas for improvement", "recommendations"),
        ("8. Recommendations", "recommendations"),
        ("Action plan", "action_plan"),
        ("Inspection judgements", "judgements"),
    ],
)
def test_heading_vocabulary(heading: str, kind: str) -> None:
    assert heading_kind(heading) == kind


@pytest.mark.parametrize("heading", ["Methodology", "Glossary", "Hearing the child's voice"])
def test_headings_without_a_kind(heading: str) -> None:
    assert heading_kind(heading) is None


@pytest.mark.parametrize(
    ("text", "number", "rest"),
    [
        ("4.3 The health visitor called.", "4.3", "The health visitor called."),
        ("4.3. The health visitor called.", "4.3", "The health visitor called."),
        ("12.10 Police attended.", "12.10", "Police attended."),
        ("(a) the school nurse", "(a)", "the school nurse"),
        ("3. The Partnership should act.", "3", "The Partnership should act."),
        ("In 2019 the family moved.", None, "In 2019 the family moved."),
        ("2019. A year of change.", None, "2019. A year of change."),
    ],
)
def test_paragraph_numbers(text: str, number: str | None, rest: str) -> None:
    assert split_paragraph_number(text) == (number, rest)


def test_sections_from_styled_headings_and_text_patterns() -> None:
    sections, passages = build(
        raw(
            para("Local Child Safeguarding Practice Review: Child W", kind="heading"),
            para("Part 1", page=2),
            para("2. Background", page=2),
            para("2.1 Child W lived with her mother and two older brothers in a rented flat.", 2),
            para("KEY PRACTICE EPISODES", page=3),
            para("3.1 The first episode began when the nursery reported a bruise to the ear.", 3),
            para("Recommendation 3", page=4, kind="heading", heading_level=2),
            para("The Partnership should publish a neglect strategy within six months.", 4),
        )
    )
    headings = [(s.heading, s.kind, s.page_start) for s in sections]
    assert ("2. Background", "background", 2) in headings
    assert ("KEY PRACTICE EPISODES", "key_practice_episodes", 3) in headings
    assert ("Part 1", "other", 2) in headings
    assert not any("Recommendation 3" in s.heading for s in sections)
    # the label joins its text as one passage, in the section that was open
    last = passages[-1]
    assert last.text.startswith("Recommendation 3: The Partnership should publish")
    assert last.section_kind == "key_practice_episodes"
    assert last.page == 4


def test_sub_headings_inherit_the_parents_kind() -> None:
    sections, passages = build(
        raw(
            para("Analysis", kind="heading", heading_level=1),
            para("Hearing the child's voice", kind="heading", heading_level=2),
            para("5.4 Nobody asked Child W what a normal day at home was like for her.", 2),
            para("Methodology", kind="heading", heading_level=1),
            para("The review used a systems approach with practitioner workshops.", 2),
        )
    )
    kinds = {s.heading: s.kind for s in sections}
    assert kinds["Hearing the child's voice"] == "analysis"
    assert kinds["Methodology"] == "other"
    assert passages[0].section == "Hearing the child's voice"
    assert passages[0].section_kind == "analysis"
    assert passages[1].section_kind == "other"


def test_unstyled_sub_heading_inherits_and_next_top_heading_resets() -> None:
    sections, passages = build(
        raw(
            para("6. Analysis", 3),
            para("Invisible men", 3),
            para("6.2 The mother's partner was never seen by any practitioner during the year.", 3),
            para("7. Methodology", 4),
            para("7.1 The review found that the family was known to eleven agencies overall.", 4),
        )
    )
    kinds = {s.heading: (s.kind, s.level) for s in sections}
    assert kinds["Invisible men"] == ("analysis", 2)
    assert kinds["7. Methodology"] == ("other", 1)
    assert [p.section_kind for p in passages] == ["analysis", "other"]


def test_font_size_marks_headings_in_unstyled_pdfs() -> None:
    sections, _ = build(
        raw(
            para("Findings", 2, font_size=16.0),
            para("Finding one: supervision did not test the plan", 2, font_size=13.0),
            para(
                "Supervision records show the same actions carried forward for months.",
                2,
                font_size=11.0,
            ),
            para("Information sharing", 3, font_size=13.0),
            para(
                "The school and the health visitor held different pieces of the picture.",
                3,
                font_size=11.0,
            ),
        )
    )
    levels = {s.heading: (s.kind, s.level) for s in sections}
    assert levels["Findings"] == ("findings", 1)
    assert levels["Information sharing"] == ("findings", 2)


def test_numbered_paragraphs_keep_their_number_and_lose_it_from_the_text() -> None:
    _, passages = build(
        raw(
            para("4. Analysis", 2),
            para("4.3 The GP was not told about the injury until the following week.", 2),
            para("4.3.1 This delay mattered because the GP held the mother's history.", 2),
            para("(b) the school did not have a named safeguarding lead", 2, "list_item"),
        )
    )
    assert [p.paragraph for p in passages] == ["4.3", "4.3.1", "(b)"]
    assert passages[0].text == "The GP was not told about the injury until the following week."
    assert passages[2].text.startswith("the school did not")


def test_paragraph_split_across_a_page_break_is_rejoined() -> None:
    _, passages = build(
        raw(
            para("4. Analysis", 4),
            para("4.6 The referral was sent to the front door on a Friday afternoon and was", 4),
            para("not read until the Monday, by which time the family had moved address.", 5),
            para("4.7 A strategy discussion was held on the Tuesday with police present.", 5),
            para("4.8 The health visitor recorded the visit but did not note who was in the", 5),
            para("home, or whether the baby was seen awake.", 6),
            para(
                "4.9 A closing summary was written but it was never shared with the GP practice", 6
            ),
            para("Health visiting records were not linked to the GP record at that time.", 7),
        )
    )
    texts = {p.paragraph: p for p in passages}
    assert texts["4.6"].text.endswith("by which time the family had moved address.")
    assert texts["4.6"].page == 4
    assert texts["4.8"].text.endswith("whether the baby was seen awake.")
    # a long sentence left open continues on the next page even with a capital
    assert texts["4.9"].text.endswith("at that time.")
    assert len(passages) == 4


def test_finished_paragraph_is_not_joined_to_the_next_page() -> None:
    _, passages = build(
        raw(
            para("3.2 The plan was reviewed at the core group meeting.", 3),
            para("Nursery staff described Child W as quiet and watchful.", 4),
        )
    )
    assert len(passages) == 2
    assert passages[1].page == 4


def test_page_furniture_is_not_a_passage_but_table_rows_are() -> None:
    _, passages = build(
        raw(
            para("12", 2),
            para("Child W", 2),
            para("OFFICIAL", 2),
            para("The social worker visited twice in March.", 2),
            para("Care leavers | Good", 2, "table_row"),
        )
    )
    assert [p.text for p in passages] == [
        "The social worker visited twice in March.",
        "Care leavers | Good",
    ]
    assert passages[1].kind == "table_row"


def test_every_passage_knows_its_place_and_ocr_flag() -> None:
    sections, passages = build(
        raw(
            para("Chronology", 2, kind="heading", heading_level=1),
            para("2.1 In January the family were evicted from their first flat.", 2),
            para("2.2 The scanned referral form shows a call from a neighbour.", 3, ocr=True),
        )
    )
    assert [(p.page, p.section, p.paragraph, p.ocr) for p in passages] == [
        (2, "Chronology", "2.1", False),
        (3, "Chronology", "2.2", True),
    ]
    assert [p.index for p in passages] == [0, 1]
    assert sections[0].page_start == 2 and sections[0].page_end == 3


def test_a_long_sentence_is_never_a_heading() -> None:
    sections, _ = build(
        raw(
            para(
                "The review panel met six times between April and October and heard from "
                "every agency involved with the family, including the school and the GP.",
                1,
            )
        )
    )
    assert sections == []


def test_plain_text_underlined_headings() -> None:
    sections, passages = build(
        raw(
            para("Domestic Homicide Review: Margaret ===========================", None),
            para("1. The review process --------------------", None, "list_item"),
            para("1.1 The review was commissioned by the community safety partnership.", None),
        )
    )
    assert [(s.heading, s.level) for s in sections] == [
        ("Domestic Homicide Review: Margaret", 1),
        ("1. The review process", 2),
    ]
    assert passages[0].section == "1. The review process"


def test_sibling_headings_carry_on_a_findings_run() -> None:
    sections, _ = build(
        raw(
            para("Review of health services in Westvale", kind="heading", heading_level=1),
            para("Summary of findings", kind="heading", heading_level=2),
            para("Health visitors know their safeguarding responsibilities well.", None),
            para("Adult mental health services", kind="heading", heading_level=2),
            para("Practitioners do not ask about children in the household.", None),
            para("The emergency department", kind="heading", heading_level=2),
            para("Staff use a checklist for every child who attends.", None),
            para("Glossary", kind="heading", heading_level=2),
        )
    )
    assert [s.kind for s in sections] == ["other", "summary", "findings", "findings", "other"]


def test_a_letter_without_a_summary_heading_opens_with_its_summary() -> None:
    sections, passages = build(
        raw(
            para("Joint targeted area inspection of Westvale", kind="heading", heading_level=1),
            para("Inspectors found that schools hear about incidents the next morning.", 1),
            para("Strengths", kind="heading", heading_level=1),
            para("Operation Encompass notifications reach schools before registration.", 1),
        )
    )
    assert [s.kind for s in sections] == ["summary", "good_practice"]
    assert passages[0].section_kind == "summary"


def test_title_page_facts_are_not_sections() -> None:
    sections, _ = build(
        raw(
            para("Local Child Safeguarding Practice Review: Child T", 1, font_size=22.0),
            para("Published: 14 March 2024", 1, font_size=13.0),
            para("Published 29 April 2021", 1, font_size=13.0),
            para("June 2022", 1, font_size=13.0),
            para("1. Introduction", 2, font_size=14.5),
            para(
                "1.1 This review concerns a baby who was injured at four months of age.",
                2,
                font_size=10.5,
            ),
        )
    )
    assert [s.heading for s in sections] == [
        "Local Child Safeguarding Practice Review: Child T",
        "1. Introduction",
    ]


def test_ocr_line_breaks_inside_a_paragraph_are_mended() -> None:
    _, passages = build(
        raw(
            para("1.2 The Board commissioned the review because it believed that there was", 2),
            para("learning about how agencies recognise chronic neglect.", 2),
        )
    )
    assert len(passages) == 1
    assert passages[0].text.endswith(
        "there was learning about how agencies recognise chronic neglect."
    )


def test_learning_disability_is_not_a_learning_heading() -> None:
    assert heading_kind("Autism, learning disability and exploitation") is None
    assert heading_kind("Learning from reviews") == "learning"
    assert heading_kind("4. Summary of events") == "chronology"
    assert heading_kind("1. Introduction: why this review was held") == "summary"


_WORDS_ALPHABET = st.sampled_from(
    [
        "Recommendation 2",
        "R4",
        "4.3",
        "(a)",
        "1.",
        "Analysis",
        "Findings",
        "The Partnership should",
        "within 6 months",
        "by March 2025",
        "Published:",
        "14 March 2024",
        "Serious Case Review",
        "Ofsted",
        "Good",
        "|",
        "-----",
        "•",
        "children in care:",
        "care leavers",
        "practi-",
        "tioners",
        "the",
        "A",
        ".",
        "",
    ]
)
_BLOCKS = st.lists(
    st.builds(
        Block,
        text=st.one_of(
            st.lists(_WORDS_ALPHABET, max_size=12).map(" ".join),
            st.text(max_size=80),
        ),
        page=st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
        kind=st.sampled_from(["heading", "paragraph", "list_item", "table_row"]),
        heading_level=st.one_of(st.none(), st.integers(min_value=1, max_value=6)),
        ocr=st.booleans(),
        font_size=st.one_of(st.none(), st.floats(min_value=6, max_value=30)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(_BLOCKS)
def test_any_blocks_give_a_consistent_structure(blocks: list[Block]) -> None:
    """Whatever an extractor hands over, structure, metadata and recommendations hold up."""
    from ingest.metadata import detect
    from ingest.recommendations import extract

    document = RawDocument(media_type="text/plain", page_count=4, blocks=blocks)
    sections, passages = build(document)
    assert [p.index for p in passages] == list(range(len(passages)))
    headings = {s.heading for s in sections}
    for passage in passages:
        assert passage.text.strip()
        assert passage.section is None or passage.section in headings
    doc_type, _, date, year, _, evidence = detect(document, sections, passages, "x.txt")
    assert date is None or date.year == year
    assert all(e.value for e in evidence.values())
    for rec in extract(sections, passages):
        assert rec.passage_index is not None and 0 <= rec.passage_index < len(passages)


def test_styled_title_page_facts_become_plain_passages() -> None:
    _, passages = build(
        raw(
            para("Serious Case Review: Child H", kind="heading", heading_level=1),
            para("Published: 4 September 2018", kind="heading", heading_level=3),
        )
    )
    assert [(p.text, p.kind) for p in passages] == [("Published: 4 September 2018", "paragraph")]


def test_short_numbered_actions_are_not_headings() -> None:
    sections, passages = build(
        raw(
            para("5. Recommendations", 4),
            para("5.1 Review the neglect strategy", 4),
            para("5.2 The Board should publish its audit", 4),
            para("6. Appendix: glossary", 5),
        )
    )
    assert [s.heading for s in sections] == ["5. Recommendations", "6. Appendix: glossary"]
    assert [p.paragraph for p in passages] == ["5.1", "5.2"]


@pytest.mark.parametrize("heading", ["2. Review process", "4. Record keeping", "3. Training"])
def test_headings_that_start_like_a_verb_are_still_headings(heading: str) -> None:
    sections, _ = build(raw(para(heading, 2), para("The panel met in May and agreed its plan.", 2)))
    assert [s.heading for s in sections] == [heading]
