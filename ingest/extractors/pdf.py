"""PDF: pypdfium2 reads the text layer; pdfplumber and Tesseract are called only where they pay.

Measured here, pypdfium2 reads a page in about a millisecond while pdfplumber needs 50 to 150, so
every page takes the pdfium path: one text call, plus a few calls per line for position, size
and weight. Pages whose lines split into separate runs (two columns, table cells) are read run
by run, by position, so columns come out one after the other. Bordered tables drawn as cell
rectangles are cut into rows from that geometry; pdfplumber is opened, for one page, only for
tables drawn with separate rules, where its edge analysis earns its cost. Pages without a usable
text layer are rendered, at a capped size, and read by Tesseract.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ingest.clean import join_lines
from ingest.detect import PDF
from ingest.extractors.base import register
from reviewlens.errors import CorruptFile, EncryptedFile, TooManyPages
from reviewlens.model import Block, BlockKind, RawDocument
from reviewlens.settings import Settings

# OCR render cap: about A4 at 300 dpi; a page claiming to be metres wide is scaled down to fit
MAX_RENDER_PIXELS = 9_000_000
MAX_RENDER_SIDE = 4_000
OCR_DPI = 300
MIN_TEXT_CHARS = 12  # fewer non-space characters than this: the page has no usable text layer
_FORCE_BOLD = 1 << 18  # PDF font descriptor flag ForceBold
_LIST_START = re.compile(
    r"^(?:[\u2022\u25cf\u25aa\u25e6\u2023\u2043\u2013*-]\s|\(?[a-z0-9]{1,3}[.)]\s)"
)
_NUMBERED_START = re.compile(r"^(?:\d{1,2}(?:\.\d{1,3}){1,3}\.?|[A-Z]?\d{1,2}\.)\s+\S")
_BULLETS = "\u2022\u25cf\u25aa\u25e6\u2023\u2043"
# a paragraph number or bullet that may hang in the margin apart from its text ("1.1")
_LABEL_TEXT = (
    r"(?:\d{1,2}(?:\.\d{1,3}){0,3}\.?|[A-Z]{1,2}\d{1,2}\.?|\(?[a-z]{1,2}\)"
    r"|[\u2022\u25cf\u25aa\u25e6\u2013*-])"
)
_LABEL = re.compile(f"^{_LABEL_TEXT}$")
_LABEL_START = re.compile(f"^{_LABEL_TEXT}\\s")


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    y: float  # baseline, PDF units from the bottom
    size: float
    bold: bool
    bullet: bool = False  # a small drawn mark sits just left of the line: a list item
    first: int = -1  # index of its first character on the text page


def _is_bold(textpage: Any, index: int, pdfium_c: Any, buffer: Any) -> bool:
    flags = ctypes.c_int(0)
    length = pdfium_c.FPDFText_GetFontInfo(
        textpage, index, buffer, len(buffer), ctypes.byref(flags)
    )
    if pdfium_c.FPDFText_GetFontWeight(textpage, index) >= 600:
        return True
    if flags.value & _FORCE_BOLD:
        return True
    if length <= 0:
        return False
    name = bytes(buffer[: max(0, min(length, len(buffer)) - 1)]).decode("latin-1").lower()
    return "bold" in name or "black" in name or "heavy" in name


class _PageReader:
    """Per-line facts for one text page, through pdfium's C calls (cheap, no per-char loop)."""

    def __init__(self, textpage: Any, pdfium_c: Any) -> None:
        self.tp = textpage.raw  # the C handle: no wrapper conversion on every call
        self.c = pdfium_c
        self.left = ctypes.c_double()
        self.right = ctypes.c_double()
        self.bottom = ctypes.c_double()
        self.top = ctypes.c_double()
        self.refs = tuple(ctypes.byref(v) for v in (self.left, self.right, self.bottom, self.top))
        self.font_buffer = (ctypes.c_ubyte * 128)()
        self.page_text = ""
        self.rect_count = 0
        self.bold_fonts: dict[int | None, bool] = {}

    def bold(self, index: int) -> bool:
        """Whether the character's font is bold, asked once per font on the page."""
        c = self.c
        font = c.FPDFTextObj_GetFont(c.FPDFText_GetTextObject(self.tp, index))
        key = ctypes.addressof(font.contents) if font else None
        if key is None:
            return _is_bold(self.tp, index, c, self.font_buffer)
        known = self.bold_fonts.get(key)
        if known is None:
            known = self.bold_fonts[key] = _is_bold(self.tp, index, c, self.font_buffer)
        return known

    def line_in_rect(self, index: int, text: str, first: int, last: int) -> _Line:
        c = self.c
        left, right, bottom, top = self.refs
        c.FPDFText_GetRect(self.tp, index, left, top, right, bottom)
        size = round(float(c.FPDFText_GetFontSize(self.tp, first)), 1)
        # the rectangle's top less the cap height stands in for the baseline
        baseline = self.top.value - 0.75 * size
        return _Line(text, self.left.value, self.right.value, baseline, size, False, first=first)

    def line_at(self, text: str, first: int, last: int) -> _Line:
        c = self.c
        left, right, bottom, top = self.refs
        c.FPDFText_GetCharOrigin(self.tp, first, left, bottom)
        x0, y = self.left.value, self.bottom.value
        c.FPDFText_GetCharBox(self.tp, last, left, right, bottom, top)
        size = round(float(c.FPDFText_GetFontSize(self.tp, first)), 1)
        return _Line(text, x0, max(self.right.value, x0), y, size, False, first=first)


