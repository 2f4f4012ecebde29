"""The one seam between the API and a search engine: `SearchBackend`.

Routes, jobs and the command line talk to this Protocol only, so swapping the embedded SQLite index
for Elasticsearch changes no caller. Backends satisfy it structurally (no inheritance) and prove it
by passing the shared contract suite in `tests/contract/`. The query and filter grammar is written
once, here; every backend must give the same matches for the same request.

Query grammar (parsed by `search_api.query.parse_query` into an AST that backends translate):

- ``neglect housing``: words; all must occur in the passage (implicit AND).
- ``"hidden men"``: exact phrase; the words in this order, next to each other.
- ``neglect OR "domestic abuse"``: either side. ``AND`` may also be written out. Operators are
  recognised in capitals only; lower-case ``and``/``or``/``not`` are ordinary words.
- ``neglect NOT housing`` or ``neglect -housing``: exclude passages with the word, phrase or
  group. A query, and each side of an OR, needs something positive to look for: ``-housing``
  alone is refused.
- ``escalat*``: prefix; any word starting with it (at least two letters, taken as written and
  lower-cased, not lemmatised).
- ``(neglect OR "self-neglect") -housing``: parentheses group.
- Precedence: NOT/- binds tightest, then AND (written or implied), then OR.
- Words and phrases are lemmatised with `nlp.analysis.lemma_tokens`, as the index is, so
  "bruised babies" matches "bruising baby" wherever the lemmas agree. Matching is
  case-insensitive. A word that lemmatises to several tokens ("follow-up") is a phrase.
  Punctuation and symbols with no letter or digit ("&", "§") are ignored.
- Bare words are expanded through the injected ``expand`` callable (the taxonomy's
  ``expand_query_term``): "CSE" finds "CSE" or "child sexual exploitation". Quoted phrases are
  taken literally and are not expanded.
- Malformed input (unbalanced quotes or parentheses, a dangling operator, an empty query, a
  negation with nothing positive) raises `reviewlens.errors.QueryError` with a message a person
  can act on.

Filter grammar (`Filters`, the same model for search, listing, theme frequency, co-occurrence and
emerging terms):

- Every field is optional; an empty list or ``None`` means "no restriction".
- Within one field, values are alternatives (any-of) EXCEPT ``themes``: a passage must carry
  EVERY listed theme (AND), because users add themes to narrow, not to widen.
- Different fields combine with AND.
- Document-level fields: ``doc_types``, ``year_from``/``year_to`` (inclusive, on the publication
  year `Document.year`; a document without a year fails any year bound), ``document_ids``.
- Passage-level fields: ``themes`` (all of, on `Passage.themes`), ``agencies`` (any of, exact
  strings from `Passage.agencies`), ``section_kinds`` and ``stances`` (any of).
- A passage matches when its document matches the document-level fields and it matches the
  passage-level fields. A document matches (for `list_documents` and `count`) when it matches the
  document-level fields and, if any passage-level field is set, at least one of its passages
  matches.

Ordering is part of the contract so paging is stable: search hits by relevance (best first), ties
by document id then passage index; an empty query (``query=None``) lists matching passages by
document id then passage index. Documents list newest year first (no year last), then by id.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from reviewlens.model import DocType, Document, SectionKind, Stance

if TYPE_CHECKING:
    from reviewlens.settings import Settings

Expand = Callable[[str], list[str]]
"""Query-time expansion of a bare word into alternatives (abbreviation -> long forms)."""

GroupBy = Literal["year", "quarter", "doc_type", "source"]
FACET_FIELDS: tuple[str, ...] = ("theme", "doc_type", "year", "agency", "stance", "section_kind")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filters(_Model):
    """Restrictions shared by every read; see the module docstring for how fields combine."""

    themes: list[str] = Field(default_factory=list)  # ALL of these themes on the passage
    doc_types: list[DocType] = Field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    agencies: list[str] = Field(default_factory=list)
    section_kinds: list[SectionKind] = Field(default_factory=list)
    stances: list[Stance] = Field(default_factory=list)
    document_ids: list[str] = Field(default_factory=list)

    def has_passage_fields(self) -> bool:
        """Passage-level restrictions change how documents are matched; backends ask this."""
        return bool(self.themes or self.agencies or self.section_kinds or self.stances)


class SearchRequest(_Model):
    query: str | None = None  # None: every passage matching the filters; "" is a QueryError
    filters: Filters = Field(default_factory=Filters)
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=10, ge=0, le=1000)
    facets: bool = True  # False skips facet counting when a caller only pages hits
    facet_size: int = Field(default=50, ge=1)  # most frequent values kept per facet


class SearchHit(_Model):
    document_id: str
    passage_index: int
    title: str | None
    doc_type: DocType
    year: int | None
    page: int | None
    paragraph: str | None
    section: str | None
    section_kind: SectionKind
    stance: Stance | None
    text: str  # the passage as written; callers rendering HTML must escape it
    highlights: list[str]  # HTML fragments: text escaped, matches wrapped in <mark>
    match_offsets: list[tuple[int, int]]  # character spans of matches in `text`
    themes: list[str]  # theme ids on the passage
    agencies: list[str]
    score: float  # backend-specific relevance, only comparable within one response


class SearchResponse(_Model):
    total: int  # passages matching query and filters
    hits: list[SearchHit]
    # facet name (FACET_FIELDS) -> value -> passages among ALL matches (not just this page),
    # most frequent first, ties by value; years are given as strings
    facets: dict[str, dict[str, int]] = Field(default_factory=dict)


class DocumentSummary(_Model):
    id: str
    file_name: str
    title: str | None
    doc_type: DocType
    year: int | None
    date: str | None  # ISO date
    source: str | None
    page_count: int
    passages: int
    recommendations: int
    themes: dict[str, int]  # theme id -> passages carrying it


class DocumentPage(_Model):
    total: int
    items: list[DocumentSummary]


class FrequencyRow(_Model):
    """One theme in one group. `documents` counts each document once however often the theme
    appears in it; `passages` counts passages carrying the theme."""

    theme: str
    key: str  # "2021", "2021-Q3" (from Document.date), a doc type, or a source
    documents: int
    passages: int


class CooccurrenceCell(_Model):
    """Two themes on the same passage. `theme_a` < `theme_b`; only pairs seen at least once.
    `passages` carry both; `documents` have at least one passage carrying both."""

    theme_a: str
    theme_b: str
    documents: int
    passages: int


class EmergingRequest(_Model):
    """A recent period against a baseline, both inclusive year ranges of Document.year."""

    recent_from: int
    recent_to: int
    baseline_from: int
    baseline_to: int
    filters: Filters = Field(default_factory=Filters)  # year bounds in here are ignored
    limit: int = Field(default=20, ge=1, le=500)
    min_count: int = Field(default=3, ge=1)  # fewer recent occurrences than this are noise


class EmergingTerm(_Model):
    term: str  # a lemma
    recent: int  # occurrences in recent passages
    baseline: int  # occurrences in baseline passages
    score: float  # log-likelihood G2 (see search_api.analytics), higher is more significant


class EmergingTheme(_Model):
    theme: str
    recent: int  # recent passages carrying it
    baseline: int
    score: float


class EmergingResponse(_Model):
    """Only over-represented items (recent rate above baseline rate), best score first, ties
    by name."""

    recent_passages: int
    baseline_passages: int
    terms: list[EmergingTerm]
    themes: list[EmergingTheme]


class SimilarRecommendation(_Model):
    document_id: str
    title: str | None
    index: int  # position in that document's `recommendations`
    number: str | None
    text: str
    score: float  # cosine similarity, 0..1


class RecommendationItem(_Model):
    document_id: str
    title: str | None
    doc_type: DocType
    year: int | None
    index: int
    number: str | None
    text: str
    addressee: str | None
    similar: list[SimilarRecommendation]  # most similar first, only from OTHER documents


class RecommendationPage(_Model):
    total: int
    items: list[RecommendationItem]


@runtime_checkable
class SearchBackend(Protocol):
    """What the API needs from an index. Implementations: `search_api.sqlite_backend.
    SqliteBackend` (embedded, default) and `search_api.es_backend.ElasticsearchBackend`.

    Each implementation offers ``from_settings(settings, *, expand=None)`` as a classmethod so
    `create_backend` can build it. Methods may raise `reviewlens.errors.BackendUnavailable`
    when the engine cannot be reached and `QueryError` for a malformed query; nothing else is
    raised on purpose. Every method is safe to call from several threads.
    """

    name: str  # "sqlite" or "elasticsearch"

    def index_documents(self, docs: Iterable[Document]) -> int:
        """Add or replace documents by id (a replaced document loses its old passages);
        indexing the same document twice leaves the index as after once. Returns the number
        of documents written. Visible to search when the call returns. While a rebuild is
        open, writes go to both the live and the new index so nothing is lost by the swap."""
        ...

    def delete_document(self, document_id: str) -> bool:
        """Remove a document and its passages and recommendations; False if it was absent.
        While a rebuild is open, it is removed from both indexes."""
        ...

    def get_document(self, document_id: str) -> Document | None:
        """The document exactly as indexed (round-trips `Document`)."""
        ...

    def list_documents(
        self, filters: Filters | None = None, offset: int = 0, limit: int = 50
    ) -> DocumentPage:
        """Matching documents, newest year first (no year last), then id."""
        ...

    def count(self, filters: Filters | None = None) -> int:
        """Number of matching documents."""
        ...

    def search(self, request: SearchRequest) -> SearchResponse:
        """Passages matching the query grammar and filters, with highlights and facets."""
        ...

    def theme_frequency(
        self,
        by: GroupBy,
        filters: Filters | None = None,
        themes: list[str] | None = None,
    ) -> list[FrequencyRow]:
        """Per theme and group key, documents and passages among passages matching the
        filters. `themes` limits which themes get rows. Documents with no value for the key
        (no year, no date for quarters, no source) are left out. Sorted by theme, then key."""
        ...

    def cooccurrence(self, filters: Filters | None = None) -> list[CooccurrenceCell]:
        """Theme pairs on the same passage among matching passages, sorted by theme_a,
        theme_b."""
        ...

    def emerging(self, request: EmergingRequest) -> EmergingResponse:
        """Lemmas and themes over-represented in the recent period. Terms are counted as
        lemma occurrences in the passages' lemma streams, ignoring stop words, numbers and
        lemmas shorter than three letters; scored with `search_api.analytics.log_likelihood`."""
        ...

    def recommendations(
        self, filters: Filters | None = None, offset: int = 0, limit: int = 50, similar: int = 3
    ) -> RecommendationPage:
        """Recommendations of matching documents (document-level filter fields apply;
        passage-level ones are ignored), ordered by document (as `list_documents`) then
        position, each with up to `similar` most similar recommendations from any OTHER
        document in the index (TF-IDF cosine over lemmas, `search_api.analytics`), scores
        above 0.1 only."""
        ...

    def begin_rebuild(self) -> None:
        """Start building a new, empty index beside the live one. Searches keep answering from
        the live index until `commit_rebuild`. Raises RuntimeError if one is already open."""
        ...

    def rebuild_documents(self, docs: Iterable[Document]) -> int:
        """Write documents into the index being rebuilt only."""
        ...

    def commit_rebuild(self) -> None:
        """Atomically make the rebuilt index live and drop the old one."""
        ...

    def abort_rebuild(self) -> None:
        """Drop the index being rebuilt; the live one is untouched. No-op if none is open."""
        ...

    def health(self) -> dict[str, Any]:
        """``{"backend": name, "status": "ok"|"unavailable", "documents": n, ...}``; never
        raises, so the health endpoint can say which part is down."""
        ...

    def close(self) -> None:
        """Release connections; the backend is not used afterwards."""
        ...


def create_backend(settings: Settings, *, expand: Expand | None = None) -> SearchBackend:
    """Build the configured backend; imports lazily so the embedded mode needs no ES client."""
    module_name, class_name = _IMPLEMENTATIONS[settings.search_backend]
    cls = getattr(importlib.import_module(module_name), class_name)
    backend: SearchBackend = cls.from_settings(settings, expand=expand)
    return backend


_IMPLEMENTATIONS: dict[str, tuple[str, str]] = {
    "sqlite": ("search_api.sqlite_backend", "SqliteBackend"),
    "elasticsearch": ("search_api.es_backend", "ElasticsearchBackend"),
}
