"""Routes for the pages, their static files and a role probe, all under one security policy.

The pages authenticate nothing themselves: the key stays in the browser's sessionStorage and goes
to `/api` as a Bearer header, so there is no cookie and no CSRF surface. Every response from this
router carries a Content-Security-Policy without inline scripts; that is why all JavaScript lives
in static files and templates pass values only through escaped data attributes.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates

from search_api.deps import role_of
from search_api.storage import is_document_id

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # charts become PNGs by drawing an SVG data URL on a canvas; downloads use blob URLs
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class PageRoute(APIRoute):
    """Adds the page security headers to every response of this router, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            for name, value in PAGE_HEADERS.items():
                response.headers[name] = value
            return response

        return with_headers


router = APIRouter(route_class=PageRoute, include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.autoescape = True


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str


def _load_static() -> dict[str, StaticFile]:
    """Read the static folder once. Serving only names found here means no request path ever
    reaches the file system."""
    files: dict[str, StaticFile] = {}
    for path in sorted(STATIC_DIR.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        body = path.read_bytes()
        media_type = {
            ".js": "text/javascript; charset=utf-8",
            ".css": "text/css; charset=utf-8",
            ".svg": "image/svg+xml",
        }.get(path.suffix) or (mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        files[path.name] = StaticFile(body, media_type, etag)
    return files


STATIC = _load_static()
# appended to static URLs so a new release is never served from an old cache
ASSET_VERSION = hashlib.sha256(b"".join(f.etag.encode() for f in STATIC.values())).hexdigest()[:10]

NAV = [
    ("search", "/search", "Search"),
    ("dashboard", "/dashboard", "Theme dashboard"),
    ("recommendations", "/recommendations", "Recommendations"),
    ("upload", "/upload", "Upload"),
    ("admin", "/admin", "Administration"),
]


def _page(request: Request, name: str, active: str, title: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {"active": active, "title": title, "nav": NAV, "v": ASSET_VERSION, **context},
    )


@router.get("/static/{name}")
def static_file(name: str, request: Request) -> Response:
    found = STATIC.get(name)
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    headers = {"ETag": found.etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/search", status_code=307)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    return _page(request, "search.html", "search", "Search")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request) -> HTMLResponse:
    return _page(request, "dashboard.html", "dashboard", "Theme dashboard")


@router.get("/recommendations", response_class=HTMLResponse)
def recommendations_page(request: Request) -> HTMLResponse:
    return _page(request, "recommendations.html", "recommendations", "Recommendations")


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request) -> HTMLResponse:
    return _page(request, "upload.html", "upload", "Upload")


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> HTMLResponse:
    return _page(request, "admin.html", "admin", "Administration")


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: str) -> HTMLResponse:
    if not is_document_id(document_id):
        response = _page(request, "not_found.html", "", "Not found")
        response.status_code = 404
        return response
    return _page(request, "document.html", "", "Document", document_id=document_id)


_bearer = HTTPBearer(auto_error=False)


@router.get("/web/whoami")
def whoami(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> JSONResponse:
    """The role of the presented key, so pages show only the actions it may take. It grants
    nothing: every action is still checked by the API route that performs it."""
    keys: dict[str, str] = request.app.state.api_keys
    if not keys:
        return JSONResponse({"role": "admin", "keys_required": False})
    role = role_of(keys, credentials.credentials) if credentials is not None else None
    return JSONResponse({"role": role, "keys_required": True})
