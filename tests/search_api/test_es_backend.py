"""The shared contract suite against a real Elasticsearch node, plus what only this backend
has: versioned indices behind aliases, exact counting across shards, error mapping."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contract import data
from contract.suite import BackendContract
from es_fixtures import ES_URL, REPO_ROOT, BackendFactory, es_factory  # noqa: F401  (fixture)

from reviewlens.errors import BackendUnavailable
from reviewlens.model import Document, Passage
from reviewlens.settings import Settings
from search_api.backend import (
    EmergingRequest,
    Filters,
    GroupBy,
    SearchBackend,
    SearchRequest,
    SearchResponse,
    create_backend,
)
from search_api.es_backend import ElasticsearchBackend, redact_url
from search_api.sqlite_backend import SqliteBackend

pytestmark = [pytest.mark.elasticsearch, pytest.mark.integration]


@pytest.fixture
def backend(es_factory: BackendFactory) -> SearchBackend:  # noqa: F811
    return es_factory(expand=data.expand)


class TestElasticsearchContract(BackendContract):
    """Every contract test, unchanged, on the real node."""


def test_created_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWLENS_SEARCH_BACKEND", "elasticsearch")
    monkeypatch.setenv("REVIEWLENS_ELASTICSEARCH_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("REVIEWLENS_ELASTICSEARCH_SHARDS", "3")
    backend = create_backend(Settings())
    assert isinstance(backend, ElasticsearchBackend)
    assert backend.shards == 3
    # nothing connects until the first call, so the app can start while the node is down
    assert backend._client is None


def test_unreachable_node_is_backend_unavailable() -> None:
    backend = ElasticsearchBackend(
        "http://127.0.0.1:1", prefix="nowhere", retries=1, backoff_s=0.01
    )
    with pytest.raises(BackendUnavailable) as err:
        backend.search(SearchRequest(query="neglect"))
    assert err.value.http_status == 503
    assert "127.0.0.1:1" in err.value.message
    health = backend.health()
    assert health["status"] == "unavailable" and "unavailable" in health["error"]


def test_credentials_never_appear_in_messages() -> None:
    url = "http://elastic:s3cret@127.0.0.1:1"
    assert redact_url(url) == "http://127.0.0.1:1"
    backend = ElasticsearchBackend(url, prefix="nowhere", retries=0)
    with pytest.raises(BackendUnavailable) as err:
        backend.count()
    assert "s3cret" not in str(err.value)
    assert "s3cret" not in str(backend.health())


def test_indices_are_versioned_behind_aliases(es_factory: BackendFactory) -> None:  # noqa: F811
    backend = es_factory(expand=data.expand)
    backend.index_documents(data.ALL)
    names = backend.names
    assert backend.client.indices.get_alias(name=names.passages).body.keys() == {
        f"{names.passages}-v1"
    }
    backend.begin_rebuild()
    # a second process sees the open rebuild through its alias
    other = es_factory(expand=data.expand)
    with pytest.raises(RuntimeError):
        other.begin_rebuild()
    other.rebuild_documents(data.ALL[:2])
    backend.commit_rebuild()
    assert backend.client.indices.get_alias(name=names.passages).body.keys() == {
        f"{names.passages}-v2"
    }
    assert not backend.client.indices.exists(index=f"{names.passages}-v1")
    assert backend.count() == 2


def test_mapping_is_explicit_and_strict(es_factory: BackendFactory) -> None:  # noqa: F811
    backend = es_factory()
    backend.index_documents(data.ALL[:1])
    mapping = backend.client.indices.get_mapping(index=backend.names.passages).body
    (index_mapping,) = mapping.values()
    assert index_mapping["mappings"]["dynamic"] == "strict"
    assert index_mapping["mappings"]["properties"]["lemmas"]["analyzer"] == "standard"


def test_counts_are_exact_across_shards(es_factory: BackendFactory) -> None:  # noqa: F811
    one = es_factory(expand=data.expand)
    one.index_documents(data.ALL)
    many = ElasticsearchBackend(ES_URL, prefix=one.names.prefix + "-s3", shards=3)
    try:
        many.index_documents(data.ALL)
        assert many.theme_frequency("year") == one.theme_frequency("year")
        assert many.cooccurrence() == one.cooccurrence()
        request = SearchRequest(query="neglect", limit=100)
        assert many.search(request).facets == one.search(request).facets
        assert many.count(Filters(themes=["neglect"])) == one.count(Filters(themes=["neglect"]))
    finally:
        many.delete_indices()
        many.close()


def test_bulk_batches_are_bounded(es_factory: BackendFactory) -> None:  # noqa: F811
    # a tiny batch forces many bulk requests; the result must be the same as one request
    small = es_factory(expand=data.expand, bulk_batch=2)
    assert small.index_documents(data.ALL) == len(data.ALL)
    assert small.search(SearchRequest(query=None, limit=0)).total == data.TOTAL_PASSAGES


COMPOSE_FILES = ["docker-compose.yml", "docker-compose.cluster.yml"]


def _compose_config(
    compose_file: str, env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (scripts/setup.sh --dev installs it)")
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    clean = {k: v for k, v in os.environ.items() if k not in {"ELASTIC_PASSWORD", "ES_VERSION"}}
    return subprocess.run(
        [
            "docker-compose",
            "--env-file",
            str(empty_env_file),
            "-f",
            str(REPO_ROOT / compose_file),
            "config",
        ],
        env={**clean, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("compose_file", COMPOSE_FILES)
def test_compose_file_is_valid_and_wires_the_api_to_elasticsearch(
    compose_file: str, tmp_path: Path
) -> None:
    env = {"ELASTIC_PASSWORD": "pw4test", "REVIEWLENS_API_KEYS": "admin:key4test"}
    done = _compose_config(compose_file, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "REVIEWLENS_SEARCH_BACKEND: elasticsearch" in done.stdout
    assert "http://elastic:pw4test@" in done.stdout
    assert 'xpack.security.enabled: "true"' in done.stdout
    assert "docker.elastic.co/elasticsearch/elasticsearch:" in done.stdout


@pytest.mark.parametrize("compose_file", COMPOSE_FILES)
def test_compose_refuses_to_run_without_secrets(compose_file: str, tmp_path: Path) -> None:
    done = _compose_config(compose_file, {"REVIEWLENS_API_KEYS": "admin:key4test"}, tmp_path)
    assert done.returncode != 0
    assert "ELASTIC_PASSWORD" in done.stderr


# --- the same answers as the embedded backend on a generated library -----------------------


@pytest.fixture(scope="module")
def generated_library() -> list[Document]:
    """A small slice of the benchmark library: realistic themes, years, repeats and filters."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from benchmarks.corpus_gen import CorpusGenerator

    return list(CorpusGenerator(seed=7).documents(40))


