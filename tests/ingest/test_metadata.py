"""Document type, title, publication date, area and judgements, each with its evidence
(fictional title pages and inspection letters)."""

from __future__ import annotations

import datetime

import pytest

from ingest.metadata import detect
from ingest.structure import build
from reviewlens.model import Block, BlockKind, RawDocument


def blocks(*lines: str | tuple[str, int] | tuple[str, int, BlockKind]) -> list[Block]:
    out = []
    for line in lines:
        if isinstance(line, str):
            out.append(Block(text=line, page=1))
        elif len(line) == 2:
            out.append(Block(text=line[0], page=line[1]))
        else:
            out.append(Block(text=line[0], page=line[1], kind=line[2]))
    return out


def run(
    *lines: str | tuple[str, int] | tuple[str, int, BlockKind],
    file_title: str | None = None,
    file_name: str = "report.pdf",
):  # type: ignore[no-untyped-def]
    raw = RawDocument(
        media_type="application/pdf", page_count=4, blocks=blocks(*lines), file_title=file_title
    )
    sections, passages = build(raw)
    return detect(raw, sections, passages, file_name)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Local Child Safeguarding Practice Review: Child L", "cspr"),
        ("Serious Case Review: Family M", "scr"),
        ("Domestic Homicide Review into the death of Anna", "dhr"),
        ("Safeguarding Adults Review: Mr K", "sar"),
        ("Safeguarding Adult Review concerning Edith", "sar"),
        ("Joint targeted area inspection of the multi-agency response to neglect", "jtai"),
        ("Multi-agency audit of neglect cases: summary report", "audit"),
        ("7-minute briefing: safer sleep", "briefing"),
        ("Learning brief: Child P", "briefing"),
        ("Section 11 audit 2024: summary of returns", "section11"),
        ("Minutes of the annual general meeting", "other"),
    ],
)
def test_doc_type_from_the_title(title: str, expected: str) -> None:
    doc_type, *_, evidence = run(title, "Some ordinary opening text for the document.")
    assert doc_type == expected
    if expected != "other":
        assert evidence["doc_type"].value == expected
        assert evidence["doc_type"].text


def test_ofsted_ilacs_needs_the_inspection_phrase() -> None:
    doc_type, *_, evidence = run(
        "Ofsted",
        "Inspection of Eastbrook local authority children's services",
        "Inspection dates: 8 January to 19 January 2024",
    )
    assert doc_type == "ofsted_ilacs"
    assert "local authority children's services" in evidence["doc_type"].text


def test_local_review_mentioning_the_national_panel_stays_local() -> None:
    doc_type, *_ = run(
        "Local Child Safeguarding Practice Review: Baby R",
        "The incident was notified to the Child Safeguarding Practice Review Panel in 2022.",
        ("The Panel agreed with the partnership's decision to hold a local review.", 2),
    )
    assert doc_type == "cspr"


def test_national_review_by_the_panel() -> None:
    doc_type, *_ = run(
        "A national review of safeguarding children with disabilities in residential settings",
        "A report by the Child Safeguarding Practice Review Panel",
    )
    assert doc_type == "national_review"


def test_briefing_about_a_review_is_a_briefing() -> None:
    doc_type, *_ = run(
        "7-minute briefing",
        "Learning from the Local Child Safeguarding Practice Review of Child J",
    )
    assert doc_type == "briefing"


def test_cqc_inspection_is_inspection_other() -> None:
    doc_type, *_ = run(
        "Care Quality Commission",
        "Inspection report: Westvale community health services",
        "We inspected the safeguarding arrangements of the trust.",
    )
    assert doc_type == "inspection_other"


def test_publication_date_is_the_stated_one_not_the_first_year_mentioned() -> None:
    _, title, date, year, _, evidence = run(
        "Serious Case Review: Child H",
        "Child H was born in 2009 and died in March 2017.",
        ("The family first came to the attention of services in 2011.", 2),
        ("Date of publication: 4 September 2018", 2),
    )
    assert date == datetime.date(2018, 9, 4)
    assert year == 2018
    assert evidence["date"].page == 2
    assert title == "Serious Case Review: Child H"


def test_title_page_date_line() -> None:
    _, _, date, year, _, _ = run(
        "Domestic Homicide Review: Overview Report",
        "Into the death of Anna, who was killed in 2021",
        "Final report",
        "November 2023",
        ("In 2019 Anna moved to Northvale with her two children.", 2),
    )
    assert date is None
    assert year == 2023


def test_published_line_with_month_and_year_only() -> None:
    _, _, date, year, *_ = run(
        "Learning brief: Baby N", "Published: March 2025", "Baby N was born in 2023."
    )
    assert (date, year) == (None, 2025)


def test_no_stated_date_gives_no_year() -> None:
    _, _, date, year, *_ = run(
        "Safeguarding Adults Review: Mr K",
        "Mr K was known to services from 2015 until his death in 2022.",
    )
    assert (date, year) == (None, None)


