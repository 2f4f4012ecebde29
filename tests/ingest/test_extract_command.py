"""`reviewlens extract` through the installed console entry point, as a user runs it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REVIEWLENS = Path(sys.executable).with_name("reviewlens")
REPO_ROOT = Path(__file__).resolve().parents[2]
ONE_LINE = re.compile(
    r"^reviewlens: cannot read (?P<name>[^:]+): (?P<reason>.+) \((?P<code>[a-z_]+)\)$"
)

SAMPLE = """Serious Case Review: Child E

Published: 3 October 2019

Commissioned by the Eastbrook Local Safeguarding Children Board.

1. Background
-------------

1.1 Child E was nine when his teacher noticed that he had stopped eating lunch.

2. Recommendations
------------------

Recommendation 1: The Board should ask schools to record hunger as a concern within three months.
"""


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REVIEWLENS_DATA_DIR": str((cwd or REPO_ROOT) / "data")}
    return subprocess.run(
        [str(REVIEWLENS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "scr-child-e.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    return path


def test_entry_point_is_installed() -> None:
    assert REVIEWLENS.exists(), "install the package (pip install -e .) to get the console script"


@pytest.mark.parametrize("isolated", ["--isolated", "--no-isolated"])
def test_extract_prints_the_document_as_json(sample: Path, isolated: str, tmp_path: Path) -> None:
    result = run("extract", sample, isolated, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert result.stdout.startswith('{\n  "')  # indented for people, not one long line
    assert doc["id"] == hashlib.sha256(sample.read_bytes()).hexdigest()
    assert doc["file_name"] == "scr-child-e.txt"
    assert doc["doc_type"] == "scr"
    assert doc["title"] == "Serious Case Review: Child E"
    assert (doc["date"], doc["year"]) == ("2019-10-03", 2019)
    assert doc["page_count"] >= 1
    assert doc["metadata"]["area"] == "Eastbrook"
    assert [(s["heading"], s["kind"]) for s in doc["sections"]][-2:] == [
        ("1. Background", "background"),
        ("2. Recommendations", "recommendations"),
    ]
    assert all("page_start" in s for s in doc["sections"])
    passage = next(p for p in doc["passages"] if p["paragraph"] == "1.1")
    assert passage["text"].startswith("Child E was nine")
    assert passage["section"] == "1. Background"
    assert "page" in passage
    (rec,) = doc["recommendations"]
    assert (rec["number"], rec["addressee"], rec["timescale"]) == (
        "1",
        "The Board",
        "within three months",
    )


def test_extract_of_a_corpus_inspection_shows_judgements() -> None:
    path = REPO_ROOT / "corpus" / "calderbrook-ilacs-inspection-2023.html"
    if not path.exists():
        pytest.skip("corpus inspection report not built yet")
    result = run("extract", path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["doc_type"] == "ofsted_ilacs"
    assert set(doc["metadata"]["judgements"]) >= {
        "impact_of_leaders",
        "help_and_protection",
        "children_in_care",
        "care_leavers",
    }


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], name: str) -> str:
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    match = ONE_LINE.match(lines[0])
    assert match, lines[0]
    assert match.group("name") == name
    return match.group("code")


@pytest.mark.parametrize("isolated", ["--isolated", "--no-isolated"])
def test_empty_file(tmp_path: Path, isolated: str) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    code = _assert_one_line_failure(run("extract", path, isolated), "empty.pdf")
    assert code == "empty_file"


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n" + bytes(range(256)) * 4)
    code = _assert_one_line_failure(run("extract", path), "broken.pdf")
    assert code in {"corrupt_file", "no_text", "extraction_failed"}


def test_unsupported_bytes(tmp_path: Path) -> None:
    path = tmp_path / "photo.docx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    code = _assert_one_line_failure(run("extract", path), "photo.docx")
    assert code in {"unsupported_type", "corrupt_file"}


def test_missing_file(tmp_path: Path) -> None:
    code = _assert_one_line_failure(run("extract", tmp_path / "nowhere.pdf"), "nowhere.pdf")
    assert code == "not_found"


def test_document_text_never_reaches_stderr(tmp_path: Path) -> None:
    """A failure names the file and the reason, never what the file says."""
    secret = "Mother disclosed that Child Z was left alone overnight"
    path = tmp_path / "scanned.pdf"
    path.write_bytes(b"%PDF-1.4\n% " + secret.encode() + b"\n%%EOF")
    result = run("extract", path)
    assert secret not in result.stderr
    assert secret not in result.stdout


@pytest.mark.parametrize(
    ("sent", "label"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\qa\\Desktop\\SCR Child E.pdf", "SCR Child E.pdf"),
        ("/tmp/uploads/review.docx", "review.docx"),
        ("", "unnamed"),
    ],
)
def test_file_name_is_only_a_label(sent: str, label: str) -> None:
    from ingest.pipeline import base_name, extract_document

    assert base_name(sent) == label
    doc = extract_document(SAMPLE.encode(), sent or "x")
    assert "/" not in doc.file_name and "\\" not in doc.file_name


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """`reviewlens extract big.txt | head -1` must not end in a BrokenPipeError."""
    paragraphs = "\n\n".join(
        f"1.{n} The health visitor saw the family at home and recorded that all was well."
        for n in range(1, 4000)
    )
    path = tmp_path / "long.txt"
    path.write_text(f"Serious Case Review: Child E\n\n{paragraphs}\n", encoding="utf-8")
    process = subprocess.Popen(
        [str(REVIEWLENS), "extract", str(path), "--no-isolated"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(1) == b"{"
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert "Traceback" not in stderr


def test_same_bytes_give_the_same_json_in_every_process(sample: Path) -> None:
    """Extraction is a pure function of the file: no dependence on hash seeds or the clock."""
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [str(REVIEWLENS), "extract", str(sample), "--no-isolated"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_a_folder_is_one_line_too(tmp_path: Path) -> None:
    folder = tmp_path / "reviews"
    folder.mkdir()
    code = _assert_one_line_failure(run("extract", folder), "reviews")
    assert code == "not_a_file"


def test_a_file_name_with_a_line_break_still_fails_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "two\nlines.pdf"
    path.write_bytes(b"")
    result = run("extract", path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("reviewlens: cannot read twolines.pdf: ")


def test_extract_path_matches_extract_document(sample: Path) -> None:
    from ingest.pipeline import extract_document, extract_path

    assert extract_path(sample) == extract_document(sample.read_bytes(), sample.name)
    assert extract_path(str(sample)).file_name == "scr-child-e.txt"
