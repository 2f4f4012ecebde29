"""Each pipeline component on a spacy.blank("en") base, with a small fixed taxonomy."""

from __future__ import annotations

from pathlib import Path

import pytest
from nlp_fixtures import SMALL_TAXONOMY, small_taxonomy
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import ConfigValidationError

from nlp.analysis import doc_lemma_tokens, lemma_offsets, lemma_text, lemma_tokens
from nlp.pipeline import (
    AGENCIES,
    NEGATION,
    RECOMMENDATIONS,
    SENTENCES,
    STANCE,
    THEMES,
    build_pipeline,
    new_pipeline,
)


@pytest.fixture(scope="module")
def nlp(tmp_path_factory: pytest.TempPathFactory) -> Language:
    return build_pipeline(small_taxonomy(tmp_path_factory.mktemp("taxonomy")))


def run(nlp: Language, text: str, section_kind: str = "other") -> Doc:
    doc = nlp.make_doc(text)
    doc._.section_kind = section_kind
    return next(iter(nlp.pipe([doc])))


def themes(nlp: Language, text: str, section_kind: str = "other") -> set[str]:
    return set(run(nlp, text, section_kind)._.themes)


def test_pipeline_is_blank_english_with_the_project_components(nlp: Language) -> None:
    assert nlp.lang == "en"
    assert nlp.pipe_names == [
        "reviewlens_lemmatizer",
        SENTENCES,
        THEMES,
        NEGATION,
        AGENCIES,
        RECOMMENDATIONS,
        STANCE,
    ]
    assert nlp.meta["name"] == "pipeline"  # nothing downloaded: spacy.blank's default meta


def test_build_pipeline_is_cached_per_taxonomy_version(tmp_path: Path) -> None:
    taxonomy = small_taxonomy(tmp_path)
    assert build_pipeline(taxonomy) is build_pipeline(taxonomy)
    edited = small_taxonomy(tmp_path, (tmp_path / "taxonomy.yaml").read_text() + "\n# edit\n")
    assert build_pipeline(edited) is not build_pipeline(taxonomy)


# --- lemmas ---------------------------------------------------------------------------------


def test_lemmas_are_lower_cased_before_lookup() -> None:
    assert lemma_tokens("Bruising") == lemma_tokens("bruising") == ["bruise"]
    assert lemma_text("The Children's Voices were HEARD.") == "the child voice be hear"
    starts = [(s, e, lemma) for s, e, lemma in lemma_offsets("Bruises seen")]
    assert starts == [(0, 7, "bruise"), (8, 12, "see")]


def test_pipeline_lemma_stream_equals_lemma_text(nlp: Language) -> None:
    texts = [
        "Bruising was seen on the baby's ear; the GP's records weren't shared.",
        "Mother’s partner said: “I didn’t do it” — 3.2 Recommendation R1.",
        "",
    ]
    for text in texts:
        assert " ".join(doc_lemma_tokens(run(nlp, text))) == lemma_text(text)


# --- sentences ------------------------------------------------------------------------------


def test_sentence_boundaries(nlp: Language) -> None:
    doc = run(nlp, 'The baby was seen, e.g. at home. He said "No." 4.3 Mother left.\n\nnext part')
    assert [s.text.strip() for s in doc.sents] == [
        "The baby was seen, e.g. at home.",
        'He said "No."',
        "4.3 Mother left.",
        "next part",
    ]


# --- theme matching -------------------------------------------------------------------------


def test_phrases_match_on_lemmas_any_case(nlp: Language) -> None:
    assert themes(nlp, "The baby was BRUISED on the cheek.") == {"bruising"}
    assert themes(nlp, "Bruises were noted.") == {"bruising"}
    assert themes(nlp, "Home conditions were poor.") == {"neglect"}
    assert themes(nlp, "Nothing of note happened.") == set()


