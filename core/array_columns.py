"""Array column specs widened to the cells their rows hold.

A reading of a matrix can count its columns wrong: the decoder writes the column spec (``{ c c }``) before the
cells, and on a tall snip it sometimes names fewer columns than a row then fills. TeX refuses such a formula
("Extra alignment tab has been changed to \\cr"), so the preview and the render check could not draw it. Measured
on the 91 tall validation formulas of im2latex (stage 12, greedy): 18 readings had such an array (20%); on the
6,734 rendered test-subset formulas (stage 11, greedy), 20.

``fit_array_columns`` adds the missing columns, each a copy of the spec's last letter (``{ c c }`` with a row of
three cells -> ``{ c c c }``). Only specs of plain ``l`` / ``c`` / ``r`` letters are touched; a spec that names
more columns than the rows fill is valid LaTeX and stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.normalize import group_end

BEGIN, END = "\\begin{array}", "\\end{array}"
ALIGNMENTS = frozenset("lcr")


def widest_row(tokens: Sequence[str], start: int) -> int:
    """The most cells any row holds in the array body that starts at ``start`` (up to its ``\\end{array}``):
    ``&`` and ``\\\\`` outside groups and nested arrays."""
    depth = nested = 0
    cells = widest = 1
    for tok in tokens[start:]:
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif tok == BEGIN:
            nested += 1
        elif tok == END:
            if nested == 0:
                break
            nested -= 1
        elif depth == 0 and nested == 0 and tok == "&":
            cells += 1
            widest = max(widest, cells)
        elif depth == 0 and nested == 0 and tok == "\\\\":
            cells = 1
    return widest


def fit_array_columns(tokens: Sequence[str]) -> list[str]:
    """``tokens`` (a tokenized formula) with every array's column spec widened to its widest row; the same tokens
    where every spec is wide enough."""
    out = list(tokens)
    i = 0
    while True:
        try:
            i = out.index(BEGIN, i) + 1
        except ValueError:
            return out
        if i >= len(out) or out[i] != "{":
            continue
        close = group_end(out, i)
        if close is None:
            return out
        spec = out[i + 1 : close]
        if spec and all(t in ALIGNMENTS for t in spec):
            missing = widest_row(out, close + 1) - len(spec)
            if missing > 0:
                out[close:close] = [spec[-1]] * missing
