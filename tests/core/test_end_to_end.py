"""Overfit proof: preprocessing, model, decoding and the checkpoint round trip agree."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import ImageError
from core.predict_cli import main as predict_main
from core.recognizer import Recognizer
from tests.core.helpers import FORMULAS, draw


@pytest.fixture(scope="module")
def rec(tiny_weights: Path) -> Recognizer:
    return Recognizer.load(tiny_weights, device="cpu")


def test_greedy_reproduces_training_formulas(rec: Recognizer) -> None:
    for f in FORMULAS:
        assert rec.recognize(draw(f)).latex == f


def test_beam_reproduces_training_formulas(rec: Recognizer) -> None:
    for f in FORMULAS:
        assert rec.recognize(draw(f), beam=4).latex == f


def test_batch_matches_single(rec: Recognizer) -> None:
    preds = rec.recognize_batch([draw(f) for f in FORMULAS], beam=3)
    assert [p.latex for p in preds] == FORMULAS


def test_prediction_fields(rec: Recognizer) -> None:
    p = rec.recognize(draw("1 + 2 = 3"))
    assert p.tokens == ["1", "+", "2", "=", "3"]
    assert len(p.token_probs) == len(p.tokens)
    assert all(0.0 < q <= 1.0 for q in p.token_probs)
    assert p.score <= 0.0 and 0.5 < p.confidence <= 1.0
    assert p.attention is not None and p.attention.shape[0] == len(p.tokens)
    np.testing.assert_allclose(p.attention.sum(axis=(1, 2)), 1.0, rtol=1e-2)
    assert p.model_input is not None and p.model_input.shape == (32, 128)
    assert p.ms > 0


def test_dark_mode_and_rgba_inputs(rec: Recognizer) -> None:
    im = draw("a = b")
    inverted = im.point(lambda v: 255 - v)
    assert rec.recognize(inverted).latex == "a = b"
    rgba = im.convert("RGBA")
    alpha = np.where(np.asarray(im) < 128, 255, 0).astype(np.uint8)
    rgba.putalpha(__import__("PIL.Image", fromlist=["Image"]).fromarray(alpha))
    assert rec.recognize(rgba).latex == "a = b"


def test_blank_and_tiny_images_are_rejected(rec: Recognizer) -> None:
    from PIL import Image

    with pytest.raises(ImageError, match="blank"):
        rec.recognize(Image.new("L", (200, 50), 255))
    with pytest.raises(ImageError, match="too small"):
        rec.recognize(Image.new("L", (3, 3), 0))


def test_predict_cli(tiny_weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.png"
    draw("k > 0").save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    rc = predict_main(["--weights", str(tiny_weights), "--device", "cpu", "--json", str(good), str(bad), str(good)])
    out, err = capsys.readouterr()
    lines = [json.loads(x) for x in out.splitlines()]
    assert rc == 1
    assert [x["latex"] for x in lines] == ["k > 0", "k > 0"]
    assert set(lines[0]) == {"image", "latex", "score", "ms"}
    assert "bad.png" in err and "Traceback" not in err


def test_predict_cli_missing_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = predict_main(["--weights", str(tmp_path / "nope.safetensors"), str(tmp_path / "x.png")])
    assert rc == 2
    assert "not found" in capsys.readouterr().err


def test_trimmed_canvases_in_a_batch(tiny_weights: Path) -> None:
    base = Recognizer.load(tiny_weights, device="cpu")
    ckpt = dataclasses.replace(base.checkpoint, preprocess=dataclasses.replace(base.preprocess_config, trim_multiple=32))
    rec = Recognizer(ckpt, device="cpu")
    preds = rec.recognize_batch([draw("x"), draw("1 + 2 = 3")])
    widths = [p.model_input.shape[1] for p in preds]
    assert widths[0] < widths[1] and all(w % 32 == 0 for w in widths)
    assert all(p.attention.shape[-1] == preds[1].attention.shape[-1] for p in preds)  # one padded grid per batch
    assert rec.recognize(draw("1 + 2 = 3")).latex == "1 + 2 = 3"
