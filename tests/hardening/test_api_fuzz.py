"""Fuzzing: every operation in the OpenAPI document driven by schemathesis (no 5xx, and any error
uses the one error shape), and hypothesis on the search query: any string gives results or a
400, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hardening_support import make_settings, review_bytes, wait_jobs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from search_api.app import create_app


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One app with a few documents indexed, so searches and document routes have data."""
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    app = create_app(
        make_settings(
            data_dir,
            rate_limit_uploads_per_minute=0,
            rate_limit_searches_per_minute=0,
            max_upload_bytes=256 * 1024,
        ),
        worker_threads=1,
        tag_processes=0,
    )
    with TestClient(app) as client:
        files = [("files", (f"r{n}.txt", review_bytes(n), "text/plain")) for n in range(3)]
        jobs = client.post("/api/documents", files=files).json()["jobs"]
        wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [j["id"] for j in jobs], 120)
        yield app


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app)


@pytest.mark.slow
def test_no_operation_answers_5xx(api_schema: Any) -> None:
    """Each operation gets bounded, derandomised examples generated from its schema."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15, "the OpenAPI document lost operations"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=50,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call()
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
                body = response.json()
                assert set(body) == {"error"}, body
                assert set(body["error"]) == {"code", "message"}, body

        check()


@pytest.fixture(scope="module")
def fuzz_client(fuzz_app: FastAPI) -> Iterator[TestClient]:
    # the app's lifespan already runs in fuzz_app; this client only sends requests
    client = TestClient(fuzz_app, raise_server_exceptions=True)
    yield client


QUERY_PIECES = st.sampled_from(
    [
        '"',
        "(",
        ")",
        "*",
        "-",
        "OR",
        "AND",
        "NOT",
        " ",
        "neglect",
        "hidden",
        "NEAR",
        ":",
        "^",
        "'",
        "\\",
        "\x00",
        "é",
        "🙂",
        "{",
        "}",
        "+",
        "~",
        "man*",
        '"hidden man"',
        "CSE",
        "DA",
    ]
)


@pytest.mark.slow
@given(q=st.one_of(st.text(max_size=300), st.lists(QUERY_PIECES, max_size=25).map("".join)))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_query_gives_results_or_400(fuzz_client: TestClient, q: str) -> None:
    response = fuzz_client.get("/api/search", params={"q": q, "limit": 3})
    assert response.status_code in (200, 400), (q, response.status_code)
    body = response.json()
    if response.status_code == 200:
        assert body["total"] >= len(body["hits"])
    else:
        assert body["error"]["code"] == "invalid_query", body
        assert body["error"]["message"]