def test_file_title_is_preferred_when_it_reads_like_one() -> None:
    _, title, *_ = run(
        "Some heading", "Text.", file_title="Safeguarding Adults Review: Edith", file_name="x.pdf"
    )
    assert title == "Safeguarding Adults Review: Edith"
    _, title, *_ = run(
        "Serious Case Review: Child H", "Text.", file_title="Microsoft Word - SCR draft v3.docx"
    )
    assert title == "Serious Case Review: Child H"


@pytest.mark.parametrize(
    ("line", "area", "key", "value"),
    [
        (
            "Commissioned by the Eastbrook Safeguarding Children Partnership",
            "Eastbrook",
            "partnership",
            "Eastbrook Safeguarding Children Partnership",
        ),
        (
            "A review for the Kings Ferry Community Safety Partnership",
            "Kings Ferry",
            "partnership",
            "Kings Ferry Community Safety Partnership",
        ),
        (
            "Published by the Westvale Safeguarding Adults Board",
            "Westvale",
            "partnership",
            "Westvale Safeguarding Adults Board",
        ),
        (
            "Inspection of Newton-on-Sea local authority children's services",
            "Newton-on-Sea",
            "local_authority",
            "Newton-on-Sea",
        ),
    ],
)
def test_area(line: str, area: str, key: str, value: str) -> None:
    *_, metadata, evidence = run("A report", line)
    assert metadata["area"] == area
    assert metadata[key] == value
    assert area in evidence["area"].text


def test_ilacs_judgements_from_a_table_and_sentences() -> None:
    doc_type, _, date, year, metadata, evidence = run(
        "Inspection of Eastbrook local authority children's services",
        "Inspection dates: 8 January to 19 January 2024",
        "Lead inspector: A Inspector, His Majesty's Inspector",
        ("Judgement | Grade", 1, "table_row"),
        (
            "The impact of leaders on social work practice with children and families | Good",
            1,
            "table_row",
        ),
        (
            "The experiences and progress of children who need help and protection | "
            "Requires improvement to be good",
            1,
            "table_row",
        ),
        ("The experiences and progress of children in care: Good", 1),
        "The experiences and progress of care leavers",
        "Outstanding",
        "Overall effectiveness | Good",
        ("This was a standard inspection under the ILACS framework.", 2),
        ("Children in care are seen regularly, and most care leavers are in touch.", 2),
    )
    assert doc_type == "ofsted_ilacs"
    assert metadata["judgements"] == {
        "impact_of_leaders": "good",
        "help_and_protection": "requires_improvement",
        "children_in_care": "good",
        "care_leavers": "outstanding",
        "overall_effectiveness": "good",
    }
    assert metadata["inspection_dates"] == ["2024-01-08", "2024-01-19"]
    assert metadata["inspection_type"] == "standard"
    assert "impact of leaders" in evidence["judgements"].text.lower()
    assert year == 2024  # no publication line: the inspection's own year


def test_inspection_letter_date_and_date_range_forms() -> None:
    _, _, date, year, metadata, _ = run(
        "14 March 2024",
        "Joint targeted area inspection of Westvale",
        "This letter summarises the findings of the joint targeted area inspection.",
        "The inspection took place between 29 January and 2 February 2024.",
    )
    assert date == datetime.date(2024, 3, 14)
    assert metadata["inspection_dates"] == ["2024-01-29", "2024-02-02"]
    assert metadata["inspection_type"] == "jtai"


def test_judgements_are_only_read_for_inspections() -> None:
    *_, metadata, _ = run(
        "Serious Case Review: Child H",
        "The local authority's services for children in care: good at the time.",
    )
    assert "judgements" not in metadata


def test_dhr_relationship_type() -> None:
    *_, metadata, evidence = run(
        "Domestic Homicide Review: Anna",
        "Northvale Community Safety Partnership",
        ("This review concerns an intimate partner homicide.", 2),
    )
    assert metadata["relationship"] == "intimate_partner_homicide"
    assert evidence["relationship"].page == 2


def test_agencies_involved_list() -> None:
    *_, metadata, _ = run(
        "Safeguarding Adults Review: Edith",
        ("Agencies involved", 2),
        ("Westvale Adult Social Care", 2, "list_item"),
        ("Westvale Police", 2, "list_item"),
        ("North Westvale GP Practice", 2, "list_item"),
        ("Method", 3),
        ("The review met practitioners in two workshops during the spring.", 3),
    )
    assert metadata["agencies"] == [
        "Westvale Adult Social Care",
        "Westvale Police",
        "North Westvale GP Practice",
    ]