def test_abbreviations_match_case_sensitively(nlp: Language) -> None:
    assert themes(nlp, "The paediatrician suspected NAI.") == {"bruising"}
    assert themes(nlp, "The word nai is not an abbreviation here.") == set()
    assert themes(nlp, "The case went to MARAC.") == {"domestic_abuse"}


def test_token_patterns(nlp: Language) -> None:
    doc = run(nlp, "The nurse saw a mark on his ear.")
    assert set(doc._.themes) == {"bruising"}
    assert [doc[h.start : h.end].text for h in doc._.themes["bruising"]] == ["mark on his ear"]
    assert themes(nlp, "The nurse saw a mark on his arm.") == set()


def test_exclusions_mark_the_hit_instead_of_dropping_it(nlp: Language) -> None:
    doc = run(nlp, "The review looked at self-neglect.")
    assert "neglect" not in doc._.themes
    excluded = [h for h in doc._.theme_hits if h.theme == "neglect"]
    assert excluded and all(h.excluded and h.cue == "exclusion" for h in excluded)
    assert "neglect" in themes(nlp, "Self-neglect and neglect of the children.")


def test_weak_phrases_need_several_distinct_signals(nlp: Language) -> None:
    assert themes(nlp, "He was hungry.") == set()
    assert themes(nlp, "He was hungry, hungry and hungry.") == set()
    assert themes(nlp, "He was hungry, in dirty clothes and had head lice.") == {"neglect"}


def test_weak_signal_threshold_is_configurable(tmp_path: Path) -> None:
    taxonomy = small_taxonomy(tmp_path)
    nlp = new_pipeline(taxonomy)
    nlp.replace_pipe(
        THEMES, THEMES, config={"taxonomy_version": taxonomy.version, "weak_needed": 2}
    )
    assert set(nlp("He was hungry and had head lice.")._.themes) == {"neglect"}
    with pytest.raises(ValueError, match="weak_needed"):
        nlp.replace_pipe(
            THEMES, THEMES, config={"taxonomy_version": taxonomy.version, "weak_needed": 0}
        )


def test_implied_themes_share_the_evidence(nlp: Language) -> None:
    doc = run(nlp, "Coercive control was evident throughout.")
    assert set(doc._.themes) == {"coercive_control", "domestic_abuse"}
    span = doc._.themes["domestic_abuse"][0]
    assert doc[span.start : span.end].text == "Coercive control"


# --- negation and hypothetical scope ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "There was no evidence of neglect.",
        "There was no evidence of neglect, domestic abuse or bruising.",
        "Neglect was ruled out by the paediatrician.",
        "Neglect was not considered to be a factor.",
        "The mother denied any domestic abuse.",
        "No bruising was seen at the visit.",
        "If there were concerns about neglect, the school would refer.",
        "Had the bruise been seen by a doctor, the outcome may have differed.",
        "The panel considered whether domestic abuse was a feature.",
        "This review is not about neglect.",
        "Domestic abuse was not relevant to the review.",
    ],
)
def test_negated_and_hypothetical_mentions_do_not_tag(nlp: Language, text: str) -> None:
    doc = run(nlp, text)
    assert set(doc._.themes) == set(), text
    ruled_out = [h for h in doc._.theme_hits if not h.counts]
    assert ruled_out and all(h.cue for h in ruled_out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # scope stops at a terminator
        ("There was no evidence of neglect but the baby had a bruise.", {"bruising"}),
        # scope stays in its sentence
        ("There was no evidence of neglect. The bruise was seen by the GP.", {"bruising"}),
        # "had" in mid-sentence is a tense, not a hypothesis
        ("The bruise had been seen by the health visitor.", {"bruising"}),
        # the hypothetical clause ends at its comma
        ("If the GP had been told, the bruise would have been examined.", {"bruising"}),
        # "not" reaches only the next word
        ("Professionals did not recognise the neglect.", {"neglect"}),
        ("Neglect was evident and no one acted.", {"neglect"}),
    ],
)
def test_negation_scope_is_limited(nlp: Language, text: str, expected: set[str]) -> None:
    assert themes(nlp, text) == expected


