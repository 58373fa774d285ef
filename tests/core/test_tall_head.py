"""A checkpoint with a tall head beside its wide head: taller canvases go to the tall head, wider ones of the
normal height to the wide head, the rest to the main head."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.checkpoint import TALL_PREFIX, is_head_tensor, load_checkpoint, save_checkpoint
from core.errors import CheckpointError
from core.recognizer import Recognizer
from core.vocab import EOS_ID
from tests.core.helpers import draw, with_wide_head

LONG = "1 + 2 = 3 + x + 1 + 2 = 3"  # wider than the tiny canvas (128 px) at 0.9 of its size


def _stacked(text: str, rows: int) -> Image.Image:
    line = draw(text)
    im = Image.new("L", (line.width, rows * line.height), 255)
    for i in range(rows):
        im.paste(line, (0, i * line.height))
    return im


@pytest.fixture(scope="module")
def three_heads(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Main head as trained, a wide head that says <eos> at once, a tall head that is the main one again."""
    two = with_wide_head(load_checkpoint(tiny_weights))
    state = dict(two.state_dict)
    for k, v in load_checkpoint(tiny_weights).state_dict.items():
        if is_head_tensor(k):
            state[TALL_PREFIX + k] = v.clone()
    pre = dataclasses.replace(two.preprocess, max_height=2 * two.preprocess.height)
    path = tmp_path_factory.mktemp("tall") / "three.safetensors"
    save_checkpoint(path, dataclasses.replace(two, state_dict=state, preprocess=pre))
    return path


def test_each_canvas_goes_to_its_head(three_heads: Path) -> None:
    rec = Recognizer.load(three_heads, "cpu")
    assert rec.tall_model is not None and rec.wide_model is not None
    assert rec.tall_model.encoder.body is rec.model.encoder.body  # one copy of the shared body
    pre = rec.preprocess_config
    short, long, tall = draw("x + 1"), draw(LONG), _stacked("x + 1", 3)
    out = rec.recognize_batch([tall, short, long, tall])
    assert out[0].model_input.shape[0] > pre.height and out[0].latex != ""  # the tall head reads it
    assert out[0].latex == out[3].latex
    assert out[1].latex == "x + 1" and out[1].model_input.shape[0] == pre.height  # the main head
    assert out[1].model_input.shape[1] <= pre.width
    assert out[2].model_input.shape[0] == pre.height and out[2].model_input.shape[1] > pre.width
    assert out[2].latex == ""  # the wide head (<eos> at once) still reads the wider canvases
    # without the tall head the same tall snip goes to the wide head
    ckpt = load_checkpoint(three_heads)
    assert ckpt.has_tall_head and ckpt.build_model("tall") is not None
    two = dataclasses.replace(ckpt, state_dict={k: v for k, v in ckpt.state_dict.items() if not k.startswith(TALL_PREFIX)})
    assert Recognizer(two, "cpu").recognize(tall).latex == ""


def test_tall_head_needs_the_tall_rule(three_heads: Path, tmp_path: Path) -> None:
    ckpt = load_checkpoint(three_heads)
    never = dataclasses.replace(ckpt, preprocess=dataclasses.replace(ckpt.preprocess, max_height=0))
    save_checkpoint(tmp_path / "never.safetensors", never)
    with pytest.raises(CheckpointError, match="has a tall head but its preprocessing never makes a canvas taller"):
        load_checkpoint(tmp_path / "never.safetensors")
    broken = dict(ckpt.state_dict)
    broken[TALL_PREFIX + "decoder.out.bias"] = torch.zeros(3)
    save_checkpoint(tmp_path / "broken.safetensors", dataclasses.replace(ckpt, state_dict=broken))
    with pytest.raises(CheckpointError, match=r"tall.decoder.out.bias has shape \(3,\)"):
        Recognizer.load(tmp_path / "broken.safetensors", "cpu")
    with pytest.raises(ValueError, match="unknown head 'deep'"):
        ckpt.build_model("deep")


def _with_tall_eos(path: Path, out: Path, eos_logit: float, tall_also_shrunk: bool) -> Path:
    """The three-head checkpoint with a tall head that ends every formula at once, as sure of it as
    ``eos_logit`` over the other tokens' 0 makes it."""
    ckpt = load_checkpoint(path)
    state = dict(ckpt.state_dict)
    state[TALL_PREFIX + "decoder.out.weight"] = torch.zeros_like(state["decoder.out.weight"])
    bias = torch.zeros_like(state["decoder.out.bias"])
    bias[EOS_ID] = eos_logit
    state[TALL_PREFIX + "decoder.out.bias"] = bias
    pre = dataclasses.replace(ckpt.preprocess, tall_also_shrunk=tall_also_shrunk)
    save_checkpoint(out, dataclasses.replace(ckpt, state_dict=state, preprocess=pre))
    return out


