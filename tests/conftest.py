"""Shared fixtures: tiny formula images drawn with PIL, a tiny trained checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# OpenMP threads that spin while waiting slow everything down badly when the cores are shared.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "im2latex"


@pytest.fixture(scope="session")
def shared_im2latex() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not present (the offline im2latex material)")
    return SHARED
