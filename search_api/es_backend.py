"""The Elasticsearch implementation of `SearchBackend`, for corpora and user counts that outgrow
one machine.

It matches what the embedded backend matches because neither engine does linguistics: passages
carry the lemma stream from `nlp/`, the shared parser lemmatises and expands the query, and the
AST becomes phrase, prefix and bool queries over that one field. Highlights come from
`search_api.highlight`, not from Elasticsearch, so both backends mark the same words.

Counting is exact: theme frequency and co-occurrence use terms aggregations only when
Elasticsearch reports them complete, and otherwise page through composite aggregations, so a
document is counted once per bucket however many of its passages carry the theme; no
approximate cardinality is involved. Emerging terms count lemma occurrences exactly (the n-th
occurrence in a passage is indexed as "lemma#n") and score them with the shared
log-likelihood, so both backends report the same terms; `significant_text` is offered beside it
for exploring a large corpus.

The client is created on first use; connection failures, timeouts and overload answers are
retried with backoff and then raised as `BackendUnavailable`, which the API turns into a 503.
Everything here uses only the server core, so it runs on the stripped test build unchanged.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache, partial
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError
from elasticsearch import helpers as es_helpers

from nlp.analysis import lemma_text
from reviewlens.errors import BackendUnavailable
from reviewlens.model import Document
from reviewlens.settings import Settings
from search_api.analytics import (
    RecItem,
    RecommendationSimilarity,
    is_countable,
    over_represented,
)
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
from search_api.es_mapping import DOCUMENTS_MAPPING, PASSAGES_MAPPING, IndexNames, index_settings
from search_api.highlight import highlight
from search_api.query import And, Node, Not, Or, Phrase, Prefix, Term, parse_query

log = logging.getLogger("reviewlens.es")

T = TypeVar("T")

# overload and "not ready yet" answers are worth another try; anything else is a real error
_RETRY_STATUS = {429, 502, 503, 504}
_FACET_FIELDS = {
    "theme": "themes",
    "doc_type": "doc_type",
    "year": "year",
    "agency": "agencies",
    "stance": "stance",
    "section_kind": "section_kind",
}
_GROUP_FIELDS = {"year": "year", "quarter": "quarter", "doc_type": "doc_type", "source": "source"}
COMPOSITE_PAGE = 5000
TERMS_ALL = 10_000  # more themes or group keys than any taxonomy or calendar has
SCAN_PAGE = 1000


def redact_url(url: str) -> str:
    """The URL(s) without user name or password, for messages and health output."""
    if "," in url:
        return ",".join(redact_url(u.strip()) for u in url.split(","))
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# the vocabulary is small and every passage asks again: remember the answers
_countable = lru_cache(maxsize=100_000)(is_countable)


def quarter_of(doc: Document) -> str | None:
    if doc.date is None:
        return None
    return f"{doc.date.year}-Q{(doc.date.month - 1) // 3 + 1}"


def summary_of(doc: Document) -> DocumentSummary:
    themes: Counter[str] = Counter()
    for passage in doc.passages:
        themes.update({tag.id for tag in passage.themes})
    return DocumentSummary(
        id=doc.id,
        file_name=doc.file_name,
        title=doc.title,
        doc_type=doc.doc_type,
        year=doc.year,
        date=doc.date.isoformat() if doc.date else None,
        source=doc.source,
        page_count=doc.page_count,
        passages=len(doc.passages),
        recommendations=len(doc.recommendations),
        themes=dict(sorted(themes.items())),
    )


def theme_pairs(themes: Iterable[str]) -> list[str]:
    ordered = sorted(set(themes))
    return [f"{a}|{b}" for i, a in enumerate(ordered) for b in ordered[i + 1 :]]


def repeated_terms(lemmas: str) -> tuple[list[str], int]:
    """Countable lemmas with the n-th occurrence of a lemma spelled "lemma#n" (n >= 2), and
    how many countable lemmas there were. Countable lemmas are letters only, so '#' is free."""
    seen: Counter[str] = Counter()
    out: list[str] = []
    for t in lemmas.split():
        if _countable(t):
            seen[t] += 1
            n = seen[t]
            out.append(t if n == 1 else f"{t}#{n}")
    return out, len(out)


def passage_sources(doc: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    """(_id, _source) for each passage, with the document fields that filters and groups need."""
    quarter = quarter_of(doc)
    source = doc.source
    for p in doc.passages:
        lemmas = p.lemmas if p.lemmas is not None else lemma_text(p.text)
        terms, term_count = repeated_terms(lemmas)
        themes = list(dict.fromkeys(t.id for t in p.themes))  # as tagged, once each
        yield (
            f"{doc.id}:{p.index}",
            {
                "document_id": doc.id,
                "passage_index": p.index,
                "lemmas": lemmas,
                "terms": terms,
                "term_count": term_count,
                "text": p.text,
                "page": p.page,
                "paragraph": p.paragraph,
                "section": p.section,
                "section_kind": p.section_kind,
                "kind": p.kind,
                "stance": p.stance,
                "themes": themes,
                "theme_pairs": theme_pairs(themes),
                "agencies": list(p.agencies),
                "doc_type": doc.doc_type,
                "year": doc.year,
                "quarter": quarter,
                "source": source,
                "title": doc.title,
            },
        )


def document_source(doc: Document) -> dict[str, Any]:
    pairs = {pair for p in doc.passages for pair in theme_pairs(t.id for t in p.themes)}
    return {
        "id": doc.id,
        "doc_type": doc.doc_type,
        "year": doc.year,
        "source": doc.source,
        "quarter": quarter_of(doc),
        "themes": sorted({t.id for p in doc.passages for t in p.themes}),
        "theme_pairs": sorted(pairs),
        "passage_count": len(doc.passages),
        "recommendation_count": len(doc.recommendations),
        "indexed_at": time.time_ns(),
        "passage_indexes": sorted(p.index for p in doc.passages),
        "summary": summary_of(doc).model_dump(mode="json"),
        "title": doc.title,
        "recs": [
            {"number": r.number, "text": r.text, "addressee": r.addressee}
            for r in doc.recommendations
        ],
        "rec_lemmas": [lemma_text(r.text) for r in doc.recommendations],
        "body": base64.b64encode(doc.model_dump_json().encode()).decode("ascii"),
    }


# --- query translation --------------------------------------------------------------------


def ast_query(node: Node) -> dict[str, Any]:
    """The AST as an Elasticsearch query over the lemma field. A term is a one-word phrase so
    it is analysed exactly as the indexed stream was."""
    if isinstance(node, Term):
        return {"match_phrase": {"lemmas": node.lemma}}
    if isinstance(node, Phrase):
        return {"match_phrase": {"lemmas": " ".join(node.lemmas)}}
    if isinstance(node, Prefix):
        return {"prefix": {"lemmas": {"value": node.prefix}}}
    if isinstance(node, And):
        must = [ast_query(c) for c in node.children if not isinstance(c, Not)]
        must_not = [ast_query(c.child) for c in node.children if isinstance(c, Not)]
        return {"bool": {"must": must, "must_not": must_not}}
    if isinstance(node, Or):
        return {
            "bool": {"should": [ast_query(c) for c in node.children], "minimum_should_match": 1}
        }
    return {"bool": {"must_not": [ast_query(node.child)]}}


def doc_level_filters(filters: Filters, *, years: bool = True) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    if filters.doc_types:
        clauses.append({"terms": {"doc_type": list(filters.doc_types)}})
    if years and (filters.year_from is not None or filters.year_to is not None):
        bounds: dict[str, int] = {}
        if filters.year_from is not None:
            bounds["gte"] = filters.year_from
        if filters.year_to is not None:
            bounds["lte"] = filters.year_to
        clauses.append({"range": {"year": bounds}})
    if filters.document_ids:
        clauses.append({"terms": {"document_id": list(filters.document_ids)}})
    return clauses


def passage_filters(filters: Filters, *, years: bool = True) -> list[dict[str, Any]]:
    """Filter clauses for the passages index (document fields are copied onto passages)."""
    clauses = doc_level_filters(filters, years=years)
    clauses.extend({"term": {"themes": theme}} for theme in filters.themes)
    if filters.agencies:
        clauses.append({"terms": {"agencies": list(filters.agencies)}})
    if filters.section_kinds:
        clauses.append({"terms": {"section_kind": list(filters.section_kinds)}})
    if filters.stances:
        clauses.append({"terms": {"stance": list(filters.stances)}})
    return clauses


def _doc_matches(src: dict[str, Any], filters: Filters) -> bool:
    """Document-level filters applied to a documents-index record (for recommendations)."""
    year = src.get("year")
    if filters.doc_types and src.get("doc_type") not in filters.doc_types:
        return False
    if filters.year_from is not None and (year is None or year < filters.year_from):
        return False
    if filters.year_to is not None and (year is None or year > filters.year_to):
        return False
    return not (filters.document_ids and src.get("id") not in filters.document_ids)


def _key(value: Any) -> str:
    return str(value)


class ElasticsearchBackend:
    """`SearchBackend` over a documents index and a passages index behind aliases."""

    name = "elasticsearch"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "reviewlens",
        timeout_s: float = 10.0,
        expand: Expand | None = None,
        shards: int = 1,
        replicas: int = 0,
        retries: int = 3,
        backoff_s: float = 0.25,
        bulk_batch: int = 2000,
    ) -> None:
        self.url = url
        self.names = IndexNames(prefix)
        self.timeout_s = timeout_s
        self.expand = expand
        self.shards = shards
        self.replicas = replicas
        self.retries = retries
        self.backoff_s = backoff_s
        self.bulk_batch = bulk_batch
        self._client: Elasticsearch | None = None
        self._lock = threading.Lock()
        self._ready = False
        self._rec_cache: (
            tuple[tuple[Any, ...], dict[str, dict[str, Any]], RecommendationSimilarity] | None
        ) = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, expand: Expand | None = None
    ) -> ElasticsearchBackend:
        return cls(
            settings.elasticsearch_url,
            prefix=settings.elasticsearch_index_prefix,
            timeout_s=settings.elasticsearch_timeout_s,
            expand=expand,
            shards=settings.elasticsearch_shards,
            replicas=settings.elasticsearch_replicas,
        )

    # --- connection -----------------------------------------------------------------------

    @property
    def client(self) -> Elasticsearch:
        """Created on first use so a backend can be built while the node is still down."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    # several nodes may be given, comma-separated; each may carry credentials
                    hosts = [u.strip() for u in self.url.split(",") if u.strip()]
                    self._client = Elasticsearch(
                        hosts,
                        request_timeout=self.timeout_s,
                        max_retries=0,  # retried here, with backoff
                        retry_on_timeout=False,
                    )
        return self._client

    def _unavailable(self, exc: Exception) -> BackendUnavailable:
        reason = type(exc).__name__
        if isinstance(exc, ApiError):
            reason = f"HTTP {exc.meta.status}"
        return BackendUnavailable(
            f"Elasticsearch at {redact_url(self.url)} is unavailable ({reason}); "
            "search is paused, uploads are kept and will be indexed when it is back."
        )

    def _call(self, fn: Callable[[], T]) -> T:
        """Run `fn`, retrying what a restarting or overloaded node answers, with backoff."""
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except ConnectionTimeout as exc:
                # already waited a full timeout; one more would double what the user waits
                raise self._unavailable(exc) from exc
            except (TransportConnectionError, TransportError) as exc:
                last: Exception = exc
            except ApiError as exc:
                if exc.meta.status not in _RETRY_STATUS:
                    raise
                last = exc
            except es_helpers.BulkIndexError as exc:
                statuses = {item.get(next(iter(item)), {}).get("status") for item in exc.errors}
                if not statuses <= _RETRY_STATUS:
                    raise
                last = exc
            if attempt < self.retries:
                time.sleep(delay)
                delay *= 2
        log.warning("elasticsearch unavailable after %d attempts: %s", self.retries + 1, last)
        raise self._unavailable(last)

    # --- index lifecycle ------------------------------------------------------------------

    def _alias_targets(self, alias: str) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def _create_pair(self, version: int, passages_alias: str, documents_alias: str) -> None:
        settings = index_settings(self.shards, self.replicas)
        for alias, mapping in (
            (passages_alias, PASSAGES_MAPPING),
            (documents_alias, DOCUMENTS_MAPPING),
        ):
            base = alias.removesuffix("-next")
            try:
                self.client.indices.create(
                    index=self.names.versioned(base, version),
                    settings=settings,
                    mappings=mapping,
                    aliases={alias: {"is_write_index": True}},
                    wait_for_active_shards="1",
                )
            except ApiError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise

    def _ensure(self) -> None:
        """Create version 1 of both indices the first time this prefix is used."""
        if self._ready:
            return

        def run() -> None:
            if not self._alias_targets(self.names.passages):
                self._create_pair(1, self.names.passages, self.names.documents)

        self._call(run)
        self._ready = True

    def _next_open(self) -> bool:
        return bool(self._alias_targets(self.names.passages_next))

    def _alias_state(self) -> frozenset[tuple[str, str]]:
        """(index, alias) for every index of this prefix, in one request: what writes must
        check did not change under them (a rebuild committed or aborted by another process)."""
        found = self.client.indices.get_alias(
            index=self.names.pattern, ignore_unavailable=True, allow_no_indices=True
        )
        return frozenset(
            (index, alias)
            for index, body in found.body.items()
            for alias in body.get("aliases", {})
        )

    @staticmethod
    def is_versioned(index: str) -> bool:
        """Whether a concrete index name is one this backend creates (`...-v<N>`)."""
        return IndexNames.version_of(index) > 0

    def _pairs(self, state: frozenset[tuple[str, str]], *, live: bool) -> list[tuple[str, str]]:
        """Alias pairs to write to: the live pair (when `live`) and the rebuild pair if open."""
        aliases = {alias for _, alias in state}
        pairs = []
        if live:
            pairs.append((self.names.passages, self.names.documents))
        if self.names.passages_next in aliases and self.names.documents_next in aliases:
            pairs.append((self.names.passages_next, self.names.documents_next))
        return pairs

    # --- writes ---------------------------------------------------------------------------

    def _old_indexes(self, documents: str, ids: list[str]) -> dict[str, list[int]]:
        if not ids:
            return {}
        try:
            found = self.client.mget(index=documents, ids=ids, source=["passage_indexes"])
        except NotFoundError:  # a rebuild alias that went away; the caller checks and retries
            return {}
        return {
            d["_id"]: list(d["_source"].get("passage_indexes", []))
            for d in found["docs"]
            if d.get("found")
        }

    def _write(self, docs: list[Document], passages: str, documents: str) -> None:
        old = self._old_indexes(documents, [d.id for d in docs])
        actions: list[dict[str, Any]] = []
        for doc in docs:
            new = {p.index for p in doc.passages}
            for gone in set(old.get(doc.id, [])) - new:
                actions.append(
                    {"_op_type": "delete", "_index": passages, "_id": f"{doc.id}:{gone}"}
                )
            for pid, source in passage_sources(doc):
                actions.append({"_index": passages, "_id": pid, "_source": source})
            actions.append({"_index": documents, "_id": doc.id, "_source": document_source(doc)})
        es_helpers.bulk(
            self.client,
            actions,
            chunk_size=self.bulk_batch,
            max_chunk_bytes=20 * 1024 * 1024,
            max_retries=3,
            initial_backoff=0.5,
            ignore_status=(404,),
            # a write to an alias that has just gone must not auto-create an index of that name
            require_alias=True,
        )

    def _refresh(self) -> None:
        self.client.indices.refresh(index=self.names.pattern, allow_no_indices=True)

    def _stable(self, write: Callable[[frozenset[tuple[str, str]]], T]) -> T:
        """Run `write` against the alias state and repeat it if the aliases moved meanwhile
        (writes are idempotent), so a commit in another process cannot swallow a write that
        went to the index it just dropped."""
        for _ in range(5):
            before = self._alias_state()
            result = write(before)
            if self._alias_state() == before:
                return result
        raise BackendUnavailable(
            "Elasticsearch index aliases kept changing during a write; try again."
        )

    def _index_into(self, docs: Iterable[Document], *, live: bool) -> int:
        self._ensure()
        written = 0
        batch: list[Document] = []
        # documents go in groups so one bulk request carries many passages but memory stays flat
        group_passages = self.bulk_batch * 4

        def write(current: list[Document], state: frozenset[tuple[str, str]]) -> None:
            pairs = self._pairs(state, live=live)
            if not pairs:
                raise RuntimeError("No rebuild is open; call begin_rebuild first.")
            for passages, documents in pairs:
                self._write(current, passages, documents)

        def flush() -> None:
            current = list(batch)
            self._call(partial(self._stable, partial(write, current)))

        size = 0
        for doc in docs:
            batch.append(doc)
            size += len(doc.passages) + 1
            if size >= group_passages:
                flush()
                written += len(batch)
                batch.clear()
                size = 0
        if batch:
            flush()
            written += len(batch)
        self._call(self._refresh)
        return written

    def index_documents(self, docs: Iterable[Document]) -> int:
        return self._index_into(docs, live=True)

    def delete_document(self, document_id: str) -> bool:
        self._ensure()

        def delete(state: frozenset[tuple[str, str]]) -> bool:
            existed = False
            for n, (passages, documents) in enumerate(self._pairs(state, live=True)):
                old = self._old_indexes(documents, [document_id])
                if document_id not in old:
                    continue
                existed = existed or n == 0
                actions: list[dict[str, Any]] = [
                    {"_op_type": "delete", "_index": passages, "_id": f"{document_id}:{i}"}
                    for i in old[document_id]
                ]
                actions.append({"_op_type": "delete", "_index": documents, "_id": document_id})
                es_helpers.bulk(self.client, actions, ignore_status=(404,), require_alias=True)
            return existed

        existed = self._call(partial(self._stable, delete))
        self._call(self._refresh)
        return existed

    # --- reads ----------------------------------------------------------------------------

    def get_document(self, document_id: str) -> Document | None:
        self._ensure()

        def run() -> Document | None:
            try:
                found = self.client.get(
                    index=self.names.documents, id=document_id, stored_fields="body", source=False
                )
            except NotFoundError:
                return None
            return Document.model_validate_json(base64.b64decode(found["fields"]["body"][0]))

        return self._call(run)

    def _matching_document_ids(self, filters: Filters) -> list[str]:
        """Documents with at least one passage matching the filters, every one of them."""
        ids: list[str] = []
        for bucket in self._composite(
            {"bool": {"filter": passage_filters(filters)}},
            [{"doc": {"terms": {"field": "document_id"}}}],
        ):
            ids.append(bucket["key"]["doc"])
        return ids

    def _documents_query(self, filters: Filters) -> dict[str, Any] | None:
        """Query on the documents index, or None when no document can match."""
        clauses: list[dict[str, Any]] = []
        if filters.doc_types:
            clauses.append({"terms": {"doc_type": list(filters.doc_types)}})
        if filters.year_from is not None or filters.year_to is not None:
            bounds: dict[str, int] = {}
            if filters.year_from is not None:
                bounds["gte"] = filters.year_from
            if filters.year_to is not None:
                bounds["lte"] = filters.year_to
            clauses.append({"range": {"year": bounds}})
        if filters.document_ids:
            clauses.append({"terms": {"id": list(filters.document_ids)}})
        if filters.has_passage_fields():
            ids = self._matching_document_ids(filters)
            if not ids:
                return None
            clauses.append({"terms": {"id": ids}})
        return {"bool": {"filter": clauses}}

    def list_documents(
        self, filters: Filters | None = None, offset: int = 0, limit: int = 50
    ) -> DocumentPage:
        self._ensure()
        filters = filters or Filters()

        def run() -> DocumentPage:
            query = self._documents_query(filters)
            if query is None:
                return DocumentPage(total=0, items=[])
            found = self.client.search(
                index=self.names.documents,
                query=query,
                sort=[{"year": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
                from_=offset,
                size=limit,
                track_total_hits=True,
                source_includes=["summary"],
            )
            items = [DocumentSummary(**h["_source"]["summary"]) for h in found["hits"]["hits"]]
            return DocumentPage(total=found["hits"]["total"]["value"], items=items)

        return self._call(run)

    def count(self, filters: Filters | None = None) -> int:
        self._ensure()
        filters = filters or Filters()

        def run() -> int:
            query = self._documents_query(filters)
            if query is None:
                return 0
            return int(self.client.count(index=self.names.documents, query=query)["count"])

        return self._call(run)

    def search(self, request: SearchRequest) -> SearchResponse:
        node = parse_query(request.query, self.expand) if request.query is not None else None
        self._ensure()
        query: dict[str, Any] = {"bool": {"filter": passage_filters(request.filters)}}
        if node is not None:
            query["bool"]["must"] = [ast_query(node)]
        tiebreak: list[Any] = [{"document_id": "asc"}, {"passage_index": "asc"}]
        sort = (["_score", *tiebreak]) if node is not None else tiebreak
        aggs: dict[str, Any] = {}
        if request.facets:
            for name, field in _FACET_FIELDS.items():
                aggs[name] = {
                    "terms": {
                        "field": field,
                        "size": request.facet_size,
                        "shard_size": max(request.facet_size * 10, 500),
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                    }
                }

        def run() -> Any:
            return self.client.search(
                index=self.names.passages,
                query=query,
                sort=sort,
                from_=request.offset,
                size=request.limit,
                track_total_hits=True,
                aggs=aggs or None,
                source_excludes=["lemmas"],
                # with several shards, score with index-wide term statistics as one shard would
                search_type="dfs_query_then_fetch" if self.shards > 1 else None,
            )

        found = self._call(run)
        hits = []
        for h in found["hits"]["hits"]:
            s = h["_source"]
            marks = highlight(s["text"], node)
            hits.append(
                SearchHit(
                    document_id=s["document_id"],
                    passage_index=s["passage_index"],
                    title=s.get("title"),
                    doc_type=s["doc_type"],
                    year=s.get("year"),
                    page=s.get("page"),
                    paragraph=s.get("paragraph"),
                    section=s.get("section"),
                    section_kind=s["section_kind"],
                    stance=s.get("stance"),
                    text=s["text"],
                    highlights=marks.fragments,
                    match_offsets=marks.offsets,
                    themes=s.get("themes", []),
                    agencies=s.get("agencies", []),
                    score=float(h["_score"] or 0.0) if node is not None else 0.0,
                )
            )
        facets: dict[str, dict[str, int]] = {}
        if request.facets:
            for name in _FACET_FIELDS:
                buckets = found["aggregations"][name]["buckets"]
                facets[name] = {_key(b["key"]): int(b["doc_count"]) for b in buckets}
        return SearchResponse(total=found["hits"]["total"]["value"], hits=hits, facets=facets)

    # --- counting -------------------------------------------------------------------------

    def _composite(
        self, query: dict[str, Any], sources: list[dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Every bucket of a composite aggregation, page by page: exact on any number of
        shards, unlike a terms aggregation with a guessed size."""
        after: dict[str, Any] | None = None
        while True:
            composite: dict[str, Any] = {"size": COMPOSITE_PAGE, "sources": sources}
            if after is not None:
                composite["after"] = after
            found = self.client.search(
                index=self.names.passages,
                query=query,
                size=0,
                aggs={"c": {"composite": composite}},
                track_total_hits=False,
            )
            agg = found["aggregations"]["c"]
            yield from agg["buckets"]
            after = agg.get("after_key")
            if after is None or len(agg["buckets"]) < COMPOSITE_PAGE:
                return

    def theme_frequency(
        self,
        by: GroupBy,
        filters: Filters | None = None,
        themes: list[str] | None = None,
    ) -> list[FrequencyRow]:
        self._ensure()
        filters = filters or Filters()
        clauses = passage_filters(filters)
        if themes:
            clauses.append({"terms": {"themes": list(themes)}})
        wanted = set(themes or [])
        sources = [
            {"theme": {"terms": {"field": "themes"}}},
            {"key": {"terms": {"field": _GROUP_FIELDS[by]}}},
            {"doc": {"terms": {"field": "document_id"}}},
        ]

        def run() -> list[FrequencyRow]:
            if not filters.has_passage_fields():
                fast = self._frequency_by_terms(by, filters, clauses, themes or [])
                if fast is not None:
                    return fast
            docs: Counter[tuple[str, str]] = Counter()
            passages: Counter[tuple[str, str]] = Counter()
            for b in self._composite({"bool": {"filter": clauses}}, sources):
                theme = b["key"]["theme"]
                if wanted and theme not in wanted:
                    continue
                cell = (theme, _key(b["key"]["key"]))
                docs[cell] += 1
                passages[cell] += int(b["doc_count"])
            return [
                FrequencyRow(theme=t, key=k, documents=docs[(t, k)], passages=passages[(t, k)])
                for t, k in sorted(docs)
            ]

        return self._call(run)

    def _frequency_by_terms(
        self, by: GroupBy, filters: Filters, clauses: list[dict[str, Any]], themes: list[str]
    ) -> list[FrequencyRow] | None:
        """Theme x key counts from two terms aggregations: passages from the passages index,
        documents from the documents index (a document lists each theme once, so its
        doc_count is a document count). Only valid without passage-level filters. Exact only
        when every bucket came back from every shard; returns None otherwise, and the caller
        falls back to the composite aggregation."""
        doc_query = self._documents_query(filters)
        if doc_query is None:
            return []
        if themes:
            doc_query["bool"]["filter"].append({"terms": {"themes": themes}})
        field = _GROUP_FIELDS[by]

        def aggs() -> dict[str, Any]:
            theme_terms: dict[str, Any] = {
                "field": "themes",
                "size": TERMS_ALL,
                "shard_size": TERMS_ALL,
            }
            if themes:
                theme_terms["include"] = themes
            return {
                "t": {
                    "terms": theme_terms,
                    "aggs": {
                        "k": {"terms": {"field": field, "size": TERMS_ALL, "shard_size": TERMS_ALL}}
                    },
                }
            }

        counted: list[dict[tuple[str, str], int]] = []
        for index, query in (
            (self.names.passages, {"bool": {"filter": clauses}}),
            (self.names.documents, doc_query),
        ):
            found = self.client.search(index=index, query=query, size=0, aggs=aggs())
            cells: dict[tuple[str, str], int] = {}
            outer = found["aggregations"]["t"]
            if outer["sum_other_doc_count"] or outer["doc_count_error_upper_bound"]:
                return None
            for tb in outer["buckets"]:
                inner = tb["k"]
                if inner["sum_other_doc_count"] or inner["doc_count_error_upper_bound"]:
                    return None
                for kb in inner["buckets"]:
                    cells[(tb["key"], _key(kb["key"]))] = int(kb["doc_count"])
            counted.append(cells)
        passages, documents = counted
        return [
            FrequencyRow(theme=t, key=k, documents=documents.get((t, k), 0), passages=n)
            for (t, k), n in sorted(passages.items())
        ]

    def _terms_exact(
        self, index: str, query: dict[str, Any], field: str, size: int = TERMS_ALL
    ) -> dict[str, int] | None:
        """doc_count per value of `field`, or None when Elasticsearch says the answer is
        incomplete (more values than `size`, or a shard that did not report all of its)."""
        found = self.client.search(
            index=index,
            query=query,
            size=0,
            aggs={"v": {"terms": {"field": field, "size": size, "shard_size": size}}},
        )
        agg = found["aggregations"]["v"]
        if agg["sum_other_doc_count"] or agg["doc_count_error_upper_bound"]:
            return None
        return {_key(b["key"]): int(b["doc_count"]) for b in agg["buckets"]}

    def _count_values(self, query: dict[str, Any], field: str) -> dict[str, int]:
        """Exact doc_count per value: one terms aggregation when it is complete, else every
        bucket of a composite aggregation."""
        counts = self._terms_exact(self.names.passages, query, field)
        if counts is None:
            counts = {
                _key(b["key"]["v"]): int(b["doc_count"])
                for b in self._composite(query, [{"v": {"terms": {"field": field}}}])
            }
        return counts

    def cooccurrence(self, filters: Filters | None = None) -> list[CooccurrenceCell]:
        self._ensure()
        filters = filters or Filters()
        query = {"bool": {"filter": passage_filters(filters)}}

        def by_terms() -> dict[str, tuple[int, int]] | None:
            """Without passage filters: passages per pair from the passages index, documents
            per pair from the documents index (each lists a pair once)."""
            doc_query = self._documents_query(filters)
            if doc_query is None:
                return {}
            passages = self._terms_exact(self.names.passages, query, "theme_pairs")
            documents = self._terms_exact(self.names.documents, doc_query, "theme_pairs")
            if passages is None or documents is None:
                return None
            return {pair: (documents.get(pair, 0), n) for pair, n in passages.items()}

        def by_composite() -> dict[str, tuple[int, int]]:
            docs: Counter[str] = Counter()
            passages: Counter[str] = Counter()
            sources = [
                {"pair": {"terms": {"field": "theme_pairs"}}},
                {"doc": {"terms": {"field": "document_id"}}},
            ]
            for b in self._composite(query, sources):
                docs[b["key"]["pair"]] += 1
                passages[b["key"]["pair"]] += int(b["doc_count"])
            return {pair: (docs[pair], n) for pair, n in passages.items()}

        def run() -> list[CooccurrenceCell]:
            cells = None if filters.has_passage_fields() else by_terms()
            if cells is None:
                cells = by_composite()
            out = []
            for pair, (documents, passages) in cells.items():
                a, _, b = pair.partition("|")
                out.append(
                    CooccurrenceCell(theme_a=a, theme_b=b, documents=documents, passages=passages)
                )
            return sorted(out, key=lambda c: (c.theme_a, c.theme_b))

        return self._call(run)

    def emerging(self, request: EmergingRequest) -> EmergingResponse:
        """Occurrences are counted exactly by aggregations over the `terms` field, where the
        n-th occurrence of a lemma in a passage is indexed as "lemma#n": a term's occurrences
        are the summed doc counts of its keys. Scores are the shared log-likelihood."""
        self._ensure()
        base = passage_filters(request.filters, years=False)

        def period(first: int, last: int) -> dict[str, Any]:
            return {"bool": {"filter": [*base, {"range": {"year": {"gte": first, "lte": last}}}]}}

        recent_q = period(request.recent_from, request.recent_to)
        baseline_q = period(request.baseline_from, request.baseline_to)

        def totals(query: dict[str, Any]) -> tuple[int, int]:
            found = self.client.search(
                index=self.names.passages,
                query=query,
                size=0,
                track_total_hits=True,
                aggs={"words": {"sum": {"field": "term_count"}}},
            )
            return int(found["hits"]["total"]["value"]), int(
                found["aggregations"]["words"]["value"]
            )

        def occurrences(query: dict[str, Any]) -> Counter[str]:
            counts: Counter[str] = Counter()
            for key, n in self._count_values(query, "terms").items():
                counts[key.partition("#")[0]] += n
            return counts

        def run() -> EmergingResponse:
            recent_n, recent_words = totals(recent_q)
            baseline_n, baseline_words = totals(baseline_q)
            theme_rows = over_represented(
                Counter(self._count_values(recent_q, "themes")),
                Counter(self._count_values(baseline_q, "themes")),
                recent_n,
                baseline_n,
                request.min_count,
                request.limit,
            )
            term_rows = over_represented(
                occurrences(recent_q),
                occurrences(baseline_q),
                recent_words,
                baseline_words,
                request.min_count,
                request.limit,
            )
            return EmergingResponse(
                recent_passages=recent_n,
                baseline_passages=baseline_n,
                terms=[
                    EmergingTerm(term=t, recent=r, baseline=b, score=s) for t, r, b, s in term_rows
                ],
                themes=[
                    EmergingTheme(theme=t, recent=r, baseline=b, score=s)
                    for t, r, b, s in theme_rows
                ],
            )

        return self._call(run)

    def significant_terms(
        self, recent_from: int, recent_to: int, filters: Filters | None = None, size: int = 50
    ) -> list[tuple[str, float]]:
        """Elasticsearch's own view of what is new: `significant_text` on the lemma stream of
        recent passages against the whole index. Passage frequency and its own heuristic, so
        it is not what `emerging` reports; kept for exploring a large corpus."""
        self._ensure()
        filters = filters or Filters()
        query = {
            "bool": {
                "filter": [
                    *passage_filters(filters, years=False),
                    {"range": {"year": {"gte": recent_from, "lte": recent_to}}},
                ]
            }
        }

        def run() -> list[tuple[str, float]]:
            found = self.client.search(
                index=self.names.passages,
                query=query,
                size=0,
                aggs={
                    "sample": {
                        "sampler": {"shard_size": 2000},
                        "aggs": {
                            "terms": {"significant_text": {"field": "lemmas", "size": size * 2}}
                        },
                    }
                },
            )
            buckets = found["aggregations"]["sample"]["terms"]["buckets"]
            return [(b["key"], float(b["score"])) for b in buckets if is_countable(b["key"])][:size]

        return self._call(run)

    def _recommendation_model(self) -> tuple[dict[str, dict[str, Any]], RecommendationSimilarity]:
        """Every document with recommendations and the similarity model over them, cached until
        the documents index changes (another index version, count, or latest write)."""
        found = self.client.search(
            index=self.names.documents,
            size=0,
            track_total_hits=True,
            aggs={"latest": {"max": {"field": "indexed_at"}}},
        )
        version = (
            tuple(self._alias_targets(self.names.documents)),
            found["hits"]["total"]["value"],
            found["aggregations"]["latest"]["value"],
        )
        cached = self._rec_cache
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
        docs: dict[str, dict[str, Any]] = {}
        for hit in es_helpers.scan(
            self.client,
            index=self.names.documents,
            query={"query": {"range": {"recommendation_count": {"gt": 0}}}},
            _source=["id", "doc_type", "year", "title", "recs", "rec_lemmas"],
            size=SCAN_PAGE,
            scroll="2m",
        ):
            docs[hit["_id"]] = hit["_source"]
        model = RecommendationSimilarity(
            [
                RecItem(doc_id, i, lemmas)
                for doc_id, src in sorted(docs.items())
                for i, lemmas in enumerate(src.get("rec_lemmas", []))
            ]
        )
        self._rec_cache = (version, docs, model)
        return docs, model

    def recommendations(
        self, filters: Filters | None = None, offset: int = 0, limit: int = 50, similar: int = 3
    ) -> RecommendationPage:
        self._ensure()
        filters = filters or Filters()
        doc_filters = Filters(
            doc_types=filters.doc_types,
            year_from=filters.year_from,
            year_to=filters.year_to,
            document_ids=filters.document_ids,
        )

        def run() -> RecommendationPage:
            docs, model = self._recommendation_model()
            chosen = [
                (doc_id, src) for doc_id, src in docs.items() if _doc_matches(src, doc_filters)
            ]
            chosen.sort(key=lambda d: (d[1].get("year") is None, -(d[1].get("year") or 0), d[0]))
            flat = [(doc_id, src, i) for doc_id, src in chosen for i in range(len(src["recs"]))]
            out: list[RecommendationItem] = []
            for doc_id, src, i in flat[offset : offset + limit]:
                rec = src["recs"][i]
                sims = []
                for other, score in model.similar(doc_id, i, similar):
                    other_src = docs[other.document_id]
                    other_rec = other_src["recs"][other.index]
                    sims.append(
                        SimilarRecommendation(
                            document_id=other.document_id,
                            title=other_src.get("title"),
                            index=other.index,
                            number=other_rec.get("number"),
                            text=other_rec["text"],
                            score=score,
                        )
                    )
                out.append(
                    RecommendationItem(
                        document_id=doc_id,
                        title=src.get("title"),
                        doc_type=src["doc_type"],
                        year=src.get("year"),
                        index=i,
                        number=rec.get("number"),
                        text=rec["text"],
                        addressee=rec.get("addressee"),
                        similar=sims,
                    )
                )
            return RecommendationPage(total=len(flat), items=out)

        return self._call(run)

    # --- rebuild --------------------------------------------------------------------------

    def begin_rebuild(self) -> None:
        self._ensure()

        def run() -> None:
            if self._next_open():
                raise RuntimeError("A rebuild is already open; commit or abort it first.")
            existing = self.client.indices.get(index=self.names.pattern, allow_no_indices=True)
            version = max((IndexNames.version_of(i) for i in existing.body), default=0) + 1
            self._create_pair(version, self.names.passages_next, self.names.documents_next)

        self._call(run)

    def rebuild_documents(self, docs: Iterable[Document]) -> int:
        return self._index_into(docs, live=False)

    def commit_rebuild(self) -> None:
        self._ensure()

        def run() -> None:
            new_p = self._alias_targets(self.names.passages_next)
            new_d = self._alias_targets(self.names.documents_next)
            if not new_p or not new_d:
                raise RuntimeError("No rebuild is open; call begin_rebuild first.")
            old_p = self._alias_targets(self.names.passages)
            old_d = self._alias_targets(self.names.documents)
            actions: list[dict[str, Any]] = []
            for live, nxt, old, new in (
                (self.names.passages, self.names.passages_next, old_p, new_p),
                (self.names.documents, self.names.documents_next, old_d, new_d),
            ):
                actions.extend({"remove": {"index": i, "alias": live}} for i in old)
                actions.extend({"remove": {"index": i, "alias": nxt}} for i in new)
                actions.extend(
                    {"add": {"index": i, "alias": live, "is_write_index": True}} for i in new
                )
            # one request: searches see the old pair or the new pair, never a mix
            self.client.indices.update_aliases(actions=actions)
            stale = [i for i in old_p + old_d if i not in new_p + new_d]
            if stale:
                self.client.indices.delete(index=",".join(stale), ignore_unavailable=True)

        self._call(run)

    def abort_rebuild(self) -> None:
        self._ensure()

        def run() -> None:
            new = self._alias_targets(self.names.passages_next) + self._alias_targets(
                self.names.documents_next
            )
            if new:
                self.client.indices.delete(index=",".join(new), ignore_unavailable=True)

        self._call(run)

    # --- operations -----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {"backend": self.name, "url": redact_url(self.url)}
        try:
            state = self.client.options(request_timeout=min(self.timeout_s, 3.0)).cluster.health()
            out["cluster_status"] = state["status"]
            out["nodes"] = state["number_of_nodes"]
            quick = self.client.options(request_timeout=min(self.timeout_s, 3.0))
            for key, index in (
                ("documents", self.names.documents),
                ("passages", self.names.passages),
            ):
                try:
                    out[key] = int(quick.count(index=index)["count"])
                except NotFoundError:
                    out[key] = 0
            out["status"] = "ok" if state["status"] in {"green", "yellow"} else "unavailable"
        except Exception as exc:  # health must answer whatever is wrong, never raise
            out["status"] = "unavailable"
            out["error"] = self._unavailable(exc).message
        return out

    def delete_indices(self) -> None:
        """Drop every index of this prefix (tests and `reviewlens reindex --fresh`)."""
        self._call(
            lambda: self.client.indices.delete(
                index=self.names.pattern, ignore_unavailable=True, allow_no_indices=True
            )
        )
        self._ready = False

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
