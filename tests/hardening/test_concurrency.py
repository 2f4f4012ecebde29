"""Concurrency against a real server: ten clients sending the same file at the same moment get
one document, and a mix of uploads and searches at once gives no errors and loses nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hardening_support import LiveServer, audit, audit_overrides, review_bytes, wait_jobs

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..count-1) on threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    if errors:
        raise errors[0]
    return results


def test_same_file_from_ten_clients_then_mixed_load(
    live_server: Callable[..., LiveServer], tmp_path: Path, backend_env: dict[str, str]
) -> None:
    index = audit_overrides(backend_env)
    server = live_server(REVIEWLENS_RATE_LIMIT_SEARCHES_PER_MINUTE="0", **backend_env)
    same = review_bytes(7)

    def send_same(n: int) -> dict[str, Any]:
        files = [("files", (f"copy-{n}.txt", same, "text/plain"))]
        response = httpx.post(f"{server.url}/api/documents", files=files, timeout=60)
        assert response.status_code == 202, response.text
        item: dict[str, Any] = response.json()["jobs"][0]
        return item

    items = _in_threads(10, send_same)
    assert len({item["document_id"] for item in items}) == 1
    assert len({item["id"] for item in items}) == 1, "one job for one document"
    assert sum(1 for item in items if not item["duplicate"]) == 1
    wait_jobs(server.job, [items[0]["id"]], 180)
    found = audit(tmp_path / "data", **index)
    assert len(found.original_files) == len(found.original_rows) == len(found.indexed) == 1

    # many uploads and searches at the same time
    uploaders, per_uploader, searchers = 4, 6, 4
    uploads_over = threading.Event()
    statuses: list[int] = []
    status_lock = threading.Lock()

    def work(n: int) -> list[str]:
        job_ids: list[str] = []
        with httpx.Client(base_url=server.url, timeout=60) as client:
            if n < uploaders:
                for k in range(per_uploader):
                    number = 1000 + n * per_uploader + k
                    files = [("files", (f"r{number}.txt", review_bytes(number), "text/plain"))]
                    response = client.post("/api/documents", files=files)
                    with status_lock:
                        statuses.append(response.status_code)
                    if response.status_code == 202:
                        job_ids.append(response.json()["jobs"][0]["id"])
                return job_ids
            queries = ["neglect", '"hidden man"', "domestic OR escalat*", "school -police"]
            while not uploads_over.is_set():
                for query in queries:
                    response = client.get("/api/search", params={"q": query, "limit": 5})
                    with status_lock:
                        statuses.append(response.status_code)
            return job_ids

    def run(n: int) -> list[str]:
        try:
            return work(n)
        finally:
            if n < uploaders:
                with status_lock:
                    finished.append(n)
                    if len(finished) == uploaders:
                        uploads_over.set()

    finished: list[int] = []
    results = _in_threads(uploaders + searchers, run)
    job_ids = [job_id for ids in results for job_id in ids]
    assert len(job_ids) == uploaders * per_uploader
    assert statuses and set(statuses) <= {200, 202}, sorted(set(statuses))
    assert len(statuses) > uploaders * per_uploader, "the searches did not overlap the uploads"
    jobs = wait_jobs(server.job, job_ids, 300)
    assert {job["state"] for job in jobs.values()} == {"done"}
    total = 1 + uploaders * per_uploader
    listed = httpx.get(f"{server.url}/api/documents", params={"limit": 100}, timeout=30).json()
    assert listed["total"] == total
    found = audit(tmp_path / "data", **index)
    assert len(found.indexed) == len(found.original_rows) == len(found.original_files) == total
    assert found.tmp_files == []
