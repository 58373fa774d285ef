"""training.metrics: hand-computed values (im2markup / multi-bleu.perl conventions)."""

from __future__ import annotations

import math
import random
import shutil

import numpy as np
import pytest
from PIL import Image

from training import metrics
from training.metrics import (
    GROUPING_BRACES,
    SPACING_TOKENS,
    _opcodes,
    corpus_bleu,
    edit_distance,
    edit_score,
    exact_match,
    exact_match_ignoring,
    exact_offered,
    image_match,
    image_match_rate,
)


def T(s: str) -> list[str]:
    return s.split()


# ---------------------------------------------------------------------------- BLEU


def test_bleu_identical_is_100():
    refs = [T("\\frac { a } { b } + c"), T("x ^ { 2 } = y _ 1")]
    assert corpus_bleu(refs, refs) == pytest.approx(100.0)


def test_bleu_one_sentence_by_hand():
    # ref a b c d e / hyp a b c d f (same length: BP = 1)
    # 1-grams a b c d f   -> 4 of 5 in ref
    # 2-grams ab bc cd df -> 3 of 4
    # 3-grams abc bcd cdf -> 2 of 3
    # 4-grams abcd bcdf   -> 1 of 2
    # BLEU = 100 * (4/5 * 3/4 * 2/3 * 1/2) ** (1/4) = 100 * 0.2 ** 0.25 = 66.874...
    got = corpus_bleu([T("a b c d e")], [T("a b c d f")])
    assert got == pytest.approx(100 * 0.2**0.25)
    assert got == pytest.approx(66.8740, abs=1e-3)


def test_bleu_is_corpus_level_not_sentence_average():
    # pair 1 as above (4/5, 3/4, 2/3, 1/2); pair 2 identical, 4 tokens (4/4, 3/3, 2/2, 1/1).
    # Counts are summed over the corpus: 8/9, 6/7, 4/5, 2/3; r = c = 9.
    refs = [T("a b c d e"), T("x y z w")]
    hyps = [T("a b c d f"), T("x y z w")]
    expected = 100 * (8 / 9 * 6 / 7 * 4 / 5 * 2 / 3) ** 0.25  # = 79.84...
    assert corpus_bleu(refs, hyps) == pytest.approx(expected)
    assert expected == pytest.approx(79.84, abs=0.01)


def test_bleu_brevity_penalty():
    # hyp is a 6-token prefix of an 8-token ref: every precision is 1, c=6 < r=8
    # BLEU = 100 * exp(1 - 8/6) = 100 * exp(-1/3) = 71.653...
    got = corpus_bleu([T("a b c d e f g h")], [T("a b c d e f")])
    assert got == pytest.approx(100 * math.exp(-1 / 3))
    assert got == pytest.approx(71.653, abs=1e-3)


def test_bleu_no_penalty_for_longer_hypothesis():
    # hyp longer than ref: BP = 1; ref a b c d, hyp a b c d e
    # precisions 4/5, 3/4, 2/3, 1/2 -> same product as the one-sentence case
    assert corpus_bleu([T("a b c d")], [T("a b c d e")]) == pytest.approx(100 * 0.2**0.25)


def test_bleu_clipping_and_zero_precision():
    # "the the the the" vs "the cat": unigram precision clipped to 1/4, no 2-gram match -> 0
    assert corpus_bleu([T("the cat")], [T("the the the the")]) == 0.0
    # clipping only: ref a a b c d, hyp a a a b c d... check unigram count directly via max_n=1
    # hyp a a a b: counts a:3 (ref has 2 -> clipped 2) + b:1 -> 3 of 4
    assert corpus_bleu([T("a a b c")], [T("a a a b")], max_n=1) == pytest.approx(75.0)


