"""Document type, title, publication date, area and inspection judgements, each with evidence.

Counts by year and type are only honest if each document's type and year are right, and a QA
lead has to be able to see why a report was filed as a DHR or dated 2023. So every value found
here comes with the line that decided it. Reviews mention many earlier years, so the date is
taken only from places that state publication (a "Published:" line, the title page, an
inspection letter's date), never from the first year in the text.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from reviewlens.model import DocType, Evidence, Passage, RawDocument, Section

# --- document type ------------------------------------------------------------------------

# (doc type, pattern, weight). Where a phrase is found scales the weight: the title counts most,
# then the first page, then the next two. Specific formats (a briefing about a review, the
# national Panel's own reports) outweigh the review type they mention.
# (doc type, keyword, pattern, weight). The keyword is a lower-case literal the line must
# contain before the pattern is tried: most lines name no document type, and running every
# pattern over every line would cost more than the rest of the stage.
_TYPE_RULES: tuple[tuple[DocType, str, str, float], ...] = (
    ("briefing", "minute briefing", r"\b(?:7|seven)[- ]minute briefing\b", 8),
    ("briefing", "learning brief", r"\blearning brief(?:ing)?\b", 7),
    ("briefing", "practice brief", r"\bpractice brief(?:ing)?\b", 5),
    ("section11", "section 11", r"\bsection 11\b", 7),
    ("section11", "11 ", r"\bs\.?11 (?:audit|self[- ]assessment)\b", 7),
    ("jtai", "joint targeted area", r"\bjoint targeted area inspection\b", 9),
    ("jtai", "jtai", r"\bJTAI\b", 6),
    (
        "ofsted_ilacs",
        "local authority children",
        r"\binspection of (?:the )?[\w' ,-]{0,40}local authority children[\u2019']?s services\b",
        8,
    ),
    ("ofsted_ilacs", "ilacs", r"\bILACS\b", 7),
    (
        "ofsted_ilacs",
        "local authority children",
        r"\blocal authority children[\u2019']?s services\b",
        3,
    ),
    ("ofsted_ilacs", "ofsted", r"\bOfsted\b", 2),
    ("inspection_other", "care quality commission", r"\bCare Quality Commission\b", 3),
    ("inspection_other", "cqc", r"\bCQC\b", 3),
    ("inspection_other", "hmicfrs", r"\bHMICFRS\b", 3),
    ("inspection_other", "inspectorate of constabulary", r"\binspectorate of constabulary\b", 3),
    ("inspection_other", "inspection report", r"\binspection report\b", 2),
    ("national_review", "national", r"\bnational (?:child safeguarding practice )?review\b", 6),
    (
        "national_review",
        "review panel",
        r"\b(?:report|review) (?:by|of|from) the (?:national )?"
        r"child safeguarding practice review panel\b",
        6,
    ),
    ("national_review", "review panel", r"\bchild safeguarding practice review panel\b", 1),
    ("cspr", "local child", r"\blocal child safeguarding practice review\b", 6),
    ("cspr", "lcspr", r"\bLCSPR\b", 5),
    ("cspr", "practice review", r"\bchild safeguarding practice review\b(?! panel)", 3),
    ("cspr", "cspr", r"\bCSPR\b", 2),
    ("scr", "serious case", r"\bserious case review\b", 5),
    ("dhr", "domestic homicide", r"\bdomestic homicide review\b", 6),
    ("dhr", "death review", r"\bdomestic abuse related death review\b", 6),
    ("dhr", "dhr", r"\bDHR\b", 3),
    ("sar", "adult", r"\bsafeguarding adults? review\b", 6),
    ("sar", "sar", r"\bSAR\b", 2),
    ("audit", "audit", r"\bmulti[- ]agency (?:case )?audit\b", 6),
    ("audit", "audit", r"\b(?:thematic|case file) audit\b", 4),
    ("audit", "audit", r"\baudit report\b", 3),
    (
        "inspection_other",
        "health services for children",
        r"\breview of health services for children looked after\b",
        8,
    ),
    ("inspection_other", "quality regulator", r"\bhealth and care quality regulator\b", 4),
    ("other", "annual report", r"\bannual report\b", 8),
)
# Abbreviations are matched case-sensitively, long phrases case-insensitively.
_TYPE_PATTERNS = [
    (
        doc_type,
        keyword,
        re.compile(pattern, 0 if re.fullmatch(r"\\b[A-Z.?0-9\\]+\\b", pattern) else re.I),
        weight,
    )
    for doc_type, keyword, pattern, weight in _TYPE_RULES
]
_TYPE_KEYWORDS: dict[str, list[tuple[DocType, re.Pattern[str], float]]] = {}
for _type, _keyword, _pattern, _weight in _TYPE_PATTERNS:
    _TYPE_KEYWORDS.setdefault(_keyword, []).append((_type, _pattern, _weight))
_TYPE_LINES = 60  # what a document is, it says on its first lines
_PLACE_WEIGHT = {"title": 4.0, "first page": 2.0, "early pages": 1.0, "prose": 0.5}


@dataclass
class _Line:
    text: str
    page: int | None


# Files without pages (DOCX, HTML, text) count this many blocks as their "first pages".
_BLOCKS_PER_PAGE = 25


def _early_lines(raw: RawDocument, pages: int) -> list[_Line]:
    """The title page and the pages after it: where a document says what it is."""
    first = min((b.page for b in raw.blocks if b.page is not None), default=None)
    if first is None:
        chosen = raw.blocks[: pages * _BLOCKS_PER_PAGE]
    else:
        chosen = [b for b in raw.blocks if b.page is None or b.page < first + pages][:300]
    return [_Line(" ".join(b.text.split()), b.page) for b in chosen]


def _doc_type(
    title: str | None, file_title: str | None, lines: list[_Line]
) -> tuple[DocType, Evidence | None]:
    scores: dict[DocType, float] = {}
    best_evidence: dict[DocType, tuple[float, Evidence]] = {}
    first_page = lines[0].page if lines else None
    places: list[tuple[str, str, int | None]] = []
    for text in dict.fromkeys(
        t for t in (title, file_title) if t
    ):  # ordered: same input, same evidence
        places.append(("title", text, 1))
    for line in lines[:_TYPE_LINES]:
        place = "first page" if line.page in (first_page, None) else "early pages"
        if len(line.text) > 120:
            place = "prose"  # a sentence that mentions a review is not the review's own name
        places.append((place, line.text[:300], line.page))
    for place, text, page in places:
        lower = text.lower()
        present = [keyword for keyword in _TYPE_KEYWORDS if keyword in lower]
        for doc_type, pattern, weight in (rule for key in present for rule in _TYPE_KEYWORDS[key]):
            match = pattern.search(text)
            if not match:
                continue
            gained = weight * _PLACE_WEIGHT[place]
            scores[doc_type] = scores.get(doc_type, 0.0) + gained
            if doc_type not in best_evidence or gained > best_evidence[doc_type][0]:
                best_evidence[doc_type] = (
                    gained,
                    Evidence(value=doc_type, text=_snippet(text, match), page=page),
                )
    if not scores:
        return "other", None
    winner = max(scores, key=lambda key: scores[key])
    if scores[winner] < 4 or winner == "other":
        return "other", None if winner != "other" else best_evidence[winner][1]
    return winner, best_evidence[winner][1]


def _snippet(text: str, match: re.Match[str], width: int = 80) -> str:
    start = max(0, match.start() - width)
    end = min(len(text), match.end() + width)
    return text[start:end].strip()


# --- title --------------------------------------------------------------------------------

_BAD_FILE_TITLE = re.compile(
    r"^(?:microsoft word|untitled|document\d*|title|slide \d+)\b|\.(?:docx?|pdf|html?|txt)$",
    re.IGNORECASE,
)


_SITE_SUFFIX = re.compile(r"^\s+[-|\u2013\u2014:]\s+\S")
_UNDERLINE = re.compile(r"\s+(?:={3,}|-{3,})$")
_TITLE_WORDS = re.compile(
    r"\b(?:review|report|inspection|brief|briefing|audit|letter|summary)\b", re.IGNORECASE
)


def _title(raw: RawDocument, sections: list[Section]) -> tuple[str | None, Evidence | None]:
    file_title = " ".join((raw.file_title or "").split())
    first_page = min((b.page for b in raw.blocks if b.page is not None), default=None)
    if len(file_title) >= 6 and not _BAD_FILE_TITLE.search(file_title):
        # a web page's title often adds the site's name; the page's own heading does not
        for block in raw.blocks[:20]:
            text = " ".join(block.text.split())
            rest = file_title[len(text) :] if file_title.startswith(text) else ""
            if block.kind == "heading" and len(text) >= 6 and _SITE_SUFFIX.match(rest):
                return text, Evidence(value=text, text=text, page=block.page)
        return file_title, Evidence(value=file_title, text="file properties", page=None)
    for block in raw.blocks[:40]:
        if block.kind == "heading" and (block.page in (first_page, None)):
            text = " ".join(block.text.split())
            if len(text) >= 4:
                return text, Evidence(value=text, text=text, page=block.page)
    for block in raw.blocks[:3]:
        # a plain-text file's first line is its title when it reads like one
        text = _UNDERLINE.sub("", " ".join(block.text.split()))
        if (
            6 <= len(text) <= 160
            and len(text.split()) <= 20
            and not text.endswith((".", ",", ";"))
            and block.page in (first_page, None)
            and _TITLE_WORDS.search(text)
        ):
            return text, Evidence(value=text, text=text, page=block.page)
    if sections and sections[0].page_start in (first_page, None):
        heading = sections[0].heading
        return heading, Evidence(value=heading, text=heading, page=sections[0].page_start)
    for block in raw.blocks[:10]:
        text = " ".join(block.text.split())
        if 4 <= len(text) <= 160 and any(c.isalpha() for c in text):
            return text, Evidence(value=text, text=text, page=block.page)
    return None, None


# --- dates --------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"(?:19[89]\d|20\d\d)"
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"\b(?:(?P<d1>{_DAY})\s+(?P<m1>{_MONTH})\.?,?\s+(?P<y1>{_YEAR})"
    rf"|(?P<m2>{_MONTH})\.?\s+(?P<d2>{_DAY}),?\s+(?P<y2>{_YEAR})"
    rf"|(?P<y3>{_YEAR})-(?P<m3>[01]\d)-(?P<d3>[0-3]\d)"
    rf"|(?P<d4>[0-3]?\d)/(?P<m4>[01]?\d)/(?P<y4>{_YEAR})"
    rf"|(?P<m5>{_MONTH})\.?,?\s+(?P<y5>{_YEAR}))\b",
    re.IGNORECASE,
)
_PUBLISHED = re.compile(
    r"\b(?:date of publication|publication date|date published|(?:report |first )?published"
    r"(?: on| in)?|publication|date of (?:this )?report|report date|final (?:report|version)"
    r"(?: date)?|(?:presented|submitted|reported) to (?:the )?[\w' ]{2,50}? on|"
    r"report to (?:the )?[\w' ]{2,50}?,)\s*[:\-\u2013]?\s*",
    re.IGNORECASE,
)
_PUBLISHED_WORDS = ("publi", "report", "final", "presented", "submitted")
_NOT_PUBLICATION = re.compile(
    r"\b(?:inspection dates?|dates? of inspection|died|death|born|incident|commissioned|"
    r"period|from|between|until)\b",
    re.IGNORECASE,
)


@dataclass
class _FoundDate:
    date: datetime.date | None
    year: int


def parse_date(match: re.Match[str]) -> _FoundDate | None:
    """A date match as a date (or only a year, when the text gives only month and year)."""
    groups = match.groupdict()
    try:
        if groups["y1"]:
            return _FoundDate(
                datetime.date(
                    int(groups["y1"]),
                    _MONTHS[groups["m1"].lower()],
                    int(re.sub(r"\D", "", groups["d1"])),
                ),
                int(groups["y1"]),
            )
        if groups["y2"]:
            return _FoundDate(
                datetime.date(
                    int(groups["y2"]),
                    _MONTHS[groups["m2"].lower()],
                    int(re.sub(r"\D", "", groups["d2"])),
                ),
                int(groups["y2"]),
            )
        if groups["y3"]:
            year = int(groups["y3"])
            return _FoundDate(datetime.date(year, int(groups["m3"]), int(groups["d3"])), year)
        if groups["y4"]:
            year = int(groups["y4"])
            return _FoundDate(datetime.date(year, int(groups["m4"]), int(groups["d4"])), year)
        if groups["y5"]:
            return _FoundDate(None, int(groups["y5"]))
    except (ValueError, KeyError):
        return None
    return None


def _publication_date(
    raw: RawDocument, lines: list[_Line]
) -> tuple[_FoundDate | None, Evidence | None]:
    # 1. A line that says it is the publication date.
    for line in lines:
        lower = line.text.lower()
        if not any(word in lower for word in _PUBLISHED_WORDS):
            continue
        for label in _PUBLISHED.finditer(line.text):
            tail = line.text[label.end() : label.end() + 60]
            match = _DATE.match(tail) or _DATE.search(tail[:30])
            if match:
                found = parse_date(match)
                if found:
                    return found, _date_evidence(found, line)
    # 2. A date standing alone on the title page (or an inspection letter's date line).
    first_page = lines[0].page if lines else None
    for line in lines:
        if line.page not in (first_page, None):
            break
        if _NOT_PUBLICATION.search(line.text):
            continue
        match = _DATE.search(line.text)
        if match and len(line.text) - len(match.group(0)) <= 25:
            found = parse_date(match)
            if found:
                return found, _date_evidence(found, line)
    return None, None


def _date_evidence(found: _FoundDate, line: _Line) -> Evidence:
    value = found.date.isoformat() if found.date else str(found.year)
    return Evidence(value=value, text=line.text[:200], page=line.page)


_FILE_YEAR = re.compile(r"(?<!\d)((?:19[89]|20[0-4])\d)(?!\d)")
_DATE_RANGE = re.compile(
    rf"(?P<d1>{_DAY})(?:\s+(?P<m1>{_MONTH}))?(?:\s+(?P<y1>{_YEAR}))?"
    rf"\s*(?:to|until|[-\u2013\u2014]|and)\s*"
    rf"(?P<d2>{_DAY})\s+(?P<m2>{_MONTH})\s+(?P<y2>{_YEAR})",
    re.IGNORECASE,
)
_INSPECTION_DATES = re.compile(
    r"\b(?:inspection dates?|review dates?|dates? of (?:the )?(?:inspection|review)|inspection "
    r"(?:took place|was carried out)(?: on| from| between)?|inspected (?:from|between|on))\b",
    re.IGNORECASE,
)
_INSPECTED = re.compile(r"\b(?:inspect|inspection|inspectors|inspectorates)\b", re.IGNORECASE)


def _inspection_dates(lines: list[_Line]) -> tuple[list[str], Evidence | None]:
    found = _labelled_dates(lines)
    if found[0]:
        return found
    # "Between 14 and 18 October 2019, four inspectorates carried out a joint inspection"
    for line in lines:
        if _INSPECTED.search(line.text):
            match = _DATE_RANGE.search(line.text)
            dates = _range(match) if match else None
            if dates:
                evidence = Evidence(value=" to ".join(dates), text=line.text[:200], page=line.page)
                return dates, evidence
    return [], None


def _range(match: re.Match[str]) -> list[str] | None:
    try:
        year2 = int(match.group("y2"))
        month2 = _MONTHS[match.group("m2").lower()]
        end = datetime.date(year2, month2, int(re.sub(r"\D", "", match.group("d2"))))
        month1 = _MONTHS[match.group("m1").lower()] if match.group("m1") else month2
        year1 = int(match.group("y1")) if match.group("y1") else year2
        start = datetime.date(year1, month1, int(re.sub(r"\D", "", match.group("d1"))))
    except (ValueError, KeyError):
        return None
    if start > end:
        return None
    return [start.isoformat(), end.isoformat()]


def _labelled_dates(lines: Iterable[_Line]) -> tuple[list[str], Evidence | None]:
    for line in lines:
        label = _INSPECTION_DATES.search(line.text)
        if not label:
            continue
        tail = line.text[label.end() : label.end() + 120]
        match = _DATE_RANGE.search(tail)
        dates = _range(match) if match else None
        if dates:
            return dates, Evidence(value=" to ".join(dates), text=line.text[:200], page=line.page)
        single = _DATE.search(tail)
        if single:
            found = parse_date(single)
            if found and found.date:
                value = found.date.isoformat()
                return [value], Evidence(value=value, text=line.text[:200], page=line.page)
    return [], None


# --- area ---------------------------------------------------------------------------------

_NAME = r"(?:[A-Z][\w'\u2019.-]*|of|and|upon|on|under|&)"
_BODY = (
    r"Safeguarding Children Partnership|Safeguarding Partnership|Safeguarding Children Board|"
    r"Local Safeguarding Children Board|Community Safety Partnership|Safeguarding Adults Board|"
    r"Safeguarding Adult Board|Children[\u2019']?s Safeguarding Partnership"
)
_PARTNERSHIP = re.compile(rf"\b((?:{_NAME}\s+){{0,5}}?[A-Z][\w'\u2019.-]*)\s+({_BODY})\b")
_LOCAL_AUTHORITY = re.compile(
    rf"\b((?:{_NAME}\s+){{0,4}}?[A-Z][\w'\u2019.-]*)\s+(?:local authority|(?:City |Borough |"
    rf"County |Metropolitan Borough )?Council)\b"
)
_NOT_A_NAME = {
    "The",
    "This",
    "A",
    "An",
    "Local",
    "Our",
    "Each",
    "Every",
    "National",
    "Inspection",
}
# "Safer Marston Ridge" is the partnership's brand name; the area is Marston Ridge
_BRAND_WORDS = {"Safer", "Stronger", "Safe"}
_NATIONAL_PANEL = re.compile(r"\b(?:the )?Child Safeguarding Practice Review Panel\b")
_IN_PLACE = re.compile(
    r"\bin ((?:[A-Z][\w'\u2019-]+)(?:\s+(?:[A-Z][\w'\u2019-]+|upon|on|under)){0,3})$"
)


_AREA_WORDS = {
    "partnership": ("partnership", "board"),
    "local_authority": ("local authority", "council"),
}


def _area(
    lines: list[_Line], doc_type: str, title: str | None
) -> tuple[dict[str, str], Evidence | None]:
    if doc_type == "national_review":
        for line in lines:
            match = _NATIONAL_PANEL.search(line.text)
            if match:
                name = "Child Safeguarding Practice Review Panel"
                return {"partnership": name}, Evidence(
                    value=name, text=_snippet(line.text, match), page=line.page
                )
        return {}, None
    for pattern, key in ((_PARTNERSHIP, "partnership"), (_LOCAL_AUTHORITY, "local_authority")):
        needles = _AREA_WORDS[key]
        for line in lines:
            lower = line.text.lower()
            if not any(needle in lower for needle in needles):
                continue
            for match in pattern.finditer(line.text):
                words = match.group(1).split()
                while words and (words[0] in _NOT_A_NAME or words[0][0].islower()):
                    words.pop(0)
                if not words:
                    continue
                name = " ".join(words)
                area = " ".join(words[1:] if words[0] in _BRAND_WORDS and len(words) > 1 else words)
                found = {"area": area}
                if key == "partnership":
                    found["partnership"] = f"{name} {match.group(2)}"
                else:
                    found["local_authority"] = area
                return found, Evidence(value=area, text=_snippet(line.text, match), page=line.page)
    place = _IN_PLACE.search(title or "")
    if place:
        # "Review of health services ... in Hollins Vale": the place the title names
        name = place.group(1)
        return {"area": name}, Evidence(value=name, text=title or "", page=None)
    return {}, None


# --- inspection judgements ----------------------------------------------------------------

_JUDGEMENT_AREAS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("impact_of_leaders",),
        r"(?:the )?impact of leaders(?: on social work practice(?: with children and families)?)?",
    ),
    (
        ("children_in_care", "care_leavers"),
        r"(?:the )?(?:experiences and progress of )?children (?:looked after|in care) "
        r"and care leavers",
    ),
    (
        ("help_and_protection",),
        r"(?:the )?(?:experiences and progress of )?children who need help and protection",
    ),
    (
        ("children_in_care",),
        r"(?:the )?(?:experiences and progress of )?children (?:in care|looked after)",
    ),
    (("care_leavers",), r"(?:the )?(?:experiences and progress of )?care leavers"),
    (("overall_effectiveness",), r"overall effectiveness"),
)
_GRADE = r"(?P<grade>outstanding|good|requires improvement(?: to be good)?|inadequate)"
_LINK = (
    r"\s*(?:[:|\-\u2013\u2014]\s*)?(?:(?:is|are|was|were|has been|have been)\s+)?"
    r"(?:(?:judged|graded|rated)\s+(?:to be\s+|as\s+)?)?"
)
# "The overall effectiveness of children's services in Westvale is judged to be good"
_OF_SERVICES = (
    r"(?:\s+of (?:the )?(?:local authority[\u2019']?s? )?children[\u2019']?s services"
    r"(?: in [A-Z][\w'-]*(?: [A-Z][\w'-]*){0,3})?)?"
)
_JUDGEMENT_PATTERNS = [
    (
        keys,
        re.compile(rf"\b{area}(?:\s*\([^)]{{0,40}}\))?{_OF_SERVICES}{_LINK}{_GRADE}\b", re.I),
    )
    for keys, area in _JUDGEMENT_AREAS
]
_AREA_ONLY = [(keys, re.compile(rf"\b{area}\b", re.IGNORECASE)) for keys, area in _JUDGEMENT_AREAS]
_GRADE_ONLY = re.compile(rf"^\W*{_GRADE}\W*$", re.IGNORECASE)


def _grade(text: str) -> str:
    word = text.lower()
    if word.startswith("requires"):
        return "requires_improvement"
    return word


_JUDGEMENT_WORDS = ("leaders", "protection", "in care", "looked after", "leavers", "effectiveness")


def _judgements(raw: RawDocument) -> tuple[dict[str, str], Evidence | None]:
    found: dict[str, str] = {}
    evidence: list[str] = []
    page: int | None = None
    blocks = raw.blocks
    for at, block in enumerate(blocks):
        if len(block.text) > 600:
            continue
        lower = block.text.lower()
        if not any(word in lower for word in _JUDGEMENT_WORDS):
            continue
        text = " ".join(block.text.split())
        hit = False
        for keys, pattern in _JUDGEMENT_PATTERNS:
            for match in pattern.finditer(text):
                for key in keys:
                    if key not in found:
                        found[key] = _grade(match.group("grade"))
                        hit = True
        if not hit and len(text) <= 160 and at + 1 < len(blocks):
            # a table read as lines: the area on one line, its grade alone on the next
            following = _GRADE_ONLY.match(" ".join(blocks[at + 1].text.split()))
            if following:
                for keys, pattern in _AREA_ONLY:
                    if pattern.search(text):
                        for key in keys:
                            if key not in found:
                                found[key] = _grade(following.group("grade"))
                                hit = True
                        break
        if hit:
            evidence.append(text[:160])
            page = block.page if page is None else page
    if not found:
        return {}, None
    value = ", ".join(f"{key}={grade}" for key, grade in found.items())
    return found, Evidence(value=value, text=" / ".join(evidence)[:400], page=page)


_INSPECTION_TYPE = (
    ("standard", re.compile(r"\bstandard (?:ILACS )?inspection\b", re.I)),
    ("short", re.compile(r"\bshort (?:ILACS )?inspection\b", re.I)),
    ("focused_visit", re.compile(r"\bfocused visit\b", re.I)),
    ("monitoring_visit", re.compile(r"\bmonitoring visit\b", re.I)),
    ("jtai", re.compile(r"\bjoint targeted area inspection\b", re.I)),
)

_RELATIONSHIP = (
    ("intimate_partner_homicide", re.compile(r"\bintimate partner (?:homicide|killing)\b", re.I)),
    ("adult_family_homicide", re.compile(r"\badult family homicide\b", re.I)),
    ("suspected_victim_suicide", re.compile(r"\bsuspected victim suicide\b", re.I)),
    (
        "intimate_partner_homicide",
        re.compile(
            r"\b(?:killed|murdered)\b[^.;]{0,80}?\bby (?:her|his) (?:former |ex-)?"
            r"(?:partner|husband|wife|boyfriend|girlfriend)\b",
            re.I,
        ),
    ),
    (
        "adult_family_homicide",
        re.compile(
            r"\b(?:killed|murdered)\b[^.;]{0,80}?\bby (?:her|his) (?:adult )?"
            r"(?:son|daughter|brother|sister|father|mother|grandson|granddaughter)\b",
            re.I,
        ),
    ),
)


def _first(
    rules: Iterable[tuple[str, re.Pattern[str]]], lines: Iterable[_Line], needles: tuple[str, ...]
) -> tuple[str | None, Evidence | None]:
    """The first rule that matches, trying only lines that contain one of `needles`."""
    for line in lines:
        lower = line.text.lower()
        if not any(needle in lower for needle in needles):
            continue
        for value, pattern in rules:
            match = pattern.search(line.text)
            if match:
                return value, Evidence(value=value, text=_snippet(line.text, match), page=line.page)
    return None, None


# --- agencies -----------------------------------------------------------------------------

_AGENCY_HEADING = re.compile(
    r"\b(?:agencies (?:involved|that contributed|contributing)|contributing agencies|"
    r"agencies who contributed|organisations involved|involvement of agencies)\b",
    re.IGNORECASE,
)
# A panel lists people; its Agency column says which agencies took part.
_PANEL_HEADING = re.compile(r"\b(?:panel membership|review panel|members of the panel)\b", re.I)
_AGENCY_COLUMN = re.compile(r"^(?:agency|agencies|organisation|organization|service)\b", re.I)
_NOT_AN_AGENCY = {"independent", "n/a", "none", "-", "agency", "organisation"}


def _agencies(passages: list[Passage]) -> list[str]:
    """The agencies a review lists as involved: a list under an "Agencies involved" heading, or
    the Agency column of that section's table or of the panel membership table."""
    agencies: list[str] = []
    seen: set[str] = set()
    column: int | None = None
    header_seen = False
    section: str | None = None
    listed = panel = False
    for passage in passages:
        if passage.section != section:
            section, column, header_seen = passage.section, None, False
            listed = bool(section and _AGENCY_HEADING.search(section))
            panel = bool(section and _PANEL_HEADING.search(section))
        if not (listed or panel):
            continue
        name: str | None = None
        if passage.kind == "list_item" and listed:
            name = passage.text.strip().rstrip(".;,")
        elif passage.kind == "table_row":
            cells = [cell.strip() for cell in passage.text.split(" | ")]
            if not header_seen:
                header_seen = True
                column = next(
                    (at for at, cell in enumerate(cells) if _AGENCY_COLUMN.match(cell)), None
                )
                if column is not None:
                    continue  # the header row
                if not listed:
                    continue  # a panel table without an Agency column names only people
                column = 0
            if column is not None and column < len(cells):
                name = cells[column]
        if name and 2 <= len(name) <= 120 and name.lower() not in _NOT_AN_AGENCY | seen:
            agencies.append(name)
            seen.add(name.lower())
    return agencies


