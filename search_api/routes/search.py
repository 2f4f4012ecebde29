"""Search over passages: query grammar and filters as `search_api.backend` defines them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from search_api.backend import SearchRequest, SearchResponse
from search_api.deps import BackendDep, FiltersDep, Reader
from search_api.errors import ERROR_RESPONSES

router = APIRouter(tags=["search"], responses=ERROR_RESPONSES)

QUERY_HELP = (
    'Words (all must occur), "exact phrase", OR, NOT or -word, prefix*, (groups). '
    "Empty lists every passage matching the filters."
)


async def search_request(
    filters: FiltersDep,
    q: Annotated[str | None, Query(max_length=1000, description=QUERY_HELP)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=0, le=200)] = 10,
) -> SearchRequest:
    query = q if q is not None and q.strip() else None
    return SearchRequest(query=query, filters=filters, offset=offset, limit=limit)


@router.get("/search", response_model=SearchResponse, dependencies=[Reader])
def search(
    backend: BackendDep,
    request: Annotated[SearchRequest, Depends(search_request)],
) -> Response:
    """Ranked passages with highlights, and facet counts over all matches.
    A malformed query is a 400 whose message says what to fix."""
    # the backend's model is already validated: serialise it once, without a second check
    return Response(backend.search(request).model_dump_json(), media_type="application/json")
