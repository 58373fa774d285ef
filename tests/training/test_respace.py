"""training.respace: where spacing commands go into a formula, and which ones."""

from __future__ import annotations

import random
from collections import Counter

from training.metrics import SPACING_TOKENS
from training.respace import FINAL_PUNCT_SHARE, FINAL_RUNS, INTERIOR_RUNS, insertion_points, respace


def _strip(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in SPACING_TOKENS]


def test_points_lie_between_atoms_only() -> None:
    toks = ["a", "+", "\\frac", "{", "b", "}", "{", "c", "}", "^", "{", "2", "}", "x", "_", "{", "i", "}", "=", "\\left(", "y", "\\right)", "."]
    pts = insertion_points(toks)
    assert all(0 < i < len(toks) for i in pts)
    pairs = {(toks[i - 1], toks[i]) for i in pts}
    assert ("a", "+") in pairs and ("+", "\\frac") in pairs and ("}", "x") in pairs and ("y", "\\right)") not in pairs
    for prev, nxt in pairs:
        assert prev not in {"^", "_", "{", "\\frac"} and nxt not in {"{", "}", "^", "_"}


def test_no_points_inside_an_array_spec_or_a_length() -> None:
    toks = ["\\begin{array}", "{", "c", "c", "}", "{", "a", "}", "&", "{", "b", "}", "\\\\", "\\end{array}", "\\hspace", "{", "1", "c", "m", "}", "x", "y"]
    pts = insertion_points(toks)
    assert {(toks[i - 1], toks[i]) for i in pts} == {("\\end{array}", "\\hspace"), ("x", "y")}


def test_respace_keeps_the_formula_and_never_spaces_its_ends() -> None:
    rng = random.Random(3)
    toks = ["E", "=", "m", "c", "^", "{", "2", "}", "+", "p", "x", ","]
    for _ in range(200):
        out = respace(toks, rng)
        assert _strip(out) == toks and out != toks
        assert out[0] == "E" and out[-1] == ","
        assert 1 <= sum(1 for a, b in zip(out, out[1:], strict=False) if a not in SPACING_TOKENS and b in SPACING_TOKENS) <= 3


def test_final_punctuation_gets_a_space_about_half_the_time() -> None:
    rng = random.Random(5)
    toks = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "."]
    before_dot = sum(respace(toks, rng)[-2] in SPACING_TOKENS for _ in range(2000)) / 2000
    assert FINAL_PUNCT_SHARE - 0.05 < before_dot < FINAL_PUNCT_SHARE + 0.15  # + random picks of that point


def test_runs_follow_im2latex_frequencies_and_formulas_without_points_stay() -> None:
    rng = random.Random(7)
    runs: Counter[str] = Counter()
    for _ in range(3000):
        out = respace(["a", "b"], rng)
        runs[" ".join(out[1:-1])] += 1
    assert set(runs) <= set(INTERIOR_RUNS)
    assert runs.most_common(1)[0][0] == "\\,"
    assert runs["~"] > runs["\\"] > 5 * runs["\\, \\,"] > 0  # look-alikes keep im2latex's odds
    assert respace(["x", "_", "{", "1", "}"], rng) == ["x", "_", "{", "1", "}"]
    assert respace([], rng) == []


def test_the_final_mark_takes_final_runs() -> None:
    rng = random.Random(9)
    toks = ["a", "."]
    finals = {" ".join(respace(toks, rng)[1:-1]) for _ in range(500)}
    assert finals <= set(FINAL_RUNS) and "\\quad" in finals