def _stream_lines(textpage: Any, reader: _PageReader) -> list[_Line]:
    """Lines in content order from one text call; char indices follow the returned text.

    When pdfium's rectangles match the lines one to one (a page without columns or cells),
    each line's position is one rectangle call instead of two character calls.
    """
    text = textpage.get_text_range()
    reader.page_text = text
    spans: list[tuple[str, int, int]] = []
    position = 0
    for raw_line in text.split("\r\n"):
        stripped = raw_line.rstrip()
        if stripped.strip():
            lead = len(stripped) - len(stripped.lstrip())
            spans.append((stripped.strip(), position + lead, position + len(stripped) - 1))
        position += len(raw_line) + 2
    reader.rect_count = textpage.count_rects()
    if reader.rect_count != len(spans):
        lines = [reader.line_at(*span) for span in spans]
    else:
        lines = [reader.line_in_rect(index, *span) for index, span in enumerate(spans)]
    _weigh_candidates(lines, reader)
    return lines


_ENDS = (".", ":", ";", "?", "!", ")")


def _weigh_candidates(lines: list[_Line], reader: _PageReader) -> None:
    """Ask for font weight only where a heading could start or go on.

    A heading follows the end of a paragraph (a short line or a full stop), a change of size,
    or another bold line; asking every line would cost a third of the page's reading time.
    """
    if not lines:
        return
    right = max(line.x1 for line in lines)
    previous: _Line | None = None
    for line in lines:
        text = line.text
        if (
            len(text) <= 140
            and not text.endswith(".")
            and text.count(" ") < 16
            and (
                previous is None
                or previous.bold
                or previous.text.endswith(_ENDS)
                or previous.x1 < right - 4 * previous.size
                or abs(previous.size - line.size) > 0.6
                or previous.y - line.y > 2.2 * line.size
            )
        ):
            line.bold = reader.bold(line.first)
        previous = line


def _split_between(right: float, left: float, bottom: float, top: float, walls: list[Box]) -> bool:
    """Whether a drawn cell border stands in the gap between two pieces of text."""
    for x0, y0, x1, y1 in walls:
        if y0 <= top and bottom <= y1 and any(right - 1 <= x <= left + 1 for x in (x0, x1)):
            return True
    return False


