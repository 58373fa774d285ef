"""training.wide_pack: keeps exactly the items a checkpoint's canvas rules put on a larger canvas."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PIL import Image

from core.checkpoint import load_checkpoint, save_checkpoint
from tests.core.helpers import draw, train_tiny
from training import wide_pack
from training.pack import read_pack, write_pack

LONG = ["1 + 2 = 3 + x + 1 + 2 = 3", "a = b + y - 2 + k - 1 + 2 = 3"]
SHORT = ["x + 1", "a = b", "k > 0"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("wide")
    ckpt = train_tiny(d / "w.safetensors", steps=1)
    pre = dataclasses.replace(ckpt.preprocess, max_width=256, min_fit_scale=0.9, trim_multiple=32)
    save_checkpoint(d / "w.safetensors", dataclasses.replace(ckpt, preprocess=pre))
    rows = [(f, draw(f)) for f in SHORT + LONG]
    write_pack(str(d / "pack"), {"train": rows * 2, "val": rows})
    return d / "w.safetensors", d / "pack"


def test_keeps_the_wide_items(setup: tuple[Path, Path], tmp_path: Path) -> None:
    weights, pack = setup
    out = tmp_path / "widehead"
    assert wide_pack.main(["--pack", str(pack), "--weights", str(weights), "--out", str(out), "--workers", "1"]) == 0
    train, _ = read_pack(str(out), "train")
    val, _ = read_pack(str(out), "val")
    assert sorted(train) == sorted(LONG * 2) and sorted(val) == sorted(LONG)


def test_keeps_the_tall_items_when_the_rule_has_a_max_height(setup: tuple[Path, Path], tmp_path: Path) -> None:
    weights, _ = setup
    ckpt = load_checkpoint(weights)
    pre = dataclasses.replace(ckpt.preprocess, max_width=0, max_height=2 * ckpt.preprocess.height)
    save_checkpoint(tmp_path / "tall.safetensors", dataclasses.replace(ckpt, preprocess=pre))
    line = draw("x + 1")
    stacked = Image.new("L", (line.width, 3 * line.height), 255)
    for i in range(3):
        stacked.paste(line, (0, i * line.height))
    rows = [(f, draw(f)) for f in SHORT] + [("x + 1 \\\\ x + 1 \\\\ x + 1", stacked)]
    write_pack(str(tmp_path / "pack"), {"train": rows, "val": rows})
    out = tmp_path / "tallhead"
    argv = ["--pack", str(tmp_path / "pack"), "--weights", str(tmp_path / "tall.safetensors"), "--out", str(out),
            "--workers", "1"]
    assert wide_pack.main(argv) == 0
    assert read_pack(str(out), "train")[0] == [rows[-1][0]] == read_pack(str(out), "val")[0]


def test_canvas_picks_taller_or_only_wider(setup: tuple[Path, Path], tmp_path: Path) -> None:
    weights, _ = setup
    ckpt = load_checkpoint(weights)
    pre = dataclasses.replace(ckpt.preprocess, max_height=2 * ckpt.preprocess.height)  # wide and tall rules
    save_checkpoint(tmp_path / "both.safetensors", dataclasses.replace(ckpt, preprocess=pre))
    line = draw("x + 1")
    stacked = Image.new("L", (line.width, 3 * line.height), 255)
    for i in range(3):
        stacked.paste(line, (0, i * line.height))
    tall = "x + 1 \\\\ x + 1 \\\\ x + 1"
    rows = [(f, draw(f)) for f in SHORT + LONG] + [(tall, stacked)]
    write_pack(str(tmp_path / "pack"), {"train": rows, "val": rows})
    kept = {}
    for canvas in wide_pack.CANVASES:
        out = tmp_path / canvas
        argv = ["--pack", str(tmp_path / "pack"), "--weights", str(tmp_path / "both.safetensors"), "--out", str(out),
                "--workers", "1", "--canvas", canvas]
        assert wide_pack.main(argv) == 0
        kept[canvas] = sorted(read_pack(str(out), "train")[0])
        assert kept[canvas] == sorted(read_pack(str(out), "val")[0])
    assert kept == {"larger": sorted([*LONG, tall]), "wider": sorted(LONG), "taller": [tall]}


def test_weights_without_a_wide_canvas_are_refused(setup: tuple[Path, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    weights, pack = setup
    ckpt = load_checkpoint(weights)
    save_checkpoint(tmp_path / "narrow.safetensors",
                    dataclasses.replace(ckpt, preprocess=dataclasses.replace(ckpt.preprocess, max_width=0)))
    argv = ["--pack", str(pack), "--weights", str(tmp_path / "narrow.safetensors"), "--out", str(tmp_path / "o")]
    assert wide_pack.main(argv) == 2
    assert "never makes a canvas larger" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
