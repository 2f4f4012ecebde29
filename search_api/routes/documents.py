"""Documents: upload, list, read, download the original, delete."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse

from reviewlens.errors import NotFound, ReviewLensError
from reviewlens.model import Document
from search_api.backend import DocumentPage
from search_api.deps import Admin, BackendDep, FiltersDep, LibraryDep, Reader, Uploader
from search_api.errors import ERROR_RESPONSES, ErrorDetail, error_response
from search_api.schemas import DeleteResponse, UploadItem, UploadResponse
from search_api.service import safe_label
from search_api.storage import is_document_id

router = APIRouter(prefix="/documents", tags=["documents"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=202,
    response_model=UploadResponse,
    dependencies=[Uploader],
    responses={413: ERROR_RESPONSES[422] | {"description": "Too large"}},
)
async def upload(
    library: LibraryDep,
    files: Annotated[list[UploadFile], File(description="One or more files; repeat the field")],
) -> JSONResponse:
    """Keep each file and queue it for extraction, tagging and indexing. Poll the returned job.
    The same bytes uploaded again return the existing document and say `duplicate`."""
    items: list[UploadItem] = []
    first_error: ReviewLensError | None = None
    for upload_file in files:
        label = safe_label(upload_file.filename)
        try:
            submitted = await run_in_threadpool(
                library.submit_stream, upload_file.file, upload_file.filename
            )
        except ReviewLensError as exc:
            first_error = first_error or exc
            items.append(
                UploadItem(
                    id=None,
                    document_id=None,
                    file_name=label,
                    state="failed",
                    error=ErrorDetail(code=exc.code, message=exc.message),
                )
            )
            continue
        finally:
            await upload_file.close()
        items.append(
            UploadItem(
                id=submitted.job.id,
                document_id=submitted.job.document_id,
                file_name=label,
                state=submitted.job.state,
                duplicate=submitted.duplicate,
                error=ErrorDetail(code=submitted.job.error_code, message=submitted.job.error)
                if submitted.job.error_code and submitted.job.error
                else None,
            )
        )
    if first_error is not None and all(item.id is None for item in items):
        # nothing was accepted: answer with the reason rather than a 202
        return error_response(first_error.http_status, first_error.code, first_error.message)
    return JSONResponse(UploadResponse(jobs=items).model_dump(mode="json"), status_code=202)


@router.get("", response_model=DocumentPage, dependencies=[Reader])
def list_documents(
    backend: BackendDep,
    filters: FiltersDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DocumentPage:
    """Indexed documents, newest first, filtered like search."""
    return backend.list_documents(filters, offset=offset, limit=limit)


@router.get("/{document_id}", response_model=Document, dependencies=[Reader])
def get_document(document_id: str, library: LibraryDep) -> Document:
    """Metadata, sections, tagged passages and recommendations of one document."""
    if not is_document_id(document_id):
        raise NotFound("No such document.")
    doc = library.backend.get_document(document_id)
    if doc is not None:
        return doc
    jobs = library.jobs.recent(document_id=document_id, kind="ingest", limit=1)
    if jobs and jobs[0].state not in ("done", "failed"):
        raise NotFound(f"The document is not searchable yet (its job is {jobs[0].state}).")
    if jobs and jobs[0].state == "failed":
        raise NotFound("The document failed to process; see its job for the reason.")
    raise NotFound("No such document.")


_MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "htm": "text/html",
    "txt": "text/plain",
    "md": "text/markdown",
}


def content_disposition(label: str) -> str:
    """An attachment header that no file name can break out of: an ASCII fallback plus the
    RFC 5987 UTF-8 form."""
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", label).strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(label, safe='')}"


@router.get(
    "/{document_id}/original",
    dependencies=[Reader],
    response_class=FileResponse,
    responses={200: {"description": "The file as uploaded", "content": {"*/*": {}}}},
)
def download_original(document_id: str, library: LibraryDep) -> FileResponse:
    """The original file, always as an attachment (an uploaded HTML page is never rendered)."""
    known = library.jobs.original(document_id) if is_document_id(document_id) else None
    if known is None or not library.store.exists(document_id):
        raise NotFound("No such document.")
    label, _size = known
    doc = library.backend.get_document(document_id)
    media_type = doc.media_type if doc is not None else None
    if not media_type:
        media_type = _MEDIA_TYPES.get(label.rpartition(".")[2].lower(), "application/octet-stream")
    return FileResponse(
        library.store.path(document_id),
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(label),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


@router.delete("/{document_id}", response_model=DeleteResponse, dependencies=[Admin])
def delete_document(document_id: str, library: LibraryDep) -> DeleteResponse:
    """Remove the document from the index, its kept original and its jobs."""
    library.delete(document_id)
    return DeleteResponse(deleted=document_id)
