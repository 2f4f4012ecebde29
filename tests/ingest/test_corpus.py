"""Every sample document against the facts its sidecar states (corpus/<file>.facts.json).

The sidecars are written with the documents, so this is the end-to-end check of ingest: real
files through the real extractors, structure, metadata and recommendations.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import extract_document
from reviewlens.model import Document, Passage, Recommendation

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO_ROOT / "corpus"
BUILDER = REPO_ROOT / "scripts" / "build_corpus.py"
MIN_DOCUMENTS = 12
SIDECARS = sorted(CORPUS_DIR.glob("*.facts.json"))


def _squash(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split())


def _who(text: str | None) -> str:
    """Addressee/timescale compared without case or a leading article."""
    return re.sub(r"^(?:the|by|within)\s+", "", _squash(text or "").lower())


def _number(value: str | None) -> str:
    return (value or "").strip().lower().lstrip("r").strip(".")


@cache
def _document(file_name: str) -> Document:
    return extract_document((CORPUS_DIR / file_name).read_bytes(), file_name)


def _facts(sidecar: Path) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(sidecar.read_text(encoding="utf-8"))
    return facts


def test_corpus_is_complete() -> None:
    """Once the builder exists, the corpus it makes must hold at least 12 documents."""
    if not BUILDER.exists():
        pytest.skip("scripts/build_corpus.py is not there yet")
    documents = [p for p in SIDECARS if (CORPUS_DIR / _facts(p)["file"]).exists()]
    assert len(documents) >= MIN_DOCUMENTS, (
        f"corpus/ has {len(documents)} documents with facts; at least {MIN_DOCUMENTS} needed "
        "(run scripts/build_corpus.py)"
    )
    for sidecar in SIDECARS:
        assert (CORPUS_DIR / _facts(sidecar)["file"]).exists(), f"{sidecar.name}: file missing"


@pytest.fixture(params=SIDECARS, ids=[p.name.removesuffix(".facts.json") for p in SIDECARS])
def case(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Document]:
    facts = _facts(request.param)
    return facts, _document(facts["file"])


def test_document_fields(case: tuple[dict[str, Any], Document]) -> None:
    facts, doc = case
    assert len(doc.id) == 64
    assert doc.file_name == facts["file"]
    for key in ("doc_type", "year", "page_count"):
        if key in facts:
            assert getattr(doc, key) == facts[key], key
    if "date" in facts:
        assert (doc.date.isoformat() if doc.date else None) == facts["date"]
    if "title" in facts:
        assert _squash(doc.title or "") == _squash(facts["title"])
    assert "doc_type" in doc.evidence or doc.doc_type == "other"


def test_metadata(case: tuple[dict[str, Any], Document]) -> None:
    facts, doc = case
    for key, expected in facts.get("metadata", {}).items():
        got = doc.metadata.get(key)
        if key == "agencies":
            assert isinstance(got, list)
            assert set(expected) <= set(got), key
        else:
            assert got == expected, key


def test_sections_in_order(case: tuple[dict[str, Any], Document]) -> None:
    facts, doc = case
    at = 0
    for expected in facts.get("sections", []):
        heading = _squash(expected["heading"]).lower()
        for index in range(at, len(doc.sections)):
            if _squash(doc.sections[index].heading).lower() == heading:
                found = doc.sections[index]
                at = index + 1
                break
        else:
            pytest.fail(f"section {expected['heading']!r} not found in order")
        if "kind" in expected:
            assert found.kind == expected["kind"], expected["heading"]
        if "page_start" in expected:
            assert found.page_start == expected["page_start"], expected["heading"]


def _passage(doc: Document, phrase: str) -> Passage:
    phrase = _squash(phrase)
    hits = [p for p in doc.passages if phrase in _squash(p.text)]
    assert hits, f"no passage contains {phrase!r}"
    return hits[0]


def test_passages(case: tuple[dict[str, Any], Document]) -> None:
    facts, doc = case
    for expected in facts.get("passages", []):
        passage = _passage(doc, expected["contains"])
        for key in ("page", "paragraph", "section_kind", "ocr", "section"):
            if key in expected:
                assert getattr(passage, key) == expected[key], (expected["contains"], key)


def test_absent_text(case: tuple[dict[str, Any], Document]) -> None:
    facts, doc = case
    shown = [p.text for p in doc.passages] + [s.heading for s in doc.sections]
    for text in facts.get("absent", []):
        assert not any(text in item for item in shown), text
    if facts.get("contains_markup") is False:
        assert not any(re.search(r"</?[a-zA-Z][^>]*>", item) for item in shown)
    for word in facts.get("hyphenated", []):
        assert any(re.search(rf"\b{re.escape(word)}\b", p.text) for p in doc.passages), word


def test_ocr_pages(case: tuple[dict[str, Any], Document]) -> None:
    facts, doc = case
    if "ocr_pages" not in facts:
        pytest.skip("no ocr_pages fact")
    assert sorted({p.page for p in doc.passages if p.ocr and p.page}) == sorted(facts["ocr_pages"])


def _recommendation(doc: Document, expected: dict[str, Any]) -> Recommendation:
    phrase = _squash(expected.get("contains", ""))
    for rec in doc.recommendations:
        if "number" in expected and _number(rec.number) != _number(expected["number"]):
            continue
        if phrase in _squash(rec.text):
            return rec
    raise AssertionError(f"no recommendation {expected.get('number')} containing {phrase!r}")


def test_recommendations(case: tuple[dict[str, Any], Document]) -> None:
    facts, doc = case
    expected = facts.get("recommendations")
    if not expected:
        pytest.skip("no recommendation facts")
    if "count" in expected:
        assert len(doc.recommendations) == expected["count"]
    for item in expected.get("items", []):
        rec = _recommendation(doc, item)
        if "addressee" in item:
            assert _who(item["addressee"]) in _who(rec.addressee), item
        if "timescale" in item:
            assert _who(item["timescale"]) in _who(rec.timescale), item
