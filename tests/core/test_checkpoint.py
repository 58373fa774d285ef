from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.checkpoint import load_checkpoint, read_metadata, save_checkpoint
from core.errors import CheckpointError
from core.recognizer import Recognizer


def test_round_trip_keeps_metadata(tiny_weights: Path) -> None:
    ckpt = load_checkpoint(tiny_weights)
    assert ckpt.vocab.tokens[:4] == ("<pad>", "<bos>", "<eos>", "<unk>")
    assert ckpt.model_config.vocab_size == len(ckpt.vocab)
    assert ckpt.preprocess.height == 32
    assert ckpt.provenance == {"test": True}
    meta = read_metadata(tiny_weights)
    assert meta["format"] == "latexsnip-checkpoint" and "loss" in meta["metrics"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        Recognizer.load(tmp_path / "missing.safetensors")


def test_truncated_file(tiny_weights: Path, tmp_path: Path) -> None:
    bad = tmp_path / "truncated.safetensors"
    bad.write_bytes(tiny_weights.read_bytes()[: tiny_weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated.safetensors"):
        Recognizer.load(bad)


def test_garbage_and_empty_files(tmp_path: Path) -> None:
    for name, data in [("empty.safetensors", b""), ("garbage.safetensors", b"\x00" * 7 + b"garbage" * 100)]:
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(CheckpointError, match=name):
            load_checkpoint(p)


def test_pickle_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "model.safetensors"
    torch.save({"x": torch.zeros(2)}, p)  # a pickle under a safetensors name
    with pytest.raises(CheckpointError):
        load_checkpoint(p)


def test_foreign_safetensors(tmp_path: Path) -> None:
    p = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, p)
    with pytest.raises(CheckpointError, match="not a latexsnip checkpoint"):
        load_checkpoint(p)


def test_shape_mismatch(tiny_weights: Path, tmp_path: Path) -> None:
    ckpt = load_checkpoint(tiny_weights)
    key = next(k for k in ckpt.state_dict if k.endswith("out.weight"))
    ckpt.state_dict[key] = torch.zeros(3, 3)
    p = tmp_path / "mismatch.safetensors"
    save_checkpoint(p, ckpt)
    with pytest.raises(CheckpointError, match="shape"):
        Recognizer.load(p)


def test_vocab_size_mismatch(tiny_weights: Path, tmp_path: Path) -> None:
    p = tmp_path / "vocab.safetensors"
    shutil.copy(tiny_weights, p)
    raw = p.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["latexsnip"])
    meta["vocab"] = meta["vocab"][:-1]
    header["__metadata__"]["latexsnip"] = json.dumps(meta)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    p.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n :])
    with pytest.raises(CheckpointError, match="vocabulary"):
        load_checkpoint(p)


def test_int8_body_ranges_round_trip_and_bad_ones_are_refused(tiny_weights: Path, tmp_path: Path) -> None:
    ckpt = load_checkpoint(tiny_weights)
    assert ckpt.int8_body == {} and "int8_body" not in read_metadata(tiny_weights)  # optional: none written
    ckpt.int8_body = {"activation_post_process_0": [0.0079, 0], "activation_post_process_1": [0.09, 63]}
    p = tmp_path / "ranges.safetensors"
    save_checkpoint(p, ckpt)
    assert load_checkpoint(p).int8_body == ckpt.int8_body
    ckpt.int8_body = {"activation_post_process_0": ["big", 0]}  # type: ignore[list-item]
    save_checkpoint(p, ckpt)
    with pytest.raises(CheckpointError, match="int8_body"):
        load_checkpoint(p)
