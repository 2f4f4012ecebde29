"""The labelled evaluation set is the tagger's yardstick: these tests keep it well formed, big
enough, balanced across themes and splits, and consistent with its own labelling conventions."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from nlp.eval import check
from nlp.eval.baseline import keyword_tags, score
from nlp.eval.check import EvalPassage, assign_splits, load, validate

PASSAGES = Path(__file__).resolve().parents[2] / "nlp" / "eval" / "passages.jsonl"

# the 40 theme ids of ../shared/THEMES.md, copied here so a drift in either list is caught
THEMES_MD_IDS = {
    "neglect",
    "domestic_abuse",
    "coercive_control",
    "economic_abuse",
    "honour_based_abuse",
    "adult_mental_health",
    "substance_misuse",
    "toxic_trio",
    "child_sexual_abuse",
    "child_sexual_exploitation",
    "child_criminal_exploitation",
    "online_harm",
    "missing_from_home_care",
    "children_missing_education",
    "nai_infants",
    "bruising_non_mobile",
    "sudi_safe_sleep",
    "child_mental_health",
    "self_harm_suicide",
    "send_disability",
    "race_ethnicity_culture",
    "fathers_invisible_men",
    "older_people_carers",
    "adult_family_homicide",
    "self_neglect",
    "mental_capacity",
    "transitions_to_adulthood",
    "voice_of_child",
    "professional_curiosity",
    "information_sharing",
    "multi_agency_working",
    "escalation_challenge",
    "risk_assessment",
    "disguised_compliance",
    "think_family",
    "early_help",
    "thresholds",
    "child_protection_process",
    "supervision_workload",
    "leadership_learning_culture",
}
FIELDS = {"id", "text", "themes", "mentions_not_tagged", "stance", "split", "style"}
STYLES = {
    "cspr",
    "scr",
    "national_review",
    "dhr",
    "sar",
    "ofsted_ilacs",
    "jtai",
    "audit",
    "briefing",
}
TRIO = {"domestic_abuse", "adult_mental_health", "substance_misuse"}


@pytest.fixture(scope="module")
def raw() -> list[dict[str, object]]:
    with PASSAGES.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def passages() -> list[EvalPassage]:
    return load(PASSAGES)


def _themes(record: dict[str, object], key: str) -> list[str]:
    value = record[key]
    assert isinstance(value, list)
    return [str(v) for v in value]


def test_theme_list_matches_themes_md() -> None:
    assert len(THEMES_MD_IDS) == 40
    assert set(check.THEME_IDS) == THEMES_MD_IDS
    assert len(check.THEME_IDS) == 40


def test_every_line_has_exactly_the_fields_with_the_right_types(
    raw: list[dict[str, object]],
) -> None:
    for record in raw:
        assert set(record) == FIELDS, record.get("id")
        assert isinstance(record["id"], str) and re.fullmatch(r"p\d{4}", record["id"])
        assert isinstance(record["text"], str) and record["text"].strip() == record["text"]
        assert record["stance"] in {"worked_well", "worried", "needs_to_happen", None}
        assert record["split"] in {"dev", "heldout"}
        assert record["style"] in STYLES
        assert set(_themes(record, "themes")) <= THEMES_MD_IDS
        assert set(_themes(record, "mentions_not_tagged")) <= THEMES_MD_IDS


def test_ids_are_unique(raw: list[dict[str, object]]) -> None:
    ids = [record["id"] for record in raw]
    assert len(ids) == len(set(ids))


def test_no_passage_is_duplicated_or_nearly_so(passages: list[EvalPassage]) -> None:
    words = {p.id: set(re.findall(r"[a-z]+", p.text.lower())) for p in passages}
    assert len({" ".join(p.text.lower().split()) for p in passages}) == len(passages)
    close = [
        (a, b)
        for a, b in itertools.combinations(words, 2)
        if len(words[a] & words[b]) / len(words[a] | words[b]) > 0.6
    ]
    assert close == []


def test_sizes_and_coverage(passages: list[EvalPassage]) -> None:
    assert len(passages) >= 300
    assert sum(1 for p in passages if p.mentions_not_tagged) >= 80
    untagged = sum(1 for p in passages if not p.themes)
    assert 15 <= untagged <= 50
    positives = Counter(t for p in passages for t in p.themes)
    assert {t: n for t, n in positives.items() if n < 5} == {}
    assert set(positives) == THEMES_MD_IDS
    assert {p.style for p in passages} == STYLES
    assert {p.stance for p in passages} == {"worked_well", "worried", "needs_to_happen", None}


def test_every_theme_has_positives_in_both_splits(passages: list[EvalPassage]) -> None:
    for split in ("dev", "heldout"):
        present = Counter(t for p in passages if p.split == split for t in p.themes)
        missing = sorted(t for t in THEMES_MD_IDS if present[t] < 2)
        assert missing == [], split


def test_split_shares_are_about_sixty_forty(passages: list[EvalPassage]) -> None:
    share = sum(1 for p in passages if p.split == "dev") / len(passages)
    assert 0.55 <= share <= 0.65


def test_splits_are_the_deterministic_assignment(passages: list[EvalPassage]) -> None:
    assert assign_splits(passages) == {p.id: p.split for p in passages}
    assert assign_splits(reversed(passages)) == assign_splits(passages)


def test_texts_are_one_to_five_sentences(passages: list[EvalPassage]) -> None:
    for p in passages:
        sentences = [s for s in re.split(r"(?<=[.!?\"])\s+(?=[A-Z\"])", p.text) if s]
        assert 1 <= len(sentences) <= 5, p.id


def test_tagged_and_not_tagged_never_overlap(passages: list[EvalPassage]) -> None:
    assert [p.id for p in passages if set(p.themes) & set(p.mentions_not_tagged)] == []


def test_labelling_conventions_hold(passages: list[EvalPassage]) -> None:
    """The README's overlap conventions, checked so a later label cannot quietly break them."""
    for p in passages:
        themes = set(p.themes)
        if "toxic_trio" in themes:
            assert len(themes & TRIO) >= 2, p.id
        if themes & {"adult_family_homicide", "coercive_control"}:
            assert "domestic_abuse" in themes, p.id


