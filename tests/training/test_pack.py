"""training.pack: the compact parquet pack (no TeX needed)."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from core.errors import LatexSnipError
from training.pack import (
    PackError,
    decode_png,
    encode_png,
    main,
    read_pack,
    read_pack_meta,
    write_pack,
)


def _formula_image(seed: int, w: int = 120, h: int = 30) -> Image.Image:
    rng = np.random.default_rng(seed)
    a = np.full((h + 8, w + 8), 255, np.uint8)
    a[4 : 4 + h, 4 : 4 + w] = np.where(rng.random((h, w)) < 0.3, rng.integers(0, 256, (h, w)), 255)
    a[4, 4] = 0
    a[3 + h, 3 + w] = 0  # ink reaches the corners of the 4 px padded box
    return Image.fromarray(a, "L")


def test_encode_png_levels_and_crop() -> None:
    img = _formula_image(0)
    for levels in (2, 4, 16, 256):
        data = encode_png(img, levels)
        assert data is not None and data.startswith(b"\x89PNG")
        back = np.asarray(decode_png(data))
        assert back.shape == (30, 120)  # the 4 px white padding is cropped away
        assert len(np.unique(back)) <= levels
        step = 255 / (levels - 1)
        assert np.abs(back.astype(int) - np.asarray(img)[4:34, 4:124]).max() <= step / 2 + 1
    assert encode_png(Image.new("L", (10, 10), 255)) is None
    assert len(encode_png(img, 2)) < len(encode_png(img, 4)) < len(encode_png(img, 256))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encode_png(img, 3)


def test_write_read_roundtrip(tmp_path) -> None:
    rows = [(f"x _ {{ {i} }}", _formula_image(i)) for i in range(10)]
    rows.append(("blank", Image.new("L", (320, 64), 255)))
    meta = write_pack(
        str(tmp_path), {"train": rows[:8] + rows[10:], "val": rows[8:10]}, meta={"note": "t"}
    )
    assert meta["splits"] == {"train": 8, "val": 2} and meta["skipped_blank"] == {
        "train": 1,
        "val": 0,
    }
    assert json.loads((tmp_path / "meta.json").read_text())["note"] == "t"
    formulas, pngs = read_pack(str(tmp_path), "train")
    assert formulas == [f for f, _ in rows[:8]]
    assert all(isinstance(p, bytes) for p in pngs)
    assert Image.open(io.BytesIO(pngs[0])).size == (120, 30)
    t = pq.read_table(tmp_path / "val.parquet")
    assert t.column_names == ["formula", "png"] and str(t.schema.field("png").type) == "binary"
    assert read_pack_meta(str(tmp_path))["levels"] == 4


def test_errors(tmp_path) -> None:
    with pytest.raises(PackError, match="not a pack"):
        read_pack_meta(str(tmp_path))
    write_pack(str(tmp_path), {"train": [("a", _formula_image(1))]})
    with pytest.raises(LatexSnipError, match="no split 'test'.*have: train"):
        read_pack(str(tmp_path), "test")


def test_cli_from_saved_dataset(tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    feats = datasets.Features(
        {
            "formula": datasets.Value("string"),
            "filename": datasets.Value("string"),
            "image": datasets.Image(),
        }
    )
    imgs = []
    for i in range(3):
        canvas = Image.new("L", (320, 64), 255)
        canvas.paste(_formula_image(i, 60, 20), (0, 0))
        buf = io.BytesIO()
        canvas.save(buf, "PNG")
        imgs.append({"bytes": buf.getvalue(), "path": None})
    ds = datasets.Dataset.from_dict(
        {"formula": ["a", "b", "c"], "filename": ["1.png", "2.png", "3.png"], "image": imgs},
        features=feats,
    )
    datasets.DatasetDict({"train": ds, "test": ds.select([0])}).save_to_disk(str(tmp_path / "ds"))
    assert main(["--data", str(tmp_path / "ds"), "--out", str(tmp_path / "pack")]) == 0
    assert sorted(os.listdir(tmp_path / "pack")) == ["meta.json", "test.parquet", "train.parquet"]
    formulas, pngs = read_pack(str(tmp_path / "pack"), "train")
    assert formulas == ["a", "b", "c"] and Image.open(io.BytesIO(pngs[0])).size == (60, 20)
    assert main(["--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "p2")]) == 1
