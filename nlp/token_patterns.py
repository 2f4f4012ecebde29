"""Token patterns matched as quantified sequences, from the few tokens where a match can begin.

A taxonomy token pattern (spaCy Matcher syntax) is a short sequence of token tests, each with a
quantifier. Read as a sequence of steps "between `least` and `most` consecutive tokens passing
this test", its matches are every non-empty span that the steps can cover end to end; that is
what spaCy's Matcher reports for a pattern without `greedy`, and the tests check the two agree.

Running spaCy's Matcher for hundreds of patterns over every passage was most of the tagging
time, although nearly every pattern needs a particular word somewhere. So here a pattern is
tried only from the starts that leave one of its required words at a reachable distance, and the
ends a start can reach are found step by step over the set of positions reached so far (a
position reached twice is expanded once). Token attributes come from `doc.to_array`, fetched once
per doc and only for the attributes some pattern reads. Patterns using what this module does not
cover (extension attributes, comparisons, fuzzy matching, ENT_IOB) are left to spaCy's Matcher.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, cast

from spacy.attrs import IDS, LEMMA, LOWER, ORTH, SENT_START
from spacy.strings import StringStore, get_string_id
from spacy.tokens import Doc

_WORD_ATTRS = (LEMMA, LOWER, ORTH)
_ALIASES = {"TEXT": "ORTH", "IS_SENT_START": "SENT_START"}
_COUNTS: dict[str, tuple[int, int | None]] = {
    "1": (1, 1),
    "!": (1, 1),
    "?": (0, 1),
    "*": (0, None),
    "+": (1, None),
}
_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")


class Unsupported(ValueError):
    """A pattern uses a feature this module does not cover; spaCy's Matcher runs it instead."""


@dataclass(frozen=True, slots=True)
class Step:
    """Between `least` and `most` (None: any number of) consecutive tokens that pass the test.

    A token passes when every `equal` column holds its value, every `sets` column value is in
    (or, when flagged, outside) its set and every regex finds its column's string; `invert`
    (the "!" quantifier) turns that around.
    """

    least: int
    most: int | None
    equal: tuple[tuple[int, int], ...]  # (column, value)
    sets: tuple[tuple[int, frozenset[int], bool], ...]  # (column, values, True: outside them)
    regexes: tuple[tuple[int, re.Pattern[str]], ...]  # (column, compiled regex)
    invert: bool
    open: bool  # every token passes (a gap such as `{"OP": "{0,3}"}`)


@dataclass(frozen=True, slots=True)
class Anchor:
    """A word one of which must occur `near[0]` to `near[1]` (None: any) tokens after a start."""

    attr: int
    words: frozenset[int]
    near: tuple[int, int | None]


def _counts(op: Any) -> tuple[int, int | None]:
    """(least, most) repeats for a quantifier ("?", "+", "{2,5}", ...)."""
    if op is None:
        return 1, 1
    text = str(op)
    if text in _COUNTS:
        return _COUNTS[text]
    braces = _BRACES.fullmatch(text)
    if braces is not None:
        low, comma, high = braces.groups()
        if low or high:
            least = int(low or 0)
            most = (int(high) if high else None) if comma else least
            if most is None or least <= most:
                return least, most
    raise Unsupported(f"operator {op!r}")


class SequencePattern:
    """A token pattern as steps over a table of token attribute columns."""

    def __init__(self, pattern: Sequence[dict[str, Any]], strings: StringStore) -> None:
        self.attrs: list[int] = []  # the attribute ids the pattern reads; a step's columns index it
        steps: list[Step] = []
        for spec in pattern:
            if not isinstance(spec, dict):
                raise Unsupported("a token spec that is not a dict")
            upper = {str(k).upper(): v for k, v in spec.items()}
            op = upper.pop("OP", None)
            least, most = _counts(op)
            equal: list[tuple[int, int]] = []
            sets: list[tuple[int, frozenset[int], bool]] = []
            regexes: list[tuple[int, re.Pattern[str]]] = []
            for name, value in upper.items():
                name = _ALIASES.get(name, name)
                attr = IDS.get(name)
                if attr is None or name == "ENT_IOB":  # spaCy compares ENT_IOB by its strings
                    raise Unsupported(f"attribute {name!r}")
                column = self._column(attr)
                if isinstance(value, bool | int):
                    equal.append((column, int(value)))
                elif isinstance(value, str):
                    equal.append((column, strings.add(value)))
                elif isinstance(value, dict) and value and set(value) <= {"IN", "NOT_IN", "REGEX"}:
                    for test, argument in value.items():
                        if test == "REGEX" and isinstance(argument, str):
                            regexes.append((column, re.compile(argument)))
                        elif test in ("IN", "NOT_IN") and isinstance(argument, list):
                            ids = frozenset(get_string_id(v) for v in argument)
                            sets.append((column, ids, test == "NOT_IN"))
                        else:
                            raise Unsupported(f"test {test!r}")
                else:
                    raise Unsupported(f"value of {name!r}")
            if most == 0:
                raise Unsupported(f"operator {op!r}")
            invert = op == "!"
            gap = not (equal or sets or regexes or invert)
            steps.append(Step(least, most, tuple(equal), tuple(sets), tuple(regexes), invert, gap))
        if not steps:
            raise Unsupported("an empty pattern")
        self.steps = tuple(steps)
        self.attrset = frozenset(self.attrs)
        self.anchors = self._anchors()

    def _column(self, attr: int) -> int:
        if attr not in self.attrs:
            self.attrs.append(attr)
        return self.attrs.index(attr)

    def _anchors(self) -> tuple[Anchor, ...]:
        """The required words that narrow down where a match can start: the first one, and the
        last if it is another step, each with its distance from the start."""
        found: list[Anchor] = []
        low, high = 0, cast(int | None, 0)
        for step in self.steps:
            words = self._words(step)
            if words is not None:
                column, options = words
                found.append(Anchor(self.attrs[column], options, (low, high)))
            low += step.least
            high = None if high is None or step.most is None else high + step.most
        return tuple(found[:1] + found[-1:]) if len(found) > 1 else tuple(found)

    def _words(self, step: Step) -> tuple[int, frozenset[int]] | None:
        """(column, words): the smallest word set a step's first token must be in, if any."""
        if step.least == 0 or step.invert:
            return None
        options = [(c, frozenset([v])) for c, v in step.equal]
        options += [(c, ids) for c, ids, outside in step.sets if not outside]
        options = [(c, ids) for c, ids in options if self.attrs[c] in _WORD_ATTRS]
        return min(options, key=lambda option: len(option[1])) if options else None