def _page_runs(textpage: Any, reader: _PageReader, walls: list[Box]) -> list[_Line]:
    """Text runs: stretches of a line without a wide gap, so columns and cells stay apart.

    pdfium's rectangles come in character order, one per word or even one per glyph (browsers
    place glyphs one by one), so neighbours on a line are joined unless a gap of about an em,
    or a cell border, separates them. Each run's text is then the slice of the page text from
    its first character to the next run's, which keeps words whole and ligatures single.
    """
    c = reader.c
    left, right, bottom, top = reader.refs
    groups: list[list[float]] = []  # [x0, bottom, x1, top] per run, in character order
    for index in range(reader.rect_count):
        c.FPDFText_GetRect(reader.tp, index, left, top, right, bottom)
        box = [reader.left.value, reader.bottom.value, reader.right.value, reader.top.value]
        if groups:
            run = groups[-1]
            smaller = max(min(run[3] - run[1], box[3] - box[1]), 0.5)
            line_height = max(run[3] - run[1], box[3] - box[1], 1.0)
            overlap = min(run[3], box[3]) - max(run[1], box[1])
            gap = box[0] - run[2]
            if (
                overlap >= 0.5 * smaller
                and -line_height < gap < 0.9 * line_height
                and not (walls and _split_between(run[2], box[0], box[1], box[3], walls))
            ):
                run[0], run[1] = min(run[0], box[0]), min(run[1], box[1])
                run[2], run[3] = max(run[2], box[2]), max(run[3], box[3])
                continue
        groups.append(box)
    firsts = [
        c.FPDFText_GetCharIndexAtPos(
            reader.tp, g[0] + 0.5, (g[1] + g[3]) / 2, 2.0, max(1.0, (g[3] - g[1]) / 2)
        )
        for g in groups
    ]
    text = reader.page_text
    sliceable = len(text) == textpage.count_chars() and all(
        0 <= a < b for a, b in zip(firsts, firsts[1:] + [len(text)], strict=True)
    )
    runs: list[_Line] = []
    for index, (x0, y0, x1, y1) in enumerate(groups):
        first = firsts[index]
        if sliceable:
            end = firsts[index + 1] if index + 1 < len(firsts) else len(text)
            run_text = " ".join(text[first:end].split())
        else:
            inset = (y1 - y0) * 0.25  # keep clear of the lines above and below
            run_text = " ".join(textpage.get_text_bounded(x0, y0 + inset, x1, y1 - inset).split())
        if not run_text:
            continue
        if first < 0:
            size, bold = y1 - y0, False
        else:
            size = float(c.FPDFText_GetFontSize(reader.tp, first))
            maybe_heading = len(run_text) <= 140 and not run_text.endswith(".")
            bold = maybe_heading and reader.bold(first)
        runs.append(_Line(run_text, x0, x1, y0, round(size, 1), bold))
    return runs


def _group_rows(runs: list[_Line]) -> list[list[_Line]]:
    """Runs grouped into visual lines, top to bottom; close runs on a line joined."""
    runs = sorted(runs, key=lambda run: (-run.y, run.x0))
    rows: list[list[_Line]] = []
    for run in runs:
        if rows and abs(rows[-1][0].y - run.y) <= max(2.0, run.size * 0.4):
            rows[-1].append(run)
        else:
            rows.append([run])
    merged_rows: list[list[_Line]] = []
    for row in rows:
        row.sort(key=lambda run: run.x0)
        merged: list[_Line] = [row[0]]
        for run in row[1:]:
            previous = merged[-1]
            if run.x0 - previous.x1 < max(previous.size, run.size) * 1.2:
                # a font change inside one line, not a column gap
                merged[-1] = _Line(
                    f"{previous.text} {run.text}",
                    previous.x0,
                    run.x1,
                    previous.y,
                    previous.size,
                    previous.bold and run.bold,
                )
            else:
                merged.append(run)
        if len(merged) == 2 and _LABEL.match(merged[0].text):
            label, body = merged
            merged = [_Line(f"{label.text} {body.text}", label.x0, body.x1, body.y, body.size,
                            body.bold)]  # fmt: skip
        merged_rows.append(merged)
    return merged_rows


