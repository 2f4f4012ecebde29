"""Word .docx: the body in document order, with heading styles, list numbers and table rows.

Reviews are often numbered by Word itself ("4.3" is list numbering, not typed text), so the
numbers are worked out from numbering.xml and put back in front of the text; without them the
structure stage could not cite paragraph numbers. Headers and footers live in their own parts
and are never read. The archive is checked for bomb-like sizes before python-docx opens it.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ingest.detect import DOCX
from ingest.extractors.base import register
from ingest.limits import check_zip
from reviewlens.errors import CorruptFile, EncryptedFile
from reviewlens.model import Block, RawDocument
from reviewlens.settings import Settings

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|berschrift|titre)\s*(\d)$", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^(?:toc\s*\d|toc heading|table of figures)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"^list", re.IGNORECASE)
MAX_DEPTH = 50


def _roman(number: int) -> str:
    pairs = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
             (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"),
             (1, "i"))  # fmt: skip
    out = ""
    for value, letters in pairs:
        while number >= value:
            out += letters
            number -= value
    return out


def _format_number(value: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return chr(ord("a") + (value - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (value - 1) % 26)
    if fmt == "lowerRoman":
        return _roman(value)
    if fmt == "upperRoman":
        return _roman(value).upper()
    return str(value)


class _Numbering:
    """Counters for Word's automatic list numbering, enough to rebuild "4.3" or "(b)"."""

    def __init__(self, document: Any) -> None:
        # numId -> {ilvl: (numFmt, lvlText, start)}
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for node in root.findall(f"{_W}abstractNum"):
            levels: dict[int, tuple[str, str, int]] = {}
            for level in node.findall(f"{_W}lvl"):
                fmt = level.find(f"{_W}numFmt")
                text = level.find(f"{_W}lvlText")
                start = level.find(f"{_W}start")
                try:
                    ilvl = int(level.get(f"{_W}ilvl", "0"))
                    first = int(start.get(f"{_W}val", "1")) if start is not None else 1
                except ValueError:
                    continue
                levels[ilvl] = (
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "") if text is not None else "",
                    first,
                )
            abstract[node.get(f"{_W}abstractNumId", "")] = levels
        for num in root.findall(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is not None:
                self.levels[num.get(f"{_W}numId", "")] = abstract.get(ref.get(f"{_W}val", ""), {})

    def label(self, num_id: str, ilvl: int) -> str | None:
        """The next label for this list level, e.g. "4.3" or "b)"; None for bullets."""
        levels = self.levels.get(num_id)
        if not levels or ilvl not in levels or num_id == "0":
            return None
        counters = self.counters.setdefault(num_id, {})
        fmt, text, start = levels[ilvl]
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [level for level in counters if level > ilvl]:
            del counters[deeper]
        if fmt in ("bullet", "none") or not text:
            return None

        def fill(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            level_fmt, _, level_start = levels.get(level, ("decimal", "", 1))
            return _format_number(counters.get(level, level_start), level_fmt)

        return re.sub(r"%(\d)", fill, text).strip()


def _numbering_of(paragraph: Any) -> tuple[str, int] | None:
    """(numId, level) from the paragraph's own properties or its style's."""
    ppr = paragraph._p.pPr
    num_pr = ppr.numPr if ppr is not None else None
    if num_pr is None:
        style = paragraph.style
        while style is not None and num_pr is None:
            style_ppr = style.element.pPr
            num_pr = style_ppr.numPr if style_ppr is not None else None
            style = style.base_style
    if num_pr is None or num_pr.numId is None:
        return None
    ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
    return str(num_pr.numId.val), int(ilvl or 0)


def _heading_level(paragraph: Any) -> int | None:
    style = paragraph.style
    name = (style.name or "") if style is not None else ""
    if name.lower() in ("title",):
        return 1
    match = _HEADING_STYLE.match(name) or _HEADING_STYLE.match(
        (style.style_id or "") if style is not None else ""
    )
    if match:
        return max(1, int(match.group(1)))
    ppr = paragraph._p.pPr
    outline = ppr.find(f"{_W}outlineLvl") if ppr is not None else None
    if outline is not None:
        try:
            level = int(outline.get(f"{_W}val", "9"))
        except ValueError:
            return None
        return level + 1 if level < 9 else None
    return None


_RUN_TEXT = (
    ".//w:r[not(ancestor::w:txbxContent)]/*[self::w:t or self::w:tab or self::w:br or self::w:cr]"
)


def _paragraph_text(element: Any) -> str:
    """Text of the runs, including tracked insertions and links; deletions and text boxes
    (which Word draws elsewhere) are left out."""
    parts = []
    for node in element.xpath(_RUN_TEXT):
        parts.append(node.text or "" if node.tag == f"{_W}t" else " ")
    return " ".join("".join(parts).split())


class _DocxReader:
    def __init__(self, document: Any) -> None:
        self.document = document
        self.numbering = _Numbering(document)
        self.blocks: list[Block] = []

    def paragraph(self, element: Any) -> None:
        from docx.text.paragraph import Paragraph

        paragraph = Paragraph(element, self.document)
        style = paragraph.style
        style_name = (style.name or "") if style is not None else ""
        if _TOC_STYLE.match(style_name):
            return
        text = _paragraph_text(element)
        numbering = _numbering_of(paragraph)
        label = self.numbering.label(*numbering) if numbering else None
        if not text:
            return
        if label:
            text = f"{label} {text}"
        level = _heading_level(paragraph)
        if level is not None:
            self.blocks.append(Block(text=text, kind="heading", heading_level=level))
        elif numbering is not None or _LIST_STYLE.match(style_name):
            self.blocks.append(Block(text=text, kind="list_item"))
        else:
            self.blocks.append(Block(text=text))

    def table(self, element: Any, depth: int) -> None:
        for row in element.findall(f"{_W}tr"):
            cells: list[str] = []
            for cell in row.findall(f"{_W}tc"):
                texts = [_paragraph_text(p) for p in cell.iter(f"{_W}p")]
                cells.append(" ".join(" ".join(texts).split()))
            if any(cells):
                self.blocks.append(Block(text=" | ".join(cells), kind="table_row"))

    def container(self, element: Any, depth: int = 0) -> None:
        """Paragraphs and tables in XML order; content controls are opened, not skipped."""
        if depth > MAX_DEPTH:
            return
        for child in element.iterchildren():
            tag = child.tag
            if tag == f"{_W}p":
                self.paragraph(child)
            elif tag == f"{_W}tbl":
                self.table(child, depth)
            elif tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}ins"):
                self.container(child, depth + 1)


@register("docx", [DOCX], ["docx", "docm", "dotx"], score=10)
def extract_docx(data: bytes, file_name: str, settings: Settings) -> RawDocument:
    import docx

    check_zip(data, settings.max_unzipped_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - zlib, lxml and python-docx each fail their own way
        if b"EncryptedPackage" in data[:4096]:
            raise EncryptedFile("the Word file is protected by a password") from None
        raise CorruptFile(f"the Word file is damaged ({type(exc).__name__})") from None
    try:
        reader = _DocxReader(document)
        reader.container(document.element.body)
        title = (document.core_properties.title or "").strip() or None
    except Exception as exc:  # noqa: BLE001 - a damaged part surfaces while walking the body
        raise CorruptFile(f"the Word file is damaged ({type(exc).__name__})") from None
    return RawDocument(media_type=DOCX, page_count=1, blocks=reader.blocks, file_title=title)