@pytest.fixture
def both(
    es_factory: BackendFactory,  # noqa: F811
    generated_library: list[Document],
    tmp_path: Path,
) -> Iterator[tuple[SqliteBackend, ElasticsearchBackend]]:
    sqlite = SqliteBackend(tmp_path / "index.sqlite", expand=data.expand)
    es = es_factory(expand=data.expand)
    assert sqlite.index_documents(generated_library) == es.index_documents(generated_library)
    yield sqlite, es
    sqlite.close()


PASSAGE_FILTERS = Filters(stances=["worried"], section_kinds=["findings", "analysis"])


def test_counts_match_the_embedded_backend(
    both: tuple[SqliteBackend, ElasticsearchBackend],
) -> None:
    sqlite, es = both
    groups: list[GroupBy] = ["year", "quarter", "doc_type", "source"]
    for by in groups:
        assert es.theme_frequency(by) == sqlite.theme_frequency(by), by
        assert es.theme_frequency(by, PASSAGE_FILTERS) == sqlite.theme_frequency(
            by, PASSAGE_FILTERS
        ), by
    assert es.theme_frequency("year", themes=["neglect"]) == sqlite.theme_frequency(
        "year", themes=["neglect"]
    )
    assert es.cooccurrence() == sqlite.cooccurrence()
    assert es.cooccurrence(PASSAGE_FILTERS) == sqlite.cooccurrence(PASSAGE_FILTERS)
    assert es.count(PASSAGE_FILTERS) == sqlite.count(PASSAGE_FILTERS)
    assert es.list_documents(limit=100) == sqlite.list_documents(limit=100)


def test_emerging_matches_the_embedded_backend(
    both: tuple[SqliteBackend, ElasticsearchBackend],
) -> None:
    sqlite, es = both
    request = EmergingRequest(
        recent_from=2022, recent_to=2025, baseline_from=2014, baseline_to=2021, limit=40
    )
    got, want = es.emerging(request), sqlite.emerging(request)
    assert got.terms and got.themes
    assert got == want
    narrowed = request.model_copy(update={"filters": Filters(doc_types=["cspr", "scr"])})
    assert es.emerging(narrowed) == sqlite.emerging(narrowed)


