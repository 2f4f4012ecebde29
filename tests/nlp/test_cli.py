"""`reviewlens tag` and `reviewlens evaluate` as a user runs them: in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REVIEW = """Serious Case Review: Child Q

The health visitor saw bruising on the ear of the eight-week-old baby, who was not yet
mobile, and told the GP.

There was no evidence of parental substance misuse.

Recommendation 1: The partnership should ensure that the bruising protocol is relaunched.
"""


def reviewlens(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "reviewlens"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


def test_tag_prints_tagged_json(tmp_path: Path) -> None:
    path = tmp_path / "child-q.txt"
    path.write_text(REVIEW, encoding="utf-8")
    result = reviewlens("tag", str(path))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    texts = [p["text"] for p in doc["passages"]]
    bruising = next(p for p in doc["passages"] if "bruising on the ear" in p["text"])
    theme = next(t for t in bruising["themes"] if t["id"] == "bruising_non_mobile")
    assert theme["label"] == "Bruising in non-mobile babies"
    assert {"bruising", "not yet mobile"} <= set(theme["evidence"])
    assert {"health visiting", "GP"} <= set(bruising["agencies"])
    negated = next(p for p in doc["passages"] if "substance misuse" in p["text"])
    assert negated["themes"] == []
    recommendation = next(p for p in doc["passages"] if p["text"].startswith("Recommendation 1"))
    assert recommendation["stance"] == "needs_to_happen"
    assert doc["themes"]["bruising_non_mobile"] == 2
    assert doc["theme_summary"]["bruising_non_mobile"]["passages"] == 2
    assert doc["taxonomy_version"].startswith("2026.1+")
    assert len(texts) >= 3


def test_tag_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = reviewlens("tag", str(tmp_path / "nope.txt"))
    assert result.returncode == 2
    assert result.stderr.strip() == "reviewlens: cannot tag nope.txt: no such file (not_found)"


def test_tag_with_a_broken_taxonomy_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "child-q.txt"
    path.write_text(REVIEW, encoding="utf-8")
    broken = tmp_path / "taxonomy.yaml"
    broken.write_text('version: "1"\ngroups: {a: A}\nthemes: [{id: x}]\n', encoding="utf-8")
    result = reviewlens("tag", str(path), "--taxonomy", str(broken))
    assert result.returncode == 2
    assert "theme 'x'" in result.stderr and "(invalid_taxonomy)" in result.stderr


def test_evaluate_prints_the_figures() -> None:
    result = reviewlens("evaluate", "--split", "dev", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["split"] == "dev"
    assert figures["passages"] > 50
    assert 0.0 < figures["micro"]["f1"] <= 1.0
    assert 0.0 <= figures["negated_or_passing_fp_rate"] <= 1.0
    low, high = figures["micro_f1_95"]
    assert low <= figures["micro"]["f1"] <= high
    assert "neglect" in figures["per_theme"]
    text = reviewlens("evaluate", "--split", "dev")
    assert "micro" in text.stdout and "false positives on negated" in text.stdout
    assert f"95% interval (bootstrap over passages): {low:.3f}-{high:.3f}" in text.stdout


def test_evaluate_refuses_to_list_heldout_errors() -> None:
    result = reviewlens("evaluate", "--split", "heldout", "--errors")
    assert result.returncode == 2
    assert "only for the dev split" in result.stderr


def test_tag_a_folder_prints_json_lines_and_lists_failures(tmp_path: Path) -> None:
    folder = tmp_path / "reviews"
    folder.mkdir()
    (folder / "a.txt").write_text(REVIEW, encoding="utf-8")
    (folder / "b.txt").write_text("The home conditions were poor and neglect was evident.\n")
    (folder / "c.pdf").write_bytes(b"%PDF-1.7\n1 0 obj truncated")
    result = reviewlens("tag", str(folder), "--processes", "2")
    assert result.returncode == 2
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [doc["file_name"] for doc in lines] == ["a.txt", "b.txt"]
    assert lines[1]["themes"] == {"neglect": 1}
    assert "cannot tag c.pdf" in result.stderr and "(corrupt_file)" in result.stderr
