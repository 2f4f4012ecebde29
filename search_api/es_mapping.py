"""Index names and explicit mappings for the Elasticsearch backend.

The mappings use only what the server core offers (the `standard` analyzer, keyword, numeric and
date fields), because the test node is the server-only distribution and the mapping the tests
use must be the mapping production uses. Linguistics happen before the text gets here: `nlp/`
writes the lemma stream, and queries are lemmatised and expanded by the shared parser.

Every index has a version in its name behind an alias (`<prefix>-passages` ->
`<prefix>-passages-v3`), so a rebuild fills a new version beside the live one and the aliases
move in one atomic request. While a rebuild is open a second alias (`<prefix>-passages-next`)
names the new version, so every process sees the same state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAPPING_VERSION = 2  # bump when a field changes; stored in _meta to spot stale indices

# what is indexed for matching, filtering and counting; the rest of the passage lives in _source
PASSAGES_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"reviewlens_mapping": MAPPING_VERSION},
    "properties": {
        "document_id": {"type": "keyword"},
        "passage_index": {"type": "integer"},
        # the lemma stream from nlp.analysis.lemma_text; already lower-cased and lemmatised,
        # so the standard analyzer only splits it (no stemming or stop words in this build)
        "lemmas": {"type": "text", "analyzer": "standard", "norms": True},
        # countable lemmas (see search_api.analytics) so emerging terms can total exactly
        "term_count": {"type": "integer"},
        "text": {"type": "text", "index": False},
        "page": {"type": "integer"},
        "paragraph": {"type": "keyword", "index": False, "doc_values": False},
        "section": {"type": "keyword", "index": False, "doc_values": False},
        "section_kind": {"type": "keyword"},
        "kind": {"type": "keyword"},
        "stance": {"type": "keyword"},
        "themes": {"type": "keyword"},
        # "a|b" for each pair of themes on the passage (a < b): co-occurrence in one terms agg
        "theme_pairs": {"type": "keyword"},
        # countable lemmas with repeats spelled out: "visit", "visit#2", "visit#3" for three
        # occurrences, so summing doc counts over a term's keys gives its exact occurrences
        "terms": {"type": "keyword"},
        "agencies": {"type": "keyword"},
        # document-level fields copied onto each passage so one query filters and groups
        "doc_type": {"type": "keyword"},
        "year": {"type": "integer"},
        "quarter": {"type": "keyword"},
        "source": {"type": "keyword"},
        "title": {"type": "keyword", "index": False, "doc_values": False},
    },
}

DOCUMENTS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"reviewlens_mapping": MAPPING_VERSION},
    # the full document is large; keeping it out of _source keeps every scan and list cheap
    "_source": {"excludes": ["body"]},
    "properties": {
        "id": {"type": "keyword"},
        "doc_type": {"type": "keyword"},
        "year": {"type": "integer"},
        "source": {"type": "keyword"},
        "quarter": {"type": "keyword"},
        # themes on any of its passages: documents per theme and group without deduplicating
        # passages, when no passage-level filter is set
        "themes": {"type": "keyword"},
        "theme_pairs": {"type": "keyword"},
        "passage_count": {"type": "integer"},
        "recommendation_count": {"type": "integer"},
        # changes whenever the document is written: with the count, a cheap "has anything
        # changed" check for caches
        "indexed_at": {"type": "long"},
        # which passage ids exist, so a replaced document loses its old passages without
        # delete-by-query (not in this build)
        "passage_indexes": {"type": "integer", "index": False, "doc_values": False},
        # what listing and recommendations show, small and ready to use
        "summary": {"type": "object", "enabled": False},
        "title": {"type": "keyword", "index": False, "doc_values": False},
        "recs": {"type": "object", "enabled": False},
        # recommendation lemma streams for the shared TF-IDF similarity
        "rec_lemmas": {"type": "keyword", "index": False, "doc_values": False},
        # the whole Document as JSON (base64), stored but not indexed, so get_document
        # round-trips it and a rebuild could be fed from it without the reindex module
        "body": {"type": "binary", "store": True},
    },
}


def index_settings(shards: int, replicas: int) -> dict[str, Any]:
    return {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        "max_result_window": 200_000,  # the API pages up to offset 100,000
        # documents matching passage filters are looked up by id in one terms query
        "max_terms_count": 1_000_000,
    }


_VERSION = re.compile(r"-v(\d+)$")


@dataclass(frozen=True)
class IndexNames:
    """Every name the backend uses for one prefix; tests give each test its own prefix."""

    prefix: str

    @property
    def passages(self) -> str:
        return f"{self.prefix}-passages"

    @property
    def documents(self) -> str:
        return f"{self.prefix}-documents"

    @property
    def passages_next(self) -> str:
        return f"{self.prefix}-passages-next"

    @property
    def documents_next(self) -> str:
        return f"{self.prefix}-documents-next"

    def versioned(self, alias: str, version: int) -> str:
        return f"{alias}-v{version}"

    @property
    def pattern(self) -> str:
        """Matches every concrete index of this prefix (for clean-up and version lookup)."""
        return f"{self.prefix}-*-v*"

    @staticmethod
    def version_of(index: str) -> int:
        match = _VERSION.search(index)
        return int(match.group(1)) if match else 0
