"""The search grammar (documented on `search_api.backend`) parsed into a small AST.

The parser knows nothing of any engine: backends translate the AST, and `search_api.highlight`
walks the same AST, so what a user typed means one thing everywhere. Any input string gives
either a `Node` or a `QueryError`, never another exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from nlp.analysis import lemma_tokens
from reviewlens.errors import QueryError
from search_api.backend import Expand

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 64
MIN_PREFIX = 2
MAX_DEPTH = 16


@dataclass(frozen=True)
class Term:
    """One lemma."""

    lemma: str


@dataclass(frozen=True)
class Phrase:
    """Lemmas that must occur in order, next to each other (two or more)."""

    lemmas: tuple[str, ...]


@dataclass(frozen=True)
class Prefix:
    """Any lemma starting with `prefix` (lower-cased, not lemmatised)."""

    prefix: str


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Term | Phrase | Prefix | And | Or | Not


# --- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD, PHRASE, LPAREN, RPAREN, AND, OR, NOT
    text: str = ""
    pos: int = 0


_OPERATORS = {"AND", "OR", "NOT"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _tokenise(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(_Tok("LPAREN", pos=i))
            i += 1
        elif ch == ")":
            tokens.append(_Tok("RPAREN", pos=i))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError(
                    f"Unbalanced quote: the phrase opened at character {i + 1} never closes."
                )
            tokens.append(_Tok("PHRASE", text[i + 1 : end], i))
            i = end + 1
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace():
            # only at the start of a token, so 'follow-up' stays one word
            tokens.append(_Tok("NOT", "-", i))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '()"':
                i += 1
            word = text[start:i]
            kind = word if word in _OPERATORS else "WORD"
            tokens.append(_Tok(kind, word, start))
    return tokens


# --- parser -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Tok], expand: Expand | None) -> None:
        self.tokens = tokens
        self.i = 0
        self.expand = expand
        self.terms = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node | None:
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:
            if tok.kind == "RPAREN":
                raise QueryError(
                    f"Unbalanced parenthesis: ')' at character {tok.pos + 1} has no '('."
                )
            raise QueryError(f"Unexpected '{tok.text}' at character {tok.pos + 1}.")
        return node

    def parse_or(self) -> Node | None:
        parts = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            self._operand_follows(tok)
            parts.append(self.parse_and())
        if len(parts) > 1 and parts[0] is None:
            raise QueryError("OR needs something on its left, e.g. 'neglect OR abuse'.")
        kept = [p for p in parts if p is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(tuple(kept))

    def parse_and(self) -> Node | None:
        parts: list[Node | None] = []
        seen_any = False
        while (tok := self.peek()) is not None and tok.kind not in {"OR", "RPAREN"}:
            if tok.kind == "AND":
                if not seen_any:
                    raise QueryError(
                        f"AND at character {tok.pos + 1} needs something on its left, "
                        "e.g. 'neglect AND housing'."
                    )
                self.take()
                self._operand_follows(tok)
                continue
            parts.append(self.parse_unary())
            seen_any = True
        kept = [p for p in parts if p is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else And(tuple(kept))

    def _operand_follows(self, op: _Tok) -> None:
        nxt = self.peek()
        if nxt is None or nxt.kind in {"OR", "AND", "RPAREN"}:
            raise QueryError(
                f"'{op.text}' at character {op.pos + 1} needs a word, phrase or group after it."
            )

    def parse_unary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "NOT":
            self.take()
            self._operand_follows(tok)
            child = self._nested(self.parse_unary)
            return None if child is None else Not(child)
        return self.parse_primary()

    def _nested(self, parse: Callable[[], Node | None]) -> Node | None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"The query nests deeper than {MAX_DEPTH} levels; please simplify it.")
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse_primary(self) -> Node | None:
        tok = self.take()
        if tok.kind == "LPAREN":
            if (nxt := self.peek()) is not None and nxt.kind == "RPAREN":
                raise QueryError(f"Empty parentheses at character {tok.pos + 1}.")
            node = self._nested(self.parse_or)
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise QueryError(
                    f"Unbalanced parenthesis: '(' at character {tok.pos + 1} never closes."
                )
            self.take()
            return node
        if tok.kind == "PHRASE":
            lemmas = lemma_tokens(tok.text)
            if not tok.text.strip():
                raise QueryError(f"Empty phrase at character {tok.pos + 1}.")
            return self._leaf(lemmas)
        if tok.kind == "WORD":
            return self.word(tok)
        raise QueryError(f"Unexpected '{tok.text}' at character {tok.pos + 1}.")  # pragma: no cover

    def word(self, tok: _Tok) -> Node | None:
        text = tok.text
        if text.endswith("*"):
            stem = text.rstrip("*").lower()
            if len(stem) < MIN_PREFIX or not stem.isalnum():
                raise QueryError(
                    f"Prefix '{text}' at character {tok.pos + 1} needs at least {MIN_PREFIX} "
                    "letters or digits before the '*'."
                )
            self._count()
            return Prefix(stem)
        alternatives: list[Node] = []
        for form in [text, *(self.expand(text) if self.expand else [])]:
            node = self._leaf(lemma_tokens(form))
            if node is not None and node not in alternatives:
                alternatives.append(node)
        if not alternatives:
            return None  # punctuation only, e.g. '&'
        return alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))

    def _leaf(self, lemmas: list[str]) -> Node | None:
        # symbols such as '☺' or '§' are not indexed by any backend; looking for them would
        # make an AND match nothing
        lemmas = [lemma for lemma in lemmas if any(ch.isalnum() for ch in lemma)]
        if not lemmas:
            return None
        self._count()
        return Term(lemmas[0]) if len(lemmas) == 1 else Phrase(tuple(lemmas))

    def _count(self) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"The query has more than {MAX_TERMS} terms; please shorten it.")


def is_positive(node: Node) -> bool:
    """Whether the node can match on its own; NOT only subtracts from something positive."""
    if isinstance(node, Term | Phrase | Prefix):
        return True
    if isinstance(node, And):
        return any(is_positive(c) for c in node.children)
    if isinstance(node, Or):
        return all(is_positive(c) for c in node.children)
    return False


def _check(node: Node) -> None:
    if isinstance(node, And):
        for child in node.children:
            _check(child.child if isinstance(child, Not) else child)
    elif isinstance(node, Or):
        for child in node.children:
            if not is_positive(child):
                raise QueryError(
                    "Each side of OR needs something to look for; NOT only narrows, e.g. "
                    "'(neglect -housing) OR abuse'."
                )
            _check(child)
    elif isinstance(node, Not):
        _check(node.child)


def parse_query(text: str, expand: Expand | None = None) -> Node:
    """Parse `text` to an AST, or raise QueryError saying what is wrong and where."""
    if not isinstance(text, str):
        raise QueryError("The query must be text.")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"The query is longer than {MAX_QUERY_LENGTH} characters.")
    # control characters are never indexed, and a NUL would cut the engine's query string short
    text = _CONTROL.sub(" ", text)
    if not text.strip():
        raise QueryError('The query is empty: type a word or a "phrase" to search for.')
    node = _Parser(_tokenise(text), expand).parse()
    if node is None:
        raise QueryError("The query has no words to search for.")
    if not is_positive(node):
        raise QueryError(
            "NOT needs something to subtract from, e.g. 'neglect -housing' rather than '-housing'."
        )
    _check(node)
    return node


def walk(node: Node, negated: bool = False) -> Iterator[tuple[Node, bool]]:
    """Every node with whether it sits under a NOT; highlights skip negated leaves."""
    yield node, negated
    if isinstance(node, And | Or):
        for child in node.children:
            yield from walk(child, negated)
    elif isinstance(node, Not):
        yield from walk(node.child, not negated)


def positive_leaves(node: Node) -> list[Term | Phrase | Prefix]:
    """The words, phrases and prefixes a matching passage may contain (for highlighting)."""
    return [n for n, neg in walk(node) if not neg and isinstance(n, Term | Phrase | Prefix)]
