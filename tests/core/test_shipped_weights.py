"""The shipped weights load, carry sane metadata and read the bundled example images.

resources/examples/expected.tsv lists each example PNG with its im2latex-normalized LaTeX.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from core.checkpoint import load_checkpoint
from core.paths import default_weights_path, examples_dir
from core.recognizer import Recognizer
from training.metrics import edit_score

WEIGHTS = default_weights_path()
EXPECTED = examples_dir() / "expected.tsv"

pytestmark = pytest.mark.skipif(
    not WEIGHTS.is_file(),
    reason=f"shipped weights not present at {WEIGHTS} (train or fetch them first)",
)


def _examples() -> list[tuple[Path, list[str]]]:
    with open(EXPECTED, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(examples_dir() / r["file"], r["latex"].split()) for r in rows]


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    torch.set_num_threads(1)
    return Recognizer.load(WEIGHTS, "cpu")


def test_metadata() -> None:
    ckpt = load_checkpoint(WEIGHTS)
    assert ckpt.model_config.vocab_size == len(ckpt.vocab)
    steps = ckpt.provenance.get("steps")
    assert isinstance(steps, int) and steps > 0, (
        f"provenance lacks a positive 'steps': {ckpt.provenance}"
    )


def test_examples_present() -> None:
    examples = _examples()
    assert len(examples) >= 8
    for path, ref in examples:
        assert path.is_file(), f"{path} listed in {EXPECTED.name} but missing"
        assert ref, f"{path.name}: empty expected LaTeX"


def test_examples_recognized(recognizer: Recognizer) -> None:
    examples = _examples()
    refs = [ref for _, ref in examples]
    hyps = [recognizer.recognize(path, beam=1).tokens for path, _ in examples]
    exact = sum(r == h for r, h in zip(refs, hyps, strict=True))
    report = "\n".join(
        f"{'ok ' if r == h else 'BAD'} {p.name}: {' '.join(h)}"
        for (p, r), h in zip(examples, hyps, strict=True)
    )
    assert exact >= 0.75 * len(examples), f"only {exact}/{len(examples)} exactly right:\n{report}"
    score = edit_score(refs, hyps)
    assert score >= 0.9, f"token edit score {score:.3f} < 0.9:\n{report}"


def test_long_formula_is_read_by_the_wide_head(recognizer: Recognizer) -> None:
    """A formula too wide for the 320-px canvas goes to the wide head on a wider canvas."""
    assert recognizer.wide_model is not None
    path, ref = next((p, r) for p, r in _examples() if p.name == "09_binomial_theorem.png")
    pred = recognizer.recognize(path, beam=1)
    assert pred.model_input is not None and pred.model_input.shape[1] > recognizer.preprocess_config.width
    assert edit_score([ref], [pred.tokens]) >= 0.9, pred.latex
