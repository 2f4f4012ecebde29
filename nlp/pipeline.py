"""The tagging pipeline: a blank English spaCy pipeline plus the project's rule components.

Every component is a registered factory with a validated `default_config`, so the rules are
configuration a reviewer can read and change. Nothing is downloaded at run time: the base is
`spacy.blank("en")` with the lookup lemmatizer of `nlp.analysis`, which is also what the search
index uses, so a tag's evidence and a search hit agree on what a word is.

Results live on `Doc._` extensions:
- `theme_hits`: every candidate theme match (`ThemeHit`), with why it was or was not counted;
- `themes`: theme id -> counted hits, after exclusions, negation and the weak-signal rule;
- `agencies`, `stance`, `is_recommendation`; `section_kind` is set by the caller before `pipe`.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from spacy.attrs import (
    LEMMA,
    LOWER,
    ORTH,
    SPACY,
)
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc
from spacy.util import minibatch

from nlp.analysis import BATCH_SIZE, LEMMATIZER, BatchComponent, base_pipeline
from nlp.taxonomy import Taxonomy, load_taxonomy
from nlp.theme_model import ThemeModel
from nlp.token_patterns import SequencePattern, TokenTable, Unsupported, pattern_spans

log = logging.getLogger("reviewlens.nlp")

SENTENCES = "reviewlens_sentences"
THEMES = "reviewlens_themes"
NEGATION = "reviewlens_negation"
AGENCIES = "reviewlens_agencies"
RECOMMENDATIONS = "reviewlens_recommendations"
STANCE = "reviewlens_stance"

# taxonomies handed to components by version, since a spaCy config holds strings, not objects
_TAXONOMIES: dict[str, Taxonomy] = {}
_PIPELINES: dict[str, Language] = {}
_LOCK = threading.Lock()


# words that, right after a theme's words, make them the name of a post or a course
ROLE_WORDS = frozenset(
    {
        "lead", "leads", "champion", "champions", "adviser", "advisers", "advisor", "advisors",
        "trainer", "trainers", "training",
    }
)  # fmt: skip


@dataclass(slots=True)
class ThemeHit:
    """One match of a theme pattern: where, how strong, and whether it was ruled out."""

    theme: str
    start: int  # token offsets into the doc
    end: int
    weak: bool = False
    excluded: bool = False
    negated: bool = False
    hypothetical: bool = False
    cue: str = ""

    @property
    def counts(self) -> bool:
        return not (self.excluded or self.negated or self.hypothetical)


@dataclass(slots=True)
class _Cue:
    kind: str
    start: int
    end: int
    text: str = ""


@dataclass(slots=True)
class _State:
    """Per-doc working data the components share (kept off spaCy's Token objects for speed)."""

    sent_starts: list[int] = field(default_factory=list)
    hits: list[ThemeHit] = field(default_factory=list)
    implies: dict[str, list[str]] = field(default_factory=dict)
    weak_needed: int = 2
    weak_needed_by_theme: dict[str, int] = field(default_factory=dict)
    composites: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    absence_is_finding: frozenset[str] = frozenset()
    model: ThemeModel | None = None
    stop_words: frozenset[str] = frozenset()
    scores: dict[str, float] = field(default_factory=dict)  # theme -> model probability
    # the model's scores from the passage's words alone, found for its whole batch (see
    # `ThemeMatcher.pipe`); None until then
    word_scores: np.ndarray | None = None
    ruled_out_cues: set[str] = field(default_factory=set)
    agencies: list[str] = field(default_factory=list)
    agency_spans: list[tuple[int, int]] = field(default_factory=list)  # in agency lists
    stance: str | None = None
    is_recommendation: bool = False
    section_kind: str | None = None
    # the doc's token columns, read once for every component (see `token_table`)
    columns: dict[int, list[int]] = field(default_factory=dict)


_STATE_KEY = "reviewlens"
_FIELDS = ("agencies", "stance", "is_recommendation", "section_kind")


def _register_extensions() -> None:
    def accessors(name: str) -> tuple[Any, Any]:
        def get(doc: Doc) -> Any:
            return getattr(_state(doc), name)

        def set_(doc: Doc, value: Any) -> None:
            setattr(_state(doc), name, value)

        return get, set_

    for name in _FIELDS:
        if not Doc.has_extension(name):
            getter, setter = accessors(name)
            Doc.set_extension(name, getter=getter, setter=setter)
    if not Doc.has_extension("theme_hits"):
        Doc.set_extension("theme_hits", getter=lambda doc: _state(doc).hits)
    if not Doc.has_extension("themes"):
        Doc.set_extension("themes", getter=lambda doc: resolve_themes(doc))


def _state(doc: Doc) -> _State:
    """The doc's working state, kept in `user_data` (cheaper to reach than `doc._`)."""
    state = doc.user_data.get(_STATE_KEY)
    if state is None:
        state = _State()
        doc.user_data[_STATE_KEY] = state
    return state


_register_extensions()

# the token attributes most components read, fetched from spaCy in one array: one call for
# all of them costs little more than one for a single attribute. Lexeme flags (punctuation,
# capitals, ...) are not among them: they depend only on the word, so what needs them per word
# caches them by ORTH, and spaCy's flag lookups cost more than these four columns together
TOKEN_COLUMNS = frozenset({ORTH, LEMMA, LOWER, SPACY})


def token_table(doc: Doc) -> TokenTable:
    """A table over the doc's token columns, which the components share; read after the
    lemmatizer, and never holding the sentence starts, which the sentence splitter writes.

    The doc keeps the columns, not the table: a table refers to its doc, and a doc that refers
    to itself is freed only by the cycle collector, which then cost more than the columns saved.
    """
    columns = _state(doc).columns
    table = TokenTable(doc, columns)
    if not columns:
        table.load(TOKEN_COLUMNS)
    return table


def span_text(
    doc: Doc, start: int = 0, end: int | None = None, attr: int = ORTH, trailing: bool = True
) -> str:
    """The text of `doc[start:end]` from the token columns (its lemmas with `attr=LEMMA`), each
    token followed by its whitespace, but the last one's only if `trailing`: spaCy builds
    `text` and `lemma_` from a Token object per word."""
    columns = token_table(doc).columns
    strings = doc.vocab.strings
    words = columns[attr][start:end]
    spaces = columns[SPACY][start:end]
    if not trailing and spaces:
        spaces = [*spaces[:-1], 0]
    return "".join(
        strings[word] + " " if space else strings[word]
        for word, space in zip(words, spaces, strict=True)
    )


def _taxonomy(version: str) -> Taxonomy:
    if version and version in _TAXONOMIES:
        return _TAXONOMIES[version]
    taxonomy = load_taxonomy()
    if version and taxonomy.version != version:
        raise ValueError(f"taxonomy version {version!r} is not registered; use build_pipeline")
    _TAXONOMIES[taxonomy.version] = taxonomy
    return taxonomy


def _lemma_docs(nlp: Language, phrases: Iterable[str]) -> list[Doc]:
    """Pattern docs tokenised and lemmatised exactly as passages are."""
    lemmatizer = nlp.get_pipe(LEMMATIZER)
    return [lemmatizer(nlp.make_doc(phrase)) for phrase in phrases]


def _is_caps(phrase: str) -> bool:
    letters = [c for c in phrase if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= max(2, len(letters) - 1)


def _sentence_of(starts: list[int], index: int) -> tuple[int, int]:
    pos = bisect_right(starts, index) - 1
    begin = starts[pos] if pos >= 0 else 0
    end = starts[pos + 1] if pos + 1 < len(starts) else 1 << 30
    return begin, end


# --- sentences -------------------------------------------------------------------------------


# what a token means to the sentence splitter, which depends on its word alone
_WORD, _CAPITAL, _SPACE, _BLANK_LINE, _PUNCT, _END_MARK = range(6)
_KINDS_KEPT = 500_000


class SentenceSplitter(BatchComponent):
    """Rule-based sentence starts: end punctuation followed by a capital, digit or quote.

    Cheaper than a parser and good enough for scoping negation to one sentence; abbreviations
    such as "e.g." are single tokens in spaCy's English tokenizer, so they do not split.
    """

    def __init__(self, nlp: Language, punct: list[str]) -> None:
        if not punct:
            raise ValueError("punct must name at least one sentence-ending character")
        self.punct = frozenset(nlp.vocab.strings.add(p) for p in punct)
        self.vocab = nlp.vocab
        # ORTH -> one of the kinds above: one dict lookup per token instead of five flags
        self._kinds: dict[int, int] = {}

    def _kind(self, orth: int) -> int:
        lexeme = self.vocab[orth]
        if lexeme.is_space:
            return _BLANK_LINE if "\n\n" in lexeme.orth_ else _SPACE
        if lexeme.is_punct:
            return _END_MARK if orth in self.punct else _PUNCT
        return _CAPITAL if lexeme.is_title or lexeme.is_upper or lexeme.like_num else _WORD

    def __call__(self, doc: Doc) -> Doc:
        orths = token_table(doc).columns[ORTH]
        kinds = self._kinds
        try:
            # most passages hold only words seen before
            row = [kinds[orth] for orth in orths]
        except KeyError:
            if len(kinds) > _KINDS_KEPT:
                kinds.clear()
            for orth in orths:
                if orth not in kinds:
                    kinds[orth] = self._kind(orth)
            row = [kinds[orth] for orth in orths]
        starts = [0] if len(doc) else []
        ended = blank = False
        for i, kind in enumerate(row):
            if kind <= _CAPITAL:
                # after an end mark, a capital or a number starts a sentence; a blank line
                # always does
                if i and (blank or (ended and kind == _CAPITAL)):
                    starts.append(i)
                ended = blank = False
            elif kind == _BLANK_LINE:
                blank = True
            elif kind == _END_MARK:
                ended = True
        for i in starts:
            doc[i].is_sent_start = True
        _state(doc).sent_starts = starts
        return doc


@Language.factory(SENTENCES, default_config={"punct": [".", "!", "?"]})
def make_sentences(nlp: Language, name: str, punct: list[str]) -> SentenceSplitter:
    return SentenceSplitter(nlp, punct)


# --- themes ----------------------------------------------------------------------------------


class ThemeMatcher(BatchComponent):
    """Find every candidate theme mention: lemma phrases, abbreviations, token patterns.

    Candidates inside an exclusion phrase of the same theme are marked, not dropped, so the
    evidence trail shows why a mention did not count.
    """

    def __init__(
        self, nlp: Language, taxonomy: Taxonomy, weak_needed: int, theme_model: str
    ) -> None:
        if weak_needed < 1:
            raise ValueError("weak_needed must be at least 1")
        self.groups = {t.id: t.group for t in taxonomy.themes}
        self.absence_is_finding = frozenset(t.id for t in taxonomy.themes if t.absence_is_finding)
        self.weak_needed_by_theme = {
            t.id: t.weak_needed for t in taxonomy.themes if t.weak_needed is not None
        }
        if theme_model == "default":
            self.model = ThemeModel.load()
            trained_on = self.model.meta.get("taxonomy_version") if self.model else None
            if self.model is not None and trained_on != taxonomy.version:
                # the rules' verdict is one of the model's inputs, so a model trained with other
                # rules would misread it: tag with the rules alone until someone retrains
                log.warning(
                    "theme model was trained with taxonomy %s, not %s: tagging with rules alone "
                    "until `reviewlens train` is run",
                    trained_on,
                    taxonomy.version,
                )
                self.model = None
        elif theme_model:
            path = Path(theme_model)
            if not path.exists():
                raise ValueError(f"theme_model {theme_model!r} does not exist")
            self.model = ThemeModel.load(path)
        else:
            self.model = None
        self.stop_words = frozenset(nlp.Defaults.stop_words)
        if self.model is not None:
            self.model.bind(nlp.vocab.strings, self.stop_words)
        self.role_words = {nlp.vocab.strings.add(w) for w in ROLE_WORDS}
        self.weak_needed = weak_needed
        self.taxonomy = taxonomy
        self.lemma_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.orth_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        # token patterns, each run only on the sentences holding the words it needs: running
        # every pattern on every passage was the slowest part of the pipeline
        self.token_patterns: list[_TokenPattern] = []
        self._keys: dict[int, tuple[str, str]] = {}
        self.implies = {t.id: list(t.implies) for t in taxonomy.themes if t.implies}
        self.composites = {
            t.id: (list(t.composite_of), t.composite_min) for t in taxonomy.themes if t.composite_of
        }
        # per token pattern, the word sets it needs; the Matcher runs only when one could match
        for theme in taxonomy.themes:
            for kind, phrases in (
                ("strong", theme.phrases),
                ("weak", theme.weak_phrases),
                ("exclude", theme.exclusions),
            ):
                if not phrases:
                    continue
                key = f"{theme.id}|{kind}"
                self._keys[nlp.vocab.strings.add(key)] = (theme.id, kind)
                caps = [p for p in phrases if _is_caps(p)]
                words = [p for p in phrases if not _is_caps(p)]
                if words:
                    self.lemma_matcher.add(key, _lemma_docs(nlp, words))
                if caps:
                    self.orth_matcher.add(key, [nlp.make_doc(p) for p in caps])
            if theme.abbreviations:
                key = f"{theme.id}|strong"
                self._keys[nlp.vocab.strings.add(key)] = (theme.id, "strong")
                self.orth_matcher.add(key, [nlp.make_doc(a) for a in theme.abbreviations])
            if theme.token_patterns:
                key = f"{theme.id}|strong"
                self._keys[nlp.vocab.strings.add(key)] = (theme.id, "strong")
                for pattern in theme.token_patterns:
                    self.token_patterns.append(_TokenPattern.build(nlp, key, pattern))
        stop = {nlp.vocab.strings.add(w) for w in nlp.Defaults.stop_words}
        self._index_token_patterns(stop)

    def _index_token_patterns(self, stop: set[int]) -> None:
        """Word -> the token patterns that need it, so a doc looks up only its own words.

        Checking every pattern's word sets against every doc was the slowest part of tagging
        once the taxonomy held hundreds of token patterns.
        """
        self._always: list[int] = []
        # word -> (pattern index, the other word sets that pattern needs)
        self._by_word: dict[int, list[tuple[int, tuple[frozenset[int], ...]]]] = {}
        for index, pattern in enumerate(self.token_patterns):
            if not pattern.requirements:
                self._always.append(index)
                continue

            # index by the rarest-looking word set: fewest stop words, then fewest words
            def rarity(words: frozenset[int]) -> tuple[int, int]:
                return len(words & stop), len(words)

            pattern.keyset = min(pattern.requirements, key=rarity)
            # the rarest-looking other word set first: it is the likeliest to be missing, which
            # settles the pattern with one check
            pattern.others = tuple(
                sorted((r for r in pattern.requirements if r is not pattern.keyset), key=rarity)
            )
            for word in pattern.keyset:
                self._by_word.setdefault(word, []).append((index, pattern.others))

    def _token_matches(self, doc: Doc) -> list[tuple[int, int, int]]:
        """Run each token pattern only on the sentences that hold the words it needs."""
        if not self.token_patterns or not len(doc):
            return []
        by_word = self._by_word
        table = token_table(doc)
        lemmas, lowers = table.columns[LEMMA], table.columns[LOWER]
        words = set(lemmas)
        words.update(lowers)
        found_here = set(self._always)
        for word in words & by_word.keys():
            for index, others in by_word[word]:
                # the word set it is indexed by is here; are the others?
                for words_needed in others:
                    if words_needed.isdisjoint(words):
                        break
                else:
                    found_here.add(index)
        if not found_here:
            return []
        patterns = self.token_patterns
        chosen = sorted(found_here)
        bounds = [*(_state(doc).sent_starts or [0]), len(doc)]
        last = len(bounds) - 2
        # the sentences each word a chosen pattern is indexed by occurs in
        keywords: set[int] = set()
        for index in chosen:
            keywords.update(patterns[index].keyset)
        keywords &= words
        sentences: dict[int, set[int]] = {word: set() for word in keywords}
        for i, (lemma, lower) in enumerate(zip(lemmas, lowers, strict=True)):
            if lemma in keywords or lower in keywords:
                k = bisect_right(bounds, i) - 1
                if lemma in keywords:
                    sentences[lemma].add(k)
                if lower in keywords:
                    sentences[lower].add(k)
        sentence_words: dict[int, set[int]] = {}

        def words_of(k: int) -> set[int]:
            here = sentence_words.get(k)
            if here is None:
                here = set(lemmas[bounds[k] : bounds[k + 1]])
                here.update(lowers[bounds[k] : bounds[k + 1]])
                sentence_words[k] = here
            return here

        out: list[tuple[int, int, int]] = []
        for index in chosen:
            pattern = patterns[index]
            requirements = pattern.requirements
            if not requirements:
                spans = [(0, len(doc))]
            else:
                found = sorted({k for word in pattern.keyset for k in sentences.get(word, ())})
                spans = []
                if pattern.crosses:
                    # an open gap can reach across a sentence end ("an adult service ... the
                    # children"): the sentence with the word and its neighbours
                    for k in found:
                        begin, end = bounds[max(k - 1, 0)], bounds[min(k + 1, last) + 1]
                        if spans and begin <= spans[-1][1]:
                            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
                        else:
                            spans.append((begin, end))
                else:
                    # otherwise the whole match is in one sentence, which must hold every
                    # word the pattern needs
                    for k in found:
                        here = words_of(k)
                        if all(not req.isdisjoint(here) for req in requirements):
                            spans.append((bounds[k], bounds[k + 1]))
            for begin, end in spans:
                out += [(pattern.key, s, e) for s, e in pattern.find(doc, table, begin, end)]
        return out

    def __call__(self, doc: Doc) -> Doc:
        matches = self.lemma_matcher(doc) + self.orth_matcher(doc) + self._token_matches(doc)
        hits: list[ThemeHit] = []
        exclusions: dict[str, list[tuple[int, int]]] = {}
        keys = self._keys
        for match_id, start, end in matches:
            theme, kind = keys[match_id]
            if kind == "exclude":
                exclusions.setdefault(theme, []).append((start, end))
            else:
                hits.append(ThemeHit(theme, start, end, kind == "weak"))
        hits.sort(key=lambda h: (h.start, -h.end))
        roles = self.role_words
        lowers = token_table(doc).columns[LOWER]
        for hit in hits:
            # a theme that names someone's post or a course ("the school's mental health lead",
            # "domestic abuse training") is a passing mention: a weak signal at most. Teams,
            # units and coordinators are left alone: "the MARAC coordinator" means a MARAC case
            if hit.end < len(lowers) and lowers[hit.end] in roles:
                hit.weak = True
            for start, end in exclusions.get(hit.theme, ()):
                if start < hit.end and hit.start < end:
                    hit.excluded = True
                    hit.cue = "exclusion"
                    break
        state = _state(doc)
        state.hits = hits
        state.implies = self.implies
        state.weak_needed = self.weak_needed
        state.weak_needed_by_theme = self.weak_needed_by_theme
        state.composites = self.composites
        state.groups = self.groups
        state.absence_is_finding = self.absence_is_finding
        state.model = self.model
        state.stop_words = self.stop_words
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = BATCH_SIZE) -> Iterator[Doc]:
        """As `BatchComponent.pipe`, and the model's scores from each passage's words, found
        for the whole batch at once (`ThemeModel.word_scores`)."""
        for batch in minibatch(docs, size=batch_size):
            done = [self(doc) for doc in batch]
            if self.model is not None and done:
                scores = self.model.word_scores([token_table(doc) for doc in done])
                for doc, row in zip(done, scores, strict=True):
                    _state(doc).word_scores = row
            yield from done


@dataclass(slots=True)
class _TokenPattern:
    """A theme's token pattern, with the words it needs and how it is matched."""

    key: int  # the match id: the theme's "strong" key
    requirements: list[frozenset[int]]
    crosses: bool  # could a match reach across a sentence end?
    compiled: SequencePattern | None  # None: a feature only spaCy's Matcher has
    matcher: Matcher | None
    keyset: frozenset[int] = frozenset()  # the word set the pattern is indexed by
    others: tuple[frozenset[int], ...] = ()  # the other word sets it needs

    @classmethod
    def build(cls, nlp: Language, key: str, pattern: list[dict[str, Any]]) -> _TokenPattern:
        key_id = nlp.vocab.strings.add(key)
        requirements = _requirements(nlp, pattern)
        crosses = _can_cross_sentences(pattern)
        try:
            compiled = SequencePattern(pattern, nlp.vocab.strings)
            return cls(key_id, requirements, crosses, compiled, None)
        except Unsupported:
            matcher = Matcher(nlp.vocab, validate=True)
            matcher.add(key, [pattern])
            return cls(key_id, requirements, crosses, None, matcher)

    def find(self, doc: Doc, table: TokenTable, begin: int, end: int) -> list[tuple[int, int]]:
        """(start, end) of the pattern's matches inside doc[begin:end]."""
        if self.compiled is not None:
            return pattern_spans(self.compiled, table, begin, end)
        assert self.matcher is not None
        return [(begin + s, begin + e) for _, s, e in self.matcher(doc[begin:end])]


def _can_cross_sentences(pattern: list[dict[str, Any]]) -> bool:
    """Could the pattern match across a sentence end? Only through a token it leaves open."""
    for spec in pattern:
        constrained = any(
            isinstance(spec.get(attr), str) or "IN" in (spec.get(attr) or {})
            for attr in ("LEMMA", "LOWER", "ORTH", "TEXT")
        )
        if constrained or spec.get("IS_PUNCT") is False:
            continue
        excluded = {
            str(w)
            for attr in ("LEMMA", "LOWER", "ORTH", "TEXT")
            for w in (spec.get(attr) or {}).get("NOT_IN", [])
        }
        if "." not in excluded:
            return True
    return False


def _requirements(nlp: Language, pattern: list[dict[str, Any]]) -> list[frozenset[int]]:
    """Word sets a token pattern cannot match without (one per required LEMMA/LOWER token)."""
    out: list[frozenset[int]] = []
    for spec in pattern:
        op = str(spec.get("OP", ""))
        if op in ("?", "*", "!") or op.startswith("{0") or op.startswith("{,"):
            continue
        for attr in ("LEMMA", "LOWER"):
            value = spec.get(attr)
            words = [value] if isinstance(value, str) else (value or {}).get("IN")
            if isinstance(words, list) and words:
                out.append(frozenset(nlp.vocab.strings.add(str(w).lower()) for w in words))
    return out


@Language.factory(
    THEMES,
    # theme_model: "default" (the bundled weights, if trained), a path, or "" for rules only
    default_config={"taxonomy_version": "", "weak_needed": 3, "theme_model": "default"},
)
def make_themes(
    nlp: Language, name: str, taxonomy_version: str, weak_needed: int, theme_model: str
) -> ThemeMatcher:
    return ThemeMatcher(nlp, _taxonomy(taxonomy_version), weak_needed, theme_model)


def rule_state(doc: Doc) -> _State:
    """The rules' working state of a processed doc (its hits, with why each was ruled out)."""
    return _state(doc)


def resolve_themes(doc: Doc, use_model: bool = True) -> dict[str, list[ThemeHit]]:
    """Theme id -> the hits that count.

    A theme needs one strong signal, or `weak_needed` different weak ones that do not overlap
    ("attendance" inside "attendance was" is one signal, not two). Then the trained theme
    model, when there is one, weighs the rules' verdict with the rest of the passage.
    """
    state = _state(doc)
    counted: dict[str, list[ThemeHit]] = {}
    for hit in state.hits:
        if hit.counts:
            counted.setdefault(hit.theme, []).append(hit)
    if state.agency_spans:
        # a theme named only as part of an agency's name in a list of agencies ("the drug and
        # alcohol service, the police and housing attended") is a passing mention: such a hit
        # counts as a weak signal
        spans = state.agency_spans
        for theme, hits in counted.items():
            counted[theme] = [
                replace(h, weak=True)
                if not h.weak and any(b <= h.start and h.end <= e for b, e in spans)
                else h
                for h in hits
            ]
    out: dict[str, list[ThemeHit]] = {}
    # a theme the text explicitly sets aside ("this review is not about self-neglect") is out
    # for the whole passage, not only for that sentence
    ruled_out = {h.theme for h in state.hits if h.negated and h.cue in state.ruled_out_cues}
    for theme, hits in counted.items():
        if theme in ruled_out:
            continue
        strong = [h for h in hits if not h.weak]
        if strong:
            out[theme] = strong + [h for h in hits if h.weak]
            continue
        distinct: set[str] = set()
        taken: list[tuple[int, int]] = []
        for h in hits:
            if any(h.start < e and b < h.end for b, e in taken):
                continue
            lemma = span_text(doc, h.start, h.end, LEMMA).strip()  # the span's lemma_
            if lemma in distinct:
                continue
            distinct.add(lemma)
            taken.append((h.start, h.end))
        if len(distinct) >= state.weak_needed_by_theme.get(theme, state.weak_needed):
            out[theme] = hits
    for theme, (parts, needed) in state.composites.items():
        if theme in out or theme in ruled_out:
            continue
        # a part counts if it is tagged, or has any counted signal at all (weak included)
        present = [p for p in parts if p in out or counted.get(p)]
        own = [h for h in counted.get(theme, []) if h.counts]
        if len(present) >= needed or (own and len(present) >= needed - 1 and present):
            out[theme] = own + [h for p in present for h in out.get(p, counted.get(p, []))]
    implies = state.implies
    for theme in list(out):
        if all(h.weak for h in out[theme]):
            continue  # a broader theme needs firmer evidence than two weak signals
        for broader in implies.get(theme, ()):
            if broader not in out:
                out[broader] = [replace(h, theme=broader) for h in out[theme]]
    state.scores = {}
    if use_model and state.model is not None:
        return _apply_model(doc, state, state.model, out)
    return out


def _apply_model(
    doc: Doc, state: _State, model: ThemeModel, found: dict[str, list[ThemeHit]]
) -> dict[str, list[ThemeHit]]:
    """The model's tags: the rules' evidence where the rules found the theme, else its words."""
    table = token_table(doc)
    words = state.word_scores
    if words is None:  # tagged on its own (`nlp(text)`), not by `nlp.pipe`
        words = model.word_scores([table])[0]
    tagged = model.tagged(model.verdict_part(found, state.hits) + words)
    known = set(model.themes)
    # a theme the rules saw mentioned and ruled out ("no evidence of neglect") is not brought
    # back by the words around it: the model may overrule a tag, never a negation
    ruled_out = {h.theme for h in state.hits if not h.counts} - set(found)
    # themes the model was not trained on (a partnership's own) stay with the rules
    out = {theme: hits for theme, hits in found.items() if theme not in known}
    # the passage's vocabulary rows with their first spans, found once
    evidence: list[tuple[int, tuple[int, int]]] | None = None
    for column, probability in tagged:
        theme = model.themes[column]
        if theme not in state.groups:
            continue  # not a theme of this taxonomy
        state.scores[theme] = probability
        if theme in found:
            out[theme] = found[theme]
        elif theme not in ruled_out:
            if evidence is None:
                evidence = model.doc_evidence_rows(doc, table)
            spans = model.evidence(evidence, theme)
            if not spans:
                # raised by the rules' verdict on another theme, not by words: that theme's
                # evidence is this one's
                source = model.strongest_source(found, column)
                spans = [(h.start, h.end) for h in found[source]] if source else []
            out[theme] = [ThemeHit(theme, s, e, weak=True, cue="model") for s, e in spans]
    return out


# --- negation and hypothetical scope ---------------------------------------------------------

# cues that deny there was anything to find ("nothing to suggest", "no concerns about"): they
# rule out a practice theme too, where a bare "no" ("there was no strategy meeting") is the finding
EVIDENTIAL_NEGATION = frozenset(
    {
        "no evidence of", "no evidence that", "no evidence to suggest", "no indication of",
        "no indication that", "no indications of", "no concern about", "no concerns about",
        "no concerns regarding", "no concern regarding", "no concerns over",
        "no concerns were raised about", "no suggestion of", "no suggestion that",
        "nothing to suggest", "nothing to indicate", "no suggestion", "no concerns",
        "no indication", "no evidence to support", "was not a feature", "no previous",
        "no instance of", "no point at which",
        "is not criticised", "was not criticised", "are not criticised", "were not criticised",
        "not a weakness", "was not the problem", "is not a concern", "not a concern for",
        "not a failure of",
        "never any doubt about", "no reason to doubt", "was never in question",
        "was not in question", "not in question", "was not needed", "were not needed",
        "was never needed", "were never needed", "was not called for", "were not called for",
    }
)  # fmt: skip

NEGATION_DEFAULTS: dict[str, Any] = {
    "pre_negation": [
        # "at no point was the threshold met", "the difficulty was not a failure of agencies to"
        "at no point",
        "no point at which",
        "at no stage",
        "not a failure of",
        "at no point was",
        "at no point were",
        "never any doubt about",
        "no reason to doubt",
        "no evidence of",
        "no evidence that",
        "no evidence to suggest",
        "no indication of",
        "no indication that",
        "no indications of",
        "no sign of",
        "no signs of",
        "no concern about",
        "no concerns about",
        "no concerns regarding",
        "no concern regarding",
        "no concerns over",
        "no concerns were raised about",
        "no history of",
        "no suggestion of",
        "no suggestion that",
        "no report of",
        "no reports of",
        "no disclosure of",
        "no disclosures of",
        "no known",
        "no previous",
        "nothing to suggest",
        "nothing to indicate",
        "did not disclose",
        "did not report",
        "did not suggest",
        "did not indicate",
        "did not reveal",
        "did not raise questions about",
        "does not raise questions about",
        "not raise questions about",
        "denied",
        "denies",
        "deny",
        "was not a feature",
        "free of",
        "free from",
        "absence of",
        "had any history of",
        "any information about",
        "no information about",
        "did not need",
        "not considered to be",
        "not thought to be",
        "not believed to be",
        "not known to",
        "had ever",
        "has ever",
        "have ever",
        "nobody suggested",
        "no one suggested",
        "nothing in",
        "no information",
        "information suggesting",
        "nothing suggesting",
        "any concerns about",
        "any concern about",
        "identified no",
        "no indications that",
        "not known to have",
        "no sign",
        "no signs",
        "no suggestion",
        "nor any",
        "not any",
        "was not suspected",
        "no-one suspected",
        "no one suspected",
        "no concerns",
        "no indication",
        "not aware of any",
        "never disclosed",
        "no reported",
        "no recorded",
        "did not have any",
        "with no history of",
        "no prior",
        "no involvement with",
        "not subject to",
        "was not involved with",
        "no previous involvement",
        "nothing in the records",
        "ever been known to",
        "no evidence to support",
        "any history of",
        "the term",
        "did not consider",
        "no risk of",
        "without any",
        "found no",
        "never had",
        "had never",
        "not discussed further",
        "never in doubt",
    ],
    # bare negators reach only a few tokens: "no bruising", not "no one asked about the father"
    "short_negation": [
        "not a",
        "not an",
        "did not have",
        "does not have",
        "no",
        "neither",
        "nor",
        "without",
        "there was no",
        "there were no",
        "there is no",
        "there are no",
    ],
    "immediate_negation": ["not", "never", "n't"],
    # cues that rule out every theme in their sentence: the text says it is not about them
    "sentence_negation": [
        # lists of who took part, documents set aside for the reader, topics of later work:
        # every theme named in such a sentence is named in passing
        "panel comprised",
        "panel was made up of",
        "panel included",
        "panel members were",
        "panel consisted of",
        "those interviewed",
        "were interviewed for",
        "inspectors met",
        "information for the review was provided by",
        "contributed to the review",
        "contributed to this review",
        "contributed to the design",
        "will cover",
        "will consider",
        "will examine",
        "will be published",
        "will be the subject of",
        "is being prepared",
        "are being prepared",
        "is planned",
        "are planned",
        "is available on",
        "are available on",
        "described in appendix",
        "reproduced in appendix",
        "summarised in appendix",
        "set out in appendix",
        "listed in appendix",
        "the phrase",
        "the term",
        "considered and rejected",
        "was rejected",
        "no suggestion that",
        "not raised as an issue",
        "not identified as an issue",
        "found no evidence that",
        "sample excluded",
        "were excluded from",
        "did not assess",
        "did not look at",
        "looks only at",
        "not an issue",
        "not a factor",
        "not an act of",
        "members included",
        "included representatives of",
        "attended by representatives of",
        "a section on",
        "will report",
        "the first three",
        "the first two",
        "in a series of",
        "provided information to",
        "information for this review was provided by",
        "contributed chronologies",
        "the reviewer met",
        "took part in a learning event",
        "subjects including",
        "topics including",
        "chapters that follow",
        "section 6 of this report",
        "is headed",
        "key lines of enquiry",
        "one of a series",
        "earlier editions",
        "earlier briefings",
        "earlier learning",
        "set out in section",
        "not repeated here",
        "subject of separate",
        "subject of a separate",
        "outside the audit's scope",
        "outside the review's scope",
        "inspection focused on",
        "visit focused on",
        "visit looked at",
        "areas considered by inspectors",
        "was confined to",
        "no bearing on",
        "unconnected with this review",
        "only as background",
        "not borne out",
        "a different explanation",
        "concluded that it did not",
        "not treated it as",
        "not a case in which",
        "not a family who needed",
        "not identified as a problem",
        "planning a briefing",
        "has sections for",
        "has a section on",
        "includes questions on",
        "includes protocols on",
        "procedures library",
        "themes for this year",
        "agencies contributing to",
        "contributing to the review",
        "attended by staff from",
        "sample left out",
        "left out cases",
        "audited separately",
        "not considered here",
        "looked only at",
        "looked only briefly at",
        "did not examine",
        "nothing in this case turned on",
        "raises no concern",
        "did not call for",
        "was chaired independently",
        "chair is independent",
        "we spoke to",
        "commissioned alongside",
        "not the view of this review",
        "no instance of",
        "the joint inspection looked at",
        "was overseen by",
        "played no part",
        "was not a source of concern",
        "not a concern in this review",
        "did not arise",
        "no question of",
        "this inspection looked at",
        "this inspection evaluated",
        "this inspection examined",
        "this inspection considered",
        "this analysis excludes",
        "excludes reviews",
        "represented at",
        "were represented",
        "not relevant",
        "no relevance",
        "not a focus",
        "not the focus",
        "not about",
        "not a case of",
        "not a review of",
        "not a line of enquiry",
        "not commented on",
        "not discussed further",
        "was discounted",
        "were discounted",
        "not substantiated",
        "unsubstantiated",
        "malicious",
        "nothing relevant",
        "not suggested",
        "posed no risk",
        "this report considers",
        "speculative",
        "could not establish",
        "could not be established",
        "mentioned once",
        "appears only once",
        "does not appear again",
        "not mentioned again",
        "did not apply",
        "does not apply",
        "not applicable",
        "terms of reference",
        "lines of enquiry",
        "policy on",
        "copies of",
        "provided to the panel",
        "agencies that contributed",
        "representatives from",
        "representative from",
        "unfounded",
        "discounted",
        "guidance was revised",
        "guidance was updated",
        "policy was revised",
        "policy was updated",
        "sets out the findings",
        "previous briefings",
        "a heading on",
        "is defined as",
        "are defined as",
        "definition of",
        "stands for",
        "no reason to suspect",
        "no reason to believe",
        "no reason to think",
        "nothing pointed to",
        "nothing indicated",
        "never suspected",
        "no cause for concern",
        "no grounds",
        "unrelated to",
        "outside the scope",
        "beyond the scope",
        "not within the scope",
        "not in scope",
        "out of scope",
        "not part of this review",
        "not the subject of",
        "a separate review",
        "covered elsewhere",
        "dealt with elsewhere",
        "in passing",
        "for completeness",
        "no link",
        "no connection",
        "not connected to",
        "were found to be untrue",
        "was found to be untrue",
        "was unfounded",
        "were unfounded",
        "played no role",
        "no part in",
        "not a feature",
        "not a theme",
        "not examined further",
        "not considered further",
        "not explored further in this",
        "of this report considers",
        "this section considers",
        "considered in this report",
        "uses the term",
        "sometimes described as",
        "this letter",
        "are not commented on",
        "was ruled out",
        "were ruled out",
        "not linked to",
        "wrong to describe",
        "would be wrong to",
        "cannot be described as",
        "could not be described as",
        "not be described as",
        # people named for their expertise or seat, not for the case; work set aside
        "advised the panel",
        "sat on the panel",
        "sat on the review panel",
        "attended the learning event",
        "panel is chaired by",
        "panel was chaired by",
        "will look at",
        "for context only",
        "not analysed further",
        "earlier summaries",
        "found not to apply",
        "found not to be present",
        # the review's own machinery: who contributed, sat in or is qualified, what is
        # scheduled, how a sample was drawn, where a document is reproduced
        "contributions were received from",
        "management reviews were received from",
        "chronologies were received from",
        "sent a chronology",
        "contributing chronologies",
        "as an observer",
        "as observers",
        "attended the practitioner",
        "invited to the practitioner",
        "contributed to the practitioner",
        "is accredited to",
        "a background in",
        "standing item",
        "is scheduled for",
        "are scheduled for",
        "sample was drawn",
        "sample were drawn",
        "consultation on the revised",
        "consultation on the draft",
        "consultation closes",
        "is reproduced at",
        "is reproduced in",
        "is used in this report to mean",
        "is organised around",
        # the review's own people and their credentials
        "of the review panel",
        "led by an independent",
        "author of this report is",
        "author was assisted",
        "independent chair is",
        "is independent of",
        "independent of all the agencies",
    ],
    # sentence cues that set a theme aside for the whole passage, not only their sentence
    "passage_negation": [
        "not about",
        "not a case of",
        "not a review of",
        "not relevant",
        "no relevance",
        "not a focus",
        "not the focus",
        "not discussed further",
        "not commented on",
        "outside the scope",
        "beyond the scope",
        "not within the scope",
        "out of scope",
        "not the subject of",
    ],
    # the document speaking of its own scope: "this review is not", "inspectors did not"
    "meta_subjects": [
        "this review",
        "the review",
        "this report",
        "the report",
        "this audit",
        "the audit",
        "this inspection",
        "the inspection",
        "inspectors",
        "this briefing",
        "the panel",
        "the reviewer",
        "the group",
        "this section",
        "this visit",
        "this monitoring visit",
        "this focused visit",
    ],
    "post_negation": [
        "ruled out",
        "was ruled out",
        "were ruled out",
        "was not considered",
        "were not considered",
        "was not identified",
        "were not identified",
        "was not a feature",
        "were not a feature",
        "was not a factor",
        "were not a factor",
        "was excluded",
        "were excluded",
        "was unfounded",
        "were unfounded",
        "was not substantiated",
        "were not substantiated",
        "not substantiated",
        "was not an issue",
        "were not an issue",
        "was not a concern",
        "were not a concern",
        "played no part",
        "played any part",
        "had no bearing",
        "was not relevant",
        "were not relevant",
        "was never in doubt",
        "were never in doubt",
        "not in doubt",
        "are not discussed further",
        "is not discussed further",
        "was not suspected",
        "of any kind",
        "was not present",
        "was not a barrier",
        "were not a barrier",
        "was not needed",
        "were not needed",
        "was not required",
        "did not influence",
        "had no influence",
        "did not play a part",
        "had resolved",
        "had fully resolved",
        "was never mentioned",
        "were never mentioned",
        "was not in question",
        "was never in question",
        "not in question",
        "was not evident",
        "were not evident",
        "was not apparent",
        "were not apparent",
        "did not feature",
        "does not feature",
        "was never raised",
        "were never raised",
        "was not indicated",
        "were not present",
        # the review's verdict on what came before: "the assessment was timely and is not
        # criticised", "information sharing was not a weakness", "that was not the problem"
        "is not criticised",
        "was not criticised",
        "are not criticised",
        "were not criticised",
        "not a weakness",
        "was not the problem",
        "is not a concern",
        "not a concern for",
        "was never needed",
        "were never needed",
        "was not called for",
        "were not called for",
    ],
    "hypothetical": [
        "if",
        "would have gone to",
        "would have been referred to",
        "would have been discussed at",
        "whether",
        "had",
        "in the event of",
        "in case of",
        "should there be",
        "were to",
        "whether or not",
        "unless",
    ],
    "terminators": [
        "but",
        "however",
        "although",
        "though",
        "whereas",
        "while",
        "which",
        "who",
        "except",
        "apart from",
        "instead",
        "rather",
        "yet",
        ";",
        ":",
        "nevertheless",
        "despite",
    ],
    # a negator whose scope runs to the end of its clause: "had no diagnosis of any mental
    # illness", "none of them had seen any controlling behaviour"
    "clause_negation": [
        "no",
        "not",
        "never",
        "none",
        "nothing",
        "neither",
        "nor",
        "without",
        "n't",
        "negative for",
        "denied",
        "denies",
        "absence of",
    ],
    # negators that open a practice finding, not a denial: "no one asked about the drinking"
    "absence_subjects": [
        "no one",
        "no-one",
        "nobody",
        "no agency",
        "no professional",
        "no practitioner",
        "no single",
        "no record",
        "no referral",
        "not only",
        "not just",
        "not always",
        "not until",
        "never asked",
    ],
    # lemmas that turn the rest of a negated clause into a practice gap about a real subject:
    # "did not ask about the father's drinking", "was not shared with the school"
    "practice_verbs": [
        "ask",
        "explore",
        "question",
        "probe",
        "check",
        "record",
        "share",
        "pass",
        "refer",
        "tell",
        "inform",
        "discuss",
        "recognise",
        "recognize",
        "see",
        "seek",
        "follow",
        "address",
        "assess",
        "understand",
        "act",
        "challenge",
        "notice",
        "link",
        "identify",
        "respond",
        "make",
        "offer",
        "consider",
        "invite",
        "receive",
    ],
    # verbs of knowing, telling and recording: what they take as complement is real, so a
    # negation or hypothesis over the verb does not reach it ("did not know that he had
    # assaulted his wife", "would have learned that he had assaulted two partners")
    "knowing_verbs": ["know", "aware", "learn", "realise", "realize", "find", "discover"],
    # words that make a "whether" clause the subject of a practice question, not a hypothesis:
    # "did not ask whether he felt safe", "no consideration was given to whether she could decide"
    "question_heads": [
        "ask",
        "check",
        "explore",
        "establish",
        "assess",
        "understand",
        "question",
        "probe",
        "reassess",
        "consideration",
        "assessment",
    ],
    # a "whether" clause the text then answers was only a possibility, now set aside:
    # "considered whether it was exploitation and found no indication of it"
    "question_answers": [
        "concluded",
        "found no",
        "found nothing",
        "no such",
        "satisfied that",
        "could not reach",
        "cannot be known",
        "not possible to say",
        "no indication",
        "no indicators",
    ],
    # after "and" or "or", a word that starts a new clause and so ends a negation's scope
    "clause_openers": [
        "she",
        "he",
        "they",
        "we",
        "it",
        "there",
        "this",
        "the",
        "her",
        "his",
        "their",
        "its",
        "a",
        "an",
        "i",
        "staff",
        "practitioners",
        "professionals",
        "agencies",
    ],
    # a denial that points back ("there was no evidence of this", "the allegation was found
    # to have been malicious") rules out what came before it, in its sentence and the one before
    "anaphoric_negation": [
        "ruled it out",
        "ruled this out",
        "ruled that out",
        "and rejected",
        "found no basis",
        "no basis for the concern",
        "found any basis",
        "found no evidence that it had",
        "no evidence of this",
        "no evidence for this",
        "no evidence of that",
        "no evidence to support this",
        "this was not the case",
        "this was unfounded",
        "this was not substantiated",
        "this was never substantiated",
        "found to have been malicious",
        "found to be malicious",
        "found to be untrue",
        "found to have been untrue",
        "found to be false",
        "found to have been false",
        "it is not relevant",
        "this is not relevant",
        # "X, Y and Z were explored and ruled out": the denial comes after a long subject
        "and ruled out",
        "and discounted",
        "none was found",
        "none were found",
        "none was present",
        "none were present",
        "concluded that she had not",
        "concluded that he had not",
        "concluded that they had not",
        "concluded that it had not",
        "concluded that it did not",
        "concluded that it was not",
        "concluded that he was not",
        "concluded that she was not",
    ],
    "list_item_max": 5,
    # a sentence opening with one of these is a hypothesis from start to end: "If Jake had been
    # reported missing, the police would have opened a missing person investigation"
    "hypothetical_openers": ["if", "even if", "had", "unless", "should", "were", "in the event"],
    # words that announce a list of topics rather than a finding: a sentence with one of these
    # before its first theme and two or more themes names them in passing
    "listing_nouns": [
        "training",
        "course",
        "courses",
        "module",
        "modules",
        "session",
        "sessions",
        "briefing",
        "briefings",
        "priority",
        "priorities",
        "abbreviation",
        "abbreviations",
        "appendix",
        "glossary",
        "template",
        "heading",
        "headings",
        "form",
        "topic",
        "topics",
        "agenda",
        "leaflet",
        "leaflets",
        "toolkit",
        "checklist",
        "e-learning",
        "workshop",
        "workshops",
        "conference programme",
        "sections",
        "strands",
    ],
    # a numbered part of the document ("Section 5", "Appendix C", "Table 4") that opens a
    # sentence, or follows "in"/"at", with a verb of presenting: the sentence is about the report
    # ("Section 5 looks at ...", "... are considered in section 7", "is attached at Appendix C")
    "document_parts": [
        "section",
        "chapter",
        "part",
        "appendix",
        "annex",
        "table",
        "figure",
        "finding",
        "paragraph",
        "chart",
    ],
    "presenting_verbs": [
        "set",
        "look",
        "describe",
        "consider",
        "attach",
        "cover",
        "summarise",
        "summarize",
        "list",
        "show",
        "discuss",
        "address",
        "concern",
        "explore",
        "examine",
        "give",
        "present",
        "outline",
        "include",
        "deal",
        "turn",
        "return",
    ],
    # an opening label before a colon that names a list, not a finding ("Panel members:",
    # "Audit tool headings:", "Key lines of enquiry:", "Further reading:"): its themes are
    # named in passing, and when the passage opens with it, so are the items that follow
    "heading_nouns": [
        "member",
        "members",
        "panel",
        "heading",
        "headings",
        "reading",
        "key",
        "selection",
        "theme",
        "themes",
        "enquiry",
        "lines",
        "contributor",
        "contributors",
        "agencies",
        "sources",
        "membership",
        "attendees",
        "contents",
        "terms",
        "sample",
        "methodology",
        "scope",
        "tool",
        "criteria",
        "contributing",
        "areas",
        "topics",
        "agenda",
        "item",
        "table",
        "figure",
        "chart",
    ],
    "heading_max": 6,
    # an inspection or audit stating its own remit: "The inspection covered the multi-agency
    # response to children living with domestic abuse", "This letter sets out ...". The themes
    # are the remit, named in passing, unless the sentence goes on to what was found
    "remit_subjects": [
        "this letter",
        "the letter",
        "the inspection",
        "this inspection",
        "inspectors",
        "the joint targeted area inspection",
        "this joint targeted area inspection",
        "the audit",
        "this audit",
        "the deep dive",
        "this deep dive",
        "the audit tool",
    ],
    "remit_verbs": ["set", "cover", "examine", "look", "evaluate", "include"],
    "finding_verbs": ["find", "see", "identify", "conclude", "show", "reveal", "note"],
    # what "would have" happened under a condition that follows it did not happen: "they would
    # have talked about bed-sharing if the mother had ever mentioned it"
    "counterfactual_modals": ["would have", "could have", "might have"],
    "trailing_conditions": ["if", "unless", "had she", "had he", "had they", "had anyone"],
    # a question put to someone and answered with a denial rules out what was asked about,
    # though not the asking: "was asked about domestic abuse at every appointment and each
    # time said there was none", "drug use was raised with her and she denied it"
    "asked_cues": [
        "asked about",
        "asked whether",
        "asked if",
        "raised with",
        "asked her about",
        "asked him about",
        "asked them about",
        "enquired about",
        "screened for",
    ],
    "denial_answers": [
        "denied",
        "denies",
        "said there was none",
        "said there were none",
        "said she had never",
        "said he had never",
        "said they had never",
        "said she never",
        "said he never",
        "said they used neither",
        "said they had none",
        "said she had none",
        "said he had none",
        "said that there was none",
        "consistently said no",
        "each time said no",
        "said she used neither",
        "said he used neither",
    ],
    "pre_window": 15,
    "short_window": 2,
    "post_window": 10,
    "meta_window": 3,
}


class ClauseScope:
    """Negation that reaches to the end of its clause, for wordings no cue list foresaw.

    A negator ("no", "not", "none", "without", "denied") rules out a theme named later in the
    same clause, so "had no diagnosis of any mental illness" and "none of them had seen any
    controlling behaviour" do not tag. The clause ends at a terminator, a sentence end, a comma
    that does not continue a short list, or "and"/"or" opening a new clause. It does not apply
    to practice themes whose absence is the finding, nor after a negated practice verb ("did
    not ask about the drinking": the drinking is real), nor to "no one"/"nobody" subjects.
    """

    def __init__(
        self,
        nlp: Language,
        negators: list[str],
        absence_subjects: list[str],
        practice_verbs: list[str],
        clause_openers: list[str],
        terminators: list[str],
        list_item_max: int,
        hypothetical_openers: list[str] | None = None,
        listing_nouns: list[str] | None = None,
        anaphoric_negation: list[str] | None = None,
        knowing_verbs: list[str] | None = None,
        document_parts: list[str] | None = None,
        presenting_verbs: list[str] | None = None,
        heading_nouns: list[str] | None = None,
        heading_max: int = 6,
        asked_cues: list[str] | None = None,
        denial_answers: list[str] | None = None,
        remit_subjects: list[str] | None = None,
        remit_verbs: list[str] | None = None,
        finding_verbs: list[str] | None = None,
        counterfactual_modals: list[str] | None = None,
        trailing_conditions: list[str] | None = None,
    ) -> None:
        if list_item_max < 0 or heading_max < 0:
            raise ValueError("list_item_max must not be negative")
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        strings = nlp.vocab.strings
        self.neg = strings.add("clause_neg")
        self.subject = strings.add("clause_subject")
        self.term = strings.add("clause_term")
        if negators:
            self.matcher.add("clause_neg", [nlp.make_doc(p.lower()) for p in negators])
        if absence_subjects:
            self.matcher.add("clause_subject", [nlp.make_doc(p.lower()) for p in absence_subjects])
        if terminators:
            self.matcher.add("clause_term", [nlp.make_doc(p.lower()) for p in terminators])
        self.back = strings.add("clause_back")
        if anaphoric_negation:
            self.matcher.add("clause_back", [nlp.make_doc(p.lower()) for p in anaphoric_negation])
        self.hypo = strings.add("clause_hypo")
        self.listing = strings.add("clause_listing")
        if hypothetical_openers:
            self.matcher.add("clause_hypo", [nlp.make_doc(p.lower()) for p in hypothetical_openers])
        if listing_nouns:
            self.matcher.add("clause_listing", [nlp.make_doc(p.lower()) for p in listing_nouns])
        self.polarity = frozenset(strings.add(w) for w in ("any", "anything", "evidence"))
        self.modals = frozenset(strings.add(w) for w in ("would", "could", "might"))
        self.indefinite = frozenset(strings.add(w) for w in ("a", "an", "any"))
        self.be = frozenset(strings.add(w) for w in ("was", "were", "is", "are", "been", "be"))
        self.nots = frozenset(strings.add(w) for w in ("not", "never", "n't"))
        self.verbs = frozenset(strings.add(v.lower()) for v in practice_verbs)
        self.knowing = frozenset(strings.add(v.lower()) for v in knowing_verbs or [])
        # "did not find that ..." denies what was looked for; "did not know that ..." does not
        self.unknowing = self.knowing - {strings.add(w) for w in ("find", "discover")}
        self.complementisers = frozenset(strings.add(w) for w in ("that", "about", "of"))
        # what a negated knowing verb takes as object: "did not know that", "not aware of"
        self.known_objects = self.complementisers
        self.semicolon = strings.add(";")
        self.ever = strings.add("ever")
        self.hedges = frozenset(
            strings.add(w)
            for w in (
                "always", "routinely", "consistently", "well", "clearly", "fully", "properly",
                "adequately", "sufficiently", "reliably", "regularly", "systematically", "yet",
                "effectively",
            )
        )  # fmt: skip
        self.openers = frozenset(strings.add(w.lower()) for w in clause_openers)
        self.beliefs = frozenset(
            strings.add(w) for w in ("think", "suspect", "believe", "suggest", "worry", "allege")
        )
        self.pronouns = frozenset(
            strings.add(w) for w in ("she", "he", "they", "we", "it", "there", "i")
        )
        self.joins = frozenset(strings.add(w) for w in ("and", "or"))
        self.comma = strings.add(",")
        self.list_item_max = list_item_max
        self.part = strings.add("clause_part")
        if document_parts:
            self.matcher.add("clause_part", [nlp.make_doc(p.lower()) for p in document_parts])
        self.presenting = frozenset(strings.add(v.lower()) for v in presenting_verbs or [])
        self.part_prepositions = frozenset(strings.add(w) for w in ("in", "at", "see", "to"))
        # "section 47 enquiries": a statutory section, not a part of the report
        self.part_exceptions = frozenset(
            strings.add(w) for w in ("enquiry", "investigation", "of", "duty", "order", "notice")
        )
        self.heading_nouns = frozenset(strings.add(w.lower()) for w in heading_nouns or [])
        # a label that names the text's own conclusion is not a list heading: "Key finding:"
        self.finding_labels = frozenset(
            strings.add(w)
            for w in (
                "finding", "findings", "learning", "recommendation", "recommendations",
                "action", "actions", "issue", "issues", "concern", "concerns", "lesson",
                "lessons", "question", "questions",
            )
        )  # fmt: skip
        # terminators that cast doubt on what came before ("but", "however"), unlike ";"
        self.contrasts = frozenset(
            strings.add(w)
            for w in ("but", "however", "although", "though", "yet", "nevertheless", "despite")
        )
        self.remit = strings.add("clause_remit")
        if remit_subjects and remit_verbs:
            self.matcher.add("clause_remit", [nlp.make_doc(p.lower()) for p in remit_subjects])
        self.remit_verbs = frozenset(strings.add(v) for v in remit_verbs or [])
        self.finding_verbs = frozenset(strings.add(v) for v in finding_verbs or [])
        self.modal = strings.add("clause_modal")
        self.condition = strings.add("clause_condition")
        if counterfactual_modals and trailing_conditions:
            self.matcher.add("clause_modal", [nlp.make_doc(p) for p in counterfactual_modals])
            self.matcher.add("clause_condition", [nlp.make_doc(p) for p in trailing_conditions])
        self.asked = strings.add("clause_asked")
        self.denial = strings.add("clause_denial")
        if asked_cues and denial_answers:
            self.matcher.add("clause_asked", [nlp.make_doc(p.lower()) for p in asked_cues])
            self.matcher.add("clause_denial", [nlp.make_doc(p.lower()) for p in denial_answers])
        self.heading_max = heading_max
        self.colon = strings.add(":")
        self.enabled = bool(
            negators
            or counterfactual_modals
            or remit_subjects
            or hypothetical_openers
            or listing_nouns
            or anaphoric_negation
            or document_parts
            or self.heading_nouns
        )

    def _real_in_hypothesis(
        self, hit: ThemeHit, state: _State, before: list[int], lemmas: list[int], begin: int
    ) -> bool:
        """Is a hit in a hypothetical sentence about something real?

        - after ";" the sentence says what did happen ("...; as it was, neither agency knew");
        - after a knowing verb and "that" the consequence is a fact the condition would have
          brought to light ("she would have learned that he had assaulted two partners");
        - a practice theme named in a condition on a practice verb is the gap itself ("Had the
          midwife asked about the baby's father, ...": nobody asked).
        """
        if self.semicolon in before:
            return True
        for k in range(len(before) - 1):
            if (
                lemmas[begin + k] in self.knowing
                and before[k + 1] in self.complementisers
                and any(o in self.modals for o in before[:k])
                and self.comma not in before[k:]
            ):
                return True
        if hit.theme in state.absence_is_finding and self.comma not in before:
            return any(lemmas[k] in self.verbs for k in range(begin + 1, hit.end))
        return False

    def _structural(self, doc: Doc, state: _State, matches: list[tuple[int, int, int]]) -> None:
        """Sentences about the document itself: a numbered part that presents something
        ("Section 5 looks at ...", "... is attached at Appendix C"), or an opening label before
        a colon that names a list ("Panel members: ..."). Their themes are named in passing."""
        starts = state.sent_starts
        n = len(doc)
        passing: list[tuple[int, int, str]] = []
        for m, s, e in matches:
            if m != self.part or e >= n:
                continue
            number = doc[e]
            if not (number.like_num or (len(number.text) == 1 and number.text.isupper())):
                continue
            # "section 47 of the Children Act" is a statute; "section 7 of this report" is not
            if (
                e + 1 < n
                and doc[e + 1].lemma in self.part_exceptions
                and not (
                    doc[e + 1].lower_ == "of"
                    and e + 3 < n
                    and doc[e + 3].lemma_ in ("report", "review", "briefing", "document")
                )
            ):
                continue
            begin, end = _sentence_of(starts, s)
            end = min(end, n)
            opens = s == begin or (s == begin + 1 and doc[begin].lower_ == "the")
            if not opens and not (s and doc[s - 1].lemma in self.part_prepositions):
                continue
            if any(doc[k].lemma in self.presenting for k in range(begin, end)):
                passing.append((begin, end, "structural sentence"))
        if self.heading_nouns:
            # a label ends at its sentence's first colon ("Panel members:") or, opening the
            # passage, at the end of a short numbered first sentence ("Table 3.")
            ends = [s for m, s, _ in matches if m == self.term and doc[s].orth == self.colon]
            first_end = min(_sentence_of(starts, 0)[1], n)
            if 2 <= first_end <= self.heading_max + 1 and first_end < n:
                number = doc[first_end - 2]
                if number.like_num or (len(number.text) == 1 and number.text.isupper()):
                    ends.append(first_end - 1)
            labelled: set[int] = set()
            for k in sorted(ends):
                begin, end = _sentence_of(starts, k)
                if begin in labelled:
                    continue
                labelled.add(begin)
                label = (
                    [doc[j].lower for j in range(begin, k)] if k - begin <= self.heading_max else []
                )
                if (
                    label
                    and any(w in self.heading_nouns for w in label)
                    and not any(w in self.finding_labels for w in label)
                ):
                    # a passage that opens with the label is the list, to its end
                    passing.append((begin, n if begin == 0 else min(end, n), "list heading"))
        if not passing:
            return
        for hit in state.hits:
            if not hit.counts:
                continue
            for b, f, cue in passing:
                if b <= hit.start < f:
                    hit.hypothetical, hit.cue = True, cue
                    break

    def _counterfactual(self, doc: Doc, state: _State, matches: list[tuple[int, int, int]]) -> None:
        """What "would have" happened under a condition that follows in the same clause did
        not happen ("would have talked about bed-sharing if the mother had mentioned it").
        Practice themes stay: what a practitioner would have done is the point."""
        conditions = [s for m, s, _ in matches if m == self.condition]
        if not conditions:
            return
        starts = state.sent_starts
        for m, s, e in matches:
            if m != self.modal:
                continue
            end = _sentence_of(starts, s)[1]
            condition = next((c for c in conditions if e < c < end), None)
            if condition is None or any(
                doc[k].orth == self.comma or doc[k].lemma in self.knowing
                for k in range(e, condition)
            ):
                continue
            for hit in state.hits:
                if (
                    hit.counts
                    and e <= hit.start
                    and hit.end <= condition
                    and hit.theme not in state.absence_is_finding
                ):
                    hit.hypothetical, hit.cue = True, doc[s:e].text

    def _remit(self, doc: Doc, state: _State, matches: list[tuple[int, int, int]]) -> None:
        """An inspection or audit that opens a sentence stating its remit ("The inspection
        covered the multi-agency response to children living with domestic abuse") names its
        themes in passing, unless the sentence goes on to what was found."""
        starts = state.sent_starts
        n = len(doc)
        for m, s, e in matches:
            if m != self.remit:
                continue
            begin, end = _sentence_of(starts, s)
            end = min(end, n)
            if s != begin:
                continue
            # "...; inspectors focused on ...": the remit ends at a semicolon
            end = next((k for k in range(e, end) if doc[k].orth == self.semicolon), end)
            lemmas = [doc[k].lemma for k in range(e, end)]
            verb = next(
                (i for i, lemma in enumerate(lemmas[:8]) if lemma in self.remit_verbs), None
            )
            if verb is None or any(lemma in self.finding_verbs for lemma in lemmas[verb:]):
                continue
            for hit in state.hits:
                if hit.counts and begin <= hit.start < end:
                    hit.hypothetical, hit.cue = True, "remit"

    def _answered(self, doc: Doc, state: _State, matches: list[tuple[int, int, int]]) -> None:
        """A question answered with a denial in the same sentence rules out what was asked
        about, before the denial ("asked about drug use at booking and said she used
        neither"); the asking itself, and practice themes, stay."""
        asked = [(s, e) for m, s, e in matches if m == self.asked]
        if not asked:
            return
        starts = state.sent_starts
        for m, s, _e in matches:
            if m != self.denial:
                continue
            begin = _sentence_of(starts, s)[0]
            questions = [(a, b) for a, b in asked if begin <= a < s]
            end = _sentence_of(starts, s)[1]
            # "denied drinking, but his blood tests showed otherwise": the denial is doubted
            if not questions or any(
                m2 == self.term and s < s2 < end and doc[s2].lower in self.contrasts
                for m2, s2, _ in matches
            ):
                continue
            for hit in state.hits:
                if (
                    hit.counts
                    and begin <= hit.start
                    and hit.end <= s
                    and hit.theme not in state.absence_is_finding
                    and not any(a < hit.end and hit.start < b for a, b in questions)
                ):
                    hit.negated, hit.cue = True, doc[s:_e].text

    def question_governed(self, doc: Doc, start: int, heads: frozenset[int]) -> bool:
        """Does "whether" at start follow a practice question ("did not ask Mr P whether")?"""
        return any(doc[k].lemma in heads for k in range(max(0, start - 4), start))

    def breaks(self, doc: Doc, commas: list[int]) -> list[int]:
        """Commas followed by "and"/"or" and a word that opens a new clause."""
        n = len(doc)
        return [
            c
            for c in commas
            if c + 2 < n and doc[c + 1].orth in self.joins and doc[c + 2].lower in self.openers
        ]

    def __call__(self, doc: Doc, state: _State) -> None:
        if not self.enabled or not any(h.counts for h in state.hits):
            return
        matches = self.matcher(doc)
        starts = state.sent_starts
        sentence_starts = set(starts)
        # a sentence that opens with a hypothesis, or lists topics, marks all its themes
        hypothetical = {s for m, s, _ in matches if m == self.hypo and s in sentence_starts}
        if hypothetical:
            columns = token_table(doc).columns
            orths, lemmas = columns[LOWER], columns[LEMMA]
            for hit in state.hits:
                begin = _sentence_of(starts, hit.start)[0]
                if not hit.counts or begin not in hypothetical:
                    continue
                if self._real_in_hypothesis(hit, state, orths[begin : hit.start], lemmas, begin):
                    continue
                # the condition itself, or what "would" have followed from it; a thing named
                # before the modal ("the bruise would have been examined") was real, unless it
                # is introduced as new ("a strategy discussion would have been held")
                before = orths[begin : hit.start]
                if (
                    self.comma not in before
                    or any(o in self.modals for o in before)
                    or (
                        any(o in self.indefinite for o in before[-2:])
                        and any(
                            o in self.modals
                            for o in orths[hit.end : _sentence_of(starts, hit.start)[1]]
                        )
                    )
                ):
                    hit.hypothetical, hit.cue = True, "hypothetical sentence"
        self._structural(doc, state, matches)
        self._answered(doc, state, matches)
        self._remit(doc, state, matches)
        self._counterfactual(doc, state, matches)
        for m, s, e in matches:
            if m != self.back:
                continue
            begin = _sentence_of(starts, s)[0]
            previous = _sentence_of(starts, begin - 1)[0] if begin else begin
            for hit in state.hits:
                if (
                    hit.counts
                    and previous <= hit.start < s
                    and hit.theme not in state.absence_is_finding
                ):
                    hit.negated, hit.cue = True, doc[s:e].text
        listings = [s for m, s, _ in matches if m == self.listing]
        if listings:
            by_sentence: dict[int, list[ThemeHit]] = {}
            for hit in state.hits:
                if hit.counts and not hit.weak:
                    by_sentence.setdefault(_sentence_of(starts, hit.start)[0], []).append(hit)
            for begin, hits in by_sentence.items():
                first = min(h.start for h in hits)
                if len({h.theme for h in hits}) >= 2 and any(begin <= s < first for s in listings):
                    for hit in state.hits:
                        if _sentence_of(starts, hit.start)[0] == begin:
                            hit.hypothetical, hit.cue = True, "list of topics"
        open_hits = [h for h in state.hits if h.counts and h.theme not in state.absence_is_finding]
        negs = [(s, e) for m, s, e in matches if m == self.neg]
        if not open_hits or not negs:
            return
        subjects = [(s, e) for m, s, e in matches if m == self.subject]
        terms = {s for m, s, _ in matches if m == self.term}
        # a negator inside "no one" / "not only" opens no scope
        negs = [(s, e) for s, e in negs if not any(b <= s < f for b, f in subjects)]
        columns = token_table(doc).columns
        rows = list(zip(columns[LOWER], columns[LEMMA], strict=True))
        n = len(rows)
        # ... unless what no one did was believe it: "no one thought she was at risk", or know
        # of any of it: "no agency knew of any controlling behaviour", or it never happened:
        # "there is no record that he ever spoke of ending his life"
        for _b, f in subjects:
            for k in range(f, min(f + 5, n)):
                if (
                    rows[k][1] in self.beliefs
                    or rows[k][0] == self.ever
                    or (
                        rows[k][1] in self.unknowing
                        and any(r[0] in self.polarity for r in rows[k + 1 : k + 3])
                    )
                ):
                    negs.append((k, k + 1))
                    break
        # "knew nothing of his illness": the knowing is negated, not what was to be known
        negs = [(s, e) for s, e in negs if not (s and rows[s - 1][1] in self.unknowing)]
        if not negs:
            return
        # "domestic abuse was not a line the panel pursued": the subject is denied
        for hit in open_hits:
            _, s_end = _sentence_of(starts, hit.start)
            for k in range(hit.end, min(hit.end + 4, s_end, n) - 1):
                if k in terms:
                    break
                if rows[k][0] in self.be and rows[k + 1][0] in self.nots:
                    after = rows[k + 2][1] if k + 2 < n else 0
                    # "are not always assessed", "is not well understood": a practice gap
                    if after in self.hedges:
                        break
                    if after not in self.verbs and after not in self.unknowing:
                        hit.negated, hit.cue = True, doc[k : k + 2].text
                    break
        for s, e in negs:
            _, s_end = _sentence_of(starts, s)
            end = min(s_end, n)
            i = e
            while i < end:
                lower, lemma = rows[i]
                if i in terms:
                    break
                # "did not see any signs of neglect" denies; "did not ask about neglect" is a gap
                # "did not know that he had assaulted his wife": the assault is real
                if (
                    lemma in self.unknowing
                    and i + 1 < end
                    and rows[i + 1][0] in self.known_objects
                    and not any(r[0] in self.polarity for r in rows[i + 1 : i + 3])
                ):
                    break
                if lemma in self.verbs and not any(
                    r[0] in self.polarity for r in rows[i + 1 : i + 3]
                ):
                    break
                # "and she", or ", and the stepfather": a new clause; "Chloe or her friends" is not
                if (
                    lower in self.joins
                    and i + 1 < end
                    and (
                        rows[i + 1][0] in self.pronouns
                        or (rows[i + 1][0] in self.openers and rows[i - 1][0] == self.comma)
                    )
                ):
                    break
                if lower == self.comma:
                    j = i + 1
                    while j < end and rows[j][0] != self.comma and j not in terms:
                        j += 1
                    # a long last item still belongs to the list when "and"/"or" opens it:
                    # "no mention of low mood, anxiety or any other mental health difficulty"
                    if j - i - 1 > self.list_item_max and not any(
                        r[0] in self.joins for r in rows[i + 2 : min(i + 4, j)]
                    ):
                        break
                i += 1
            for hit in open_hits:
                if e <= hit.start and hit.end <= i and hit.counts:
                    hit.negated, hit.cue = True, doc[s:e].text


class NegationScope(BatchComponent):
    """Mark theme hits that sit inside a negation, hypothetical or passing-mention scope.

    - a leading cue ("no evidence of") reaches `pre_window` tokens forward, a bare negator
      ("no", "nor") `short_window`, and "not"/"never" only the very next token;
    - a trailing cue ("... was ruled out") reaches `post_window` tokens back;
    - a sentence cue ("not relevant to this review", "was discounted") rules out every theme in
      its sentence, as does the review itself saying it does not look at something ("this
      review is not about", "inspectors did not look at");
    - a hypothetical cue ("if", "whether", a sentence-opening "Had") reaches to the next comma;
    - a glossary (several "ABBR: Expansion" entries) mentions themes only in passing.
    Scopes stay inside one sentence and stop at a terminator ("but", "however").
    """

    def __init__(
        self,
        nlp: Language,
        pre_negation: list[str],
        post_negation: list[str],
        hypothetical: list[str],
        short_negation: list[str],
        immediate_negation: list[str],
        sentence_negation: list[str],
        passage_negation: list[str],
        meta_subjects: list[str],
        terminators: list[str],
        pre_window: int,
        short_window: int,
        post_window: int,
        meta_window: int,
        clause_negation: list[str] | None = None,
        absence_subjects: list[str] | None = None,
        practice_verbs: list[str] | None = None,
        clause_openers: list[str] | None = None,
        list_item_max: int = 5,
        hypothetical_openers: list[str] | None = None,
        listing_nouns: list[str] | None = None,
        anaphoric_negation: list[str] | None = None,
        knowing_verbs: list[str] | None = None,
        question_heads: list[str] | None = None,
        question_answers: list[str] | None = None,
        document_parts: list[str] | None = None,
        presenting_verbs: list[str] | None = None,
        heading_nouns: list[str] | None = None,
        heading_max: int = 6,
        asked_cues: list[str] | None = None,
        denial_answers: list[str] | None = None,
        remit_subjects: list[str] | None = None,
        remit_verbs: list[str] | None = None,
        finding_verbs: list[str] | None = None,
        counterfactual_modals: list[str] | None = None,
        trailing_conditions: list[str] | None = None,
    ) -> None:
        self.clause = ClauseScope(
            nlp,
            clause_negation or [],
            absence_subjects or [],
            practice_verbs or [],
            clause_openers or [],
            terminators,
            list_item_max,
            hypothetical_openers or [],
            listing_nouns or [],
            anaphoric_negation or [],
            knowing_verbs or [],
            document_parts or [],
            presenting_verbs or [],
            heading_nouns or [],
            heading_max,
            asked_cues or [],
            denial_answers or [],
            remit_subjects or [],
            remit_verbs or [],
            finding_verbs or [],
            counterfactual_modals or [],
            trailing_conditions or [],
        )
        self.question_heads = frozenset(
            nlp.vocab.strings.add(w.lower()) for w in question_heads or []
        )
        unknown = {p.lower() for p in passage_negation} - {p.lower() for p in sentence_negation}
        if unknown:
            raise ValueError(f"passage_negation cues must be sentence cues too: {sorted(unknown)}")
        self.passage_negation = frozenset(p.lower() for p in passage_negation)
        if min(short_window, meta_window) < 0:
            raise ValueError("short_window and meta_window must not be negative")
        if pre_window < 1 or post_window < 1:
            raise ValueError("pre_window and post_window must be at least 1")
        if not (pre_negation or post_negation or hypothetical or sentence_negation):
            raise ValueError("negation needs at least one cue")
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._kinds = (
            ("pre", pre_negation),
            ("post", post_negation),
            ("hypo", hypothetical),
            ("short", short_negation),
            ("now", immediate_negation),
            ("sent", sentence_negation),
            ("meta", meta_subjects),
            ("term", terminators),
            ("comma", [","]),
            ("answer", question_answers or []),
        )
        for kind, phrases in self._kinds:
            if phrases:
                self.matcher.add(kind, [nlp.make_doc(p.lower()) for p in phrases])
        self.window = {"pre": pre_window, "short": short_window, "now": 0}
        self.post_window = post_window
        self.meta_window = meta_window
        self._kind = {nlp.vocab.strings[k]: k for k, _ in self._kinds}
        self._colon = nlp.vocab.strings.add(":")
        self._semicolon = nlp.vocab.strings.add(";")
        # "did not consider whether/that ...": the consideration missing is the finding
        self._open_complements = frozenset(
            nlp.vocab.strings.add(w) for w in ("whether", "that", "how")
        )

    def __call__(self, doc: Doc) -> Doc:
        state = _state(doc)
        if not state.hits:
            return doc
        self._mark(doc, state)
        # the clause rules run last, on what the cue lists left standing
        self.clause(doc, state)
        return doc

    def _mark(self, doc: Doc, state: _State) -> None:
        starts = set(state.sent_starts)
        kinds = self._kind
        colon = self._colon
        cues: list[_Cue] = []
        for m, s, e in self.matcher(doc):
            kind = kinds[m]
            if kind in ("term", "comma", "answer"):
                # positions only: building span text for every comma is the slow part
                cues.append(_Cue(kind, s, e))
                continue
            text = span_text(doc, s, e, trailing=False)
            # "had" is hypothetical only when it opens a sentence ("Had the bruise been seen")
            if kind == "hypo" and text.lower() == "had" and s not in starts:
                continue
            # "did not consider whether she could carry the decision out": a practice gap
            if (
                kind == "pre"
                and e < len(doc)
                and doc[e].lower in self._open_complements
                and doc[s:e].lemma_.split()[-1:] == ["consider"]
            ):
                continue
            cues.append(_Cue(kind, s, e, text))
        colons = sum(1 for c in cues if c.kind == "term" and doc[c.start].orth == colon)
        # only build the passage text (slow) when it could be a glossary
        text = span_text(doc) if colons else ""
        if (colons >= 2 and len(_GLOSSARY_ENTRY.findall(text)) >= 2) or (
            colons and _GLOSSARY_OPENING.match(text)
        ):
            for hit in state.hits:
                hit.hypothetical, hit.cue = True, "glossary"
            return
        # "did not ask whether he felt safe": the question is the practice point, not a hypothesis,
        # unless the text goes on to answer it ("considered whether ... and concluded ...")
        if self.question_heads and not any(c.kind == "answer" for c in cues):
            metas = [c.start for c in cues if c.kind == "meta"]
            cues = [
                c
                for c in cues
                if not (
                    c.kind == "hypo"
                    and c.text.lower() == "whether"
                    and self.clause.question_governed(doc, c.start, self.question_heads)
                    and not _between(metas, _sentence_of(state.sent_starts, c.start)[0], c.start)
                )
            ]
        if not any(c.kind not in ("term", "meta", "comma", "answer") for c in cues):
            return
        terms = [c.start for c in cues if c.kind == "term"]
        # ", and the stepfather ..." starts a new clause: no leading cue reaches across it
        commas_at = [c.start for c in cues if c.kind == "comma"]
        if commas_at:
            terms = sorted(set(terms) | set(self.clause.breaks(doc, commas_at)))
        commas = [c.start for c in cues if c.kind == "comma"]
        practice = self.clause.verbs
        negators = [c for c in cues if c.kind in ("now", "short")]
        ruled_out: dict[int, str] = {}  # sentence start -> cue that rules the sentence out
        meta_scopes: list[tuple[int, int, str]] = []  # the review setting part of a sentence aside
        semicolon = self._semicolon
        semicolons = [c.start for c in cues if c.kind == "term" and doc[c.start].orth == semicolon]
        # sentence cues first, so a sentence ruled out both ways keeps the more telling cue
        for cue in sorted(cues, key=lambda c: c.kind != "sent"):
            if cue.kind == "sent":
                ruled_out.setdefault(_sentence_of(state.sent_starts, cue.start)[0], cue.text)
            elif cue.kind == "meta":
                for neg in negators:
                    if 0 <= neg.start - cue.end <= self.meta_window:
                        # "the panel did not consider it a suicide; he was killed by his son":
                        # the review's own view reaches only its part of the sentence
                        begin, end = _sentence_of(state.sent_starts, cue.start)
                        left = [p for p in semicolons if begin <= p < cue.start]
                        right = [p for p in semicolons if cue.end <= p < end]
                        meta_scopes.append(
                            (
                                left[-1] + 1 if left else begin,
                                right[0] if right else end,
                                f"{cue.text} {neg.text}",
                            )
                        )
        state.ruled_out_cues = {
            c.text for c in cues if c.kind == "sent" and c.text.lower() in self.passage_negation
        }
        # each sentence's scoped cues, in the order found: a hit looks only at its own
        # sentence's (the other kinds were used above)
        by_sentence: dict[int, list[_Cue]] = {}
        for cue in cues:
            if cue.kind in ("pre", "short", "now", "post", "hypo"):
                begin = _sentence_of(state.sent_starts, cue.start)[0]
                by_sentence.setdefault(begin, []).append(cue)
        for hit in state.hits:
            if hit.excluded:
                continue
            s_begin, _ = _sentence_of(state.sent_starts, hit.start)
            if s_begin in ruled_out:
                hit.negated, hit.cue = True, ruled_out[s_begin]
                continue
            meta = next((t for b, f, t in meta_scopes if b <= hit.start < f), None)
            if meta is not None:
                hit.negated, hit.cue = True, meta
                continue
            # for a practice theme the absence is the finding ("there was no multi-agency
            # meeting"): only hypotheses and the text's own scope rule it out, not negation
            absence_is_finding = hit.theme in state.absence_is_finding
            for cue in by_sentence.get(s_begin, ()):
                if (
                    absence_is_finding
                    and cue.kind in ("pre", "short", "now", "post")
                    and cue.text.lower() not in EVIDENTIAL_NEGATION
                ):
                    continue
                if cue.kind in self.window and cue.end <= hit.start:
                    if hit.start - cue.end <= self.window[cue.kind] and not _between(
                        terms, cue.end, hit.start
                    ):
                        hit.negated, hit.cue = True, cue.text
                elif cue.kind == "post" and cue.start > hit.start and cue.end > hit.end:
                    # a trailing cue may begin inside a longer hit ("capacity was not" + "was
                    # not in question")
                    if cue.start - hit.end <= self.post_window and not _between(
                        terms, hit.end, cue.start
                    ):
                        hit.negated, hit.cue = True, cue.text
                elif (
                    cue.kind == "hypo"
                    and cue.end <= hit.start
                    and not _between(commas, cue.end, hit.start)
                    and not _between(terms, cue.end, hit.start)
                    # "Had the midwife asked about the father, ...": nobody asked, and that is
                    # the finding for a practice theme
                    and not (
                        absence_is_finding
                        and cue.start in starts
                        and any(doc[k].lemma in practice for k in range(cue.end, hit.end))
                    )
                ):
                    hit.hypothetical, hit.cue = True, cue.text
                if hit.negated or hit.hypothetical:
                    break


_GLOSSARY_ENTRY = re.compile(r"\b[A-Z][A-Za-z&]*[A-Z]s?:\s+[A-Za-z]")
# a passage that opens by defining an abbreviation ("AHT: abusive head trauma") is a glossary entry
_GLOSSARY_OPENING = re.compile(r"^\s*(?:Glossary\b|[A-Z][A-Za-z&]*[A-Z]s?:\s)")


def _between(positions: list[int], start: int, end: int) -> bool:
    """Is any position p with start <= p < end?"""
    pos = bisect_right(positions, start - 1)
    return pos < len(positions) and positions[pos] < end


@Language.factory(NEGATION, default_config=NEGATION_DEFAULTS)
def make_negation(
    nlp: Language,
    name: str,
    pre_negation: list[str],
    post_negation: list[str],
    hypothetical: list[str],
    short_negation: list[str],
    immediate_negation: list[str],
    sentence_negation: list[str],
    passage_negation: list[str],
    meta_subjects: list[str],
    terminators: list[str],
    pre_window: int,
    short_window: int,
    post_window: int,
    meta_window: int,
    clause_negation: list[str],
    absence_subjects: list[str],
    practice_verbs: list[str],
    clause_openers: list[str],
    list_item_max: int,
    hypothetical_openers: list[str],
    listing_nouns: list[str],
    anaphoric_negation: list[str],
    knowing_verbs: list[str],
    question_heads: list[str],
    question_answers: list[str],
    document_parts: list[str],
    presenting_verbs: list[str],
    heading_nouns: list[str],
    heading_max: int,
    asked_cues: list[str],
    denial_answers: list[str],
    remit_subjects: list[str],
    remit_verbs: list[str],
    finding_verbs: list[str],
    counterfactual_modals: list[str],
    trailing_conditions: list[str],
) -> NegationScope:
    return NegationScope(
        nlp,
        pre_negation=pre_negation,
        post_negation=post_negation,
        hypothetical=hypothetical,
        short_negation=short_negation,
        immediate_negation=immediate_negation,
        sentence_negation=sentence_negation,
        passage_negation=passage_negation,
        meta_subjects=meta_subjects,
        terminators=terminators,
        pre_window=pre_window,
        short_window=short_window,
        post_window=post_window,
        meta_window=meta_window,
        clause_negation=clause_negation,
        absence_subjects=absence_subjects,
        practice_verbs=practice_verbs,
        clause_openers=clause_openers,
        list_item_max=list_item_max,
        hypothetical_openers=hypothetical_openers,
        listing_nouns=listing_nouns,
        anaphoric_negation=anaphoric_negation,
        knowing_verbs=knowing_verbs,
        question_heads=question_heads,
        question_answers=question_answers,
        document_parts=document_parts,
        presenting_verbs=presenting_verbs,
        heading_nouns=heading_nouns,
        heading_max=heading_max,
        asked_cues=asked_cues,
        denial_answers=denial_answers,
        remit_subjects=remit_subjects,
        remit_verbs=remit_verbs,
        finding_verbs=finding_verbs,
        counterfactual_modals=counterfactual_modals,
        trailing_conditions=trailing_conditions,
    )


# --- agencies --------------------------------------------------------------------------------


class AgencyMatcher(BatchComponent):
    """Normalised names of the agencies a passage mentions, in order of first mention."""

    def __init__(self, nlp: Language, taxonomy: Taxonomy) -> None:
        self.lemma_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.orth_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._names: dict[int, str] = {}
        for name, phrases in taxonomy.agencies.items():
            self._names[nlp.vocab.strings.add(name)] = name
            caps = [p for p in phrases if _is_caps(p)]
            words = [p for p in phrases if not _is_caps(p)]
            if words:
                self.lemma_matcher.add(name, _lemma_docs(nlp, words))
            if caps:
                self.orth_matcher.add(name, [nlp.make_doc(p) for p in caps])

    def __call__(self, doc: Doc) -> Doc:
        worded = self.lemma_matcher(doc)
        matches = worded + self.orth_matcher(doc)
        matches.sort(key=lambda m: (m[1], m[1] - m[2]))
        state = _state(doc)
        # names in a sentence that lists three or more agencies: panel members, contributors
        by_sentence: dict[int, list[tuple[int, int]]] = {}
        for _, s, e in matches:
            by_sentence.setdefault(_sentence_of(state.sent_starts, s)[0], []).append((s, e))
        worded_spans = {(s, e) for _, s, e in worded}
        state.agency_spans = [
            span
            for spans in by_sentence.values()
            if len(set(spans)) >= 3
            for span in spans
            if span in worded_spans
        ]
        seen: dict[str, None] = {}
        covered_to = -1
        for match_id, _start, end in matches:
            if end <= covered_to:
                continue  # inside a longer name: "social care" within "adult social care"
            covered_to = max(covered_to, end)
            seen.setdefault(self._names[match_id], None)
        _state(doc).agencies = list(seen)
        return doc


@Language.factory(AGENCIES, default_config={"taxonomy_version": ""})
def make_agencies(nlp: Language, name: str, taxonomy_version: str) -> AgencyMatcher:
    return AgencyMatcher(nlp, _taxonomy(taxonomy_version))


# --- recommendations -------------------------------------------------------------------------

RECOMMENDATION_DEFAULTS: dict[str, Any] = {
    "openers": [
        "recommendation",
        "recommendations",
        "action",
        "r1",
        "r2",
        "r3",
        "r4",
        "r5",
        "r6",
        "r7",
        "r8",
        "r9",
        "r10",
        "learning point",
    ],
    "cues": [
        "it is recommended",
        "we recommend",
        "the review recommends",
        "the panel recommends",
        "the board should",
        "the partnership should",
        "partners should",
        "agencies should",
        "is recommended to",
        "should ensure",
        "must ensure",
        "should consider",
        "should develop",
        "should review",
        "should establish",
        "should assure",
        "should seek assurance",
        "should provide",
        "should introduce",
        "should update",
        "should make sure",
        "needs to ensure",
        "need to ensure",
        "should be reminded",
        "should be supported",
        "should record",
        "should offer",
        "should relaunch",
        "should agree",
        "should audit",
        "should commission",
        "should strengthen",
        "should promote",
        "should work",
        "should be given",
        "should be revised",
        "should be updated",
        "should be extended",
        "should be included",
        "should be embedded",
        "should be trained",
        "should evaluate",
        "should routinely",
        "should always",
        "should include",
        "should set out",
        "should write",
        "should report",
        "should share",
        "should adopt",
        "should require",
        "should explore",
        "should be asked",
        "should issue",
        "should create",
        "should produce",
        "should publish",
    ],
}


class RecommendationRecogniser(BatchComponent):
    """Is this passage a recommendation, whatever section it sits in?

    A recommendation opens with "Recommendation 3" / "R2", or states what someone should do
    ("The partnership should ensure ..."); "should have" looks back, so it is a finding.
    """

    def __init__(self, nlp: Language, openers: list[str], cues: list[str]) -> None:
        self.openers = frozenset(o.lower() for o in openers)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        if cues:
            self.matcher.add("cue", [nlp.make_doc(c.lower()) for c in cues])

    def __call__(self, doc: Doc) -> Doc:
        state = _state(doc)
        kind = state.section_kind
        first = next((t for t in doc if not (t.is_punct or t.is_space)), None)
        opener = first is not None and first.lower_ in self.openers
        cued = bool(self.matcher(doc))
        if kind in ("recommendations", "action_plan"):
            state.is_recommendation = opener or cued or _has_modal(doc)
        else:
            state.is_recommendation = opener or cued
        return doc


def _has_modal(doc: Doc) -> bool:
    for token in doc:
        if token.lower_ in ("should", "must", "recommend", "recommends", "recommended"):
            nxt = doc[token.i + 1] if token.i + 1 < len(doc) else None
            if nxt is None or nxt.lower_ != "have":
                return True
    return False


@Language.factory(RECOMMENDATIONS, default_config=RECOMMENDATION_DEFAULTS)
def make_recommendations(
    nlp: Language, name: str, openers: list[str], cues: list[str]
) -> RecommendationRecogniser:
    return RecommendationRecogniser(nlp, openers, cues)


# --- stance ----------------------------------------------------------------------------------

STANCE_DEFAULTS: dict[str, Any] = {
    "worked_well": [
        "good practice",
        "worked well",
        "example of good",
        "positive",
        "positively",
        "effective",
        "effectively",
        "prompt",
        "promptly",
        "timely",
        "thorough",
        "thoroughly",
        "appropriately",
        "appropriate action",
        "commendable",
        "commended",
        "strength",
        "strengths",
        "well coordinated",
        "well-coordinated",
        "good",
        "excellent",
        "sensitive",
        "sensitively",
        "persistent",
        "persisted",
        "tenacious",
        "tenacity",
        "went beyond",
        "made a difference",
        "without hesitation",
        "followed the protocol",
        "in line with procedures",
        "in line with the protocol",
        "quickly",
        "robust",
        "skilled",
        "skilful",
        "creative",
        "child-centred",
        "well-judged",
        "helpful",
        "well prepared",
        "well supported",
        "well attended",
        "well led",
        "led to",
        "helped",
        "clear picture",
        "real weight",
        "in one team",
        "brought together",
        "single plan",
        "gentle",
        "relaxed",
        "carefully",
        "exactly",
        "compassionate",
        "made sure",
        "know them well",
        "supported",
        "good example",
        "reduced",
        "improved",
        "clear examples",
        "were given",
        "strong",
        "consistently",
        "straight away",
        "immediately",
    ],
    "worried": [
        "missed opportunity",
        "missed opportunities",
        "missed chance",
        "missed chances",
        "concern",
        "concerns",
        "concerning",
        "worrying",
        "did not",
        "was not",
        "were not",
        "had not",
        "has not",
        "have not",
        "failed to",
        "failure to",
        "lack of",
        "lacked",
        "should have",
        "could have",
        "would have",
        "delay",
        "delays",
        "delayed",
        "insufficient",
        "inadequate",
        "limited",
        "gap",
        "gaps",
        "weak",
        "weakness",
        "weaknesses",
        "poor",
        "no one",
        "nobody",
        "none of",
        "not followed up",
        "too late",
        "drift",
        "unclear",
        "inconsistent",
        "not recognised",
        "not known",
        "never",
        "without",
        "overlooked",
        "lost",
        "obscured",
        "rarely",
        "only",
        "areas for improvement",
        "requires improvement",
        "inadequate",
        "not enough",
        "no evidence that",
        "was missed",
        "were missed",
        "reflex",
        "fell through",
        "silo",
        "siloed",
        "neither",
        "no lead professional",
        "outside the timescale",
        "working alone",
        "retracted",
        "exhausted",
        "little help",
        "not routinely",
        "stopped bothering",
        "even though",
        "despite",
        "too late",
        "no one asked",
        "nobody asked",
        "no safety plan",
        "not consistently",
        "not always",
        "struggling",
        "wait",
        "waited",
        "waiting",
        "left out",
    ],
    "needs_to_happen": [
        "should ensure",
        "must ensure",
        "needs to",
        "need to",
        "should consider",
        "it is recommended",
        "we recommend",
        "recommendation",
        "action",
        "should be",
        "will need",
        "must",
        "should",
    ],
    "section_weight": 1.5,
}

_SECTION_STANCE: dict[str, str] = {
    "good_practice": "worked_well",
    "findings": "worried",
    "learning": "worried",
    "recommendations": "needs_to_happen",
    "action_plan": "needs_to_happen",
}


class StanceClassifier(BatchComponent):
    """worked_well / worried / needs_to_happen / none, after the partnership's audit questions.

    Cue phrases vote; the section a passage sits in adds `section_weight` votes; a recognised
    recommendation is always `needs_to_happen`. Narrative sections with no cue have no stance.
    """

    def __init__(
        self,
        nlp: Language,
        worked_well: list[str],
        worried: list[str],
        needs_to_happen: list[str],
        section_weight: float,
    ) -> None:
        if section_weight < 0:
            raise ValueError("section_weight must not be negative")
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for label, phrases in (
            ("worked_well", worked_well),
            ("worried", worried),
            ("needs_to_happen", needs_to_happen),
        ):
            if phrases:
                self.matcher.add(label, [nlp.make_doc(p.lower()) for p in phrases])
        self.section_weight = section_weight
        self._labels = {
            nlp.vocab.strings[k]: k for k in ("worked_well", "worried", "needs_to_happen")
        }

    def __call__(self, doc: Doc) -> Doc:
        state = _state(doc)
        if state.is_recommendation:
            state.stance = "needs_to_happen"
            return doc
        votes = {"worked_well": 0.0, "worried": 0.0, "needs_to_happen": 0.0}
        # longest cue wins where cues overlap ("should have" is worried, not "should")
        spans = sorted(self.matcher(doc), key=lambda m: (m[1], -(m[2] - m[1])))
        covered_to = -1
        for match_id, start, end in spans:
            if start < covered_to:
                continue
            covered_to = end
            votes[self._labels[match_id]] += 1.0
        prior = _SECTION_STANCE.get(state.section_kind or "")
        if prior:
            votes[prior] += self.section_weight
        best = max(votes.values())
        if best <= 0:
            state.stance = None
            return doc
        order = ("worried", "worked_well", "needs_to_happen")
        state.stance = next(k for k in order if votes[k] == best)
        return doc


@Language.factory(STANCE, default_config=STANCE_DEFAULTS)
def make_stance(
    nlp: Language,
    name: str,
    worked_well: list[str],
    worried: list[str],
    needs_to_happen: list[str],
    section_weight: float,
) -> StanceClassifier:
    return StanceClassifier(nlp, worked_well, worried, needs_to_happen, section_weight)


# --- assembly --------------------------------------------------------------------------------


def new_pipeline(taxonomy: Taxonomy | None = None, theme_model: str = "default") -> Language:
    """A fresh, uncached pipeline (tests use this to change one component's config)."""
    taxonomy = taxonomy or load_taxonomy()
    _TAXONOMIES[taxonomy.version] = taxonomy
    nlp = base_pipeline()
    config = {"taxonomy_version": taxonomy.version}
    nlp.add_pipe(SENTENCES)
    nlp.add_pipe(THEMES, config={**config, "theme_model": theme_model})
    nlp.add_pipe(NEGATION)
    nlp.add_pipe(AGENCIES, config=config)
    nlp.add_pipe(RECOMMENDATIONS)
    nlp.add_pipe(STANCE)
    return nlp


def build_pipeline(taxonomy: Taxonomy | None = None) -> Language:
    """The tagging pipeline for a taxonomy, built once per taxonomy version.

    Once built, every object alive in the process (spaCy, the other imports and the pipeline's
    own patterns, some 115,000) is moved out of the cycle collector's sight with `gc.freeze`:
    they live as long as the process, and re-scanning them while tagging took about 8% of the
    tagging time.
    """
    taxonomy = taxonomy or load_taxonomy()
    with _LOCK:
        nlp = _PIPELINES.get(taxonomy.version)
        if nlp is None:
            nlp = new_pipeline(taxonomy)
            _PIPELINES[taxonomy.version] = nlp
            gc.freeze()
    return nlp
