"""One module per resource; `ROUTERS` is what the app mounts under /api."""

from __future__ import annotations

from fastapi import APIRouter

from search_api.routes import (
    admin,
    documents,
    export,
    health,
    jobs,
    recommendations,
    search,
    themes,
)

ROUTERS: list[APIRouter] = [
    health.router,
    documents.router,
    jobs.router,
    search.router,
    themes.router,
    recommendations.router,
    export.router,
    admin.router,
]