def _find_gutter(rows: list[list[_Line]], width: float) -> float | None:
    """The x of a vertical gap that splits the page's multi-run lines in two, if it has columns.

    Lines that run across the gap (a heading or paragraph above the columns) are allowed: they
    become bands. A table is told apart by lines that split more than once.
    """
    split_rows = [row for row in rows if len(row) >= 2]
    if len(split_rows) < 3 or sum(1 for row in split_rows if len(row) > 2) > len(split_rows) // 4:
        return None
    best: tuple[int, float] | None = None
    for step in range(30, 71):
        x = width * step / 100
        split = 0
        for row in split_rows:
            if any(run.x0 < x < run.x1 for run in row):
                continue
            if any(run.x1 <= x for run in row) and any(run.x0 >= x for run in row):
                split += 1
        if best is None or split > best[0]:
            best = (split, x)
    if best is None or best[0] < 3 or best[0] < 0.6 * len(split_rows):
        return None
    return best[1]


def _columns_in_order(rows: list[list[_Line]], gutter: float) -> list[list[_Line]]:
    """Flows in reading order: left column then right, banded by full-width lines."""
    flows: list[list[_Line]] = []
    full: list[_Line] = []
    left: list[_Line] = []
    right: list[_Line] = []

    def flush(*parts: list[_Line]) -> None:
        for flow in parts:
            if flow:
                flows.append(list(flow))
                flow.clear()

    in_columns = False
    for row in rows:
        if any(run.x0 < gutter < run.x1 for run in row):
            flush(left, right)
            full.extend(row)  # consecutive full-width lines read as one flow
            in_columns = False
            continue
        left_only = all(run.x1 <= gutter for run in row)
        if left_only and not in_columns:
            full.extend(row)  # the short last line of a full-width paragraph, or a heading
            continue
        in_columns = True
        flush(full)
        left.extend(run for run in row if run.x1 <= gutter)
        right.extend(run for run in row if run.x0 >= gutter)
    flush(full, left, right)
    return flows


Box = tuple[float, float, float, float]  # x0, bottom, x1, top in PDF units


@dataclass
class _Shapes:
    paths: int  # drawn paths (rules, borders, marks)
    marks: list[tuple[float, float]]  # centres of small filled marks: drawn bullets
    boxes: list[Box]  # rectangles big enough to be table cells or text boxes
    rules: int  # thin lines, as tables drawn line by line have


def _page_shapes(page: Any, pdfium_c: Any) -> _Shapes:
    """Paths on the page, found without rendering: borders hint at tables, dots at bullets."""
    count = pdfium_c.FPDFPage_CountObjects(page.raw)
    shapes = _Shapes(0, [], [], 0)
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for index in range(min(count, 4000)):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, index)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        shapes.paths += 1
        if len(shapes.marks) < 500 and pdfium_c.FPDFPageObj_GetBounds(
            obj, ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top)
        ):
            width, height = right.value - left.value, top.value - bottom.value
            if 0.5 < width < 8 and 0.5 < height < 8:
                shapes.marks.append(
                    ((left.value + right.value) / 2, (bottom.value + top.value) / 2)
                )
            elif width >= 10 and height >= 8 and len(shapes.boxes) < 1000:
                shapes.boxes.append((left.value, bottom.value, right.value, top.value))
            elif width <= 2.5 or height <= 2.5:
                shapes.rules += 1
    return shapes


def _mark_bullets(lines: list[_Line], marks: list[tuple[float, float]]) -> None:
    for line in lines:
        for x, y in marks:
            if 0 < line.x0 - x < 24 and abs(y - (line.y + line.size * 0.3)) < line.size * 0.6:
                line.bullet = True
                break


@dataclass
class _Table:
    top: float  # PDF units from the bottom
    bbox: Box
    rows: list[str]


def _touch(a: Box, b: Box, slack: float = 2.0) -> bool:
    return not (
        a[2] + slack < b[0] or b[2] + slack < a[0] or a[3] + slack < b[1] or b[3] + slack < a[1]
    )


def _cluster(values: list[float], slack: float = 2.0) -> int:
    distinct: list[float] = []
    for value in sorted(values):
        if not distinct or value - distinct[-1] > slack:
            distinct.append(value)
    return len(distinct)