# --- entry point --------------------------------------------------------------------------


def detect(
    raw: RawDocument, sections: list[Section], passages: list[Passage], file_name: str
) -> tuple[
    DocType, str | None, datetime.date | None, int | None, dict[str, object], dict[str, Evidence]
]:
    """Type, title, publication date and year, metadata, and the evidence for each."""
    evidence: dict[str, Evidence] = {}
    metadata: dict[str, object] = {}
    lines = _early_lines(raw, pages=3)

    title, title_evidence = _title(raw, sections)
    if title is None:
        stem = file_name.rsplit(".", 1)[0].replace("_", " ").replace("-", " ").strip()
        title = stem or None
        if title:
            title_evidence = Evidence(value=title, text="file name", page=None)
    if title_evidence:
        evidence["title"] = title_evidence

    doc_type, type_evidence = _doc_type(title, raw.file_title, lines)
    if type_evidence:
        evidence["doc_type"] = type_evidence

    found, date_evidence = _publication_date(raw, lines)
    publication = found.date if found else None
    year = found.year if found else None
    if date_evidence:
        evidence["date"] = date_evidence

    area, area_evidence = _area(lines, doc_type, title)
    metadata.update(area)
    if area_evidence:
        evidence["area"] = area_evidence

    if doc_type in ("ofsted_ilacs", "jtai", "inspection_other"):
        dates, dates_evidence = _inspection_dates(_early_lines(raw, pages=4))
        if dates:
            metadata["inspection_dates"] = dates
            if dates_evidence:
                evidence["inspection_dates"] = dates_evidence
        judgements, judgement_evidence = _judgements(raw)
        if judgements:
            metadata["judgements"] = judgements
            if judgement_evidence:
                evidence["judgements"] = judgement_evidence
        inspection_type, type_found = _first(_INSPECTION_TYPE, lines, ("inspection", "visit"))
        if inspection_type:
            metadata["inspection_type"] = inspection_type
            if type_found:
                evidence["inspection_type"] = type_found
        if publication is None and dates and year is None:
            # an inspection letter with no stated publication date: the last inspection day
            # is the nearest honest year
            year = int(dates[-1][:4])

    if doc_type == "dhr":
        relationship, relationship_evidence = _first(
            _RELATIONSHIP, _early_lines(raw, pages=6), ("homicide", "suicide", "killed", "murdered")
        )
        if relationship:
            metadata["relationship"] = relationship
            if relationship_evidence:
                evidence["relationship"] = relationship_evidence

    if year is None:
        years = set(_FILE_YEAR.findall(file_name))
        if len(years) == 1:
            # the last resort: a year in the file's own name (running headers that carried the
            # date are gone by now); the evidence says so
            year = int(years.pop())
            evidence["date"] = Evidence(value=str(year), text="file name", page=None)

    agencies = _agencies(passages)
    if agencies:
        metadata["agencies"] = agencies
    return doc_type, title, publication, year, metadata, evidence
