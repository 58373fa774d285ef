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

import logging
import os
import warnings
from typing import TypeVar, cast

import torch
from torch import nn

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