def _box_tables(boxes: list[Box], runs: list[_Line]) -> list[_Table]:
    """Tables whose cells are drawn as touching rectangles: rows and cells from geometry.

    This covers bordered tables as most generators draw them, at the cost of a few
    comparisons; pdfplumber (hundreds of milliseconds a page) is kept for other rulings.
    """
    groups: list[list[Box]] = []
    for box in sorted(set(boxes), key=lambda b: (-b[3], b[0])):
        touching = [group for group in groups if any(_touch(box, other) for other in group)]
        merged = [box]
        for group in touching:
            merged.extend(group)
            groups.remove(group)
        groups.append(merged)
    tables: list[_Table] = []
    for cells in groups:
        if (
            len(cells) < 4
            or _cluster([c[0] for c in cells]) < 2
            or _cluster([c[3] for c in cells]) < 2
        ):
            continue
        # a big box holding smaller ones is a frame, not a cell
        cells = [c for c in cells if not any(o != c and _touch(o, c, -1) and
                 o[0] >= c[0] - 1 and o[2] <= c[2] + 1 and o[1] >= c[1] - 1 and o[3] <= c[3] + 1
                 for o in cells)]  # fmt: skip
        rows: list[list[Box]] = []
        for cell in sorted(cells, key=lambda c: (-c[3], c[0])):
            if rows and abs(rows[-1][0][3] - cell[3]) <= 2.0:
                rows[-1].append(cell)
            else:
                rows.append([cell])
        texts: list[str] = []
        filled = 0
        for row in rows:
            row_cells = []
            for cell in sorted(row, key=lambda c: c[0]):
                inside = [run for run in runs if _centre_in(run, cell)]
                inside.sort(key=lambda run: (-run.y, run.x0))
                row_cells.append(join_lines([run.text for run in inside]))
            if sum(1 for text in row_cells if text) >= 2:
                filled += 1
            if any(row_cells):
                texts.append(" | ".join(row_cells))
        if filled >= 2:
            x0 = min(c[0] for c in cells)
            bottom = min(c[1] for c in cells)
            x1 = max(c[2] for c in cells)
            top = max(c[3] for c in cells)
            tables.append(_Table(top, (x0, bottom, x1, top), texts))
    return tables


def _centre_in(run: _Line, box: Box) -> bool:
    middle = (run.x0 + run.x1) / 2
    return box[0] - 1 <= middle <= box[2] + 1 and box[1] - 1 <= run.y + run.size * 0.3 <= box[3] + 1


def _plumber_tables(plumber_pdf: Any, page_index: int, height: float) -> list[_Table]:
    page = plumber_pdf.pages[page_index]
    tables: list[_Table] = []
    for table in page.find_tables():
        x0, top, x1, bottom = table.bbox
        rows: list[str] = []
        for row in table.extract():
            cells = [" ".join((cell or "").split()) for cell in row]
            if any(cells):
                rows.append(" | ".join(cells))
        if rows:
            tables.append(_Table(height - top, (x0, height - bottom, x1, height - top), rows))
    return tables


def _inside(run: _Line, table: _Table) -> bool:
    x0, bottom, x1, top = table.bbox
    middle = (run.x0 + run.x1) / 2
    return x0 - 1 <= middle <= x1 + 1 and bottom - 1 <= run.y <= top + 1


@dataclass
class _Flow:
    """A run of lines read in sequence, or a ready-made list of table rows."""

    lines: list[_Line]
    table_rows: list[str] | None = None
    grid: bool = False  # lines whose runs are table cells


class _PdfPage:
    def __init__(self, number: int) -> None:
        self.number = number
        self.flows: list[_Flow] = []
        self.ocr_blocks: list[Block] = []
        self.columns = False  # read as two columns


