"""core.delimiters: an unmatched \\left / \\right given an invisible partner in its own group."""

from __future__ import annotations

import pytest

from core.delimiters import balance_delimiters, is_left, is_right
from core.recognizer import typesettable


@pytest.mark.parametrize(
    ("read", "written"),
    [
        # an evaluation bar whose \left. the image cannot show: at the start of the formula ...
        (r"\frac { d V } { d x } \right| _ { x = 0 } .", r"\left. \frac { d V } { d x } \right| _ { x = 0 } ."),
        # ... or after the last relation before it, outside the pairs and groups in between
        (r"c \equiv \left( a \right) \frac { b } { x = y } \right| _ { 0 } = 1",
         r"c \equiv \left. \left( a \right) \frac { b } { x = y } \right| _ { 0 } = 1"),
        # a system of equations whose \right. is lost: at the end of the group, before its closing punctuation
        (r"f = \left\{ \begin{array} { l } { a } \\ { b } \end{array} , .",
         r"f = \left\{ \begin{array} { l } { a } \\ { b } \end{array} \right. , ."),
        (r"x ^ { \left( a } + b", r"x ^ { \left( a \right. } + b"),
        (r"\left( a \left[ b ,", r"\left( a \left[ b \right. \right. ,"),
        (r"\left( ,", r"\left( \right. ,"),
        # pairs match within their own group only: TeX's rule
        (r"\left( \frac { a \right) } { b }", r"\left( \frac { \left. a \right) } { b } \right."),
    ],
)
def test_an_unmatched_delimiter_gets_an_invisible_partner(read: str, written: str) -> None:
    assert " ".join(balance_delimiters(read.split())) == written


@pytest.mark.parametrize(
    "read",
    [
        r"\left( a \right) = \left. \frac { 1 } { 2 } \right| _ { 0 }",  # balanced
        r"\leftarrow \rightarrow \lefteqn { x } \rightarrowfill",  # commands, not delimiters
        r"\left( { a",  # braces that do not balance: not a delimiter's doing
        r"a } \right)",
        r"",
    ],
)
def test_balanced_or_unbalanced_braces_are_left_as_they_are(read: str) -> None:
    tokens = read.split()
    out = balance_delimiters(tokens)
    assert out == tokens and out is not tokens


def test_delimiter_tokens() -> None:
    assert is_left(r"\left(") and is_left(r"\left.") and is_left(r"\left\langle") and not is_left(r"\leftarrow")
    assert is_right(r"\right\}") and is_right(r"\right|") and not is_right(r"\rightarrow") and not is_left(r"\right)")


def test_a_reading_is_made_typesettable_arrays_first() -> None:
    read = [r"\left(", r"\begin{array}", r"{", r"c", r"}", r"a", r"&", r"b", r"\end{array}"]
    assert " ".join(typesettable(read)) == r"\left( \begin{array} { c c } a & b \end{array} \right."
