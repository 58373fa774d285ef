"""core.array_columns: an array's column spec widened to the cells its rows hold, so that TeX can typeset it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from core.array_columns import fit_array_columns, widest_row
from tests.core.helpers import draw, reader

ARRAY = r"\begin{array} { c c } { 1 } & { 0 } \\ { 0 } & { 0 } & { 1 } \\ \end{array}"


@pytest.mark.parametrize(
    ("read", "written"),
    [
        # a row with three cells under a two-column spec: one more column, a copy of the last letter
        (rf"B = \left( {ARRAY} \right) .", r"B = \left( \begin{array} { c c c } { 1 } & { 0 } \\ { 0 } & { 0 } & { 1 } \\ \end{array} \right) ."),
        (r"\begin{array} { l r } a & b & c & d \end{array}", r"\begin{array} { l r r r } a & b & c & d \end{array}"),
        # cells in groups and nested arrays count for their own array only
        (r"\begin{array} { c } { a & b } \\ { \begin{array} { l } x & y \end{array} } \end{array}",
         r"\begin{array} { c } { a & b } \\ { \begin{array} { l l } x & y \end{array} } \end{array}"),
        # two arrays, each fitted to its own rows
        (r"\begin{array} { c } a & b \end{array} = \begin{array} { c } a & b & c \end{array}",
         r"\begin{array} { c c } a & b \end{array} = \begin{array} { c c c } a & b & c \end{array}"),
    ],
)
def test_a_spec_narrower_than_its_rows_is_widened(read: str, written: str) -> None:
    assert " ".join(fit_array_columns(read.split())) == written


@pytest.mark.parametrize(
    "read",
    [
        r"\begin{array} { c c c } a & b \\ c \end{array}",  # wider than its rows: valid LaTeX, left as it is
        r"\begin{array} { c | c } a & b & c \end{array}",  # rules, @{}, p{..}: not a spec of plain letters
        r"\begin{array} { } a & b \end{array}",
        r"\begin{array} { c a & b",  # an unclosed spec
        r"\begin{array} a & b \end{array}",  # no spec at all
        r"\begin{array}",
        r"x + 1",
    ],
)
def test_other_formulas_are_left_as_they_are(read: str) -> None:
    tokens = read.split()
    out = fit_array_columns(tokens)
    assert out == tokens and out is not tokens


def test_widest_row_stops_at_its_own_end() -> None:
    tokens = [r"a", r"&", r"b", r"\\", r"a", r"&", r"b", r"&", r"c", r"\end{array}", r"&", r"x", r"&", r"y", r"&", r"z", r"&", r"w"]
    assert widest_row(tokens, 0) == 3
    assert widest_row([], 0) == 1


def _fake_fit(extra: list[str]) -> Callable[[Sequence[str]], list[str]]:
    def fit(tokens: Sequence[str]) -> list[str]:  # stands in for a widened spec: the tiny vocabulary has no arrays
        return [*tokens, *extra]

    return fit


def test_the_app_writes_readings_with_fitted_arrays(tiny_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = draw("x + 1")
    plain = reader(tiny_weights).recognize(image)
    monkeypatch.setattr("core.recognizer.fit_array_columns", _fake_fit(["+", "1"]))
    pred = reader(tiny_weights).recognize(image)
    assert pred.tokens == [*plain.tokens, "+", "1"] and pred.latex == " ".join(pred.tokens)
    # the model held to the tokens shown: a probability and an attention row for each
    assert len(pred.token_probs) == len(pred.tokens) and pred.attention is not None
    assert pred.attention.shape[0] == len(pred.tokens)
    assert pred.first_choice is None  # its own first choice, fitted, is the same reading


def test_the_render_check_typesets_readings_with_fitted_arrays(tiny_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reading TeX would refuse as read is typeset (and kept) with its arrays fitted."""
    snip = draw("x + 1")
    monkeypatch.setattr("core.recognizer.fit_array_columns", _fake_fit(["+", "1"]))
    seen: list[str] = []

    def renderer(formulas: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        seen.extend(formulas)
        return [np.asarray(snip) for _ in formulas]  # every text draws the snip: the most confident is kept

    pred = reader(tiny_weights).recognize(snip, beam=2, renderer=renderer)
    assert seen and all(t.endswith("+ 1") for t in seen)
    assert pred.latex in seen and pred.render_distance == 0.0
