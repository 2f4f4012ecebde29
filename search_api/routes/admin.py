"""Admin: rebuild the index from the kept originals."""

from __future__ import annotations

from fastapi import APIRouter

from search_api.deps import Admin, LibraryDep
from search_api.errors import ERROR_RESPONSES
from search_api.jobs import Job

router = APIRouter(prefix="/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.post(
    "/reindex",
    response_model=Job,
    status_code=202,
    dependencies=[Admin],
    responses={409: ERROR_RESPONSES[400] | {"description": "A reindex is already running"}},
)
def reindex(library: LibraryDep) -> Job:
    """Re-extract and re-tag every kept original (after a taxonomy change, say) into a new index;
    searches keep answering from the old one until the new one is swapped in. Poll the job."""
    return library.reindex()
