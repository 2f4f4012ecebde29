"""Token patterns read as quantified step sequences give the same spans as spaCy's Matcher.

The patterns below stress the quantifiers (leading, trailing and repeated optional steps, open
gaps, "!", counted repeats) on docs and on spans inside them; spaCy's Matcher is the reference.
"""

from __future__ import annotations

from typing import Any

import pytest
from spacy.language import Language
from spacy.matcher import Matcher

from nlp.analysis import base_pipeline
from nlp.pipeline import SENTENCES
from nlp.token_patterns import SequencePattern, TokenTable, Unsupported, pattern_spans

TEXTS = [
    "The mother said she had not been asked about the bruising. The GP did not ask either.",
    "No one asked whether the children were safe; the school, the police and the GP did not.",
    "Her teeth had badly decayed and the children were not fed. Chloe was 14 and hid food.",
    "It was the 3rd referral in 2 years. Officers attended. The case was closed!",
    "",
    "the the of the of of and and the",
]

PATTERNS: list[list[dict[str, Any]]] = [
    [{"LOWER": "the"}, {"OP": "*"}],
    [{"LOWER": "the"}, {"IS_ALPHA": True, "OP": "*"}],
    [{"LOWER": "the"}, {"OP": "+"}],
    [{"LOWER": "the"}, {"OP": "?"}],
    [{"OP": "?"}, {"LOWER": "the"}, {"OP": "?"}],
    [{"OP": "*"}, {"LOWER": "of"}],
    [{"LOWER": "the"}, {"LOWER": "of", "OP": "!"}, {"OP": "{0,3}"}, {"LOWER": "of"}],
    [{"LOWER": {"IN": ["no", "not"]}}, {"OP": "*"}, {"LEMMA": "be"}, {"IS_PUNCT": True, "OP": "*"}],
    [{"IS_SENT_START": True}, {"OP": "{1,3}"}],
    [{"IS_SENT_START": False, "IS_TITLE": True}, {"LOWER": {"REGEX": "^a"}, "OP": "+"}],
    [{"LEMMA": {"NOT_IN": ["the", "a"]}, "LENGTH": 4}, {"OP": "?"}, {"OP": "*"}, {"LOWER": "and"}],
    [{}, {"LOWER": "and"}, {}],
    [{"LIKE_NUM": True}, {"OP": "?"}, {"LEMMA": {"IN": ["referral", "year"]}}],
    [{"LOWER": {"IN": ["not", "never"]}}, {"OP": "{0,2}"}, {"LEMMA": {"IN": ["ask", "feed"]}}],
    [{"LEMMA": "tooth"}, {"OP": "?"}, {"OP": "?"}, {"LEMMA": "decay"}],
    [{"LOWER": "the"}, {"LOWER": "the", "OP": "?"}, {"LOWER": "the"}],
    [{"LOWER": {"IN": ["the", "of"]}, "OP": "{2,}"}],
    [{"LOWER": {"IN": ["the", "of"]}, "OP": "{2}"}, {"LOWER": "and", "OP": "+"}],
    [{"LOWER": "and"}, {"LOWER": "the", "OP": "!"}],
    [{"OP": "{,2}"}, {"LOWER": "and"}, {"IS_PUNCT": False, "OP": "{1,}"}],
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    pipeline = base_pipeline()
    pipeline.add_pipe(SENTENCES)
    return pipeline


@pytest.mark.parametrize("pattern", PATTERNS)
def test_spans_equal_spacy_matcher(nlp: Language, pattern: list[dict[str, Any]]) -> None:
    matcher = Matcher(nlp.vocab, validate=True)
    matcher.add("P", [pattern])
    compiled = SequencePattern(pattern, nlp.vocab.strings)
    for doc in nlp.pipe(TEXTS):
        table = TokenTable(doc)
        n = len(doc)
        for begin, end in [(0, n), (1, n), (0, n // 2), (n // 3, n - 1)]:
            if begin >= end:
                continue
            expected = sorted({(begin + s, begin + e) for _, s, e in matcher(doc[begin:end])})
            assert pattern_spans(compiled, table, begin, end) == expected, (doc.text, begin, end)


def test_features_left_to_spacy_are_refused(nlp: Language) -> None:
    for pattern in (
        [{"_": {"flag": True}}],
        [{"LENGTH": {">=": 3}}],
        [{"LOWER": {"FUZZY": "neglect"}}],
    ):
        with pytest.raises(Unsupported):
            SequencePattern(pattern, nlp.vocab.strings)
