"""Highlights: found on lemmas, written as escaped HTML, the same for every backend."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from search_api.highlight import FRAGMENT_CHARS, MAX_FRAGMENTS, highlight, match_offsets
from search_api.query import parse_query


def test_marks_lemma_matches_in_the_original_words() -> None:
    text = "Bruising was seen on the baby twice; babies who are not mobile rarely bruise."
    result = highlight(text, parse_query("bruised babies"))
    assert [text[s:e] for s, e in result.offsets] == ["Bruising", "baby", "babies", "bruise"]
    assert result.fragments == [
        "<mark>Bruising</mark> was seen on the <mark>baby</mark> twice; <mark>babies</mark> "
        "who are not mobile rarely <mark>bruise</mark>."
    ]


def test_escapes_document_text() -> None:
    text = 'The note said <script>alert("x")</script> & the GP did not reply.'
    result = highlight(text, parse_query("GP"))
    fragment = result.fragments[0]
    assert "<script" not in fragment
    assert "&lt;script&gt;" in fragment
    assert "&amp;" in fragment
    assert "&quot;x&quot;" in fragment
    assert "<mark>GP</mark>" in fragment
    assert fragment.count("<") == fragment.count("<mark>") + fragment.count("</mark>")


def test_phrases_mark_only_the_sequence() -> None:
    text = "The man was hidden from view; the hidden man was never assessed."
    spans = match_offsets(text, parse_query('"hidden men"'))
    assert [text[s:e] for s, e in spans] == ["hidden man"]


def test_prefix_and_negation() -> None:
    text = "Concerns were escalated, but escalation to housing stalled."
    spans = match_offsets(text, parse_query("escalat* -housing"))
    assert [text[s:e] for s, e in spans] == ["escalated", "escalation"]
    assert match_offsets(text, parse_query("concern -escalated")) == [(0, 8)]


def test_long_passages_give_fragments_around_matches() -> None:
    filler = "The chronology records routine contact with the family. " * 12
    text = filler + "A missed opportunity to hear the voice of the child. " + filler
    result = highlight(text, parse_query("voice"))
    assert len(result.fragments) == 1
    fragment = result.fragments[0]
    assert fragment.startswith("…") and fragment.endswith("…")
    assert "<mark>voice</mark>" in fragment
    assert len(fragment) < 2 * 90 + 60


def test_many_matches_are_capped() -> None:
    chunk = "neglect " + "x" * 300 + " "
    result = highlight(chunk * 6, parse_query("neglect"))
    assert len(result.fragments) == MAX_FRAGMENTS
    assert len(result.offsets) == 6


def test_no_query_or_no_match_shows_the_start() -> None:
    text = "word " * 100
    result = highlight(text, None)
    assert result.offsets == []
    assert result.fragments[0].endswith("…")
    assert len(result.fragments[0]) <= FRAGMENT_CHARS + 30
    assert highlight("Short text.", parse_query("absent")).fragments == ["Short text."]


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab <>&\"'/script= neglect\n")), max_size=400),
    st.sampled_from(["neglect", "script", "ab*", '"a b"', "b -a", "scr*"]),
)
def test_only_our_marks_are_markup(text: str, query: str) -> None:
    result = highlight(text, parse_query(query))
    for fragment in result.fragments:
        bare = fragment.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in bare and ">" not in bare
        assert html.unescape(bare).replace("…", "") in text.replace("…", "") or bare == ""
    for start, end in result.offsets:
        assert 0 <= start < end <= len(text)