def _read_page(
    page: Any,
    page_index: int,
    pdfium_c: Any,
    plumber: _LazyPlumber,
) -> _PdfPage:
    result = _PdfPage(page_index + 1)
    textpage = page.get_textpage()
    try:
        reader = _PageReader(textpage, pdfium_c)
        lines = _stream_lines(textpage, reader)
        if sum(len(line.text.replace(" ", "")) for line in lines) < MIN_TEXT_CHARS:
            return result  # caller decides about OCR
        shapes = _page_shapes(page, pdfium_c)
        # a line whose number or bullet hangs in the margin is two runs but reads fine in
        # content order; only other splits (columns, table cells) need the positional reader
        labelled = sum(1 for line in lines if _LABEL_START.match(line.text))
        runs: list[_Line] | None = None
        if reader.rect_count > len(lines) + 1 + labelled:
            runs = _page_runs(textpage, reader, shapes.boxes)
            if len(runs) <= len(lines) + 1 + labelled:
                runs = None  # glyph-by-glyph rectangles, but no columns or cells after all
        if runs is None:
            _mark_bullets(lines, shapes.marks)
            result.flows.append(_Flow(lines))
            return result
        _mark_bullets(runs, shapes.marks)
        tables = _box_tables(shapes.boxes, runs) if len(shapes.boxes) >= 4 else []
        if not tables and shapes.rules >= 6:
            rows = _group_rows(runs)
            if sum(1 for row in rows if len(row) > 1) >= 2:
                tables = plumber.tables(page_index, float(page.get_height()))
        if tables:
            runs = [run for run in runs if not any(_inside(run, table) for table in tables)]
        rows = _group_rows(runs)
        if not tables:
            gutter = _find_gutter(rows, float(page.get_width()))
            if gutter is not None:
                result.columns = True
                result.flows.extend(_Flow(flow) for flow in _columns_in_order(rows, gutter))
                return result
        pending = sorted(tables, key=lambda table: -table.top)
        current: list[_Line] = []
        for row in rows:
            while pending and pending[0].top >= row[0].y:
                if current:
                    result.flows.append(_Flow(current))
                    current = []
                result.flows.append(_Flow([], table_rows=pending.pop(0).rows))
            kept = row
            if len(kept) == 1:
                current.append(kept[0])
            else:
                if current:
                    result.flows.append(_Flow(current))
                    current = []
                result.flows.append(_Flow(kept, grid=True))
        if current:
            result.flows.append(_Flow(current))
        for table in pending:
            result.flows.append(_Flow([], table_rows=table.rows))
        return result
    finally:
        textpage.close()


