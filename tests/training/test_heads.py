"""training.heads: join a main checkpoint and a wide one that share a body; mismatches are one-line errors."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import torch

from core.checkpoint import (
    TALL_PREFIX,
    WIDE_PREFIX,
    Checkpoint,
    is_head_tensor,
    load_checkpoint,
    save_checkpoint,
)
from core.recognizer import Recognizer
from tests.core.helpers import train_tiny
from training import heads
from training.provenance import expand


def wide_variant(ckpt: Checkpoint, **pre: object) -> Checkpoint:
    """``ckpt`` with its head changed (as --freeze-stages 3 training would) and a wide canvas rule."""
    state = {k: (v + 0.01 if is_head_tensor(k) and v.is_floating_point() else v) for k, v in ckpt.state_dict.items()}
    settings = {"max_width": 256, "min_fit_scale": 0.9, **pre}
    return dataclasses.replace(ckpt, state_dict=state, preprocess=dataclasses.replace(ckpt.preprocess, **settings),
                               provenance={"steps": 7})


@pytest.fixture(scope="module")
def main_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("heads") / "main.safetensors"
    train_tiny(path, steps=2)
    return path


def test_join_adds_the_wide_head(main_ckpt: Path, tmp_path: Path) -> None:
    main = load_checkpoint(main_ckpt)
    save_checkpoint(tmp_path / "wide.safetensors", wide_variant(main))
    main.int8_body = {"activation_post_process_0": [0.01, 0]}  # the body's int8 ranges go with the body
    save_checkpoint(tmp_path / "main.safetensors", main)
    main_ckpt = tmp_path / "main.safetensors"
    out = tmp_path / "joined.safetensors"
    argv = [str(main_ckpt), str(tmp_path / "wide.safetensors"), "--out", str(out), "--metrics", '{"val_bleu": 1.0}']
    assert heads.main(argv) == 0
    joined, wide = load_checkpoint(out), load_checkpoint(tmp_path / "wide.safetensors")
    assert joined.has_wide_head and joined.preprocess == wide.preprocess and joined.metrics == {"val_bleu": 1.0}
    assert expand(joined.provenance)["wide_head"]["provenance"] == {"steps": 7}  # kept once, by key
    assert joined.int8_body == main.int8_body
    for k, v in main.state_dict.items():
        assert torch.equal(joined.state_dict[k], v)  # the main model unchanged
        if is_head_tensor(k):
            assert torch.equal(joined.state_dict[WIDE_PREFIX + k], wide.state_dict[k])
        else:
            assert WIDE_PREFIX + k not in joined.state_dict  # the body is stored once
    Recognizer.load(out, "cpu")
    # joining again with a joined file as MAIN replaces its wide head instead of failing
    assert heads.main([str(out), str(tmp_path / "wide.safetensors"), "--out", str(tmp_path / "again.safetensors")]) == 0


def test_a_tall_rule_alone_is_enough(main_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = load_checkpoint(main_ckpt)
    tall = wide_variant(main, max_width=0, max_height=2 * main.preprocess.height)
    save_checkpoint(tmp_path / "tall.safetensors", tall)
    out = tmp_path / "joined.safetensors"
    assert heads.main([str(main_ckpt), str(tmp_path / "tall.safetensors"), "--out", str(out)]) == 0
    assert f"or taller than {main.preprocess.height} px" in capsys.readouterr().out
    assert load_checkpoint(out).preprocess.max_height == 2 * main.preprocess.height


@pytest.mark.parametrize("change, message", [
    ("body", "the body differs"),
    ("glyph", r"preprocessing differs .* in \['glyph_height'\]"),
    ("never", "never makes a canvas larger"),
])
def test_mismatches_are_refused(main_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                change: str, message: str) -> None:
    main = load_checkpoint(main_ckpt)
    wide = wide_variant(main, **({"glyph_height": 9.0} if change == "glyph" else {}))
    if change == "body":
        wide.state_dict["encoder.body.0.weight"] = wide.state_dict["encoder.body.0.weight"] + 0.01
    if change == "never":
        wide = dataclasses.replace(wide, preprocess=dataclasses.replace(wide.preprocess, max_width=0))
    save_checkpoint(tmp_path / "wide.safetensors", wide)
    out = tmp_path / "joined.safetensors"
    assert heads.main([str(main_ckpt), str(tmp_path / "wide.safetensors"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert re.search(message, err)
    assert not out.exists()


def test_tall_adds_a_third_head_and_keeps_mains_wide_head(main_ckpt: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    main = load_checkpoint(main_ckpt)
    save_checkpoint(tmp_path / "wide.safetensors", wide_variant(main))
    joined = tmp_path / "joined.safetensors"
    assert heads.main([str(main_ckpt), str(tmp_path / "wide.safetensors"), "--out", str(joined)]) == 0
    tall = wide_variant(main, max_height=2 * main.preprocess.height)
    tall.state_dict["decoder.out.bias"] = tall.state_dict["decoder.out.bias"] + 1.0  # unlike the wide head
    save_checkpoint(tmp_path / "tall.safetensors", tall)
    out = tmp_path / "three.safetensors"
    capsys.readouterr()
    # no WIDE: the joined file's own wide head is kept
    assert heads.main([str(joined), "--tall", str(tmp_path / "tall.safetensors"), "--out", str(out)]) == 0
    assert "'s wide head, taller than" in capsys.readouterr().out
    three, two = load_checkpoint(out), load_checkpoint(joined)
    assert three.has_wide_head and three.has_tall_head and three.preprocess == tall.preprocess
    for k, v in two.state_dict.items():
        assert torch.equal(three.state_dict[k], v)  # main and wide heads unchanged
    assert torch.equal(three.state_dict[TALL_PREFIX + "decoder.out.bias"], tall.state_dict["decoder.out.bias"].to(torch.float16))
    assert expand(three.provenance)["tall_head"]["provenance"] == {"steps": 7} and "wide_head" in three.provenance
    Recognizer.load(out, "cpu")
    # refused: a TALL whose preprocessing differs from WIDE's beyond max_height, one without the tall rule,
    # a MAIN without a wide head and no WIDE
    for bad, message in ((wide_variant(main, max_height=128, glyph_height=9.0), r"differs .* in \['glyph_height'\]"),
                         (wide_variant(main), "never makes a canvas taller")):
        save_checkpoint(tmp_path / "bad.safetensors", bad)
        assert heads.main([str(joined), "--tall", str(tmp_path / "bad.safetensors"), "--out", str(tmp_path / "x.safetensors")]) == 2
        assert re.search(message, capsys.readouterr().err)
    assert heads.main([str(main_ckpt), "--tall", str(tmp_path / "tall.safetensors"), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "has no wide head" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_a_head_keeps_its_own_copy_of_blocks_trained_further_for_main(main_ckpt: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """MAIN's last body block trained further (--train-last-blocks) after the wide head was trained: the joined
    wide head reads with the block it was trained on, every other module is shared."""
    old = load_checkpoint(main_ckpt)
    save_checkpoint(tmp_path / "wide.safetensors", wide_variant(old))
    last = f"encoder.body.{3 + old.model_config.stages}."
    block = max(k[len(last)] for k in old.state_dict if k.startswith(last))  # its last block, e.g. "2"
    moved = last + block + "."
    new = dataclasses.replace(old, state_dict={k: (v * 1.5 if k.startswith(moved) and v.is_floating_point() else v)
                                               for k, v in old.state_dict.items()})
    save_checkpoint(tmp_path / "main.safetensors", new)
    out = tmp_path / "joined.safetensors"
    tall = wide_variant(old, max_height=2 * old.preprocess.height)
    save_checkpoint(tmp_path / "tall.safetensors", tall)
    assert heads.main([str(tmp_path / "main.safetensors"), str(tmp_path / "wide.safetensors"), "--out", str(out),
                       "--tall", str(tmp_path / "tall.safetensors")]) == 0
    said = capsys.readouterr().out
    assert all(f"the {h} head keeps its own copy of the body blocks {moved[13:-1]}" in said for h in ("wide", "tall"))
    joined, wide = load_checkpoint(out), load_checkpoint(tmp_path / "wide.safetensors")
    assert joined.own_body("wide") == joined.own_body("tall") == {k for k in old.state_dict if k.startswith(moved)}
    assert all(joined.state_dict["wide." + k].dtype == v.dtype for k, v in old.state_dict.items() if k.startswith(moved))
    assert all(torch.equal(heads.head_only(joined, "wide").state_dict[k], v) for k, v in wide.state_dict.items())
    rec = Recognizer(joined, "cpu", int8=False)
    assert rec.wide_model is not None
    body, wide_body = rec.model.encoder.body, rec.wide_model.encoder.body
    assert wide_body[0] is body[0] and wide_body[-1][0] is body[-1][0]  # the rest is one copy
    assert wide_body[-1][int(block)] is not body[-1][int(block)]
    x = torch.rand(1, 1, 32, 64)
    reference = wide.build_model().float().eval().encoder.body
    with torch.no_grad():
        assert torch.allclose(wide_body.float()(x), reference(x), atol=1e-4)  # as the wide head was trained
        assert not torch.allclose(body.float()(x), reference(x), atol=1e-4)
    # a difference outside the last stage is still refused
    bad = dataclasses.replace(new, state_dict={**new.state_dict,
                                               "encoder.body.0.weight": new.state_dict["encoder.body.0.weight"] + 1})
    save_checkpoint(tmp_path / "bad.safetensors", bad)
    assert heads.main([str(tmp_path / "bad.safetensors"), str(tmp_path / "wide.safetensors"), "--out",
                       str(tmp_path / "x.safetensors")]) == 2
    assert "the body differs" in capsys.readouterr().err


def test_a_new_wide_head_keeps_mains_tall_head_and_its_blocks(main_ckpt: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Without --tall, a three-head MAIN keeps its tall head (with the body blocks it holds its own copy of) when a
    newly trained wide head is joined to it."""
    old = load_checkpoint(main_ckpt)
    last = f"encoder.body.{3 + old.model_config.stages}."
    block = max(k[len(last)] for k in old.state_dict if k.startswith(last))
    moved = last + block + "."
    tall = wide_variant(old, max_height=2 * old.preprocess.height)
    tall.state_dict.update({k: v * 1.5 for k, v in old.state_dict.items() if k.startswith(moved) and v.is_floating_point()})
    save_checkpoint(tmp_path / "wide.safetensors", wide_variant(old, max_height=2 * old.preprocess.height))
    save_checkpoint(tmp_path / "tall.safetensors", tall)
    three = tmp_path / "three.safetensors"
    assert heads.main([str(main_ckpt), str(tmp_path / "wide.safetensors"), "--tall", str(tmp_path / "tall.safetensors"),
                       "--out", str(three)]) == 0
    newer = wide_variant(old, max_height=2 * old.preprocess.height)
    newer.state_dict["decoder.out.bias"] = newer.state_dict["decoder.out.bias"] - 1.0
    save_checkpoint(tmp_path / "newer.safetensors", newer)
    out = tmp_path / "out.safetensors"
    capsys.readouterr()
    assert heads.main([str(three), str(tmp_path / "newer.safetensors"), "--out", str(out)]) == 0
    assert "three.safetensors's tall head" in capsys.readouterr().out
    before, after = load_checkpoint(three), load_checkpoint(out)
    assert after.has_tall_head and after.own_body("tall") == before.own_body("tall") != set()
    assert before.head_tensors("tall").keys() == after.head_tensors("tall").keys()
    assert all(torch.equal(v, before.head_tensors("tall")[k]) for k, v in after.head_tensors("tall").items())
    assert torch.equal(after.state_dict[WIDE_PREFIX + "decoder.out.bias"], newer.state_dict["decoder.out.bias"].to(torch.float16))
    assert after.preprocess == before.preprocess
    Recognizer.load(out, "cpu")
