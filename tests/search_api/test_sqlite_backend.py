"""The contract suite on the embedded backend, plus what only SQLite has: the file itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract.data import ALL, CASTLE, expand
from contract.suite import BackendContract

from nlp.analysis import lemma_text
from reviewlens.errors import BackendUnavailable
from reviewlens.model import Document, Passage, ThemeTag
from reviewlens.settings import Settings
from search_api.backend import Filters, SearchRequest, create_backend
from search_api.query import parse_query
from search_api.sqlite_backend import FILE_NAME, SqliteBackend, fts_quote, to_fts


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SqliteBackend]:
    instance = SqliteBackend(tmp_path / "index" / FILE_NAME, expand=expand)
    yield instance
    instance.close()


class TestSqliteContract(BackendContract):
    pass


def test_fts_terms_are_always_quoted() -> None:
    assert fts_quote('a"b') == '"a""b"'
    expr = to_fts(parse_query('NEAR neglect -"hidden men" OR escal*'))
    assert expr == '((("near" AND "neglect") NOT "hide man") OR "escal"*)'


def test_created_from_settings_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    backend = create_backend(settings, expand=expand)
    try:
        assert isinstance(backend, SqliteBackend)
        backend.index_documents([CASTLE])
        assert backend.count() == 1
    finally:
        backend.close()
    assert (tmp_path / "data" / FILE_NAME).is_file()


def test_index_survives_reopening_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    first = SqliteBackend(path, expand=expand)
    first.index_documents(ALL)
    first.close()
    second = SqliteBackend(path, expand=expand)
    try:
        assert second.count() == len(ALL)
        assert second.search(SearchRequest(query="CSE")).total == 2
    finally:
        second.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_rebuild_in_another_process_is_seen(tmp_path: Path) -> None:
    """The CLI may reindex while the server runs: both open the same file."""
    path = tmp_path / FILE_NAME
    server = SqliteBackend(path, expand=expand)
    cli = SqliteBackend(path, expand=expand)
    try:
        server.index_documents(ALL)
        cli.begin_rebuild()
        cli.rebuild_documents([CASTLE])
        server.index_documents([ALL[0]])  # arrives mid-rebuild through the other connection
        assert server.count() == len(ALL)
        cli.commit_rebuild()
        assert server.count() == 2
        assert server.health()["rebuilding"] is False
    finally:
        cli.close()
        server.close()


def test_closed_backend_refuses_politely(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / FILE_NAME)
    backend.close()
    with pytest.raises(BackendUnavailable):
        backend.count()
    assert backend.health()["status"] == "unavailable"


def _many_themes_doc(key: str, count: int) -> Document:
    passages = [
        Passage(
            index=n,
            text=f"Passage {n} about the chronology.",
            lemmas=lemma_text(f"Passage {n} about the chronology."),
            themes=[ThemeTag(id=f"theme_{n:03d}", label="t", evidence=["x"])],
            agencies=[f"agency {n:03d}"],
        )
        for n in range(count)
    ]
    return Document(
        id=key * 64,
        file_name="many.txt",
        media_type="text/plain",
        size_bytes=1,
        year=2020,
        passages=passages,
    )


def test_more_than_64_themes_and_agencies(backend: SqliteBackend) -> None:
    backend.index_documents([_many_themes_doc("a", 150)])
    response = backend.search(
        SearchRequest(query="chronology", filters=Filters(themes=["theme_140"]), facet_size=500)
    )
    assert [h.passage_index for h in response.hits] == [140]
    everything = backend.search(SearchRequest(query="chronology", facet_size=500))
    assert everything.total == 150
    assert len(everything.facets["theme"]) == 150
    assert everything.facets["agency"]["agency 099"] == 1
    some = backend.search(
        SearchRequest(query="chronology", filters=Filters(agencies=["agency 003", "agency 130"]))
    )
    assert sorted(h.passage_index for h in some.hits) == [3, 130]


def test_writes_from_another_connection_reach_facets(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    reader = SqliteBackend(path, expand=expand)
    writer = SqliteBackend(path, expand=expand)
    try:
        writer.index_documents([CASTLE])
        assert reader.search(SearchRequest(query="neglect")).facets["doc_type"] == {"scr": 2}
        writer.index_documents([_many_themes_doc("b", 3)])
        writer.index_documents([CASTLE.model_copy(update={"doc_type": "cspr"})])
        facets = reader.search(SearchRequest(query="neglect OR chronology")).facets
        assert facets["doc_type"] == {"other": 3, "cspr": 2}
        assert facets["theme"]["theme_002"] == 1
    finally:
        reader.close()
        writer.close()


def test_locked_index_is_backend_unavailable(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    backend = SqliteBackend(path, busy_timeout_s=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        with pytest.raises(BackendUnavailable) as caught:
            backend.index_documents([CASTLE])
        assert caught.value.http_status == 503
        other.execute("ROLLBACK")
        assert backend.index_documents([CASTLE]) == 1  # and it recovers
    finally:
        other.close()
        backend.close()


def test_a_file_that_is_not_an_index_is_refused(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackendUnavailable) as caught:
        SqliteBackend(path)
    assert FILE_NAME in str(caught.value)


def test_opening_an_older_index_rederives_its_tables(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    backend = SqliteBackend(path)
    backend.index_documents(ALL)
    expected = backend.cooccurrence()
    backend.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM meta WHERE key = 'schema'")  # as written by an earlier version
    conn.execute("DELETE FROM dpair_1")
    conn.close()
    reopened = SqliteBackend(path)
    try:
        assert reopened.cooccurrence() == expected
        assert reopened.count() == len(ALL)
        assert reopened.get_document(CASTLE.id) == CASTLE
    finally:
        reopened.close()
