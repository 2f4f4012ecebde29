"""Search hits and frequency tables as CSV and XLSX, for business plans and quarterly profiles.

Spreadsheet programs run a cell that starts with `=`, `+`, `-` or `@` as a formula, and review
text can start that way; CSV cells are defused with a leading apostrophe and XLSX cells are
written as plain strings, so an exported passage is only ever text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from search_api.backend import FrequencyRow, SearchBackend, SearchRequest

MAX_EXPORT_HITS = 10_000
PAGE = 500

SEARCH_HEADER = [
    "document_id",
    "title",
    "doc_type",
    "year",
    "page",
    "paragraph",
    "section",
    "section_kind",
    "stance",
    "themes",
    "agencies",
    "text",
]
FREQUENCY_HEADER = ["theme", "label", "key", "documents", "passages"]

Row = list[Any]


def search_rows(
    backend: SearchBackend, request: SearchRequest, cap: int = MAX_EXPORT_HITS
) -> Iterator[Row]:
    """Every hit of a search (up to `cap`), paging through the backend."""
    offset, sent = request.offset, 0
    while sent < cap:
        page = backend.search(
            request.model_copy(
                update={"offset": offset, "limit": min(PAGE, cap - sent), "facets": False}
            )
        )
        for hit in page.hits:
            yield [
                hit.document_id,
                hit.title,
                hit.doc_type,
                hit.year,
                hit.page,
                hit.paragraph,
                hit.section,
                hit.section_kind,
                hit.stance,
                "; ".join(hit.themes),
                "; ".join(hit.agencies),
                hit.text,
            ]
        sent += len(page.hits)
        offset += len(page.hits)
        if not page.hits or offset >= page.total:
            return


def frequency_rows(rows: Iterable[FrequencyRow], labels: dict[str, str]) -> Iterator[Row]:
    for row in rows:
        yield [row.theme, labels.get(row.theme, row.theme), row.key, row.documents, row.passages]


def _defuse(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_stream(header: list[str], rows: Iterable[Row]) -> Iterator[str]:
    """CSV text in chunks, with a BOM so spreadsheet programs read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow(["" if v is None else _defuse(v) for v in row])
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(sheet: str, header: list[str], rows: Iterable[Row]) -> bytes:
    """A one-sheet workbook with a bold header row and every string written as text."""
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet[:31])
    bold = Font(bold=True)
    header_cells = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"
            else:
                cell = WriteOnlyCell(ws, value=value)
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
