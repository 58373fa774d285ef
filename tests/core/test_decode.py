"""core.decode.forced: the model held to given tokens reports what greedy reports for its own."""

from __future__ import annotations

from pathlib import Path

import torch

from core.decode import forced, greedy
from core.device import autocast
from core.preprocess import preprocess
from core.recognizer import Recognizer
from tests.core.helpers import draw


def test_held_to_its_own_greedy_reading_the_model_reports_the_same_and_less_for_another(tiny_weights: Path) -> None:
    rec = Recognizer.load(tiny_weights, device="cpu", int8=False)
    # the features and precision the recogniser decodes with (bf16 on a CPU with fast bf16)
    feats, _ = rec._features(rec.model, [preprocess(draw("x + 1"), rec.preprocess_config)])  # (1, L, D)
    with torch.inference_mode(), autocast(rec.device, rec._decoder_autocast):
        own = greedy(rec.model, feats)[0]
        held = forced(rec.model, feats, own.ids)
        other = forced(rec.model, feats, own.ids[:-1] + rec.vocab.encode(["="])[1:-1])
        empty = forced(rec.model, feats, [])
    assert held.ids == own.ids and len(held.probs) == len(own.ids) == held.alphas.shape[0]
    assert torch.allclose(torch.tensor(held.probs), torch.tensor(own.probs), atol=1e-5)
    assert abs(held.score - own.score) < 1e-5 and torch.allclose(held.alphas, own.alphas, atol=1e-5)
    assert other.score < own.score and other.probs[:-1] == held.probs[:-1]
    assert empty.ids == [] and empty.probs == [] and empty.alphas.shape[0] == 0
