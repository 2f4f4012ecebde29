"""The ingest stage as one pure function: bytes in, a structured Document out.

Nothing here touches spaCy, the index or the file system beyond reading the path it is given,
so the same bytes always give the same Document and the whole library can be rebuilt from the
kept originals. The file name is only a label: it is reduced to its base name and never used
to build a path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from ingest import metadata, recommendations, structure
from reviewlens.model import Document, Passage, RawDocument, Section
from reviewlens.settings import Settings


def base_name(file_name: str) -> str:
    """The last part of an uploaded name, whichever separator the sender's system used."""
    name = PureWindowsPath(PurePosixPath(file_name).name).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "unnamed"


def document_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def structure_document(data: bytes, file_name: str, raw: RawDocument) -> Document:
    """Everything after extraction; split out so a caller that extracted elsewhere (in an
    isolated process) builds the same Document."""
    name = base_name(file_name)
    sections, passages = structure.build(raw)
    doc_type, title, published, year, found, evidence = metadata.detect(
        raw, sections, passages, name
    )
    if doc_type == "jtai":
        _letter_of_findings(sections, passages)
    found_recommendations = recommendations.extract(sections, passages)
    for recommendation in found_recommendations:
        if recommendation.passage_index is not None:
            passages[recommendation.passage_index].is_recommendation = True
    return Document(
        id=document_id(data),
        file_name=name,
        media_type=raw.media_type,
        size_bytes=len(data),
        doc_type=doc_type,
        title=title,
        date=published,
        year=year,
        page_count=raw.page_count,
        metadata=found,
        evidence=evidence,
        sections=sections,
        passages=passages,
        recommendations=found_recommendations,
    )


def _letter_of_findings(sections: list[Section], passages: list[Passage]) -> None:
    """A joint targeted area inspection makes no recommendations: its "areas for
    improvement" are findings, and counting them as recommendations would mislead."""
    renamed = set()
    for section in sections:
        if section.kind == "recommendations":
            section.kind = "findings"
            renamed.add(section.heading)
    for passage in passages:
        if passage.section in renamed and passage.section_kind == "recommendations":
            passage.section_kind = "findings"


def extract_document(data: bytes, file_name: str, settings: Settings | None = None) -> Document:
    """A structured Document from a file's bytes; raises an ExtractionError subclass."""
    from ingest.extractors import extract_raw

    raw = extract_raw(data, base_name(file_name), settings)
    return structure_document(data, file_name, raw)


def extract_path(path: str | Path, settings: Settings | None = None) -> Document:
    path = Path(path)
    return extract_document(path.read_bytes(), path.name, settings)
