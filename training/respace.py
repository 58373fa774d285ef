"""Spacing commands written into training formulas, so that renders teach their widths.

im2latex's formulas carry spacing commands far more often than the harvested training formulas
(per 1,000 formulas, im2latex val against the harvested ones in ``data/pack``: ``\\,`` 452 / 95,
``~`` 267 / 40, ``\\;`` 248 / 58, ``\\ `` 212 / 14; ``\\quad`` only 78 / 41),
often before a final punctuation mark and in runs (``~ ~ ~ ,``). A model trained on the harvested
ones drops thin spaces and confuses widths: on the validation formulas, stage 6 misses only spacing
commands in 122 of 735 (``\\,`` left out 26 times, ``\\ `` read as ``\\;`` 22 times).

:func:`respace` inserts runs of spacing commands, drawn whole with the frequencies of im2latex's
runs (those before a final punctuation mark apart), between tokens where
TeX draws them as visible space and the formula stays valid: never at either end (a crop hides
it), never right after ``^``, ``_``, ``\\left`` or a ``{``, never before ``{``, ``}``, ``^``, ``_``,
``&``, ``\\\\`` or ``\\right``, and never inside an array's column spec or the argument of a command
that takes a length or a label. ``training.font_mix --respace N`` renders N such formulas.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.normalize import group_end

# Runs of spacing commands between two tokens of the 8,308 im2latex val formulas, with their counts
# (the 17 most frequent of 6,968): a run is drawn whole, so that look-alikes keep im2latex's odds
# (`\ ` 677 and `~` 941 against `\, \,` 81, all about a third of an em wide).
INTERIOR_RUNS: dict[str, int] = {
    "\\,": 2491, "~": 941, "\\;": 740, "\\": 677, "\\quad": 498, "\\qquad": 348, "\\!": 183,
    "\\; \\;": 122, "\\:": 106, "~ ~": 100, "\\; \\; \\;": 88, "\\, \\,": 81, "\\ \\": 65, "~ ~ ~": 60,
    "\\! \\!": 49, "\\ \\ \\": 41, "~ ~ ~ ~": 29,
}
# Runs right before a final `.` / `,` / `;` (the 12 most frequent of 1,886).
FINAL_RUNS: dict[str, int] = {
    "\\,": 607, "\\": 463, "\\;": 322, "~": 191, "\\quad": 73, "~ ~": 40, "\\, \\,": 38, "~ ~ ~": 35,
    "\\ \\": 27, "\\; \\;": 21, "\\:": 19, "\\; \\; \\;": 17,
}
# The share of formulas ending in `.` / `,` / `;` that get a run before that mark (im2latex: 1,886 of
# its 5,358 such formulas, 35%; the harvested formulas about a tenth as often).
FINAL_PUNCT_SHARE = 0.35
_FINAL_PUNCT = {".", ",", ";"}

_SAFE_SYMBOLS = set(")],.;:=+-<>|!'/*")
# Commands whose braced argument is not a formula: nothing is inserted inside it.
_NON_MATH_ARG = {"\\begin{array}", "\\hspace", "\\vspace", "\\hskip", "\\kern", "\\label", "\\rule",
                 "\\raisebox", "\\makebox", "\\mbox", "\\tag", "\\hphantom", "\\vphantom", "\\phantom"}
_NO_SPACE_AFTER = {"^", "_", "{", "&", "\\\\", "\\left", "\\right", "\\middle", "\\not"}
_NO_SPACE_BEFORE = {"{", "}", "^", "_", "&", "\\\\", "\\right", "\\limits", "\\nolimits", "\\hline"}


def _is_atom(tok: str) -> bool:
    return (len(tok) == 1 and (tok.isalnum() or tok in _SAFE_SYMBOLS)) or tok.startswith("\\")


def _forbidden(tokens: Sequence[str]) -> set[int]:
    """Indices inside the braced argument of a command in ``_NON_MATH_ARG`` (spec of an array,
    length of a ``\\hspace`` ...)."""
    out: set[int] = set()
    for i, tok in enumerate(tokens):
        if tok in _NON_MATH_ARG and i + 1 < len(tokens) and tokens[i + 1] == "{":
            end = group_end(tokens, i + 1)
            out.update(range(i + 1, len(tokens) if end is None else end + 1))
    return out


def insertion_points(tokens: Sequence[str]) -> list[int]:
    """Indices ``i`` (0 < i < len) where a spacing command may go before ``tokens[i]``."""
    bad = _forbidden(tokens)
    points = []
    for i in range(1, len(tokens)):
        prev, nxt = tokens[i - 1], tokens[i]
        if i in bad or i - 1 in bad or prev in _NO_SPACE_AFTER or nxt in _NO_SPACE_BEFORE:
            continue
        if prev.startswith(("\\big", "\\Big")) or nxt.startswith(("\\end", "\\big", "\\Big", "\\right")):
            continue
        if (_is_atom(prev) or prev == "}") and _is_atom(nxt):
            points.append(i)
    return points


def _spacing_run(rng: random.Random, table: dict[str, int]) -> list[str]:
    return rng.choices(list(table), weights=list(table.values()))[0].split(" ")


def respace(tokens: Sequence[str], rng: random.Random, max_insertions: int = 3) -> list[str]:
    """``tokens`` with 1 to ``max_insertions`` spacing runs inserted at :func:`insertion_points`;
    a formula ending in ``.`` / ``,`` / ``;`` gets one before that mark with probability
    ``FINAL_PUNCT_SHARE``. Unchanged when no point qualifies."""
    points = insertion_points(tokens)
    if not points:
        return list(tokens)
    chosen: set[int] = set()
    last = len(tokens) - 1
    if tokens[last] in _FINAL_PUNCT and last in points and rng.random() < FINAL_PUNCT_SHARE:
        chosen.add(last)
    k = rng.randint(1, max(1, max_insertions))
    chosen.update(rng.sample(points, min(len(points), max(0, k - len(chosen)))))
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if i in chosen:
            out += _spacing_run(rng, FINAL_RUNS if i == last and tok in _FINAL_PUNCT else INTERIOR_RUNS)
        out.append(tok)
    return out