def test_a_theme_the_text_sets_aside_is_out_for_the_whole_passage(nlp: Language) -> None:
    text = "This review is not about neglect. The home conditions were described elsewhere."
    assert themes(nlp, text) == set()
    text = "There was no evidence of neglect. The home conditions were poor."
    assert themes(nlp, text) == {"neglect"}  # an ordinary negation rules out one mention only


def test_for_a_practice_theme_the_absence_is_the_finding(nlp: Language) -> None:
    # negation rules out a harm, but "there was no information sharing" is a practice finding
    assert themes(nlp, "There was no information sharing between the GP and the school.") == {
        "information_sharing"
    }
    assert themes(nlp, "There was no evidence of neglect.") == set()
    # the text's own scope still rules a practice theme out
    assert themes(nlp, "This review is not about information sharing.") == set()


def test_glossary_entries_are_passing_mentions(nlp: Language) -> None:
    text = "Glossary. MARAC: Multi-Agency Risk Assessment Conference. DA: Domestic abuse."
    assert themes(nlp, text) == set()


def test_negation_config_is_validated() -> None:
    with pytest.raises(ValueError, match="pre_window"):
        new_pipeline().replace_pipe(NEGATION, NEGATION, config={"pre_window": 0})
    # spaCy checks types against the factory signature before the component is built
    with pytest.raises(ConfigValidationError, match="post_window"):
        new_pipeline().replace_pipe(NEGATION, NEGATION, config={"post_window": "wide"})


# --- agencies -------------------------------------------------------------------------------


def test_agencies_are_normalised_in_order_of_first_mention(nlp: Language) -> None:
    doc = run(nlp, "The GP wrote to the social worker; police officers and a PCSO attended. GP.")
    assert doc._.agencies == ["GP", "children's social care", "police"]
    assert run(nlp, "The gp wrote.")._.agencies == []  # abbreviations are case-sensitive
    assert run(nlp, "Social workers visited.")._.agencies == ["children's social care"]


def test_default_agencies_cover_the_partnership_list() -> None:
    nlp = build_pipeline()
    text = (
        "The health visitor, the midwife, CAMHS, the probation officer, the housing officer, "
        "paramedics, adult social care, the school and the IDVA were all involved."
    )
    assert nlp(text)._.agencies == [
        "health visiting",
        "midwifery",
        "CAMHS",
        "probation",
        "housing",
        "ambulance",
        "adult social care",
        "school",
        "IDVA service",
    ]


# --- recommendations and stance ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Recommendation 3: Partners should review the escalation policy.", "other", True),
        ("R2. The board should ensure that fathers are assessed.", "analysis", True),
        ("The partnership should ensure that the protocol is relaunched.", "findings", True),
        ("It is recommended that the GP practice audits its records.", "other", True),
        ("Professionals should have asked about the father.", "analysis", False),
        ("The social worker visited on 3 May.", "chronology", False),
        ("Health visitors must offer a visit to every father.", "recommendations", True),
        ("The review has made four recommendations, listed below.", "recommendations", False),
    ],
)
def test_recommendation_recognition(nlp: Language, text: str, kind: str, expected: bool) -> None:
    doc = run(nlp, text, kind)
    assert doc._.is_recommendation is expected
    if expected:
        assert doc._.stance == "needs_to_happen"


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("This was an example of good practice by the school nurse.", "other", "worked_well"),
        (
            "The health visitor acted promptly and the referral was thorough.",
            "other",
            "worked_well",
        ),
        ("This was a missed opportunity to refer.", "other", "worried"),
        ("The GP did not share the letter and there was a delay.", "other", "worried"),
        ("The school nurse saw the child.", "good_practice", "worked_well"),
        ("The school nurse saw the child.", "findings", "worried"),
        ("The school nurse saw the child on 4 May.", "chronology", None),
    ],
)
def test_stance(nlp: Language, text: str, kind: str, expected: str | None) -> None:
    assert run(nlp, text, kind)._.stance == expected


