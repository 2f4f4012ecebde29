"""What the API and the command line both do to the library: accept files, delete, reindex.

Both front ends call these functions and nothing else writes originals, jobs or the index, so a
file ingested from a folder and one uploaded through the browser take exactly the same path.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from reviewlens.errors import EmptyFile, NotFound, ReviewLensError
from reviewlens.settings import Settings
from search_api.backend import SearchBackend, create_backend
from search_api.jobs import Job, JobConflict, JobStore, Submitted
from search_api.storage import OriginalStore, is_document_id

if TYPE_CHECKING:
    from nlp.taxonomy import Taxonomy

log = logging.getLogger("reviewlens.service")

MAX_LABEL = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_label(file_name: str | None) -> str:
    """The uploaded name reduced to a display label: last path part, no control characters,
    bounded length. It is never used as a path, but it is shown and exported."""
    name = unicodedata.normalize("NFC", file_name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _CONTROL.sub("", name).strip().lstrip(".").strip()
    if len(name) > MAX_LABEL:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_LABEL - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_LABEL]
    return name or "upload"


def try_load_taxonomy(settings: Settings) -> Taxonomy | None:
    try:
        from nlp.taxonomy import load_taxonomy

        return load_taxonomy(settings.taxonomy_path)
    except ReviewLensError as exc:
        log.error("taxonomy not loaded: %s", exc.code)
        return None


@dataclass
class FileOutcome:
    """One input file of a batch: accepted (with its job) or refused (with why)."""

    label: str
    submitted: Submitted | None = None
    error_code: str | None = None
    error: str | None = None
    path: Path | None = field(default=None, repr=False)  # CLI only: the file as given


class Library:
    """Originals, jobs and the index of one data folder, and the operations over them."""

    def __init__(
        self,
        settings: Settings,
        *,
        backend: SearchBackend | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.store = OriginalStore(self.data_dir)
        self.jobs = JobStore(self.data_dir)
        self._fixed_taxonomy = taxonomy
        self._taxonomy: Taxonomy | None = None
        self._taxonomy_mtime: float | None = None
        self._backend = backend
        self._lock = threading.Lock()
        self._taxonomy_lock = threading.Lock()
        self._rebuild_lock = threading.Lock()
        self.listeners: list[threading.Event] = []  # set when new work is queued

    @property
    def taxonomy(self) -> Taxonomy | None:
        """The taxonomy in force, re-read when its file changes (a QA lead edited it)."""
        if self._fixed_taxonomy is not None:
            return self._fixed_taxonomy
        try:
            mtime: float | None = self.settings.taxonomy_path.stat().st_mtime
        except OSError:
            mtime = None
        with self._taxonomy_lock:
            if self._taxonomy_mtime != mtime or self._taxonomy is None:
                loaded = try_load_taxonomy(self.settings)
                if loaded is not None or self._taxonomy is None:
                    self._taxonomy = loaded
                self._taxonomy_mtime = mtime
            return self._taxonomy

    def expand(self, term: str) -> list[str]:
        taxonomy = self.taxonomy
        return taxonomy.expand_query_term(term) if taxonomy is not None else [term]

    @property
    def backend(self) -> SearchBackend:
        backend = self._backend
        if backend is not None:
            return backend
        with self._lock:
            if self._backend is None:
                self._backend = create_backend(self.settings, expand=self.expand)
            return self._backend

    def close(self) -> None:
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None
        self.jobs.close()

    def notify(self) -> None:
        for event in self.listeners:
            event.set()

    # -- accepting files -------------------------------------------------------------------

    def submit_stream(
        self, stream: BinaryIO, file_name: str | None, *, retry_failed: bool = False
    ) -> Submitted:
        """Keep the bytes and queue a job, or return the existing job for the same bytes."""
        label = safe_label(file_name)
        document_id, size = self.store.put_stream(stream, self.settings.max_upload_bytes)
        if size == 0:
            self.store.delete(document_id)
            raise EmptyFile("The file is empty.")
        submitted = self.jobs.submit(document_id, label, size, retry_failed=retry_failed)
        if not submitted.duplicate or submitted.job.state == "queued":
            self.notify()
        log.info(
            "accepted job=%s document=%s size=%d duplicate=%s",
            submitted.job.id,
            document_id[:12],
            size,
            submitted.duplicate,
        )
        return submitted

    def submit_path(self, path: Path, *, retry_failed: bool = False) -> FileOutcome:
        outcome = FileOutcome(label=safe_label(path.name), path=path)
        try:
            with path.open("rb") as stream:
                outcome.submitted = self.submit_stream(stream, path.name, retry_failed=retry_failed)
        except ReviewLensError as exc:
            outcome.error_code, outcome.error = exc.code, exc.message
        except OSError as exc:
            outcome.error_code = "unreadable"
            outcome.error = f"The file could not be read ({exc.strerror or type(exc).__name__})."
        return outcome

    # -- removing and rebuilding -------------------------------------------------------------

    def delete(self, document_id: str) -> None:
        """Remove a document from the index, its original and its jobs."""
        if not is_document_id(document_id):
            raise NotFound("No such document.")
        kept = self.jobs.is_kept(document_id)
        indexed = self.backend.delete_document(document_id)
        if not kept and not indexed:
            raise NotFound("No such document.")
        self.jobs.forget_document(document_id)
        self.store.delete(document_id)
        log.info("deleted document=%s", document_id[:12])

    def reindex(self) -> Job:
        """Rebuild the index from the kept originals. Searches are answered from the live index
        until every document is in the new one; then the new one is swapped in."""
        with self._rebuild_lock:
            if self.jobs.open_reindex() is not None:
                raise JobConflict("A reindex is already running.")
            self.backend.abort_rebuild()
            self.backend.begin_rebuild()
            job = self.jobs.submit_reindex()
        log.info("reindex job=%s documents=%d", job.id, job.progress.total if job.progress else 0)
        self.complete_reindex_if_finished(job.id)
        self.notify()
        return self.jobs.get(job.id)

    def complete_reindex_if_finished(self, parent_id: str) -> bool:
        """Swap the rebuilt index in once no document of the reindex is still pending."""
        with self._rebuild_lock:
            if not self.jobs.parent_ready(parent_id):
                return False
            try:
                self.backend.commit_rebuild()
            except Exception:
                self.backend.abort_rebuild()
                self.jobs.end_parent(
                    parent_id, "index_swap_failed", "The new index could not be swapped in."
                )
                raise
            failed = self.jobs.get(parent_id).progress
            if failed is not None and failed.failed:
                self.jobs.end_parent(
                    parent_id,
                    "documents_failed",
                    f"{failed.failed} of {failed.total} documents failed to reindex; "
                    "their previous index entries were kept.",
                )
            else:
                self.jobs.end_parent(parent_id, None, None)
            log.info("reindex job=%s committed", parent_id)
            return True

    def resume_reindex(self) -> None:
        """After a restart the half-built index cannot be trusted: start it again."""
        with self._rebuild_lock:
            parent = self.jobs.open_reindex()
            if parent is None:
                return
            self.backend.abort_rebuild()
            self.backend.begin_rebuild()
            self.jobs.restart_children(parent.id)
        self.complete_reindex_if_finished(parent.id)
        log.info("reindex job=%s restarted after recovery", parent.id)


def readable_extensions() -> frozenset[str]:
    """Extensions some registered extractor reads; used only to pick files out of folders."""
    import ingest.extractors  # noqa: F401  (registers the built-in extractors)
    from ingest.extractors.base import registered

    return frozenset(ext for extractor in registered() for ext in extractor.extensions)


def collect_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(files to ingest, files passed over). Files named directly are always tried; inside
    folders (walked recursively, hidden entries skipped) only readable types are taken, and
    the rest are reported back rather than silently dropped."""
    readable = readable_extensions()
    take: list[Path] = []
    passed_over: list[Path] = []
    for path in paths:
        if not path.is_dir():
            take.append(path)
            continue
        for child in sorted(path.rglob("*")):
            rel = child.relative_to(path)
            if any(part.startswith(".") for part in rel.parts) or not child.is_file():
                continue
            if child.suffix.lower().lstrip(".") in readable:
                take.append(child)
            else:
                passed_over.append(child)
    return take, passed_over
