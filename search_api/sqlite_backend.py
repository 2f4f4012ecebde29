"""The embedded backend: one SQLite file with FTS5 over the lemma stream; no server to run.

Every write goes through one connection under a lock (SQLite has one writer anyway; queueing in
Python gives clear ordering instead of busy errors). Readers get a connection per thread and, in
WAL mode, never wait for the writer. Tables carry a generation number so a rebuild fills a new
set of tables beside the live one and a single-row update in `meta` swaps them atomically.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from nlp.analysis import lemma_text
from reviewlens.errors import BackendUnavailable
from reviewlens.model import DOC_TYPES, SECTION_KINDS, STANCES, Document
from search_api import analytics
from search_api.backend import (
    CooccurrenceCell,
    DocumentPage,
    DocumentSummary,
    EmergingRequest,
    EmergingResponse,
    EmergingTerm,
    EmergingTheme,
    Expand,
    Filters,
    FrequencyRow,
    GroupBy,
    RecommendationItem,
    RecommendationPage,
    SearchHit,
    SearchRequest,
    SearchResponse,
    SimilarRecommendation,
)
from search_api.highlight import highlight
from search_api.query import And, Node, Not, Or, Phrase, Prefix, Term, parse_query

if TYPE_CHECKING:
    from reviewlens.settings import Settings

FILE_NAME = "search.sqlite3"
SCHEMA_VERSION = 2  # raise when derived tables change; opening an older file re-derives them
BATCH = 200  # documents per write transaction


def fts_quote(token: str) -> str:
    """A string literal for FTS5: user text never reaches MATCH as syntax."""
    return '"' + token.replace('"', '""') + '"'


def to_fts(node: Node) -> str:
    """Translate the query AST into an FTS5 MATCH expression, every term quoted."""
    if isinstance(node, Term):
        return fts_quote(node.lemma)
    if isinstance(node, Phrase):
        return fts_quote(" ".join(node.lemmas))
    if isinstance(node, Prefix):
        return fts_quote(node.prefix) + "*"
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts(c) for c in node.children) + ")"
    if isinstance(node, And):
        positives = [to_fts(c) for c in node.children if not isinstance(c, Not)]
        expr = "(" + " AND ".join(positives) + ")"
        for child in node.children:
            if isinstance(child, Not):
                expr = f"({expr} NOT {to_fts(child.child)})"
        return expr
    raise ValueError("NOT must be combined with something positive")  # parse_query prevents it


def _quarter(date: str | None) -> str | None:
    if not date:
        return None
    return f"{date[:4]}-Q{(int(date[5:7]) - 1) // 3 + 1}"


class _Where:
    """SQL conditions and parameters for `Filters` over a table that has the passage columns
    (passages or ptheme rows), so every read applies the grammar the same way."""

    def __init__(self, filters: Filters | None, gen: int, alias: str, pid: str) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []
        f = filters or Filters()

        def any_of(column: str, values: Sequence[Any]) -> None:
            if values:
                self.clauses.append(f"{alias}.{column} IN ({','.join('?' * len(values))})")
                self.params.extend(values)

        any_of("doc_type", f.doc_types)
        any_of("doc_id", f.document_ids)
        any_of("section_kind", f.section_kinds)
        any_of("stance", f.stances)
        if f.year_from is not None:
            self.clauses.append(f"{alias}.year >= ?")
            self.params.append(f.year_from)
        if f.year_to is not None:
            self.clauses.append(f"{alias}.year <= ?")
            self.params.append(f.year_to)
        for theme in dict.fromkeys(f.themes):
            self.clauses.append(f"{pid} IN (SELECT pid FROM ptheme_{gen} WHERE theme = ?)")
            self.params.append(theme)
        if f.agencies:
            marks = ",".join("?" * len(f.agencies))
            self.clauses.append(
                f"{pid} IN (SELECT pid FROM pagency_{gen} WHERE agency IN ({marks}))"
            )
            self.params.extend(f.agencies)

    def sql(self, prefix: str = " AND ") -> str:
        return prefix + " AND ".join(self.clauses) if self.clauses else ""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS doc_{g} (
    rowid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE, file_name TEXT, title TEXT,
    doc_type TEXT, year INTEGER, date TEXT, quarter TEXT, source TEXT, page_count INTEGER,
    passages INTEGER, recommendations INTEGER, themes TEXT, body BLOB);
CREATE INDEX IF NOT EXISTS doc_{g}_order ON doc_{g}(year DESC, doc_id);
CREATE TABLE IF NOT EXISTS passage_{g} (
    rowid INTEGER PRIMARY KEY, doc INTEGER NOT NULL, doc_id TEXT NOT NULL, idx INTEGER,
    doc_type TEXT, year INTEGER, quarter TEXT, source TEXT, section_kind TEXT, stance TEXT,
    page INTEGER, paragraph TEXT, section TEXT, text TEXT, themes TEXT, agencies TEXT);
CREATE INDEX IF NOT EXISTS passage_{g}_doc ON passage_{g}(doc, idx);
CREATE VIRTUAL TABLE IF NOT EXISTS fts_{g} USING fts5(lemmas, tokenize='unicode61');
CREATE TABLE IF NOT EXISTS ptheme_{g} (
    pid INTEGER NOT NULL, theme TEXT NOT NULL, doc INTEGER, doc_id TEXT, doc_type TEXT,
    year INTEGER, quarter TEXT, source TEXT, section_kind TEXT, stance TEXT,
    PRIMARY KEY (pid, theme)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ptheme_{g}_theme ON ptheme_{g}(theme, pid);
CREATE INDEX IF NOT EXISTS ptheme_{g}_doc ON ptheme_{g}(doc);
CREATE TABLE IF NOT EXISTS pagency_{g} (
    pid INTEGER NOT NULL, agency TEXT NOT NULL, doc INTEGER,
    PRIMARY KEY (pid, agency)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pagency_{g}_agency ON pagency_{g}(agency, pid);
CREATE INDEX IF NOT EXISTS pagency_{g}_doc ON pagency_{g}(doc);
CREATE TABLE IF NOT EXISTS dtheme_{g} (
    doc INTEGER NOT NULL, theme TEXT NOT NULL, passages INTEGER, doc_id TEXT, doc_type TEXT,
    year INTEGER, quarter TEXT, source TEXT, PRIMARY KEY (doc, theme)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dtheme_{g}_year ON dtheme_{g}(theme, year, passages);
CREATE INDEX IF NOT EXISTS dtheme_{g}_quarter ON dtheme_{g}(theme, quarter, passages);
CREATE INDEX IF NOT EXISTS dtheme_{g}_doc_type ON dtheme_{g}(theme, doc_type, passages);
CREATE INDEX IF NOT EXISTS dtheme_{g}_source ON dtheme_{g}(theme, source, passages);
CREATE TABLE IF NOT EXISTS dpair_{g} (
    doc INTEGER NOT NULL, theme_a TEXT NOT NULL, theme_b TEXT NOT NULL, passages INTEGER,
    doc_id TEXT, doc_type TEXT, year INTEGER, quarter TEXT, source TEXT,
    PRIMARY KEY (doc, theme_a, theme_b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rec_{g} (
    doc INTEGER NOT NULL, doc_id TEXT, idx INTEGER, number TEXT, text TEXT, addressee TEXT,
    lemmas TEXT, PRIMARY KEY (doc, idx)) WITHOUT ROWID;
"""
_TABLES = ("doc", "passage", "fts", "ptheme", "pagency", "dtheme", "dpair", "rec")


