"""The sample corpus: rebuilt from its sources it must match what is committed, and every fact
in a sidecar must be true of the file it describes, read back with real readers (pypdfium2,
python-docx, Tesseract), independently of ingest/.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from nlp.taxonomy import load_taxonomy
from reviewlens.model import DOC_TYPES, SECTION_KINDS

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "corpus"
BUILDER = REPO_ROOT / "scripts" / "build_corpus.py"
SIDECARS = sorted(CORPUS.glob("*.facts.json"))

# facts may only name themes of the default taxonomy
THEME_IDS = {theme.id for theme in load_taxonomy().themes}
REQUIRED = {"file": str, "doc_type": str, "title": str, "year": int, "page_count": int}


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_corpus", BUILDER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _facts(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _squash(text: str) -> str:
    """Compare as a reader would: ligatures and curly quotes folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def _mend(text: str) -> str:
    """Undo line-end hyphenation the way a reader would (pdfium marks it with U+FFFE)."""
    text = re.sub(r"[\ufffe\u00ad]\s*", "", text)
    text = re.sub(r"(\w)-\r?\n(\w)", r"\1\2", text)
    return _squash(text)


ALL = [_facts(p) for p in SIDECARS]
BY_FORMAT: dict[str, list[dict[str, Any]]] = {}
for _f in ALL:
    BY_FORMAT.setdefault(_f["file"].rsplit(".", 1)[1], []).append(_f)


def _ids(facts: list[dict[str, Any]]) -> list[str]:
    return [f["file"] for f in facts]


