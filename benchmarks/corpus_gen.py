"""A deterministic, fictional, already-tagged library for measuring search backends.

Documents are composed from review-style sentence fragments written for this project, one bank
per theme plus neutral chronology, so passages read like reviews and carry realistic themes,
agencies, stances and sections; some themes grow in recent years so emerging-term scoring has a
signal to find. Lemma streams are made per sentence with `nlp.analysis.lemma_text` and cached:
spaCy tokenises whitespace-separated sentences independently, so joining cached streams equals
analysing the whole passage, and generation stays fast.

    .venv/bin/python -m benchmarks.corpus_gen --docs 2000 --out data/bench.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from nlp.analysis import lemma_text
from reviewlens.model import Document, Passage, Recommendation, Section, ThemeTag

YEARS = range(2014, 2026)
AREAS = [
    "Northfield", "Eastmoor", "Westbridge", "Southdale", "Ashcombe", "Brindlemere",
    "Coldharbour", "Dunmore Vale", "Elmstead", "Foxley", "Greywater", "Hollinsford",
]  # fmt: skip
DOC_TYPES = [
    ("cspr", 30), ("scr", 14), ("dhr", 14), ("sar", 12), ("ofsted_ilacs", 8), ("jtai", 4),
    ("audit", 8), ("briefing", 6), ("national_review", 2), ("section11", 2),
]  # fmt: skip
AGENCIES = {
    "the police": "police",
    "the health visitor": "health",
    "the GP": "gp",
    "children's social care": "children's social care",
    "the school": "school",
    "adult social care": "adult social care",
    "the housing provider": "housing",
    "the probation service": "probation",
    "the midwife": "health",
    "the hospital": "health",
    "CAMHS": "camhs",
    "the early help team": "early help",
}
CHILDREN = ["Child A", "Child B", "the baby", "the older child", "the young person", "Kai", "Mia"]
ADULTS = ["the mother", "the father", "the new partner", "the grandmother", "Mr C", "Ms D"]

# theme id -> (sentence templates, first year it appears often, growth per year)
THEMES: dict[str, tuple[list[str], int, float]] = {
    "neglect": (
        [
            "{child} lived with chronic neglect and the home conditions were poor for months.",
            "Neglect was seen as low level by {agency} and was not escalated.",
            "The cumulative impact of neglect on {child} was not recognised.",
            "Missed health appointments were an early sign of neglect.",
        ],
        2014,
        0.0,
    ),
    "domestic_abuse": (
        [
            "{adult} disclosed domestic abuse to {agency} but no referral followed.",
            "Domestic abuse incidents were treated as separate events rather than a pattern.",
            "The impact of domestic abuse on {child} was not considered.",
        ],
        2014,
        0.0,
    ),
    "coercive_control": (
        [
            "{adult} described coercive control, including monitoring of her phone and money.",
            "Coercive and controlling behaviour was not recognised by {agency}.",
        ],
        2016,
        0.08,
    ),
    "professional_curiosity": (
        [
            "Professionals did not show professional curiosity about who lived in the home.",
            "{agency} accepted explanations without professional curiosity.",
            "Greater curiosity would have revealed the risks to {child}.",
        ],
        2014,
        0.0,
    ),
    "fathers_invisible_men": (
        [
            "{adult} was a hidden man in the household and was never assessed.",
            "Fathers and male carers were rarely engaged by {agency}.",
        ],
        2014,
        0.0,
    ),
    "information_sharing": (
        [
            "Information sharing between {agency} and {agency2} was delayed.",
            "{agency} held information that was not shared with the strategy meeting.",
            "Information was shared promptly through the MASH.",
        ],
        2014,
        0.0,
    ),
    "voice_of_child": (
        [
            "The voice of {child} was not heard in assessments.",
            "{agency} spoke with {child} alone and recorded their wishes and feelings.",
            "The lived experience of {child} was not understood.",
            "The voice of the child was missing from the assessment by {agency}.",
        ],
        2014,
        0.0,
    ),
    "escalation_challenge": (
        [
            "{agency} escalated concerns when the plan was not progressing.",
            "Professionals did not use the escalation policy to challenge decisions.",
        ],
        2014,
        0.0,
    ),
    "risk_assessment": (
        [
            "The risk assessment by {agency} did not consider the history of violence.",
            "A DASH risk assessment rated the risk as standard despite clear warning signs.",
        ],
        2014,
        0.0,
    ),
    "disguised_compliance": (
        [
            "{adult} showed disguised compliance, agreeing to plans that were not followed.",
            "Apparent cooperation masked a lack of change for {child}.",
        ],
        2014,
        0.0,
    ),
    "bruising_non_mobile": (
        [
            "Bruising was seen on {child}, a non-mobile baby, and was not referred.",
            "The bruising protocol for non-mobile babies was not followed by {agency}.",
        ],
        2014,
        0.0,
    ),
    "sudi_safe_sleep": (
        [
            "Safe sleep advice was given by {agency} but co-sleeping continued.",
            "The sudden unexpected death in infancy followed unsafe sleeping arrangements.",
        ],
        2014,
        0.0,
    ),
    "child_sexual_exploitation": (
        [
            "{child} was at risk of child sexual exploitation and went missing often.",
            "CSE screening tools were completed but did not lead to a plan.",
        ],
        2014,
        -0.04,
    ),
    "child_criminal_exploitation": (
        [
            "{child} was criminally exploited through county lines drug dealing.",
            "Exploitation by older males was seen as a lifestyle choice by {agency}.",
        ],
        2017,
        0.1,
    ),
    "online_harm": (
        [
            "{child} was groomed online through a gaming platform.",
            "Online harm and social media contact were not explored by {agency}.",
        ],
        2019,
        0.18,
    ),
    "adult_mental_health": (
        [
            "{adult} had long-standing mental health needs and missed appointments.",
            "Parental mental health was assessed by {agency} without considering {child}.",
        ],
        2014,
        0.02,
    ),
    "substance_misuse": (
        [
            "Parental substance misuse affected the care of {child}.",
            "{adult} was drinking heavily and drug testing was not repeated.",
        ],
        2014,
        0.0,
    ),
    "self_neglect": (
        [
            "{adult} lived with severe self-neglect and hoarding.",
            "Self-neglect was accepted as a lifestyle choice by {agency}.",
        ],
        2015,
        0.04,
    ),
    "mental_capacity": (
        [
            "A mental capacity assessment was not completed before the decision.",
            "{agency} assumed capacity without assessing executive functioning.",
        ],
        2015,
        0.03,
    ),
    "transitions_to_adulthood": (
        [
            "The transition to adult services left {child} without support at eighteen.",
            "Transitional safeguarding arrangements were unclear between services.",
        ],
        2016,
        0.06,
    ),
    "supervision_workload": (
        [
            "High caseloads and staff turnover in {agency} reduced the quality of work.",
            "Supervision did not challenge drift in the plan.",
        ],
        2014,
        0.03,
    ),
    "early_help": (
        [
            "An early help assessment was offered but the family declined.",
            "The early help plan closed before change was sustained.",
        ],
        2014,
        0.0,
    ),
    "economic_abuse": (
        [
            "{adult} experienced economic abuse and had no access to money.",
            "Cost of living pressures increased the economic control over {adult}.",
        ],
        2021,
        0.2,
    ),
    "self_harm_suicide": (
        [
            "{child} self-harmed and the risk of suicide was not reassessed.",
            "CAMHS thresholds meant {child} waited months for support after self-harm.",
        ],
        2014,
        0.05,
    ),
}
# chronology is most of a review: built from parts so that, as in real reviews, any one
# phrase appears in a small share of passages
NEUTRAL_ACTIONS = [
    "visited the family at home",
    "held a strategy meeting and a section 47 enquiry followed",
    "reviewed the case at the core group meeting",
    "completed an assessment within timescales",
    "made a referral to the front door",
    "closed the case after a single visit",
    "offered a parenting programme",
    "recorded a missed appointment",
    "saw the children at school",
    "arranged a child protection medical",
    "attended the initial child protection conference",
    "wrote to the family about the next appointment",
    "noted that the family had moved address",
    "allocated a new social worker",
    "received a notification from the police",
    "shared the plan with the family",
    "agreed a safety plan with the mother",
    "completed a home conditions checklist",
    "discussed the case in supervision",
    "spoke to the grandparents by telephone",
    "updated the chronology",
    "arranged a professionals meeting",
    "invited the father to the review meeting",
    "offered a carers assessment",
    "checked the records held by other agencies",
    "reduced the frequency of visits",
    "made a safeguarding adults referral",
    "carried out a welfare check",
    "requested a housing assessment",
    "considered the threshold for a child in need plan",
]
WHEN = [
    "In the spring", "During the summer holidays", "Over the following weeks", "In early 2019",
    "Shortly afterwards", "Three days later", "At the end of the month", "Before Christmas",
    "Later that year", "In the autumn term", "Within a fortnight", "After the birth",
]  # fmt: skip
GOOD_PRACTICE = [
    "{agency} showed tenacity and kept in touch with the family.",
    "The practitioner from {agency} built a trusting relationship with {child}.",
    "Good practice was seen in the timely response of {agency}.",
]
RECOMMENDATIONS = [
    "The partnership should ensure that {topic} is covered in multi-agency training.",
    "{agency} should review its guidance on {topic} and report back to the board.",
    "The board should seek assurance that learning about {topic} is embedded in practice.",
    "Agencies should improve information sharing about {topic} with {agency}.",
    "The partnership should audit practice on {topic} within twelve months.",
]
TOPICS = {
    "neglect": "neglect",
    "domestic_abuse": "domestic abuse",
    "coercive_control": "coercive control",
    "professional_curiosity": "professional curiosity",
    "fathers_invisible_men": "engaging fathers",
    "information_sharing": "information sharing",
    "voice_of_child": "the voice of the child",
    "escalation_challenge": "escalation",
    "risk_assessment": "risk assessment",
    "disguised_compliance": "disguised compliance",
    "bruising_non_mobile": "bruising in non-mobile babies",
    "sudi_safe_sleep": "safe sleep",
    "child_sexual_exploitation": "child sexual exploitation",
    "child_criminal_exploitation": "criminal exploitation",
    "online_harm": "online harm",
    "adult_mental_health": "parental mental health",
    "substance_misuse": "substance misuse",
    "self_neglect": "self-neglect",
    "mental_capacity": "mental capacity",
    "transitions_to_adulthood": "transitions to adulthood",
    "supervision_workload": "supervision",
    "early_help": "early help",
    "economic_abuse": "economic abuse",
    "self_harm_suicide": "self-harm",
}
SECTION_PLAN = [
    ("Summary", "summary", 0.05),
    ("Background", "background", 0.10),
    ("Chronology", "chronology", 0.25),
    ("Analysis", "analysis", 0.25),
    ("Findings", "findings", 0.20),
    ("What worked well", "good_practice", 0.05),
    ("Recommendations", "recommendations", 0.10),
]
TITLES = {
    "cspr": "Child Safeguarding Practice Review",
    "scr": "Serious Case Review",
    "dhr": "Domestic Homicide Review",
    "sar": "Safeguarding Adult Review",
    "ofsted_ilacs": "Inspection of local authority children's services",
    "jtai": "Joint targeted area inspection",
    "audit": "Multi-agency audit report",
    "briefing": "Learning briefing",
    "national_review": "National review",
    "section11": "Section 11 audit",
}
STANCE_BY_KIND = {
    "findings": "worried",
    "analysis": "worried",
    "good_practice": "worked_well",
    "recommendations": "needs_to_happen",
}


class _Lemmas:
    """Per-sentence lemma cache (see the module docstring for why joining is exact)."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def __call__(self, sentence: str) -> str:
        value = self.cache.get(sentence)
        if value is None:
            value = self.cache[sentence] = lemma_text(sentence)
        return value


