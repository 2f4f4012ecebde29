"""Tag a structured Document: themes with evidence, agencies, stance, recommendations.

`tag_document` is a pure function (a new Document comes back; the input is untouched), so the
whole library can be re-tagged after a taxonomy edit from the kept extracts. Every tag carries
the taxonomy version that made it.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

from spacy.tokens import Doc

from nlp.analysis import BATCH_SIZE, doc_lemma_tokens
from nlp.pipeline import ThemeHit, build_pipeline, rule_state
from nlp.taxonomy import Taxonomy, load_taxonomy
from reviewlens.model import Document, Passage, Recommendation, ThemeSummary, ThemeTag

_NUMBER = re.compile(r"^\s*(?:recommendation|action)?\s*(R?\d+(?:\.\d+)*)[:.)]?\s", re.I)


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Taxonomy:
    return load_taxonomy(Path(path))


def default_taxonomy() -> Taxonomy:
    """The taxonomy named by settings, reloaded when its file changes."""
    from reviewlens.settings import get_settings

    path = get_settings().taxonomy_path
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _load(str(path), mtime)


def _score(hits: list[ThemeHit]) -> float:
    strong = sum(1 for h in hits if not h.weak)
    weak = len(hits) - strong
    return round(min(1.0, 0.6 + 0.2 * strong + 0.1 * weak) if strong else 0.5, 2)


def _theme_tags(sdoc: Doc, taxonomy: Taxonomy) -> list[ThemeTag]:
    tags: list[ThemeTag] = []
    found = sdoc._.themes
    scores = rule_state(sdoc).scores  # the trained model's probability, when there is one
    for theme_id, hits in found.items():
        theme = taxonomy.by_id[theme_id]
        evidence: list[str] = []
        spans: list[tuple[int, int]] = []
        for hit in hits:
            span = sdoc[hit.start : hit.end]
            char_span = (span.start_char, span.end_char)
            if char_span in spans:
                continue
            spans.append(char_span)
            if span.text not in evidence:
                evidence.append(span.text)
        tags.append(
            ThemeTag(
                id=theme_id,
                label=theme.label,
                evidence=evidence,
                spans=spans,
                score=round(scores[theme_id], 2) if theme_id in scores else _score(hits),
                taxonomy_version=taxonomy.version,
            )
        )
    order = {theme.id: i for i, theme in enumerate(taxonomy.themes)}
    tags.sort(key=lambda tag: order[tag.id])
    return tags


def _tag_passage(passage: Passage, sdoc: Doc, taxonomy: Taxonomy) -> Passage:
    # ingest may already know a passage is a recommendation (from its section); keep that
    is_recommendation = bool(sdoc._.is_recommendation) or passage.is_recommendation
    stance = "needs_to_happen" if is_recommendation else sdoc._.stance
    return passage.model_copy(
        update={
            "lemmas": " ".join(doc_lemma_tokens(sdoc)),
            "themes": _theme_tags(sdoc, taxonomy),
            "agencies": list(sdoc._.agencies or []),
            "stance": stance,
            "is_recommendation": is_recommendation,
        }
    )


def _summaries(passages: Sequence[Passage]) -> tuple[dict[str, int], dict[str, ThemeSummary]]:
    counts: dict[str, int] = {}
    best: dict[str, tuple[float, int, int, str]] = {}
    for passage in passages:
        for tag in passage.themes:
            counts[tag.id] = counts.get(tag.id, 0) + 1
            if not tag.evidence:
                continue
            strongest = max(tag.evidence, key=len)
            key = (tag.score, len(tag.evidence), len(strongest), strongest)
            if tag.id not in best or key[:3] > best[tag.id][:3]:
                best[tag.id] = key
    summary = {
        theme_id: ThemeSummary(passages=counts[theme_id], evidence=best[theme_id][3])
        for theme_id in counts
        if theme_id in best
    }
    return counts, summary


def _recommendations(doc: Document, passages: Sequence[Passage]) -> list[Recommendation]:
    """Ingest's recommendations, plus those recognised in passages outside their section."""
    out = list(doc.recommendations)
    known = {r.passage_index for r in out if r.passage_index is not None}
    texts = {" ".join(r.text.split()) for r in out}
    for passage in passages:
        if not passage.is_recommendation or passage.index in known:
            continue
        if " ".join(passage.text.split()) in texts:
            continue
        match = _NUMBER.match(passage.text)
        out.append(
            Recommendation(
                number=match.group(1) if match else None,
                text=passage.text,
                page=passage.page,
                section=passage.section,
                passage_index=passage.index,
            )
        )
    return out


def tag_document(doc: Document, taxonomy: Taxonomy | None = None) -> Document:
    """A new Document with every passage tagged and the document-level theme summary."""
    taxonomy = taxonomy or default_taxonomy()
    nlp = build_pipeline(taxonomy)
    sdocs = []
    for passage in doc.passages:
        sdoc = nlp.make_doc(passage.text)
        sdoc._.section_kind = passage.section_kind
        sdocs.append(sdoc)
    tagged = [
        _tag_passage(passage, sdoc, taxonomy)
        for passage, sdoc in zip(doc.passages, nlp.pipe(sdocs, batch_size=BATCH_SIZE), strict=True)
    ]
    counts, summary = _summaries(tagged)
    return doc.model_copy(
        update={
            "passages": tagged,
            "themes": counts,
            "theme_summary": summary,
            "taxonomy_version": taxonomy.version,
            "recommendations": _recommendations(doc, tagged),
        }
    )


_WORKER_TAXONOMY: Taxonomy | None = None


def init_pool_process(taxonomy: Taxonomy) -> None:
    """Initializer for a tagging process pool: build the pipeline once per process, not on its
    first document."""
    global _WORKER_TAXONOMY
    _WORKER_TAXONOMY = taxonomy
    build_pipeline(taxonomy)


def tag_in_pool_process(doc: Document) -> Document:
    """`tag_document` with the taxonomy `init_pool_process` gave this process."""
    return tag_document(doc, _WORKER_TAXONOMY)


def tag_documents(
    docs: Iterable[Document], taxonomy: Taxonomy | None = None, n_process: int = 1
) -> list[Document]:
    """Tag many documents, over `n_process` processes (0: one per core), in input order."""
    taxonomy = taxonomy or default_taxonomy()
    items = list(docs)
    if n_process <= 0:
        n_process = os.cpu_count() or 1
    n_process = min(n_process, len(items))
    if n_process <= 1:
        return [tag_document(doc, taxonomy) for doc in items]
    # build once here: forked workers inherit the built pipeline instead of each paying for
    # the lookup tables and matchers again
    build_pipeline(taxonomy)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(
        max_workers=n_process,
        mp_context=context,
        initializer=init_pool_process,
        initargs=(taxonomy,),
    ) as pool:
        # a few chunks per worker: fewer round trips than one document at a time, while a
        # long document still does not hold up the whole folder
        chunksize = max(1, len(items) // (n_process * 4))
        return list(pool.map(tag_in_pool_process, items, chunksize=chunksize))
