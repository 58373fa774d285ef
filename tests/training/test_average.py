"""training.average: weighted mean of checkpoints of one model; mismatches are one-line errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from core.checkpoint import load_checkpoint, save_checkpoint
from tests.core.helpers import train_tiny
from training import average


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("soup")
    for name, seed in (("a", 0), ("b", 1)):
        ckpt = train_tiny(d / f"{name}.safetensors", steps=2, seed=seed)
        ckpt.provenance = {"steps": 100 + seed}
        save_checkpoint(d / f"{name}.safetensors", ckpt)
    return d / "a.safetensors", d / "b.safetensors"


def test_weighted_mean_of_float_tensors(two: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two
    out = tmp_path / "soup.safetensors"
    assert average.main([str(a), str(b), "--out", str(out), "--weights", "3,1", "--metrics", '{"val_bleu": 1.5}']) == 0
    ca, cb, soup = load_checkpoint(a), load_checkpoint(b), load_checkpoint(out)
    k = next(k for k, v in ca.state_dict.items() if v.is_floating_point() and v.numel() > 10)
    want = 0.75 * ca.state_dict[k].float() + 0.25 * cb.state_dict[k].float()
    assert soup.state_dict[k].dtype == ca.state_dict[k].dtype
    torch.testing.assert_close(soup.state_dict[k].float(), want, atol=2e-3, rtol=1e-3)
    assert [x["weight"] for x in soup.provenance["averaged_from"]] == [0.75, 0.25]
    assert soup.metrics == {"val_bleu": 1.5}
    assert soup.provenance["steps"] == 101  # the most-trained member's
    soup.build_model()  # loads into the model


def test_mismatched_checkpoints_are_refused(two: tuple[Path, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two
    other = load_checkpoint(b)
    other.preprocess = dataclasses.replace(other.preprocess, height=other.preprocess.height * 2)
    save_checkpoint(tmp_path / "c.safetensors", other)
    assert average.main([str(a), str(tmp_path / "c.safetensors"), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "preprocessing differs" in capsys.readouterr().err
    assert average.main([str(a), str(b), "--out", str(tmp_path / "x.safetensors"), "--weights", "1,x"]) == 2
    assert average.main([str(a), str(b), "--out", str(tmp_path / "x.safetensors"), "--metrics", "[1]"]) == 2
    assert not (tmp_path / "x.safetensors").exists()
