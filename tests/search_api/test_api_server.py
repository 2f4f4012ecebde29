"""The API as users run it: `reviewlens serve` in its own process on loopback, spoken to over
real sockets. Covers the early 413, a crash (SIGKILL of the whole server) mid-batch, and the
refusal to listen beyond loopback without keys."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_api_support import review_bytes

from search_api.testing import REVIEWLENS, ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIMIT = 256 * 1024


class Server(ServeProcess):
    def __init__(self, data_dir: Path, workers: int = 1) -> None:
        super().__init__(
            data_dir,
            env={
                "REVIEWLENS_MAX_UPLOAD_BYTES": str(LIMIT),
                "REVIEWLENS_WORKERS": str(workers),
                "REVIEWLENS_API_KEYS": "",
                "REVIEWLENS_RATE_LIMIT_SEARCHES_PER_MINUTE": "1000000",
                "REVIEWLENS_RATE_LIMIT_UPLOADS_PER_MINUTE": "1000000",
            },
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data")
    running.start()
    yield running
    running.stop()


def _wait(url: str, job_ids: list[str], timeout: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {j: httpx.get(f"{url}/api/jobs/{j}").json()["state"] for j in job_ids}
        if all(s in ("done", "failed") for s in states.values()):
            return states
        time.sleep(0.2)
    raise AssertionError(f"jobs did not finish: {states}")


def test_upload_search_and_health_over_http(server: Server) -> None:
    data = review_bytes("Child H: practice review", 2024)
    response = httpx.post(f"{server.url}/api/documents", files={"files": ("h.txt", data)})
    assert response.status_code == 202
    job = response.json()["jobs"][0]
    assert _wait(server.url, [job["id"]]) == {job["id"]: "done"}
    hits = httpx.get(f"{server.url}/api/search", params={"q": "hidden men"}).json()
    assert hits["total"] == 1 and hits["hits"][0]["document_id"] == job["document_id"]
    health = httpx.get(f"{server.url}/api/health").json()
    assert health["status"] == "ok"
    assert set(health["parts"]) >= {"backend", "jobs", "worker", "storage", "taxonomy"}
    docs = httpx.get(f"{server.url}/docs")
    assert docs.status_code == 200
    spec = httpx.get(f"{server.url}/api/openapi.json").json()
    assert "/api/search" in spec["paths"]


def _raw_request(port: int, head: bytes, body_chunks: list[bytes]) -> tuple[bytes, float]:
    """Send a request by hand; returns (status line, seconds until the reply came)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        start = time.monotonic()
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
            except OSError:
                break  # the server has answered and closed
        reply = sock.recv(65536)
        return reply.split(b"\r\n", 1)[0], time.monotonic() - start


def test_declared_oversize_is_refused_before_the_body(server: Server) -> None:
    head = (
        f"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    ).encode()
    status, seconds = _raw_request(server.port, head, [])
    assert status.startswith(b"HTTP/1.1 413"), status
    assert seconds < 5


def test_streamed_oversize_is_refused_while_streaming(server: Server) -> None:
    boundary = b"xyz"
    head = (
        b"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    part = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; '
        b'filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
    )
    payload = b"neglect " * 8192  # 64 KiB per chunk
    chunks = [b"%x\r\n%s\r\n" % (len(part), part)]
    chunks += [b"%x\r\n%s\r\n" % (len(payload), payload)] * 64  # 4 MiB, far over the limit
    status, _seconds = _raw_request(server.port, head, chunks)
    assert status.startswith(b"HTTP/1.1 413"), status
    listed = httpx.get(f"{server.url}/api/jobs").json()
    assert listed["jobs"] == []
    assert not list((server.data_dir / "tmp").iterdir())


def test_kill_mid_batch_then_restart_finishes_everything(tmp_path: Path) -> None:
    # two workers: tagging runs in the process pool, which dies with the server
    server = Server(tmp_path / "data", workers=2)
    server.start()
    try:
        files = [
            ("files", (f"k{i}.txt", review_bytes(f"Child K{i}: review", 2010 + i)))
            for i in range(8)
        ]
        response = httpx.post(f"{server.url}/api/documents", files=files, timeout=30)
        assert response.status_code == 202
        job_ids = [j["id"] for j in response.json()["jobs"]]
        # let the worker get going, then crash the whole server
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            counts = httpx.get(f"{server.url}/api/jobs").json()["counts"]
            if counts.get("queued", 0) < 8:
                break
            time.sleep(0.05)
        server.kill()
        server.start()
        states = _wait(server.url, job_ids)
        assert set(states.values()) == {"done"}
        assert httpx.get(f"{server.url}/api/documents").json()["total"] == 8
        assert httpx.get(f"{server.url}/api/search", params={"q": "cupboards"}).json()["total"] == 8
    finally:
        server.stop()


def test_serve_refuses_a_public_address_without_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REVIEWLENS_API_KEYS"}
    result = subprocess.run(
        [REVIEWLENS, "serve", "--data-dir", str(tmp_path), "--host", "0.0.0.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "0.0.0.0" in result.stderr and "REVIEWLENS_API_KEYS" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
