"""Roles on every route: each /api route is walked with no key, a wrong key and each role.

The role table (tests/roles.py) is the single statement of who may do what; a new route fails
`test_every_route_is_in_the_role_table` until it is added there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from roles import API_ROLES
from test_api_support import AppFactory, client_factory, review_bytes, upload


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[AppFactory]:
    yield from client_factory(tmp_path)


KEYS = {"reader": "r-key-5f1c", "uploader": "u-key-93ab", "admin": "a-key-07de"}
API_KEYS = ",".join(f"{role}:{key}" for role, key in KEYS.items())
RANK = {None: 0, "reader": 1, "uploader": 2, "admin": 3}

ROLE_TABLE = API_ROLES


def _routes(client: TestClient) -> list[tuple[str, str]]:
    """Every operation the app publishes in its OpenAPI document."""
    paths = client.get("/api/openapi.json").json()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


def _call(client: TestClient, method: str, path: str, key: str | None) -> int:
    url = re.sub(r"\{fmt\}", "csv", path)
    url = re.sub(r"\{[a-z_]+\}", "0" * 64, url)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if method == "POST" and path == "/api/documents":
        return upload(client, [("r.txt", review_bytes("Role check"))], headers=headers).status_code
    return client.request(method, url, headers=headers).status_code


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client(start_worker=False, api_keys=API_KEYS)


def test_every_route_is_in_the_role_table(client: TestClient) -> None:
    assert sorted(_routes(client)) == sorted(ROLE_TABLE)


@pytest.mark.parametrize(("method", "path"), sorted(ROLE_TABLE))
def test_route_enforces_its_role(client: TestClient, method: str, path: str) -> None:
    needed = ROLE_TABLE[(method, path)]
    # no key, and a key nobody issued
    for key in (None, "not-a-key"):
        status = _call(client, method, path, key)
        if needed is None:
            assert status == 200, (method, path, key)
        else:
            assert status == 401, (method, path, key)
    for role, key in KEYS.items():
        status = _call(client, method, path, key)
        if RANK[role] >= RANK[needed]:
            assert status not in (401, 403), (method, path, role, status)
        else:
            assert status == 403, (method, path, role, status)


def test_refusals_use_the_error_shape_and_challenge(client: TestClient) -> None:
    missing = client.get("/api/search")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong_scheme = client.get("/api/search", headers={"Authorization": f"Basic {KEYS['admin']}"})
    assert wrong_scheme.status_code == 401
    forbidden = client.delete(
        "/api/documents/" + "0" * 64, headers={"Authorization": f"Bearer {KEYS['uploader']}"}
    )
    assert forbidden.status_code == 403
    body = forbidden.json()["error"]
    assert body["code"] == "forbidden" and "admin" in body["message"]
    assert KEYS["uploader"] not in forbidden.text


def test_without_keys_every_caller_is_admin(make_client: AppFactory) -> None:
    client = make_client(start_worker=False)
    assert client.post("/api/admin/reindex").status_code == 202
    assert client.get("/api/search").status_code == 200


def test_malformed_key_setting_fails_at_startup(make_client: AppFactory) -> None:
    with pytest.raises(ValueError, match="role:key"):
        make_client(start_worker=False, api_keys="superuser:abc")