def test_stance_config_is_validated() -> None:
    nlp = new_pipeline()
    with pytest.raises(ValueError, match="section_weight"):
        nlp.replace_pipe(STANCE, STANCE, config={"section_weight": -1})


# --- the default taxonomy and cues on review-style sentences -----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Neither parent was known to drug or alcohol services.",
        "Domestic abuse did not feature in any agency's records.",
        "At no point was sexual exploitation suspected.",
        "Police checks revealed no history of domestic abuse.",
        "Mental capacity was not in question.",
        "Concerns about online grooming were investigated and found to be unfounded.",
        "Forced marriage was discussed and discounted.",
        "Sexual abuse was alleged but not substantiated.",
        "The parents had no history of mental illness, substance misuse or domestic abuse.",
        "The panel included representatives from the police, CAMHS and the IDVA service.",
        "The terms of reference asked the panel to consider information sharing and neglect.",
        "Copies of the local neglect strategy were provided to the panel.",
    ],
)
def test_default_cues_rule_out_negated_and_passing_mentions(text: str) -> None:
    assert set(build_pipeline()(text)._.themes) == set(), text


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("The mother disclosed domestic abuse to the midwife at booking.", "domestic_abuse"),
        ("Nobody asked about the mother's new partner.", "fathers_invisible_men"),
        ("The baby slept on the sofa with her father.", "sudi_safe_sleep"),
        ("Information was not shared with the school.", "information_sharing"),
        ("His capacity to decide where to live was never assessed.", "mental_capacity"),
    ],
)
def test_default_taxonomy_still_tags_the_real_thing(text: str, theme: str) -> None:
    assert theme in build_pipeline()(text)._.themes, text


def _outcome(doc: Doc) -> tuple[object, ...]:
    themes = {
        t: [(h.start, h.end, h.weak, h.cue) for h in hits] for t, hits in doc._.themes.items()
    }
    return doc.text, themes, doc._.agencies, doc._.stance, doc._.is_recommendation


def _probabilities(doc: Doc) -> list[tuple[str, float]]:
    from nlp.pipeline import rule_state

    return sorted(rule_state(doc).scores.items())


def test_tagging_in_batches_gives_what_one_doc_at_a_time_gives() -> None:
    # the components run over a batch at a time under nlp.pipe; nothing may carry over between
    # the docs of a batch, and the docs must come out in the order they went in
    from nlp.evaluate import EVAL_SET, EXTRA_DEV, load_examples

    texts = [e.text for e in load_examples(EVAL_SET, "dev", EXTRA_DEV)[:400]]
    nlp = build_pipeline()
    single = [(_outcome(doc), _probabilities(doc)) for doc in map(nlp, texts)]
    batched = [(_outcome(d), _probabilities(d)) for d in nlp.pipe(iter(texts), batch_size=37)]
    assert batched == single  # the model's probabilities too, to the bit
    assert sum(1 for _, scores in single if scores) > 200
    assert sum(1 for (_, themes, *_), _ in single if themes) > 200  # the passages do tag


def test_tagged_docs_are_freed_without_the_cycle_collector() -> None:
    # a doc whose working state refers back to it waits for the cycle collector, which made
    # collections a large share of tagging time
    import gc

    from nlp.pipeline import resolve_themes

    nlp = build_pipeline()
    texts = ["No evidence of neglect was found.", "The father was not known to the GP."] * 50
    for doc in nlp.pipe(texts):
        resolve_themes(doc)  # the model's features and evidence use the doc's token columns
    del doc
    gc.collect()
    gc.disable()
    try:
        for doc in nlp.pipe(texts):
            resolve_themes(doc)
        del doc
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_building_a_pipeline_freezes_what_lives_as_long_as_the_process(tmp_path: Path) -> None:
    import gc

    before = gc.get_freeze_count()
    taxonomy = small_taxonomy(tmp_path, SMALL_TAXONOMY + "\n# a version of its own\n")
    build_pipeline(taxonomy)
    assert gc.get_freeze_count() > before