def test_bleu_failed_prediction_counts_as_empty():
    # item 2 has no prediction: it adds 2 to r and nothing to c or to the n-gram counts.
    # precisions 1 (from item 1), r = 6, c = 4 -> BP = exp(1 - 6/4) = exp(-0.5)
    refs = [T("a b c d"), T("x y")]
    assert corpus_bleu(refs, [T("a b c d"), None]) == pytest.approx(100 * math.exp(-0.5))
    assert corpus_bleu(refs, [T("a b c d"), []]) == pytest.approx(100 * math.exp(-0.5))
    assert corpus_bleu([T("a b")], [None]) == 0.0
    assert corpus_bleu([], []) == 0.0


def test_bleu_accepts_strings_and_checks_lengths():
    assert corpus_bleu(["a b c d"], ["a b c d"]) == pytest.approx(100.0)
    with pytest.raises(ValueError):
        corpus_bleu([T("a")], [])


# ---------------------------------------------------------------------------- edit / exact


def test_edit_distance():
    assert edit_distance(T("a b c"), T("a c")) == 1
    assert edit_distance(T("x y"), T("x y z w")) == 2
    assert edit_distance([], T("a b")) == 2
    assert edit_distance(list("kitten"), list("sitting")) == 3


def test_edit_score_by_hand():
    # item 1: a b c -> a c      distance 1, max len 3
    # item 2: x y   -> x y z w  distance 2, max len 4
    # 1 - (1 + 2) / (3 + 4) = 4/7
    assert edit_score([T("a b c"), T("x y")], [T("a c"), T("x y z w")]) == pytest.approx(4 / 7)


def test_edit_score_failed_prediction_and_edges():
    # a missing prediction: distance = len(ref), normaliser = len(ref) -> contributes 0
    assert edit_score([T("a b c"), T("d")], [None, T("d")]) == pytest.approx(1 - 3 / 4)
    assert edit_score([T("a")], [T("a")]) == 1.0
    assert edit_score([], []) == 1.0


def test_exact_match():
    refs = [T("a b"), T("c d"), T("e")]
    assert exact_match(refs, [T("a b"), T("c"), None]) == pytest.approx(1 / 3)
    assert exact_match(refs, refs) == 1.0
    assert exact_match([], []) == 0.0


def test_exact_offered_counts_the_reading_or_one_offered():
    refs = [T("a b"), T("c d"), T("e")]
    hyps = [T("a b"), T("c"), None]
    offered = [[], [T("x"), T("c d")], [T("f")]]
    assert exact_offered(refs, hyps, offered) == pytest.approx(2 / 3)
    assert exact_offered(refs, hyps, [[], [], []]) == exact_match(refs, hyps)
    assert exact_offered([], [], []) == 0.0
    with pytest.raises(ValueError):
        exact_offered(refs, hyps, offered[:2])


def test_exact_match_ignoring_drops_only_the_given_tokens():
    refs = [T("{ x } ~ y"), T("a \\\\ b"), T("a \\ b")]  # "\\\\" is a new row, "\\" a space
    hyps = [T("x \\; y"), T("a b"), T("a b")]
    assert exact_match_ignoring(refs, hyps, GROUPING_BRACES) == 0.0
    assert exact_match_ignoring(refs, hyps, GROUPING_BRACES | SPACING_TOKENS) == pytest.approx(2 / 3)
    assert exact_match_ignoring(refs, hyps, frozenset()) == exact_match(refs, hyps)
    with pytest.raises(ValueError):
        exact_match_ignoring(refs, hyps[:1], GROUPING_BRACES)


# ---------------------------------------------------------------------------- image match


def _formula_image(width: int = 40, height: int = 12) -> np.ndarray:
    """White image with distinct ink columns (every column differs from its neighbours)."""
    rng = np.random.default_rng(0)
    img = np.full((height, width), 255, np.uint8)
    ink = rng.random((height - 4, width - 4)) < 0.4
    img[2:-2, 2:-2][ink] = 0
    return img


def test_image_match_identical_and_missing():
    g = _formula_image()
    assert image_match([g, g], [g.copy(), None]) == [True, False]
    assert image_match([None], [g]) == [False]


