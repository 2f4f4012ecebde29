"""The extra dev passages join dev only: they must never reach the heldout figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nlp.eval.check import THEME_IDS
from nlp.evaluate import EVAL_SET, EXTRA_DEV, load_examples
from reviewlens.errors import ReviewLensError


def test_extra_passages_join_dev_and_never_heldout() -> None:
    extra_ids = {e.id for e in load_examples(EVAL_SET, "extra", EXTRA_DEV)}
    assert len(extra_ids) >= 100
    assert extra_ids <= {e.id for e in load_examples(EVAL_SET, "dev", EXTRA_DEV)}
    assert not extra_ids & {e.id for e in load_examples(EVAL_SET, "heldout", EXTRA_DEV)}
    assert not extra_ids & {e.id for e in load_examples(EVAL_SET, "dev")}  # not by default


def test_extra_passages_are_well_formed() -> None:
    rows = [json.loads(line) for line in EXTRA_DEV.read_text(encoding="utf-8").splitlines()]
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["split"] == "dev"
        assert set(r["themes"]) <= set(THEME_IDS), r["id"]
        assert set(r["mentions_not_tagged"]) <= set(THEME_IDS), r["id"]
        assert not set(r["themes"]) & set(r["mentions_not_tagged"]), r["id"]
        assert r["stance"] in {None, "worked_well", "worried", "needs_to_happen"}


def test_no_dev_passage_shares_most_of_its_words_with_a_heldout_one() -> None:
    """Writers of dev passages never saw heldout, but the genre has stock sentences (who sat on
    the panel, what an inspection left out) that two writers can word alike; such a passage in
    training would score heldout on a copy."""

    def words(text: str) -> frozenset[str]:
        return frozenset(re.findall(r"[a-z']+", text.lower()))

    heldout = [(e.id, words(e.text)) for e in load_examples(EVAL_SET, "heldout")]
    close = []
    for example in load_examples(EVAL_SET, "dev", EXTRA_DEV):
        mine = words(example.text)
        for other, theirs in heldout:
            shared = len(mine & theirs)
            if shared and shared / (len(mine) + len(theirs) - shared) >= 0.5:
                close.append((example.id, other))
    assert not close


def test_an_extra_line_claiming_heldout_is_refused(tmp_path: Path) -> None:
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "x1", "text": "t", "split": "heldout"}) + "\n")
    with pytest.raises(ReviewLensError):
        load_examples(EVAL_SET, "dev", extra)
