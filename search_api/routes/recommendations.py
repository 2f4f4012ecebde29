"""Recommendations as records of their own, each with the most similar ones made elsewhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from search_api.backend import RecommendationPage
from search_api.deps import BackendDep, BaseFiltersDep, Reader
from search_api.errors import ERROR_RESPONSES

router = APIRouter(tags=["recommendations"], responses=ERROR_RESPONSES)


@router.get("/recommendations", response_model=RecommendationPage, dependencies=[Reader])
def recommendations(
    backend: BackendDep,
    filters: BaseFiltersDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    similar: Annotated[int, Query(ge=0, le=20)] = 3,
) -> RecommendationPage:
    """Recommendations of matching documents, so the same one made again and again is seen."""
    return backend.recommendations(filters, offset=offset, limit=limit, similar=similar)