def test_annual_report_is_other_even_when_it_mentions_a_briefing() -> None:
    doc_type, _, date, year, _, evidence = run(
        "Westvale Local Safeguarding Children Board: annual report 2017/18",
        "Extract: chapters 3 and 4 of the annual report, presented to the Board on 27 "
        "September 2018.",
        "3.4 In the year the Board completed two learning reviews and published a learning brief "
        "on neglect of teenagers, which was shared with every school in the area.",
    )
    assert doc_type == "other"
    assert date == datetime.date(2018, 9, 27)
    assert "presented to the Board" in evidence["date"].text


def test_report_to_a_group_with_a_date() -> None:
    _, _, date, *_ = run(
        "Multi-agency audit: neglect", "Report to the Quality Assurance Group, 17 November 2022"
    )
    assert date == datetime.date(2022, 11, 17)


def test_year_from_the_file_name_only_as_a_last_resort() -> None:
    _, _, date, year, _, evidence = run(
        "7-minute briefing: safer sleep",
        "Babies died in 2023 and 2024 while sleeping next to an adult.",
        file_name="westvale-7-minute-briefing-2025.pdf",
    )
    assert (date, year) == (None, 2025)
    assert evidence["date"].text == "file name"
    _, _, _, year, *_ = run("7-minute briefing", "Text.", file_name="briefing-2024-2025.pdf")
    assert year is None  # two years in the name: no guess


def test_brand_word_is_not_part_of_the_area() -> None:
    *_, metadata, _ = run(
        "Domestic Homicide Review: Margaret", "Safer Northvale Community Safety Partnership"
    )
    assert metadata["area"] == "Northvale"
    assert metadata["partnership"] == "Safer Northvale Community Safety Partnership"


def test_national_review_is_published_by_the_panel() -> None:
    doc_type, *_, metadata, _ = run(
        "Child Safeguarding Practice Review Panel",
        "Out of sight: a national review of harm to teenagers outside the home",
    )
    assert doc_type == "national_review"
    assert metadata["partnership"] == "Child Safeguarding Practice Review Panel"
    assert "area" not in metadata


def test_inspection_dates_in_a_sentence() -> None:
    *_, metadata, _ = run(
        "Joint targeted area inspection of the response to domestic abuse in Westvale",
        "1. Between 14 and 18 October 2019, four inspectorates carried out a joint inspection.",
    )
    assert metadata["inspection_dates"] == ["2019-10-14", "2019-10-18"]
    assert metadata["area"] == "Westvale"


@pytest.mark.parametrize(
    ("sentence", "relationship"),
    [
        (
            "2.1 Anna was killed at her home in Northvale in March 2020 by her husband.",
            "intimate_partner_homicide",
        ),
        (
            "Margaret, aged 79, was killed in October 2015 by her son, who lived with her.",
            "adult_family_homicide",
        ),
        (
            "The review was held after a suspected victim suicide in 2022.",
            "suspected_victim_suicide",
        ),
    ],
)
def test_dhr_relationship_from_the_account_of_the_death(sentence: str, relationship: str) -> None:
    *_, metadata, _ = run("Domestic Homicide Review: Executive Summary", sentence)
    assert metadata["relationship"] == relationship


def test_no_relationship_when_none_is_stated() -> None:
    *_, metadata, _ = run(
        "Domestic Homicide Review: Executive Summary", "The family asked for the review."
    )
    assert "relationship" not in metadata


def test_agencies_from_the_panel_membership_table() -> None:
    *_, metadata, _ = run(
        "Domestic Homicide Review: Anna",
        ("Panel membership", 2),
        ("2.4 The panel met six times and the chair is independent of every agency.", 2),
        ("Name | Role | Agency", 2, "table_row"),
        ("J. Okafor | Independent Chair | Independent", 2, "table_row"),
        ("S. Brennan | Detective Inspector | Northvale Police", 2, "table_row"),
        ("R. Dunn | Sergeant | Northvale Police", 2, "table_row"),
        ("P. Iqbal | Named Nurse | Northvale Integrated Care Board", 2, "table_row"),
        ("Equality and diversity", 3),
        ("Name | Protected characteristic", 3, "table_row"),
    )
    assert metadata["agencies"] == ["Northvale Police", "Northvale Integrated Care Board"]


def test_panel_table_without_an_agency_column_gives_no_agencies() -> None:
    *_, metadata, _ = run(
        "Safeguarding Adults Review: Mr K",
        ("Panel membership", 2),
        ("Name | Role", 2, "table_row"),
        ("J. Okafor | Independent Chair", 2, "table_row"),
    )
    assert "agencies" not in metadata


def test_judgement_stated_in_a_sentence_with_the_service_named() -> None:
    *_, metadata, _ = run(
        "Inspection of Westvale local authority children's services",
        "The overall effectiveness of children's services in Westvale is judged to be inadequate.",
        "The experiences and progress of care leavers are good.",
    )
    assert metadata["judgements"] == {
        "overall_effectiveness": "inadequate",
        "care_leavers": "good",
    }
