"""Shared pieces of the hardening tests: settings over a private data folder, in-process apps,
a real server process on a loopback port, fictional review text, and an audit of the data folder
that says whether anything was left behind.

All sample text is fictional and written for these tests.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from reviewlens.settings import Settings
from search_api.app import create_app
from search_api.testing import ServeProcess

END_STATES = ("done", "failed")
ACTIVE_STATES = ("extracting", "tagging", "indexing")

KEYS = {"reader": "rd-3c9e71", "uploader": "up-8a04f2", "admin": "ad-51d6be"}
API_KEYS = ",".join(f"{role}:{key}" for role, key in KEYS.items())

AREAS = ["Harrowfield", "Mossbank", "Quenby", "Tilbrook", "Wexcombe", "Ardlow", "Penmarsh"]
FINDINGS = [
    "The health visitor saw that the flat was cold and the cupboards were bare, and neglect of "
    "the baby's needs went on for months before anyone named it.",
    "Nobody asked who else lived in the household, so the mother's new partner stayed a hidden "
    "man to every agency involved with the family.",
    "Police attended three incidents of domestic abuse, but information sharing with children's "
    "social care was slow and no strategy discussion was held.",
    "The school's safeguarding lead escalated her worries promptly and recorded the child's own "
    "words at every meeting, which was good practice.",
    "The GP practice did not follow up missed appointments, and the family's disguised "
    "compliance was read as engagement.",
]


def review_text(n: int, marker: str = "") -> str:
    """A short plain-text review; `n` varies the title, area and year so the bytes differ."""
    area = AREAS[n % len(AREAS)]
    year = 2015 + n % 10
    lines = [
        f"Child {chr(65 + n % 26)}{n}: local child safeguarding practice review",
        f"{area} Safeguarding Children Partnership",
        f"Published: {1 + n % 27} May {year}",
        "",
        "Findings",
        "",
    ]
    for index, finding in enumerate(FINDINGS, start=1):
        lines += [f"1.{index} {finding}", ""]
    if marker:
        lines += [f"1.{len(FINDINGS) + 1} {marker}", ""]
    lines += [
        "Recommendations",
        "",
        f"2.1 The {area} partnership should ensure that every adult in the household is known.",
        "",
    ]
    return "\n".join(lines)


def review_bytes(n: int, marker: str = "") -> bytes:
    return review_text(n, marker).encode("utf-8")


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "workers": 1,
        "extract_timeout_s": 60,
        "api_keys": "",
    }
    values.update(overrides)
    return Settings(**values)


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[AppFactory]:
    """Real apps (worker included) over a private data folder, closed at the end."""
    opened: list[TestClient] = []

    def factory(start_worker: bool = True, **overrides: Any) -> TestClient:
        settings = make_settings(tmp_path / "data", **overrides)
        app = create_app(settings, start_worker=start_worker, worker_threads=1, tag_processes=0)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield factory
    for client in reversed(opened):
        client.__exit__(None, None, None)


def wait_jobs(
    get: Callable[[str], dict[str, Any]], job_ids: list[str], timeout: float = 120.0
) -> dict[str, dict[str, Any]]:
    """Poll until every job has ended; returns job id -> last JSON."""
    deadline = time.monotonic() + timeout
    latest: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        latest = {job_id: get(job_id) for job_id in job_ids}
        if all(job["state"] in END_STATES for job in latest.values()):
            return latest
        time.sleep(0.15)
    raise AssertionError(f"jobs did not finish: {sorted(j['state'] for j in latest.values())}")


class LiveServer(ServeProcess):
    """`reviewlens serve` in its own process group, as users run it; one worker and debug logs
    unless `env` says otherwise, so the log check sees everything the server can say."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        defaults = {
            "REVIEWLENS_WORKERS": "1",
            "REVIEWLENS_API_KEYS": "",
            "REVIEWLENS_LOG_LEVEL": "DEBUG",
        }
        super().__init__(data_dir, env={**defaults, **env})

    def job(self, job_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/jobs/{job_id}", timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Servers over `tmp_path/data` (several in turn, for restarts); all stopped at the end."""
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        server = LiveServer(tmp_path / "data", **env)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class DataAudit:
    """What the data folder holds: the ground truth that tests compare with what the API says."""

    tmp_files: list[str]
    original_files: set[str]
    original_rows: set[str]
    indexed: set[str]
    job_states: dict[str, int]

    def consistent(self) -> bool:
        return self.original_files == self.original_rows and self.indexed <= self.original_rows


def audit(data_dir: Path, **overrides: Any) -> DataAudit:
    """Read the folder directly: files on disk, rows of the jobs database, documents in the
    embedded index (opened read-only, so a running server is not disturbed)."""
    tmp = data_dir / "tmp"
    tmp_files = sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []
    originals = data_dir / "originals"
    original_files = {p.name for p in originals.glob("*/*") if p.is_file()}
    original_rows: set[str] = set()
    job_states: dict[str, int] = {}
    jobs_db = data_dir / "jobs.sqlite3"
    if jobs_db.exists():
        with sqlite3.connect(f"file:{jobs_db}?mode=ro", uri=True) as conn:
            original_rows = {r[0] for r in conn.execute("SELECT document_id FROM originals")}
            job_states = dict(
                conn.execute(
                    "SELECT state, count(*) FROM jobs WHERE kind = 'ingest' GROUP BY state"
                ).fetchall()
            )
    indexed = indexed_ids(data_dir, **overrides)
    return DataAudit(tmp_files, original_files, original_rows, indexed, job_states)


def indexed_ids(data_dir: Path, **overrides: Any) -> set[str]:
    """Document ids in the embedded index, through the backend's own listing."""
    from search_api.backend import Filters, create_backend

    if not (data_dir / "jobs.sqlite3").exists():
        return set()
    backend = create_backend(make_settings(data_dir, **overrides))
    try:
        ids: set[str] = set()
        offset = 0
        while True:
            page = backend.list_documents(Filters(), offset=offset, limit=500)
            ids.update(item.id for item in page.items)
            offset += 500
            if offset >= page.total:
                return ids
    finally:
        backend.close()


ES_URL = os.environ.get("REVIEWLENS_ELASTICSEARCH_URL", "http://127.0.0.1:9200")


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def backend_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Server environment for each backend; Elasticsearch gets private indices on the real node
    (skipped when none answers, failed instead when REVIEWLENS_REQUIRE_ES is set)."""
    if request.param == "sqlite":
        yield {"REVIEWLENS_SEARCH_BACKEND": "sqlite"}
        return
    try:
        httpx.get(f"{ES_URL}/_cluster/health", timeout=3).raise_for_status()
    except httpx.HTTPError:
        reason = f"no Elasticsearch node answers at {ES_URL} (scripts/elasticsearch.sh start)"
        if os.environ.get("REVIEWLENS_REQUIRE_ES"):
            pytest.fail(reason)
        pytest.skip(reason)
    prefix = f"rltest-hardening-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    yield {
        "REVIEWLENS_SEARCH_BACKEND": "elasticsearch",
        "REVIEWLENS_ELASTICSEARCH_URL": ES_URL,
        "REVIEWLENS_ELASTICSEARCH_INDEX_PREFIX": prefix,
    }
    httpx.delete(f"{ES_URL}/{prefix}*", params={"expand_wildcards": "all"}, timeout=30)


def audit_overrides(env: dict[str, str]) -> dict[str, Any]:
    """The settings of a server environment, for reading its index directly."""
    return {key.removeprefix("REVIEWLENS_").lower(): value for key, value in env.items()}
