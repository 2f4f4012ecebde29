"""Export: search hits and theme frequency as CSV or XLSX, with the same parameters as the JSON
endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from search_api.backend import GroupBy, SearchRequest
from search_api.deps import BackendDep, BaseFiltersDep, LibraryDep, Reader, ThemesParam
from search_api.errors import ERROR_RESPONSES
from search_api.export import (
    FREQUENCY_HEADER,
    SEARCH_HEADER,
    csv_stream,
    frequency_rows,
    search_rows,
    xlsx_bytes,
)
from search_api.routes.search import search_request

router = APIRouter(prefix="/export", tags=["export"], responses=ERROR_RESPONSES)

Format = Literal["csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/csv": {}, XLSX: {}}, "description": "The table as a file"}
}


def _file(name: str, fmt: Format, header: list[str], rows: list[list[object]]) -> Response:
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return StreamingResponse(
            csv_stream(header, rows), media_type="text/csv; charset=utf-8", headers=disposition
        )
    return Response(xlsx_bytes(name, header, rows), media_type=XLSX, headers=disposition)


@router.get(
    "/search.{fmt}", dependencies=[Reader], response_class=Response, responses=_FILE_RESPONSES
)
async def export_search(
    fmt: Format,
    backend: BackendDep,
    request: Annotated[SearchRequest, Depends(search_request)],
) -> Response:
    """Every hit of the search (up to 10,000), one row per passage."""
    # run the whole search before answering, so a malformed query is still a 400
    rows = await run_in_threadpool(lambda: list(search_rows(backend, request)))
    return _file("search", fmt, SEARCH_HEADER, rows)


@router.get(
    "/frequency.{fmt}", dependencies=[Reader], response_class=Response, responses=_FILE_RESPONSES
)
async def export_frequency(
    fmt: Format,
    backend: BackendDep,
    library: LibraryDep,
    filters: BaseFiltersDep,
    by: GroupBy = "year",
    theme: ThemesParam = [],  # noqa: B006
) -> Response:
    """The theme frequency table, one row per theme and group."""
    taxonomy = library.taxonomy
    labels = {t.id: t.label for t in taxonomy.themes} if taxonomy is not None else {}
    freq = await run_in_threadpool(backend.theme_frequency, by, filters, theme or None)
    return _file(f"frequency-by-{by}", fmt, FREQUENCY_HEADER, list(frequency_rows(freq, labels)))
