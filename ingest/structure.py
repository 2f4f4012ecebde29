"""From blocks to sections and passages: the shape every later stage cites.

A reader of a search hit wants to know where it sits ("4.3, Analysis, page 12"), so this module
decides which blocks are headings, what kind of section each heading opens, which document
number a paragraph carries, and mends paragraphs that a page break cut in two. Extractors only
report what the file shows; everything here works from text patterns, so a PDF with no styles
and a DOCX with heading styles end up alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from reviewlens.model import Block, BlockKind, Passage, RawDocument, Section, SectionKind

# --- heading vocabulary -------------------------------------------------------------------

# (phrase, kind): a heading is given the kind of the earliest phrase it contains; longer,
# more specific phrases are listed before the words they contain.
_VOCABULARY: tuple[tuple[str, SectionKind], ...] = (
    ("key practice episode", "key_practice_episodes"),
    ("key episode", "key_practice_episodes"),
    ("terms of reference", "terms_of_reference"),
    ("key lines of enquiry", "terms_of_reference"),
    ("key lines of inquiry", "terms_of_reference"),
    ("lines of enquiry", "terms_of_reference"),
    ("scope of the review", "terms_of_reference"),
    ("scope", "terms_of_reference"),
    ("about this review", "terms_of_reference"),
    ("about the review", "terms_of_reference"),
    ("the review process", "terms_of_reference"),
    ("purpose", "terms_of_reference"),
    ("summary of agency involvement", "chronology"),
    ("agency involvement", "chronology"),
    ("summary of the case", "background"),
    ("case summary", "background"),
    ("summary of events", "chronology"),
    ("sequence of events", "chronology"),
    ("key events", "chronology"),
    ("why this review", "summary"),
    ("why the review", "summary"),
    ("reason for the review", "summary"),
    ("reasons for the review", "summary"),
    ("executive summary", "summary"),
    ("summary", "summary"),
    ("introduction", "summary"),
    ("family composition", "background"),
    ("pen picture", "background"),
    ("background", "background"),
    ("chronology", "chronology"),
    ("narrative", "chronology"),
    ("timeline", "chronology"),
    ("appraisal of practice", "analysis"),
    ("analysis", "analysis"),
    ("themes", "analysis"),
    ("lessons learned", "learning"),
    ("lessons learnt", "learning"),
    ("lessons", "learning"),
    ("what we learned", "learning"),
    ("what we learnt", "learning"),
    ("learning", "learning"),
    ("good practice", "good_practice"),
    ("what worked well", "good_practice"),
    ("what is working well", "good_practice"),
    ("do well", "good_practice"),
    ("did well", "good_practice"),
    ("doing well", "good_practice"),
    ("strengths", "good_practice"),
    ("areas for improvement", "recommendations"),
    ("areas for priority action", "recommendations"),
    ("what needs to improve", "recommendations"),
    ("what needs to happen", "recommendations"),
    ("what you should do", "recommendations"),
    ("what should happen", "recommendations"),
    ("actions agreed", "recommendations"),
    ("priorities for", "recommendations"),
    ("recommendation", "recommendations"),
    ("action plan", "action_plan"),
    ("actions", "action_plan"),
    ("inspection judgement", "judgements"),
    ("experiences and progress of", "judgements"),
    ("impact of leaders", "judgements"),
    ("overall effectiveness", "judgements"),
    ("judgement", "judgements"),
    ("areas for development", "findings"),
    ("need to improve", "findings"),
    ("what we found", "findings"),
    ("why it matters", "findings"),
    ("overall picture", "findings"),
    ("conclusion", "findings"),
    ("findings", "findings"),
    ("finding", "findings"),
)

# Generic words that name a kind only when nothing more specific is in the heading.
_WEAK = frozenset({"introduction"})

# Kinds a run of untitled-kind sibling headings carries on: "Analysis" then "Invisible
# fathers" at the same level is still analysis. A heading's last phrase decides ("Summary of
# findings" is followed by the findings themselves).
_CONTINUING: frozenset[str] = frozenset(
    {"analysis", "findings", "key_practice_episodes", "chronology", "learning", "judgements"}
)


@lru_cache(maxsize=4096)
def continuing_kind(heading: str) -> SectionKind | None:
    """The kind that unnamed sibling headings after this one carry on, if any."""
    words = f" {_normalise(_strip_heading_number(heading))} "
    best: tuple[int, SectionKind] | None = None
    for phrase, kind in _VOCABULARY:
        at = words.rfind(f" {phrase}")
        if at >= 0 and (best is None or at > best[0]):
            best = (at, kind)
    if best is None or best[1] not in _CONTINUING:
        return None
    return best[1]


# Top-level headings that are known to be "other": they never inherit a parent's kind.
_OTHER_HEADINGS = (
    "methodology",
    "method",
    "glossary",
    "appendix",
    "appendices",
    "annex",
    "references",
    "acknowledgement",
    "contents",
    "foreword",
    "panel membership",
    "the review panel",
    "review panel",
    "family involvement",
    "involvement of family",
    "equality and diversity",
    "parallel processes",
    "condolences",
    "independence",
    "author",
    "agencies involved",
    "agencies that contributed",
    "contributing agencies",
    "information about this inspection",
    "further information",
)

_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")


# Phrases that contain a vocabulary word without meaning it ("learning disability" is not a
# learning section).
_FALSE_FRIENDS = re.compile(r"\blearning (?:disabilit|difficult)\w*")


def _normalise(text: str) -> str:
    lowered = _FALSE_FRIENDS.sub(" ", text.lower().replace("\u2019", "'"))
    return " ".join(_WORDS.findall(lowered))


@lru_cache(maxsize=4096)
def heading_kind(heading: str) -> SectionKind | None:
    """The kind a heading names by itself, or None when it names none (so it may inherit)."""
    words = f" {_normalise(_strip_heading_number(heading))} "
    best: tuple[int, SectionKind] | None = None
    for phrase, kind in _VOCABULARY:
        at = words.find(f" {phrase}")
        if at < 0:
            continue
        if phrase in _WEAK:
            at += 1000  # "Introduction and terms of reference" is about its second half
        if best is None or at < best[0]:
            best = (at, kind)
    return best[1] if best else None


@lru_cache(maxsize=4096)
def _is_known_other(heading: str) -> bool:
    words = _normalise(_strip_heading_number(heading))
    return any(words.startswith(phrase) for phrase in _OTHER_HEADINGS)


# --- patterns -----------------------------------------------------------------------------

_RECOMMENDATION_LABEL = re.compile(
    r"^\s*(?:recommendation|rec\.?)\s*(?:no\.?\s*)?(\d{1,2}[a-z]?)\b|^\s*R\s?(\d{1,2}[a-z]?)\b",
    re.IGNORECASE,
)
_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,2})\.?\s+(\S.*)$")
_PART_HEADING = re.compile(
    r"^(?:part|section|appendix|annex|chapter)\s+(?:\d{1,2}|[A-Z]|[IVX]{1,4}|one|two|three|four|"
    r"five|six|seven|eight|nine|ten)\b",
    re.IGNORECASE,
)
_PARAGRAPH_NUMBER = re.compile(
    r"^(?:(\d{1,2}(?:\.\d{1,3}){1,3})\.?|(\d{1,3})\.|\(([a-z]|[ivx]{1,4}|\d{1,2})\))\s+(?=\S)"
)
_BULLET = re.compile(r"^[\u2022\u25aa\u25cf\u2023\u2043\u25e6\u2013\u2014*\-\u00b7o]\s+")
_TERMINAL = tuple(".!?:;)\"'\u201d\u2019]")
_DANGLING = {
    "a",
    "an",
    "and",
    "as",
    "at",
    "by",
    "for",
    "from",
    "in",
    "of",
    "on",
    "or",
    "the",
    "to",
    "was",
    "were",
    "with",
}

_META_LINE = re.compile(
    r"^(?:published|report published|date of publication|publication date|date published|"
    r"inspection dates?|review dates?|dates? of inspection|lead inspector|"
    r"(?:independent )?(?:lead )?(?:reviewer|author)|date|version|status|classification)"
    r"(?:\s*:|\s+\d)"
    r"|^(?:to|for|addressed to|lead(?: agency| agencies)?|owner|agency|responsible|timescales?|"
    r"by when|target date|deadline)\s*:",
    re.IGNORECASE,
)
_ONLY_DATE = re.compile(
    r"^(?:[0-3]?\d\s+)?(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\s+(?:19|20)\d\d$",
    re.IGNORECASE,
)
_DIRECTIVE = re.compile(
    r"^(?:review|ensure|develop|provide|consider|establish|agree|share|promote|update|"
    r"introduce|commission|train|audit|record|publish|relaunch|require|include|seek|raise|"
    r"strengthen|improve|embed|extend|monitor|reduce|make|set up|create|remind|ask)"
    r"\s+(?:the|a|an|all|its|their|every|each|how|whether|that|and)\b"
    r"|\b(?:should|must|will|shall)\b",
    re.IGNORECASE,
)
_SETEXT = re.compile(r"\s+(?:={3,}|-{3,})$")
_DOCUMENT_WORDS = re.compile(
    r"\b(?:review|report|inspection|brief|briefing|audit|letter)\b", re.IGNORECASE
)

_LETTERS = re.compile(r"[^\W\d_]")

MIN_PASSAGE_CHARS = 20
MIN_PASSAGE_WORDS = 3


def _strip_heading_number(text: str) -> str:
    match = _NUMBERED_HEADING.match(text.strip())
    return match.group(2) if match else text


def recommendation_label(text: str) -> str | None:
    """The number in a leading "Recommendation 3" / "R3" label, if the text starts with one."""
    match = _RECOMMENDATION_LABEL.match(text)
    if not match:
        return None
    return match.group(1) or f"R{match.group(2)}"


def _is_label_only(text: str) -> bool:
    """A "Recommendation 3" block with nothing else: it belongs to the text that follows."""
    match = _RECOMMENDATION_LABEL.match(text)
    return match is not None and not text[match.end() :].strip(" :.-\u2013\u2014")


def split_paragraph_number(text: str) -> tuple[str | None, str]:
    """("4.3", rest) for "4.3 The visit...", (None, text) when the text carries no number."""
    match = _PARAGRAPH_NUMBER.match(text)
    if not match:
        return None, text
    number = match.group(1) or match.group(2) or f"({match.group(3)})"
    return number, text[match.end() :]


def _looks_like_title(text: str) -> bool:
    """Short, no full stop at the end, not cut off mid-phrase: how headings read."""
    words = text.split()
    if not words or len(words) > 14 or len(text) > 110:
        return False
    if text.endswith((".", ",", ";")) or not (text[0].isupper() or text[0].isdigit()):
        return False
    return words[-1].lower() not in _DANGLING


def _is_all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters) and len(text.split()) >= 2


@dataclass
class _HeadingGuess:
    level: int | None  # None: a sub-heading of whatever is open


def _guess_heading(
    block: Block,
    body_size: float | None,
    lone_line: bool = False,
    in_list: bool = False,
    text: str | None = None,
) -> _HeadingGuess | None:
    """Whether a block opens a section, and at what level if the block says so.

    `lone_line`: a short line standing above a longer paragraph, how plain-text files and
    PDFs without type sizes show a heading. `in_list`: the block sits among list items, so a
    short numbered line is an item ("1. Health visitors"), not a heading.
    """
    text = (block.text if text is None else text).strip()
    if not text or block.kind == "table_row" or _RECOMMENDATION_LABEL.match(text):
        return None
    if _META_LINE.match(text) or _ONLY_DATE.match(text):
        return None  # title-page facts set large are still not sections
    if block.kind == "heading":
        if len(text) > 200:
            return None
        return _HeadingGuess(block.heading_level or _pattern_level(text))
    if not _looks_like_title(text):
        return None
    numbered = _NUMBERED_HEADING.match(text)
    if numbered:
        rest = numbered.group(2)
        if len(rest.split()) > 9 or not rest[0].isupper() or rest.endswith((".", ":")):
            return None
        if block.kind == "list_item" and (len(rest.split()) > 6 or in_list):
            return None
        if _DIRECTIVE.search(rest):
            return None  # "3. Review the neglect strategy" is a numbered action, not a heading
        return _HeadingGuess(numbered.group(1).count(".") + 1)
    if block.kind == "list_item":
        return None
    if _PART_HEADING.match(text):
        return _HeadingGuess(1)
    large = (
        block.font_size is not None
        and body_size is not None
        and block.font_size >= body_size * 1.15
    )
    named = heading_kind(text) is not None or _is_known_other(text)
    if named and len(text.split()) <= 8:
        return _HeadingGuess(None)
    if _is_all_caps(text) or large:
        return _HeadingGuess(None)
    if lone_line and len(text.split()) <= 8 and not any(c.isdigit() for c in text):
        return _HeadingGuess(None)
    return None


def _pattern_level(text: str) -> int | None:
    numbered = _NUMBERED_HEADING.match(text)
    if numbered and len(numbered.group(2).split()) <= 12:
        return numbered.group(1).count(".") + 1
    if _PART_HEADING.match(text):
        return 1
    return None


def _body_font_size(blocks: list[Block]) -> float | None:
    """The type size most of the text is set in (median weighted by characters)."""
    sized = sorted((b.font_size, len(b.text)) for b in blocks if b.font_size)
    total = sum(weight for _, weight in sized)
    if not total:
        return None
    running = 0
    for size, weight in sized:
        running += weight
        if running * 2 >= total:
            return size
    return sized[-1][0]


def _font_levels(blocks: list[Block], body_size: float | None) -> dict[float, int]:
    """Bigger type is a higher level: rank the sizes that headings use."""
    if body_size is None:
        return {}
    sizes = sorted(
        {
            round(b.font_size, 1)
            for b in blocks
            if b.font_size and b.font_size >= body_size * 1.15 and len(b.text) <= 110
        },
        reverse=True,
    )
    return {size: rank + 1 for rank, size in enumerate(sizes)}


# --- joining blocks -----------------------------------------------------------------------


@dataclass
class _Piece:
    text: str
    page: int | None
    kind: BlockKind
    ocr: bool
    heading: _HeadingGuess | None = None
    font_size: float | None = None


def _continues(prev: _Piece, block: Block) -> bool:
    """A paragraph cut by a page break (or a stray line break): the next block goes on where
    this one stopped."""
    if prev.heading is not None or block.kind != "paragraph" or prev.kind == "table_row":
        return False
    nxt = block.text.lstrip()
    if not nxt or _PARAGRAPH_NUMBER.match(nxt) or _BULLET.match(nxt):
        return False
    if _RECOMMENDATION_LABEL.match(nxt):
        return False
    unfinished = not prev.text.rstrip().endswith(_TERMINAL)
    if nxt[0].islower() and unfinished:
        return True  # a line break inside a sentence (OCR and plain text often give these)
    if prev.page is None or block.page is None or block.page == prev.page:
        return False
    if nxt[0].islower():
        return True
    # a capital after a page break only continues a long sentence left open
    return len(prev.text) >= 60 and not prev.text.rstrip().endswith(_TERMINAL)


def _join(left: str, right: str) -> str:
    left = left.rstrip()
    right = right.lstrip()
    if left.endswith("-") and right[:1].islower() and left[-2:-1].isalpha():
        return left[:-1] + right
    return f"{left} {right}"


def _pieces(raw: RawDocument) -> list[_Piece]:
    body_size = _body_font_size(raw.blocks)
    levels = _font_levels(raw.blocks, body_size)
    pieces: list[_Piece] = []
    pending_label: str | None = None
    blocks = raw.blocks
    for at, block in enumerate(blocks):
        text = " ".join(block.text.split())
        if not text:
            continue
        underline = _SETEXT.search(text) if text.endswith(("===", "---")) else None
        if underline and block.kind != "table_row" and len(text) <= 200:
            level = 1 if underline.group(0).strip()[0] == "=" else 2
            text = text[: underline.start()].strip()
            block = block.model_copy(update={"kind": "heading", "heading_level": level})
        if _is_label_only(text):
            pending_label = text.rstrip(" :.-\u2013\u2014")
            continue
        if pending_label is not None:
            text = f"{pending_label}: {text}"
            pending_label = None
            block = Block(text=text, page=block.page, ocr=block.ocr, font_size=block.font_size)
        elif pieces and _continues(pieces[-1], block):
            prev = pieces[-1]
            prev.text = _join(prev.text, text)
            prev.ocr = prev.ocr or block.ocr
            continue
        nxt = blocks[at + 1] if at + 1 < len(blocks) else None
        lone = (
            body_size is None
            and nxt is not None
            and nxt.kind in ("paragraph", "list_item")
            and len(nxt.text) >= max(40, len(text) + 10)
            and not _is_label_only(nxt.text.strip())
        )
        in_list = block.kind == "list_item" and (
            (nxt is not None and nxt.kind == "list_item")
            or (at > 0 and blocks[at - 1].kind == "list_item")
        )
        guess = _guess_heading(block, body_size, lone, in_list, text)
        if guess is not None and guess.level is None and block.font_size:
            guess.level = levels.get(round(block.font_size, 1))
        pieces.append(
            _Piece(
                text=text,
                page=block.page,
                kind=block.kind,
                ocr=block.ocr,
                heading=guess,
                font_size=block.font_size,
            )
        )
    if pending_label is not None:
        pieces.append(_Piece(pending_label, None, "paragraph", False))
    return pieces


# --- building -----------------------------------------------------------------------------


@dataclass
class _Open:
    level: int
    kind: SectionKind
    section: Section
    carries: SectionKind | None = None


def _keep(text: str, kind: BlockKind) -> bool:
    """Page furniture and stray fragments are not passages; a list item or table row with
    words is (a short "Westvale Police" in a list of agencies still says something)."""
    letters = _LETTERS.findall(text[:40])
    if not letters:
        return False
    if kind in ("table_row", "list_item"):
        return len(text) > 40 or len(letters) >= 4
    return len(text) >= MIN_PASSAGE_CHARS or len(text.split()) >= MIN_PASSAGE_WORDS


def build(raw: RawDocument) -> tuple[list[Section], list[Passage]]:
    """Sections (with kinds) and passages (with page, section and paragraph number)."""
    sections: list[Section] = []
    passages: list[Passage] = []
    stack: list[_Open] = []
    last_known_level = 0
    first_page = min((b.page for b in raw.blocks if b.page is not None), default=None)
    title_section: str | None = None

    for piece in _pieces(raw):
        if piece.heading is not None:
            heading = piece.text.rstrip(":").strip()
            own = heading_kind(heading)
            level = piece.heading.level
            if level is None:
                level = 1 if own is not None or _is_known_other(heading) else last_known_level + 1
                if own is not None and stack and stack[-1].kind == own:
                    level = max(level, stack[-1].level + 1)
            else:
                last_known_level = level
            if own is not None and piece.heading.level is None:
                last_known_level = level
            sibling: _Open | None = None
            while stack and stack[-1].level >= level:
                popped = stack.pop()
                if popped.level == level:
                    sibling = popped
            kind: SectionKind
            carries: SectionKind | None = None
            if (
                not sections
                and piece.page in (first_page, None)
                and _DOCUMENT_WORDS.search(heading)
            ):
                kind = "other"  # the document's own title, not a section of it
                title_section = heading
            elif own is not None:
                kind = own
                carries = continuing_kind(heading)
            elif _is_known_other(heading):
                kind = "other"
            elif sibling is not None and sibling.carries is not None:
                kind = carries = sibling.carries
            elif stack:
                kind = stack[-1].kind
            else:
                kind = "other"
            section = Section(
                heading=heading, kind=kind, level=level, page_start=piece.page, page_end=piece.page
            )
            sections.append(section)
            stack.append(_Open(level, kind, section, carries))
            continue

        if piece.kind == "table_row":
            number, text = None, piece.text
        else:
            text = _BULLET.sub("", piece.text)
            number, text = split_paragraph_number(text)
            text = text.strip()
        if not _keep(text, piece.kind):
            continue
        current = stack[-1] if stack else None
        if current is not None and piece.page is not None:
            for open_section in stack:
                end = open_section.section.page_end
                if end is None or piece.page > end:
                    open_section.section.page_end = piece.page
        passages.append(
            Passage(
                index=len(passages),
                text=text,
                page=piece.page,
                paragraph=number,
                section=current.section.heading if current else None,
                section_kind=current.kind if current else "other",
                # a block styled as a heading but not one (a title-page date) reads as text
                kind="paragraph" if piece.kind == "heading" else piece.kind,
                ocr=piece.ocr,
            )
        )
    if title_section is not None and not any(s.kind == "summary" for s in sections):
        # a letter or short report with no summary heading opens with its summary
        sections[0].kind = "summary"
        for passage in passages:
            if passage.section == title_section and passage.section_kind == "other":
                passage.section_kind = "summary"
    return sections, passages
