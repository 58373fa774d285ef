"""What one recognition returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Prediction:
    """One recognised formula.

    ``attention`` has shape (T, Hf, Wf): for output token t, the weights over the encoder's
    feature grid; the grid covers ``model_input`` (H, W, values 0..1, ink = 1 on background = 0) evenly,
    so cell (i, j) spans rows i*H/Hf..(i+1)*H/Hf and columns j*W/Wf..(j+1)*W/Wf.
    """

    latex: str
    tokens: list[str]
    token_probs: list[float]
    score: float  # length-normalised log-probability of the sequence (<= 0)
    ms: float = 0.0  # wall time of the whole recognise call
    attention: np.ndarray | None = field(default=None, repr=False)  # (T, Hf, Wf)
    model_input: np.ndarray | None = field(default=None, repr=False)  # (H, W) float32
    # with a renderer (core.render_match): how far the kept reading's rendering is from the snip, 0 = the same
    # columns; None: not compared, or no reading rendered close to the snip
    render_distance: float | None = None
    # with a renderer: the model's most confident reading where the render check kept another one, else None
    first_choice: str | None = None
    # other readings of the snip, written as ``latex`` is, for a user to pick from: the model's first choice (where
    # the render check kept another), then the rest (beam hypotheses, rereadings) by confidence; distinct, without
    # ``latex``, at most ``core.recognizer.MAX_ALTERNATIVES``
    alternatives: tuple[str, ...] = ()

    @property
    def confidence(self) -> float:
        """exp(score): geometric-mean token probability, in 0..1."""
        return math.exp(self.score)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"latex": self.latex, "score": round(self.score, 4), "ms": round(self.ms, 1)}
        if self.render_distance is not None:
            out["render_distance"] = round(self.render_distance, 4)
        if self.first_choice is not None:
            out["first_choice"] = self.first_choice
        if self.alternatives:
            out["alternatives"] = list(self.alternatives)
        return out
