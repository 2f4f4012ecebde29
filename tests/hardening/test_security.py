"""Security: roles on every route the app serves, rate limits, headers, no auth cookies, and no
document text or stack trace in error bodies or logs."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hardening_support import API_KEYS, KEYS, AppFactory, review_bytes, wait_jobs
from roles import API_ROLES, OPEN_ROUTES
from starlette.routing import Route

RANK: dict[str | None, int] = {None: 0, "reader": 1, "uploader": 2, "admin": 3}
PUBLIC = "public"

# Every (method, path) the app serves -> who may call it; PUBLIC needs no key. A route added
# without a line in tests/roles.py fails test_every_served_route_has_a_rule.
RULES: dict[tuple[str, str], str] = {
    **{route: role or PUBLIC for route, role in API_ROLES.items()},
    **dict.fromkeys(OPEN_ROUTES, PUBLIC),
}

SAMPLE = {"document_id": "0" * 64, "job_id": "0" * 32, "fmt": "csv", "name": "app.css"}


def _served(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) in app.routes, pages and routes hidden from OpenAPI included
    (routers mounted with include_router appear as one entry holding their routes)."""
    found: list[tuple[str, str]] = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if hasattr(route, "effective_candidates"):
            entries = [(c.methods, c.path) for c in route.effective_candidates()]
        else:
            assert isinstance(route, APIRoute | Route), f"unexpected route type {type(route)}"
            entries = [(route.methods, route.path)]
        for methods, path in entries:
            found += [(m, path) for m in sorted(methods or ()) if m != "HEAD"]
    return found


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    url = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)
    if method == "POST" and path == "/api/documents":
        files = [("files", ("r.txt", review_bytes(1), "text/plain"))]
        return client.post(url, files=files, headers=headers)
    return client.request(method, url, headers=headers, follow_redirects=False)


@pytest.fixture
def keyed(make_client: AppFactory) -> TestClient:
    return make_client(start_worker=False, api_keys=API_KEYS)


def test_every_served_route_has_a_rule(keyed: TestClient) -> None:
    served = set(_served(keyed))
    assert served - set(RULES) == set(), "routes without a role rule"
    assert set(RULES) - served == set(), "rules for routes that no longer exist"


@pytest.mark.parametrize(("method", "path"), sorted(RULES))
def test_each_role_on_each_route(keyed: TestClient, method: str, path: str) -> None:
    rule = RULES[(method, path)]
    callers: list[tuple[str | None, dict[str, str]]] = [
        (None, {}),
        (None, {"Authorization": "Bearer not-a-configured-key"}),
        (None, {"Authorization": f"Basic {KEYS['admin']}"}),  # right key, wrong scheme
    ]
    callers += [(role, {"Authorization": f"Bearer {key}"}) for role, key in KEYS.items()]
    for role, headers in callers:
        status = _call(keyed, method, path, headers).status_code
        assert status < 500, (method, path, role, status)
        if rule == PUBLIC:
            assert status not in (401, 403), (method, path, role, status)
        elif role is None:
            assert status == 401, (method, path, headers, status)
        elif RANK[role] < RANK[rule]:
            assert status == 403, (method, path, role, status)
        else:
            assert status not in (401, 403), (method, path, role, status)


def test_no_route_sets_a_cookie_and_cookies_grant_nothing(keyed: TestClient) -> None:
    for method, path in _served(keyed):
        response = _call(keyed, method, path, {"Authorization": f"Bearer {KEYS['admin']}"})
        assert "set-cookie" not in response.headers, (method, path)
    # a forged cross-site request can carry cookies but not a header: it must get nowhere
    cookies = {
        "Authorization": f"Bearer {KEYS['admin']}",
        "session": KEYS["admin"],
        "api_key": KEYS["admin"],
    }
    keyed.cookies.update(cookies)
    try:
        for method, path in RULES:
            if method in ("POST", "DELETE", "PUT", "PATCH"):
                assert _call(keyed, method, path, {}).status_code == 401, (method, path)
    finally:
        keyed.cookies.clear()


# -- rate limits ---------------------------------------------------------------------------------


