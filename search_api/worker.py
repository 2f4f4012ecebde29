"""The background worker: takes queued jobs and carries each file through extract, tag, index.

Extraction runs in a throwaway process with a time and memory bound (`ingest.sandbox`), so one
pathological file fails its own job and nothing else. Tagging is CPU-bound spaCy work, so it runs
in a pool of processes, one per core, which also keeps the API's own process free to answer
searches while a batch is ingested. The same worker runs inside `reviewlens serve` and inside
`reviewlens ingest`.

Logs carry job ids, document id prefixes, error codes and timings, never document text.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from reviewlens.errors import BackendUnavailable, ReviewLensError, TaxonomyError
from reviewlens.model import Document
from search_api.jobs import Job, new_owner, release_owner
from search_api.service import Library

if TYPE_CHECKING:
    from nlp.taxonomy import Taxonomy

log = logging.getLogger("reviewlens.worker")

IDLE_WAIT_S = 0.5
BACKEND_RETRY_S = 5.0


class Worker:
    """Runs jobs from the library's queue on `threads` threads until stopped."""

    def __init__(
        self,
        library: Library,
        *,
        threads: int | None = None,
        tag_processes: int | None = None,
    ) -> None:
        cores = library.settings.workers or os.cpu_count() or 1
        self.library = library
        self.threads = threads or cores
        # 0 tags on the worker threads themselves: no pool to start when there is one thread
        if tag_processes is None:
            tag_processes = self.threads if self.threads > 1 else 0
        self.tag_processes = tag_processes
        self.owner = new_owner()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ProcessPoolExecutor | None = None
        self._pool_taxonomy: str | None = None
        self._pool_lock = threading.Lock()
        self.started = False
        library.listeners.append(self._wake)

    # -- lifecycle ---------------------------------------------------------------------------

    def recover(self) -> int:
        """Pick up what a previous run left: orphaned jobs, half-written uploads, a reindex."""
        requeued = self.library.jobs.recover()
        self.library.store.clean_tmp()
        self.library.resume_reindex()
        if requeued:
            log.info("re-queued %d interrupted jobs", requeued)
        return requeued

    def start(self) -> None:
        if self.started:
            return
        self.recover()
        # load the taxonomy (and so import spaCy) here: the warm-up thread importing spaCy while
        # a request thread does too leaves one of them with a half-initialised module
        _ = self.library.taxonomy
        self._stop.clear()
        # joined by stop() like the workers: a thread still loading spaCy at exit aborts Python
        warm_up = threading.Thread(target=self._warm_pool, name="reviewlens-warm-up", daemon=True)
        warm_up.start()
        self._threads.append(warm_up)
        for n in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"reviewlens-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self.started = True

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        if self._wake in self.library.listeners:
            self.library.listeners.remove(self._wake)
        release_owner(self.owner)
        self.started = False

    def alive(self) -> bool:
        return self.started and any(t.is_alive() for t in self._threads)

    def run_until_done(
        self,
        job_ids: list[str],
        on_progress: Callable[[int], None] | None = None,
        poll_s: float = 0.2,
    ) -> None:
        """Work until every listed job has ended (whoever processed it), then stop."""
        self.start()
        try:
            while True:
                pending = self.library.jobs.pending(job_ids)
                if on_progress is not None:
                    on_progress(len(job_ids) - pending)
                if pending == 0:
                    return
                time.sleep(poll_s)
        finally:
            self.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.library.jobs.claim(self.owner)
            except Exception as exc:  # the jobs database is busy or gone: wait, do not die
                log.error("claiming a job failed: %s", type(exc).__name__)
                self._stop.wait(BACKEND_RETRY_S)
                continue
            if job is None:
                self._wake.wait(IDLE_WAIT_S)
                self._wake.clear()
                continue
            self.process(job)

    # -- one job -------------------------------------------------------------------------------

    def process(self, job: Job) -> None:
        library, jobs = self.library, self.library.jobs
        settings = library.settings
        assert job.document_id is not None and job.file_name is not None
        timings: dict[str, float] = {}
        started = time.perf_counter()
        try:
            from ingest.pipeline import extract_document
            from ingest.sandbox import run_isolated

            data = library.store.read(job.document_id)
            t0 = time.perf_counter()
            doc = run_isolated(
                extract_document,
                data,
                job.file_name,
                settings,
                timeout_s=settings.extract_timeout_s,
                memory_mb=settings.extract_memory_mb,
            )
            timings["extract_s"] = round(time.perf_counter() - t0, 4)
            doc = doc.model_copy(update={"id": job.document_id, "file_name": job.file_name})
            if not jobs.advance(job.id, self.owner, "tagging"):
                return
            t0 = time.perf_counter()
            doc = self._tag_document(doc)
            timings["tag_s"] = round(time.perf_counter() - t0, 4)
            if not jobs.advance(job.id, self.owner, "indexing"):
                return
            t0 = time.perf_counter()
            self._index(job, doc)
            timings["index_s"] = round(time.perf_counter() - t0, 4)
            if not jobs.is_kept(job.document_id):
                # deleted while we worked: do not resurrect it
                library.backend.delete_document(job.document_id)
                return
            timings["total_s"] = round(time.perf_counter() - started, 4)
            jobs.finish(job.id, self.owner, timings=timings)
            log.info(
                "done job=%s document=%s passages=%d %s",
                job.id,
                job.document_id[:12],
                len(doc.passages),
                " ".join(f"{k}={v}" for k, v in timings.items()),
            )
        except BackendUnavailable:
            log.warning("backend unavailable; job=%s waits", job.id)
            jobs.requeue(job.id, self.owner)
            self._stop.wait(BACKEND_RETRY_S)
        except ReviewLensError as exc:
            self._fail(job, exc.code, exc.message, timings)
        except Exception as exc:
            if self._stop.is_set():
                # the app is stopping under this job (its pool was shut): queue it for next time
                jobs.requeue(job.id, self.owner)
            elif isinstance(exc, BrokenProcessPool):
                self._reset_pool()
                self._fail(
                    job, "tagging_failed", "Tagging stopped unexpectedly (out of memory?).", timings
                )
            else:
                log.error("job=%s failed internally: %s", job.id, type(exc).__name__)
                self._fail(job, "internal_error", "The file could not be processed.", timings)
        finally:
            if job.parent_id:
                try:
                    library.complete_reindex_if_finished(job.parent_id)
                except Exception as exc:
                    log.error(
                        "reindex job=%s could not finish: %s", job.parent_id, type(exc).__name__
                    )

    def _fail(self, job: Job, code: str, message: str, timings: dict[str, float]) -> None:
        log.info("failed job=%s document=%s code=%s", job.id, (job.document_id or "")[:12], code)
        if job.parent_id and job.document_id and self.library.jobs.parent_open(job.parent_id):
            # a document that fails to reindex keeps its previous entry rather than vanish;
            # copied before the job ends, so the swap cannot happen without it
            try:
                previous = self.library.backend.get_document(job.document_id)
                if previous is not None:
                    self.library.backend.rebuild_documents([previous])
            except ReviewLensError as exc:
                log.error("job=%s previous entry not kept: %s", job.id, exc.code)
        self.library.jobs.finish(
            job.id, self.owner, error_code=code, error=message, timings=timings
        )

    def _index(self, job: Job, doc: Document) -> None:
        backend = self.library.backend
        if job.parent_id and self.library.jobs.parent_open(job.parent_id):
            backend.rebuild_documents([doc])
        else:
            backend.index_documents([doc])

    # -- tagging pool ----------------------------------------------------------------------------

    def _tag_document(self, doc: Document) -> Document:
        taxonomy = self.library.taxonomy
        if taxonomy is None:
            raise TaxonomyError("The taxonomy could not be loaded, so nothing can be tagged.")
        if self.tag_processes <= 0:
            from nlp.tagger import tag_document

            return tag_document(doc, taxonomy)
        from nlp.tagger import tag_in_pool_process

        return self._tag_pool(taxonomy).submit(tag_in_pool_process, doc).result()

    def _tag_pool(self, taxonomy: Taxonomy) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._stop.is_set():
                raise RuntimeError("the worker is stopping")
            if self._pool is not None and taxonomy.version != self._pool_taxonomy:
                # the taxonomy was edited: tag with the new one from now on
                self._pool.shutdown(wait=False)
                self._pool = None
            if self._pool is None:
                from nlp.tagger import init_pool_process

                self._pool = ProcessPoolExecutor(
                    max_workers=self.tag_processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=init_pool_process,
                    initargs=(taxonomy,),
                )
                self._pool_taxonomy = taxonomy.version
            return self._pool

    def _warm_pool(self) -> None:
        """Start the tagging processes now, so the first upload does not wait for spaCy."""
        taxonomy = self.library.taxonomy
        if taxonomy is None or self.tag_processes <= 0:
            return
        try:
            pool = self._tag_pool(taxonomy)
            for _ in range(self.tag_processes):
                pool.submit(int)
        except RuntimeError:  # stopped meanwhile
            pass

    def _reset_pool(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
