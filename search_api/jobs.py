"""Persisted jobs: every accepted upload is a row before the API answers 202, so a restart can
finish it. One SQLite file under the data folder, shared by the server and the command line.

States run queued -> extracting -> tagging -> indexing -> done, or end in failed with a reason.
Each write is a short `BEGIN IMMEDIATE` transaction, which is what makes ten clients uploading
the same bytes at once end with one document: the first insert of the document id wins and the
others are told it is a duplicate.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from reviewlens.errors import NotFound, ReviewLensError

JobState = Literal["queued", "extracting", "tagging", "indexing", "done", "failed"]
JobKind = Literal["ingest", "reindex"]
ACTIVE_STATES = ("extracting", "tagging", "indexing")
END_STATES = ("done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS originals (
    document_id TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    document_id TEXT,
    file_name TEXT,
    parent_id TEXT,
    state TEXT NOT NULL,
    error_code TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    timings TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_at);
CREATE INDEX IF NOT EXISTS jobs_document ON jobs(document_id);
CREATE INDEX IF NOT EXISTS jobs_parent ON jobs(parent_id);
"""

# worker tokens alive in this process; a job owned by this pid but an unknown token is orphaned
_LIVE_OWNERS: set[str] = set()
_LIVE_LOCK = threading.Lock()


class JobConflict(ReviewLensError):
    """The job is not in a state that allows the request (e.g. retrying a job that is running)."""

    code = "conflict"
    http_status = 409


class Progress(BaseModel):
    done: int
    failed: int
    total: int


class Job(BaseModel):
    id: str
    kind: JobKind
    state: JobState
    document_id: str | None = None
    file_name: str | None = None
    parent_id: str | None = None  # the reindex this document job belongs to
    error_code: str | None = None
    error: str | None = None
    attempts: int = 0
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    timings: dict[str, float] = {}
    progress: Progress | None = None  # reindex jobs: how far through the originals


class Submitted(BaseModel):
    job: Job
    duplicate: bool


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def new_owner() -> str:
    token = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
    with _LIVE_LOCK:
        _LIVE_OWNERS.add(token)
    return token


def release_owner(token: str) -> None:
    with _LIVE_LOCK:
        _LIVE_OWNERS.discard(token)


