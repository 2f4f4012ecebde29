"""The jobs database on its own: idempotent submission, claiming, ownership, recovery, retry,
and how a reindex's state is read off its documents."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from reviewlens.errors import NotFound
from search_api.jobs import JobConflict, JobStore, new_owner, release_owner

DOC_A = "a" * 64
DOC_B = "b" * 64


def test_submit_is_idempotent_per_document(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    first = store.submit(DOC_A, "a.pdf", 10)
    again = store.submit(DOC_A, "renamed.pdf", 10)
    assert first.duplicate is False and again.duplicate is True
    assert again.job.id == first.job.id
    assert store.original(DOC_A) == ("a.pdf", 10)
    assert store.counts() == {"queued": 1}


def test_concurrent_submits_from_threads_and_processes(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    results: list[str] = []
    barrier = threading.Barrier(10)

    def submit() -> None:
        barrier.wait()
        results.append(store.submit(DOC_A, "a.pdf", 10).job.id)

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10 and len(set(results)) == 1

    # a second process (the command line beside the server) sees the same rows
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        ids = pool.starmap(_submit_in_process, [(str(tmp_path), DOC_B)] * 8)
    assert len(set(ids)) == 1
    assert store.counts() == {"queued": 2}


def _submit_in_process(data_dir: str, document_id: str) -> str:
    return JobStore(Path(data_dir)).submit(document_id, "b.txt", 5).job.id


def test_claim_advance_finish_and_ownership(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = store.submit(DOC_A, "a.pdf", 10).job
    owner, other = new_owner(), new_owner()
    claimed = store.claim(owner)
    assert claimed is not None and claimed.id == job.id
    assert claimed.state == "extracting" and claimed.attempts == 1
    assert store.claim(other) is None
    assert store.advance(job.id, other, "tagging") is False
    assert store.advance(job.id, owner, "tagging") is True
    assert store.finish(job.id, owner, timings={"total_s": 1.5}) is True
    done = store.get(job.id)
    assert done.state == "done" and done.timings == {"total_s": 1.5} and done.finished_at
    assert store.finish(job.id, owner) is False
    release_owner(owner)
    release_owner(other)


def test_recover_requeues_only_orphaned_jobs(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    live = new_owner()
    dead = new_owner()
    store.submit(DOC_A, "a.pdf", 10)
    store.submit(DOC_B, "b.pdf", 10)
    first = store.claim(live)
    second = store.claim(dead)
    assert first and second
    release_owner(dead)  # its worker stopped without finishing
    assert store.recover() == 1
    assert store.get(second.id).state == "queued"
    assert store.get(first.id).state == "extracting"
    # a worker whose job was taken back cannot finish it any more
    assert store.finish(second.id, dead) is False
    release_owner(live)


def test_recover_requeues_jobs_of_a_dead_process(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = store.submit(DOC_A, "a.pdf", 10).job
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(target=_claim_in_process, args=(str(tmp_path),))
    process.start()
    process.join(60)
    assert store.get(job.id).state == "extracting"
    assert store.recover() == 1
    assert store.get(job.id).state == "queued"


def _claim_in_process(data_dir: str) -> None:
    JobStore(Path(data_dir)).claim(new_owner())


def test_retry_only_failed_jobs(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = store.submit(DOC_A, "a.pdf", 10).job
    with pytest.raises(JobConflict):
        store.retry(job.id)
    owner = new_owner()
    store.claim(owner)
    store.finish(job.id, owner, error_code="corrupt_file", error="The PDF is damaged.")
    failed = store.get(job.id)
    assert (failed.state, failed.error_code, failed.error) == (
        "failed",
        "corrupt_file",
        "The PDF is damaged.",
    )
    assert [j.id for j in store.recent(state="failed")] == [job.id]
    retried = store.retry(job.id)
    assert retried.state == "queued" and retried.error is None
    with pytest.raises(NotFound):
        store.retry("missing")
    release_owner(owner)


def test_failed_duplicate_is_requeued_only_when_asked(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = store.submit(DOC_A, "a.pdf", 10).job
    owner = new_owner()
    store.claim(owner)
    store.finish(job.id, owner, error_code="extraction_timeout", error="Too slow.")
    assert store.submit(DOC_A, "a.pdf", 10).job.state == "failed"
    assert store.submit(DOC_A, "a.pdf", 10, retry_failed=True).job.state == "queued"
    release_owner(owner)


def test_reindex_parent_state_follows_its_documents(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    owner = new_owner()
    for doc in (DOC_A, DOC_B):
        store.submit(doc, "x.txt", 1)
        claimed = store.claim(owner)
        assert claimed is not None
        store.finish(claimed.id, owner)
    parent = store.submit_reindex()
    assert parent.state == "queued"
    assert parent.progress is not None and parent.progress.total == 2
    assert store.open_reindex() is not None and not store.parent_ready(parent.id)
    first = store.claim(owner)
    assert first is not None and first.parent_id == parent.id
    assert store.get(parent.id).state == "indexing"
    store.finish(first.id, owner)
    second = store.claim(owner)
    assert second is not None
    store.finish(second.id, owner, error_code="corrupt_file", error="Damaged.")
    assert store.parent_ready(parent.id)
    progress = store.get(parent.id).progress
    assert progress is not None and (progress.done, progress.failed) == (1, 1)
    store.end_parent(parent.id, "documents_failed", "1 of 2 documents failed.")
    ended = store.get(parent.id)
    assert ended.state == "failed" and ended.error == "1 of 2 documents failed."
    assert store.open_reindex() is None
    with pytest.raises(JobConflict):
        store.retry(parent.id)
    release_owner(owner)


def test_uploads_are_claimed_before_reindex_work(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    owner = new_owner()
    store.submit(DOC_A, "a.txt", 1)
    claimed = store.claim(owner)
    assert claimed is not None
    store.finish(claimed.id, owner)
    store.submit_reindex()
    upload = store.submit(DOC_B, "b.txt", 1).job
    next_job = store.claim(owner)
    assert next_job is not None and next_job.id == upload.id
    release_owner(owner)


def test_forget_document(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = store.submit(DOC_A, "a.txt", 1).job
    assert store.forget_document(DOC_A) is True
    assert store.forget_document(DOC_A) is False
    with pytest.raises(NotFound):
        store.get(job.id)
    assert store.original(DOC_A) is None
