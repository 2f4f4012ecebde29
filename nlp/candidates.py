"""A small learned check on the rules' theme candidates: is this mention what the passage is about?

The rules find every mention with its evidence; many mentions are in passing ("the term toxic
trio appears in the assessment") or sit beside a negation the cue lists miss. A logistic model
over theme-agnostic features of each candidate (how many strong and weak hits, negators near
them, talk about the document itself, a later "instead" that moves the passage on, ...) scores
it; candidates below the threshold are dropped. The evidence spans stay the rules' own.

Weights live in `nlp/candidate_filter.json`, trained by `python -m nlp.train_filter` on the dev
split only, so the model is small, readable and reproducible.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from nlp.pipeline import ThemeHit

FILTER_PATH = Path(__file__).resolve().parent / "candidate_filter.json"

NEGATORS = frozenset({"not", "no", "never", "n't", "neither", "nor", "nothing", "none", "without"})
META = frozenset(
    {
        "review", "report", "briefing", "audit", "inspection", "inspector", "panel", "section",
        "guidance", "template", "series", "term", "glossary", "letter", "chapter", "heading",
        "reviewer", "methodology", "scope", "terms",
    }
)  # fmt: skip
CONTRAST = frozenset(
    {"instead", "rather", "different", "however", "gap", "missing", "concern", "real", "learning"}
)
GROUPS = ("partnership_priorities", "practice_system", "child_specific", "adult_dhr")

FEATURES = (
    "bias",
    "strong_hits",
    "weak_hits",
    "only_weak",
    "some_ruled_out",
    "negator_share",
    "meta_share",
    "contrast_after",
    "in_first_sentence",
    "themes_in_passage",
    "sentence_share",
    "evidence_length",
    "borrowed",
    "quoted",
    "passage_length",
    *(f"group_{g}" for g in GROUPS),
)


@dataclass(frozen=True)
class CandidateFilter:
    weights: tuple[float, ...]
    threshold: float

    @classmethod
    def load(cls, path: Path = FILTER_PATH) -> CandidateFilter | None:
        """The trained filter, or None when no weights file exists (rules alone)."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was trained on other features; retrain it")
        return cls(tuple(float(w) for w in data["weights"]), float(data["threshold"]))

    def probability(self, features: list[float]) -> float:
        z = sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def candidate_features(
    doc: Doc,
    theme: str,
    hits: list[ThemeHit],
    all_hits: list[ThemeHit],
    sent_starts: list[int],
    n_themes: int,
    group: str,
) -> list[float]:
    """Theme-agnostic features of one candidate theme in one passage."""
    from bisect import bisect_right

    lowers = [t.lower_ for t in doc]
    lemmas = [t.lemma_ for t in doc]
    bounds = [*sent_starts, len(doc)] if sent_starts else [0, len(doc)]

    def sentence(i: int) -> int:
        return max(0, bisect_right(bounds, i) - 1)

    sentences = {sentence(h.start) for h in hits}
    n_sentences = max(1, len(bounds) - 1)

    def has(words: frozenset[str], s: int, key: list[str]) -> bool:
        return any(w in words for w in key[bounds[s] : bounds[s + 1]])

    negator = sum(has(NEGATORS, s, lowers) for s in sentences) / len(sentences)
    meta = sum(has(META, s, lemmas) for s in sentences) / len(sentences)
    last = max(sentences)
    contrast = any(has(CONTRAST, s, lowers) for s in range(last + 1, n_sentences))
    strong = [h for h in hits if not h.weak]
    quoted = any(
        h.start > 0 and doc[h.start - 1].is_quote and h.end < len(doc) and doc[h.end].is_quote
        for h in hits
    )
    own = [h for h in all_hits if h.theme == theme]
    return [
        1.0,
        math.log1p(len(strong)),
        math.log1p(len(hits) - len(strong)),
        float(not strong),
        float(any(not h.counts for h in own)),
        negator,
        meta,
        float(contrast),
        float(min(sentences) == 0),
        math.log1p(n_themes),
        len(sentences) / n_sentences,
        math.log1p(max(h.end - h.start for h in hits)),
        float(not own),
        float(quoted),
        math.log1p(len(doc)) / 5.0,
        *(float(group == g) for g in GROUPS),
    ]
