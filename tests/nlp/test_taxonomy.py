"""The taxonomy is data a QA lead edits: it must load, version itself, and fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from nlp_fixtures import SMALL_TAXONOMY, small_taxonomy

from nlp.taxonomy import DEFAULT_TAXONOMY, load_taxonomy, parse_taxonomy
from reviewlens.errors import TaxonomyError

THEME_IDS = {
    "neglect", "domestic_abuse", "coercive_control", "economic_abuse", "honour_based_abuse",
    "adult_mental_health", "substance_misuse", "toxic_trio", "child_sexual_abuse",
    "child_sexual_exploitation", "child_criminal_exploitation", "online_harm",
    "missing_from_home_care", "children_missing_education", "nai_infants", "bruising_non_mobile",
    "sudi_safe_sleep", "child_mental_health", "self_harm_suicide", "send_disability",
    "race_ethnicity_culture", "fathers_invisible_men", "older_people_carers",
    "adult_family_homicide", "self_neglect", "mental_capacity", "transitions_to_adulthood",
    "voice_of_child", "professional_curiosity", "information_sharing", "multi_agency_working",
    "escalation_challenge", "risk_assessment", "disguised_compliance", "think_family",
    "early_help", "thresholds", "child_protection_process", "supervision_workload",
    "leadership_learning_culture",
}  # fmt: skip


def test_default_taxonomy_has_the_forty_shared_ids_in_four_groups() -> None:
    taxonomy = load_taxonomy()
    assert {theme.id for theme in taxonomy.themes} == THEME_IDS
    assert set(taxonomy.groups) == {
        "partnership_priorities",
        "practice_system",
        "child_specific",
        "adult_dhr",
    }
    assert {theme.group for theme in taxonomy.themes} == set(taxonomy.groups)
    for theme in taxonomy.themes:
        assert theme.label and theme.description
        assert theme.phrases or theme.abbreviations or theme.token_patterns


def test_version_joins_declared_version_and_content_hash(tmp_path: Path) -> None:
    first = small_taxonomy(tmp_path)
    assert first.declared_version == "test-1"
    assert first.version.startswith("test-1+")
    # an undeclared edit (one more phrase) still changes the version
    edited = small_taxonomy(tmp_path, SMALL_TAXONOMY.replace("[neglect,", "[neglect, neglectful,"))
    assert edited.declared_version == "test-1"
    assert edited.version != first.version
    assert small_taxonomy(tmp_path).version == first.version


def test_abbreviations_expand_query_terms(tmp_path: Path) -> None:
    taxonomy = small_taxonomy(tmp_path)
    assert taxonomy.abbreviations["nai"] == ["non-accidental injury"]
    assert taxonomy.abbreviations["la"] == ["local authority"]
    assert taxonomy.expand_query_term("MARAC") == [
        "MARAC",
        "multi-agency risk assessment conference",
    ]
    assert taxonomy.expand_query_term("da") == ["da", "domestic abuse"]
    assert taxonomy.expand_query_term("bruise") == ["bruise"]
    default = load_taxonomy()
    assert "child sexual exploitation" in default.expand_query_term("CSE")
    assert "education health and care plan" in default.abbreviations["ehcp"]


def _error(text: str) -> str:
    with pytest.raises(TaxonomyError) as caught:
        parse_taxonomy(text.encode(), source="t.yaml")
    assert caught.value.code == "invalid_taxonomy"
    return str(caught.value)


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = text.splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if needle in line]
    return hits[occurrence - 1]


def test_duplicate_id_names_line_theme_and_first_definition() -> None:
    text = SMALL_TAXONOMY.replace("  - id: information_sharing", "  - id: neglect")
    message = _error(text)
    line = _line_of(text, "- id: neglect", 2)
    assert message.startswith(f"t.yaml:{line}: theme 'neglect': duplicate id")
    assert f"line {_line_of(text, '- id: neglect')}" in message


def test_unknown_group_points_at_the_group_line() -> None:
    text = SMALL_TAXONOMY.replace("group: practice\n", "group: pratice\n")
    message = _error(text)
    line = _line_of(text, "group: pratice")
    assert message == f"t.yaml:{line}: theme 'information_sharing': unknown group 'pratice'"


def test_invalid_token_pattern_is_reported_with_its_theme() -> None:
    text = SMALL_TAXONOMY.replace("{LEMMA: mark}", "{LEMMMA: mark}")
    message = _error(text)
    assert f"t.yaml:{_line_of(text, 'token_patterns')}: theme 'bruising': token_patterns:" in (
        message
    )
    assert "token pattern 1" in message


def test_missing_label_unknown_field_and_empty_phrase() -> None:
    text = SMALL_TAXONOMY.replace("    label: Bruising\n", "")
    assert "theme 'bruising': label: is required" in _error(text)
    text = SMALL_TAXONOMY.replace("    label: Bruising\n", "    label: Bruising\n    colour: red\n")
    message = _error(text)
    assert f"t.yaml:{_line_of(text, 'colour: red')}: theme 'bruising': colour:" in message
    text = SMALL_TAXONOMY.replace("[bruise]", '[bruise, " "]')
    assert "theme 'bruising': phrases: a phrase must not be empty" in _error(text)


def test_implies_must_name_a_theme() -> None:
    text = SMALL_TAXONOMY.replace("implies: [domestic_abuse]", "implies: [domestic_abuses]")
    message = _error(text)
    assert message == (
        f"t.yaml:{_line_of(text, 'implies:')}: theme 'coercive_control': "
        "implies unknown theme 'domestic_abuses'"
    )


def test_yaml_syntax_error_and_missing_keys() -> None:
    text = SMALL_TAXONOMY.replace("phrases: [neglect, home conditions]", "phrases: [neglect,")
    assert _error(text).startswith("t.yaml:")
    assert "not valid YAML" in _error(text)
    assert _error('version: "1"\ngroups: {a: A}\n') == "t.yaml:1: missing top-level key 'themes'"
    assert "unknown top-level key 'theme'" in _error(SMALL_TAXONOMY + "theme: []\n")


def test_unreadable_file_is_a_taxonomy_error(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read taxonomy"):
        load_taxonomy(tmp_path / "missing.yaml")


def test_default_path_is_the_bundled_file() -> None:
    assert DEFAULT_TAXONOMY.name == "taxonomy.yaml"
    assert load_taxonomy().source == str(DEFAULT_TAXONOMY)
