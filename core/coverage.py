"""How much of a snip's ink a reading's attention visited: a penalty for hypotheses that skip part of it.

The tall head's commonest failure is a matrix or a system of equations read with a row left out: the decoder
closes a row, attends to the row after next and never returns; the wide head's, a stretch of a long formula left
out. The beam usually holds the complete reading too, ranked a little lower, and what tells them apart is where
the attention went: every feature-grid cell that holds ink should be looked at, at some step, by a reading that
writes all of it (the coverage penalty of Wu et al., 2016, "Google's neural machine translation system", over the
image's ink instead of source words).

``coverage_penalty`` is the mean, over the cells of the feature grid that hold ink, of log(min(attention summed
over the reading's steps, 1)): 0 where every inked cell got a whole step's worth of attention, negative where
some got less. ``core.recognizer`` adds ``coverage_weight`` x (a hypothesis's penalty - the best-covered one's)
to the confidence of each hypothesis of a wide or tall head's beam (``PreprocessConfig.coverage_weight``). Measured
with stage 12 (beam 5, 2026-12-07, each snip's head alone, ranked so with 0.2): 91 tall validation formulas 73.57
-> 75.83 BLEU, 98 tall test formulas 72.05 -> 74.51, 200 long validation formulas 88.90 -> 89.45, 200 long test
formulas 87.60 -> 88.14; on 400 ordinary validation formulas read by the main head the same ranking changed
nothing measurable (89.17 -> 89.22), so it is used for the heads of enlarged canvases only.
"""

from __future__ import annotations

import numpy as np
import torch

# A cell of the feature grid holds ink when at least this fraction of its canvas pixels are ink (> 0.5).
INK_FRACTION = 0.05


def ink_cells(canvas: torch.Tensor | np.ndarray, grid: tuple[int, int], cell: tuple[int, int]) -> np.ndarray:
    """(Hf, Wf) bool: the feature-grid cells of ``grid`` whose ``cell`` = (px high, px wide) block of ``canvas``
    ((1, H, W) or (H, W), ink bright on 0, as ``core.preprocess`` makes it; the batch's padding is blank) holds
    ink."""
    a = canvas.float().numpy() if isinstance(canvas, torch.Tensor) else np.asarray(canvas, dtype=np.float32)
    a = a.reshape(a.shape[-2], a.shape[-1])
    (hf, wf), (ph, pw) = grid, cell
    full = np.zeros((hf * ph, wf * pw), dtype=np.float32)
    h, w = min(a.shape[0], full.shape[0]), min(a.shape[1], full.shape[1])
    full[:h, :w] = a[:h, :w] > 0.5
    return full.reshape(hf, ph, wf, pw).mean(axis=(1, 3)) >= INK_FRACTION


def coverage_penalty(alphas: torch.Tensor, ink: np.ndarray) -> float:
    """alphas (T, L = Hf * Wf): a reading's attention per step; ``ink`` (Hf, Wf) from ``ink_cells``. The mean over
    inked cells of log(min(attention received, 1)); 0 without ink or steps."""
    if alphas.numel() == 0 or not ink.any():
        return 0.0
    received = alphas.float().sum(0).reshape(ink.shape).cpu().numpy()  # (Hf, Wf)
    return float(np.log(np.clip(received[ink], 1e-6, 1.0)).mean())
