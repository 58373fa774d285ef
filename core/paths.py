"""Where the shipped resources live."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def default_weights_path() -> Path:
    return RESOURCES / "weights" / "default.safetensors"


def examples_dir() -> Path:
    return RESOURCES / "examples"
