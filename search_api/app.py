"""The FastAPI application: `create_app(settings)` builds it, `reviewlens serve` runs it.

Everything the routes need hangs off `app.state` (settings, the library, the worker) and is
reached through `search_api.deps`, so tests build as many independent apps as they like.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version as _dist_version
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviewlens.settings import Settings, get_settings
from search_api.errors import ApiError, ErrorBody, ErrorDetail, install_error_handlers
from search_api.routes import ROUTERS
from search_api.security import install_security
from search_api.service import Library
from search_api.web import router as web_router
from search_api.worker import Worker

log = logging.getLogger("reviewlens.api")

# multipart framing around the files themselves
MULTIPART_SLACK = 64 * 1024

DESCRIPTION = """Search and count the learning in safeguarding reviews.

Send an API key as `Authorization: Bearer KEY`. Roles: **reader** (search, view), **uploader**
(+ upload, retry), **admin** (+ delete, reindex). With no keys configured the server listens on
loopback only and every caller is an admin.

Every error has one shape: `{"error": {"code": "...", "message": "..."}}`.
"""


class _TooLarge(ApiError):
    """Raised from inside body reading; an HTTP error so the form parser passes it on."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, "payload_too_large", f"The upload is larger than the limit of {limit} bytes."
        )


class UploadLimit:
    """Refuse a body over the limit with 413: at once when Content-Length says so (before a
    byte of the body is read), otherwise as soon as the streamed body passes it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes + MULTIPART_SLACK
        self.limit_label = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = ErrorBody(
            error=ErrorDetail(
                code="payload_too_large",
                message=f"The upload is larger than the limit of {self.limit_label} bytes.",
            )
        ).model_dump_json()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._refuse(send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.limit_label)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)


class Headers:
    """Security headers on every response, and one access-log line with no query text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def add_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                ):
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, add_headers)
        finally:
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - start) * 1000,
            )


def create_app(
    settings: Settings | None = None,
    *,
    start_worker: bool = True,
    worker_threads: int | None = None,
    tag_processes: int | None = None,
) -> FastAPI:
    """Build the app over one data folder. The worker starts and stops with the app's lifespan
    (so `with TestClient(app)` runs it too); `start_worker=False` leaves jobs queued."""
    settings = settings or get_settings()
    api_keys = settings.parsed_api_keys()
    library = Library(settings)
    worker = (
        Worker(library, threads=worker_threads, tag_processes=tag_processes)
        if start_worker
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            library.close()

    app = FastAPI(
        title="ReviewLens",
        version=_dist_version("reviewlens"),
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.library = library
    app.state.worker = worker
    app.state.api_keys = api_keys
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix="/api")
    app.include_router(web_router)
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(Headers)
    install_security(app, settings)
    return app


def app_factory() -> Any:
    """For `uvicorn --factory search_api.app:app_factory`."""
    return create_app()
