"""training.canvas_subset: the items of a pack split preprocessing puts on a taller canvas, with their indices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from training.canvas_subset import main
from training.pack import read_pack, write_pack

WEIGHTS = str(Path(__file__).resolve().parents[2] / "resources" / "weights" / "default.safetensors")


def _glyph_rows(rows: int, cols: int = 6) -> Image.Image:
    """``rows`` rows of ``cols`` glyph-sized blocks: one row of six fits 64 x 320 px, four rows need a taller canvas,
    one row of 40 a wider one."""
    a = np.full((rows * 24 + 8, cols * 14 + 8), 255, np.uint8)
    for r in range(rows):
        for c in range(cols):
            a[4 + r * 24: 18 + r * 24, 4 + c * 14: 13 + c * 14] = 0
    return Image.fromarray(a)


def test_writes_the_tall_items_with_their_indices(tmp_path: Path, capsys) -> None:
    rows = [1, 4, 1, 6, 2]
    write_pack(str(tmp_path / "p"), {"test": [(f"f{i}", _glyph_rows(r)) for i, r in enumerate(rows)]})
    out = tmp_path / "tall"
    assert main(["--pack", str(tmp_path / "p"), "--weights", WEIGHTS, "--out", str(out)]) == 0
    assert "2 of 5 test items" in capsys.readouterr().out
    formulas, pngs = read_pack(str(out), "test")
    assert formulas == ["f1", "f3"]
    assert pngs == [read_pack(str(tmp_path / "p"), "test")[1][i] for i in (1, 3)]  # images as stored
    assert json.loads((out / "meta.json").read_text())["indices"] == [1, 3]
    none = tmp_path / "none"
    assert main(["--pack", str(tmp_path / "p"), "--weights", WEIGHTS, "--out", str(none),
                 "--preprocess", '{"max_height": 0}']) == 0  # no taller canvas at all
    assert read_pack(str(none), "test")[0] == []


def test_wider_writes_the_wide_heads_items(tmp_path: Path, capsys) -> None:
    shapes = [(1, 6), (1, 40), (4, 6), (1, 40), (6, 40)]
    write_pack(str(tmp_path / "p"), {"test": [(f"f{i}", _glyph_rows(*rc)) for i, rc in enumerate(shapes)]})
    for canvas, kept in (("wider", [1, 3]), ("taller", [2, 4]), ("larger", [1, 2, 3, 4])):
        out = tmp_path / canvas
        assert main(["--pack", str(tmp_path / "p"), "--weights", WEIGHTS, "--out", str(out), "--canvas", canvas]) == 0
        assert f"on a {canvas} canvas" in capsys.readouterr().out
        assert json.loads((out / "meta.json").read_text())["indices"] == kept
        assert read_pack(str(out), "test")[0] == [f"f{i}" for i in kept]


def test_bad_input_gets_a_clear_error(tmp_path: Path, capsys) -> None:
    write_pack(str(tmp_path / "p"), {"test": [("f", _glyph_rows(1))]})
    assert main(["--pack", str(tmp_path / "p"), "--weights", WEIGHTS, "--out", str(tmp_path / "o"),
                 "--preprocess", '{"no_such": 1}']) == 2
    assert "no setting 'no_such'" in capsys.readouterr().err
    assert main(["--pack", str(tmp_path / "p"), "--weights", str(tmp_path / "missing.safetensors"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "weights file not found" in capsys.readouterr().err
