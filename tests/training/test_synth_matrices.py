"""training.synth_matrices: well-formed arrays in im2latex's spelling, from training cells only."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from training.synth_matrices import array_cells, generate, left_sides, main, split_top

TRAIN = [
    "g = \\left( \\begin{array} { c c } { 1 } & { A } \\\\ { 0 } & { 1 } \\\\ \\end{array} \\right) .",
    "v _ { 2 } = \\left( \\begin{array} { c } { \\phi _ { 1 } ( f _ { 1 } ) } \\\\ { q ( s ) } \\\\ \\end{array} \\right)",
    "f ( x ) = \\left\\{ \\begin{array} { l l } { x , } & { x > 0 } \\\\ { - x , } & { { x \\leq 0 } } \\\\ \\end{array} \\right.",
    "a + b = c",
]
HELD = "h = \\left( \\begin{array} { c } { 7 } \\\\ { 8 } \\\\ \\end{array} \\right)"


def _shape(formula: str) -> tuple[int, list[int]]:
    """Columns named by the spec, and the cells of each row."""
    m = re.search(r"\\begin\{array\} \{ ([^{}]*) \} (.*) \\end\{array\}", formula)
    assert m is not None, formula
    rows = [r for r in split_top(m.group(2).split(), "\\\\") if r]
    return len(m.group(1).split()), [len(split_top(r, "&")) for r in rows]


def test_cells_and_left_sides_are_cut_from_training_arrays() -> None:
    assert array_cells(TRAIN[0]) == [["1", "A"], ["0", "1"]]
    assert array_cells(TRAIN[2]) == [["x ,", "x > 0"], ["- x ,", "{ x \\leq 0 }"]]  # only the outer braces come off
    assert array_cells(TRAIN[3]) == []
    assert left_sides(TRAIN[0]) == ["g ="] and left_sides(TRAIN[2]) == []


def test_generated_arrays_are_well_formed_distinct_and_never_held_out() -> None:
    held = {HELD}
    made = generate(TRAIN + [HELD], held, 300, seed=3)
    formulas = [f for _, f in made]
    assert len(formulas) == len(set(formulas)) > 100
    assert {k for k, _ in made} == {"pattern", "harvest", "indexed"}
    for f in formulas:
        tokens = f.split()
        assert f not in held and len(tokens) <= 150
        assert tokens.count("{") == tokens.count("}")
        cols, cells = _shape(f)
        assert 2 <= len(cells) <= 6 and all(n == cols for n in cells), f
        assert f.count("\\left") == f.count("\\right")
    # cells come from training arrays (or the pattern symbols), never from the held-out formula
    assert not any("{ 7 }" in f or "{ 8 }" in f for f in formulas)
    # an indexed array counts its row's digits up: phi_1(f_1), phi_2(f_2), ...
    assert any("\\phi _ { 2 } ( f _ { 2 } )" in f and "\\phi _ { 3 } ( f _ { 3 } )" in f for _, f in made)
    assert generate(TRAIN, held, 50, seed=3) == generate(TRAIN, held, 50, seed=3)


def test_cli_writes_a_formula_list_for_data_build(tmp_path: Path, capsys) -> None:
    src = tmp_path / "formulas.tsv"
    src.write_text("formula\tsplit\n" + "".join(f"{f}\ttrain\n" for f in TRAIN) + f"{HELD}\ttest\n", encoding="utf-8")
    hold = tmp_path / "held.txt"
    hold.write_text(HELD + "\n", encoding="utf-8")
    out = tmp_path / "syn.tsv"
    assert main(["--formulas", str(src), "--hold-out", str(hold), "--n", "40", "--seed", "1", "--out", str(out)]) == 0
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 40 and {r["split"] for r in rows} == {"train"} and rows[0]["image"] == "syn000000.png"
    assert "wrote 40 formulas" in capsys.readouterr().out
    empty = tmp_path / "none.tsv"
    empty.write_text("formula\tsplit\na + b = c\ttrain\n", encoding="utf-8")
    assert main(["--formulas", str(empty), "--out", str(tmp_path / "x.tsv")]) == 2
    assert "no array cells" in capsys.readouterr().err