def _owner_alive(owner: str | None) -> bool:
    if not owner:
        return False
    pid_text, _, _token = owner.partition(":")
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        with _LIVE_LOCK:
            return owner in _LIVE_OWNERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobStore:
    """The jobs database. Safe to share between threads; each thread gets its own connection."""

    def __init__(self, data_dir: Path) -> None:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(data_dir) / "jobs.sqlite3"
        self._local = threading.local()
        self._conn().executescript(_SCHEMA)

    # -- connection handling -------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def ping(self) -> None:
        self._conn().execute("SELECT 1 FROM jobs LIMIT 1").fetchall()

    # -- reading ---------------------------------------------------------------------------

    def _job(self, row: sqlite3.Row) -> Job:
        job = Job(
            id=row["id"],
            kind=row["kind"],
            state=row["state"],
            document_id=row["document_id"],
            file_name=row["file_name"],
            parent_id=row["parent_id"],
            error_code=row["error_code"],
            error=row["error"],
            attempts=row["attempts"],
            created_at=_ts(row["created_at"]),
            updated_at=_ts(row["updated_at"]),
            finished_at=_ts(row["finished_at"]),
            timings=json.loads(row["timings"]) if row["timings"] else {},
        )
        if job.kind == "reindex":
            self._fill_parent(job)
        return job

    def _fill_parent(self, job: Job) -> None:
        """A running reindex's state is read off its per-document children, so it never sticks."""
        counts = dict(
            self._conn()
            .execute(
                "SELECT state, count(*) FROM jobs WHERE parent_id = ? GROUP BY state", (job.id,)
            )
            .fetchall()
        )
        total = sum(counts.values())
        done = counts.get("done", 0)
        failed = counts.get("failed", 0)
        job.progress = Progress(done=done, failed=failed, total=total)
        if job.state in END_STATES:
            return
        started = done + failed + sum(counts.get(s, 0) for s in ACTIVE_STATES)
        job.state = "indexing" if started or total == 0 else "queued"

    def get(self, job_id: str) -> Job:
        row = self._conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound("No such job.")
        return self._job(row)

    def recent(
        self,
        *,
        state: str | None = None,
        kind: str | None = None,
        document_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
        include_children: bool = True,
    ) -> list[Job]:
        where: list[str] = []
        args: list[object] = []
        if state:
            where.append("state = ?")
            args.append(state)
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if document_id:
            where.append("document_id = ?")
            args.append(document_id)
        if not include_children:
            where.append("parent_id IS NULL")
        sql = "SELECT * FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY updated_at DESC, rowid DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        return [self._job(r) for r in self._conn().execute(sql, args).fetchall()]

    def counts(self) -> dict[str, int]:
        rows = self._conn().execute(
            "SELECT state, count(*) FROM jobs WHERE kind = 'ingest' GROUP BY state"
        )
        return {state: n for state, n in rows.fetchall()}

    def original(self, document_id: str) -> tuple[str, int] | None:
        """(file name label, size) of a kept original, if the document is known."""
        row = (
            self._conn()
            .execute(
                "SELECT file_name, size_bytes FROM originals WHERE document_id = ?",
                (document_id,),
            )
            .fetchone()
        )
        return None if row is None else (row["file_name"], row["size_bytes"])

    def original_ids(self) -> list[str]:
        rows = self._conn().execute("SELECT document_id FROM originals ORDER BY created_at")
        return [r[0] for r in rows.fetchall()]

    # -- writing ---------------------------------------------------------------------------

    def submit(
        self, document_id: str, file_name: str, size_bytes: int, *, retry_failed: bool = False
    ) -> Submitted:
        """Accept an upload, once per document id however many clients send it."""
        now = time.time()
        with self._write() as db:
            known = db.execute(
                "SELECT 1 FROM originals WHERE document_id = ?", (document_id,)
            ).fetchone()
            if known is not None:
                row = db.execute(
                    "SELECT * FROM jobs WHERE document_id = ? AND kind = 'ingest' "
                    "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                    (document_id,),
                ).fetchone()
                if row is not None:
                    if retry_failed and row["state"] == "failed":
                        db.execute(
                            "UPDATE jobs SET state = 'queued', error = NULL, error_code = NULL, "
                            "owner = NULL, finished_at = NULL, updated_at = ? WHERE id = ?",
                            (now, row["id"]),
                        )
                        row = db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
                    return Submitted(job=self._job(row), duplicate=True)
            else:
                db.execute(
                    "INSERT INTO originals (document_id, file_name, size_bytes, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (document_id, file_name, size_bytes, now),
                )
            job_id = uuid.uuid4().hex
            db.execute(
                "INSERT INTO jobs (id, kind, document_id, file_name, state, created_at, "
                "updated_at) VALUES (?, 'ingest', ?, ?, 'queued', ?, ?)",
                (job_id, document_id, file_name, now, now),
            )
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return Submitted(job=self._job(row), duplicate=known is not None)

    def submit_reindex(self) -> Job:
        """One parent job and a queued child per kept original."""
        now = time.time()
        parent = uuid.uuid4().hex
        with self._write() as db:
            db.execute(
                "INSERT INTO jobs (id, kind, state, created_at, updated_at) "
                "VALUES (?, 'reindex', 'queued', ?, ?)",
                (parent, now, now),
            )
            originals = db.execute(
                "SELECT document_id, file_name FROM originals ORDER BY created_at"
            ).fetchall()
            db.executemany(
                "INSERT INTO jobs (id, kind, document_id, file_name, parent_id, state, "
                "created_at, updated_at) VALUES (?, 'ingest', ?, ?, ?, 'queued', ?, ?)",
                [
                    (uuid.uuid4().hex, o["document_id"], o["file_name"], parent, now, now)
                    for o in originals
                ],
            )
        return self.get(parent)

    def open_reindex(self) -> Job | None:
        row = (
            self._conn()
            .execute(
                "SELECT * FROM jobs WHERE kind = 'reindex' AND state NOT IN ('done', 'failed') "
                "ORDER BY created_at DESC LIMIT 1"
            )
            .fetchone()
        )
        return None if row is None else self._job(row)

    def children(self, parent_id: str) -> list[str]:
        rows = self._conn().execute("SELECT id FROM jobs WHERE parent_id = ?", (parent_id,))
        return [r[0] for r in rows.fetchall()]

    def parent_open(self, parent_id: str) -> bool:
        row = self._conn().execute("SELECT state FROM jobs WHERE id = ?", (parent_id,)).fetchone()
        return row is not None and row["state"] not in END_STATES

    def parent_ready(self, parent_id: str) -> bool:
        """An open reindex whose every document job has ended."""
        if not self.parent_open(parent_id):
            return False
        row = (
            self._conn()
            .execute(
                "SELECT count(*) FROM jobs WHERE parent_id = ? AND state NOT IN ('done', 'failed')",
                (parent_id,),
            )
            .fetchone()
        )
        return int(row[0]) == 0

    def end_parent(self, parent_id: str, error_code: str | None, error: str | None) -> None:
        now = time.time()
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET state = ?, error_code = ?, error = ?, updated_at = ?, "
                "finished_at = ? WHERE id = ? AND state NOT IN ('done', 'failed')",
                ("failed" if error_code else "done", error_code, error, now, now, parent_id),
            )

    def restart_children(self, parent_id: str) -> None:
        """Queue every document of a reindex again (its half-built index was dropped)."""
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, error = NULL, error_code = NULL, "
                "finished_at = NULL, updated_at = ? WHERE parent_id = ?",
                (time.time(), parent_id),
            )

    def requeue(self, job_id: str, owner: str) -> None:
        """Put a job back (the backend is down); it keeps its place by creation time."""
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, updated_at = ? "
                "WHERE id = ? AND owner = ?",
                (time.time(), job_id, owner),
            )

    def claim(self, owner: str) -> Job | None:
        """Take the oldest queued job; uploads go before reindex work so staff are not kept
        waiting behind a rebuild."""
        now = time.time()
        with self._write() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE state = 'queued' AND kind = 'ingest' "
                "ORDER BY parent_id IS NOT NULL, created_at, rowid LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'extracting', owner = ?, attempts = attempts + 1, "
                "updated_at = ? WHERE id = ?",
                (owner, now, row["id"]),
            )
            claimed = db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
        return self._job(claimed)

    def advance(self, job_id: str, owner: str, state: JobState) -> bool:
        """Move a running job on; False if it is no longer ours (deleted or re-queued)."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE jobs SET state = ?, updated_at = ? WHERE id = ? AND owner = ? "
                "AND state IN ('extracting', 'tagging', 'indexing')",
                (state, time.time(), job_id, owner),
            )
            return cur.rowcount == 1

    def finish(
        self,
        job_id: str,
        owner: str,
        *,
        error_code: str | None = None,
        error: str | None = None,
        timings: dict[str, float] | None = None,
    ) -> bool:
        now = time.time()
        state = "failed" if error_code else "done"
        with self._write() as db:
            cur = db.execute(
                "UPDATE jobs SET state = ?, error_code = ?, error = ?, timings = ?, "
                "updated_at = ?, finished_at = ?, owner = NULL WHERE id = ? AND owner = ?",
                (
                    state,
                    error_code,
                    error,
                    json.dumps(timings or {}),
                    now,
                    now,
                    job_id,
                    owner,
                ),
            )
            return cur.rowcount == 1

    def retry(self, job_id: str) -> Job:
        """Queue a failed document job again; nothing else about it changes."""
        job = self.get(job_id)
        now = time.time()
        with self._write() as db:
            if job.kind == "reindex":
                raise JobConflict(
                    "A reindex is not retried as a whole: retry its failed documents' jobs, "
                    "or start a new reindex."
                )
            else:
                cur = db.execute(
                    "UPDATE jobs SET state = 'queued', error = NULL, error_code = NULL, "
                    "owner = NULL, finished_at = NULL, updated_at = ? "
                    "WHERE id = ? AND state = 'failed'",
                    (now, job_id),
                )
            if cur.rowcount == 0:
                raise JobConflict(f"Only a failed job can be retried; this one is {job.state}.")
        return self.get(job_id)

    def recover(self) -> int:
        """Re-queue jobs whose worker is gone (killed process, stopped app). Returns how many."""
        rows = (
            self._conn()
            .execute(
                "SELECT id, owner FROM jobs WHERE state IN ('extracting', 'tagging', 'indexing')"
            )
            .fetchall()
        )
        orphans = [r["id"] for r in rows if not _owner_alive(r["owner"])]
        if not orphans:
            return 0
        with self._write() as db:
            db.executemany(
                "UPDATE jobs SET state = 'queued', owner = NULL, updated_at = ? "
                "WHERE id = ? AND state IN ('extracting', 'tagging', 'indexing')",
                [(time.time(), job_id) for job_id in orphans],
            )
        return len(orphans)

    def forget_document(self, document_id: str) -> bool:
        """Drop a document's original record and its jobs; False if it was not known."""
        with self._write() as db:
            cur = db.execute("DELETE FROM originals WHERE document_id = ?", (document_id,))
            db.execute("DELETE FROM jobs WHERE document_id = ?", (document_id,))
            return cur.rowcount == 1

    def is_kept(self, document_id: str) -> bool:
        row = (
            self._conn()
            .execute("SELECT 1 FROM originals WHERE document_id = ?", (document_id,))
            .fetchone()
        )
        return row is not None

    def pending(self, job_ids: list[str] | None = None) -> int:
        """Jobs not yet finished (all of them, or among `job_ids`)."""
        if job_ids is None:
            row = (
                self._conn()
                .execute(
                    "SELECT count(*) FROM jobs WHERE kind = 'ingest' AND state NOT IN "
                    "('done', 'failed')"
                )
                .fetchone()
            )
            return int(row[0])
        total = 0
        conn = self._conn()
        for start in range(0, len(job_ids), 500):
            batch = job_ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            row = conn.execute(
                f"SELECT count(*) FROM jobs WHERE id IN ({marks}) AND state NOT IN "
                "('done', 'failed')",
                batch,
            ).fetchone()
            total += int(row[0])
        return total
