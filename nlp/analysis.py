"""Text analysis that both the index and the query go through, so every backend matches alike.

The index never stems or folds words itself: it stores the lemma stream made here, and queries
are lemmatised here too. Highlights use `lemma_offsets` to find the query's words in the
original passage text. The tagging pipeline (`nlp.pipeline`) starts from the same tokenizer and
the same lemmatizer component, so a tagged passage's `lemmas` equal `lemma_text(passage.text)`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import numpy
import spacy
from spacy.attrs import IS_PUNCT, IS_SPACE, LEMMA, ORTH
from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.tokens import Doc
from spacy.util import minibatch

_LOCK = threading.Lock()

LEMMATIZER = "reviewlens_lemmatizer"

# spaCy's lookup table has a few entries that would surprise anyone searching review text
_OVERRIDES = {"does": "do", "as": "as", "'s": "", "’s": "", "'": "", "’": ""}
_CACHE_LIMIT = 500_000
# passages per batch under `nlp.pipe`: each component then works through this many before the
# next one starts (see `BatchComponent`); 1,024 tagged 5-8% faster than 256, for a few MB
BATCH_SIZE = 1024


class BatchComponent:
    """A pipeline component that, under `nlp.pipe`, runs over a whole batch of docs before
    handing any on.

    spaCy otherwise passes docs through a rule component one at a time, so each doc visits
    every component in turn and each component's tables are pushed out of the CPU cache by the
    others'; a batch at a time made the whole tagging pipeline about 15% faster, with the same
    output. `nlp(text)` still calls the component once.
    """

    def __call__(self, doc: Doc) -> Doc:
        raise NotImplementedError

    def pipe(self, docs: Iterable[Doc], batch_size: int = BATCH_SIZE) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            yield from [self(doc) for doc in batch]


class LookupLemmatizer(BatchComponent):
    """Lower-case first, then look up, so "Bruising" and "bruising" give the same lemma.

    Lemmas are cached per token string (by its hash), which keeps the whole tagging pipeline
    fast: review text repeats its vocabulary heavily.
    """

    def __init__(self, nlp: Language, table: str) -> None:
        self._table = load_lookups(nlp.lang or "en", [table]).get_table(table)
        self._strings = nlp.vocab.strings
        self._cache: dict[int, int] = {}

    def lemma(self, text: str) -> str:
        lower = text.lower()
        if lower in _OVERRIDES:
            return _OVERRIDES[lower]
        found = self._table.get(lower)
        return str(found).lower() if found else lower

    def __call__(self, doc: Doc) -> Doc:
        cache = self._cache
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        orths = doc.to_array([ORTH]).tolist()
        try:
            # most passages hold only words seen before
            lemmas = [cache[orth] for orth in orths]
        except KeyError:
            strings = self._strings
            lemmas = []
            for orth in orths:
                lemma_id = cache.get(orth)
                if lemma_id is None:
                    lemma_id = strings.add(self.lemma(strings[orth]))
                    cache[orth] = lemma_id
                lemmas.append(lemma_id)
        # one array write instead of a Token object per word: this is the hot loop
        doc.from_array([LEMMA], numpy.array(lemmas, dtype="uint64").reshape(-1, 1))  # type: ignore[arg-type]
        return doc


@Language.factory(LEMMATIZER, default_config={"table": "lemma_lookup"})
def make_lemmatizer(nlp: Language, name: str, table: str) -> LookupLemmatizer:
    return LookupLemmatizer(nlp, table)


def base_pipeline() -> Language:
    """A new blank English pipeline with the project's lemmatizer: no model download."""
    nlp = spacy.blank("en")
    nlp.max_length = 20_000_000  # no parser or NER here, so long texts are cheap
    nlp.add_pipe(LEMMATIZER)
    return nlp


@lru_cache(maxsize=1)
def lemmatizer() -> Language:
    """The shared lemmatising pipeline used for the index and for queries."""
    with _LOCK:
        return base_pipeline()


def doc_lemma_tokens(doc: Doc | Any) -> list[str]:
    """Lemmas of the word tokens of a processed doc or span, punctuation and blanks dropped."""
    if len(doc) == 0:
        return []
    strings = doc.vocab.strings
    rows = doc.to_array([LEMMA, IS_PUNCT, IS_SPACE]).tolist()
    return [strings[lemma] for lemma, punct, space in rows if lemma and not (punct or space)]


def lemma_tokens(text: str) -> list[str]:
    """Lower-cased lemmas of the word tokens of `text`, punctuation dropped."""
    return doc_lemma_tokens(lemmatizer()(text))


def lemma_text(text: str) -> str:
    """The lemma stream the index stores and matches on."""
    return " ".join(lemma_tokens(text))


def lemma_offsets(text: str) -> list[tuple[int, int, str]]:
    """(start, end, lemma) for each word token, for highlighting the original text."""
    doc = lemmatizer()(text)
    return [
        (t.idx, t.idx + len(t.text), t.lemma_)
        for t in doc
        if t.lemma_ and not (t.is_punct or t.is_space)
    ]
