"""Crash safety: SIGKILL a real server (and everything it started) in the middle of a batch and
in the middle of a reindex; after a restart nothing accepted is lost, nothing is stuck, and the
index matches the kept originals."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hardening_support import (
    ACTIVE_STATES,
    LiveServer,
    audit,
    audit_overrides,
    review_bytes,
    wait_jobs,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

StartServer = Callable[..., LiveServer]


def _upload_batch(server: LiveServer, first: int, count: int) -> list[dict[str, Any]]:
    files = [
        ("files", (f"review-{n}.txt", review_bytes(n), "text/plain"))
        for n in range(first, first + count)
    ]
    response = httpx.post(f"{server.url}/api/documents", files=files, timeout=60)
    assert response.status_code == 202, response.text
    items: list[dict[str, Any]] = response.json()["jobs"]
    assert all(item["id"] for item in items)
    return items


def _any_done(server: LiveServer, ids: list[str]) -> bool:
    """Stops at the first finished job: asking about all 24 on a busy machine took long enough
    for the whole batch to finish before the kill."""
    return any(server.job(job_id)["state"] == "done" for job_id in ids)


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_during_ingestion_loses_nothing(
    live_server: StartServer, tmp_path: Path, backend_env: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    index = audit_overrides(backend_env)
    server = live_server(**backend_env)
    items = _upload_batch(server, 0, 24)
    job_ids = [item["id"] for item in items]
    accepted = {item["document_id"] for item in items}

    _wait_until(lambda: _any_done(server, job_ids), 120, "a first document")
    server.kill()

    at_kill = audit(data_dir, **index)
    assert accepted <= at_kill.original_rows, "an accepted upload was not kept"
    assert at_kill.job_states.get("done", 0) < len(job_ids), "the batch ended before the kill"
    assert at_kill.indexed <= accepted

    restarted = live_server(**backend_env)
    # searches answer at once from what was indexed before the crash
    response = httpx.get(f"{restarted.url}/api/search", params={"q": "neglect"}, timeout=30)
    assert response.status_code == 200
    jobs = wait_jobs(restarted.job, job_ids, 240)
    assert {job["state"] for job in jobs.values()} == {"done"}, jobs

    after = audit(data_dir, **index)
    assert after.tmp_files == []
    assert after.indexed == after.original_rows == after.original_files == accepted
    assert not any(after.job_states.get(state) for state in ACTIVE_STATES + ("queued",))
    listed = httpx.get(f"{restarted.url}/api/documents", params={"limit": 100}, timeout=30)
    assert listed.json()["total"] == len(accepted)


def test_sigkill_during_reindex_keeps_search_and_finishes(
    live_server: StartServer, tmp_path: Path, backend_env: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    index = audit_overrides(backend_env)
    server = live_server(**backend_env)
    items = _upload_batch(server, 100, 14)
    job_ids = [item["id"] for item in items]
    accepted = {item["document_id"] for item in items}
    wait_jobs(server.job, job_ids, 240)
    before = httpx.get(f"{server.url}/api/search", params={"q": "hidden man"}, timeout=30).json()
    assert before["total"] >= len(accepted)

    response = httpx.post(f"{server.url}/api/admin/reindex", timeout=30)
    assert response.status_code == 202, response.text
    reindex_id = response.json()["id"]

    def part_done() -> bool:
        progress = server.job(reindex_id)["progress"]
        return bool(progress) and 1 <= progress["done"] < progress["total"]

    _wait_until(part_done, 120, "the reindex to be part way")
    server.kill()

    restarted = live_server(**backend_env)
    # the live index was never dropped: every document is searchable straight away
    during = httpx.get(f"{restarted.url}/api/search", params={"q": "hidden man"}, timeout=30)
    assert during.status_code == 200
    assert during.json()["total"] == before["total"]
    reindex = wait_jobs(restarted.job, [reindex_id], 240)[reindex_id]
    assert reindex["state"] == "done", reindex
    assert reindex["progress"]["done"] == len(accepted)

    after = httpx.get(f"{restarted.url}/api/search", params={"q": "hidden man"}, timeout=30)
    assert after.json()["total"] == before["total"]
    found = audit(data_dir, **index)
    assert found.indexed == found.original_rows == accepted
    assert found.tmp_files == []
    assert not any(found.job_states.get(state) for state in ACTIVE_STATES + ("queued",))