def test_searches_are_rate_limited_per_key(make_client: AppFactory) -> None:
    client = make_client(start_worker=False, api_keys=API_KEYS, rate_limit_searches_per_minute=5)
    reader = {"Authorization": f"Bearer {KEYS['reader']}"}
    statuses = [client.get("/api/search", params={"q": "neglect"}, headers=reader).status_code]
    statuses += [
        client.get("/api/search", params={"q": "neglect"}, headers=reader).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429], statuses
    refused = client.get("/api/export/search.csv", params={"q": "x"}, headers=reader)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["content-security-policy"]
    # another key has its own allowance, and reading other resources is not limited
    admin = {"Authorization": f"Bearer {KEYS['admin']}"}
    assert client.get("/api/search", params={"q": "neglect"}, headers=admin).status_code == 200
    assert client.get("/api/themes", headers=reader).status_code == 200


def test_uploads_are_rate_limited_per_address(make_client: AppFactory) -> None:
    client = make_client(start_worker=False, rate_limit_uploads_per_minute=2)
    statuses = [
        client.post(
            "/api/documents", files=[("files", (f"r{n}.txt", review_bytes(n), "text/plain"))]
        ).status_code
        for n in range(3)
    ]
    assert statuses == [202, 202, 429]


# -- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/health"),
        ("GET", "/api/search?q=neglect"),
        ("GET", "/api/search?q=%22unclosed"),
        ("GET", "/api/documents/" + "f" * 64),
        ("GET", "/api/nowhere"),
        ("GET", "/api/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/search"),
        ("GET", "/documents/" + "f" * 64),
        ("GET", "/static/app.css"),
        ("POST", "/api/admin/reindex"),
    ],
)
def test_security_headers_everywhere(make_client: AppFactory, method: str, path: str) -> None:
    client = make_client(start_worker=False)
    response = client.request(method, path)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["referrer-policy"] == "no-referrer", path
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy, path
    assert headers["x-frame-options"] == "DENY", path
    assert "unsafe-inline" not in policy or path == "/docs", path


def test_early_413_carries_the_headers_and_error_shape(make_client: AppFactory) -> None:
    client = make_client(start_worker=False, max_upload_bytes=1000)
    response = client.post(
        "/api/documents", files=[("files", ("big.txt", b"x" * 200_000, "text/plain"))]
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


# -- nothing sensitive in bodies or logs ---------------------------------------------------------

SENTINEL = "Quillerby the lodger kept the toddler in a locked box room near Pellingford weir."
SENTINEL_WORDS = ("Quillerby", "Pellingford")


def test_document_text_never_reaches_the_logs(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    data = review_bytes(3, marker=SENTINEL)
    item = client.post("/api/documents", files=[("files", ("q.txt", data, "text/plain"))]).json()
    job_id = item["jobs"][0]["id"]
    job = wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [job_id], 120)[job_id]
    assert job["state"] == "done", job
    found = client.get("/api/search", params={"q": "Quillerby Pellingford"}).json()
    assert found["total"] >= 1  # the text was really indexed
    client.get("/api/search", params={"q": '"Quillerby lodger'})  # malformed, a 400
    client.get(f"/api/documents/{item['jobs'][0]['document_id']}")
    client.get("/api/export/search.csv", params={"q": "Pellingford"})
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.args!r}"
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))  # the test's own client
    )
    assert caplog.records, "nothing was logged at all, so this test would prove nothing"
    for word in SENTINEL_WORDS:
        assert word.lower() not in logged.lower(), f"{word} appeared in the logs"


def test_internal_error_is_generic_and_never_leaks(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Break the backend so search raises with document text in the message. With
    raise_server_exceptions the test client would re-raise anything that escaped the app."""
    caplog.set_level(logging.DEBUG)
    client = make_client(start_worker=False)
    client.__exit__(None, None, None)
    library = client.app.state.library  # type: ignore[attr-defined]

    def broken_search(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"index page corrupt near: {SENTINEL}")

    strict = TestClient(client.app, raise_server_exceptions=True)
    with strict:
        library.backend.search = broken_search  # the fault: a real exception from inside
        response = strict.get("/api/search", params={"q": "neglect"})
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Internal server error."}
    }
    assert response.headers["content-security-policy"]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "RuntimeError" in logged  # the failure is still visible to whoever runs the server
    assert "Quillerby" not in logged and "Traceback" not in logged
