"""A small fictional library every backend is tested against.

Six documents, written for these tests, with themes, agencies, stances and sections set by hand
so each expected count below can be checked by reading this file. Lemma streams come from
`nlp.analysis.lemma_text`, exactly as the tagging stage would fill them.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from nlp.analysis import lemma_text
from reviewlens.model import Document, Passage, Recommendation, ThemeTag

ABBREVIATIONS = {
    "cse": ["child sexual exploitation"],
    "da": ["domestic abuse"],
    "marac": ["multi-agency risk assessment conference"],
}


def expand(term: str) -> list[str]:
    """Behaves as the taxonomy's expand_query_term: the term, then its long forms."""
    return [term, *ABBREVIATIONS.get(term.strip().lower(), [])]


def _passage(index: int, text: str, themes: list[str], **fields: Any) -> Passage:
    return Passage(
        index=index,
        text=text,
        lemmas=lemma_text(text),
        themes=[
            ThemeTag(id=t, label=t.replace("_", " ").title(), evidence=[t.replace("_", " ")])
            for t in themes
        ],
        **fields,
    )


def _doc(key: str, **fields: Any) -> Document:
    return Document(
        id=hashlib.sha256(key.encode()).hexdigest(),
        file_name=f"{key}.pdf",
        media_type="application/pdf",
        size_bytes=1000,
        **fields,
    )


def _recs(*texts: str) -> list[Recommendation]:
    return [Recommendation(number=str(n + 1), text=t) for n, t in enumerate(texts)]


ASHBY = _doc(
    "ashby",
    doc_type="cspr",
    title="Child Safeguarding Practice Review: Baby Ashby",
    date=date(2019, 3, 14),
    year=2019,
    page_count=12,
    metadata={"area": "Northfield"},
    passages=[
        _passage(
            0,
            "This review considers Baby Ashby, a non-mobile baby who was found to have "
            "bruising on two occasions.",
            ["bruising_non_mobile"],
            page=2,
            paragraph="1.1",
            section="Summary",
            section_kind="summary",
            agencies=["health"],
            stance="worried",
        ),
        _passage(
            1,
            "Professionals did not show professional curiosity about the mother's new partner, "
            "who was a hidden man in the household.",
            ["professional_curiosity", "hidden_men"],
            page=5,
            paragraph="4.2",
            section="Findings",
            section_kind="findings",
            agencies=["children's social care"],
            stance="worried",
        ),
        _passage(
            2,
            "Information sharing between the health visitor and the police was delayed by "
            "several weeks.",
            ["information_sharing"],
            page=6,
            paragraph="4.5",
            section="Findings",
            section_kind="findings",
            agencies=["health", "police"],
            stance="worried",
        ),
        _passage(
            3,
            "The health visitor escalated concerns promptly and the escalation was well recorded.",
            ["escalation"],
            page=7,
            paragraph="5.1",
            section="What worked well",
            section_kind="good_practice",
            agencies=["health"],
            stance="worked_well",
        ),
        _passage(
            4,
            "The partnership should ensure that bruised babies are always referred for a "
            "child protection medical.",
            ["bruising_non_mobile"],
            page=9,
            paragraph="7.1",
            section="Recommendations",
            section_kind="recommendations",
            stance="needs_to_happen",
            is_recommendation=True,
        ),
    ],
    recommendations=_recs(
        "The partnership should ensure that any bruising in a non-mobile baby leads to a "
        "child protection medical.",
        "Agencies should improve information sharing with the police about new partners.",
    ),
)

BROOK = _doc(
    "brook",
    doc_type="dhr",
    title="Domestic Homicide Review: Ms Brook",
    date=date(2021, 7, 2),
    year=2021,
    page_count=30,
    metadata={"area": "Eastmoor"},
    passages=[
        _passage(
            0,
            "Ms Brook experienced coercive control over many years; her partner monitored her "
            "phone and her money.",
            ["coercive_control", "domestic_abuse"],
            page=4,
            paragraph="2.3",
            section="Background",
            section_kind="background",
            agencies=["police"],
            stance="worried",
        ),
        _passage(
            1,
            "The MARAC referral was not made although the risk assessment showed high risk.",
            ["domestic_abuse", "risk_assessment"],
            page=11,
            paragraph="6.4",
            section="Analysis",
            section_kind="analysis",
            agencies=["police", "health"],
            stance="worried",
        ),
        _passage(
            2,
            "A note in the GP record read <script>alert('x')</script> & nothing more was written.",
            [],
            page=12,
            paragraph="6.9",
            section="Analysis",
            section_kind="analysis",
            agencies=["gp"],
        ),
        _passage(
            3,
            "Domestic abuse training for practices should be repeated each year.",
            ["domestic_abuse"],
            page=20,
            paragraph="9.2",
            section="Recommendations",
            section_kind="recommendations",
            stance="needs_to_happen",
            is_recommendation=True,
        ),
    ],
    recommendations=_recs(
        "The partnership should ensure that information sharing with the police includes "
        "new partners.",
        "Training on coercive control should be provided to every GP practice.",
    ),
)

