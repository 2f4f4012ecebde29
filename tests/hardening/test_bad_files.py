"""Hostile files through the API and the command line: each is refused with a reason or accepted
and failed as a job with one, and nothing half-made is left in the data folder or the index."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from badfiles import (
    BAD_FILES,
    HTML_WITH_SCRIPTS,
    PAGE_LIMIT,
    SCRIPT_SECRET,
    UNZIPPED_LIMIT,
    UPLOAD_LIMIT,
    BadFile,
    docx_file,
    huge_page_image_pdf,
)
from fastapi.testclient import TestClient
from hardening_support import AppFactory, LiveServer, audit, review_bytes, wait_jobs

from search_api.testing import REVIEWLENS

LIMITS: dict[str, Any] = {
    "max_upload_bytes": UPLOAD_LIMIT,
    "max_unzipped_bytes": UNZIPPED_LIMIT,
    "max_pages": PAGE_LIMIT,
    "extract_timeout_s": 30,
}


def _upload(client: TestClient, name: str, data: bytes) -> Any:
    return client.post("/api/documents", files=[("files", (name, data, "application/pdf"))])


def _assert_error_shape(body: Any) -> None:
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"].strip(), body
    assert "Traceback" not in body["error"]["message"]


def _assert_nothing_left(client: TestClient, data_dir: Path) -> None:
    found = audit(data_dir)
    assert found.tmp_files == [], "a half-written upload was left behind"
    assert found.original_files == found.original_rows, "originals on disk and in database differ"
    assert found.indexed == set(), "a failed file reached the index"
    assert client.get("/api/documents").json()["total"] == 0
    assert client.get("/api/search", params={"q": "neglect"}).json()["total"] == 0


@pytest.mark.parametrize("bad", BAD_FILES, ids=lambda b: b.case)
def test_bad_file_through_the_api(make_client: AppFactory, tmp_path: Path, bad: BadFile) -> None:
    client = make_client(**LIMITS)
    response = _upload(client, bad.file_name, bad.data())
    if response.status_code == 202:
        (item,) = response.json()["jobs"]
        job = wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [item["id"]], 60)[item["id"]]
        assert job["state"] == "failed", job
        assert job["error_code"] in bad.codes, job
        assert job["error"], "a failed job must say why"
        assert client.get(f"/api/documents/{item['document_id']}").status_code == 404
        # the failure is listed where staff look for it
        failed = client.get("/api/jobs", params={"state": "failed"}).json()["jobs"]
        assert [j["id"] for j in failed] == [item["id"]]
    else:
        assert 400 <= response.status_code < 500, response.text
        body = response.json()
        _assert_error_shape(body)
        if bad.codes == ("_413",):
            assert response.status_code == 413
        else:
            assert body["error"]["code"] in bad.codes, body
    _assert_nothing_left(client, tmp_path / "data")


def test_huge_page_image_ends_within_its_bounds(make_client: AppFactory, tmp_path: Path) -> None:
    """Too big to render naively; it must end (read or refused with a reason), not hang."""
    client = make_client(**LIMITS)
    response = _upload(client, "poster.pdf", huge_page_image_pdf())
    assert response.status_code == 202, response.text
    (item,) = response.json()["jobs"]
    job = wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [item["id"]], 60)[item["id"]]
    if job["state"] == "failed":
        assert job["error_code"] in ("no_text", "extraction_timeout", "extraction_out_of_memory")
        assert audit(tmp_path / "data").indexed == set()
    assert audit(tmp_path / "data").tmp_files == []


def test_html_scripts_are_dropped_and_never_served_as_html(
    make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client(**LIMITS)
    response = _upload(client, "briefing.html", HTML_WITH_SCRIPTS)
    assert response.status_code == 202
    (item,) = response.json()["jobs"]
    job = wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [item["id"]], 120)[item["id"]]
    assert job["state"] == "done", job
    doc = client.get(f"/api/documents/{item['document_id']}").json()
    text = " ".join(p["text"] for p in doc["passages"])
    assert "every adult in the household" in text
    assert SCRIPT_SECRET not in text and "alert(" not in text and "<script" not in text
    assert client.get("/api/search", params={"q": SCRIPT_SECRET}).json()["total"] == 0
    original = client.get(f"/api/documents/{item['document_id']}/original")
    assert original.status_code == 200
    assert original.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in original.headers["content-security-policy"]
    assert original.headers["x-content-type-options"] == "nosniff"


HOSTILE_NAMES = [
    "../../../../etc/passwd.txt",
    "..\\..\\Windows\\system.ini.txt",
    "reports/2024/child-q.txt",
    "/abs/path/review.txt",
    "..",
    "...txt",
    "tab\there\x07bell\x1b[31mred.txt",
    "nul\x00byte.txt",
    "é" * 40 + "x" * 3000 + ".txt",
    "\u202etxt.exe",  # right-to-left override
]


def test_hostile_file_names_stay_labels(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client(**LIMITS)
    before = {p for p in tmp_path.rglob("*")}
    uploads = [(name, review_bytes(n)) for n, name in enumerate(HOSTILE_NAMES)]
    response = client.post(
        "/api/documents",
        files=[("files", (name, data, "text/plain")) for name, data in uploads],
    )
    assert response.status_code == 202, response.text
    items = response.json()["jobs"]
    assert len(items) == len(HOSTILE_NAMES)
    for item in items:
        label = item["file_name"]
        assert label and len(label) <= 255
        assert "/" not in label and "\\" not in label, label
        assert not label.startswith("."), label
        assert all(unicodedata.category(ch) != "Cc" for ch in label), label
    ids = [item["id"] for item in items]
    jobs = wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), ids, 180)
    assert {job["state"] for job in jobs.values()} == {"done"}
    # nothing was written anywhere except the content-addressed store and the databases
    data_dir = tmp_path / "data"
    created = {p for p in tmp_path.rglob("*")} - before
    for path in created:
        rel = path.relative_to(data_dir)  # raises if anything landed outside the data folder
        databases = rel.name.startswith(("jobs.sqlite3", "search.sqlite3"))
        assert rel.parts[0] in ("originals", "tmp") or databases, rel
        if rel.parts[0] == "originals" and path.is_file():
            assert len(path.name) == 64 and path.parent.name == path.name[:2]
    assert not (tmp_path / "etc").exists()
    found = audit(data_dir)
    assert found.tmp_files == [] and found.indexed == found.original_rows
    for item in items:
        original = client.get(f"/api/documents/{item['document_id']}/original")
        disposition = original.headers["content-disposition"]
        assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition


# -- the command line ----------------------------------------------------------------------------


def _cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REVIEWLENS_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        "REVIEWLENS_MAX_UNZIPPED_BYTES": str(UNZIPPED_LIMIT),
        "REVIEWLENS_MAX_PAGES": str(PAGE_LIMIT),
        "REVIEWLENS_EXTRACT_TIMEOUT_S": "30",
        "COLUMNS": "250",
    }
    return subprocess.run(
        [REVIEWLENS, "ingest", *args, "--data-dir", str(data_dir), "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_cli_reports_every_bad_file_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    expected: dict[str, tuple[str, ...]] = {}
    for bad in BAD_FILES:
        suffix = bad.file_name.rpartition(".")[2]
        path = folder / f"{bad.case}.{suffix}"
        path.write_bytes(bad.data())
        codes = ("file_too_large",) if bad.codes == ("_413",) else bad.codes
        expected[str(path)] = codes
    data_dir = tmp_path / "data"
    result = _cli([str(folder), "--json"], data_dir)
    assert result.returncode == 1, result.stderr[-2000:]
    outcome = json.loads(result.stdout)
    assert outcome["failed"] == len(BAD_FILES)
    for row in outcome["files"]:
        assert row["state"] in ("failed", "refused"), row
        assert row["error_code"] in expected[row["path"]], row
        assert row["error"], row
    found = audit(data_dir)
    assert found.tmp_files == [] and found.indexed == set()
    assert found.original_files == found.original_rows
    assert found.job_states.keys() <= {"failed"}


@pytest.mark.slow
def test_cli_single_bad_file_says_why_in_one_line(tmp_path: Path) -> None:
    bad = next(b for b in BAD_FILES if b.case == "encrypted_pdf")
    path = tmp_path / "locked.pdf"
    path.write_bytes(bad.data())
    result = _cli([str(path)], tmp_path / "data")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if "encrypted_file" in line]
    assert len(lines) == 1, output
    assert "password" in lines[0] and "locked.pdf" in lines[0]
    assert "Traceback" not in output
    assert audit(tmp_path / "data").indexed == set()


@pytest.mark.slow
@pytest.mark.integration
def test_declared_oversize_gets_413_before_the_body(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """A raw socket declares 10 GB and sends a few bytes: the 413 must come at once."""
    server = live_server(REVIEWLENS_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT))
    head = (
        "POST /api/documents HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        "Content-Type: multipart/form-data; boundary=b0undary\r\n"
        "Content-Length: 10737418240\r\n\r\n"
        "--b0undary\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(head)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        elapsed = time.monotonic() - started
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line.split()[1] == b"413", received[:200]
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"application/json" in headers.lower()
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert elapsed < 3.0, f"the refusal took {elapsed:.1f} s"
    found = audit(tmp_path / "data")
    assert found.tmp_files == [] and found.original_rows == set()


@pytest.mark.parametrize(
    ("file_name", "build"),
    [("minutes.pdf", docx_file), ("notes.docx", lambda: review_bytes(5))],
    ids=["docx_named_pdf", "text_named_docx"],
)
def test_mislabelled_but_readable_file_is_read_by_content(
    make_client: AppFactory, tmp_path: Path, file_name: str, build: Callable[[], bytes]
) -> None:
    client = make_client(**LIMITS)
    response = _upload(client, file_name, build())
    assert response.status_code == 202, response.text
    (item,) = response.json()["jobs"]
    job = wait_jobs(lambda j: client.get(f"/api/jobs/{j}").json(), [item["id"]], 120)[item["id"]]
    assert job["state"] == "done", job
    assert audit(tmp_path / "data").indexed == {item["document_id"]}