def test_the_committed_file_validates_cleanly(passages: list[EvalPassage]) -> None:
    report = validate(passages)
    assert report.errors == []
    assert report.passages == len(passages)


def _record(pid: str, themes: list[str], **overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": pid,
        "text": f"Passage {pid} about practice.",
        "themes": themes,
        "mentions_not_tagged": [],
        "stance": None,
        "split": "dev",
        "style": "cspr",
    }
    record.update(overrides)
    return record


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_load_reports_every_bad_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.jsonl",
        [
            _record("p0001", ["neglect", "not_a_theme"]),
            _record("p0002", ["neglect"], stance="maybe"),
            _record("p0003", ["neglect"], mentions_not_tagged=["neglect"]),
            {"id": "p0004", "text": "missing fields"},
        ],
    )
    with pytest.raises(ValueError) as excinfo:
        load(path)
    message = str(excinfo.value)
    assert "line 1" in message and "not_a_theme" in message
    assert "line 2" in message and "maybe" in message
    assert "line 3" in message and "both tagged and listed" in message
    assert "line 4" in message and "missing" in message


def test_validate_catches_duplicates_and_thin_themes(tmp_path: Path) -> None:
    records = [_record(f"p{i:04d}", ["neglect"]) for i in range(1, 11)]
    records.append(_record("p0005", ["neglect"], text="Passage p0001 about practice."))
    report = validate(load(_write(tmp_path / "dupes.jsonl", records)))
    joined = "\n".join(report.errors)
    assert "id p0005 used 2 times" in joined
    assert "duplicated passage text" in joined
    assert "theme domestic_abuse: 0 positives" in joined


def test_assign_splits_puts_every_theme_in_both_splits() -> None:
    # forty passages of a common theme and four of a rare one: whatever the id hashes say,
    # the rare theme must end up with two positives in each split
    common = [
        EvalPassage(f"p{i:04d}", f"text {i}", ("neglect",), (), None, "dev", "cspr")
        for i in range(1, 41)
    ]
    rare = [
        EvalPassage(
            f"q{i:04d}", f"rare {i}", ("neglect", "sudi_safe_sleep"), (), None, "dev", "cspr"
        )
        for i in range(1, 5)
    ]
    splits = assign_splits(common + rare)
    rare_splits = Counter(splits[p.id] for p in rare)
    assert rare_splits["dev"] >= 2 and rare_splits["heldout"] >= 2
    heldout = sum(1 for s in splits.values() if s == "heldout") / len(splits)
    assert 0.25 <= heldout <= 0.55


def test_write_round_trips_and_fixes_splits(tmp_path: Path, passages: list[EvalPassage]) -> None:
    path = tmp_path / "copy.jsonl"
    scrambled = [
        EvalPassage(p.id, p.text, p.themes, p.mentions_not_tagged, p.stance, "dev", p.style)
        for p in passages
    ]
    check.write(scrambled, path)
    assert load(path) == passages


def test_keyword_baseline_ignores_negation_by_design() -> None:
    assert "domestic_abuse" in keyword_tags("There was no evidence of domestic abuse.")
    assert "sudi_safe_sleep" in keyword_tags("The baby slept on the sofa with her father.")
    assert "sudi_safe_sleep" not in keyword_tags("The family sat in the lounge.")
    # a short signal must not fire inside a longer word
    assert "domestic_abuse" not in keyword_tags("The daughter was seen today.")


def test_score_counts_hits_misses_and_tagged_traps() -> None:
    def make(pid: str, text: str, themes: tuple[str, ...], traps: tuple[str, ...]) -> EvalPassage:
        return EvalPassage(pid, text, themes, traps, None, "dev", "cspr")

    sample = [
        make("p0001", "a", ("neglect",), ("domestic_abuse",)),
        make("p0002", "b", ("neglect", "early_help"), ()),
        make("p0003", "c", (), ("neglect",)),
    ]
    predictions = {"a": {"neglect", "domestic_abuse"}, "b": {"neglect"}, "c": set[str]()}
    result = score(sample, lambda text: predictions[text])
    # tp 2 (neglect twice), fp 1 (domestic_abuse), fn 1 (early_help)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)
    assert result.trap_fp_rate == pytest.approx(1 / 2)
    assert result.per_theme_f1["neglect"] == pytest.approx(1.0)
    assert result.per_theme_f1["early_help"] == pytest.approx(0.0)


def test_the_set_is_harder_than_keyword_matching(passages: list[EvalPassage]) -> None:
    """Passages were written by meaning: signal words alone must not solve the set."""
    result = score([p for p in passages if p.split == "heldout"], keyword_tags)
    assert result.f1 < 0.7
    assert result.trap_fp_rate > 0.3