class _LazyPlumber:
    """Opens pdfplumber once per document, and only when a page needs it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pdf: Any = None
        self.calls = 0

    def tables(self, page_index: int, height: float) -> list[_Table]:
        try:
            if self.pdf is None:
                import pdfplumber

                # pdfminer's warnings quote content-stream operands; document text stays out of logs
                logging.getLogger("pdfminer").setLevel(logging.CRITICAL)
                self.pdf = pdfplumber.open(io.BytesIO(self.data))
            self.calls += 1
            return _plumber_tables(self.pdf, page_index, height)
        except Exception:  # noqa: BLE001 - a table we cannot cut falls back to plain lines
            return []

    def close(self) -> None:
        if self.pdf is not None:
            # closing walks every page, damaged ones too
            with contextlib.suppress(Exception):
                self.pdf.close()


def render_scale(width: float, height: float) -> float:
    """Pixels per PDF unit for OCR: 300 dpi, less for pages too big to render whole."""
    scale = OCR_DPI / 72
    scale = min(scale, (MAX_RENDER_PIXELS / (width * height)) ** 0.5)
    return min(scale, MAX_RENDER_SIDE / max(width, height))


def _ocr_page(page: Any, page_number: int, settings: Settings) -> list[Block]:
    """Render within the pixel cap and read with Tesseract; [] if Tesseract is unavailable."""
    import pytesseract

    width, height = float(page.get_width()), float(page.get_height())
    if width <= 0 or height <= 0:
        return []
    scale = render_scale(width, height)
    # Tesseract's OpenMP threads fight each other on a busy machine: one thread is ~5x faster
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    bitmap = page.render(scale=scale, grayscale=True)
    image = bitmap.to_pil()
    try:
        data = pytesseract.image_to_data(
            image,
            lang=settings.ocr_language,
            output_type=pytesseract.Output.DICT,
            timeout=max(5, int(settings.extract_timeout_s)),
        )
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, RuntimeError, OSError):
        return []
    finally:
        image.close()
        bitmap.close()
    paragraphs: dict[tuple[int, int], dict[int, list[str]]] = {}
    for i, word in enumerate(data["text"]):
        word = (word or "").strip()
        confidence = float(data["conf"][i])
        if not word or confidence < 0:
            continue
        if confidence < 50 and not any(ch.isalnum() for ch in word):
            continue  # specks on the scan read as stray punctuation
        key = (int(data["block_num"][i]), int(data["par_num"][i]))
        paragraphs.setdefault(key, {}).setdefault(int(data["line_num"][i]), []).append(word)
    blocks: list[Block] = []
    for key in sorted(paragraphs):
        lines = [" ".join(words) for _, words in sorted(paragraphs[key].items())]
        text = join_lines(lines)
        if text:
            kind = "list_item" if text[:1] in _BULLETS else "paragraph"
            if kind == "list_item":
                text = text[1:].lstrip()
            blocks.append(Block(text=text, page=page_number, kind=kind, ocr=True))
    return blocks


def _body_size(pages: list[_PdfPage]) -> float:
    weights: Counter[float] = Counter()
    for page in pages:
        for flow in page.flows:
            for line in flow.lines:
                weights[line.size] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _heading_like(line: _Line, body: float) -> bool:
    if len(line.text) > 140 or line.text.endswith((",", ";")):
        return False
    if body and line.size >= body * 1.15:
        return True
    return line.bold and not line.text.endswith(".") and len(line.text.split()) <= 16


def _line_gap(flows: list[_Flow]) -> float:
    gaps = [
        previous.y - line.y
        for flow in flows
        for previous, line in zip(flow.lines, flow.lines[1:], strict=False)
        if 0 < previous.y - line.y < 3 * max(previous.size, 1)
    ]
    return statistics.median(gaps) if gaps else 0.0


def _flow_blocks(
    flow: _Flow, page: int, body: float, gap: float, levels: dict[float, int]
) -> list[Block]:
    if flow.table_rows is not None:
        return [Block(text=row, page=page, kind="table_row") for row in flow.table_rows]
    if flow.grid:
        text = " | ".join(line.text for line in flow.lines)
        return [Block(text=text, page=page, kind="table_row", font_size=flow.lines[0].size)]
    blocks: list[Block] = []
    current: list[_Line] = []
    left = min(line.x0 for line in flow.lines)
    heading = {id(line): _heading_like(line, body) for line in flow.lines}

    def flush() -> None:
        if not current:
            return
        first = current[0]
        # items whose bullets are drawn as shapes: indented, after a line ending ":" or ";"
        after_colon = bool(blocks) and blocks[-1].text.endswith((":", ";"))
        text = join_lines([line.text for line in current])
        if text:
            # large type over many lines is a pull quote or summary box, not a heading
            if all(heading[id(line)] for line in current) and len(text) <= 200:
                level = levels.get(first.size) if first.size > body * 1.15 else None
                level = level or (max(levels.values(), default=0) + 1)
                blocks.append(
                    Block(
                        text=text,
                        page=page,
                        kind="heading",
                        heading_level=level,
                        font_size=first.size,
                    )
                )
            else:
                kind: BlockKind = "list_item" if _LIST_START.match(first.text) else "paragraph"
                if first.bullet or (after_colon and first.x0 > left + 0.5 * first.size):
                    kind = "list_item"
                if kind == "list_item" and first.text[:1] in _BULLETS:
                    text = text[1:].lstrip()
                blocks.append(Block(text=text, page=page, kind=kind, font_size=first.size))
        current.clear()

    right = max(line.x1 for line in flow.lines)
    for line in flow.lines:
        if current:
            previous = current[-1]
            step = previous.y - line.y
            spacing = gap or previous.size * 1.2
            this_heading, previous_heading = heading[id(line)], heading[id(previous)]
            if this_heading and previous_heading:
                spacing = max(spacing, previous.size * 1.25)
            ended = previous.text.endswith((".", ":", ";", "?", "!", ")")) or (
                previous.x1 < right - 4 * previous.size
            )
            new_block = (
                step > spacing * 1.45
                or step < -previous.size  # jumped back up: a new run elsewhere
                or abs(line.size - previous.size) > 0.6
                or this_heading != previous_heading
                or (
                    ended
                    and (_LIST_START.match(line.text) or _NUMBERED_START.match(line.text))
                    is not None
                )
                or previous.text.endswith((":", ";"))
                or line.bullet
                or (current[0].bullet and line.x0 < current[0].x0 - 0.5 * line.size)
            )
            if new_block:
                flush()
        current.append(line)
    flush()
    return blocks


def _rejoin_column_breaks(blocks: list[Block]) -> list[Block]:
    """A paragraph cut off at the foot of a column goes on at the top of the next one."""
    out: list[Block] = []
    for block in blocks:
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.kind == block.kind == "paragraph"
            and not previous.text.endswith((".", "?", "!", ":", ";", '"', "\u201d", ")"))
            and block.text[:1].islower()
        ):
            out[-1] = previous.model_copy(update={"text": join_lines([previous.text, block.text])})
        else:
            out.append(block)
    return out


def _heading_levels(pages: list[_PdfPage], body: float) -> dict[float, int]:
    sizes = sorted(
        {
            line.size
            for page in pages
            for flow in page.flows
            for line in flow.lines
            if body and line.size >= body * 1.15 and _heading_like(line, body)
        },
        reverse=True,
    )
    return {size: level for level, size in enumerate(sizes[:5], start=1)}


def open_pdf(data: bytes, pdfium: Any, pdfium_c: Any) -> Any:
    """The pdfium document, or the error that says why it cannot be read."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedFile(
                "the PDF is protected by a password; save an unprotected copy and upload that"
            ) from None
        raise CorruptFile("the PDF is damaged and cannot be opened") from None


