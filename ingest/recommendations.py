"""Recommendations as records of their own, with number, addressee and timescale.

The partnership wants to see the same recommendation made again and again across reviews, and
to know who it was made to and by when. Reviews lay them out in several ways: "Recommendation 1"
labels, "R1", numbered paragraphs (5.1) or a plain numbered list inside a recommendations
section, and tables with Agency/Lead and Timescale columns. All of them end up here alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.structure import recommendation_label, split_paragraph_number
from reviewlens.model import Passage, Recommendation, Section

_LABEL_REST = re.compile(
    r"^\s*(?:(?:recommendation|rec\.?)\s*(?:no\.?\s*)?|R\s?)\d{1,2}[a-z]?\b[\s:.\-\u2013\u2014)]*",
    re.IGNORECASE,
)
_INTRO = re.compile(
    r"(?:following recommendations|recommendations (?:are|below|that follow|have been)|"
    r"makes? (?:the following|\w+) recommendations|recommendations? (?:is|are) made)",
    re.IGNORECASE,
)
_FIELD = re.compile(
    r"^\s*(?P<name>to|for|addressed to|lead(?: agency| agencies| organisation| partner)?|"
    r"owner|agency|agencies|responsible(?: agency| organisation)?|timescales?|by when|"
    r"target date|deadline|completion date|timeframe)\s*:\s*(?P<value>.+)$",
    re.IGNORECASE,
)
_TIMESCALE_FIELDS = ("time", "by when", "target", "deadline", "completion")
_INLINE_ADDRESSEE = re.compile(
    r"\b(?:addressed to|lead agency|lead agencies|lead|owner|to|for|agency|responsible)\s*:\s*"
    r"(?P<value>[^.;|\n]{2,80})",
    re.IGNORECASE,
)
_INLINE_TIMESCALE = re.compile(
    r"\b(?:timescales?|by when|target date|deadline|completion date|timeframe)\s*:\s*"
    r"(?P<value>[^.;|\n]{2,60})",
    re.IGNORECASE,
)
_MODAL = (
    r"(?:should|must|shall|will|is asked to|are asked to|needs? to|is to|are to|"
    r"(?:is|are) recommended to)"
)
_SUBJECT = re.compile(
    rf"^(?:[Tt]hat\s+)?(?P<who>(?:(?:the|all|each|every)\s+)?[A-Z0-9][\w'\u2019&,()/\- ]{{1,90}}?)"
    rf"\s+{_MODAL}\b"
)
_RECOMMENDED_THAT = re.compile(
    r"\brecommend(?:s|ed)? that\s+(?P<who>(?:(?:the|all|each|every)\s+)?[A-Z][\w'\u2019&,()/\- ]"
    r"{1,90}?)\s+(?:should|must|ensures?|reviews?|develops?|considers?|seeks?|provides?|"
    r"commissions?|works?|undertakes?|leads?|updates?|establishes?)\b"
)
_NUMBER_WORD = r"(?:\d{1,2}|one|two|three|four|five|six|nine|twelve|eighteen|twenty[- ]four)"
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_TIMESCALE = re.compile(
    rf"\bwithin (?:the next )?{_NUMBER_WORD}\s+(?:working\s+)?(?:days?|weeks?|months?|years?)\b"
    rf"|\bby (?:the end of )?(?:[0-3]?\d\s+)?{_MONTH}\s+(?:19|20)\d\d\b"
    rf"|\bby (?:the end of )?(?:Q[1-4]|quarter [1-4]|the financial year|spring|summer|autumn|"
    rf"winter)(?:\s+(?:of\s+)?(?:20\d\d(?:/\d\d)?))?\b"
    rf"|\bby (?:the end of )?(?:20\d\d)\b",
    re.IGNORECASE,
)

_HEADER_NUMBER = {"no", "no.", "number", "#", "ref", "ref.", "rec", "rec.", "rec no", "item"}
_HEADER_TEXT = ("recommendation", "action", "what needs to happen", "what we will do")
_HEADER_ADDRESSEE = ("agency", "lead", "owner", "responsib", "addressed to", "who", "partner")
_HEADER_TIMESCALE = ("timescale", "by when", "target", "deadline", "when", "completion", "date")


def _clean_cell(cell: str) -> str:
    return " ".join(cell.split()).strip(" :;")


def addressee_in(text: str) -> str | None:
    """Who a recommendation is made to: an "Agency:" / "To:" field, or the subject of "should"."""
    match = _INLINE_ADDRESSEE.search(text) if ":" in text else None
    if match:
        return _clean_cell(match.group("value"))
    patterns = (_SUBJECT, _RECOMMENDED_THAT) if "ecommend" in text else (_SUBJECT,)
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            who = _clean_cell(match.group("who")).rstrip(",")
            if len(who.split()) <= 14 and who.lower() not in {"this", "it", "they", "there"}:
                return who
    return None


def timescale_in(text: str) -> str | None:
    """By when: a "Timescale:" field, "within 6 months", "by March 2025"."""
    match = _INLINE_TIMESCALE.search(text) if ":" in text else None
    if match:
        return _clean_cell(match.group("value"))
    match = _TIMESCALE.search(text)
    return match.group(0) if match else None


@dataclass
class _Columns:
    number: int | None = None
    text: int | None = None
    addressee: int | None = None
    timescale: int | None = None


def _header(cells: list[str]) -> _Columns | None:
    """The column layout, when this row is a table's header row."""
    columns = _Columns()
    for at, cell in enumerate(cells):
        name = cell.lower().strip(" :?")
        if len(name) > 40:
            return None
        if name == "by" and columns.timescale is None:
            columns.timescale = at
        elif name in _HEADER_NUMBER or name.endswith((" no", " no.", " number")):
            columns.number = at if columns.number is None else columns.number
        elif any(word in name for word in _HEADER_TEXT) and columns.text is None:
            columns.text = at
        elif any(word in name for word in _HEADER_TIMESCALE) and columns.timescale is None:
            columns.timescale = at
        elif any(word in name for word in _HEADER_ADDRESSEE) and columns.addressee is None:
            columns.addressee = at
    known = sum(x is not None for x in (columns.number, columns.addressee, columns.timescale))
    return columns if columns.text is not None and known >= 1 else None


