"""Learning-rate schedule as a pure function: linear warm-up, then cosine to a floor."""

from __future__ import annotations

import math


def lr_at(step: int, progress: float, base_lr: float, warmup_steps: int, floor: float = 0.02) -> float:
    """progress in 0..1 is how far the run is (by steps or by time, whichever is further)."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(max(progress, 0.0), 1.0)
    return base_lr * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * p)))
