"""A stand-in recogniser (no torch) for tests, demos and the end-to-end script.

It returns a fixed formula with plausible token probabilities and an attention map that
sweeps left to right over the input, so every part of the result window can be exercised.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

FAKE_LATEX = r"\frac { a } { b } + x ^ { 2 }"


class FakeRecognizer:
    description = "fake recogniser"

    def __init__(
        self, latex: str = FAKE_LATEX, delay_s: float = 0.0, fail_with: Exception | None = None
    ) -> None:
        self.latex = latex
        self.delay_s = delay_s
        self.fail_with = fail_with
        self.calls: list[tuple[tuple[int, ...], int]] = []
        self.rereads: list[bool] = []  # reread_unsure of each call
        self.renderers: list[Any] = []  # the renderer each call was given (None: no render check)

    def recognize(self, image: Any, beam: int = 1, reread_unsure: bool = True, renderer: Any = None) -> Any:
        from core.errors import ImageError
        from core.prediction import Prediction

        t0 = time.perf_counter()
        arr = np.asarray(image)
        self.calls.append((tuple(arr.shape), beam))
        self.rereads.append(reread_unsure)
        self.renderers.append(renderer)
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail_with is not None:
            raise self.fail_with
        gray = arr.mean(axis=2) if arr.ndim == 3 else arr.astype(np.float32)
        if arr.size == 0 or float(gray.max()) - float(gray.min()) < 8:
            raise ImageError("The snip is blank: select a region that contains a formula.")
        tokens = self.latex.split()
        rng = np.random.default_rng(len(tokens) + beam)
        probs = [float(p) for p in rng.uniform(0.55, 0.99, len(tokens))]
        if len(probs) > 3:
            probs[3] = 0.31  # one visibly uncertain token
        h, w = 64, max(64, int(64 * gray.shape[1] / max(1, gray.shape[0])))
        ys = (np.arange(h) * gray.shape[0] // h).clip(0, gray.shape[0] - 1)
        xs = (np.arange(w) * gray.shape[1] // w).clip(0, gray.shape[1] - 1)
        model_input = (gray[ys][:, xs] / 255.0).astype(np.float32)
        hf, wf = 4, max(4, w // 16)
        att = np.zeros((len(tokens) + 1, hf, wf), np.float32)
        for t in range(len(tokens) + 1):
            c = min(wf - 1, t * wf // max(1, len(tokens)))
            att[t, :, c] = 1.0
            att[t] /= att[t].sum()
        score = float(np.mean(np.log(probs))) if probs else 0.0
        return Prediction(
            latex=self.latex,
            tokens=tokens,
            token_probs=probs,
            score=score,
            ms=(time.perf_counter() - t0) * 1000,
            attention=att,
            model_input=model_input,
        )


def fake_loader(path: Path, device: str) -> FakeRecognizer:
    return FakeRecognizer(delay_s=0.2)


fake_loader.needs_file = False  # type: ignore[attr-defined]
