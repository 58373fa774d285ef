"""Unsure snips read again at other glyph heights (PreprocessConfig.retry_glyph_heights): the most confident
reading is kept, sure ones are read once, and a retry that would need a larger canvas is left out."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import CheckpointError, ConfigError
from core.predict_cli import main as predict_main
from core.preprocess import PreprocessConfig, config_with, preprocess
from core.recognizer import Recognizer
from tests.core.helpers import draw, with_wide_head

HEIGHTS = (9.0, 15.0)


def _reader(weights: Path, **settings: object) -> Recognizer:
    # fp32 decoder weights: int8 ones (core.int8, chosen on CPUs without bf16) quantise activations with one
    # scale per batch, so a snip decoded beside its retries scores up to ~3e-3 differently (tiny model) than
    # alone; the int8 numerics are tests/core/test_int8.py's concern, the retry rule is this file's
    rec = Recognizer.load(weights, device="cpu", int8=False)
    rec.preprocess_config = dataclasses.replace(rec.preprocess_config, **settings)  # type: ignore[arg-type]
    return rec


def test_retry_heights_are_a_tuple_from_json_lists_and_checked() -> None:
    cfg = config_with(PreprocessConfig(), '{"retry_glyph_heights": [9.5, 11, 13], "retry_confidence": 0.9}')
    assert cfg.retry_glyph_heights == (9.5, 11.0, 13.0)
    assert hash(cfg) == hash(PreprocessConfig(retry_glyph_heights=[9.5, 11, 13], retry_confidence=0.9))  # type: ignore[arg-type]
    assert [c.glyph_height for c in cfg.retry_configs()] == [9.5, 11.0, 13.0]
    assert all(c.retry_glyph_heights == () for c in cfg.retry_configs())
    assert PreprocessConfig().retry_configs() == []
    for bad in ('{"retry_glyph_heights": [9, -1]}', '{"retry_glyph_heights": 9}', '{"retry_glyph_heights": ["9"]}',
                '{"retry_confidence": 1.5}', '{"retry_confidence": 0}'):
        with pytest.raises(ConfigError, match="retry_"):
            config_with(PreprocessConfig(), bad)


def test_retry_settings_survive_a_checkpoint_round_trip(tiny_weights: Path, tmp_path: Path) -> None:
    ckpt = load_checkpoint(tiny_weights)
    pre = dataclasses.replace(ckpt.preprocess, retry_glyph_heights=HEIGHTS, retry_confidence=0.8)
    save_checkpoint(tmp_path / "retry.safetensors", dataclasses.replace(ckpt, preprocess=pre))
    assert load_checkpoint(tmp_path / "retry.safetensors").preprocess == pre


def test_an_unsure_snip_keeps_its_most_confident_reading(tiny_weights: Path) -> None:
    image = draw("k > 0", size=14)
    base = _reader(tiny_weights)
    readings = [base.recognize(image)]
    for h in HEIGHTS:
        readings.append(_reader(tiny_weights, glyph_height=h).recognize(image))
    best = max(readings, key=lambda p: p.score)
    pred = _reader(tiny_weights, retry_glyph_heights=HEIGHTS, retry_confidence=1.0).recognize(image)
    assert pred.score == pytest.approx(best.score, abs=1e-3)  # retries share one batch: bf16 rounding differs
    assert pred.latex == best.latex
    assert pred.model_input.shape == best.model_input.shape
    assert pred.score >= readings[0].score


def test_a_sure_snip_is_read_once(tiny_weights: Path) -> None:
    image = draw("x + 1")
    once = _reader(tiny_weights).recognize(image)
    assert math.exp(once.score) > 1e-6
    # every reading is surer than 1e-6, so none is read again, whatever the retry heights would give
    pred = _reader(tiny_weights, retry_glyph_heights=(4.0,), retry_confidence=1e-6).recognize(image)
    assert (pred.latex, pred.score) == (once.latex, pytest.approx(once.score))


def test_a_caller_can_ask_for_one_reading(tiny_weights: Path) -> None:
    image = draw("k > 0", size=14)
    once = _reader(tiny_weights).recognize(image)
    rec = _reader(tiny_weights, retry_glyph_heights=HEIGHTS, retry_confidence=1.0)
    assert rec.recognize(image).score > once.score  # read again, a retry wins for this snip
    pred = rec.recognize(image, reread_unsure=False)
    assert (pred.latex, pred.score) == (once.latex, pytest.approx(once.score))
    assert pred.model_input.shape == once.model_input.shape
    [batch] = rec.recognize_batch([image], reread_unsure=False)
    assert batch.score == pytest.approx(once.score)


def test_a_retry_that_needs_a_larger_canvas_is_left_out(tiny_weights: Path, tmp_path: Path) -> None:
    ckpt = with_wide_head(load_checkpoint(tiny_weights))
    path = tmp_path / "wide.safetensors"
    save_checkpoint(path, ckpt)
    image = draw("1 + 2 = 3 + x + 1")  # fits the 128-px canvas, but not at twice its glyph height
    assert not ckpt.preprocess.is_enlarged(*preprocess(image, ckpt.preprocess).shape[-2:])
    big = dataclasses.replace(ckpt.preprocess, glyph_height=26.0)
    assert ckpt.preprocess.is_enlarged(*preprocess(image, big).shape[-2:])  # the retry would be wide
    base = _reader(path).recognize(image)
    pred = _reader(path, retry_glyph_heights=(26.0,), retry_confidence=1.0).recognize(image)
    assert (pred.latex, pred.score) == (base.latex, pytest.approx(base.score))
    assert pred.model_input.shape == base.model_input.shape


def _with_preprocess_metadata(src: Path, dst: Path, **settings: object) -> Path:
    """A copy of ``src`` whose metadata's preprocess section has ``settings`` written in as they are."""
    raw = src.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["latexsnip"])
    meta["preprocess"].update(settings)
    header["__metadata__"]["latexsnip"] = json.dumps(meta)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    dst.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n :])
    return dst


@pytest.mark.parametrize("settings", [{"retry_glyph_heights": "9"}, {"retry_glyph_heights": [9, -1]},
                                      {"retry_glyph_heights": 9}, {"retry_confidence": 0}, {"retry_confidence": "x"}])
def test_bad_retry_settings_in_a_file_are_a_checkpoint_error(
    tiny_weights: Path, tmp_path: Path, settings: dict[str, object]
) -> None:
    path = _with_preprocess_metadata(tiny_weights, tmp_path / "bad.safetensors", **settings)
    with pytest.raises(CheckpointError, match="bad preprocess section"):
        load_checkpoint(path)


def test_predict_cli_no_reread(tiny_weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = load_checkpoint(tiny_weights)
    pre = dataclasses.replace(ckpt.preprocess, retry_glyph_heights=HEIGHTS, retry_confidence=1.0)
    save_checkpoint(tmp_path / "retry.safetensors", dataclasses.replace(ckpt, preprocess=pre))
    draw("k > 0", size=14).save(tmp_path / "f.png")
    scores = []
    for weights, flags in ((tiny_weights, []), (tmp_path / "retry.safetensors", ["--no-reread"])):
        assert predict_main(["--weights", str(weights), "--device", "cpu", "--json", *flags, str(tmp_path / "f.png")]) == 0
        scores.append(json.loads(capsys.readouterr().out)["score"])
    assert scores[1] == pytest.approx(scores[0])
