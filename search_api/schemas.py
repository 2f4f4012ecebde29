"""Response models of the API where they are not the backend's own models. These shapes are what
users' scripts rely on; add fields, never rename or remove them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from search_api.backend import CooccurrenceCell, FrequencyRow, GroupBy
from search_api.errors import ErrorDetail
from search_api.jobs import Job, JobState


class UploadItem(BaseModel):
    """One uploaded file. A refused file has no job: `state` is failed and `error` says why."""

    id: str | None = Field(description="Job id to poll at /api/jobs/{id}")
    document_id: str | None = Field(description="SHA-256 of the file's bytes")
    file_name: str
    state: JobState
    duplicate: bool = Field(False, description="These bytes were uploaded before")
    error: ErrorDetail | None = None


class UploadResponse(BaseModel):
    jobs: list[UploadItem]


class JobList(BaseModel):
    jobs: list[Job]
    counts: dict[str, int] = Field(description="Document jobs per state")


class DeleteResponse(BaseModel):
    deleted: str


class ThemeOut(BaseModel):
    id: str
    label: str
    group: str
    description: str
    phrases: list[str]
    abbreviations: dict[str, list[str]]


class ThemesResponse(BaseModel):
    version: str
    groups: dict[str, str]
    themes: list[ThemeOut]


class FrequencyResponse(BaseModel):
    by: GroupBy
    rows: list[FrequencyRow]


class CooccurrenceResponse(BaseModel):
    cells: list[CooccurrenceCell]


class PartHealth(BaseModel):
    ok: bool
    detail: str | None = None
    info: dict[str, Any] = Field(default_factory=dict)


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    parts: dict[str, PartHealth]
