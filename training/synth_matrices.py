"""Synthetic matrices and column vectors in im2latex's spelling: data for the tall head's row counting.

The tall head drops rows of arrays whose rows look alike (``{ 0 } & { 0 } & { 1 }`` read once for two rows,
a four-row vector read with three): the training data holds few such arrays, and those it holds are mostly
``cases``-like ``r l`` arrays of long statements. This writes arrays of 2-6 rows whose cells come from three
sources, each made the way im2latex writes an array (``\\left( \\begin{array} { c c } { a } & { b } \\\\ ...
\\\\ \\end{array} \\right)``, every cell braced, every row closed by ``\\\\``):

- ``pattern``: cells of ``0`` and ``1`` and one or two symbols, on the diagonal, a triangle or scattered, so that
  neighbouring rows differ in one cell;
- ``harvest``: cells cut from the arrays of the training formulas;
- ``indexed``: one harvested row repeated with its digits counted up (``\\phi _ { 1 } ( f _ { 1 } )``, then
  ``\\phi _ { 2 } ( f _ { 2 } )``, ...), rows alike but for their index.

A matrix is wrapped in ``( )``, ``[ ]``, ``| |``, ``\\{ .`` or nothing, sometimes after a left-hand side cut from
a training formula (``g =``) and before a comma or period. Cells and left-hand sides come only from the train
split's formulas, skipping every formula listed in ``--hold-out`` (the val/test formulas); a generated formula
equal to a held-out one is dropped, so validation and test stay held out.

    python -m training.synth_matrices --formulas data/build_formulas.tsv \\
        --hold-out ../shared/im2latex/formulas/val_test.norm.tsv [--hold-out runs/s40/longval_all.txt] \\
        --n 6000 --seed 86 --out data/syn_matrices.tsv

Output: a TSV (``formula``, ``split`` = train, ``image``) for ``latexsnip data build``.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from core.errors import LatexSnipError
from training import data_build

MAX_TOKENS = 150
DELIMITERS = (("\\left(", "\\right)", 45), ("\\left[", "\\right]", 25), ("\\left|", "\\right|", 8),
              ("\\left\\{", "\\right.", 7), ("", "", 15))
SUFFIXES = (("", 50), (",", 15), (".", 15), ("\\, .", 10), ("\\, ,", 10))
SYMBOLS = ("a", "b", "c", "x", "y", "- 1", "2", "\\lambda", "\\alpha", "\\beta", "i", "- i", "\\sigma", "m",
           "x _ { 1 }", "a _ { 2 }", "\\cos \\theta", "\\sin \\theta", "- \\sin \\theta", "e ^ { i \\phi }",
           "\\frac { 1 } { 2 }", "\\sqrt { 2 }", "\\omega", "k", "\\mu", "A", "B", "1 / 2", "\\ast", "\\cdots")
_ARRAY = re.compile(r"\\begin\{array\} \{ ([^{}]*) \} (.*?) \\end\{array\}")


def _weighted(rng: random.Random, items: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """One of ``items``, each drawn in proportion to its last field (a weight)."""
    total = sum(int(i[-1]) for i in items)
    pick = rng.uniform(0, total)
    for item in items:
        pick -= int(item[-1])
        if pick <= 0:
            return item
    return items[-1]


def split_top(tokens: Sequence[str], sep: str) -> list[list[str]]:
    """``tokens`` cut at every ``sep`` outside braces."""
    parts: list[list[str]] = [[]]
    depth = 0
    for t in tokens:
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
        if t == sep and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def array_cells(formula: str) -> list[list[str]]:
    """The cells (as token strings, outer braces taken off) of every un-nested array in ``formula``,
    one list per row."""
    rows: list[list[str]] = []
    for m in _ARRAY.finditer(formula):
        body = m.group(2)
        if "\\begin{" in body or "\\hline" in body or "\\multicolumn" in body:
            continue
        for row in split_top(body.split(), "\\\\"):
            cells = []
            for cell in split_top(row, "&"):
                if len(cell) >= 2 and cell[0] == "{" and cell[-1] == "}" and _balanced(cell[1:-1]):
                    cells.append(" ".join(cell[1:-1]))
                elif cell:
                    cells.append(" ".join(cell))
            if cells and all(cells):
                rows.append(cells)
    return rows


def _balanced(tokens: Sequence[str]) -> bool:
    depth = 0
    for t in tokens:
        depth += t == "{"
        depth -= t == "}"
        if depth < 0:
            return False
    return depth == 0


def left_sides(formula: str) -> list[str]:
    """Short left-hand sides written right before a delimited array (``g =`` of ``g = \\left( ...``)."""
    tokens = formula.split()
    found = []
    for i, t in enumerate(tokens):
        opens_array = t in ("\\left(", "\\left[") and i + 1 < len(tokens) and tokens[i + 1] == "\\begin{array}"
        if opens_array and i >= 2 and tokens[i - 1] == "=":
            lhs = tokens[:i - 1]
            if 1 <= len(lhs) <= 8 and _balanced(lhs) and "\\left(" not in lhs and "&" not in lhs:
                found.append(" ".join(lhs + ["="]))
    return found


def array_formula(rows: Sequence[Sequence[str]], spec: str, left: str, right: str, lhs: str, suffix: str) -> str:
    """One array in im2latex's spelling."""
    body = " ".join(" & ".join("{ " + c + " }" for c in row) + " \\\\" for row in rows)
    parts = [lhs, left, "\\begin{array} { " + spec + " }", body, "\\end{array}", right, suffix]
    return " ".join(p for p in parts if p)


def _spec(rng: random.Random, cols: int) -> str:
    roll = rng.random()
    if roll < 0.75:
        letters = ["c"] * cols
    elif roll < 0.9:
        letters = ["l"] * cols
    else:
        letters = [rng.choice("clr") for _ in range(cols)]
    return " ".join(letters)


def _pattern(rng: random.Random, r: int, c: int) -> list[list[str]]:
    one, other = rng.sample(SYMBOLS, 2)
    kind = rng.choice(("diagonal", "triangle", "scatter", "anti"))
    rows = []
    for i in range(r):
        row = []
        for j in range(c):
            if kind == "diagonal":
                cell = rng.choice((one, "1")) if i == j else "0"
            elif kind == "anti":
                cell = one if i + j == c - 1 else "0"
            elif kind == "triangle":
                cell = (one if i == j else other) if j >= i else "0"
            else:
                cell = rng.choice((one, other, "0", "0", "1"))
            row.append(cell)
        rows.append(row)
    return rows


def _count_up(cell: str, k: int) -> str:
    return " ".join(str(k) if t == "1" else t for t in cell.split())


class Generator:
    """Draws synthetic array formulas from the cells and left-hand sides of training formulas."""

    def __init__(self, formulas: Iterable[str], seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows_by_width: dict[int, list[list[str]]] = {}
        self.cells: list[str] = []
        self.lhs: list[str] = []
        for f in formulas:
            for row in array_cells(f):
                self.rows_by_width.setdefault(len(row), []).append(row)
                self.cells.extend(c for c in row if len(c.split()) <= 12)
            self.lhs.extend(left_sides(f))
        if not self.cells or not self.lhs:
            raise LatexSnipError("no array cells or left-hand sides found in the training formulas")
        self.indexed_rows = [row for rows in self.rows_by_width.values() for row in rows
                             if any(" 1 " in f" {c} " for c in row) and sum(len(c.split()) for c in row) <= 24]

    def formula(self) -> tuple[str, str]:
        """(kind, formula) of one synthetic array."""
        rng = self.rng
        kind = _weighted(rng, (("pattern", 40), ("harvest", 40), ("indexed", 20)))[0]
        r = rng.randint(2, 6)
        if kind == "pattern":
            c = rng.randint(2, 5)
            rows = _pattern(rng, r, c)
        elif kind == "harvest":
            c = rng.choice((1, 1, 2, 2, 3, 4))
            pool = [x for x in self.cells if len(x.split()) <= (14 if c <= 2 else 6)]
            rows = [[rng.choice(pool) for _ in range(c)] for _ in range(r)]
        else:
            base = rng.choice(self.indexed_rows)
            c = len(base)
            start = rng.choice((0, 1, 1))
            rows = [[_count_up(cell, start + i) for cell in base] for i in range(r)]
        left, right, _ = _weighted(rng, DELIMITERS)
        lhs = rng.choice(self.lhs) if left and rng.random() < 0.5 else ""
        suffix = _weighted(rng, SUFFIXES)[0]
        return kind, array_formula(rows, _spec(rng, c), left, right, lhs, suffix)


def read_formulas(path: str, split: str | None) -> list[str]:
    """The formulas of a formula file as ``latexsnip data build`` reads it (``training.data_build.read_formulas``:
    a TSV with a ``formula`` / ``formula_norm`` column, only ``split``'s rows unless None, or a plain list)."""
    return [row.formula for row in data_build.read_formulas(path, split)]


def generate(formulas: Sequence[str], held_out: set[str], n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` distinct (kind, formula) pairs, none of them held out, each at most ``MAX_TOKENS`` tokens."""
    gen = Generator((f for f in formulas if f not in held_out), seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n and tries < 20 * n:
        tries += 1
        kind, f = gen.formula()
        if f in seen or f in held_out or len(f.split()) > MAX_TOKENS:
            continue
        seen.add(f)
        out.append((kind, f))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.synth_matrices", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--formulas", required=True, help="TSV of training formulas (formula, split); train rows used")
    ap.add_argument("--hold-out", action="append", default=[],
                    help="formulas never harvested nor written (TSV with formula_norm/formula, or one per line)")
    ap.add_argument("--n", type=int, default=6000, help="formulas to write (default 6000)")
    ap.add_argument("--seed", type=int, default=86)
    ap.add_argument("--out", required=True, help="TSV to write (formula, split, image)")
    args = ap.parse_args(argv)
    try:
        held = {f for path in args.hold_out for f in read_formulas(path, None)}
        made = generate(read_formulas(args.formulas, "train"), held, args.n, args.seed)
    except LatexSnipError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        fh.write("formula\tsplit\timage\n")
        for i, (_, f) in enumerate(made):
            fh.write(f"{f}\ttrain\tsyn{i:06d}.png\n")
    kinds: dict[str, int] = {}
    for k, _ in made:
        kinds[k] = kinds.get(k, 0) + 1
    print(f"wrote {len(made)} formulas to {args.out} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; "
          f"{len(held)} held out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
