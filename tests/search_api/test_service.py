"""The library and worker across restarts and rebuilds: nothing accepted is lost, and search
keeps answering while the index is rebuilt."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_api_support import (
    AppFactory,
    client_factory,
    make_settings,
    review_bytes,
    upload,
    wait_for_jobs,
)

from reviewlens.settings import DEFAULT_TAXONOMY
from search_api.jobs import new_owner, release_owner
from search_api.service import Library, collect_files, safe_label
from search_api.worker import Worker


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[AppFactory]:
    yield from client_factory(tmp_path)


def _reviews(n: int) -> list[tuple[str, bytes]]:
    return [(f"r{i}.txt", review_bytes(f"Child {i}: practice review", 2015 + i)) for i in range(n)]


def test_restart_finishes_every_accepted_upload(make_client: AppFactory, tmp_path: Path) -> None:
    first = make_client(start_worker=False)
    items = upload(first, _reviews(4)).json()["jobs"]
    assert {i["state"] for i in items} == {"queued"}
    # one job was mid-extraction when its process died
    library: Library = first.app.state.library  # type: ignore[attr-defined]
    crashed = new_owner()
    claimed = library.jobs.claim(crashed)
    assert claimed is not None and claimed.state == "extracting"
    release_owner(crashed)
    first.__exit__(None, None, None)

    second = make_client()
    jobs = wait_for_jobs(second, [i["id"] for i in items])
    assert {j["state"] for j in jobs.values()} == {"done"}
    assert jobs[claimed.id]["attempts"] == 2
    assert second.get("/api/documents").json()["total"] == 4
    assert second.get("/api/health").json()["parts"]["worker"]["ok"] is True


def test_reindex_keeps_search_answering(make_client: AppFactory) -> None:
    client = make_client()
    items = upload(client, _reviews(4)).json()["jobs"]
    wait_for_jobs(client, [i["id"] for i in items])
    assert client.get("/api/search", params={"q": "cupboards"}).json()["total"] == 4

    totals: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def search_loop() -> None:
        while not stop.is_set():
            response = client.get("/api/search", params={"q": "cupboards"})
            if response.status_code != 200:
                failures.append(response.text)
            else:
                totals.append(response.json()["total"])

    searcher = threading.Thread(target=search_loop)
    searcher.start()
    try:
        started = client.post("/api/admin/reindex")
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["kind"] == "reindex" and job["progress"]["total"] == 4
        assert client.post("/api/admin/reindex").status_code == 409
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = client.get(f"/api/jobs/{job['id']}").json()
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
    finally:
        stop.set()
        searcher.join()
    assert job["state"] == "done", job
    assert job["progress"] == {"done": 4, "failed": 0, "total": 4}
    assert not failures
    assert len(totals) > 5 and set(totals) == {4}
    assert client.get("/api/documents").json()["total"] == 4


def test_reindex_after_taxonomy_edit_retags(make_client: AppFactory, tmp_path: Path) -> None:
    taxonomy = tmp_path / "taxonomy.yaml"
    shutil.copy(DEFAULT_TAXONOMY, taxonomy)
    client = make_client(taxonomy_path=taxonomy)
    item = upload(client, _reviews(1)).json()["jobs"][0]
    wait_for_jobs(client, [item["id"]])
    before = client.get(f"/api/documents/{item['document_id']}").json()["taxonomy_version"]
    assert before == client.get("/api/themes").json()["version"]

    with taxonomy.open("a", encoding="utf-8") as handle:
        handle.write("\n# reviewed by the QA group\n")
    time.sleep(0.01)
    job = client.post("/api/admin/reindex").json()
    wait_for_jobs(client, [job["id"]])
    after = client.get(f"/api/documents/{item['document_id']}").json()["taxonomy_version"]
    assert after != before
    assert after == client.get("/api/themes").json()["version"]


def test_documents_that_fail_to_reindex_keep_their_entries(
    make_client: AppFactory, tmp_path: Path
) -> None:
    first = make_client()
    items = upload(first, _reviews(2)).json()["jobs"]
    wait_for_jobs(first, [i["id"] for i in items])
    first.__exit__(None, None, None)
    # the same library, but extraction now cannot finish in time
    second = make_client(extract_timeout_s=0.0001)
    job = second.post("/api/admin/reindex").json()
    ended = wait_for_jobs(second, [job["id"]])[job["id"]]
    assert ended["state"] == "failed"
    assert ended["error_code"] == "documents_failed"
    assert ended["progress"] == {"done": 0, "failed": 2, "total": 2}
    assert second.get("/api/search", params={"q": "cupboards"}).json()["total"] == 2
    failed = second.get("/api/jobs", params={"state": "failed", "kind": "ingest"}).json()["jobs"]
    assert {j["error_code"] for j in failed} == {"extraction_timeout"}


def test_interrupted_reindex_starts_again_on_restart(
    make_client: AppFactory, tmp_path: Path
) -> None:
    first = make_client()
    items = upload(first, _reviews(2)).json()["jobs"]
    wait_for_jobs(first, [i["id"] for i in items])
    first.__exit__(None, None, None)
    paused = make_client(start_worker=False)
    job = paused.post("/api/admin/reindex").json()
    paused.__exit__(None, None, None)
    resumed = make_client()
    ended = wait_for_jobs(resumed, [job["id"]])[job["id"]]
    assert ended["state"] == "done" and ended["progress"]["done"] == 2
    assert resumed.get("/api/search", params={"q": "cupboards"}).json()["total"] == 2


def test_worker_runs_the_same_path_without_the_api(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(review_bytes("Child A"))
    (folder / "sub" / "b.txt").write_bytes(review_bytes("Child B", 2019))
    (folder / "notes.facts.json").write_text("{}")
    (folder / ".hidden.txt").write_text("not for the library")
    files, passed_over = collect_files([folder])
    assert sorted(p.name for p in files) == ["a.txt", "b.txt"]
    assert [p.name for p in passed_over] == ["notes.facts.json"]

    library = Library(make_settings(tmp_path / "data"))
    try:
        outcomes = [library.submit_path(p) for p in files]
        ids = [o.submitted.job.id for o in outcomes if o.submitted]
        Worker(library, threads=2, tag_processes=0).run_until_done(ids)
        assert {library.jobs.get(i).state for i in ids} == {"done"}
        assert library.backend.count() == 2
        library.delete(outcomes[0].submitted.job.document_id)  # type: ignore[union-attr]
        assert library.backend.count() == 1
        assert library.store.ids() == [outcomes[1].submitted.job.document_id]  # type: ignore[union-attr]
    finally:
        library.close()


@pytest.mark.parametrize(
    ("given", "label"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\review.pdf", "review.pdf"),
        ("bad\x00name\x1b[31m.txt", "badname[31m.txt"),
        ("", "upload"),
        ("..", "upload"),
        (".hidden.txt", "hidden.txt"),
        ("a" * 500 + ".docx", "a" * 195 + ".docx"),
    ],
)
def test_safe_label(given: str, label: str) -> None:
    assert safe_label(given) == label
