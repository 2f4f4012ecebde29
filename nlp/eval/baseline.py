"""A keyword baseline: tag a theme whenever any of its THEMES.md signal words appears.

It exists to show what the evaluation set can tell apart. A tagger that cannot beat plain keyword
matching, especially on negated and passing mentions, has not learned anything the set measures.
The signal lists are transcribed from `../shared/THEMES.md`; they are deliberately not the
tagger's patterns.

    python -m nlp.eval.baseline             # scores on dev and heldout
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from nlp.eval.check import PASSAGES_PATH, THEME_IDS, EvalPassage, load

SIGNALS: dict[str, tuple[str, ...]] = {
    "neglect": (
        "neglect",
        "home conditions",
        "poor hygiene",
        "tooth decay",
        "missed health appointments",
        "was not brought",
        "malnutrition",
        "graded care profile",
        "gcp2",
        "start-again syndrome",
        "poverty",
    ),
    "domestic_abuse": (
        "da",
        "dv",
        "dva",
        "domestic violence",
        "domestic abuse",
        "marac",
        "idva",
        "dash",
        "clare's law",
        "dvds",
        "dvpn",
        "dvpo",
        "mappa",
        "perpetrator",
        "victim-survivor",
        "separation",
        "stalking",
        "strangulation",
        "refuge",
        "operation encompass",
    ),
    "coercive_control": (
        "coercive control",
        "coercive and controlling",
        "ccb",
        "controlling",
        "isolation from family",
        "monitoring",
        "tracking",
        "jealousy",
        "threats",
    ),
    "economic_abuse": (
        "economic abuse",
        "financial abuse",
        "financial control",
        "coerced debt",
        "benefits",
        "bank cards",
        "power of attorney",
        "cuckooing",
        "financial exploitation",
        "withholding money",
        "cost-of-living",
    ),
    "honour_based_abuse": (
        "hba",
        "hbv",
        "honour",
        "izzat",
        "shame",
        "forced marriage",
        "fmu",
        "fgm",
        "community collusion",
        "extended family",
    ),
    "adult_mental_health": (
        "parental mental health",
        "maternal mental health",
        "perinatal mental health",
        "postnatal depression",
        "psychosis",
        "personality disorder",
        "cmht",
        "crisis team",
        "sectioned",
        "mental health act",
        "depression",
        "anxiety",
        "eating disorder",
        "suicidal thoughts",
    ),
    "substance_misuse": (
        "substance misuse",
        "alcohol misuse",
        "drug use",
        "intoxicated",
        "under the influence",
        "heroin",
        "opiates",
        "cannabis",
        "methadone",
        "dependency",
        "detox",
        "drug and alcohol service",
    ),
    "toxic_trio": (
        "toxic trio",
        "trio of vulnerabilities",
        "cumulative risk",
        "cumulative harm",
        "co-existing",
        "combination",
        "multiple adversities",
        "parental factors",
    ),
    "child_sexual_abuse": (
        "csa",
        "sexual abuse",
        "sexually abused",
        "intrafamilial",
        "disclosure",
        "rape",
        "sex offender",
        "harmful sexual behaviour",
        "hsb",
        "indecent images",
        "abe interview",
        "sarc",
    ),
    "child_sexual_exploitation": (
        "cse",
        "sexual exploitation",
        "grooming",
        "older boyfriend",
        "gifts",
        "hotels",
        "taxis",
        "party houses",
        "missing episodes",
        "exploitation screening tool",
        "mace",
        "nrm",
    ),
    "child_criminal_exploitation": (
        "cce",
        "county lines",
        "drug running",
        "gangs",
        "cuckooing",
        "knife crime",
        "serious youth violence",
        "debt bondage",
        "trafficking",
        "nrm",
        "yot",
        "youth justice",
        "extra-familial",
        "contextual harm",
    ),
    "online_harm": (
        "online abuse",
        "online grooming",
        "social media",
        "sexting",
        "nudes",
        "image-based abuse",
        "cyberbullying",
        "harmful content",
        "gaming",
        "livestream",
        "ceop",
        "internet",
    ),
    "missing_from_home_care": (
        "missing episode",
        "runaway",
        "absent",
        "return home interview",
        "rhi",
        "missing from care",
        "philomena protocol",
        "missing report",
    ),
    "children_missing_education": (
        "cme",
        "elective home education",
        "ehe",
        "home educated",
        "exclusion",
        "off-rolling",
        "part-time timetable",
        "persistent absence",
        "alternative provision",
        "not in school",
    ),
    "nai_infants": (
        "nai",
        "non-accidental injury",
        "abusive head trauma",
        "aht",
        "shaken baby",
        "fracture",
        "subdural",
        "skeletal survey",
        "crying",
        "icon",
        "pre-birth assessment",
        "under-1s",
    ),
    "bruising_non_mobile": (
        "bruise",
        "bruising",
        "non-mobile",
        "immobile",
        "pre-mobile",
        "not independently mobile",
        "bruising protocol",
        "paediatric assessment",
        "unexplained mark",
    ),
    "sudi_safe_sleep": (
        "sudi",
        "sids",
        "co-sleeping",
        "bed-sharing",
        "sofa",
        "safer sleep",
        "lullaby trust",
        "out of routine",
        "overlay",
        "unexplained infant death",
    ),
    "child_mental_health": (
        "camhs",
        "emotional wellbeing",
        "anxiety",
        "depression",
        "eating disorder",
        "tier 4",
        "mhst",
        "psychological support",
        "trauma",
    ),
    "self_harm_suicide": (
        "self-harm",
        "suicide",
        "suicidal ideation",
        "overdose",
        "took own life",
        "ligature",
        "svsda",
        "suspected victim suicide",
        "safety plan",
    ),
    "send_disability": (
        "send",
        "ehcp",
        "learning disability",
        "autism",
        "asd",
        "adhd",
        "non-verbal",
        "deaf",
        "complex health needs",
        "residential special school",
        "communication needs",
        "advocate",
    ),
    "race_ethnicity_culture": (
        "race",
        "racism",
        "ethnicity",
        "culture",
        "faith",
        "adultification",
        "interpreter",
        "language",
        "black",
        "asian",
        "mixed heritage",
        "grt",
        "nrpf",
        "migrant",
        "unconscious bias",
    ),
    "fathers_invisible_men": (
        "invisible men",
        "hidden men",
        "unseen men",
        "father",
        "male carer",
        "mother's partner",
        "boyfriend",
        "stepfather",
        "father figure",
        "engaging fathers",
        "male history",
    ),
    "older_people_carers": (
        "older person",
        "elderly",
        "dementia",
        "carer",
        "carer's assessment",
        "carer stress",
        "power of attorney",
        "care home",
        "frailty",
    ),
    "adult_family_homicide": (
        "adult family homicide",
        "afh",
        "familial",
        "matricide",
        "parricide",
        "son",
        "daughter",
        "sibling",
        "child-to-parent abuse",
        "apva",
    ),
    "self_neglect": (
        "self-neglect",
        "hoarding",
        "squalor",
        "declining care",
        "refusing care",
        "poor self-care",
        "hypothermia",
        "marm",
        "risk management meeting",
        "s42",
    ),
    "mental_capacity": (
        "mca",
        "capacity assessment",
        "best interests",
        "executive function",
        "unwise decision",
        "fluctuating capacity",
        "dols",
        "lps",
        "imca",
        "advocate",
    ),
    "transitions_to_adulthood": (
        "transition",
        "transitional safeguarding",
        "turning 18",
        "preparing for adulthood",
        "care leaver",
        "16-25",
        "adult social care eligibility",
    ),
    "voice_of_child": (
        "voice of the child",
        "lived experience",
        "daily life",
        "wishes and feelings",
        "seen alone",
        "child-centred",
        "what life is like",
        "making safeguarding personal",
        "msp",
    ),
    "professional_curiosity": (
        "professional curiosity",
        "curious",
        "respectful uncertainty",
        "healthy scepticism",
        "face value",
        "over-optimism",
        "did not probe",
        "explore",
    ),
    "information_sharing": (
        "information sharing",
        "records",
        "recording",
        "chronology",
        "gp record",
        "consent",
        "data protection",
        "gdpr",
        "feedback to referrer",
        "not shared",
    ),
    "multi_agency_working": (
        "multi-agency",
        "partnership working",
        "joint working",
        "mash",
        "strategy meeting",
        "taf",
        "mdt",
        "lead professional",
        "siloed",
    ),
    "escalation_challenge": (
        "escalate",
        "challenge",
        "resolving professional differences",
        "deferred to",
        "critical thinking",
        "disagreement",
    ),
    "risk_assessment": (
        "risk assessment",
        "dash",
        "escalating risk",
        "changing risk",
        "analysis",
        "protective factors",
        "over-optimistic",
        "high risk",
        "medium risk",
        "standard risk",
    ),
    "disguised_compliance": (
        "disguised compliance",
        "non-engagement",
        "avoidant",
        "hard to engage",
        "hostile",
        "superficial cooperation",
        "missed appointments",
    ),
    "think_family": (
        "think family",
        "whole family approach",
        "see the adult see the child",
        "parenting capacity",
        "young carers",
    ),
    "early_help": (
        "early help",
        "eha",
        "taf",
        "family hub",
        "supporting families",
        "targeted support",
        "step-down",
        "early intervention",
    ),
    "thresholds": (
        "threshold",
        "continuum of need",
        "level of need",
        "referral",
        "contact",
        "nfa",
        "closed",
        "step up",
        "step down",
        "s17",
        "child in need",
        "cin",
    ),
    "child_protection_process": (
        "strategy discussion",
        "s47",
        "icpc",
        "rcpc",
        "child protection plan",
        "core group",
        "plo",
        "care proceedings",
        "police protection",
    ),
    "supervision_workload": (
        "supervision",
        "management oversight",
        "caseload",
        "workload",
        "turnover",
        "agency staff",
        "capacity",
        "targets",
        "drift",
    ),
    "leadership_learning_culture": (
        "leadership",
        "governance",
        "learning culture",
        "audit",
        "quality assurance",
        "independent scrutiny",
        "safeguarding partners",
        "impact of leaders",
    ),
}


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    """One case-insensitive word-bounded alternation per theme; short signals match whole words."""
    return {
        theme: re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(s) for s in signals) + r")(?:e?s)?(?![\w-])",
            re.IGNORECASE,
        )
        for theme, signals in SIGNALS.items()
    }


def keyword_tags(text: str) -> set[str]:
    """Themes whose signal words occur anywhere in `text`, with no regard to negation."""
    return {theme for theme, pattern in _patterns().items() if pattern.search(text)}


@dataclass(frozen=True)
class Scores:
    """Micro-averaged figures plus the share of negated or passing mentions that were tagged."""

    precision: float
    recall: float
    f1: float
    trap_fp_rate: float
    per_theme_f1: dict[str, float]


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def score(passages: Iterable[EvalPassage], tagger: Callable[[str], set[str]]) -> Scores:
    """Score any text -> theme-id-set function on labelled passages."""
    tp: dict[str, int] = dict.fromkeys(THEME_IDS, 0)
    fp: dict[str, int] = dict.fromkeys(THEME_IDS, 0)
    fn: dict[str, int] = dict.fromkeys(THEME_IDS, 0)
    traps = trapped = 0
    for p in passages:
        predicted = tagger(p.text) & set(THEME_IDS)
        gold = set(p.themes)
        for theme in predicted & gold:
            tp[theme] += 1
        for theme in predicted - gold:
            fp[theme] += 1
        for theme in gold - predicted:
            fn[theme] += 1
        traps += len(p.mentions_not_tagged)
        trapped += len(predicted & set(p.mentions_not_tagged))
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision, recall = _ratio(all_tp, all_tp + all_fp), _ratio(all_tp, all_tp + all_fn)
    per_theme = {
        t: _ratio(2 * tp[t], 2 * tp[t] + fp[t] + fn[t]) for t in THEME_IDS if tp[t] + fn[t]
    }
    return Scores(
        precision=precision,
        recall=recall,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        trap_fp_rate=_ratio(trapped, traps),
        per_theme_f1=per_theme,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Keyword baseline on the evaluation set.")
    parser.add_argument("--per-theme", action="store_true", help="also print F1 per theme")
    args = parser.parse_args(argv)
    passages = load(PASSAGES_PATH)
    for split in ("dev", "heldout"):
        result = score([p for p in passages if p.split == split], keyword_tags)
        print(
            f"{split:<8} micro P {result.precision:.3f}  R {result.recall:.3f}"
            f"  F1 {result.f1:.3f}  negated/passing mentions tagged {result.trap_fp_rate:.1%}"
        )
        if args.per_theme:
            for theme, f1 in sorted(result.per_theme_f1.items(), key=lambda kv: kv[1]):
                print(f"    {theme:<30} {f1:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