@register("pdf", [PDF], ["pdf"], score=10)
def extract_pdf(data: bytes, file_name: str, settings: Settings) -> RawDocument:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    eof = data.rfind(b"%%EOF")
    if eof < 0 or eof < len(data) - 4096:
        raise CorruptFile("the PDF is truncated (no end-of-file marker); the upload is incomplete")
    document = open_pdf(data, pdfium, pdfium_c)
    plumber = _LazyPlumber(data)
    try:
        page_count = len(document)
        if page_count == 0:
            raise CorruptFile("the PDF has no pages")
        if page_count > settings.max_pages:
            raise TooManyPages(f"the PDF has {page_count} pages; the limit is {settings.max_pages}")
        title = (document.get_metadata_value("Title") or "").strip() or None
        pages: list[_PdfPage] = []
        ocr_pages: list[int] = []
        for index in range(page_count):
            try:
                page = document[index]
            except pdfium.PdfiumError:
                raise CorruptFile(f"page {index + 1} of the PDF is damaged") from None
            try:
                read = _read_page(page, index, pdfium_c, plumber)
                if not read.flows and settings.ocr:
                    read.ocr_blocks = _ocr_page(page, index + 1, settings)
                    if read.ocr_blocks:
                        ocr_pages.append(index + 1)
                pages.append(read)
            finally:
                page.close()
    finally:
        plumber.close()
        document.close()
    body = _body_size(pages)
    levels = _heading_levels(pages, body)
    gap = _line_gap([flow for page in pages for flow in page.flows])
    blocks: list[Block] = []
    for read in pages:
        blocks.extend(read.ocr_blocks)
        page_blocks: list[Block] = []
        for flow in read.flows:
            page_blocks.extend(_flow_blocks(flow, read.number, body, gap, levels))
        blocks.extend(_rejoin_column_breaks(page_blocks) if read.columns else page_blocks)
    return RawDocument(
        media_type=PDF,
        page_count=page_count,
        blocks=blocks,
        file_title=title,
        ocr_pages=ocr_pages,
    )
