"""The statistics both backends share: log-likelihood and recommendation similarity."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from search_api.analytics import (
    RecItem,
    RecommendationSimilarity,
    is_countable,
    log_likelihood,
    over_represented,
    term_counts,
)


def test_log_likelihood_known_values() -> None:
    # 10 of 100 recent words against 0 of 100: expected 5 and 5
    assert log_likelihood(10, 0, 100, 100) == pytest.approx(2 * 10 * math.log(2), abs=1e-6)
    assert log_likelihood(0, 10, 100, 100) == pytest.approx(-2 * 10 * math.log(2), abs=1e-6)
    assert log_likelihood(5, 5, 100, 100) == 0.0
    assert log_likelihood(3, 0, 0, 100) == 0.0  # an empty period says nothing


def test_over_represented_keeps_rising_items_only() -> None:
    recent = Counter({"online": 12, "neglect": 10, "rare": 1})
    baseline = Counter({"online": 1, "neglect": 40})
    rows = over_represented(recent, baseline, 100, 200, min_count=2, limit=10)
    assert [r[0] for r in rows] == ["online"]
    assert rows[0][1:3] == (12, 1)


def test_term_counts_drop_stop_words_numbers_and_short_lemmas() -> None:
    counts = term_counts(["the child be see by the gp on 12 may", "child neglect"])
    assert counts == Counter({"child": 2, "neglect": 1})
    assert not is_countable("should")


def test_similarity_prefers_shared_terms_and_skips_own_document() -> None:
    items = [
        RecItem("a", 0, "partnership ensure information share police new partner"),
        RecItem("a", 1, "information share police new partner training"),
        RecItem("b", 0, "information share police new partner"),
        RecItem("c", 0, "safe sleep advice every family"),
        RecItem("d", 0, "information share housing"),
    ]
    model = RecommendationSimilarity(items)
    found = model.similar("a", 0, k=5)
    assert [(it.document_id, it.index) for it, _ in found] == [("b", 0), ("d", 0)]
    assert found[0][1] > found[1][1] > 0.1
    identical = RecommendationSimilarity(
        [RecItem("x", 0, "safe sleep"), RecItem("y", 0, "safe sleep")]
    )
    assert identical.similar("x", 0, k=1)[0][1] == pytest.approx(1.0)
    assert model.similar("zzz", 0, k=3) == []
