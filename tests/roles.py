"""Who may call what: the one statement of the role table that the role tests walk.

A route added to the app without a line here fails the tests that compare this table with the
routes the app serves.
"""

from __future__ import annotations

# (method, path) of every /api operation -> least role; None means no key is needed
API_ROLES: dict[tuple[str, str], str | None] = {
    ("GET", "/api/health"): None,
    ("POST", "/api/documents"): "uploader",
    ("GET", "/api/documents"): "reader",
    ("GET", "/api/documents/{document_id}"): "reader",
    ("GET", "/api/documents/{document_id}/original"): "reader",
    ("DELETE", "/api/documents/{document_id}"): "admin",
    ("GET", "/api/jobs"): "reader",
    ("GET", "/api/jobs/{job_id}"): "reader",
    ("POST", "/api/jobs/{job_id}/retry"): "uploader",
    ("GET", "/api/search"): "reader",
    ("GET", "/api/themes"): "reader",
    ("GET", "/api/themes/frequency"): "reader",
    ("GET", "/api/themes/cooccurrence"): "reader",
    ("GET", "/api/themes/emerging"): "reader",
    ("GET", "/api/recommendations"): "reader",
    ("GET", "/api/export/search.{fmt}"): "reader",
    ("GET", "/api/export/frequency.{fmt}"): "reader",
    ("POST", "/api/admin/reindex"): "admin",
}

# served outside OpenAPI and open to all: the pages are shells whose data all comes from the API
# with the caller's key; /web/whoami reports the role of the presented key and grants nothing
OPEN_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/"),
        ("GET", "/search"),
        ("GET", "/dashboard"),
        ("GET", "/upload"),
        ("GET", "/admin"),
        ("GET", "/recommendations"),
        ("GET", "/documents/{document_id}"),
        ("GET", "/static/{name}"),
        ("GET", "/web/whoami"),
        ("GET", "/api/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
    }
)
