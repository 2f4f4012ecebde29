"""The grammar of `search_api.query`: what people type, what it means, and clear refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewlens.errors import QueryError
from search_api.query import (
    MAX_DEPTH,
    And,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    is_positive,
    parse_query,
    positive_leaves,
)


def expand(term: str) -> list[str]:
    return [
        term,
        *{"cse": ["child sexual exploitation"], "da": ["DA", "domestic abuse"]}.get(
            term.lower(), []
        ),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("neglect", Term("neglect")),
        ("Bruised BABIES", And((Term("bruise"), Term("baby")))),
        ('"hidden men"', Phrase(("hide", "man"))),
        ("follow-up", Phrase(("follow", "up"))),
        ("neglect OR abuse", Or((Term("neglect"), Term("abuse")))),
        ("neglect AND abuse", And((Term("neglect"), Term("abuse")))),
        ("neglect -housing", And((Term("neglect"), Not(Term("house"))))),
        ("neglect NOT housing", And((Term("neglect"), Not(Term("house"))))),
        ("Escalat*", Prefix("escalat")),
        (
            "a b OR c",
            Or((And((Term("a"), Term("b"))), Term("c"))),
        ),
        (
            "a (b OR c)",
            And((Term("a"), Or((Term("b"), Term("c"))))),
        ),
        (
            'neglect -("self neglect" OR housing)',
            And((Term("neglect"), Not(Or((Phrase(("self", "neglect")), Term("house")))))),
        ),
        ("and or not", And((Term("and"), Term("or"), Term("not")))),  # lower case: words
        ("children's & voice", And((Term("child"), Term("voice")))),
        ("neglect ☺ §", Term("neglect")),
        ('"☺ hidden men"', Phrase(("hide", "man"))),
    ],
)
def test_parses(query: str, expected: Node) -> None:
    assert parse_query(query) == expected


def test_abbreviations_expand_bare_words_only() -> None:
    assert parse_query("CSE", expand) == Or(
        (Term("cse"), Phrase(("child", "sexual", "exploitation")))
    )
    assert parse_query('"CSE"', expand) == Term("cse")
    # duplicates from the expansion ("DA" twice) collapse
    assert parse_query("da", expand) == Or((Term("da"), Phrase(("domestic", "abuse"))))
    assert parse_query("neglect", expand) == Term("neglect")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('"hidden men', "Unbalanced quote"),
        ("(neglect", "never closes"),
        ("neglect)", "has no '('"),
        ("neglect AND", "needs a word"),
        ("neglect OR", "needs a word"),
        ("OR neglect", "on its left"),
        ("AND neglect", "on its left"),
        ("neglect OR OR abuse", "needs a word"),
        ("neglect NOT", "needs a word"),
        ("-neglect", "subtract"),
        ("NOT neglect", "subtract"),
        ("neglect OR -abuse", "subtract"),
        ("()", "Empty parentheses"),
        ('""', "Empty phrase"),
        ("a*", "at least 2"),
        ("ne-g*", "letters or digits"),
        ("&&", "no words"),
        ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "nests deeper"),
        ("x" * 1001, "longer than"),
        (" ".join(["w"] * 65), "more than 64"),
    ],
)
def test_refuses_with_a_clear_message(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert message in str(caught.value)
    assert caught.value.code == "invalid_query"


def test_positive_leaves_skip_negations() -> None:
    node = parse_query('neglect -housing ("hidden men" OR escal*)')
    assert positive_leaves(node) == [Term("neglect"), Phrase(("hide", "man")), Prefix("escal")]
    assert is_positive(node)
    assert not is_positive(Not(Term("a")))


_ALPHABET = st.sampled_from(list('abcXYZ "()-*&:^ \t') + ["AND", "OR", "NOT", " AND ", " OR "])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_grammar_like_input_parses_or_is_refused(text: str) -> None:
    try:
        node = parse_query(text, expand)
    except QueryError:
        return
    assert is_positive(node)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused(text: str) -> None:
    try:
        node = parse_query(text, expand)
    except QueryError:
        return
    assert isinstance(node, Term | Phrase | Prefix | And | Or)
