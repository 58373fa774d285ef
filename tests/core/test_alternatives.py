"""Prediction.alternatives: the other readings of a snip a user can pick from, written as the kept one is."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from core.recognizer import MAX_ALTERNATIVES
from tests.core.helpers import draw, reader


def test_beam_search_offers_its_other_hypotheses_distinct_and_without_the_kept_reading(tiny_weights: Path) -> None:
    rec = reader(tiny_weights)
    snip = draw("x + 1")
    pred = rec.recognize(snip, beam=4)
    assert pred.alternatives and len(pred.alternatives) <= MAX_ALTERNATIVES
    assert pred.latex not in pred.alternatives and len(set(pred.alternatives)) == len(pred.alternatives)
    assert pred.first_choice is None  # no render check: the kept reading is the model's choice
    # the same search's other hypotheses, best first: a wider beam offers them in the same order
    wider = rec.recognize(snip, beam=6)
    assert wider.latex == pred.latex and wider.alternatives[:2] == pred.alternatives[:2]
    assert pred.to_json()["alternatives"] == list(pred.alternatives)


def test_greedy_reading_once_offers_none(tiny_weights: Path) -> None:
    pred = reader(tiny_weights).recognize(draw("x + 1"), beam=1)
    assert pred.alternatives == () and "alternatives" not in pred.to_json()


class _Drawing:
    """Renders ``target`` as the snip itself and every other text as something else."""

    def __init__(self, snip: Image.Image, target: str) -> None:
        self.snip, self.target = snip, target

    def __call__(self, texts: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        return [np.asarray(self.snip) if t == self.target else np.asarray(draw("1 + 2 = 3 = 3")) for t in texts]


def test_where_the_render_check_kept_another_reading_the_models_choice_is_offered_first(tiny_weights: Path) -> None:
    rec = reader(tiny_weights)
    snip = draw("x + 1")
    plain = rec.recognize(snip, beam=4)
    second = plain.alternatives[0]
    checked = rec.recognize(snip, beam=4, renderer=_Drawing(snip, second))
    assert checked.latex == second and checked.first_choice == plain.latex
    assert checked.alternatives[0] == plain.latex and second not in checked.alternatives
    assert set(checked.alternatives) <= {plain.latex, *plain.alternatives}
