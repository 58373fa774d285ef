import csv

from training.subexpr import main, mix_rows, pieces, top_level


def _t(formula: str) -> list[str]:
    return formula.split()


def test_statements_and_sides_are_cut_at_the_top_level_only() -> None:
    got = pieces(_t("f ( a , b ) = x ^ { 2 } + 1 , \\quad g ( c , d ) = \\frac { 1 } { 2 } ."))
    assert got == {
        "f ( a , b ) = x ^ { 2 } + 1",
        "f ( a , b )",
        "x ^ { 2 } + 1",
        "g ( c , d ) = \\frac { 1 } { 2 }",
        "g ( c , d )",
        "\\frac { 1 } { 2 }",
    }


def test_arrows_are_relations_not_delimiters() -> None:
    tokens = _t("\\left( a + b \\right) \\rightarrow c + d + e")
    assert top_level(tokens, {"\\rightarrow"}) == [5]
    assert pieces(tokens) == {"\\left( a + b \\right)", "c + d + e"}


def test_every_delimiter_pair_of_the_render_check_is_a_level() -> None:
    assert top_level(_t("\\lbrack a , b \\rbrack , \\lfloor c , d \\rfloor"), {","}) == [5]
    assert top_level(_t("\\bigl \\lbrack a , b \\bigr \\rbrack"), {","}) == []


def test_a_chain_keeps_its_first_relation_whole_and_short_pieces_are_left_out() -> None:
    got = pieces(_t("a + b + c = d + e + f = g"))
    assert got == {"a + b + c", "d + e + f", "a + b + c = d + e + f"}


def test_unbalanced_or_single_statement_formulas_give_no_cut() -> None:
    assert pieces(_t("a + b ) , c + d")) == set()
    assert top_level(_t("{ a , b"), {","}) is None
    assert pieces(_t("a + b + c")) == set()


def test_spacing_and_a_final_period_never_end_a_piece() -> None:
    got = pieces(_t("a + b + c \\, , \\; d + e + f \\, ."))
    assert got == {"a + b + c", "d + e + f"}


def _rows(train: list[str], val: list[str], test: list[str]) -> list[dict[str, str]]:
    return ([{"formula": f, "split": "train"} for f in train] + [{"formula": f, "split": "val"} for f in val]
            + [{"formula": f, "split": "test"} for f in test])


def test_mix_holds_out_validation_and_test_formulas_and_their_pieces() -> None:
    favoured_formula = "a + b + c = d + e + f , \\quad x + y + z = 1"
    rows = _rows(
        train=[favoured_formula, "p + q", "r + s", "t + u"],
        val=["x + y + z = 2 , \\quad d + e + f = 3"],  # its piece d + e + f must not be trained on
        test=["a + b + c"],  # a piece of the favoured formula that is a test formula
    )
    out, counts = mix_rows(rows, {favoured_formula}, replay=2, copies=2, seed=1)
    trained = [f for f, s in out if s == "train"]
    assert "a + b + c" not in trained and "d + e + f" not in trained and "x + y + z" not in trained
    assert "a + b + c = d + e + f" in trained and "x + y + z = 1" in trained
    assert trained.count(favoured_formula) == 2
    assert [f for f, s in out if s == "val"] == ["x + y + z = 2 , \\quad d + e + f = 3"]
    assert counts == {"pieces": 2, "favoured": 1, "replay": 2, "val": 1}
    assert len(set(trained) & {"p + q", "r + s", "t + u"}) == 2


def test_cli_writes_a_formula_list_for_data_build(tmp_path) -> None:
    src = tmp_path / "formulas.tsv"
    src.write_text("formula\tsplit\timage\na + b + c = d + e + f , \\quad g + h + i = j\ttrain\t1.png\n"
                   "k + l\ttrain\t2.png\nm + n\tval\t3.png\n", encoding="utf-8")
    fav = tmp_path / "fav.tsv"
    fav.write_text("formula_idx\timage\tsplit\tformula_norm\n0\tx.png\tval\ta + b + c = d + e + f , \\quad g + h + i = j\n",
                   encoding="utf-8")
    out = tmp_path / "mix.tsv"
    assert main(["--formulas", str(src), "--favour", str(fav), "--out", str(out), "--replay", "5", "--copies", "1"]) == 0
    with open(out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert {r["split"] for r in rows} == {"train", "val"}
    assert sum(r["formula"] == "a + b + c = d + e + f" for r in rows) == 1
    assert sum(r["formula"] == "k + l" for r in rows) == 1


def test_cli_says_what_is_wrong_with_a_list_without_splits(tmp_path, capsys) -> None:
    src = tmp_path / "formulas.txt"
    src.write_text("formula\nx\n", encoding="utf-8")
    fav = tmp_path / "fav.tsv"
    fav.write_text("formula\nx\n", encoding="utf-8")
    assert main(["--formulas", str(src), "--favour", str(fav), "--out", str(tmp_path / "o.tsv")]) == 2
    assert "formula and split" in capsys.readouterr().err
