"""The filter training command: reproducible, dev-only, and it ships weights only if they help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp import train_filter

PASSAGES = [
    ("There was no evidence of neglect in the home.", [], ["neglect"]),
    ("The home conditions were poor and the children were often hungry.", ["neglect"], []),
    ("The baby had a bruise on the cheek that nobody explained.", ["bruising_non_mobile"], []),
    (
        "The GP shared information with the health visitor the same day.",
        ["information_sharing"],
        [],
    ),
    ("Information was not shared with the school after the incident.", ["information_sharing"], []),
    ("Domestic abuse was ruled out at an early stage.", [], ["domestic_abuse"]),
    ("The mother disclosed domestic abuse to the midwife.", ["domestic_abuse"], []),
    ("Police attended after a domestic incident at the address.", ["domestic_abuse"], []),
    ("The term toxic trio appears in the assessment only in passing.", [], ["toxic_trio"]),
    ("Nobody asked about the father, who was never seen.", ["fathers_invisible_men"], []),
]


def write_set(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i, (text, themes, not_tagged) in enumerate(PASSAGES):
            row = {
                "id": f"t{i}",
                "text": text,
                "themes": themes,
                "mentions_not_tagged": not_tagged,
                "stance": None,
                "split": "dev",
                "style": "cspr",
            }
            out.write(json.dumps(row) + "\n")
        held = {"id": "h0", "text": "x", "themes": ["neglect"], "split": "heldout"}
        out.write(json.dumps(held) + "\n")
    return path


@pytest.mark.slow
def test_check_cross_validates_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eval_set = write_set(tmp_path / "passages.jsonl")
    out = tmp_path / "filter.json"
    assert train_filter.main(["--eval-set", str(eval_set), "--out", str(out), "--check"]) == 0
    printed = capsys.readouterr().out
    assert "dev: 10 passages" in printed  # the heldout line is never read into training
    assert "rules alone, micro-F1 on dev:" in printed
    assert "cross-validated micro-F1" in printed
    assert not out.exists()


@pytest.mark.slow
def test_training_is_reproducible_and_ships_weights_only_when_they_help(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eval_set = write_set(tmp_path / "passages.jsonl")
    out = tmp_path / "filter.json"
    train_filter.main(["--eval-set", str(eval_set), "--out", str(out)])
    first = out.read_text() if out.exists() else None
    train_filter.main(["--eval-set", str(eval_set), "--out", str(out)])
    second = out.read_text() if out.exists() else None
    assert first == second
    printed = capsys.readouterr().out
    if first is None:
        assert "does not help" in printed
    else:
        payload = json.loads(first)
        assert payload["cv_micro_f1"] >= payload["rules_micro_f1"] + train_filter.MIN_GAIN
