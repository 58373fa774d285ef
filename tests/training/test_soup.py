"""training.soup: greedy uniform soups chosen on a validation split; the CLI on a tiny pack."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import datasets
import pytest
import torch

from core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from tests.core.helpers import FORMULAS, draw, train_tiny
from training.soup import greedy_soup, main


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("soup") / "base.safetensors"
    train_tiny(path)
    return path


def _filled(ckpt: Checkpoint, value: float, name: str) -> Checkpoint:
    state = {k: (torch.full_like(v, value) if v.is_floating_point() else v) for k, v in ckpt.state_dict.items()}
    return dataclasses.replace(ckpt, state_dict=state, source=name)


def test_members_join_only_when_the_soup_scores_higher(base: Path) -> None:
    b = load_checkpoint(base)
    # the score prefers weights whose value is near 1: 1.4 alone is best, + 0.5 -> 0.95 is better still,
    # + 3.0 -> 1.63 is worse, so the soup is the mean of the first two
    ckpts = [_filled(b, 0.5, "b"), _filled(b, 3.0, "c"), _filled(b, 1.4, "a")]

    def score(c: Checkpoint) -> dict[str, float]:
        v = float(c.state_dict["decoder.out.weight"].float().mean())
        return {"bleu": -((v - 1.0) ** 2), "exact_match": 0.0}

    soup, trials = greedy_soup(ckpts, score)
    assert [t["members"] for t in trials] == [[0], [1], [2], [2, 0], [2, 0, 1]]
    assert [t["kept"] for t in trials] == [False, False, True, True, False]
    assert float(soup.state_dict["decoder.out.weight"].float().mean()) == pytest.approx(0.95, abs=1e-3)
    assert soup.metrics["bleu"] == pytest.approx(-0.0025, abs=1e-3)


def test_cli_keeps_the_good_weights_and_refuses_bad_inputs(base: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "val"  # the drawings the tiny model was trained on, as a saved dataset
    val = datasets.Dataset.from_dict({"formula": FORMULAS, "image": [draw(f) for f in FORMULAS]},
                                     features=datasets.Features({"formula": datasets.Value("string"),
                                                                 "image": datasets.Image()}))
    datasets.DatasetDict({"val": val}).save_to_disk(str(pack))
    b = load_checkpoint(base)
    torch.manual_seed(0)
    noisy = dataclasses.replace(b, state_dict={k: (v + torch.randn_like(v.float()).to(v.dtype) * 2 if v.is_floating_point()
                                                   else v) for k, v in b.state_dict.items()})
    save_checkpoint(tmp_path / "noisy.safetensors", noisy)
    out = tmp_path / "soup.safetensors"
    assert main([str(tmp_path / "noisy.safetensors"), str(base), "--data", str(pack), "--out", str(out),
                 "--device", "cpu"]) == 0
    table = capsys.readouterr().out
    assert f"wrote {out}: {base}" in table  # the noise did not join
    soup = load_checkpoint(out)
    assert torch.equal(soup.state_dict["decoder.out.weight"], b.state_dict["decoder.out.weight"])
    assert soup.metrics["val_bleu"] > 50 and len(soup.provenance["soup"]["trials"]) == 3

    other = dataclasses.replace(b, preprocess=dataclasses.replace(b.preprocess, height=64))
    save_checkpoint(tmp_path / "other.safetensors", other)
    assert main([str(base), str(tmp_path / "other.safetensors"), "--data", str(pack), "--out", str(out)]) == 2
    assert "preprocessing differs" in capsys.readouterr().err
    assert main([str(base), "--data", str(pack), "--out", str(out), "--split", "test"]) == 2
    assert "test split" in capsys.readouterr().err
