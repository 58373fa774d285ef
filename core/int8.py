"""Int8 decoder weights for CPUs without fast bf16.

Reading a snip is ~50 sequential decoder steps, each a handful of matrix-vector products whose
weights (the LSTM cell and the output layers, ~10 MB in fp32) are read again at every step. On a
CPU without bf16 instructions the fp32 decoder spent 69% of a batch-1 greedy decode in ``addmm``
(2026-11-28, AMD EPYC with AVX2 only, 1 thread). Dynamic int8 quantisation (int8 weights,
activations quantised on the fly, fp32 results) reads a quarter of the bytes: see docs/benchmarks.md
for the speed and the model card for the accuracy it costs.

``LATEXSNIP_INT8=0`` / ``=1`` overrides the automatic choice (``Recognizer(int8=None)``).
"""

from __future__ import annotations

import copy
import logging
import math
import os
import warnings
from collections.abc import Iterable
from typing import Any, TypeVar, cast

import torch
from torch import nn
from torch.fx import GraphModule

log = logging.getLogger(__name__)
M = TypeVar("M", bound=nn.Module)


def int8_available() -> bool:
    """A quantised-kernel engine exists for this CPU (x86 / fbgemm, onednn or qnnpack)."""
    engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    return bool(engines) and hasattr(torch.ao.quantization, "quantize_dynamic")


def want_int8(device: torch.device, cpu_bf16: bool, env: dict[str, str] | None = None) -> bool:
    """Automatic choice: int8 decoder weights on a CPU without fast bf16, unless ``LATEXSNIP_INT8`` says."""
    raw = (os.environ if env is None else env).get("LATEXSNIP_INT8", "").strip()
    if device.type != "cpu":
        return False
    if raw in ("0", "1"):
        return raw == "1"
    return not cpu_bf16


def int8_flag(value: str) -> bool | None:
    """A command line's ``--int8 auto|on|off`` as ``Recognizer``'s ``int8`` argument."""
    return None if value == "auto" else value == "on"


def quantize_decoder(decoder: M) -> M:
    """A copy of ``decoder`` (same class) whose Linear and LSTMCell layers hold int8 weights; on failure
    (no engine, non-finite weights) the decoder itself, unchanged (slower, never wrong)."""
    if not int8_available():
        log.info("no quantised-kernel engine on this CPU: the decoder stays fp32")
        return decoder
    if not all(bool(torch.isfinite(w).all()) for w in decoder.parameters()):
        log.warning("the decoder's weights are not all finite (a diverged or corrupt model): it stays fp32")
        return decoder
    try:
        with warnings.catch_warnings():  # torch.ao.quantization's deprecation notices: not the user's concern
            warnings.simplefilter("ignore")
            return cast(M, torch.ao.quantization.quantize_dynamic(decoder, {nn.Linear, nn.LSTMCell}, dtype=torch.qint8))
    except (RuntimeError, NotImplementedError, AttributeError) as e:
        log.warning("int8 decoder unavailable (%s): the decoder stays fp32", e)
        return decoder


# --- int8 ResNet body -------------------------------------------------------------------------------
# The encoder's convolutions are the other half of a read on such a CPU (46 of ~90 ms, 1 thread).
# Static int8 needs the range of every activation, measured once on real canvases (``calibrate_body``,
# run by ``training.int8_ranges``) and stored in the checkpoint's metadata; ``quantize_body`` rebuilds
# the int8 body from those ranges at load time, with no images and no randomness.

BODY_ENGINES = ("x86", "fbgemm")  # engines the stored ranges are made for (activations in 7 bits: reduce_range)


def _body_qconfig_mapping(observer: Any) -> torch.ao.quantization.QConfigMapping:
    qc = torch.ao.quantization.QConfig(
        activation=observer.with_args(dtype=torch.quint8, reduce_range=True),
        weight=torch.ao.quantization.default_per_channel_weight_observer,
    )
    return torch.ao.quantization.get_default_qconfig_mapping("x86").set_global(qc)


def _prepare(body: nn.Module, observer: Any, example: torch.Tensor) -> GraphModule:
    from torch.ao.quantization.quantize_fx import prepare_fx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_fx(copy.deepcopy(body).float().eval(), _body_qconfig_mapping(observer), (example,))


def _observers(prepared: nn.Module) -> dict[str, torch.ao.quantization.ObserverBase]:
    return {name: m for name, m in prepared.named_children() if isinstance(m, torch.ao.quantization.ObserverBase)}


def calibrate_body(body: nn.Module, canvases: Iterable[torch.Tensor]) -> dict[str, list[float]]:
    """Every activation's int8 range in the body, measured on ``canvases`` (each (1, H, W) or (B, 1, H, W),
    preprocessed as the app does): observer name -> [scale, zero_point]. Histogram observers choose the
    range that loses least, clipping rare outliers."""
    prepared: GraphModule | None = None
    with torch.no_grad():
        for c in canvases:
            x = (c.unsqueeze(0) if c.dim() == 3 else c).float()
            if prepared is None:
                prepared = _prepare(body, torch.ao.quantization.HistogramObserver, x)
            prepared(x)
    if prepared is None:
        raise ValueError("no canvases to calibrate on")
    ranges = {}
    for name, obs in _observers(prepared).items():
        scale, zero = obs.calculate_qparams()
        ranges[name] = [float(scale), int(zero)]
    return ranges


def quantize_body(body: M, ranges: dict[str, list[float]]) -> M | nn.Module:
    """An int8 copy of ``body`` (a traced GraphModule, same inputs and outputs) with the activation ranges of
    ``calibrate_body``; on any mismatch or failure the body itself, unchanged (slower, never wrong). Selects
    the x86 quantised-kernel engine for the process when another one is set."""
    engine = torch.backends.quantized.engine
    if engine not in BODY_ENGINES:
        if not any(e in torch.backends.quantized.supported_engines for e in BODY_ENGINES):
            log.info("no x86 quantised-kernel engine: the ResNet body stays fp32")
            return body
        engine = next(e for e in BODY_ENGINES if e in torch.backends.quantized.supported_engines)
        torch.backends.quantized.engine = engine
    if not all(bool(torch.isfinite(t).all()) for t in [*body.parameters(), *body.buffers()] if t.is_floating_point()):
        log.warning("the ResNet body's weights are not all finite (a diverged or corrupt model): it stays fp32")
        return body
    try:
        from torch.ao.quantization.quantize_fx import convert_fx

        prepared = _prepare(body, torch.ao.quantization.MinMaxObserver, torch.zeros(1, 1, 64, 64))
        observers = _observers(prepared)
        if set(observers) != set(ranges):
            log.warning("the stored int8 ranges do not match this body (%d stored, %d needed; made by another "
                        "torch version?): the ResNet body stays fp32", len(ranges), len(observers))
            return body
        for name, obs in observers.items():
            scale, zero = float(ranges[name][0]), int(ranges[name][1])
            qmin, qmax = int(cast(int, obs.quant_min)), int(cast(int, obs.quant_max))
            if not (math.isfinite(scale) and scale > 0 and qmin <= zero <= qmax):
                raise ValueError(f"bad range [{scale}, {zero}] for {name}")
            # a min / max pair from which MinMaxObserver derives exactly this scale and zero point
            obs.min_val = torch.tensor((qmin - zero) * scale)
            obs.max_val = torch.tensor((qmax - zero) * scale)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return convert_fx(prepared)
    except (RuntimeError, NotImplementedError, AttributeError, ValueError, TypeError, IndexError) as e:
        log.warning("int8 ResNet body unavailable (%s): it stays fp32", e)
        return body
