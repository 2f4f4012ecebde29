"""The one data model every stage shares: ingest fills it, nlp annotates it, the index stores it.

Stages hand each other these objects and nothing else, so that a newcomer can trace any value
from the file it came from to the search hit that shows it. Everything is JSON-serialisable
(`model_dump(mode="json")`) because documents are kept beside their originals and rebuilt from
them.
"""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocType = Literal[
    "cspr",
    "national_review",
    "scr",
    "dhr",
    "sar",
    "ofsted_ilacs",
    "jtai",
    "inspection_other",
    "audit",
    "briefing",
    "section11",
    "other",
]
DOC_TYPES: tuple[str, ...] = DocType.__args__  # type: ignore[attr-defined]

SectionKind = Literal[
    "summary",
    "terms_of_reference",
    "background",
    "chronology",
    "key_practice_episodes",
    "analysis",
    "findings",
    "learning",
    "good_practice",
    "recommendations",
    "action_plan",
    "judgements",
    "other",
]
SECTION_KINDS: tuple[str, ...] = SectionKind.__args__  # type: ignore[attr-defined]

Stance = Literal["worked_well", "worried", "needs_to_happen"]
STANCES: tuple[str, ...] = Stance.__args__  # type: ignore[attr-defined]

BlockKind = Literal["heading", "paragraph", "list_item", "table_row"]

Grade = Literal["outstanding", "good", "requires_improvement", "inadequate"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- what an extractor produces -----------------------------------------------------------


class Block(_Model):
    """One run of text as the file laid it out, before structure is worked out.

    Extractors only say what they can see (text, page, whether the file marked it as a
    heading); deciding what is a section or a numbered paragraph is `ingest.structure`'s job.
    """

    text: str
    page: int | None = None
    kind: BlockKind = "paragraph"
    heading_level: int | None = None  # from Word styles / HTML h1-h6, when the file says so
    ocr: bool = False  # text came from Tesseract, not from the file's own text layer
    font_size: float | None = None  # PDF only: helps spot headings by size


class RawDocument(_Model):
    """An extractor's output: blocks in reading order, plus what the container knows."""

    media_type: str
    page_count: int
    blocks: list[Block]
    file_title: str | None = None  # PDF info / DOCX core properties / HTML <title>
    ocr_pages: list[int] = Field(default_factory=list)


# --- the structured, tagged document ------------------------------------------------------


class Evidence(_Model):
    """Why a field has its value: the text that decided it, and where it was."""

    value: str
    text: str
    page: int | None = None


class Section(_Model):
    heading: str
    kind: SectionKind = "other"
    level: int = 1
    page_start: int | None = None
    page_end: int | None = None


class ThemeTag(_Model):
    id: str
    label: str
    evidence: list[str]  # the matched spans, as they read in the passage
    spans: list[tuple[int, int]] = Field(default_factory=list)  # char offsets into Passage.text
    score: float = 1.0
    taxonomy_version: str = ""


class Passage(_Model):
    index: int  # position in the document, from 0; (document id, index) identifies a passage
    text: str
    page: int | None = None
    paragraph: str | None = None  # the document's own number, e.g. "4.3"
    section: str | None = None  # heading of the enclosing section
    section_kind: SectionKind = "other"
    kind: BlockKind = "paragraph"
    ocr: bool = False
    # filled by nlp/
    lemmas: str | None = None  # lower-cased lemma stream that the index matches on
    themes: list[ThemeTag] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list)
    stance: Stance | None = None
    is_recommendation: bool = False


class Recommendation(_Model):
    number: str | None = None  # "1", "R3", "5.2"
    text: str
    addressee: str | None = None  # agency or board it is made to
    timescale: str | None = None
    page: int | None = None
    section: str | None = None
    passage_index: int | None = None


class ThemeSummary(_Model):
    passages: int
    evidence: str  # the strongest evidence span in the document


class Document(_Model):
    id: str  # SHA-256 of the original bytes, hex
    file_name: str
    media_type: str
    size_bytes: int
    doc_type: DocType = "other"
    title: str | None = None
    date: datetime.date | None = None  # publication date
    year: int | None = None  # publication year, not the first year the text mentions
    page_count: int = 0
    metadata: dict[str, object] = Field(default_factory=dict)  # area, judgements, ...
    evidence: dict[str, Evidence] = Field(default_factory=dict)  # field name -> why
    sections: list[Section] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    # filled by nlp/
    themes: dict[str, int] = Field(default_factory=dict)  # theme id -> passage count
    theme_summary: dict[str, ThemeSummary] = Field(default_factory=dict)
    taxonomy_version: str | None = None

    @property
    def source(self) -> str | None:
        """The area or partnership that published it, used to group theme frequency."""
        value = self.metadata.get("area") or self.metadata.get("partnership")
        return str(value) if value else None
