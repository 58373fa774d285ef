"""Tests for core.normalize: im2latex-style LaTeX normalization."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from core.normalize import (
    group_end,
    is_one_group,
    normalize_is_identity_rate,
    normalize_latex,
    tokenize_latex,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "im2latex"
VAL_TEST = SHARED / "formulas" / "val_test.norm.tsv"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # scripts
        ("x^2", "x ^ { 2 }"),
        ("x^\\alpha", "x ^ { \\alpha }"),
        ("x_{ab}", "x _ { a b }"),
        ("x^{c}_{\\mu}", "x _ { \\mu } ^ { c }"),
        ("\\phi''", "\\phi ^ { \\prime \\prime }"),
        ("A'^2", "A ^ { \\prime 2 }"),
        ("C'_0", "C _ { 0 } ^ { \\prime }"),
        ("{}^{\\circ}D", "{ } ^ { \\circ } D"),
        # fractions and \over
        ("\\frac12", "\\frac { 1 } { 2 }"),
        ("\\dfrac{a}{b}", "\\frac { a } { b }"),
        ("{a \\over b}", "{ \\frac { a } { b } }"),
        ("a \\over b", "\\frac { a } { b }"),
        ("{n \\choose k}", "{ \\binom { n } { k } }"),
        ("{qcos\\theta\\over r}", "{ \\frac { q c o s \\theta } { r } }"),
        # sqrt, accents, fonts
        ("\\sqrt x", "\\sqrt { x }"),
        ("\\sqrt[n]{x+1}", "\\sqrt [ n ] { x + 1 }"),
        ("\\hat a", "\\hat { a }"),
        ("\\widetilde{G}_n", "\\widetilde { G } _ { n }"),
        ("\\mathrm{diag}", "\\mathrm { d i a g }"),
        ("\\mathbb R", "\\mathbb { R }"),
        ("\\boldsymbol{F}", "\\mathbf { F }"),
        ("\\nu_{\\rm vib}", "\\nu _ { \\mathrm { v i b } }"),
        ("(a,{\\rm const.})", "( a , \\mathrm { c o n s t . } )"),
        ("\\rm d x", "\\mathrm { d x }"),
        ("({\\cal L}_a g)", "( { \\cal L } _ { a } g )"),
        ("{\\bf r}", "{ \\bf r }"),
        ("\\text{if } x", "\\mathrm { i f ~ } x"),
        ("\\text{for $x^2$}", "\\mathrm { f o r ~ x ^ { 2 } }"),
        (
            "\\sin^2 x + \\lim_{n} a",
            "\\operatorname { s i n } ^ { 2 } x + \\operatorname* { l i m } _ { n } a",
        ),
        # delimiters, spacing
        ("\\left( x \\right)", "\\left( x \\right)"),
        ("\\left\\{ x \\right.", "\\left\\{ x \\right."),
        ("\\Big( x \\Big)", "\\Big ( x \\Big )"),
        ("a\\ \\ b\\,c", "a \\ \\ b \\, c"),
        # dropped material and wrappers
        ("x = 1 \\label{eq:1}", "x = 1"),
        ("x = 1 % comment\n + 2", "x = 1 + 2"),
        ("$$x \\nonumber$$", "x"),
        ("\\[ x \\tag{3} \\]", "x"),
        ("\\begin{equation} x \\end{equation}", "x"),
        # arrays and environments
        (
            "\\begin{array}{ll} a & b \\\\ c & d \\end{array}",
            "\\begin{array} { l l } { a } & { b } \\\\ { c } & { d } \\\\ \\end{array}",
        ),
        (
            "\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}",
            "\\left( \\begin{array} { c c } { 1 } & { 0 } \\\\ { 0 } & { 1 } \\\\ \\end{array} \\right)",
        ),
        (
            "\\begin{cases} 1 & x>0 \\\\ 0 & \\text{else} \\end{cases}",
            "\\left\\{ \\begin{array} { l l } { 1 } & { x > 0 } \\\\ { 0 } & { \\mathrm { e l s e } } \\\\ \\end{array} \\right.",
        ),
        (
            "\\begin{aligned} a &= b \\\\ &= c \\end{aligned}",
            "\\begin{array} { r l } { a } & { = b } \\\\ { } & { = c } \\\\ \\end{array}",
        ),
    ],
)
def test_normalize_cases(raw: str, expected: str) -> None:
    assert normalize_latex(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "$$ $$",
        "\\frac{a}{b",
        "x^{2}}",
        "\\left( x",
        "x \\right)",
        "a \\\\ b",
        "a & b",
        "x^2^3",
        "\\begin{tabular}{ll} a & b \\end{tabular}",
        "\\def\\x{1} \\x",
        "\\label{only}",
    ],
)
def test_unnormalizable_gives_none(raw: str) -> None:
    assert normalize_latex(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "ds^{2} = (1 - {qcos\\theta\\over r})^{2\\over 1 + \\alpha^{2}}\\lbrace dr^2\\rbrace",
        "\\widetilde\\gamma_{\\rm hopf}\\simeq\\sum_{n>0}\\widetilde{G}_n{(-a)^n\\over2^{2n-1}}",
        "\\text{for all } x \\in \\mathbb{R},\\ f'(x) \\geq 0",
        "\\begin{bmatrix} a & \\frac12 \\\\ \\sqrt[3]{y} & \\hat b \\end{bmatrix}",
        "\\sum_{\\substack{p \\le n \\\\ p \\text{ prime}}} \\frac 1 p",
        "A \\xrightarrow{f} B",
    ],
)
def test_idempotent(raw: str) -> None:
    once = normalize_latex(raw)
    assert once is not None
    assert normalize_latex(once) == once
    assert tokenize_latex(once) == once.split(" ")


def test_tokenize_latex() -> None:
    assert tokenize_latex("\\frac{a}{bc}") == ["\\frac", "{", "a", "}", "{", "b", "c", "}"]
    assert tokenize_latex("\\,\\{\\\\ \\|x % hidden\n y") == ["\\,", "\\{", "\\\\", "\\|", "x", "y"]
    assert tokenize_latex("a\\ b") == ["a", "\\", "b"]
    assert tokenize_latex("\\left( x \\right\\}") == ["\\left(", "x", "\\right\\}"]
    assert tokenize_latex("\\begin {array}{c}") == ["\\begin{array}", "{", "c", "}"]
    assert tokenize_latex("\\operatorname*{lim}")[0] == "\\operatorname*"
    assert tokenize_latex("x^2_{10}") == ["x", "^", "2", "_", "{", "1", "0", "}"]


def _read_norm(limit: int) -> list[str]:
    with open(VAL_TEST, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [row["formula_norm"] for row in itertools.islice(reader, limit)]


@pytest.mark.skipif(not VAL_TEST.is_file(), reason=f"im2latex data not found at {VAL_TEST}")
def test_identity_rate_on_im2latex() -> None:
    formulas = _read_norm(2000)
    assert len(formulas) == 2000
    assert normalize_is_identity_rate(formulas) >= 0.95


def test_group_end_and_is_one_group() -> None:
    toks = ["{", "a", "{", "b", "}", "}", "{", "c", "}"]
    assert group_end(toks, 0) == 5 and group_end(toks, 2) == 4 and group_end(toks, 6) == 8
    assert group_end(["{", "a", "{", "b", "}"], 0) is None  # never closed
    assert is_one_group(toks[:6]) and not is_one_group(toks) and not is_one_group(["{", "}", "x"])
