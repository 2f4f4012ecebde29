"""Highlights made once, the same way for every backend, from the passage text and the query AST.

Engines highlight differently (and the index holds lemmas, not the words people read), so matches
are found here on the original text via `nlp.analysis.lemma_offsets`. Fragments are HTML: the
document text is escaped (a review may quote anything, including markup) and only our own
<mark> tags are raw.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from nlp.analysis import lemma_offsets
from search_api.query import Node, Phrase, Prefix, Term, positive_leaves

FRAGMENT_CHARS = 240  # whole passages up to this length are one fragment
CONTEXT_CHARS = 90  # either side of a match in a fragment
MAX_FRAGMENTS = 3
ELLIPSIS = "…"


@dataclass(frozen=True)
class Highlights:
    fragments: list[str]  # escaped HTML with <mark>...</mark> around matches
    offsets: list[tuple[int, int]]  # character spans in the original text, sorted, merged


def match_offsets(text: str, query: Node) -> list[tuple[int, int]]:
    """Spans of `text` whose lemmas match a positive term, phrase or prefix of the query."""
    leaves = positive_leaves(query)
    if not leaves or not text:
        return []
    tokens = lemma_offsets(text)
    terms = {leaf.lemma for leaf in leaves if isinstance(leaf, Term)}
    prefixes = tuple(leaf.prefix for leaf in leaves if isinstance(leaf, Prefix))
    phrases = [leaf.lemmas for leaf in leaves if isinstance(leaf, Phrase)]
    spans: list[tuple[int, int]] = []
    for i, (start, end, lemma) in enumerate(tokens):
        if lemma in terms or (prefixes and lemma.startswith(prefixes)):
            spans.append((start, end))
        for phrase in phrases:
            n = len(phrase)
            if i + n <= len(tokens) and all(tokens[i + k][2] == phrase[k] for k in range(n)):
                spans.append((start, tokens[i + n - 1][1]))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mark(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """Escape text[start:end], wrapping the parts inside `spans` in <mark>."""
    out: list[str] = []
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def _snap_left(text: str, pos: int) -> int:
    if pos <= 0:
        return 0
    space = text.rfind(" ", 0, pos)
    return space + 1 if space >= 0 and pos - space < 30 else pos


def _snap_right(text: str, pos: int) -> int:
    if pos >= len(text):
        return len(text)
    space = text.find(" ", pos)
    return space if space >= 0 and space - pos < 30 else pos


def highlight(text: str, query: Node | None) -> Highlights:
    """Up to three fragments around matches (the whole passage when short), escaped."""
    spans = match_offsets(text, query) if query is not None else []
    if len(text) <= FRAGMENT_CHARS or not spans:
        end = len(text) if len(text) <= FRAGMENT_CHARS else _snap_right(text, FRAGMENT_CHARS)
        fragment = _mark(text, 0, end, spans)
        return Highlights([fragment + (ELLIPSIS if end < len(text) else "")], spans)
    windows: list[tuple[int, int]] = []
    for s, e in spans:
        lo, hi = _snap_left(text, s - CONTEXT_CHARS), _snap_right(text, e + CONTEXT_CHARS)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], hi)
        else:
            windows.append((lo, hi))
    fragments = []
    for lo, hi in windows[:MAX_FRAGMENTS]:
        body = _mark(text, lo, hi, spans).strip()
        fragments.append((ELLIPSIS if lo > 0 else "") + body + (ELLIPSIS if hi < len(text) else ""))
    return Highlights(fragments, spans)
