"""Device choice and the autocast dtype that is fast and accurate on it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from core.errors import LatexSnipError


def pick_device(name: str = "auto") -> torch.device:
    """"auto" -> CUDA, else MPS, else CPU; an explicit device that is absent is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LatexSnipError("CUDA was asked for but no CUDA GPU is available (use --device cpu or auto)")
    return dev


def cpu_has_bf16() -> bool:
    """AVX-512 BF16 / AMX: bf16 matmuls are fast on this CPU."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    if dtype is None:
        yield
    else:
        with torch.autocast(device_type=device.type, dtype=dtype):
            yield
