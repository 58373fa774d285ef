"""training.data_build: formulas -> DatasetDict + build report (+ pack); needs TeX Live."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest

from training.data_build import main as data_build_main
from training.data_build import read_formulas
from training.data_load import load_im2latex
from training.pack import read_pack

needs_tex = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("gs") is None,
    reason="needs pdflatex and ghostscript",
)

TRAIN = [
    "x ^ { 2 } + y ^ { 2 } = z ^ { 2 }",
    "\\frac { a } { b }",
    "\\alpha + \\beta",
    "\\sum _ { n = 1 } ^ { N } n",
    "\\sqrt { 2 }",
    "E = m c ^ { 2 }",
    "x + \\undefinedcommandxyz",  # TeX error
    " + ".join(f"x _ {{ {i} }}" for i in range(60)),  # too wide for 320x64
    "\\int _ { 0 } ^ { 1 } f ( x ) d x",
    "\\frac { a } { b",  # rejected: unbalanced braces
    "a _ { i j }",
    "\\mathbb { R }",
]
VAL = ["\\hat { N } _ { 3 }", "\\bar { \\psi } \\psi", "( a + b ) ^ { 2 }", "\\gamma ^ { \\mu }"]


def _tsv(path, gz: bool = False) -> str:
    lines = ["formula_idx\tformula_norm\tsplit\timage"]
    lines += [f"{i}\t{f}\ttrain\t" for i, f in enumerate(TRAIN)]
    lines += [f"{100 + i}\t{f}\tval\tv{i:09d}.png" for i, f in enumerate(VAL)]
    text = "\n".join(lines) + "\n"
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def test_read_formulas_variants(tmp_path) -> None:
    rows = read_formulas(_tsv(tmp_path / "f.tsv.gz", gz=True))
    assert [r.split for r in rows].count("train") == len(TRAIN) and rows[
        -1
    ].filename == "v000000003.png"
    assert len(read_formulas(_tsv(tmp_path / "f.tsv"), split="val")) == len(VAL)
    (tmp_path / "plain.txt").write_text("a\n\nb + c\n", encoding="utf-8")
    rows = read_formulas(str(tmp_path / "plain.txt"), split="test")
    assert [(r.formula, r.split) for r in rows] == [("a", "test"), ("b + c", "test")]


@needs_tex
@pytest.mark.tex
def test_build_end_to_end(tmp_path, capsys) -> None:
    src = _tsv(tmp_path / "f.tsv")
    out = tmp_path / "ds"
    argv = [
        "--formulas",
        src,
        "--out",
        str(out),
        "--workers",
        "2",
        "--pack",
        str(tmp_path / "pack"),
        "--chunk-size",
        "5",
    ]
    assert data_build_main(argv) == 0
    report = json.loads((out / "build_report.json").read_text())
    tr, va = report["splits"]["train"], report["splits"]["val"]
    assert tr["requested"] == len(TRAIN) and va["requested"] == len(VAL)
    assert (tr["rendered"], tr["too_big"], tr["tex_error"], tr["rejected"]) == (9, 1, 1, 1)
    assert va["rendered"] == len(VAL)
    reasons = {f["formula"]: f["reason"] for f in report["failures"]}
    assert reasons[TRAIN[6]].startswith("tex_error") and reasons[TRAIN[7]].startswith("too_big")
    assert "rendered" in capsys.readouterr().out  # the report is printed

    ds = load_im2latex(str(out), "train")
    assert ds.column_names == ["formula", "filename", "image"] and len(ds) == 9
    row = ds[0]
    assert (
        row["formula"] == TRAIN[0] and row["image"].size == (320, 64) and row["image"].mode == "L"
    )
    a = np.asarray(row["image"])
    ys, xs = np.nonzero(a < 128)
    assert ys.min() >= 3 and xs.min() >= 3  # processed image at the top-left: ink from (4, 4)
    val = load_im2latex(str(out), "val")
    assert val["filename"] == [f"v{i:09d}.png" for i in range(len(VAL))]
    formulas, pngs = read_pack(str(tmp_path / "pack"), "train")
    assert formulas == ds["formula"] and len(pngs) == 9

    # rerun: every chunk comes from the cache, same result
    first = [np.asarray(im).tobytes() for im in ds["image"]]
    assert data_build_main(argv) == 0
    assert "cached chunk" in capsys.readouterr().out
    again = load_im2latex(str(out), "train")
    assert [np.asarray(im).tobytes() for im in again["image"]] == first


@needs_tex
@pytest.mark.tex
def test_build_plain_list_limit_normalize(tmp_path) -> None:
    pytest.importorskip("core.normalize")
    (tmp_path / "raw.txt").write_text("x^2\n\\frac12\na_{ij}\nb\n", encoding="utf-8")
    out = tmp_path / "ds"
    assert (
        data_build_main(
            [
                "--formulas",
                str(tmp_path / "raw.txt"),
                "--out",
                str(out),
                "--split",
                "test",
                "--limit",
                "3",
                "--normalize",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    ds = load_im2latex(str(out), "test")
    assert ds["formula"][0] == "x ^ { 2 }" and len(ds) == 3


def test_bad_input(tmp_path, capsys) -> None:
    assert (
        data_build_main(["--formulas", str(tmp_path / "missing.tsv"), "--out", str(tmp_path / "o")])
        == 1
    )
    assert "no such formula file" in capsys.readouterr().err
    assert (
        data_build_main(
            ["--formulas", _tsv(tmp_path / "f.tsv"), "--out", str(tmp_path / "o"), "--fit", "big"]
        )
        == 1
    )
