"""Protections that wrap the whole app: rate limits, a content security policy on every response,
and a last-resort catch that answers an unexpected failure with a generic 500.

They are plain ASGI middleware so they also cover the pages, static files, the OpenAPI document
and the early refusals of `UploadLimit`. `install_security(app, settings)` mounts them; it is
called last in `create_app`, which makes these the outermost layers of the user stack.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviewlens.settings import Settings
from search_api.errors import ErrorBody, ErrorDetail

log = logging.getLogger("reviewlens.api")

# JSON, files and errors: nothing may run, load or frame them
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# the interactive OpenAPI page loads Swagger UI from its CDN and starts it with an inline script
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


def _json_error(status: int, code: str, message: str) -> bytes:
    return ErrorBody(error=ErrorDetail(code=code, message=message)).model_dump_json().encode()


async def _send_json(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """A CSP on every response that does not set its own (pages set a stricter one), plus the
    headers no response should be without, errors and early refusals included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] == "/docs" else API_POLICY

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", policy.encode()))
                headers.extend(pair for pair in ALWAYS if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add_headers)


class GenericErrors:
    """Answer an exception no handler took with the generic 500, and stop it there.

    Starlette's outermost layer would answer the same body but then re-raise, and the server
    would log the traceback, whose message can quote a passage or a query. Here only the type
    name is logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            log.error(
                "internal error on %s %s: %s", scope["method"], scope["path"], type(exc).__name__
            )
            if not started:
                body = _json_error(500, "internal_error", "Internal server error.")
                await _send_json(send, 500, body)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Per-client token buckets: `per_minute` requests a minute, with bursts up to that many."""

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= self.max_clients:
                    self._forget_full(now)
                bucket = self._buckets[client] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop clients whose bucket has refilled: they would start full anyway."""
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.capacity:
                del self._buckets[key]
        if len(self._buckets) >= self.max_clients:
            self._buckets.clear()


# (method, path pattern, bucket name): the calls that cost the most
_LIMITED: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^/api/documents/?$"), "uploads"),
    ("GET", re.compile(r"^/api/search/?$"), "searches"),
    ("GET", re.compile(r"^/api/export/search\.[a-z]+$"), "searches"),
)


def client_identity(scope: Scope) -> str:
    """The API key if one is sent (hashed, so no key sits in memory as a dict key), otherwise
    the peer address. Forwarded-for headers are not trusted: anyone can write them."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return "key:" + hashlib.sha256(value.strip()).hexdigest()[:32]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RateLimit:
    """429 with Retry-After once a client has used up its uploads or searches for now."""

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.buckets = {name: TokenBuckets(n) for name, n in limits.items() if n > 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.buckets:
            for method, pattern, name in _LIMITED:
                buckets = self.buckets.get(name)
                if buckets is None or scope["method"] != method or not pattern.match(scope["path"]):
                    continue
                wait = buckets.take(client_identity(scope))
                if wait > 0:
                    seconds = max(1, math.ceil(wait))
                    body = _json_error(
                        429,
                        "too_many_requests",
                        f"Too many {name} from this client; try again in {seconds} s.",
                    )
                    await _send_json(send, 429, body, [(b"retry-after", str(seconds).encode())])
                    return
                break
        await self.app(scope, receive, send)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Mount the layers; the last added is the outermost, so headers also reach a 429 or 500."""
    app.add_middleware(
        RateLimit,
        limits={
            "uploads": settings.rate_limit_uploads_per_minute,
            "searches": settings.rate_limit_searches_per_minute,
        },
    )
    app.add_middleware(GenericErrors)
    app.add_middleware(SecurityHeaders)