@cache
def _pdf_pages(name: str) -> tuple[str, ...]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(CORPUS / name)
    try:
        return tuple(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


# --- reproducibility ---------------------------------------------------------------------


@pytest.mark.slow
def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    """Every format is built with fixed dates, seeds and zip stamps, so bytes must match."""
    builder = _load_builder()
    if not (builder.FONT_DIR / "DejaVuSerif.ttf").exists():
        pytest.skip("fonts-dejavu-core is not installed (scripts/setup.sh installs it)")
    written = builder.build_all(tmp_path)
    assert len(written) == 2 * len(SIDECARS), "a source has no committed build (or the reverse)"
    for path in written:
        committed = CORPUS / path.name
        assert committed.exists(), f"{path.name} is built but not committed"
        assert path.read_bytes() == committed.read_bytes(), f"{path.name} differs from a rebuild"


def test_builder_rejects_untrue_facts(tmp_path: Path) -> None:
    """A phrase marked twice, or page furniture that also occurs in the body, is refused."""
    builder = _load_builder()
    base = (
        "---\nfile: x.txt\nformat: txt\ndoc_type: other\ntitle: T\nyear: 2020\n"
        "header: Running head\n---\n\n# 1. A {summary}\n\n1.1 [[same words]] here.\n\n"
    )
    dup = tmp_path / "dup.src"
    dup.write_text(base + "1.2 The same words again.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not unique"):
        builder.make_facts(builder.parse_source(dup), {"page_count": 1})
    furniture = tmp_path / "furniture.src"
    furniture.write_text(base + "1.2 Running head in the body.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="absent"):
        builder.make_facts(builder.parse_source(furniture), {"page_count": 1})


# --- the sidecars ------------------------------------------------------------------------


@pytest.mark.parametrize("facts", ALL, ids=_ids(ALL))
def test_sidecar_shape(facts: dict[str, Any]) -> None:
    for key, kind in REQUIRED.items():
        assert isinstance(facts.get(key), kind), key
    assert (CORPUS / facts["file"]).is_file()
    assert facts["doc_type"] in DOC_TYPES
    if facts.get("date"):
        assert facts["date"][:4] == str(facts["year"]), "year is the publication year"
    paged = facts["file"].endswith(".pdf")
    if not paged:
        assert facts["page_count"] == 1
    for section in facts["sections"]:
        assert section["kind"] in SECTION_KINDS
        assert (section["page_start"] is not None) == paged
    for passage in facts["passages"]:
        assert passage["section_kind"] in SECTION_KINDS
        if paged:
            assert 1 <= passage["page"] <= facts["page_count"]
        else:
            assert passage["page"] is None
    assert set(facts["themes"]) <= THEME_IDS
    assert set(facts["not_themes"]) <= THEME_IDS
    assert not set(facts["themes"]) & set(facts["not_themes"])
    assert len(facts["themes"]) >= 3, "each document should clearly carry several themes"
    recs = facts["recommendations"]
    assert recs["count"] == len(recs["items"])
    assert all(0 < p <= facts["page_count"] for p in facts["ocr_pages"])
    judgements = facts["metadata"].get("judgements")
    if facts["doc_type"] == "ofsted_ilacs":
        assert judgements and set(judgements) == {
            "impact_of_leaders",
            "help_and_protection",
            "children_in_care",
            "care_leavers",
            "overall_effectiveness",
        }
        assert set(judgements.values()) <= {
            "outstanding",
            "good",
            "requires_improvement",
            "inadequate",
        }


def test_corpus_covers_every_type_format_and_period() -> None:
    assert len(ALL) >= 14
    assert {f["doc_type"] for f in ALL} == set(DOC_TYPES)
    assert set(BY_FORMAT) >= {"pdf", "docx", "html", "md", "txt"}
    years = {f["year"] for f in ALL}
    assert min(years) <= 2016 and max(years) >= 2025 and len(years) >= 8
    quarters = {(int(f["date"][5:7]) - 1) // 3 + 1 for f in ALL if f.get("date")}
    assert quarters == {1, 2, 3, 4}
    types = Counter(f["doc_type"] for f in ALL)
    assert types["dhr"] + types["sar"] >= 3
    assert any(f["ocr_pages"] for f in ALL), "a scanned PDF"
    assert sum(f.get("contains_markup", False) for f in ALL) >= 1
    assert any(f.get("hyphenated") for f in ALL)
    ilacs = [f["metadata"]["judgements"] for f in ALL if f["doc_type"] == "ofsted_ilacs"]
    assert len({tuple(sorted(j.items())) for j in ilacs}) >= 2, "two different grade profiles"


def test_corpus_stays_small() -> None:
    built = [CORPUS / f["file"] for f in ALL]
    assert all(p.stat().st_size < 300_000 for p in built)
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < 3_000_000


# --- facts are true of the files ---------------------------------------------------------


@pytest.mark.parametrize("facts", BY_FORMAT["pdf"], ids=_ids(BY_FORMAT["pdf"]))
def test_pdf_facts_hold_in_text_layer(facts: dict[str, Any]) -> None:
    pages = _pdf_pages(facts["file"])
    assert len(pages) == facts["page_count"]
    for n, text in enumerate(pages, start=1):
        if n in facts["ocr_pages"]:
            assert text.strip() == "", f"page {n} should be an image with no text layer"
        else:
            assert len(text.strip()) > 20, f"page {n} should have a text layer"
    mended = [_mend(t) for t in pages]
    for p in facts["passages"]:
        if not p["ocr"]:
            assert _squash(p["contains"]) in mended[p["page"] - 1], p["contains"]
    for s in facts["sections"]:
        if s["page_start"] not in facts["ocr_pages"]:
            assert _squash(s["heading"]) in mended[s["page_start"] - 1], s["heading"]
    raw = "\n".join(pages).replace("\ufffe", "-\r\n")
    joined = re.sub(r"-\r?\n", "", raw)
    for word in facts.get("hyphenated", []):
        assert joined.count(word) > raw.count(word), f"{word} is not split at a line end"
    for text in facts["absent"]:
        if text != ".....":  # furniture really is on the pages; ingest must drop it
            assert sum(text in t for t in pages) >= 1, text


@pytest.mark.slow
@pytest.mark.parametrize(
    "facts", [f for f in ALL if f["ocr_pages"]], ids=_ids([f for f in ALL if f["ocr_pages"]])
)
def test_scanned_pages_read_back_with_tesseract(facts: dict[str, Any]) -> None:
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract-ocr is not installed (scripts/setup.sh installs it)")
    import pypdfium2
    import pytesseract

    pdf = pypdfium2.PdfDocument(CORPUS / facts["file"])
    try:
        read = {
            n: _squash(pytesseract.image_to_string(pdf[n - 1].render(scale=200 / 72).to_pil()))
            for n in facts["ocr_pages"]
        }
    finally:
        pdf.close()
    for p in facts["passages"]:
        if p["ocr"]:
            assert p["page"] in read
            assert _squash(p["contains"]) in read[p["page"]], p["contains"]
    for s in facts["sections"]:
        if s["page_start"] in read:
            assert _squash(s["heading"]) in read[s["page_start"]], s["heading"]


def _docx_text(name: str) -> tuple[str, str, list[list[list[str]]]]:
    import docx

    d = docx.Document(str(CORPUS / name))
    body = [p.text for p in d.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
    body += [c for t in tables for row in t for c in row]
    furniture = [p.text for s in d.sections for p in s.header.paragraphs + s.footer.paragraphs]
    return _squash(" ".join(body)), _squash(" ".join(furniture)), tables


@pytest.mark.parametrize("facts", BY_FORMAT["docx"], ids=_ids(BY_FORMAT["docx"]))
def test_docx_facts_hold(facts: dict[str, Any]) -> None:
    body, furniture, tables = _docx_text(facts["file"])
    for p in facts["passages"]:
        assert _squash(p["contains"]) in body
    for r in facts["recommendations"]["items"]:
        assert _squash(r["contains"]) in body
        if "addressee" in r:
            assert r["addressee"] in body
    for text in facts["absent"]:
        assert text not in body and text in furniture, "header/footer text lives outside the body"
    assert re.search(r"\b\d+\.\d+\t", "\n".join(_all_paragraphs(facts["file"])))


def _all_paragraphs(name: str) -> list[str]:
    import docx

    return [p.text for p in docx.Document(str(CORPUS / name)).paragraphs]


def test_a_docx_has_a_recommendations_table() -> None:
    headers = [
        t[0] for f in BY_FORMAT["docx"] if f["doc_type"] == "cspr" for t in _docx_text(f["file"])[2]
    ]
    assert ["No", "Recommendation", "Agency", "Timescale"] in headers


@pytest.mark.parametrize(
    "facts",
    BY_FORMAT["html"] + BY_FORMAT["md"] + BY_FORMAT["txt"],
    ids=_ids(BY_FORMAT["html"] + BY_FORMAT["md"] + BY_FORMAT["txt"]),
)
def test_text_format_facts_hold(facts: dict[str, Any]) -> None:
    import html

    raw = (CORPUS / facts["file"]).read_text(encoding="utf-8")
    text = _squash(html.unescape(re.sub(r"<[^>]+>", " ", raw)))
    for p in facts["passages"]:
        assert _squash(p["contains"]) in text, p["contains"]
    for r in facts["recommendations"]["items"]:
        assert _squash(r["contains"]) in text, r["contains"]
    for s in facts["sections"]:
        assert s["heading"] in text
    if facts["file"].endswith(".html"):
        assert "<script" in raw and "<nav" in raw and "cookie" in raw
        for text in facts["absent"]:
            assert text in raw, "page furniture is present for ingest to drop"


def test_html_inspection_has_a_judgement_table() -> None:
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.cells: list[str] = []
            self._in = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self._in = tag == "td"

        def handle_data(self, data: str) -> None:
            if self._in:
                self.cells.append(data.strip())
                self._in = False

    ilacs = [f for f in BY_FORMAT["html"] if f["doc_type"] == "ofsted_ilacs"]
    assert ilacs
    for f in ilacs:
        parser = Cells()
        parser.feed((CORPUS / f["file"]).read_text(encoding="utf-8"))
        grades = {
            "Outstanding": "outstanding",
            "Good": "good",
            "Requires improvement to be good": "requires_improvement",
            "Inadequate": "inadequate",
        }
        seen = [grades[c] for c in parser.cells if c in grades]
        assert sorted(seen) == sorted(f["metadata"]["judgements"].values())


def test_markup_is_quoted_as_text_and_escaped_in_html() -> None:
    marked = [f for f in ALL if f["contains_markup"]]
    assert marked
    for f in marked:
        if f["file"].endswith(".pdf"):
            text = _squash(" ".join(_pdf_pages(f["file"])))
        else:
            text = (CORPUS / f["file"]).read_text(encoding="utf-8")
        assert "<script>alert('x')</script>" in text
    for f in BY_FORMAT["html"]:
        raw = (CORPUS / f["file"]).read_text(encoding="utf-8")
        assert "alert(" not in raw


# --- not_themes are only ever mentioned negated or hypothetically --------------------------

# What a mention of each theme used in `not_themes` looks like; broad on purpose.
MENTIONS = {
    "substance_misuse": r"substance misuse|drugs or alcohol|alcohol|drug use",
    "honour_based_abuse": r"honour|forced marriage",
    "child_sexual_exploitation": r"sexual exploitation|\bCSE\b|groom",
    "children_missing_education": r"missing education|not in school|exclu",
    "domestic_abuse": r"domestic abuse|domestic violence|\bDA\b|abuse from a family member",
    "economic_abuse": r"taking money|financial abuse|economic abuse",
    "sudi_safe_sleep": r"safe sleep|infant death|\bSUDI\b",
    "online_harm": r"online",
    "nai_infants": r"non-accidental|\bNAI\b",
    "self_neglect": r"self-neglect",
    "coercive_control": r"coercive control|controlling behaviour",
    "child_sexual_abuse": r"sexual abuse|\bCSA\b",
    "child_criminal_exploitation": r"criminal exploitation|\bCCE\b|county lines",
}
CUE = re.compile(
    r"\b(no|not|nothing|none|never|neither|whether|had\b.*\bbeen|did not arise|unaware)\b", re.I
)


def _sentences(source: Any) -> list[str]:
    parts = []
    for b in source.blocks:
        parts += [b.text] + b.items + [c for row in b.rows for c in row]
    text = " ".join(p.replace("~", "") for p in parts)
    return re.split(r"(?<=[.;:?!])\s+", text)


@cache
def _sources() -> dict[str, Any]:
    builder = _load_builder()
    parsed = (builder.parse_source(p) for p in sorted(builder.SRC_DIR.glob("*.src")))
    return {s.meta["file"]: s for s in parsed}


@pytest.mark.parametrize("facts", ALL, ids=_ids(ALL))
def test_not_themes_are_mentioned_only_negated(facts: dict[str, Any]) -> None:
    """A not_theme must be mentioned (or the fact tests nothing), and never plainly."""
    sentences = _sentences(_sources()[facts["file"]])
    for theme in facts["not_themes"]:
        pattern = re.compile(MENTIONS[theme], re.I)
        hits = [s for s in sentences if pattern.search(s)]
        assert hits, f"{theme} is never mentioned, so the negation is not tested"
        plain = [s for s in hits if not CUE.search(s)]
        assert not plain, f"{theme} is mentioned without negation: {plain}"


# --- themes recur ------------------------------------------------------------------------

# A broad net for each theme named in `themes`: a fact that a theme "clearly recurs" must at
# least find it in two sentences. (Precision is the tagger's job, not this test's.)
RECURS = {
    "adult_family_homicide": r"\bson\b|adult child|parent by",
    "adult_mental_health": r"mental health|mental illness|schizophrenia|low mood|depression",
    "bruising_non_mobile": r"bruis",
    "child_criminal_exploitation": r"criminal exploitation|county lines|\bCCE\b|sell drugs",
    "child_mental_health": r"CAMHS|anxiety|low mood|mental health",
    "child_protection_process": r"strategy discussion|section 47|child protection (plan|conf)",
    "child_sexual_abuse": r"sexual(ly)? abus|indecent images|ABE",
    "child_sexual_exploitation": r"sexual exploitation|\bCSE\b|grooming|sexually abused",
    "children_missing_education": r"exclu|part-time timetable|not in school|education",
    "coercive_control": r"coercive|controlling|control",
    "disguised_compliance": r"disguised compliance|cooperat|agreed to every plan",
    "domestic_abuse": r"domestic abuse|\bDA\b|MARAC|DASH|IDVA|abuse",
    "early_help": r"early help",
    "economic_abuse": r"economic abuse|financial|money|bank card|benefits",
    "escalation_challenge": r"escalat|challenge",
    "fathers_invisible_men": r"father|male (carer|partner)|Male 1|\bmen\b",
    "information_sharing": r"shar(e|ed|ing)|chronolog|record",
    "leadership_learning_culture": r"leader|quality assurance|learning|governance|board-level",
    "mental_capacity": r"capacity",
    "missing_from_home_care": r"missing|return home interview",
    "multi_agency_working": r"multi-agency|MASH|working together|worked together|strategy",
    "nai_infants": r"non-accidental|\bNAI\b|fractur|skeletal survey",
    "neglect": r"neglect|home conditions|hungry|hunger",
    "older_people_carers": r"older|elderly|frail|carer|aged 7\d",
    "online_harm": r"online|social media|phone|app\b",
    "professional_curiosity": r"curiosity|curious|did not ask|face value|not asked",
    "race_ethnicity_culture": r"race|racism|ethnic|cultur|Black|adultification|interpreter",
    "risk_assessment": r"risk assessment|DASH|risk",
    "self_harm_suicide": r"self-harm|overdose|suicid",
    "self_neglect": r"self-neglect|hoard",
    "send_disability": r"disabilit|autism|EHCP|non-verbal|special educational",
    "sudi_safe_sleep": r"sleep|SUDI|sofa",
    "supervision_workload": r"supervision|caseload|workload|agency staff",
    "think_family": r"think family|whole family|caring responsibilities|carer",
    "thresholds": r"threshold|continuum of need|referral|step(ped)? (up|down)",
    "transitions_to_adulthood": r"transition|eighteen|adult services|care leaver|16 to 25",
    "voice_of_child": r"voice|seen alone|wishes and feelings|lived experience|own words|views"
    r"|spoken to on (his|her|their) own|what life",
}


@pytest.mark.parametrize("facts", ALL, ids=_ids(ALL))
def test_themes_recur(facts: dict[str, Any]) -> None:
    sentences = _sentences(_sources()[facts["file"]])
    for theme in facts["themes"]:
        pattern = re.compile(RECURS[theme], re.I)
        hits = [s for s in sentences if pattern.search(s)]
        assert len(hits) >= 2, f"{theme} is named a theme but found in {len(hits)} sentence(s)"
