"""training.data_load: every accepted source gives the same columns (no TeX needed)."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from core.errors import LatexSnipError
from training.data_load import available_splits, load_im2latex
from training.pack import write_pack

datasets = pytest.importorskip("datasets")


def _png(w: int, h: int, seed: int) -> bytes:
    a = np.full((64, 320), 255, np.uint8)
    a[4 : 4 + h, 4 : 4 + w] = np.random.default_rng(seed).integers(0, 200, (h, w))
    buf = io.BytesIO()
    Image.fromarray(a, "L").save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def tiny() -> datasets.DatasetDict:
    feats = datasets.Features(
        {
            "formula": datasets.Value("string"),
            "filename": datasets.Value("string"),
            "image": datasets.Image(),
        }
    )

    def split(n: int, off: int) -> datasets.Dataset:
        return datasets.Dataset.from_dict(
            {
                "formula": [f"x _ {{ {i + off} }}" for i in range(n)],
                "filename": [f"{i + off:010d}.png" for i in range(n)],
                "image": [{"bytes": _png(30 + i, 10 + i, i + off), "path": None} for i in range(n)],
            },
            features=feats,
        )

    return datasets.DatasetDict({"train": split(5, 0), "val": split(3, 100), "test": split(2, 200)})


def _check(ds, n: int, first: str) -> None:
    assert set(ds.column_names) >= {"formula", "filename", "image"}
    assert len(ds) == n and ds[0]["formula"] == first
    img = ds[0]["image"]
    assert isinstance(img, Image.Image) and img.size == (320, 64)


def test_save_to_disk_dict_and_dataset(tiny, tmp_path) -> None:
    tiny.save_to_disk(str(tmp_path / "dd"))
    _check(load_im2latex(str(tmp_path / "dd"), "train"), 5, "x _ { 0 }")
    _check(load_im2latex(str(tmp_path / "dd"), "validation"), 3, "x _ { 100 }")  # alias of val
    assert available_splits(str(tmp_path / "dd")) == ["train", "val", "test"]
    tiny["test"].save_to_disk(str(tmp_path / "one"))
    _check(load_im2latex(str(tmp_path / "one"), "test"), 2, "x _ { 200 }")
    with pytest.raises(LatexSnipError, match="no split 'nope'"):
        load_im2latex(str(tmp_path / "dd"), "nope")


def test_parquet_dir(tiny, tmp_path) -> None:
    for name, ds in tiny.items():
        ds.to_parquet(str(tmp_path / f"{name}.parquet"))
    _check(load_im2latex(str(tmp_path), "train"), 5, "x _ { 0 }")
    _check(load_im2latex(str(tmp_path), "val"), 3, "x _ { 100 }")
    with pytest.raises(LatexSnipError, match="no parquet files for split 'dev'"):
        load_im2latex(str(tmp_path), "dev")


def test_pack_dir(tiny, tmp_path) -> None:
    write_pack(str(tmp_path), {s: ((r["formula"], r["image"]) for r in tiny[s]) for s in tiny})
    ds = load_im2latex(str(tmp_path), "val")
    _check(ds, 3, "x _ { 100 }")
    a = np.asarray(ds[0]["image"])
    ys, xs = np.nonzero(a < 255)
    assert ys.min() == 4 and xs.min() == 4  # ink back at (4, 4) as in the hub images


def test_bad_sources(tmp_path) -> None:
    with pytest.raises(LatexSnipError, match="no such directory"):
        load_im2latex(str(tmp_path / "missing" / "deeper"), "train")
    with pytest.raises(LatexSnipError, match="not a dataset directory"):
        load_im2latex(str(tmp_path), "train")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(LatexSnipError, match="is a file"):
        load_im2latex(str(tmp_path / "f.txt"), "train")


def test_hub_offline_fails_fast(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.delenv("HF_DATASETS_CACHE", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    t = time.monotonic()
    with pytest.raises(LatexSnipError, match="latexsnip data build"):
        load_im2latex("yuntian-deng/im2latex-100k", "train")
    assert time.monotonic() - t < 10