class SqliteBackend:
    """`SearchBackend` on one SQLite file (see `search_api.backend` for the contract)."""

    name = "sqlite"

    def __init__(
        self, path: Path, *, expand: Expand | None = None, busy_timeout_s: float = 30.0
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.expand = expand
        self.busy_timeout_s = busy_timeout_s
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._writer = self._connect()
        try:
            self._writer.execute("PRAGMA journal_mode=WAL")
            with self._write():
                self._writer.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)"
                )
                self._writer.execute("INSERT OR IGNORE INTO meta VALUES ('live', 1)")
                gen = self._gen(self._writer)
                self._create(gen)
                stale = self._schema_is_stale(gen)
        except sqlite3.DatabaseError as exc:
            self._writer.close()
            raise BackendUnavailable(
                f"{self.path.name} is not a usable search index: {exc}"
            ) from exc
        self._columns: _Columns | None = None
        self._columns_lock = threading.Lock()
        self._similarity: tuple[tuple[int, int], analytics.RecommendationSimilarity] | None = None
        if stale:
            self._migrate()

    def _schema_is_stale(self, gen: int) -> bool:
        """Whether derived tables predate this code; documents are kept whole, so they can
        be re-derived without the originals."""
        row = self._writer.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        self._writer.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        if row is not None and int(row[0]) >= SCHEMA_VERSION:
            return False
        return self._writer.execute(f"SELECT 1 FROM doc_{gen} LIMIT 1").fetchone() is not None

    def _migrate(self) -> None:
        with self._read() as (conn, g):
            bodies = [r[0] for r in conn.execute(f"SELECT body FROM doc_{g}")]
        self.index_documents(Document.model_validate_json(zlib.decompress(b)) for b in bodies)

    @classmethod
    def from_settings(cls, settings: Settings, *, expand: Expand | None = None) -> SqliteBackend:
        return cls(settings.data_dir / FILE_NAME, expand=expand)

    # --- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=self.busy_timeout_s,
            )
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA mmap_size=1073741824")  # address space, not memory
        except sqlite3.Error as exc:
            raise BackendUnavailable(
                f"{self.path.name} cannot be opened as a search index: {exc}"
            ) from exc
        return conn

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise BackendUnavailable("The search index is closed.")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def _read(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """One read transaction, so every query of a request sees the same snapshot."""
        conn = self._reader()
        try:
            conn.execute("BEGIN")
            yield conn, self._gen(conn)
        except sqlite3.OperationalError as exc:
            raise BackendUnavailable(f"The search index cannot be read: {exc}") from exc
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise BackendUnavailable("The search index is closed.")
        with self._write_lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                yield self._writer
                self._writer.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise BackendUnavailable(f"The search index cannot be written: {exc}") from exc
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        if self._writer.in_transaction:
            self._writer.execute("ROLLBACK")

    @staticmethod
    def _gen(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'live'").fetchone()[0])

    @staticmethod
    def _rebuild_gen(conn: sqlite3.Connection) -> int | None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'rebuild'").fetchone()
        return None if row is None else int(row[0])

    def _create(self, gen: int) -> None:
        for statement in _SCHEMA.format(g=gen).split(";"):
            if statement.strip():
                self._writer.execute(statement)
        # each generation numbers its passages from 1 and never reuses a number
        self._writer.execute("INSERT OR IGNORE INTO meta VALUES (?, 1)", (f"next_pid_{gen}",))

    def _drop(self, gen: int) -> None:
        for table in _TABLES:
            self._writer.execute(f"DROP TABLE IF EXISTS {table}_{gen}")
        self._writer.execute("DELETE FROM meta WHERE key = ?", (f"next_pid_{gen}",))

    # --- writes --------------------------------------------------------------------------

    def index_documents(self, docs: Iterable[Document]) -> int:
        return self._index(docs, rebuild_only=False)

    def rebuild_documents(self, docs: Iterable[Document]) -> int:
        return self._index(docs, rebuild_only=True)

    def _index(self, docs: Iterable[Document], rebuild_only: bool) -> int:
        written = 0
        batch: list[Document] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= BATCH:
                written += self._write_batch(batch, rebuild_only)
                batch = []
        if batch:
            written += self._write_batch(batch, rebuild_only)
        return written

    def _write_batch(self, docs: list[Document], rebuild_only: bool) -> int:
        prepared = [_Prepared(doc) for doc in docs]  # outside the lock: pure Python work
        with self._write() as conn:
            rebuild = self._rebuild_gen(conn)
            if rebuild_only:
                if rebuild is None:
                    raise RuntimeError("No rebuild is open; call begin_rebuild() first.")
                gens = [rebuild]
            else:
                gens = [self._gen(conn)] + ([rebuild] if rebuild is not None else [])
            for gen in gens:
                for item in prepared:
                    self._delete(conn, gen, item.doc.id)
                    item.insert(conn, gen)
        self._similarity = None
        return len(docs)

    @staticmethod
    def _delete(conn: sqlite3.Connection, gen: int, document_id: str) -> bool:
        row = conn.execute(f"SELECT rowid FROM doc_{gen} WHERE doc_id = ?", (document_id,))
        found = row.fetchone()
        if found is None:
            return False
        doc = found[0]
        conn.execute(
            f"DELETE FROM fts_{gen} WHERE rowid IN (SELECT rowid FROM passage_{gen} WHERE doc = ?)",
            (doc,),
        )
        for table in ("passage", "ptheme", "pagency", "dtheme", "dpair", "rec"):
            conn.execute(f"DELETE FROM {table}_{gen} WHERE doc = ?", (doc,))
        conn.execute(f"DELETE FROM doc_{gen} WHERE rowid = ?", (doc,))
        return True

    def delete_document(self, document_id: str) -> bool:
        with self._write() as conn:
            rebuild = self._rebuild_gen(conn)
            found = self._delete(conn, self._gen(conn), document_id)
            if rebuild is not None:
                self._delete(conn, rebuild, document_id)
        self._similarity = None
        return found

    def begin_rebuild(self) -> None:
        with self._write() as conn:
            if self._rebuild_gen(conn) is not None:
                raise RuntimeError("A rebuild is already open; commit or abort it first.")
            gen = self._gen(conn) + 1
            self._drop(gen)
            self._create(gen)
            conn.execute("INSERT INTO meta VALUES ('rebuild', ?)", (gen,))

    def commit_rebuild(self) -> None:
        with self._write() as conn:
            rebuild = self._rebuild_gen(conn)
            if rebuild is None:
                raise RuntimeError("No rebuild is open.")
            old = self._gen(conn)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'live'", (rebuild,))
            conn.execute("DELETE FROM meta WHERE key = 'rebuild'")
            self._drop(old)
        self._similarity = None

    def abort_rebuild(self) -> None:
        with self._write() as conn:
            rebuild = self._rebuild_gen(conn)
            if rebuild is not None:
                conn.execute("DELETE FROM meta WHERE key = 'rebuild'")
                self._drop(rebuild)

    # --- documents -----------------------------------------------------------------------

    def get_document(self, document_id: str) -> Document | None:
        with self._read() as (conn, g):
            row = conn.execute(
                f"SELECT body FROM doc_{g} WHERE doc_id = ?", (document_id,)
            ).fetchone()
        if row is None:
            return None
        return Document.model_validate_json(zlib.decompress(row[0]))

    def _doc_where(self, filters: Filters | None, g: int) -> _Where:
        f = filters or Filters()
        doc_level = Filters(
            doc_types=f.doc_types,
            year_from=f.year_from,
            year_to=f.year_to,
            document_ids=f.document_ids,
        )
        where = _Where(doc_level, g, "d", "d.rowid")
        if f.has_passage_fields():
            inner = _Where(f, g, "p", "p.rowid")
            where.clauses.append(
                f"EXISTS (SELECT 1 FROM passage_{g} p WHERE p.doc = d.rowid{inner.sql()})"
            )
            where.params.extend(inner.params)
        return where

    def list_documents(
        self, filters: Filters | None = None, offset: int = 0, limit: int = 50
    ) -> DocumentPage:
        with self._read() as (conn, g):
            where = self._doc_where(filters, g)
            cond = where.sql(" WHERE ")
            total = conn.execute(f"SELECT COUNT(*) FROM doc_{g} d{cond}", where.params)
            total_n = int(total.fetchone()[0])
            rows = conn.execute(
                f"SELECT doc_id, file_name, title, doc_type, year, date, source, page_count, "
                f"passages, recommendations, themes FROM doc_{g} d{cond} "
                f"ORDER BY d.year IS NULL, d.year DESC, d.doc_id LIMIT ? OFFSET ?",
                [*where.params, max(limit, 0), max(offset, 0)],
            ).fetchall()
        items = [
            DocumentSummary(
                id=r[0],
                file_name=r[1],
                title=r[2],
                doc_type=r[3],
                year=r[4],
                date=r[5],
                source=r[6],
                page_count=r[7],
                passages=r[8],
                recommendations=r[9],
                themes=json.loads(r[10]),
            )
            for r in rows
        ]
        return DocumentPage(total=total_n, items=items)

    def count(self, filters: Filters | None = None) -> int:
        with self._read() as (conn, g):
            where = self._doc_where(filters, g)
            row = conn.execute(
                f"SELECT COUNT(*) FROM doc_{g} d{where.sql(' WHERE ')}", where.params
            )
            return int(row.fetchone()[0])

    # --- search --------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        ast = parse_query(request.query, self.expand) if request.query is not None else None
        f = request.filters
        with self._read() as (conn, g):
            cols = self._columns_for(conn, g)
            if ast is not None:
                rows = conn.execute(
                    f"SELECT rowid, bm25(fts_{g}) FROM fts_{g} WHERE fts_{g} MATCH ?",
                    (to_fts(ast),),
                ).fetchall()
                matched = np.array(rows, dtype=np.float64).reshape(-1, 2)
                rids = matched[:, 0].astype(np.int64)
                scores = matched[:, 1]
            else:
                where = _Where(f, g, "p", "p.rowid")
                rows = conn.execute(
                    f"SELECT rowid FROM passage_{g} p{where.sql(' WHERE ')}", where.params
                ).fetchall()
                rids = np.array([r[0] for r in rows], dtype=np.int64)
                scores = np.zeros(len(rids))
            if ast is not None:
                doc_rowids = self._doc_rowids(conn, g, f.document_ids)
                keep = cols.mask(rids, f, doc_rowids)
                rids, scores = rids[keep], scores[keep]
            total = len(rids)
            order = np.lexsort((cols.idx[rids], cols.doc_rank[cols.doc[rids]], scores))
            window = order[request.offset : request.offset + request.limit]
            page, page_scores = rids[window], scores[window]
            facets = cols.facets(rids, request.facet_size) if request.facets else {}
            fetched = {
                r[0]: r[1:]
                for r in conn.execute(
                    f"SELECT p.rowid, p.doc_id, p.idx, d.title, p.doc_type, p.year, p.page, "
                    f"p.paragraph, p.section, p.section_kind, p.stance, p.text, p.themes, "
                    f"p.agencies FROM passage_{g} p JOIN doc_{g} d ON d.rowid = p.doc "
                    f"WHERE p.rowid IN ({','.join('?' * len(page))})",
                    [int(x) for x in page],
                )
            }
        hits = []
        for pid, score in zip(page.tolist(), page_scores.tolist(), strict=True):
            r = fetched[pid]
            marks = highlight(r[10], ast)
            hits.append(
                SearchHit(
                    document_id=r[0],
                    passage_index=r[1],
                    title=r[2],
                    doc_type=r[3],
                    year=r[4],
                    page=r[5],
                    paragraph=r[6],
                    section=r[7],
                    section_kind=r[8],
                    stance=r[9],
                    text=r[10],
                    highlights=marks.fragments,
                    match_offsets=marks.offsets,
                    themes=json.loads(r[11]),
                    agencies=json.loads(r[12]),
                    score=round(-score, 6),
                )
            )
        return SearchResponse(total=total, hits=hits, facets=facets)

    @staticmethod
    def _doc_rowids(conn: sqlite3.Connection, g: int, ids: list[str]) -> list[int] | None:
        if not ids:
            return None
        marks = ",".join("?" * len(ids))
        rows = conn.execute(f"SELECT rowid FROM doc_{g} WHERE doc_id IN ({marks})", ids)
        return [r[0] for r in rows]

    def _columns_for(self, conn: sqlite3.Connection, g: int) -> _Columns:
        """The facet columns of generation `g`, brought up to this snapshot."""
        with self._columns_lock:
            cols = self._columns
            if cols is None or cols.generation != g:
                cols = _Columns(g)
            cols.refresh(conn)
            self._columns = cols
            return cols

    # --- counting ------------------------------------------------------------------------

    def theme_frequency(
        self,
        by: GroupBy,
        filters: Filters | None = None,
        themes: list[str] | None = None,
    ) -> list[FrequencyRow]:
        if by not in ("year", "quarter", "doc_type", "source"):
            raise ValueError(f"cannot group by {by!r}")
        f = filters or Filters()
        with self._read() as (conn, g):
            if f.has_passage_fields():
                # passage-level filters: count over the facet columns, not a 400k-row join
                cols = self._columns_for(conn, g)
                doc_level = _Where(
                    Filters(
                        doc_types=f.doc_types,
                        year_from=f.year_from,
                        year_to=f.year_to,
                        document_ids=f.document_ids,
                    ),
                    g,
                    "p",
                    "p.rowid",
                )
                rids = np.array(
                    [
                        r[0]
                        for r in conn.execute(
                            f"SELECT rowid FROM passage_{g} p{doc_level.sql(' WHERE ')}",
                            doc_level.params,
                        )
                    ],
                    dtype=np.int64,
                )
                rids = rids[cols.mask(rids, f, None)]
                rows = cols.frequency(rids, by, themes)
            else:
                where = _Where(f, g, "t", "t.pid")
                if themes is not None:
                    marks = ",".join("?" * len(themes))
                    where.clauses.append(f"t.theme IN ({marks})")
                    where.params.extend(themes)
                where.clauses.append(f"t.{by} IS NOT NULL")
                rows = conn.execute(
                    f"SELECT t.theme, t.{by}, COUNT(*), SUM(t.passages) FROM dtheme_{g} t"
                    f"{where.sql(' WHERE ')} GROUP BY 1, 2",
                    where.params,
                ).fetchall()
        out = [
            FrequencyRow(theme=r[0], key=str(r[1]), documents=int(r[2]), passages=int(r[3]))
            for r in rows
        ]
        out.sort(key=lambda row: (row.theme, row.key))
        return out

    def cooccurrence(self, filters: Filters | None = None) -> list[CooccurrenceCell]:
        with self._read() as (conn, g):
            if filters is not None and filters.has_passage_fields():
                where = _Where(filters, g, "a", "a.pid")
                sql = (
                    f"SELECT a.theme, b.theme, COUNT(DISTINCT a.doc), COUNT(*) FROM ptheme_{g} a "
                    f"JOIN ptheme_{g} b ON b.pid = a.pid AND b.theme > a.theme"
                )
            else:  # per-document pair counts made at indexing time: no self-join
                where = _Where(filters, g, "a", "a.doc")
                sql = f"SELECT theme_a, theme_b, COUNT(*), SUM(passages) FROM dpair_{g} a"
            rows = conn.execute(
                f"{sql}{where.sql(' WHERE ')} GROUP BY 1, 2 ORDER BY 1, 2", where.params
            ).fetchall()
        return [
            CooccurrenceCell(theme_a=r[0], theme_b=r[1], documents=r[2], passages=r[3])
            for r in rows
        ]

    def emerging(self, request: EmergingRequest) -> EmergingResponse:
        terms: dict[str, Counter[str]] = {"recent": Counter(), "baseline": Counter()}
        themes: dict[str, Counter[str]] = {"recent": Counter(), "baseline": Counter()}
        tokens = {"recent": 0, "baseline": 0}
        passages = {"recent": 0, "baseline": 0}
        periods = {
            "recent": (request.recent_from, request.recent_to),
            "baseline": (request.baseline_from, request.baseline_to),
        }
        with self._read() as (conn, g):
            for period, (lo, hi) in periods.items():
                f = request.filters.model_copy(update={"year_from": lo, "year_to": hi})
                where = _Where(f, g, "p", "p.rowid")
                streams: list[str] = []
                for lemmas, theme_json in conn.execute(
                    f"SELECT f.lemmas, p.themes FROM passage_{g} p "
                    f"JOIN fts_{g} f ON f.rowid = p.rowid{where.sql(' WHERE ')}",
                    where.params,
                ):
                    streams.append(lemmas)
                    themes[period].update(json.loads(theme_json))
                terms[period] = analytics.term_counts(streams)
                tokens[period] = sum(terms[period].values())
                passages[period] = len(streams)
        term_rows = analytics.over_represented(
            terms["recent"],
            terms["baseline"],
            tokens["recent"],
            tokens["baseline"],
            request.min_count,
            request.limit,
        )
        theme_rows = analytics.over_represented(
            themes["recent"],
            themes["baseline"],
            passages["recent"],
            passages["baseline"],
            request.min_count,
            request.limit,
        )
        return EmergingResponse(
            recent_passages=passages["recent"],
            baseline_passages=passages["baseline"],
            terms=[EmergingTerm(term=t, recent=r, baseline=b, score=s) for t, r, b, s in term_rows],
            themes=[
                EmergingTheme(theme=t, recent=r, baseline=b, score=s) for t, r, b, s in theme_rows
            ],
        )

    def recommendations(
        self, filters: Filters | None = None, offset: int = 0, limit: int = 50, similar: int = 3
    ) -> RecommendationPage:
        f = filters or Filters()
        doc_level = Filters(
            doc_types=f.doc_types,
            year_from=f.year_from,
            year_to=f.year_to,
            document_ids=f.document_ids,
        )
        with self._read() as (conn, g):
            where = _Where(doc_level, g, "d", "d.rowid")
            cond = where.sql(" WHERE ")
            total = int(
                conn.execute(
                    f"SELECT COUNT(*) FROM rec_{g} r JOIN doc_{g} d ON d.rowid = r.doc{cond}",
                    where.params,
                ).fetchone()[0]
            )
            rows = conn.execute(
                f"SELECT r.doc_id, d.title, d.doc_type, d.year, r.idx, r.number, r.text, "
                f"r.addressee FROM rec_{g} r JOIN doc_{g} d ON d.rowid = r.doc{cond} "
                f"ORDER BY d.year IS NULL, d.year DESC, d.doc_id, r.idx LIMIT ? OFFSET ?",
                [*where.params, max(limit, 0), max(offset, 0)],
            ).fetchall()
            model = self._similarity_model(conn, g) if rows and similar > 0 else None
            titles = dict(conn.execute(f"SELECT doc_id, title FROM doc_{g}").fetchall())
        items = []
        for r in rows:
            neighbours = model.similar(r[0], r[4], similar) if model else []
            items.append(
                RecommendationItem(
                    document_id=r[0],
                    title=r[1],
                    doc_type=r[2],
                    year=r[3],
                    index=r[4],
                    number=r[5],
                    text=r[6],
                    addressee=r[7],
                    similar=[
                        SimilarRecommendation(
                            document_id=it.document_id,
                            title=titles.get(it.document_id),
                            index=it.index,
                            number=self._rec_number(it),
                            text=self._rec_text(it),
                            score=score,
                        )
                        for it, score in neighbours
                    ],
                )
            )
        return RecommendationPage(total=total, items=items)

    def _similarity_model(
        self, conn: sqlite3.Connection, g: int
    ) -> analytics.RecommendationSimilarity:
        """Built once per index state; writes reset it."""
        stamp = (g, int(conn.execute(f"SELECT COUNT(*) FROM rec_{g}").fetchone()[0]))
        cached = self._similarity
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rows = conn.execute(
            f"SELECT doc_id, idx, lemmas, number, text FROM rec_{g} ORDER BY doc_id, idx"
        ).fetchall()
        model = analytics.RecommendationSimilarity(
            [analytics.RecItem(r[0], r[1], r[2]) for r in rows]
        )
        self._rec_details = {(r[0], r[1]): (r[3], r[4]) for r in rows}
        self._similarity = (stamp, model)
        return model

    def _rec_number(self, item: analytics.RecItem) -> str | None:
        return self._rec_details[(item.document_id, item.index)][0]

    def _rec_text(self, item: analytics.RecItem) -> str:
        return str(self._rec_details[(item.document_id, item.index)][1])

    # --- lifecycle -----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        try:
            with self._read() as (conn, g):
                docs = conn.execute(f"SELECT COUNT(*) FROM doc_{g}").fetchone()[0]
                passages = conn.execute(f"SELECT COUNT(*) FROM passage_{g}").fetchone()[0]
                rebuilding = self._rebuild_gen(conn) is not None
        except (sqlite3.Error, BackendUnavailable) as exc:
            return {"backend": self.name, "status": "unavailable", "error": str(exc)}
        return {
            "backend": self.name,
            "status": "ok",
            "documents": int(docs),
            "passages": int(passages),
            "rebuilding": rebuilding,
        }

    def close(self) -> None:
        self._closed = True
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()


class _Prepared:
    """Rows for one document, computed before taking the write lock."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        date = doc.date.isoformat() if doc.date else None
        self.quarter = _quarter(date)
        self.date = date
        theme_passages: Counter[str] = Counter()
        pair_passages: Counter[tuple[str, str]] = Counter()
        for p in doc.passages:
            ids = sorted(dict.fromkeys(t.id for t in p.themes))
            theme_passages.update(ids)
            pair_passages.update((a, b) for n, a in enumerate(ids) for b in ids[n + 1 :])
        self.theme_passages = theme_passages
        self.pair_passages = pair_passages
        self.body = zlib.compress(doc.model_dump_json().encode(), 1)
        self.rec_lemmas = [lemma_text(r.text) for r in doc.recommendations]

    def insert(self, conn: sqlite3.Connection, g: int) -> None:
        d = self.doc
        common = (d.doc_type, d.year, self.quarter, d.source)
        cur = conn.execute(
            f"INSERT INTO doc_{g} (doc_id, file_name, title, doc_type, year, date, quarter, "
            f"source, page_count, passages, recommendations, themes, body) "
            f"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                d.id,
                d.file_name,
                d.title,
                d.doc_type,
                d.year,
                self.date,
                self.quarter,
                d.source,
                d.page_count,
                len(d.passages),
                len(d.recommendations),
                json.dumps(dict(sorted(self.theme_passages.items()))),
                self.body,
            ),
        )
        doc = cur.lastrowid
        # passage rowids are never reused, so facet columns only ever append
        key = f"next_pid_{g}"
        start = int(conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (start + len(d.passages), key))
        prows, frows, trows, arows = [], [], [], []
        for n, p in enumerate(d.passages):
            pid = start + n
            theme_ids = list(dict.fromkeys(t.id for t in p.themes))
            agencies = list(dict.fromkeys(p.agencies))
            prows.append(
                (
                    pid,
                    doc,
                    d.id,
                    p.index,
                    *common,
                    p.section_kind,
                    p.stance,
                    p.page,
                    p.paragraph,
                    p.section,
                    p.text,
                    json.dumps(theme_ids),
                    json.dumps(agencies),
                )
            )
            lemmas = p.lemmas if p.lemmas is not None else lemma_text(p.text)
            frows.append((pid, lemmas))
            for theme in theme_ids:
                trows.append((pid, theme, doc, d.id, *common, p.section_kind, p.stance))
            for agency in agencies:
                arows.append((pid, agency, doc))
        conn.executemany(
            f"INSERT INTO passage_{g} (rowid, doc, doc_id, idx, doc_type, year, quarter, source, "
            f"section_kind, stance, page, paragraph, section, text, themes, agencies) "
            f"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            prows,
        )
        conn.executemany(f"INSERT INTO fts_{g} (rowid, lemmas) VALUES (?, ?)", frows)
        conn.executemany(
            f"INSERT INTO ptheme_{g} (pid, theme, doc, doc_id, doc_type, year, quarter, source, "
            f"section_kind, stance) VALUES (?,?,?,?,?,?,?,?,?,?)",
            trows,
        )
        conn.executemany(f"INSERT INTO pagency_{g} VALUES (?, ?, ?)", arows)
        conn.executemany(
            f"INSERT INTO dtheme_{g} VALUES (?,?,?,?,?,?,?,?)",
            [(doc, t, n, d.id, *common) for t, n in self.theme_passages.items()],
        )
        conn.executemany(
            f"INSERT INTO dpair_{g} VALUES (?,?,?,?,?,?,?,?,?)",
            [(doc, a, b, n, d.id, *common) for (a, b), n in self.pair_passages.items()],
        )
        conn.executemany(
            f"INSERT INTO rec_{g} VALUES (?,?,?,?,?,?,?)",
            [
                (doc, d.id, i, r.number, r.text, r.addressee, self.rec_lemmas[i])
                for i, r in enumerate(d.recommendations)
            ],
        )


IntArray = npt.NDArray[np.int64]


class _Codes:
    """Strings to small integers, in order of first sight."""

    def __init__(self, fixed: Sequence[str] = ()) -> None:
        self.names: list[str] = list(fixed)
        self.code = {name: n for n, name in enumerate(self.names)}

    def get(self, name: str) -> int:
        found = self.code.get(name)
        if found is None:
            found = self.code[name] = len(self.names)
            self.names.append(name)
        return found


class _Columns:
    """Per-passage filter and facet values held as arrays indexed by passage rowid.

    Counting facets over tens of thousands of matches by joining tables is slow in SQLite;
    over arrays it is a few vectorised operations. Rowids are never reused, so the arrays only
    grow: a refresh reads passages beyond the last one loaded. Rows of deleted passages stay,
    harmlessly, because matches only ever come from the live tables.
    """

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.loaded = 0  # highest rowid read
        self.doc_types = _Codes(DOC_TYPES)
        self.stances = _Codes(STANCES)
        self.kinds = _Codes(SECTION_KINDS)
        self.themes = _Codes()
        self.agencies = _Codes()
        self.quarters = _Codes()
        self.sources = _Codes()
        size = 1024
        self.doc = np.zeros(size, dtype=np.int64)
        self.idx = np.zeros(size, dtype=np.int64)
        self.doc_type = np.zeros(size, dtype=np.int16)
        self.year = np.zeros(size, dtype=np.int32)  # 0: no year
        self.stance = np.full(size, -1, dtype=np.int16)
        self.kind = np.zeros(size, dtype=np.int16)
        self.quarter = np.full(size, -1, dtype=np.int32)  # -1: no date
        self.source = np.full(size, -1, dtype=np.int32)  # -1: no source
        self.theme_bits = np.zeros((size, 1), dtype=np.uint64)
        self.agency_bits = np.zeros((size, 1), dtype=np.uint64)
        self.doc_rank = np.zeros(1, dtype=np.int64)  # doc rowid -> position in doc_id order

    def refresh(self, conn: sqlite3.Connection) -> None:
        g = self.generation
        rows = conn.execute(
            f"SELECT rowid, doc, idx, doc_type, year, stance, section_kind, themes, agencies, "
            f"quarter, source FROM passage_{g} WHERE rowid > ? ORDER BY rowid",
            (self.loaded,),
        ).fetchall()
        if not rows:
            return
        self._grow(int(rows[-1][0]) + 1)
        pids = np.array([r[0] for r in rows], dtype=np.int64)
        self.doc[pids] = [r[1] for r in rows]
        self.idx[pids] = [r[2] for r in rows]
        self.doc_type[pids] = [self.doc_types.get(r[3]) for r in rows]
        self.year[pids] = [r[4] or 0 for r in rows]
        self.stance[pids] = [-1 if r[5] is None else self.stances.get(r[5]) for r in rows]
        self.kind[pids] = [self.kinds.get(r[6]) for r in rows]
        self.quarter[pids] = [-1 if r[9] is None else self.quarters.get(r[9]) for r in rows]
        self.source[pids] = [-1 if r[10] is None else self.sources.get(r[10]) for r in rows]
        self._set_masks("theme_bits", pids, self.themes, [r[7] for r in rows])
        self._set_masks("agency_bits", pids, self.agencies, [r[8] for r in rows])
        self.loaded = int(rows[-1][0])
        ordered = conn.execute(f"SELECT rowid FROM doc_{g} ORDER BY doc_id").fetchall()
        rank = np.zeros(max((r[0] for r in ordered), default=0) + 1, dtype=np.int64)
        for position, (rowid,) in enumerate(ordered):
            rank[rowid] = position
        self.doc_rank = rank

    def _grow(self, needed: int) -> None:
        size = len(self.doc)
        if needed <= size:
            return
        while size < needed:
            size *= 2
        for name in ("doc", "idx", "doc_type", "year", "stance", "kind", "quarter", "source"):
            old = getattr(self, name)
            blank = -1 if name in ("stance", "quarter", "source") else 0
            new = np.full(size, blank, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)
        for name in ("theme_bits", "agency_bits"):
            old = getattr(self, name)
            new = np.zeros((size, old.shape[1]), dtype=np.uint64)
            new[: len(old)] = old
            setattr(self, name, new)

    def _set_masks(self, name: str, pids: IntArray, codes: _Codes, values: list[str]) -> None:
        """Set the bit columns of a multi-valued field from its JSON lists. The same few
        lists recur across thousands of passages, so each distinct one is parsed once."""
        memo: dict[str, int] = {}
        masks = []
        for value in values:
            mask = memo.get(value)
            if mask is None:
                mask = memo[value] = sum({1 << codes.get(v) for v in json.loads(value)})
            masks.append(mask)
        bits = getattr(self, name)
        words = (len(codes.names) + 63) // 64
        if words > bits.shape[1]:
            wider = np.zeros((bits.shape[0], words), dtype=np.uint64)
            wider[:, : bits.shape[1]] = bits
            bits = wider
            setattr(self, name, bits)
        for word in range(words):
            bits[pids, word] = [(m >> (64 * word)) & 0xFFFFFFFFFFFFFFFF for m in masks]

    @staticmethod
    def _has_all(bits: npt.NDArray[np.uint64], codes: list[int]) -> npt.NDArray[np.bool_]:
        keep = np.ones(len(bits), dtype=bool)
        for code in codes:
            keep &= (bits[:, code // 64] & np.uint64(1 << (code % 64))) != 0
        return keep

    def mask(
        self, rids: IntArray, f: Filters, doc_rowids: list[int] | None
    ) -> npt.NDArray[np.bool_]:
        """Which matched passages pass the filters (the grammar in search_api.backend)."""
        keep = np.ones(len(rids), dtype=bool)
        if f.doc_types:
            wanted = [self.doc_types.code[t] for t in f.doc_types if t in self.doc_types.code]
            keep &= np.isin(self.doc_type[rids], wanted)
        if f.stances:
            keep &= np.isin(self.stance[rids], [self.stances.code[s] for s in f.stances])
        if f.section_kinds:
            keep &= np.isin(self.kind[rids], [self.kinds.code[k] for k in f.section_kinds])
        if f.year_from is not None or f.year_to is not None:
            years = self.year[rids]
            keep &= years != 0
            if f.year_from is not None:
                keep &= years >= f.year_from
            if f.year_to is not None:
                keep &= years <= f.year_to
        if doc_rowids is not None:
            keep &= np.isin(self.doc[rids], doc_rowids)
        if f.themes:
            if any(t not in self.themes.code for t in f.themes):
                return np.zeros(len(rids), dtype=bool)
            codes = [self.themes.code[t] for t in f.themes]
            keep &= self._has_all(self.theme_bits[rids], codes)
        if f.agencies:
            codes = [self.agencies.code[a] for a in f.agencies if a in self.agencies.code]
            bits = self.agency_bits[rids]
            hit = np.zeros(len(rids), dtype=bool)
            for code in codes:
                hit |= self._has_all(bits, [code])
            keep &= hit
        return keep

    def facets(self, rids: IntArray, size: int) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for name, bits_name, codes in (
            ("theme", "theme_bits", self.themes),
            ("agency", "agency_bits", self.agencies),
        ):
            bits = getattr(self, bits_name)[rids]
            counts[name] = {
                codes.names[c]: int(np.count_nonzero(self._has_all(bits, [c])))
                for c in range(len(codes.names))
                if c // 64 < bits.shape[1]
            }
        counts["doc_type"] = self._tally(self.doc_type[rids], self.doc_types.names)
        years, n = np.unique(self.year[rids], return_counts=True)
        counts["year"] = {str(y): int(k) for y, k in zip(years, n, strict=True) if y != 0}
        stances = self.stance[rids]
        counts["stance"] = self._tally(stances[stances >= 0], self.stances.names)
        counts["section_kind"] = self._tally(self.kind[rids], self.kinds.names)
        order = ("theme", "doc_type", "year", "agency", "stance", "section_kind")
        return {
            name: dict(
                sorted(
                    ((k, v) for k, v in counts[name].items() if v > 0),
                    key=lambda kv: (-kv[1], kv[0]),
                )[:size]
            )
            for name in order
        }

    def frequency(
        self, rids: IntArray, by: GroupBy, themes: list[str] | None
    ) -> list[tuple[str, str, int, int]]:
        """(theme, key, documents, passages) over the given passages; a document counts once
        per theme and key."""
        if by == "year":
            keys, labels = self.year[rids].astype(np.int64), None
            valid = keys != 0
        else:
            grouping: dict[str, tuple[npt.NDArray[Any], _Codes]] = {
                "quarter": (self.quarter, self.quarters),
                "doc_type": (self.doc_type, self.doc_types),
                "source": (self.source, self.sources),
            }
            column, codes = grouping[by]
            keys, labels = column[rids].astype(np.int64), codes.names
            valid = keys >= 0
        docs = self.doc[rids]
        stride = int(docs.max(initial=0)) + 1
        bits = self.theme_bits[rids]
        wanted = self.themes.names if themes is None else themes
        out = []
        for theme in wanted:
            code = self.themes.code.get(theme)
            if code is None or code // 64 >= bits.shape[1]:
                continue
            sel = valid & self._has_all(bits, [code])
            key_values, passages = np.unique(keys[sel], return_counts=True)
            pairs = np.unique(keys[sel] * stride + docs[sel])
            doc_keys, documents = np.unique(pairs // stride, return_counts=True)
            per_key = dict(zip(doc_keys.tolist(), documents.tolist(), strict=True))
            for key, n in zip(key_values.tolist(), passages.tolist(), strict=True):
                label = str(key) if labels is None else labels[key]
                out.append((theme, label, per_key[key], n))
        return out

    @staticmethod
    def _tally(values: npt.NDArray[np.int16], names: list[str]) -> dict[str, int]:
        counted = np.bincount(values.astype(np.int64), minlength=len(names))
        return {names[c]: int(k) for c, k in enumerate(counted) if k}
