"""Jobs: what happened to each upload, including every failure and its reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from search_api.deps import LibraryDep, Reader, Uploader
from search_api.errors import ERROR_RESPONSES
from search_api.jobs import Job, JobKind, JobState
from search_api.schemas import JobList

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


@router.get("", response_model=JobList, dependencies=[Reader])
def list_jobs(
    library: LibraryDep,
    state: JobState | None = None,
    kind: JobKind | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JobList:
    """Recent jobs, newest activity first; `state=failed` lists failures with their reasons."""
    jobs = library.jobs.recent(state=state, kind=kind, offset=offset, limit=limit)
    return JobList(jobs=jobs, counts=library.jobs.counts())


@router.get("/{job_id}", response_model=Job, dependencies=[Reader])
def get_job(job_id: str, library: LibraryDep) -> Job:
    """One job; `state` ends as `done` or `failed` (then `error` says why)."""
    return library.jobs.get(job_id)


@router.post(
    "/{job_id}/retry",
    response_model=Job,
    status_code=202,
    dependencies=[Uploader],
    responses={409: ERROR_RESPONSES[400] | {"description": "The job has not failed"}},
)
def retry_job(job_id: str, library: LibraryDep) -> Job:
    """Queue a failed file again, alone."""
    job = library.jobs.retry(job_id)
    library.notify()
    return job
