"""A checkpoint with a wide head: snips on a wider canvas are read by it, the rest by the main head."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from PIL import Image

from core.checkpoint import WIDE_PREFIX, load_checkpoint, save_checkpoint
from core.errors import CheckpointError
from core.recognizer import Recognizer
from tests.core.helpers import draw, with_wide_head

LONG = "1 + 2 = 3 + x + 1 + 2 = 3"  # wider than the tiny canvas (128 px) at 0.9 of its size


@pytest.fixture(scope="module")
def two_heads(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("heads")
    base = load_checkpoint(tiny_weights)
    one = dataclasses.replace(base, preprocess=dataclasses.replace(base.preprocess, max_width=256, min_fit_scale=0.9,
                                                                   trim_multiple=32))
    save_checkpoint(d / "one.safetensors", one)
    save_checkpoint(d / "two.safetensors", with_wide_head(base))
    return d / "one.safetensors", d / "two.safetensors"


def test_wide_snips_are_read_by_the_wide_head(two_heads: tuple[Path, Path]) -> None:
    one, two = Recognizer.load(two_heads[0], "cpu"), Recognizer.load(two_heads[1], "cpu")
    assert one.wide_model is None and two.wide_model is not None
    assert two.wide_model.encoder.body is two.model.encoder.body  # one copy of the shared body
    short, long = draw("x + 1"), draw(LONG)
    assert one.recognize(long).model_input.shape[1] > 128  # the canvas rule makes it wide
    assert one.recognize(long).latex != ""
    both = two.recognize_batch([short, long, short])
    assert both[1].latex == "" and both[1].tokens == []  # the wide head: <eos> at once
    assert both[0].latex == both[2].latex == one.recognize(short).latex == "x + 1"  # the main head, unchanged
    assert both[1].model_input.shape[1] > 128 and both[0].model_input.shape[1] <= 128
    assert two.recognize_batch([long], beam=3)[0].latex == ""


def test_tall_snips_are_read_by_the_wide_head(two_heads: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt = load_checkpoint(two_heads[1])
    pre = dataclasses.replace(ckpt.preprocess, max_width=0, max_height=2 * ckpt.preprocess.height, min_fit_scale=0.9)
    save_checkpoint(tmp_path / "tall.safetensors", dataclasses.replace(ckpt, preprocess=pre))
    rec = Recognizer.load(tmp_path / "tall.safetensors", "cpu")
    short = draw("x + 1")
    tall = Image.new("L", (short.width, 3 * short.height), 255)
    for i in range(3):
        tall.paste(short, (0, i * short.height))
    both = rec.recognize_batch([short, tall])
    assert both[1].model_input.shape[0] > pre.height and both[1].latex == ""  # taller canvas: the wide head
    assert both[0].model_input.shape[0] == pre.height and both[0].latex == "x + 1"


def test_build_model_picks_the_head(two_heads: tuple[Path, Path]) -> None:
    ckpt = load_checkpoint(two_heads[1])
    assert ckpt.has_wide_head
    main, wide = ckpt.build_model(), ckpt.build_model("wide")
    assert float(main.decoder.out.weight.detach().abs().sum()) > 0 and float(wide.decoder.out.weight.detach().abs().sum()) == 0
    torch.testing.assert_close(main.encoder.body[0].weight, wide.encoder.body[0].weight)
    with pytest.raises(CheckpointError, match="no wide head"):
        load_checkpoint(two_heads[0]).build_model("wide")


def test_broken_wide_heads_are_refused(tiny_weights: Path, tmp_path: Path) -> None:
    two = with_wide_head(load_checkpoint(tiny_weights))
    missing = dict(two.state_dict)
    del missing[WIDE_PREFIX + "decoder.lstm.weight_hh"]
    save_checkpoint(tmp_path / "missing.safetensors", dataclasses.replace(two, state_dict=missing))
    with pytest.raises(CheckpointError, match="missing tensor wide.decoder.lstm.weight_hh"):
        Recognizer.load(tmp_path / "missing.safetensors")
    # a head may hold its own copy of body tensors (core.checkpoint), but only of tensors the body has, in its shapes
    unknown = {**two.state_dict, WIDE_PREFIX + "encoder.body.9.weight": two.state_dict["encoder.body.0.weight"].clone()}
    save_checkpoint(tmp_path / "unknown.safetensors", dataclasses.replace(two, state_dict=unknown))
    with pytest.raises(CheckpointError, match=r"unexpected tensors \['wide.encoder.body.9.weight'\]"):
        Recognizer.load(tmp_path / "unknown.safetensors")
    shape = {**two.state_dict, WIDE_PREFIX + "encoder.body.0.weight": torch.zeros(2, 2)}
    save_checkpoint(tmp_path / "shape.safetensors", dataclasses.replace(two, state_dict=shape))
    with pytest.raises(CheckpointError, match=r"wide.encoder.body.0.weight has shape \(2, 2\)"):
        Recognizer.load(tmp_path / "shape.safetensors")
    never = dataclasses.replace(two, preprocess=dataclasses.replace(two.preprocess, max_width=0))
    save_checkpoint(tmp_path / "never.safetensors", never)
    with pytest.raises(CheckpointError, match="never makes a canvas larger"):
        load_checkpoint(tmp_path / "never.safetensors")