class TokenTable:
    """A doc's token attributes as Python lists, one per attribute id, fetched when first read
    (most patterns read only lemmas and lower-case forms)."""

    def __init__(self, doc: Doc, columns: dict[int, list[int]] | None = None) -> None:
        self.doc = doc
        self.strings = doc.vocab.strings
        # columns may be shared with other tables over the same doc, and filled by any of them
        self.columns: dict[int, list[int]] = {} if columns is None else columns
        self._occurrences: dict[tuple[int, frozenset[int]], list[int]] = {}

    def load(self, attrs: AbstractSet[int]) -> None:
        if self.columns.keys() >= attrs:
            return
        missing = [attr for attr in attrs if attr not in self.columns]
        array = self.doc.to_array(cast(list[int | str], missing))
        array = array.reshape(len(self.doc), len(missing))
        if SENT_START in missing:
            # a pattern's True is a sentence start (1); not one (0) and unknown (-1) are False
            k = missing.index(SENT_START)
            array[:, k] = array[:, k] == 1
        columns = cast(list[list[int]], array.T.tolist())  # ids and flags: all integers
        self.columns.update(zip(missing, columns, strict=True))

    def occurrences(self, attr: int, words: frozenset[int]) -> list[int]:
        """The positions whose (loaded) attribute holds one of the words, in order; patterns
        sharing a word set share the list."""
        key = (attr, words)
        found = self._occurrences.get(key)
        if found is None:
            found = [i for i, value in enumerate(self.columns[attr]) if value in words]
            self._occurrences[key] = found
        return found


def _starts(pattern: SequencePattern, table: TokenTable, begin: int, end: int) -> list[int]:
    """The positions in doc[begin:end] from which every anchor's word is within reach."""
    starts: list[int] | None = None
    for anchor in pattern.anchors:
        every = table.occurrences(anchor.attr, anchor.words)
        hits = every[bisect_left(every, begin) : bisect_left(every, end)]
        if not hits:
            return []
        low, high = anchor.near
        if starts is None:
            if high == 0:
                starts = hits
            else:
                # a start is `low` to `high` tokens before a hit
                reach: set[int] = set()
                for hit in hits:
                    reach.update(
                        range(begin if high is None else max(begin, hit - high), hit - low + 1)
                    )
                starts = sorted(reach)
            continue
        kept = []
        for start in starts:
            k = bisect_left(hits, start + low)
            if k < len(hits) and (high is None or hits[k] <= start + high):
                kept.append(start)
        starts = kept
        if not starts:
            return []
    return list(range(begin, end)) if starts is None else starts


def pattern_spans(
    pattern: SequencePattern, table: TokenTable, begin: int, end: int
) -> list[tuple[int, int]]:
    """(start, end) of every span inside doc[begin:end] that the pattern matches, sorted."""
    table.load(pattern.attrset)
    starts = _starts(pattern, table, begin, end)
    if not starts:
        return []
    columns = [table.columns[a] for a in pattern.attrs]
    strings = table.strings
    steps = pattern.steps
    # how many tokens from a position on pass a step's test, at most step.most; shared by starts
    runs: dict[tuple[int, int], int] = {}
    found: list[tuple[int, int]] = []
    for start in starts:
        reached = {start}
        for k, step in enumerate(steps):
            least, most = step.least, step.most
            following: set[int] = set()
            for position in reached:
                room = end - position if most is None else min(most, end - position)
                if room < least:
                    continue
                if step.open:
                    run = room
                else:
                    run = runs.get((k, position), -1)
                    if run < 0:
                        run = 0
                        while run < room:
                            i = position + run
                            passes = True
                            for column, value in step.equal:
                                if columns[column][i] != value:
                                    passes = False
                                    break
                            if passes:
                                for column, ids, outside in step.sets:
                                    if (columns[column][i] in ids) == outside:
                                        passes = False
                                        break
                            if passes:
                                for column, regex in step.regexes:
                                    if not regex.search(strings[columns[column][i]]):
                                        passes = False
                                        break
                            if passes == step.invert:
                                break
                            run += 1
                        runs[(k, position)] = run
                if run >= least:
                    following.update(range(position + least, position + run + 1))
            reached = following
            if not reached:
                break
        found += [(start, stop) for stop in reached if stop > start]
    return sorted(found)
