"""In-domain pieces: statements and equation sides cut out of genuine im2latex formulas.

The only im2latex formulas we may train on are the 7,295 val formulas in the training split (the train
formulas are missing offline, the test split is never trained on); everything else is harvested display math
written in other habits. A formula ``a = b + c , \\quad d = e`` also holds shorter formulas written in the same
hand: each top-level statement (``a = b + c``, ``d = e``, cut at ``,``, ``;``, ``\\quad``, ``\\qquad``) and each
side of a relation in it (``a``, ``b + c``), each one a formula TeX typesets on its own. Cuts happen only outside
every brace group, parenthesis, bracket, ``\\left`` ... ``\\right`` pair and environment, and spacing commands
and a final period at either end of a piece are dropped (a crop hides them); pieces shorter than
``MIN_TOKENS`` tokens are left out.

:func:`mix_rows` writes the rows of a training formula list (for ``latexsnip data build``): the pieces of the
favoured formulas, the favoured formulas themselves ``copies`` times, a random sample of the other training
formulas (so the decoder keeps what it knew), and the validation rows unchanged. A piece equal to a training or
validation formula (or any other formula of the list, such as a test one), or to a piece of a validation formula, is left
out, so validation and test stay held out.

    python -m training.subexpr --formulas data/build_formulas.tsv \\
        --favour ../shared/im2latex/formulas/val_test.norm.tsv --out data/sub_formulas.tsv [--replay 24000]
        [--copies 2] [--seed 36]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from core import variants
from core.spacing import SPACING
from training.evaluate import gold_formulas

SEPARATORS = frozenset({",", ";", "\\quad", "\\qquad"})
RELATIONS = frozenset({"=", "\\equiv", "\\approx", "\\sim", "\\simeq", "<", ">", "\\leq", "\\geq", "\\neq", "\\le",
                       "\\ge", "\\ne", "\\rightarrow", "\\to", "\\propto", "\\cong"})
# a group or a plain delimiter (core.variants' pairs) opens or closes a level; so do \left / \right and environments
OPENERS = variants.OPENERS | {"{"}
CLOSERS = variants.CLOSERS | {"}"}
MIN_TOKENS = 4


def top_level(tokens: Sequence[str], which: Iterable[str]) -> list[int] | None:
    """Positions of the tokens in ``which`` outside every group, parenthesis, bracket, ``\\left`` ... ``\\right``
    and environment; None when the nesting does not balance (then nothing is cut)."""
    wanted = frozenset(which)
    depth = 0
    found = []
    for i, t in enumerate(tokens):
        sized = variants.sized_delimiter(t)
        if t in OPENERS or (sized is not None and sized[1]) or t.startswith("\\begin"):
            depth += 1
        elif t in CLOSERS or (sized is not None and not sized[1]) or t.startswith("\\end"):
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0 and t in wanted:
            found.append(i)
    return found if depth == 0 else None


def _split(tokens: Sequence[str], at: Sequence[int]) -> list[list[str]]:
    parts, start = [], 0
    for p in [*at, len(tokens)]:
        parts.append(list(tokens[start:p]))
        start = p + 1
    return parts


def _trim(tokens: list[str]) -> list[str]:
    """Without spacing commands at either end and a final period."""
    while tokens and (tokens[-1] in SPACING or tokens[-1] == "."):
        tokens = tokens[:-1]
    while tokens and tokens[0] in SPACING:
        tokens = tokens[1:]
    return tokens


def pieces(tokens: Sequence[str]) -> set[str]:
    """The statements and relation sides of one tokenised formula (space-joined), itself excluded."""
    out: set[str] = set()
    cuts = top_level(tokens, SEPARATORS)
    if cuts is None:
        return out
    statements = [s for s in (_trim(p) for p in _split(tokens, cuts)) if len(s) >= MIN_TOKENS]
    for s in statements:
        if len(statements) > 1:
            out.add(" ".join(s))
        rel = top_level(s, RELATIONS) or []
        for side in _split(s, rel) if rel else []:
            side = _trim(side)
            if len(side) >= MIN_TOKENS:
                out.add(" ".join(side))
        if len(rel) > 1:  # the first relation of a chain with both its sides
            first = _trim(s[: rel[1]])
            if len(first) >= MIN_TOKENS:
                out.add(" ".join(first))
    out.discard(" ".join(tokens))
    return out


def mix_rows(rows: Sequence[dict[str, str]], favoured: set[str], replay: int, copies: int = 2,
             seed: int = 36) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(formula, split) rows of the mix (see module docstring) from a formula list's ``rows`` (``formula``,
    ``split``), and how many of each kind."""
    train = [r["formula"] for r in rows if r["split"] == "train"]
    val = [r["formula"] for r in rows if r["split"] == "val"]
    inside = [f for f in train if f in favoured]
    others = [f for f in train if f not in favoured]
    held = set(val)
    for f in val:
        held |= pieces(f.split())
    known = held | {r["formula"] for r in rows}  # never a training, validation or test formula itself
    cut: set[str] = set()
    for f in inside:
        cut |= pieces(f.split())
    cut_rows = sorted(cut - known)
    sampled = random.Random(seed).sample(others, min(replay, len(others)))
    out = [(f, "train") for f in cut_rows]
    out += [(f, "train") for _ in range(copies) for f in inside]
    out += [(f, "train") for f in sampled]
    out += [(f, "val") for f in val]
    return out, {"pieces": len(cut_rows), "favoured": len(inside), "replay": len(sampled), "val": len(val)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.subexpr", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--formulas", type=Path, required=True,
                   help="formula list with columns formula and split (`latexsnip data prepare`'s output)")
    p.add_argument("--favour", type=Path, required=True,
                   help="TSV of the genuine im2latex formulas (column formula_norm or formula; rows of --favour-split)")
    p.add_argument("--favour-split", default="val", help="rows of --favour to use when it has a split column (default val)")
    p.add_argument("--out", type=Path, required=True, help="TSV to write (columns formula, split) for `latexsnip data build`")
    p.add_argument("--replay", type=int, default=24000, help="other training formulas sampled into the mix (default 24000)")
    p.add_argument("--copies", type=int, default=2, help="times each favoured formula is listed (default 2)")
    p.add_argument("--seed", type=int, default=36)
    args = p.parse_args(argv)
    try:
        with open(args.formulas, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if rows and not {"formula", "split"} <= set(rows[0]):
            print(f"error: {args.formulas}: needs the columns formula and split", file=sys.stderr)
            return 2
        favoured = {f.strip() for f in gold_formulas(str(args.favour), args.favour_split, "--favour")}
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out, counts = mix_rows(rows, favoured, args.replay, args.copies, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["formula", "split"])
        w.writerows(out)
    print(f"wrote {args.out}: {counts['pieces']} pieces of {counts['favoured']} favoured formulas, those listed "
          f"{args.copies}x, {counts['replay']} other training formulas, {counts['val']} validation rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
