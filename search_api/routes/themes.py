"""Themes: the taxonomy, and how often each theme comes up and with what."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from reviewlens.errors import TaxonomyError
from search_api.backend import (
    EmergingRequest,
    EmergingResponse,
    Filters,
    GroupBy,
    SearchBackend,
    SearchRequest,
)
from search_api.deps import BackendDep, BaseFiltersDep, FiltersDep, LibraryDep, Reader, ThemesParam
from search_api.errors import ERROR_RESPONSES, ApiError
from search_api.schemas import CooccurrenceResponse, FrequencyResponse, ThemeOut, ThemesResponse

router = APIRouter(prefix="/themes", tags=["themes"], responses=ERROR_RESPONSES)


@router.get("", response_model=ThemesResponse, dependencies=[Reader])
def list_themes(library: LibraryDep) -> ThemesResponse:
    """The taxonomy passages are tagged against, with its version."""
    taxonomy = library.taxonomy
    if taxonomy is None:
        raise TaxonomyError("The taxonomy could not be loaded; see the server log.")
    return ThemesResponse(
        version=taxonomy.version,
        groups=taxonomy.groups,
        themes=[
            ThemeOut(
                id=theme.id,
                label=theme.label,
                group=theme.group,
                description=theme.description,
                phrases=theme.phrases,
                abbreviations=theme.abbreviations,
            )
            for theme in taxonomy.themes
        ],
    )


def frequency(
    backend: SearchBackend, by: GroupBy, filters: Filters, themes: list[str]
) -> FrequencyResponse:
    rows = backend.theme_frequency(by, filters, themes or None)
    return FrequencyResponse(by=by, rows=rows)


@router.get("/frequency", response_model=FrequencyResponse, dependencies=[Reader])
def theme_frequency(
    backend: BackendDep,
    filters: BaseFiltersDep,
    by: GroupBy = "year",
    theme: ThemesParam = [],  # noqa: B006
) -> FrequencyResponse:
    """Documents and passages per theme and group; a theme counts once per document however
    often it appears there. `theme` limits which themes get rows."""
    return frequency(backend, by, filters, theme)


@router.get("/cooccurrence", response_model=CooccurrenceResponse, dependencies=[Reader])
def cooccurrence(backend: BackendDep, filters: FiltersDep) -> CooccurrenceResponse:
    """Pairs of themes tagged on the same passage."""
    return CooccurrenceResponse(cells=backend.cooccurrence(filters))


def _year_span(backend: SearchBackend, filters: Filters) -> tuple[int, int] | None:
    facets = backend.search(
        SearchRequest(query=None, filters=filters, limit=0, facets=True, facet_size=500)
    ).facets
    years = [int(y) for y in facets.get("year", {}) if y.isdigit()]
    return (min(years), max(years)) if years else None


@router.get("/emerging", response_model=EmergingResponse, dependencies=[Reader])
def emerging(
    backend: BackendDep,
    filters: FiltersDep,
    recent_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    recent_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    baseline_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    baseline_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    min_count: Annotated[int, Query(ge=1, le=1_000_000)] = 3,
) -> EmergingResponse:
    """Terms and themes over-represented in a recent period against a baseline. By default the
    latest year in the library against every year before it."""
    span = None
    if None in (recent_from, recent_to, baseline_from, baseline_to):
        span = _year_span(backend, filters.model_copy(update={"year_from": None, "year_to": None}))
        if span is None:
            raise ApiError(
                400, "no_years", "No indexed document has a year; give the periods explicitly."
            )
    first, last = span or (0, 0)
    r_to = recent_to if recent_to is not None else last
    r_from = recent_from if recent_from is not None else r_to
    b_to = baseline_to if baseline_to is not None else r_from - 1
    b_from = baseline_from if baseline_from is not None else min(first, b_to)
    if r_from > r_to or b_from > b_to:
        raise ApiError(400, "invalid_parameter", "A period starts after it ends.")
    return backend.emerging(
        EmergingRequest(
            recent_from=r_from,
            recent_to=r_to,
            baseline_from=b_from,
            baseline_to=b_to,
            filters=filters,
            limit=limit,
            min_count=min_count,
        )
    )
