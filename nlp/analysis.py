"""Text analysis that both the index and the query go through, so every backend matches alike.

The index never stems or folds words itself: it stores the lemma stream made here, and queries
are lemmatised here too. Highlights use `lemma_offsets` to find the query's words in the
original passage text.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import spacy
from spacy.language import Language

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def lemmatizer() -> Language:
    """A blank English pipeline with spaCy's lookup lemmatizer: no model download, fast."""
    with _LOCK:
        nlp = spacy.blank("en")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    return nlp


def _norm(lemma: str, text: str) -> str:
    # the lookup table turns "'s" into "have"; possessives are not words a user searches for
    if text in {"'s", "’s", "'", "’"}:
        return ""
    return lemma.lower()


def lemma_tokens(text: str) -> list[str]:
    """Lower-cased lemmas of the word tokens of `text`, punctuation dropped."""
    doc = lemmatizer()(text)
    out: list[str] = []
    for token in doc:
        if token.is_punct or token.is_space:
            continue
        lemma = _norm(token.lemma_ or token.text, token.text)
        if lemma:
            out.append(lemma)
    return out


def lemma_text(text: str) -> str:
    """The lemma stream the index stores and matches on."""
    return " ".join(lemma_tokens(text))


def lemma_offsets(text: str) -> list[tuple[int, int, str]]:
    """(start, end, lemma) for each word token, for highlighting the original text."""
    doc = lemmatizer()(text)
    out: list[tuple[int, int, str]] = []
    for token in doc:
        if token.is_punct or token.is_space:
            continue
        lemma = _norm(token.lemma_ or token.text, token.text)
        if lemma:
            out.append((token.idx, token.idx + len(token.text), lemma))
    return out
