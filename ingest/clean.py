"""Make extracted text read as the author wrote it, whatever the file format did to it.

Running headers and footers are found by repetition across pages (digits ignored, so "Page 3 of
12" and "Page 4 of 12" count as one line), not by a list of known phrases. Line-end hyphens are
mended only when the join is the likelier word, contents pages are dropped so their lines never
become passages, and typographic oddities (ligatures, no-break and zero-width spaces) are
normalised so search and tagging see plain words.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from reviewlens.model import Block, RawDocument

_TRANSLATE = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "ft",
        "\ufb06": "st",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u3000": " ",
        "\t": " ",
        "\r": " ",
        "\n": " ",
        "\u00ad": "",
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\u2060": "",
        "\ufeff": "",
        "\ufffe": "",
        "\x02": "",  # pdfium's marker for a line-end hyphen it already removed
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")

# first halves that form real hyphenated words, so "multi-" + "agency" keeps its hyphen
HYPHEN_PREFIXES = frozenset(
    [
        "multi",
        "non",
        "cross",
        "self",
        "well",
        "ex",
        "anti",
        "quasi",
        "pseudo",
        "mid",
        "half",
        "step",
        "great",
        "grand",
        "foster",
        "socio",
        "low",
        "high",
        "ill",
        "long",
        "short",
        "all",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
    ]
)
# prefixes that also start closed words ("intervention"): hyphen kept only before these
_OPEN_PREFIXES = frozenset(
    ["inter", "intra", "sub", "co", "pre", "post", "over", "under", "counter", "semi"]
)
_SECOND_PARTS = (
    "agenc",
    "disciplin",
    "profession",
    "generation",
    "birth",
    "natal",
    "school",
    "exist",
    "mobile",
    "verbal",
    "family",
    "familial",
    "operat",
    "ordinat",
    "worker",
    "referral",
    "optimis",
    "assess",
    "plan",
    "meeting",
    "sleep",
)
_SUFFIX_ONLY = re.compile(r"^(?:[a-z]{1,3}|tion|sion|ment|ness|ity|ous|ing|ings|ies|ised|ized)\b")
_HYPHENS = ("-", "\u2010", "\u00ad", "\x02", "\ufffe")
_WORD_TAIL = re.compile(r"([A-Za-z][A-Za-z'\u2019-]*)$")

_PAGE_NUMBER = re.compile(
    r"^(?:page\s*)?(?:\d{1,4}|[ivx]{1,5}|[IVX]{1,5})(?:\s*(?:of|/)\s*\d{1,4})?$|^-\s*\d{1,4}\s*-$",
    re.IGNORECASE,
)
_CONTENTS_HEADING = re.compile(
    r"^(?:table\s+of\s+)?contents(?:\s+page)?:?$|^index$|^contents\s+and\s+figures$",
    re.IGNORECASE,
)
_LEADERS = re.compile(r"(?:\.{4,}|\u2026{2,}|(?:\.\s){4,}|_{4,}|\s{2,}\.{2,})\s*\d{1,4}\b")
_ENDS_WITH_PAGE = re.compile(r"\S\s+\d{1,4}$|\t\d{1,4}$")


_PDFIUM_HYPHEN = re.compile(r"(\S+)[\ufffe\x02]\s*(\S*)")


def normalise(text: str) -> str:
    """Ligatures to letters, odd spaces to one space, invisible characters removed."""
    if text.isascii() and text.isprintable() and "  " not in text:
        return text.strip()  # the common case, without the regular expressions
    if "\ufffe" in text or "\x02" in text:
        # pdfium marks a line-end hyphen it guessed was hyphenation; it may be "multi-agency"
        text = _PDFIUM_HYPHEN.sub(lambda m: _join_hyphen(m.group(1) + "-", m.group(2)), text)
    text = _CONTROL.sub("", text.translate(_TRANSLATE))
    return _SPACES.sub(" ", text).strip()


def _join_hyphen(left: str, right: str) -> str:
    """Join a line ending in a hyphen to the next line, choosing the likelier spelling."""
    mark = left[-1]
    stem = left[:-1]
    if mark == "\u00ad":
        return stem + right  # an author's soft hyphen is never part of the word
    tail = _WORD_TAIL.search(stem)
    if not right or not tail:
        return f"{left} {right}" if not right[:1].isalpha() else left + right
    fragment = tail.group(1)
    if not right[0].islower():
        return left + right  # "Anglo-" "Saxon", "mid-" "2019": a real hyphen
    lower = fragment.lower()
    if _SUFFIX_ONLY.match(right):
        return stem + right  # "multi-" "ple": the rest of one word
    if "-" in fragment or lower in HYPHEN_PREFIXES:
        return left + right  # "multi-" "agency", "step-" "father"
    if lower in _OPEN_PREFIXES and right.lower().startswith(_SECOND_PARTS):
        return left + right  # "inter-" "agency", but "inter-" "vention" joins
    return stem + right  # "practi-" "tioners"


def join_lines(lines: list[str]) -> str:
    """Lines of one paragraph as one string, with end-of-line hyphenation mended."""
    text = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not text:
            text = line
        elif text[-1] in _HYPHENS and len(text) > 1 and text[-2].isalpha():
            text = _join_hyphen(text, line)
        else:
            text = f"{text} {line}"
    return text


def _repeat_key(text: str) -> str:
    """Digits and punctuation ignored, so OCR noise and changing numbers still match."""
    key = re.sub(r"\d+", "#", text.lower())
    return " ".join(re.sub(r"[^a-z#]+", " ", key).split())


def _page_offsets(text: str, page: int) -> set[int]:
    return {int(number) - page for number in re.findall(r"\d{1,4}", text)}


def remove_running_lines(blocks: list[Block], edge: int = 3) -> list[Block]:
    """Drop lines that recur at the top or bottom of many pages, and bare page numbers.

    A line recurs if its exact text does, or if it differs only in a number that follows the
    page number ("Page 3 of 12", "Page 4 of 12"); "Recommendation 3" on page 9 does not.
    """
    by_page: dict[int, list[int]] = {}
    for index, block in enumerate(blocks):
        if block.page is not None:
            by_page.setdefault(block.page, []).append(index)
    if len(by_page) < 2:
        # one page: nothing can repeat, but a bare page number at its top or foot still goes
        ends = {i for indices in by_page.values() for i in indices[:edge] + indices[-edge:]}
        return [b for i, b in enumerate(blocks) if i not in ends or not _PAGE_NUMBER.match(b.text)]
    pages = len(by_page)
    needed = max(2, math.ceil(pages * 0.4))
    exact: Counter[str] = Counter()
    numbered: dict[str, Counter[int]] = {}
    candidates: list[int] = []
    for page, indices in by_page.items():
        edges = list(dict.fromkeys(indices[:edge] + indices[-edge:]))
        candidates.extend(edges)
        texts = {blocks[i].text for i in edges if len(blocks[i].text) <= 200}
        for text in texts:
            exact[text] += 1
            if len(text) <= 100 and any(ch.isdigit() for ch in text):
                offsets = numbered.setdefault(_repeat_key(text), Counter())
                offsets.update(_page_offsets(text, page))
    repeated_keys = {
        key for key, offsets in numbered.items() if offsets and max(offsets.values()) >= needed
    }
    drop = {
        i
        for i in candidates
        if exact[blocks[i].text] >= needed
        or _repeat_key(blocks[i].text) in repeated_keys
        or _PAGE_NUMBER.match(blocks[i].text.strip())
    }
    return [block for i, block in enumerate(blocks) if i not in drop]


def _is_contents_entry(text: str) -> bool:
    return bool(_LEADERS.search(text)) or (len(text) <= 120 and bool(_ENDS_WITH_PAGE.search(text)))


def remove_contents(blocks: list[Block]) -> list[Block]:
    """Drop a contents page: its heading, and the entries with leaders or page numbers."""
    kept: list[Block] = []
    in_contents = False
    for block in blocks:
        text = block.text.strip()
        if _CONTENTS_HEADING.match(text):
            in_contents = True
            continue
        if in_contents and _is_contents_entry(text):
            continue
        in_contents = False
        leaders = len(_LEADERS.findall(text)) if ("..." in text or "\u2026" in text or
                                                  ". ." in text or "__" in text) else 0  # fmt: skip
        if leaders >= 2 or (leaders == 1 and len(text) <= 160):
            continue  # a contents entry without a "Contents" heading above it
        kept.append(block)
    return kept


def clean(raw: RawDocument) -> RawDocument:
    """The same document with normalised text and running lines and contents removed."""
    blocks: list[Block] = []
    for block in raw.blocks:
        text = normalise(block.text)
        if text:
            blocks.append(block if text == block.text else block.model_copy(update={"text": text}))
    blocks = remove_running_lines(blocks)
    blocks = remove_contents(blocks)
    return raw.model_copy(update={"blocks": blocks})