@dataclass
class _Draft:
    number: str | None
    parts: list[str]
    passage: Passage
    numbered: bool
    addressee: str | None = None
    timescale: str | None = None
    from_table: bool = False
    extra: list[str] = field(default_factory=list)

    def finish(self) -> Recommendation:
        text = " ".join(part.strip() for part in self.parts if part.strip())
        whole = " ".join([text, *self.extra])
        return Recommendation(
            number=self.number,
            text=text,
            addressee=self.addressee or addressee_in(whole),
            timescale=self.timescale or timescale_in(whole),
            page=self.passage.page,
            section=self.passage.section,
            passage_index=self.passage.index,
        )


def _number(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().strip("().").strip()
    return value or None


def _from_row(cells: list[str], columns: _Columns | None, passage: Passage) -> _Draft | None:
    if columns is not None and columns.text is not None and columns.text < len(cells):
        text = cells[columns.text]
        number: str | None
        if columns.number is not None and columns.number < len(cells):
            number = cells[columns.number]
        else:
            number = recommendation_label(text) or split_paragraph_number(text)[0]
        text = _LABEL_REST.sub("", text) if recommendation_label(text) else text
        if not any(c.isalpha() for c in text):
            return None
        draft = _Draft(_number(number), [text], passage, numbered=number is not None)
        if columns.addressee is not None and columns.addressee < len(cells):
            draft.addressee = cells[columns.addressee] or None
        if columns.timescale is not None and columns.timescale < len(cells):
            draft.timescale = cells[columns.timescale] or None
        draft.from_table = True
        return draft
    # no header: a number in the first cell and the longest cell as the text
    longest = max(cells, key=len)
    if len(longest) < 25:
        return None
    first = cells[0]
    found = recommendation_label(first)
    if found is None and re.fullmatch(r"\d{1,2}(?:\.\d{1,2})?\.?", first):
        found = first
    draft = _Draft(_number(found), [_LABEL_REST.sub("", longest)], passage, found is not None)
    draft.from_table = True
    draft.extra = [cell for cell in cells if cell is not longest]
    return draft


def _collect(passages: list[Passage], kinds: set[str]) -> list[_Draft]:
    drafts: list[_Draft] = []
    current: _Draft | None = None
    columns: _Columns | None = None
    section: str | None = None

    pending: dict[str, str] = {}

    def start(draft: _Draft) -> _Draft:
        for slot, value in pending.items():
            setattr(draft, slot, value)
        pending.clear()
        drafts.append(draft)
        return draft

    for passage in passages:
        in_section = passage.section_kind in kinds
        if passage.section != section:
            section = passage.section
            columns = None
            current = None
            pending.clear()
        label = recommendation_label(passage.text) if passage.kind != "table_row" else None
        if label is not None:
            rest = _LABEL_REST.sub("", passage.text)
            current = start(_Draft(label, [rest], passage, numbered=True))
            continue
        if not in_section:
            current = None
            continue
        if passage.kind == "table_row":
            cells = [_clean_cell(cell) for cell in passage.text.split(" | ")]
            header = _header(cells)
            if header is not None:
                columns = header
                continue
            row = _from_row(cells, columns, passage)
            if row is not None:
                drafts.append(row)
            current = None
            continue
        field_match = _FIELD.match(passage.text)
        if field_match:
            name = field_match.group("name").lower()
            value = _clean_cell(field_match.group("value"))
            slot = "timescale" if name.startswith(_TIMESCALE_FIELDS) else "addressee"
            if current is not None and getattr(current, slot) is None:
                setattr(current, slot, value)  # "Timescale: ..." under its recommendation
            else:
                pending[slot] = value  # "To: ..." above the recommendation it heads
            continue
        if passage.paragraph is not None and not _INTRO.search(passage.text):
            sub_item = passage.paragraph.startswith("(") and current is not None
            if sub_item and current is not None:
                current.parts.append(f"{passage.paragraph} {passage.text}")
                continue
            for number, text in split_inline(_number(passage.paragraph) or "", passage.text):
                current = start(_Draft(number or None, [text], passage, numbered=True))
            continue
        if _INTRO.search(passage.text) or passage.text.rstrip().endswith(":"):
            continue
        if current is not None and current.numbered:
            current.parts.append(passage.text)
            continue
        if passage.kind == "list_item" or re.search(
            rf"\b{_MODAL}\b|\brecommend", passage.text[:200]
        ):
            current = start(_Draft(None, [passage.text], passage, numbered=False))
    return drafts


_INLINE_ITEM = re.compile(r"(?:(?<=[.;:])|^)\s*(\d{1,2})\.\s+(?=[A-Z])")


def split_inline(number: str, text: str) -> list[tuple[str, str]]:
    """ "1. Do this. 2. Do that." run together in one paragraph, as numbered items.

    Only a run counting on from `number` (1, 2, 3...) splits, so "see paragraph 4. The..."
    inside a sentence stays whole."""
    if not number.isdigit():
        return [(number, text)]
    expected = int(number) + 1
    items: list[tuple[str, str]] = []
    start, current = 0, number
    for match in _INLINE_ITEM.finditer(text):
        if match.start() == 0 or int(match.group(1)) != expected:
            continue
        items.append((current, text[start : match.start()].strip()))
        start, current = match.end(), match.group(1)
        expected += 1
    items.append((current, text[start:].strip()))
    return items


def extract(sections: list[Section], passages: list[Passage]) -> list[Recommendation]:
    """Every recommendation in reading order. A labelled one outside the recommendations
    section (a summary listing them early) is dropped when the section has the same number."""
    drafts = _collect(passages, {"recommendations"})
    if not any(d.passage.section_kind == "recommendations" for d in drafts):
        drafts = _collect(passages, {"recommendations", "action_plan"})
    in_section = {
        _key(d.number) for d in drafts if d.number and d.passage.section_kind == "recommendations"
    }
    kept = [
        draft
        for draft in drafts
        if draft.passage.section_kind == "recommendations"
        or draft.number is None
        or _key(draft.number) not in in_section
    ]
    return [draft.finish() for draft in kept if draft.parts]


def _key(number: str) -> str:
    return number.lower().lstrip("r")