def test_search_and_recommendations_match_the_embedded_backend(
    both: tuple[SqliteBackend, ElasticsearchBackend],
) -> None:
    sqlite, es = both
    queries = [
        ("neglect", Filters()),
        ('"hidden man" OR "voice of the child"', Filters()),
        ("escalat*", Filters(stances=["worried"])),
        ("neglect NOT (school OR housing)", Filters(year_from=2018)),
        ("CSE", Filters()),
        ("bruised babies", Filters(doc_types=["cspr", "scr"])),
    ]
    for query, filters in queries:
        request = SearchRequest(query=query, filters=filters, limit=1000)
        got, want = es.search(request), sqlite.search(request)
        assert got.total == want.total, query
        assert got.facets == want.facets, query

        def by_ref(response: SearchResponse) -> dict[tuple[str, int], Any]:
            return {
                (h.document_id, h.passage_index): h.model_dump(exclude={"score"})
                for h in response.hits
            }

        # the same passages, and each hit the same in every field but the engine's score
        assert by_ref(got) == by_ref(want), query
    assert es.recommendations(limit=30) == sqlite.recommendations(limit=30)


def test_significant_text_finds_what_is_new(es_factory: BackendFactory) -> None:  # noqa: F811
    def doc(n: int, year: int, texts: list[str]) -> Document:
        passages = [
            Passage(index=i, text=t, lemmas=data.lemma_text(t)) for i, t in enumerate(texts)
        ]
        return Document(
            id=f"{n:064x}",
            file_name=f"{n}.txt",
            media_type="text/plain",
            size_bytes=1,
            year=year,
            passages=passages,
        )

    old = [f"The health visitor saw the family at home on visit {i}." for i in range(8)]
    new = [f"Cuckooing of the flat by older men was seen on visit {i}." for i in range(5)]
    backend = es_factory()
    backend.index_documents([doc(1, 2016, old), doc(2, 2024, new + old[:3])])
    found = backend.significant_terms(2023, 2025)
    terms = {term for term, _ in found}
    # words only the recent passages use stand out; words both periods share do not
    assert {"cuckooing", "flat"} <= terms
    assert not terms & {"visit", "health", "family", "home"}


def test_writes_survive_rebuilds_committed_by_another_process(
    es_factory: BackendFactory,  # noqa: F811
) -> None:
    """The API's worker keeps indexing uploads while a `reviewlens reindex` in another process
    begins, fills and commits rebuilds; no upload may end up only in a dropped index."""
    worker = es_factory(expand=data.expand)
    reindexer = es_factory(expand=data.expand)  # same prefix, its own client and state
    worker.index_documents(data.ALL)
    uploads = [
        Document(
            id=f"{0xABC000 + n:064x}",
            file_name=f"upload-{n}.txt",
            media_type="text/plain",
            size_bytes=1,
            year=2024,
            passages=[
                Passage(
                    index=0,
                    text=f"Upload {n} describes a missed visit.",
                    lemmas=data.lemma_text(f"Upload {n} describes a missed visit."),
                )
            ],
        )
        for n in range(25)
    ]
    kept: list[Document] = []  # originals are kept before they are indexed
    errors: list[BaseException] = []

    def upload_all() -> None:
        try:
            for doc in uploads:
                kept.append(doc)
                worker.index_documents([doc])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=upload_all)
    thread.start()
    rebuilds = 0
    while thread.is_alive() or rebuilds == 0:
        reindexer.begin_rebuild()
        known = list(kept)  # as a reindex does: open the new index, then list the originals
        reindexer.rebuild_documents([*data.ALL, *known])
        reindexer.commit_rebuild()
        rebuilds += 1
    thread.join()
    assert errors == []
    assert worker.count() == len(data.ALL) + len(uploads)
    missed = worker.search(SearchRequest(query='"missed visit"', limit=100, facets=False))
    assert missed.total == len(uploads)
    # a write racing a commit never auto-creates an index named after a vanished alias
    indices = worker.client.indices.get(index=f"{worker.names.prefix}-*").body
    assert all(ElasticsearchBackend.is_versioned(name) for name in indices), sorted(indices)
