"""The relabelled passages measure how far labellers agree: they must stay clear of heldout, and
the agreement must be the tagger's own micro-F1, so that the two figures can be set side by side."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from nlp.eval import agreement
from nlp.eval.agreement import (
    Labels,
    load_relabelled,
    load_second_reading,
    load_set_labels,
    majority,
)


def _labels(themes: str = "", mentions: str = "") -> Labels:
    return Labels(frozenset(themes.split()), frozenset(mentions.split()))


def test_relabelled_passages_are_dev_passages_labelled_by_every_labeller() -> None:
    relabelled = load_relabelled()
    _, splits, _ = load_set_labels()
    assert len(relabelled) >= 3
    passages = set(next(iter(relabelled.values())))
    assert all(set(by_id) == passages for by_id in relabelled.values())
    assert {splits[p] for p in passages} == {"dev"}
    # both files of dev passages are covered, so each has its own agreement figure
    assert any(p.startswith("p") for p in passages) and any(p.startswith("x") for p in passages)


def test_agreement_is_micro_f1_with_the_negated_mentions_tagged() -> None:
    reference = {
        "a": _labels("neglect domestic_abuse", "substance_misuse"),
        "b": _labels("voice_of_child"),
    }
    other = {
        "a": _labels("neglect substance_misuse"),  # one hit, one miss, a negated one tagged
        "b": _labels("voice_of_child professional_curiosity"),  # one hit, one extra
    }
    score = agreement.agreement(reference, other, ["a", "b"])
    assert (score.tp, score.fp, score.fn) == (2, 2, 1)
    assert (score.negated, score.negated_tagged) == (1, 1)
    assert score.f1 == pytest.approx(4 / 7)
    assert score.precision == pytest.approx(0.5) and score.recall == pytest.approx(2 / 3)
    same = agreement.agreement(reference, reference, ["a", "b"])
    assert same.f1 == 1.0 and same.negated_tagged == 0


def test_majority_keeps_what_more_than_half_the_labellers_tagged() -> None:
    combined = majority(
        [
            {"a": _labels("neglect early_help", "thresholds")},
            {"a": _labels("neglect", "thresholds")},
            {"a": _labels("early_help think_family")},
        ]
    )
    assert combined["a"] == _labels("neglect early_help", "thresholds")


def test_bad_relabelling_files_are_refused_with_the_line(tmp_path: Path) -> None:
    def write(*records: Mapping[str, object]) -> Path:
        path = tmp_path / "relabelled.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return path

    good = {"id": "p0001", "labeller": "a1", "themes": ["neglect"], "mentions_not_tagged": []}
    with pytest.raises(ValueError, match=r":2: unknown theme ids \['neglected'\]"):
        load_relabelled(write(good, {**good, "labeller": "a2", "themes": ["neglected"]}))
    with pytest.raises(ValueError, match="both tagged and not tagged"):
        load_relabelled(write({**good, "mentions_not_tagged": ["neglect"]}))
    with pytest.raises(ValueError, match="p0001 labelled twice"):
        load_relabelled(write(good, good))
    with pytest.raises(ValueError, match="p0001: themes and mentions_not_tagged must be lists"):
        load_relabelled(write({**good, "themes": "neglect"}))
    with pytest.raises(ValueError, match="did not all label the same passages"):
        load_relabelled(write(good, {**good, "labeller": "a2", "id": "p0002"}))


def test_report_scores_each_labeller_against_the_set_and_each_other() -> None:
    lines = agreement.report(per_theme=True)
    names = sorted(load_relabelled())
    for source, _ in agreement.SOURCES:
        start = lines.index(next(line for line in lines if line.startswith(source + ":")))
        block = lines[start : start + 3 + 2 * len(names)]
        for name in names:
            assert any(
                line.strip().startswith(f"{name} against the set: micro-F1") for line in block
            )
        assert any("majority of the labellers against the set" in line for line in block)
    assert any(line.strip().startswith("tagged by the labellers only:") for line in lines)


def test_the_second_reading_covers_extra_dev_passages_only() -> None:
    second = load_second_reading()
    _, splits, sources = load_set_labels()
    assert len(second) > 10_000
    assert {splits[p] for p in second} == {"dev"}
    assert {sources[p] for p in second} == {"extra dev"}
    lines = agreement.report()
    line = next(x for x in lines if x.strip().startswith("second reading against the set:"))
    assert "micro-F1 0." in line


def test_a_second_reading_with_labeller_names_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "second.jsonl"
    rows = [
        {"id": "x0001", "labeller": name, "themes": [], "mentions_not_tagged": []}
        for name in ("a1", "a2")
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(ValueError, match="one labelling"):
        load_second_reading(path)
