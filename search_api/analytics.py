"""Scoring both backends share, in plain Python, so "emerging" and "similar" mean the same
whatever engine stores the passages.

Engines are good at counting; the statistics on top of the counts are small, and writing them
once keeps the contract suite's expectations engine-independent.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

MIN_TERM_LENGTH = 3
# words every review uses; they tell a reader nothing about what is new
EXTRA_STOP = frozenset({"would", "could", "should", "also", "may", "might", "must", "shall"})


def is_countable(lemma: str) -> bool:
    """Whether a lemma is worth counting as a term: a word, not a number or a stop word."""
    return (
        len(lemma) >= MIN_TERM_LENGTH
        and lemma.isalpha()
        and lemma not in STOP_WORDS
        and lemma not in EXTRA_STOP
    )


def term_counts(lemma_streams: Iterable[str]) -> Counter[str]:
    """Occurrences of countable lemmas over whitespace-separated lemma streams."""
    counts: Counter[str] = Counter()
    for stream in lemma_streams:
        counts.update(stream.split())  # count everything at C speed, then drop the noise
    return Counter({t: n for t, n in counts.items() if is_countable(t)})


def log_likelihood(recent: int, baseline: int, recent_total: int, baseline_total: int) -> float:
    """Dunning's G2 for a count in two corpora; signed, negative when under-represented.

    Chosen over chi-squared because it stays reliable for the rare terms that matter most.
    """
    total = recent_total + baseline_total
    if recent_total <= 0 or baseline_total <= 0 or total <= 0:
        return 0.0
    both = recent + baseline
    expected_recent = recent_total * both / total
    expected_baseline = baseline_total * both / total
    g2 = 0.0
    if recent > 0:
        g2 += recent * math.log(recent / expected_recent)
    if baseline > 0:
        g2 += baseline * math.log(baseline / expected_baseline)
    g2 *= 2.0
    over = recent / recent_total > baseline / baseline_total
    return round(g2 if over else -g2, 6)


def over_represented(
    recent: Counter[str],
    baseline: Counter[str],
    recent_total: int,
    baseline_total: int,
    min_count: int,
    limit: int,
) -> list[tuple[str, int, int, float]]:
    """(item, recent, baseline, score) for items more frequent in the recent period, best
    first, ties by name."""
    rows = []
    for item, count in recent.items():
        if count < min_count:
            continue
        score = log_likelihood(count, baseline.get(item, 0), recent_total, baseline_total)
        if score > 0:
            rows.append((item, count, baseline.get(item, 0), score))
    rows.sort(key=lambda r: (-r[3], r[0]))
    return rows[:limit]


@dataclass(frozen=True)
class RecItem:
    """A recommendation as the similarity model sees it."""

    document_id: str
    index: int
    lemmas: str


class RecommendationSimilarity:
    """TF-IDF cosine over recommendation lemmas. Each term keeps a posting array, so finding
    the neighbours of one recommendation is a few vector additions, not a scan."""

    def __init__(self, items: Sequence[RecItem]) -> None:
        # position order is the tie order: (document id, index)
        self.items = sorted(items, key=lambda it: (it.document_id, it.index))
        self.position = {(it.document_id, it.index): n for n, it in enumerate(self.items)}
        doc_codes: dict[str, int] = {}
        self.doc = np.array(
            [doc_codes.setdefault(it.document_id, len(doc_codes)) for it in self.items],
            dtype=np.int64,
        )
        counts = [term_counts([it.lemmas]) for it in self.items]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        n = len(self.items)
        idf = {t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in df.items()}
        self.vectors: list[dict[str, float]] = []
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for pos, c in enumerate(counts):
            vec = {t: (1 + math.log(k)) * idf[t] for t, k in c.items()}
            norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
            vec = {t: w / norm for t, w in vec.items()}
            self.vectors.append(vec)
            for t, w in vec.items():
                rows, weights = postings.setdefault(t, ([], []))
                rows.append(pos)
                weights.append(w)
        self.postings = {
            t: (np.array(rows, dtype=np.int64), np.array(weights))
            for t, (rows, weights) in postings.items()
        }

    def similar(
        self, document_id: str, index: int, k: int, min_score: float = 0.1
    ) -> list[tuple[RecItem, float]]:
        """The k most similar recommendations in other documents, best first, ties by
        (document id, index)."""
        pos = self.position.get((document_id, index))
        if pos is None or k <= 0:
            return []
        scores = np.zeros(len(self.items))
        for t, w in self.vectors[pos].items():
            rows, weights = self.postings[t]
            scores[rows] += w * weights
        scores = np.minimum(np.round(scores, 6), 1.0)
        candidates = np.flatnonzero((scores > min_score) & (self.doc != self.doc[pos]))
        order = candidates[np.lexsort((candidates, -scores[candidates]))][:k]
        return [(self.items[o], float(scores[o])) for o in order]
