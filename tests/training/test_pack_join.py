"""training.pack_join: train items of several packs (all or a seeded sample), one pack's val, images as stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from training.pack import read_pack, write_pack
from training.pack_join import main, parse_source


def _image(k: int) -> Image.Image:
    a = np.full((20, 40), 255, np.uint8)
    a[5:15, 2 + k % 30: 8 + k % 30] = 0
    return Image.fromarray(a)


def _pack(path: Path, name: str, n_train: int, n_val: int) -> None:
    write_pack(str(path), {"train": [(f"{name} {i}", _image(i)) for i in range(n_train)],
                           "val": [(f"{name} v{i}", _image(i)) for i in range(n_val)]})


def test_join_takes_all_of_one_pack_a_sample_of_another_and_one_val(tmp_path: Path, capsys) -> None:
    _pack(tmp_path / "a", "a", 5, 2)
    _pack(tmp_path / "b", "b", 20, 3)
    out = tmp_path / "ab"
    argv = ["--out", str(out), "--train", str(tmp_path / "a"), "--train", f"{tmp_path / 'b'}:7", "--seed", "4"]
    assert main(argv) == 0
    formulas, pngs = read_pack(str(out), "train")
    assert formulas[:5] == [f"a {i}" for i in range(5)]
    picked = formulas[5:]
    assert len(picked) == 7 == len(set(picked)) and all(f.startswith("b ") for f in picked)
    b_formulas, b_pngs = read_pack(str(tmp_path / "b"), "train")
    assert all(pngs[5 + j] == b_pngs[b_formulas.index(f)] for j, f in enumerate(picked))  # images as stored
    assert read_pack(str(out), "val")[0] == ["a v0", "a v1"]  # the first pack's val by default
    meta = json.loads((out / "meta.json").read_text())
    assert meta["splits"] == {"train": 12, "val": 2} and meta["train_sources"][1]["items"] == 7
    assert "wrote" in capsys.readouterr().out
    again = tmp_path / "ab2"
    assert main([*argv[:1], str(again), *argv[2:]]) == 0
    assert read_pack(str(again), "train")[0] == formulas  # the same sample for the same seed
    assert main(["--out", str(tmp_path / "c"), "--train", str(tmp_path / "a"), "--val", str(tmp_path / "b")]) == 0
    assert read_pack(str(tmp_path / "c"), "val")[0] == ["b v0", "b v1", "b v2"]


def test_bad_sources_get_a_clear_error(tmp_path: Path, capsys) -> None:
    _pack(tmp_path / "a", "a", 3, 1)
    assert main(["--out", str(tmp_path / "x"), "--train", f"{tmp_path / 'a'}:10"]) == 2
    assert "has only 3 train items" in capsys.readouterr().err
    assert main(["--out", str(tmp_path / "x"), "--train", str(tmp_path / "missing")]) == 2
    assert "not a pack directory" in capsys.readouterr().err
    assert parse_source("data/p:12") == ("data/p", 12) and parse_source("C:/data/p") == ("C:/data/p", None)
