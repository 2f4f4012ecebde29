"""Health: which part is up, for a load balancer and for a person reading it."""

from __future__ import annotations

import shutil

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from search_api.deps import LibraryDep
from search_api.schemas import HealthResponse, PartHealth

router = APIRouter(tags=["health"])

_SHOWN = ("backend", "documents", "passages")


@router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def health(request: Request, library: LibraryDep) -> JSONResponse:
    """No key needed. 200 when every part is up, 503 naming the part that is down."""
    parts: dict[str, PartHealth] = {}
    try:
        backend_info = library.backend.health()
        ok = backend_info.get("status") == "ok"
        parts["backend"] = PartHealth(
            ok=ok,
            detail=None if ok else "unavailable",
            info={
                k: v for k, v in backend_info.items() if k in ("backend", "documents", "passages")
            },
        )
    except Exception as exc:
        parts["backend"] = PartHealth(ok=False, detail=type(exc).__name__)
    try:
        library.jobs.ping()
        parts["jobs"] = PartHealth(ok=True, info=library.jobs.counts())
    except Exception as exc:
        parts["jobs"] = PartHealth(ok=False, detail=type(exc).__name__)
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        alive = worker.alive()
        parts["worker"] = PartHealth(ok=alive, detail=None if alive else "not running")
    free = shutil.disk_usage(library.data_dir).free
    parts["storage"] = PartHealth(
        ok=free > 100 * 1024 * 1024,
        detail=None if free > 100 * 1024 * 1024 else "less than 100 MB free",
        info={"free_bytes": free},
    )
    taxonomy = library.taxonomy
    parts["taxonomy"] = PartHealth(
        ok=taxonomy is not None,
        detail=None if taxonomy is not None else "could not be loaded",
        info={"version": taxonomy.version} if taxonomy is not None else {},
    )
    status = "ok" if all(p.ok for p in parts.values()) else "degraded"
    body = HealthResponse(status=status, parts=parts)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if status == "ok" else 503)
