"""Uploads, jobs and documents through the real app: real files, real SQLite, real worker."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_api_support import (
    AppFactory,
    client_factory,
    corrupt_pdf,
    docx_review,
    pdf_review,
    review_bytes,
    upload,
    wait_for_jobs,
)


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[AppFactory]:
    yield from client_factory(tmp_path)


def test_upload_txt_docx_pdf_become_searchable(make_client: AppFactory) -> None:
    client = make_client()
    files = [
        ("calderwick-review.txt", review_bytes("Child Q: a practice review", 2023)),
        ("ashmoor-review.docx", docx_review("Child R: a practice review", 2022)),
        ("brindle-review.pdf", pdf_review("Child S: a practice review", 2021)),
    ]
    response = upload(client, files)
    assert response.status_code == 202, response.text
    items = response.json()["jobs"]
    assert [i["file_name"] for i in items] == [f[0] for f in files]
    for item, (_name, data) in zip(items, files, strict=True):
        assert item["document_id"] == hashlib.sha256(data).hexdigest()
        assert item["state"] == "queued" and item["duplicate"] is False
    jobs = wait_for_jobs(client, [i["id"] for i in items])
    assert {j["state"] for j in jobs.values()} == {"done"}, jobs
    assert all(j["error"] is None for j in jobs.values())
    assert all(j["timings"]["total_s"] > 0 for j in jobs.values())

    listing = client.get("/api/documents").json()
    assert listing["total"] == 3
    assert {d["id"] for d in listing["items"]} == {i["document_id"] for i in items}
    assert [d["year"] for d in listing["items"]] == [2023, 2022, 2021]

    doc = client.get(f"/api/documents/{items[0]['document_id']}").json()
    assert doc["file_name"] == "calderwick-review.txt"
    assert len(doc["passages"]) >= 4
    tagged = {t["id"] for p in doc["passages"] for t in p["themes"]}
    assert tagged, "the review should carry some themes"
    assert doc["taxonomy_version"]

    hits = client.get("/api/search", params={"q": "cupboards"}).json()
    assert hits["total"] == 3
    assert {h["document_id"] for h in hits["hits"]} == {i["document_id"] for i in items}
    assert all("<mark>" in "".join(h["highlights"]) for h in hits["hits"])


def test_original_download_is_the_same_bytes_with_a_safe_name(make_client: AppFactory) -> None:
    client = make_client(start_worker=False)
    data = review_bytes("Child T review")
    crafted = '..\\..\\evil"; name=x\r\nSet-Cookie: a=b.txt'
    item = upload(client, [(crafted, data)]).json()["jobs"][0]
    assert "/" not in item["file_name"] and "\\" not in item["file_name"]
    assert "\r" not in item["file_name"] and "\n" not in item["file_name"]
    response = client.get(f"/api/documents/{item['document_id']}/original")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"].startswith("text/plain")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "\r" not in disposition and "\n" not in disposition
    assert 'filename="' in disposition and disposition.count('"') == 2
    assert "set-cookie" not in {k.lower() for k in response.headers if k.lower() != "set-cookie"}
    assert response.headers["x-content-type-options"] == "nosniff"


def test_file_name_never_becomes_a_path(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client(start_worker=False)
    data = b"A short note about escalation and challenge between agencies.\n"
    item = upload(client, [("../../../../outside.txt", data)]).json()["jobs"][0]
    assert item["file_name"] == "outside.txt"
    assert not (tmp_path / "outside.txt").exists()
    kept = tmp_path / "data" / "originals" / item["document_id"][:2] / item["document_id"]
    assert kept.read_bytes() == data
    assert not list((tmp_path / "data" / "tmp").iterdir())


def test_duplicate_upload_returns_the_existing_document(make_client: AppFactory) -> None:
    client = make_client()
    data = review_bytes("Child U review")
    first = upload(client, [("u.txt", data)]).json()["jobs"][0]
    wait_for_jobs(client, [first["id"]])
    second = upload(client, [("u-again.txt", data)]).json()["jobs"][0]
    assert second["duplicate"] is True
    assert second["document_id"] == first["document_id"]
    assert second["id"] == first["id"]
    assert second["state"] == "done"
    assert client.get("/api/documents").json()["total"] == 1


def test_ten_concurrent_uploads_of_the_same_bytes_make_one_document(
    make_client: AppFactory,
) -> None:
    client = make_client()
    data = review_bytes("Child V review", extra="Ten clients sent this at once.")
    results: list[dict[str, object]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    def send() -> None:
        try:
            barrier.wait()
            response = upload(client, [("v.txt", data)])
            assert response.status_code == 202, response.text
            results.append(response.json()["jobs"][0])
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(results) == 10
    assert len({r["document_id"] for r in results}) == 1
    assert len({r["id"] for r in results}) == 1
    assert sum(1 for r in results if not r["duplicate"]) == 1
    wait_for_jobs(client, [str(results[0]["id"])])
    assert client.get("/api/documents").json()["total"] == 1
    assert client.get("/api/jobs").json()["counts"] == {"done": 1}


def test_empty_file_is_refused_and_a_batch_goes_on(make_client: AppFactory) -> None:
    client = make_client(start_worker=False)
    alone = upload(client, [("empty.txt", b"")])
    assert alone.status_code == 422
    assert alone.json() == {"error": {"code": "empty_file", "message": "The file is empty."}}
    batch = upload(client, [("empty.txt", b""), ("ok.txt", review_bytes("Child W"))])
    assert batch.status_code == 202
    refused, accepted = batch.json()["jobs"]
    assert refused["id"] is None and refused["state"] == "failed"
    assert refused["error"]["code"] == "empty_file"
    assert accepted["id"] and accepted["state"] == "queued"


def test_failed_job_is_listed_with_its_reason_and_can_be_retried(
    make_client: AppFactory,
) -> None:
    client = make_client()
    bad = upload(client, [("broken.pdf", corrupt_pdf())]).json()["jobs"][0]
    good = upload(client, [("fine.txt", review_bytes("Child X"))]).json()["jobs"][0]
    jobs = wait_for_jobs(client, [bad["id"], good["id"]])
    failed = jobs[bad["id"]]
    assert failed["state"] == "failed"
    assert failed["error_code"] == "corrupt_file"
    assert failed["error"]
    assert jobs[good["id"]]["state"] == "done"

    listed = client.get("/api/jobs", params={"state": "failed"}).json()
    assert [j["id"] for j in listed["jobs"]] == [bad["id"]]
    assert listed["jobs"][0]["file_name"] == "broken.pdf"
    assert listed["counts"] == {"failed": 1, "done": 1}

    not_failed = client.post(f"/api/jobs/{good['id']}/retry")
    assert not_failed.status_code == 409
    assert not_failed.json()["error"]["code"] == "conflict"

    retried = client.post(f"/api/jobs/{bad['id']}/retry")
    assert retried.status_code == 202
    assert retried.json()["state"] == "queued"
    again = wait_for_jobs(client, [bad["id"]])[bad["id"]]
    assert again["state"] == "failed" and again["attempts"] == 2
    # the failed file is not a document
    assert client.get(f"/api/documents/{bad['document_id']}").status_code == 404


def test_unknown_job_and_document_are_404(make_client: AppFactory) -> None:
    client = make_client(start_worker=False)
    for path in (
        "/api/jobs/nope",
        "/api/documents/" + "0" * 64,
        "/api/documents/not-a-hash",
        "/api/documents/" + "0" * 64 + "/original",
        "/api/documents/../../etc/passwd/original",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.post("/api/jobs/nope/retry").status_code == 404
    assert client.delete("/api/documents/" + "0" * 64).status_code == 404


def test_delete_removes_document_original_and_jobs(make_client: AppFactory) -> None:
    client = make_client()
    keep = upload(client, [("keep.txt", review_bytes("Child Y", 2020))]).json()["jobs"][0]
    gone = upload(client, [("gone.txt", review_bytes("Child Z", 2019))]).json()["jobs"][0]
    wait_for_jobs(client, [keep["id"], gone["id"]])
    assert client.get("/api/search", params={"q": "cupboards"}).json()["total"] == 2

    response = client.delete(f"/api/documents/{gone['document_id']}")
    assert response.status_code == 200
    assert response.json() == {"deleted": gone["document_id"]}
    assert client.get(f"/api/documents/{gone['document_id']}").status_code == 404
    assert client.get(f"/api/documents/{gone['document_id']}/original").status_code == 404
    assert client.get(f"/api/jobs/{gone['id']}").status_code == 404
    hits = client.get("/api/search", params={"q": "cupboards"}).json()
    assert [h["document_id"] for h in hits["hits"]] == [keep["document_id"]]
    assert client.delete(f"/api/documents/{gone['document_id']}").status_code == 404
    # the same bytes can come back after a delete, as a new document job
    again = upload(client, [("gone.txt", review_bytes("Child Z", 2019))]).json()["jobs"][0]
    assert again["duplicate"] is False and again["id"] != gone["id"]


def test_health_names_the_part_that_is_down(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client(taxonomy_path=tmp_path / "missing-taxonomy.yaml")
    response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["parts"]["taxonomy"]["ok"] is False
    assert body["parts"]["backend"]["ok"] is True and body["parts"]["jobs"]["ok"] is True
    # nothing can be tagged without a taxonomy: the upload fails with that reason
    item = upload(client, [("t.txt", review_bytes("Child N"))]).json()["jobs"][0]
    job = wait_for_jobs(client, [item["id"]])[item["id"]]
    assert job["state"] == "failed" and job["error_code"] == "invalid_taxonomy"


def test_no_document_text_in_logs_or_error_bodies(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    client = make_client()
    secret = "Kestrel Ward noted the bruise on the left cheek of the twin"
    good = upload(client, [("s.txt", review_bytes("Child K", extra=secret + "."))]).json()
    bad = upload(client, [("b.pdf", corrupt_pdf() + secret.encode())]).json()
    wait_for_jobs(client, [good["jobs"][0]["id"], bad["jobs"][0]["id"]])
    assert client.get("/api/search", params={"q": '"Kestrel Ward"'}).json()["total"] == 1
    bad_query = client.get("/api/search", params={"q": '"Kestrel Ward noted'})
    assert bad_query.status_code == 400
    assert "Kestrel" not in bad_query.text
    # everything the server side logged (httpx here is the test's own client)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert logged, "the service should log ids and timings"
    for word in ("Kestrel", "bruise", "cupboards", "hidden men"):
        assert word not in logged
