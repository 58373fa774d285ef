"""training.int8_ranges: the ResNet body's int8 ranges measured on a pack and stored in the checkpoint,
weights untouched; the app then reads with an int8 body."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core import int8
from core.checkpoint import load_checkpoint, save_checkpoint
from core.recognizer import Recognizer
from tests.core.helpers import FORMULAS, draw, train_tiny
from training import int8_ranges
from training.pack import write_pack

needs_int8 = pytest.mark.skipif(
    not any(e in torch.backends.quantized.supported_engines for e in int8.BODY_ENGINES),
    reason="no x86 quantised-kernel engine in this torch build",
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("int8_ranges")
    ckpt = train_tiny(d / "in.safetensors", steps=1)
    ckpt.provenance, ckpt.metrics = {"steps": 3}, {"val_bleu": 1.0}
    save_checkpoint(d / "in.safetensors", ckpt)
    rows = [(f, draw(f)) for f in FORMULAS]
    write_pack(str(d / "pack"), {"train": rows, "val": rows[:3]})
    return d / "in.safetensors", d / "pack"


def test_spread_picks_evenly_and_keeps_short_lists() -> None:
    items = [bytes([i]) for i in range(10)]
    assert int8_ranges.spread(items, 5) == [items[0], items[2], items[4], items[6], items[8]]
    assert int8_ranges.spread(items[:3], 5) == items[:3]


@needs_int8
def test_ranges_are_stored_and_read_by_an_int8_body(tiny: tuple[Path, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    src, pack = tiny
    out = tmp_path / "out.safetensors"
    assert int8_ranges.main([str(src), "--data", str(pack), "-n", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "relative error" in printed and f"wrote {out}" in printed
    old, new = load_checkpoint(src), load_checkpoint(out)
    assert all(torch.equal(v, new.state_dict[k]) for k, v in old.state_dict.items())  # weights untouched
    assert new.metrics == old.metrics and new.provenance["steps"] == 3
    record = new.provenance["int8_body"]
    assert record["canvases"] == 8 and record["augment"] and record["split"] == "train" and record["check"]["images"] == 3
    assert 0 <= record["check"]["relative_error"] < 0.5
    assert new.int8_body and all(s > 0 and 0 <= z <= 255 for s, z in new.int8_body.values())

    q, fp32 = Recognizer.load(out, "cpu", int8=True), Recognizer.load(out, "cpu", int8=False)
    assert q.int8_body and q.encoder_precision == "int8"
    assert not fp32.int8_body and fp32.encoder_precision in ("float32", "bfloat16")
    image = draw(FORMULAS[0])
    assert q.recognize(image).score == pytest.approx(fp32.recognize(image).score, abs=0.1)


def test_no_readable_images_is_a_one_line_error(tiny: tuple[Path, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    src, pack = tiny
    assert int8_ranges.main([str(src), "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


@needs_int8
def test_a_missing_check_split_is_a_note_not_an_error(tiny: tuple[Path, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    src, pack = tiny
    out = tmp_path / "out.safetensors"
    assert int8_ranges.main([str(src), "--data", str(pack), "-n", "2", "--augment", "off", "--check-split", "test",
                             "--out", str(out)]) == 0
    assert "note: not checked" in capsys.readouterr().err
    new = load_checkpoint(out)
    assert new.int8_body and "check" not in new.provenance["int8_body"] and not new.provenance["int8_body"]["augment"]
