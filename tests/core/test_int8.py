"""Int8 decoder weights and ResNet body (core.int8): chosen on a CPU without fast bf16, overridable, and
reading as the fp32 model does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from core import int8
from core.checkpoint import load_checkpoint, save_checkpoint
from core.preprocess import preprocess
from core.recognizer import Recognizer
from tests.core.helpers import draw, with_wide_head

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_int8_is_chosen_on_a_cpu_without_bf16_unless_the_environment_says() -> None:
    assert int8.want_int8(CPU, cpu_bf16=False, env={})
    assert not int8.want_int8(CPU, cpu_bf16=True, env={})
    assert int8.want_int8(CPU, cpu_bf16=True, env={"LATEXSNIP_INT8": "1"})
    assert not int8.want_int8(CPU, cpu_bf16=False, env={"LATEXSNIP_INT8": "0"})
    assert int8.want_int8(CPU, cpu_bf16=False, env={"LATEXSNIP_INT8": "maybe"})  # unknown value: automatic
    assert not int8.want_int8(CUDA, cpu_bf16=False, env={"LATEXSNIP_INT8": "1"})  # quantised kernels are CPU-only
    assert [int8.int8_flag(v) for v in ("auto", "on", "off")] == [None, True, False]


def _quantised(model: nn.Module) -> list[str]:
    return sorted({type(m).__module__ for m in model.modules() if "quantized" in type(m).__module__})


@pytest.mark.skipif(not int8.int8_available(), reason="no quantised-kernel engine in this torch build")
def test_int8_recognizer_reads_like_the_fp32_one(tiny_weights: Path) -> None:
    fp32 = Recognizer.load(tiny_weights, "cpu", int8=False)
    q = Recognizer.load(tiny_weights, "cpu", int8=True)
    assert q.int8 and not fp32.int8 and q.decoder_dtype is None
    assert q.decoder_precision == "int8" and fp32.decoder_precision in ("float32", "bfloat16")
    assert _quantised(q.model.decoder) and not _quantised(fp32.model.decoder)
    assert not _quantised(q.model.encoder) and not q.int8_body  # no stored ranges: the ResNet body stays fp32
    for formula in ("x + 1", "k > 0"):
        a, b = fp32.recognize(draw(formula)), q.recognize(draw(formula), beam=3)
        assert b.score == pytest.approx(fp32.recognize(draw(formula), beam=3).score, abs=0.05)
        assert a.attention.shape[1:] == b.attention.shape[1:]


def test_quantize_decoder_falls_back_to_the_decoder_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    dec = nn.Sequential(nn.Linear(4, 4))
    monkeypatch.setattr(int8, "int8_available", lambda: False)
    assert int8.quantize_decoder(dec) is dec

    def broken(*a: object, **k: object) -> nn.Module:
        raise RuntimeError("no engine")

    monkeypatch.setattr(int8, "int8_available", lambda: True)
    monkeypatch.setattr(torch.ao.quantization, "quantize_dynamic", broken)
    assert int8.quantize_decoder(dec) is dec


@pytest.mark.skipif(not int8.int8_available(), reason="no quantised-kernel engine in this torch build")
def test_a_broken_model_reads_garbage_not_an_error(tiny_weights: Path) -> None:
    q = Recognizer.load(tiny_weights, "cpu", int8=True)
    bn = q.model.encoder.body[1]  # the stem's batch norm: a negative variance gives NaN features
    assert isinstance(bn, nn.BatchNorm2d)
    bn.running_var.fill_(-1.0)
    pred = q.recognize(draw("x + 1"))
    assert isinstance(pred.latex, str)
    dec = Recognizer.load(tiny_weights, "cpu", int8=False).model.decoder
    with torch.no_grad():
        dec.out.weight.fill_(float("nan"))
    assert int8.quantize_decoder(dec) is dec  # NaN weights: kept as they are, no crash


needs_body_engine = pytest.mark.skipif(
    not any(e in torch.backends.quantized.supported_engines for e in int8.BODY_ENGINES),
    reason="no x86 quantised-kernel engine in this torch build",
)


@needs_body_engine
def test_int8_body_from_stored_ranges_reads_like_the_fp32_body(tiny_weights: Path) -> None:
    ckpt = load_checkpoint(tiny_weights)
    body = ckpt.build_model().encoder.body.eval()
    canvases = [preprocess(draw(f), ckpt.preprocess) for f in ("x + 1", "a = b", "k > 0", "1 + 2 = 3")]
    ranges = int8.calibrate_body(body, canvases)
    assert ranges and all(s > 0 and 0 <= z <= 127 for s, z in ranges.values())  # 7-bit activations
    q = int8.quantize_body(body, ranges)
    assert q is not body and _quantised(q)
    x = preprocess(draw("y - 2"), ckpt.preprocess).unsqueeze(0)  # (1, 1, H, W), not calibrated on
    with torch.no_grad():
        ref, got = body(x), q(x)
    assert got.shape == ref.shape and float((got - ref).norm() / ref.norm()) < 0.2
    # the same ranges always give the same int8 body
    with torch.no_grad():
        assert torch.equal(int8.quantize_body(body, ranges)(x), got)


@needs_body_engine
def test_quantize_body_keeps_the_fp32_body_on_ranges_that_do_not_fit() -> None:
    body = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()).eval()
    good = int8.calibrate_body(body, [torch.rand(1, 8, 8)])
    assert int8.quantize_body(body, good) is not body
    assert int8.quantize_body(body, {}) is body  # e.g. no ranges, or made for another body
    assert int8.quantize_body(body, {**good, "activation_post_process_99": [0.1, 0]}) is body
    for bad in ({k: [float("nan"), z] for k, (s, z) in good.items()}, {k: [s, 300] for k, (s, z) in good.items()}):
        assert int8.quantize_body(body, bad) is body
    with torch.no_grad():
        body[0].weight[0, 0, 0, 0] = float("nan")  # a corrupt model: read as it is, never an error
    assert int8.quantize_body(body, good) is body
    with pytest.raises(ValueError):
        int8.calibrate_body(body, [])


@needs_body_engine
def test_recognizer_reads_with_an_int8_body_only_when_int8_and_ranges(tiny_weights: Path, tmp_path: Path) -> None:
    ckpt = with_wide_head(load_checkpoint(tiny_weights))
    body = ckpt.build_model().encoder.body.eval()
    ckpt.int8_body = int8.calibrate_body(body, [preprocess(draw(f), ckpt.preprocess) for f in ("x + 1", "k > 0")])
    path = tmp_path / "ranges.safetensors"
    save_checkpoint(path, ckpt)
    q = Recognizer.load(path, "cpu", int8=True)
    assert q.int8_body and q.encoder_precision == "int8" and q.decoder_precision == "int8"
    assert q.wide_model is not None and q.wide_model.encoder.body is q.model.encoder.body  # one shared body
    assert _quantised(q.model.encoder.body)
    fp32 = Recognizer.load(path, "cpu", int8=False)
    assert not fp32.int8_body and not _quantised(fp32.model.encoder)
    for formula in ("x + 1", "1 + 2 = 3"):
        assert q.recognize(draw(formula)).score == pytest.approx(fp32.recognize(draw(formula)).score, abs=0.1)


def test_a_head_with_its_own_body_blocks_reads_them_in_fp32_beside_an_int8_body(tiny_weights: Path,
                                                                                tmp_path: Path) -> None:
    """The int8 ranges are the main body's: a head holding its own copy of some blocks keeps a whole fp32 body."""
    ckpt = with_wide_head(load_checkpoint(tiny_weights))
    last = f"encoder.body.{3 + ckpt.model_config.stages}.0."
    for k in [k for k in ckpt.state_dict if k.startswith(last)]:
        ckpt.state_dict["wide." + k] = ckpt.state_dict[k].clone()
    ckpt.int8_body = int8.calibrate_body(ckpt.build_model().encoder.body.eval(), [preprocess(draw("x + 1"), ckpt.preprocess)])
    path = tmp_path / "own.safetensors"
    save_checkpoint(path, ckpt)
    q = Recognizer.load(path, "cpu", int8=True)
    assert q.int8_body and _quantised(q.model.encoder.body) and q.wide_model is not None
    assert not _quantised(q.wide_model.encoder.body) and q.wide_model.encoder.body is not q.model.encoder.body
