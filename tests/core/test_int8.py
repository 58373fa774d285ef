"""Int8 decoder weights (core.int8): chosen on a CPU without fast bf16, overridable, and reading
as the fp32 decoder does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from core import int8
from core.recognizer import Recognizer
from tests.core.helpers import draw

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
    assert not _quantised(q.model.encoder)  # only the decoder's weights are int8
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
