"""Extraction runs in a child process under a time and memory bound: a file that is slow, greedy
or crashes its parser fails its own job with a reason, while the server keeps answering
searches and the worker goes on to the next file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from badfiles import allocate_without_end, crash_hard, hang_forever, scanned_pdf
from fastapi.testclient import TestClient
from hardening_support import AppFactory, audit, review_bytes, wait_jobs

from ingest.sandbox import run_isolated
from reviewlens.errors import ExtractionError, ExtractionOutOfMemory, ExtractionTimeout

pytestmark = pytest.mark.slow


def _children() -> set[int]:
    """Live processes whose parent is this one (the fork server among them)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == os.getpid():
            found.add(int(entry.name))
    return found


def _children_of(pids: set[int]) -> set[int]:
    """Children of the given processes that are still alive (not zombies)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) in pids:
            found.add(int(entry.name))
    return found


def test_hanging_extractor_is_stopped_and_its_process_killed() -> None:
    started = time.monotonic()
    with pytest.raises(ExtractionTimeout) as caught:
        run_isolated(hang_forever, b"x", "x.txt", timeout_s=1.5)
    assert time.monotonic() - started < 10
    assert caught.value.code == "extraction_timeout"
    time.sleep(0.3)
    leftover = _children_of(_children())
    assert leftover == set(), f"sandbox processes still running: {leftover}"


def test_crashing_parser_is_a_failed_file_not_a_dead_caller() -> None:
    with pytest.raises(ExtractionError) as caught:
        run_isolated(crash_hard, b"x", "x.pdf", timeout_s=20)
    assert "crashed" in caught.value.message or "without an answer" in caught.value.message
    # and the next file goes through the same sandbox as usual
    assert run_isolated(len, b"four", timeout_s=20) == 4


def test_greedy_extractor_hits_the_memory_ceiling() -> None:
    started = time.monotonic()
    with pytest.raises(ExtractionOutOfMemory):
        run_isolated(allocate_without_end, b"x", "x.docx", timeout_s=30, memory_mb=400)
    assert time.monotonic() - started < 30


def _search_latencies(client: TestClient, job_id: str, limit_s: float) -> list[float]:
    """Search repeatedly while the job is still being extracted; every answer must be a 200."""
    latencies: list[float] = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        state = client.get(f"/api/jobs/{job_id}").json()["state"]
        if state != "extracting" and latencies:
            break
        t0 = time.perf_counter()
        response = client.get("/api/search", params={"q": "hidden man"})
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 200
        assert response.json()["total"] >= 1
        time.sleep(0.05)
    return latencies


def test_slow_file_fails_alone_while_search_answers(
    make_client: AppFactory, tmp_path: Path
) -> None:
    """A scanned PDF (OCR takes seconds a page) under a 4 s extraction limit. The memory
    ceiling is proven above with an extractor that allocates without end."""
    client = make_client(extract_timeout_s=4)
    good = client.post("/api/documents", files=[("files", ("a.txt", review_bytes(1)))]).json()
    wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [good["jobs"][0]["id"]], 120)

    slow = client.post("/api/documents", files=[("files", ("scan.pdf", scanned_pdf()))]).json()
    slow_id = slow["jobs"][0]["id"]
    latencies = _search_latencies(client, slow_id, 60)
    assert latencies and max(latencies) < 2.0, latencies
    job = wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [slow_id], 60)[slow_id]
    assert job["state"] == "failed" and job["error_code"] == "extraction_timeout", job

    # the worker is not stuck: the next upload is processed as usual
    after = client.post("/api/documents", files=[("files", ("b.txt", review_bytes(2)))]).json()
    after_id = after["jobs"][0]["id"]
    done = wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [after_id], 120)[after_id]
    assert done["state"] == "done"
    found = audit(tmp_path / "data")
    assert slow["jobs"][0]["document_id"] not in found.indexed
    assert len(found.indexed) == 2 and found.tmp_files == []