def _weight(theme: str, year: int) -> float:
    _, start, growth = THEMES[theme]
    if year < start:
        return 0.05
    return max(0.1, 1.0 + growth * (year - 2014) * 3)


class CorpusGenerator:
    def __init__(self, seed: int = 20241) -> None:
        self.seed = seed
        self.lemmas = _Lemmas()

    def _fill(self, rng: random.Random, template: str) -> tuple[str, list[str]]:
        agencies: list[str] = []
        text = template
        for slot in ("{agency}", "{agency2}"):
            if slot in text:
                name = rng.choice(list(AGENCIES))
                agencies.append(AGENCIES[name])
                text = text.replace(slot, name)
        text = text.replace("{child}", rng.choice(CHILDREN)).replace("{adult}", rng.choice(ADULTS))
        return text[0].upper() + text[1:], agencies

    def document(self, number: int) -> Document:
        rng = random.Random(f"{self.seed}:{number}")
        doc_type = rng.choices([t for t, _ in DOC_TYPES], [w for _, w in DOC_TYPES])[0]
        year = rng.choice(YEARS)
        published = date(year, rng.randint(1, 12), rng.randint(1, 28))
        area = rng.choice(AREAS)
        themes = list(THEMES)
        focus: list[str] = []
        target = rng.randint(3, 6)
        while len(focus) < target:
            pick = rng.choices(themes, [_weight(t, year) for t in themes])[0]
            if pick not in focus:
                focus.append(pick)
        n_passages = rng.randint(60, 140)
        passages: list[Passage] = []
        sections: list[Section] = []
        for heading, kind, share in SECTION_PLAN:
            count = max(1, round(n_passages * share))
            sections.append(Section(heading=heading, kind=kind))
            for n in range(count):
                passages.append(
                    self._passage(
                        rng, len(passages), heading, kind, focus, f"{len(sections)}.{n + 1}"
                    )
                )
        for p in passages:
            p.page = 1 + p.index // 4
        recs = [
            Recommendation(
                number=str(n + 1),
                text=self._fill(rng, rng.choice(RECOMMENDATIONS))[0].replace(
                    "{topic}", TOPICS[rng.choice(focus)]
                ),
                addressee="The partnership",
            )
            for n in range(rng.randint(3, 8))
        ]
        theme_counts: dict[str, int] = {}
        for p in passages:
            for t in p.themes:
                theme_counts[t.id] = theme_counts.get(t.id, 0) + 1
        key = f"reviewlens-bench:{self.seed}:{number}"
        return Document(
            id=hashlib.sha256(key.encode()).hexdigest(),
            file_name=f"review-{number:05d}.pdf",
            media_type="application/pdf",
            size_bytes=rng.randint(80_000, 2_000_000),
            doc_type=doc_type,
            title=f"{TITLES[doc_type]}: {area} ({number:05d})",
            date=published,
            year=year,
            page_count=passages[-1].page or 1,
            metadata={"area": area},
            sections=sections,
            passages=passages,
            recommendations=recs,
            themes=theme_counts,
        )

    def _passage(
        self,
        rng: random.Random,
        index: int,
        heading: str,
        kind: str,
        focus: list[str],
        paragraph: str,
    ) -> Passage:
        sentences: list[str] = []
        tags: dict[str, str] = {}
        agencies: list[str] = []
        for _ in range(rng.randint(2, 4)):
            roll = rng.random()
            if roll < 0.45:
                theme = rng.choice(focus) if rng.random() < 0.85 else rng.choice(list(THEMES))
                template = rng.choice(THEMES[theme][0])
            elif kind == "good_practice":
                theme, template = "", rng.choice(GOOD_PRACTICE)
            else:
                action = rng.choice(NEUTRAL_ACTIONS)
                when = rng.choice(WHEN) + ", " if rng.random() < 0.5 else ""
                theme, template = "", f"{when}{{agency}} {action}."
            text, named = self._fill(rng, template)
            sentences.append(text)
            agencies.extend(named)
            if theme:
                tags.setdefault(theme, text)
        text = " ".join(sentences)
        stance = STANCE_BY_KIND.get(kind)
        return Passage(
            index=index,
            text=text,
            paragraph=paragraph,
            section=heading,
            section_kind=kind,
            lemmas=" ".join(self.lemmas(s) for s in sentences),
            themes=[
                ThemeTag(id=t, label=t.replace("_", " "), evidence=[ev]) for t, ev in tags.items()
            ],
            agencies=list(dict.fromkeys(agencies)),
            stance=stance,
            is_recommendation=kind == "recommendations",
        )

    def documents(self, count: int) -> Iterator[Document]:
        for number in range(count):
            yield self.document(number)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20241)
    parser.add_argument("--out", type=Path, help="write JSON lines here (default: stdout)")
    args = parser.parse_args(argv)
    generator = CorpusGenerator(args.seed)
    out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    try:
        for doc in generator.documents(args.docs):
            out.write(doc.model_dump_json() + "\n")
    finally:
        if args.out:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