def test_tall_snip_also_read_shrunk_keeps_the_more_confident(three_heads: Path, tmp_path: Path) -> None:
    tall = _stacked("x + 1", 3)
    shrunk = Recognizer.load(three_heads, "cpu")
    flat = dataclasses.replace(shrunk.preprocess_config, max_height=0)
    shrunk.preprocess_config = flat
    as_shrunk = shrunk.recognize(tall)  # what a checkpoint without the tall rule reads
    assert as_shrunk.latex != "" and as_shrunk.model_input.shape[0] == flat.height
    # an unsure tall head (<eos> barely ahead of every other token)
    unsure = _with_tall_eos(three_heads, tmp_path / "unsure.safetensors", 0.5, tall_also_shrunk=False)
    alone = Recognizer.load(unsure, "cpu").recognize(tall)
    assert alone.latex == "" and alone.model_input.shape[0] > flat.height
    assert alone.score < as_shrunk.score
    both = Recognizer.load(_with_tall_eos(three_heads, tmp_path / "both.safetensors", 0.5, tall_also_shrunk=True), "cpu")
    out = both.recognize_batch([tall, draw("x + 1"), tall], beam=2)
    assert [p.latex for p in out] == [as_shrunk.latex, "x + 1", as_shrunk.latex]
    assert out[0].model_input.shape[0] == flat.height and out[0].score == pytest.approx(as_shrunk.score, abs=1e-2)
    # a sure tall head keeps its reading
    sure = Recognizer.load(_with_tall_eos(three_heads, tmp_path / "sure.safetensors", 10.0, tall_also_shrunk=True), "cpu")
    kept = sure.recognize(tall)
    assert kept.latex == "" and kept.model_input.shape[0] > flat.height
    # ... unless it must beat the shrunk reading by a margin wider than the whole score range
    sure.preprocess_config = dataclasses.replace(sure.preprocess_config, tall_margin=100.0)
    assert sure.recognize(tall).latex == as_shrunk.latex


class _Draws:
    """A renderer that draws ``target`` as the snip itself and every other text as something else."""

    def __init__(self, snip: Image.Image, target: str) -> None:
        self.snip, self.target = snip, target
        self.seen: list[str] = []

    def __call__(self, texts: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        self.seen.extend(texts)
        other = np.asarray(draw("1 + 2 = 3 = 3"))
        return [np.asarray(self.snip) if t == self.target else other for t in texts]


def test_tall_render_both_lets_the_render_check_choose_between_the_heads(three_heads: Path, tmp_path: Path) -> None:
    tall = _stacked("x + 1", 3)
    shrunk = Recognizer.load(three_heads, "cpu")
    shrunk.preprocess_config = dataclasses.replace(shrunk.preprocess_config, max_height=0)
    as_shrunk = shrunk.recognize(tall).latex
    # a sure tall head (<eos> at once): the margin keeps its reading, and the check sees only its hypotheses
    sure = Recognizer.load(_with_tall_eos(three_heads, tmp_path / "sure.safetensors", 10.0, tall_also_shrunk=True), "cpu")
    sure.preprocess_config = dataclasses.replace(sure.preprocess_config, retry_glyph_heights=())
    renderer = _Draws(tall, as_shrunk)
    assert sure.recognize(tall, beam=2, renderer=renderer).latex == "" and as_shrunk not in renderer.seen
    # with tall_render_both the shrunk reading is a candidate too, and it draws the snip
    sure.preprocess_config = dataclasses.replace(sure.preprocess_config, tall_render_both=True)
    both = sure.recognize(tall, beam=2, renderer=_Draws(tall, as_shrunk))
    assert both.latex == as_shrunk and both.render_distance == 0.0 and both.first_choice == ""
    # where no candidate draws it, the reading the margin prefers stays
    assert sure.recognize(tall, beam=2, renderer=_Draws(tall, "nothing of these")).latex == ""
    # without a renderer the setting changes nothing
    assert sure.recognize(tall, beam=2).latex == ""