CASTLE = _doc(
    "castle",
    doc_type="scr",
    title="Serious Case Review: the Castle children",
    date=date(2016, 11, 20),
    year=2016,
    page_count=25,
    metadata={"area": "Northfield"},
    passages=[
        _passage(
            0,
            "The children lived with chronic neglect and poor home conditions for several years.",
            ["neglect"],
            page=3,
            paragraph="3.1",
            section="Findings",
            section_kind="findings",
            agencies=["children's social care"],
            stance="worried",
        ),
        _passage(
            1,
            "There was evidence of child sexual exploitation of the older child, who went "
            "missing repeatedly.",
            ["child_exploitation"],
            page=8,
            paragraph="3.7",
            section="Findings",
            section_kind="findings",
            agencies=["police"],
            stance="worried",
        ),
        _passage(
            2,
            "Neglect was not escalated to a strategy meeting despite repeated concerns from the "
            "school.",
            ["neglect", "escalation"],
            page=9,
            paragraph="3.9",
            section="Findings",
            section_kind="findings",
            agencies=["school"],
            stance="worried",
        ),
        _passage(
            3,
            "The school worked well with the family and heard the voice of the child.",
            ["voice_of_child"],
            page=14,
            paragraph="5.2",
            section="Good practice",
            section_kind="good_practice",
            agencies=["school"],
            stance="worked_well",
        ),
    ],
    recommendations=_recs(
        "The partnership should ensure that neglect cases are escalated when concerns persist.",
    ),
)

DALE = _doc(
    "dale",
    doc_type="ofsted_ilacs",
    title="Inspection of Westbridge children's services",
    date=date(2023, 2, 10),
    year=2023,
    page_count=18,
    metadata={"area": "Westbridge"},
    passages=[
        _passage(
            0,
            "Social workers visit children regularly and know them well; the voice of the child "
            "is heard in plans.",
            ["voice_of_child"],
            page=2,
            section="Judgements",
            section_kind="judgements",
            agencies=["children's social care"],
            stance="worked_well",
        ),
        _passage(
            1,
            "Managers do not always challenge drift in child in need plans, and neglect is not "
            "always recognised.",
            ["neglect", "escalation"],
            page=6,
            section="Findings",
            section_kind="findings",
            agencies=["children's social care"],
            stance="worried",
        ),
        _passage(
            2,
            "CSE risk is assessed well by the exploitation team.",
            ["child_exploitation", "risk_assessment"],
            page=7,
            section="Findings",
            section_kind="findings",
            agencies=["children's social care", "police"],
            stance="worked_well",
        ),
    ],
)

EVANS = _doc(
    "evans",
    doc_type="sar",
    title="Safeguarding Adult Review: Mr Evans",
    date=date(2024, 9, 30),
    year=2024,
    page_count=22,
    metadata={"area": "Eastmoor"},
    passages=[
        _passage(
            0,
            "Mr Evans lived with severe self-neglect and declined support; his mental capacity "
            "was not assessed.",
            ["self_neglect", "mental_capacity"],
            page=4,
            paragraph="2.1",
            section="Findings",
            section_kind="findings",
            agencies=["adult social care"],
            stance="worried",
        ),
        _passage(
            1,
            "Self-neglect and hoarding increased after his transition from hospital to home.",
            ["self_neglect", "transitions"],
            page=5,
            paragraph="2.4",
            section="Findings",
            section_kind="findings",
            agencies=["health"],
            stance="worried",
        ),
        _passage(
            2,
            "Partners should share information about self-neglect at the point of discharge.",
            ["self_neglect", "information_sharing"],
            page=15,
            paragraph="8.1",
            section="Recommendations",
            section_kind="recommendations",
            stance="needs_to_happen",
            is_recommendation=True,
        ),
    ],
    recommendations=_recs(
        "Agencies should share information about self-neglect at the point of hospital discharge.",
    ),
)

FERN = _doc(
    "fern",
    doc_type="briefing",
    title="Learning briefing: professional curiosity",
    page_count=2,
    passages=[
        _passage(
            0,
            "Professional curiosity means asking about everyone who lives in the household.",
            ["professional_curiosity"],
            page=1,
            section="Key messages",
            section_kind="learning",
        ),
    ],
)

ALL: list[Document] = [ASHBY, BROOK, CASTLE, DALE, EVANS, FERN]
TOTAL_PASSAGES = sum(len(d.passages) for d in ALL)


def ref(doc: Document, index: int) -> tuple[str, int]:
    """How tests name a passage: (document id, passage index)."""
    return (doc.id, index)
