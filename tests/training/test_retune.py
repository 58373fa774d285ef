"""training.retune: preprocessing settings rewritten inside a checkpoint, weights untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.checkpoint import load_checkpoint, save_checkpoint
from tests.core.helpers import train_tiny, with_wide_head
from training import retune


@pytest.fixture(scope="module")
def ckpt_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("retune") / "in.safetensors"
    ckpt = train_tiny(path, steps=1)
    ckpt.provenance, ckpt.metrics = {"steps": 7}, {"val_bleu": 1.0}
    save_checkpoint(path, ckpt)
    return path


def test_settings_change_and_are_recorded(ckpt_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.safetensors"
    assert retune.main([str(ckpt_path), "--preprocess", '{"glyph_height": 10.5}', "--out", str(out),
                        "--why", "best on val", "--metrics", '{"val_bleu": 2.0}']) == 0
    assert "glyph_height 12.0 -> 10.5" in capsys.readouterr().out
    old, new = load_checkpoint(ckpt_path), load_checkpoint(out)
    assert new.preprocess.glyph_height == 10.5 and new.preprocess.height == old.preprocess.height
    assert new.provenance["steps"] == 7
    assert new.provenance["retuned"] == [{"changed": {"glyph_height": {"from": 12.0, "to": 10.5}}, "why": "best on val"}]
    assert new.metrics == {"val_bleu": 2.0}
    for k, v in old.state_dict.items():
        assert torch.equal(v, new.state_dict[k])
    # retuning again appends to the history; without --metrics the input's metrics are dropped
    assert retune.main([str(out), "--preprocess", '{"keep_scale_within": 1.0}', "--out", str(out)]) == 0
    again = load_checkpoint(out)
    assert [list(r["changed"]) for r in again.provenance["retuned"]] == [["glyph_height"], ["keep_scale_within"]]
    assert again.metrics == {}


@pytest.mark.parametrize("overrides, why", [('{"glyph": 1}', "no setting 'glyph'"), ("{bad", "not JSON"),
                                            ('{"glyph_height": 12}', "change nothing")])
def test_bad_overrides_are_one_line_errors(ckpt_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          overrides: str, why: str) -> None:
    out = tmp_path / "x.safetensors"
    assert retune.main([str(ckpt_path), "--preprocess", overrides, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_settings_that_would_leave_a_head_unused_are_refused(ckpt_path: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    joined = tmp_path / "joined.safetensors"
    save_checkpoint(joined, with_wide_head(load_checkpoint(ckpt_path)))
    before = joined.read_bytes()
    assert retune.main([str(joined), "--preprocess", '{"max_width": 0}', "--out", str(joined)]) == 2
    err = capsys.readouterr().err
    assert "has a wide head but its preprocessing never makes a canvas larger" in err and len(err.strip().splitlines()) == 1
    assert joined.read_bytes() == before  # the file is left as it was
