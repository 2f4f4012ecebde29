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

import threading
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from nlp.analysis import LEMMATIZER, base_pipeline
from nlp.taxonomy import Taxonomy, load_taxonomy

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


def _register_extensions() -> None:
    for name in ("rl_state", "agencies", "stance", "is_recommendation", "section_kind"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    if not Doc.has_extension("theme_hits"):
        Doc.set_extension("theme_hits", getter=lambda doc: _state(doc).hits)
    if not Doc.has_extension("themes"):
        Doc.set_extension("themes", getter=lambda doc: resolve_themes(doc))


def _state(doc: Doc) -> _State:
    state = doc._.rl_state
    if state is None:
        state = _State()
        doc._.rl_state = state
    return state


_register_extensions()


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


class SentenceSplitter:
    """Rule-based sentence starts: end punctuation followed by a capital, digit or quote.

    Cheaper than a parser and good enough for scoping negation to one sentence; abbreviations
    such as "e.g." are single tokens in spaCy's English tokenizer, so they do not split.
    """

    def __init__(self, punct: list[str]) -> None:
        if not punct:
            raise ValueError("punct must name at least one sentence-ending character")
        self.punct = frozenset(punct)

    def __call__(self, doc: Doc) -> Doc:
        starts = [0] if len(doc) else []
        punct = self.punct
        boundary = False
        for token in doc:
            text = token.text
            if boundary and not token.is_punct and not token.is_space:
                first = text[0]
                if first.isupper() or first.isdigit() or first in "\"'“‘(":
                    starts.append(token.i)
                boundary = False
            if text in punct or (token.is_space and "\n\n" in text):
                boundary = True
        for i in starts:
            doc[i].is_sent_start = True
        _state(doc).sent_starts = starts
        return doc


@Language.factory(SENTENCES, default_config={"punct": [".", "!", "?", ";"]})
def make_sentences(nlp: Language, name: str, punct: list[str]) -> SentenceSplitter:
    return SentenceSplitter(punct)


# --- themes ----------------------------------------------------------------------------------


class ThemeMatcher:
    """Find every candidate theme mention: lemma phrases, abbreviations, token patterns.

    Candidates inside an exclusion phrase of the same theme are marked, not dropped, so the
    evidence trail shows why a mention did not count.
    """

    def __init__(self, nlp: Language, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.lemma_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.orth_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.token_matcher = Matcher(nlp.vocab, validate=True)
        self._keys: dict[int, tuple[str, str]] = {}
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
                self.token_matcher.add(key, theme.token_patterns)

    def __call__(self, doc: Doc) -> Doc:
        matches = self.lemma_matcher(doc) + self.orth_matcher(doc) + self.token_matcher(doc)
        hits: list[ThemeHit] = []
        exclusions: dict[str, list[tuple[int, int]]] = {}
        keys = self._keys
        for match_id, start, end in matches:
            theme, kind = keys[match_id]
            if kind == "exclude":
                exclusions.setdefault(theme, []).append((start, end))
            else:
                hits.append(ThemeHit(theme, start, end, weak=kind == "weak"))
        hits.sort(key=lambda h: (h.start, -h.end))
        for hit in hits:
            for start, end in exclusions.get(hit.theme, ()):
                if start < hit.end and hit.start < end:
                    hit.excluded = True
                    hit.cue = "exclusion"
                    break
        _state(doc).hits = hits
        return doc


@Language.factory(THEMES, default_config={"taxonomy_version": ""})
def make_themes(nlp: Language, name: str, taxonomy_version: str) -> ThemeMatcher:
    return ThemeMatcher(nlp, _taxonomy(taxonomy_version))


def resolve_themes(doc: Doc) -> dict[str, list[ThemeHit]]:
    """Theme id -> the hits that count. A weak phrase needs a second, different signal."""
    counted: dict[str, list[ThemeHit]] = {}
    for hit in _state(doc).hits:
        if hit.counts:
            counted.setdefault(hit.theme, []).append(hit)
    out: dict[str, list[ThemeHit]] = {}
    for theme, hits in counted.items():
        strong = [h for h in hits if not h.weak]
        if strong:
            out[theme] = strong + [h for h in hits if h.weak]
            continue
        distinct = {doc[h.start : h.end].lemma_ for h in hits}
        if len(distinct) >= 2:
            out[theme] = hits
    return out


# --- negation and hypothetical scope ---------------------------------------------------------

NEGATION_DEFAULTS: dict[str, Any] = {
    "pre_negation": [
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
        "there was no",
        "there were no",
        "was not a feature",
        "free of",
        "free from",
        "absence of",
        "without any",
        "found no",
        "never had",
        "had never",
        "not discussed further",
        "never in doubt",
    ],
    # bare negators reach only a few tokens: "no bruising", not "no one asked about the father"
    "short_negation": ["no", "neither", "nor", "without"],
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
        "were not present",
    ],
    "hypothetical": [
        "if",
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
    "pre_window": 8,
    "short_window": 2,
    "post_window": 6,
}


class NegationScope:
    """Mark theme hits that sit inside a negation or hypothetical cue's scope.

    Scope is one sentence, up to `pre_window` tokens after a leading cue or `post_window` before
    a trailing one, and stops at a terminator ("but", "however", ";"). A hypothetical cue ("if",
    a sentence-opening "Had") reaches to the end of its clause, i.e. the next comma.
    """

    def __init__(
        self,
        nlp: Language,
        pre_negation: list[str],
        post_negation: list[str],
        hypothetical: list[str],
        short_negation: list[str],
        terminators: list[str],
        pre_window: int,
        short_window: int,
        post_window: int,
    ) -> None:
        if short_window < 0:
            raise ValueError("short_window must not be negative")
        if pre_window < 1 or post_window < 1:
            raise ValueError("pre_window and post_window must be at least 1")
        if not (pre_negation or post_negation or hypothetical):
            raise ValueError("negation needs at least one cue")
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for kind, phrases in (
            ("pre", pre_negation),
            ("post", post_negation),
            ("hypo", hypothetical),
            ("short", short_negation),
            ("term", terminators),
        ):
            if phrases:
                self.matcher.add(kind, [nlp.make_doc(p.lower()) for p in phrases])
        self.pre_window = pre_window
        self.short_window = short_window
        self.post_window = post_window
        self._kind = {nlp.vocab.strings[k]: k for k in ("pre", "post", "hypo", "short", "term")}

    def __call__(self, doc: Doc) -> Doc:
        state = _state(doc)
        if not state.hits:
            return doc
        cues = [_Cue(self._kind[m], s, e, doc[s:e].text) for m, s, e in self.matcher(doc)]
        # "had" is hypothetical only when it opens a sentence ("Had the bruise been seen ...")
        starts = set(state.sent_starts)
        cues = [
            c
            for c in cues
            if not (c.kind == "hypo" and c.text.lower() == "had" and c.start not in starts)
        ]
        if not any(c.kind != "term" for c in cues):
            return doc
        terms = [c.start for c in cues if c.kind == "term"]
        commas = [t.i for t in doc if t.text == ","] if any(c.kind == "hypo" for c in cues) else []
        for hit in state.hits:
            if hit.excluded:
                continue
            s_begin, s_end = _sentence_of(state.sent_starts, hit.start)
            for cue in cues:
                if cue.kind == "term" or cue.start < s_begin or cue.start >= s_end:
                    continue
                if cue.kind in ("pre", "short") and cue.end <= hit.start:
                    window = self.pre_window if cue.kind == "pre" else self.short_window
                    if hit.start - cue.end <= window and not _between(terms, cue.end, hit.start):
                        hit.negated, hit.cue = True, cue.text
                elif cue.kind == "post" and cue.start >= hit.end:
                    if cue.start - hit.end <= self.post_window and not _between(
                        terms, hit.end, cue.start
                    ):
                        hit.negated, hit.cue = True, cue.text
                elif (
                    cue.kind == "hypo"
                    and cue.end <= hit.start
                    and not _between(commas, cue.end, hit.start)
                    and not _between(terms, cue.end, hit.start)
                ):
                    hit.hypothetical, hit.cue = True, cue.text
                if hit.negated or hit.hypothetical:
                    break
        return doc


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
    terminators: list[str],
    pre_window: int,
    short_window: int,
    post_window: int,
) -> NegationScope:
    return NegationScope(
        nlp,
        pre_negation,
        post_negation,
        hypothetical,
        short_negation,
        terminators,
        pre_window,
        short_window,
        post_window,
    )


# --- agencies --------------------------------------------------------------------------------


class AgencyMatcher:
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
        matches = sorted(self.lemma_matcher(doc) + self.orth_matcher(doc), key=lambda m: m[1])
        seen: dict[str, None] = {}
        for match_id, _, _ in matches:
            seen.setdefault(self._names[match_id], None)
        doc._.agencies = list(seen)
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


class RecommendationRecogniser:
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
        kind = doc._.section_kind
        first = next((t for t in doc if not (t.is_punct or t.is_space)), None)
        opener = first is not None and first.lower_ in self.openers
        cued = bool(self.matcher(doc))
        if kind in ("recommendations", "action_plan"):
            doc._.is_recommendation = opener or cued or _has_modal(doc)
        else:
            doc._.is_recommendation = opener or cued
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


class StanceClassifier:
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
        if doc._.is_recommendation:
            doc._.stance = "needs_to_happen"
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
        prior = _SECTION_STANCE.get(doc._.section_kind or "")
        if prior:
            votes[prior] += self.section_weight
        best = max(votes.values())
        if best <= 0:
            doc._.stance = None
            return doc
        order = ("worried", "worked_well", "needs_to_happen")
        doc._.stance = next(k for k in order if votes[k] == best)
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


def new_pipeline(taxonomy: Taxonomy | None = None) -> Language:
    """A fresh, uncached pipeline (tests use this to change one component's config)."""
    taxonomy = taxonomy or load_taxonomy()
    _TAXONOMIES[taxonomy.version] = taxonomy
    nlp = base_pipeline()
    config = {"taxonomy_version": taxonomy.version}
    nlp.add_pipe(SENTENCES)
    nlp.add_pipe(THEMES, config=config)
    nlp.add_pipe(NEGATION)
    nlp.add_pipe(AGENCIES, config=config)
    nlp.add_pipe(RECOMMENDATIONS)
    nlp.add_pipe(STANCE)
    return nlp


def build_pipeline(taxonomy: Taxonomy | None = None) -> Language:
    """The tagging pipeline for a taxonomy, built once per taxonomy version."""
    taxonomy = taxonomy or load_taxonomy()
    with _LOCK:
        nlp = _PIPELINES.get(taxonomy.version)
        if nlp is None:
            nlp = new_pipeline(taxonomy)
            _PIPELINES[taxonomy.version] = nlp
    return nlp
