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

from nlp.analysis import lemma_text
from reviewlens.errors import BackendUnavailable
from reviewlens.model import Document
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
CREATE TABLE IF NOT EXISTS rec_{g} (
    doc INTEGER NOT NULL, doc_id TEXT, idx INTEGER, number TEXT, text TEXT, addressee TEXT,
    lemmas TEXT, PRIMARY KEY (doc, idx)) WITHOUT ROWID;
"""
_TABLES = ("doc", "passage", "fts", "ptheme", "pagency", "dtheme", "rec")


class SqliteBackend:
    """`SearchBackend` on one SQLite file (see `search_api.backend` for the contract)."""

    name = "sqlite"

    def __init__(self, path: Path, *, expand: Expand | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.expand = expand
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        with self._write():
            self._writer.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)"
            )
            self._writer.execute("INSERT OR IGNORE INTO meta VALUES ('live', 1)")
            self._create(self._gen(self._writer))
        self._similarity: tuple[tuple[int, int], analytics.RecommendationSimilarity] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, expand: Expand | None = None) -> SqliteBackend:
        return cls(settings.data_dir / FILE_NAME, expand=expand)

    # --- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
        except sqlite3.Error as exc:
            raise BackendUnavailable(f"Cannot open the search index: {exc}") from exc
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA mmap_size=268435456")
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
        conn.execute("BEGIN")
        try:
            yield conn, self._gen(conn)
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise BackendUnavailable("The search index is closed.")
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

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

    def _drop(self, gen: int) -> None:
        for table in _TABLES:
            self._writer.execute(f"DROP TABLE IF EXISTS {table}_{gen}")

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
        for table in ("passage", "ptheme", "pagency", "dtheme", "rec"):
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
        with self._read() as (conn, g):
            where = _Where(request.filters, g, "p", "p.rowid")
            conn.execute("DROP TABLE IF EXISTS temp.m")
            if ast is not None:
                conn.execute(
                    f"CREATE TEMP TABLE m AS SELECT f.rowid AS rid, bm25(fts_{g}) AS score "
                    f"FROM fts_{g} f JOIN passage_{g} p ON p.rowid = f.rowid "
                    f"WHERE fts_{g} MATCH ?{where.sql()}",
                    [to_fts(ast), *where.params],
                )
            else:
                conn.execute(
                    f"CREATE TEMP TABLE m AS SELECT p.rowid AS rid, 0.0 AS score "
                    f"FROM passage_{g} p{where.sql(' WHERE ')}",
                    where.params,
                )
            try:
                total = int(conn.execute("SELECT COUNT(*) FROM temp.m").fetchone()[0])
                rows = conn.execute(
                    f"SELECT p.doc_id, p.idx, d.title, p.doc_type, p.year, p.page, p.paragraph, "
                    f"p.section, p.section_kind, p.stance, p.text, p.themes, p.agencies, m.score "
                    f"FROM temp.m m JOIN passage_{g} p ON p.rowid = m.rid "
                    f"JOIN doc_{g} d ON d.rowid = p.doc "
                    f"ORDER BY m.score, p.doc_id, p.idx LIMIT ? OFFSET ?",
                    (request.limit, request.offset),
                ).fetchall()
                facets = self._facets(conn, g, request.facet_size) if request.facets else {}
            finally:
                conn.execute("DROP TABLE IF EXISTS temp.m")
        hits = []
        for r in rows:
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
                    score=round(-float(r[13]), 6),
                )
            )
        return SearchResponse(total=total, hits=hits, facets=facets)

    @staticmethod
    def _facets(conn: sqlite3.Connection, g: int, size: int) -> dict[str, dict[str, int]]:
        counters: dict[str, Counter[str]] = {name: Counter() for name in ("doc_type", "year")}
        counters["stance"] = Counter()
        counters["section_kind"] = Counter()
        for doc_type, year, stance, kind, n in conn.execute(
            f"SELECT p.doc_type, p.year, p.stance, p.section_kind, COUNT(*) FROM temp.m m "
            f"JOIN passage_{g} p ON p.rowid = m.rid GROUP BY 1, 2, 3, 4"
        ):
            counters["doc_type"][doc_type] += n
            if year is not None:
                counters["year"][str(year)] += n
            if stance is not None:
                counters["stance"][stance] += n
            counters["section_kind"][kind] += n
        for name, table, column in (("theme", "ptheme", "theme"), ("agency", "pagency", "agency")):
            counters[name] = Counter(
                dict(
                    conn.execute(
                        f"SELECT t.{column}, COUNT(*) FROM temp.m m JOIN {table}_{g} t "
                        f"ON t.pid = m.rid GROUP BY 1"
                    ).fetchall()
                )
            )
        order = ("theme", "doc_type", "year", "agency", "stance", "section_kind")
        return {
            name: dict(sorted(counters[name].items(), key=lambda kv: (-kv[1], kv[0]))[:size])
            for name in order
        }

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
                table = f"ptheme_{g} t"
                where = _Where(f, g, "t", "t.pid")
                measures = "COUNT(DISTINCT t.doc), COUNT(*)"
            else:
                table = f"dtheme_{g} t"
                where = _Where(f, g, "t", "t.pid")
                measures = "COUNT(*), SUM(t.passages)"
            if themes is not None:
                marks = ",".join("?" * len(themes))
                where.clauses.append(f"t.theme IN ({marks})")
                where.params.extend(themes)
            where.clauses.append(f"t.{by} IS NOT NULL")
            rows = conn.execute(
                f"SELECT t.theme, t.{by}, {measures} FROM {table}{where.sql(' WHERE ')} "
                f"GROUP BY 1, 2",
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
            where = _Where(filters, g, "a", "a.pid")
            rows = conn.execute(
                f"SELECT a.theme, b.theme, COUNT(DISTINCT a.doc), COUNT(*) FROM ptheme_{g} a "
                f"JOIN ptheme_{g} b ON b.pid = a.pid AND b.theme > a.theme"
                f"{where.sql(' WHERE ')} GROUP BY 1, 2 ORDER BY 1, 2",
                where.params,
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
                for lemmas, theme_json in conn.execute(
                    f"SELECT f.lemmas, p.themes FROM passage_{g} p "
                    f"JOIN fts_{g} f ON f.rowid = p.rowid{where.sql(' WHERE ')}",
                    where.params,
                ):
                    counted = analytics.term_counts([lemmas])
                    terms[period].update(counted)
                    tokens[period] += sum(counted.values())
                    passages[period] += 1
                    themes[period].update(json.loads(theme_json))
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
        for p in doc.passages:
            theme_passages.update(dict.fromkeys(t.id for t in p.themes).keys())
        self.theme_passages = theme_passages
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
        start = (
            int(conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM passage_{g}").fetchone()[0]) + 1
        )
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
            f"INSERT INTO rec_{g} VALUES (?,?,?,?,?,?,?)",
            [
                (doc, d.id, i, r.number, r.text, r.addressee, self.rec_lemmas[i])
                for i, r in enumerate(d.recommendations)
            ],
        )