def test_image_match_binarizes_gray_values():
    g = _formula_image()
    p = g.copy()
    p[p == 0] = 100  # still ink (<= 128)
    p[p == 255] = 200  # still paper
    assert image_match([g], [p]) == [True]


def test_image_match_small_shift_and_insertions_tolerated():
    g = _formula_image()
    shifted = np.hstack([np.full((g.shape[0], 3), 255, np.uint8), g])  # 3 extra white columns
    assert image_match([g], [shifted]) == [True]
    # 8 new ink columns inserted in the middle: an insert block, which im2markup tolerates
    wide = np.hstack([g[:, :20], np.zeros((g.shape[0], 8), np.uint8), g[:, 20:]])
    assert image_match([g], [wide]) == [True]


def test_image_match_fails_on_five_replaced_or_deleted_columns():
    g = _formula_image()
    p4 = g.copy()
    p4[:, 10:14] = 255 - p4[:, 10:14]  # 4 columns replaced: tolerated
    p5 = g.copy()
    p5[:, 10:15] = 255 - p5[:, 10:15]  # 5 columns replaced: miss
    deleted = np.hstack([g[:, :10], g[:, 16:]])  # 6 columns deleted: miss
    assert image_match([g, g, g], [p4, p5, deleted]) == [True, False, False]


def test_image_match_pads_heights_and_takes_pil():
    g = _formula_image()
    taller = np.vstack([g, np.full((5, g.shape[1]), 255, np.uint8)])  # extra white rows at the bottom
    assert image_match([Image.fromarray(g)], [Image.fromarray(taller).convert("RGB")]) == [True]


def test_opcodes_cost_equals_edit_distance():
    rng = random.Random(1)
    for _ in range(200):
        a = np.array([rng.randrange(3) for _ in range(rng.randrange(0, 12))], np.int64)
        b = np.array([rng.randrange(3) for _ in range(rng.randrange(0, 12))], np.int64)
        ops = _opcodes(a, b)
        cost = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")
        assert cost == edit_distance(list(a), list(b))
        # blocks tile both sequences in order
        assert sum(i2 - i1 for _, i1, i2, _, _ in ops) == len(a)
        assert sum(j2 - j1 for _, _, _, j1, j2 in ops) == len(b)


def test_image_match_rate_without_tex(monkeypatch):
    """Rendering stubbed: gold failures are left out, failed predictions are misses."""
    import training.render as render

    g = _formula_image()
    table = {"good": g, "other": 255 - g}

    def fake_render(formulas, font="cm", dpi=200, workers=2, progress=None, **kw):
        return [render.RenderResult(Image.fromarray(table[f]) if f in table else None,
                                    None if f in table else "tex_error: x") for f in formulas]

    monkeypatch.setattr(render, "check_tex", lambda font="cm": None)
    monkeypatch.setattr(render, "render_formulas", fake_render)
    logs: list[str] = []
    rate = image_match_rate(["good", "good", "good", "broken"], ["good", "other", None, "good"],
                            workers=1, log=logs.append)
    # scored: good/good True, good/other False, good/None False; "broken" gold left out -> 1/3
    assert rate == pytest.approx(1 / 3)
    assert logs and "1 gold formula" in logs[0]
    assert metrics.image_match_details(["good"], ["broken"]) == [False]


_HAVE_TEX = all(shutil.which(p) for p in ("pdflatex", "gs", "kpsewhich"))


@pytest.mark.skipif(not _HAVE_TEX, reason="pdflatex/ghostscript not installed")
def test_image_match_rate_with_tex():
    gold = ["x ^ { 2 } + y", "a + b", "\\frac { 1 } { 2 }"]
    pred = ["x ^ 2 + y", "p + q", "\\frac { 1 } {"]  # same image / different / does not compile
    assert metrics.image_match_details(gold, pred, workers=1) == [True, False, False]
    # im2markup's rule is lenient: "+" vs "-" differ only in the few columns of the vertical
    # stroke (< 5), so the images still match.
    assert image_match_rate(["a + b"], ["a - b"], workers=1) == 1.0
