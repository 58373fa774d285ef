"""core.render_match and Recognizer(renderer=...): the reading whose rendering draws the snip is kept; a snip
that no rendering resembles keeps the model's choice."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from core.preprocess import PreprocessConfig
from core.render_match import (
    INK_LEVELS,
    MAX_DISTANCE,
    Match,
    banded_edit_distance,
    choose,
    closest,
    exact_distance,
    levenshtein_matrix,
    mask_distance,
    render_mask,
    render_scale,
    snip_ink,
    snip_mask,
)
from tests.core.helpers import draw, reader

CFG = PreprocessConfig()


def _glyphs(pattern: str, scale: int = 1, dark: bool = False) -> np.ndarray:
    """A row of glyph-like marks at the renderer's scale: 'l' a 9-px bar, 'o' a 9-px box, 's' a short bar."""
    g = np.full((20 * scale, (8 * len(pattern) + 8) * scale), 255, np.uint8)
    for k, c in enumerate(pattern):
        x, s = (4 + 8 * k) * scale, scale
        if c == "l":
            g[5 * s : 14 * s, x : x + 2 * s] = 0
        elif c == "o":
            g[5 * s : 14 * s, x : x + 6 * s] = 0
            g[7 * s : 12 * s, x + 2 * s : x + 4 * s] = 255
        elif c == "s":
            g[9 * s : 14 * s, x : x + 2 * s] = 0
    return 255 - g if dark else g


def test_the_same_drawing_is_at_distance_zero_and_another_is_not() -> None:
    snip = snip_mask(snip_ink(_glyphs("lolsl"), CFG))  # type: ignore[arg-type]
    assert snip is not None
    assert mask_distance(snip, render_mask(_glyphs("lolsl"))) == 0.0  # type: ignore[arg-type]
    assert mask_distance(snip, render_mask(_glyphs("lolol"))) > 0.1  # type: ignore[arg-type]
    assert mask_distance(snip, render_mask(_glyphs("lol"))) > 0.3  # type: ignore[arg-type]


def test_a_dark_mode_snip_is_compared_and_a_zoomed_one_is_not() -> None:
    best, dists = closest(snip_ink(_glyphs("lolsl", dark=True), CFG), [_glyphs("lolsl"), _glyphs("lolol")])
    assert best == 0 and dists[0] == 0.0 and dists[1] is not None and dists[1] > MAX_DISTANCE
    # glyphs 3x the renderings': ink 3x as wide, which no rendering at their scale can match: never compared
    assert closest(snip_ink(_glyphs("lolsl", scale=3), CFG), [_glyphs("lolsl"), _glyphs("lolol")]) == (None, [None, None])


def test_a_larger_snip_gets_its_scale_from_the_first_rendering() -> None:
    renders = [None, _glyphs("lolol"), _glyphs("lolsl")]
    for scale in (3, 2):
        assert render_scale(snip_ink(_glyphs("lolsl", scale=scale), CFG), renders) == scale
    # at the renderings' scale, out of bounds, or nothing rendered: not typeset again
    assert render_scale(snip_ink(_glyphs("lolsl"), CFG), renders) is None
    assert render_scale(snip_ink(_glyphs("lolsl", scale=9), CFG), renders) is None
    assert render_scale(snip_ink(_glyphs("lolsl"), CFG), [_glyphs("lolsl", scale=2)]) is None  # smaller: never
    assert render_scale(snip_ink(_glyphs("lolsl", scale=3), CFG), [None]) is None
    assert render_scale(None, renders) is None


def test_a_larger_snip_whose_glyphs_break_up_is_measured_by_its_ink_extent() -> None:
    """Anti-aliased strokes break up or merge with the ink level, so their glyph heights say little about the
    scale; the extent of the ink does. A snip of another shape than the first rendering is not typeset again."""
    broken = _glyphs("lolsl", scale=2)
    broken[::2] = 255  # every other row blank: no glyph taller than 1 px
    renders = [_glyphs("lolsl")]
    assert render_scale(snip_ink(broken, CFG), renders) == 2
    flat = _glyphs("lolsl", scale=2)
    flat[: 12 * 2] = 255  # only the bottom rows of ink: twice as wide, not twice as tall
    assert render_scale(snip_ink(flat, CFG), renders) is None


def _edited(rng: np.random.Generator, mask: np.ndarray, edits: int) -> np.ndarray:
    """``mask`` with ``edits`` columns inserted, deleted or replaced at random."""
    out = mask.copy()
    for _ in range(edits):
        at, column = int(rng.integers(0, out.shape[1])), rng.random((out.shape[0], 1)) < 0.3
        op = int(rng.integers(0, 3))
        if op == 0:
            out = np.hstack([out[:, :at], column, out[:, at:]])
        elif op == 1 and out.shape[1] > 1:
            out = np.delete(out, at, axis=1)
        else:
            out[:, at] = column[:, 0]
    return out


def test_a_distance_within_a_limit_is_the_full_one_and_one_beyond_it_is_infinite() -> None:
    """``mask_distance(..., limit)`` works out only the diagonal band an alignment within the limit can use: where
    the full distance is within the limit it is the same number, elsewhere ``math.inf`` (never a wrong choice)."""
    rng = np.random.default_rng(0)
    within = beyond = 0
    for _ in range(300):
        snip = rng.random((int(rng.integers(3, 24)), int(rng.integers(1, 90)))) < rng.uniform(0.05, 0.5)
        render = _edited(rng, snip, int(rng.integers(0, 5)))
        if rng.random() < 0.2:  # another height, another drawing
            render = rng.random((int(rng.integers(3, 24)), render.shape[1])) < 0.3
        snip[0, 0] = render[0, 0] = True
        full = mask_distance(snip, render)
        for limit in (0.0, 0.03, 0.1, 0.3):
            banded = mask_distance(snip, render, limit=limit)
            assert banded == (full if full <= limit else math.inf), (full, banded, limit)
            within, beyond = within + (full <= limit), beyond + (full > limit)
    assert within > 200 and beyond > 200  # both sides were tried


def test_the_pixel_exact_distance_is_the_full_edit_distance_of_identical_columns() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        snip = rng.random((int(rng.integers(3, 16)), int(rng.integers(1, 60)))) < 0.2
        render = _edited(rng, snip, int(rng.integers(0, 8)))
        snip[0, 0] = render[0, 0] = True
        h = max(snip.shape[0], render.shape[0])
        cols = [np.vstack([m, np.zeros((h - m.shape[0], m.shape[1]), bool)]).T for m in (snip, render)]
        unequal = np.array([[not np.array_equal(x, y) for y in cols[1]] for x in cols[0]], bool)
        assert exact_distance(snip, render) == float(levenshtein_matrix(unequal)[-1, -1]) / snip.shape[1]


def test_banded_edit_distance_is_the_edit_distance_up_to_its_band() -> None:
    def distance(a: str, b: str, k: int) -> int:
        unequal = np.ones((len(a), 2 * k + 1), bool)
        for i, c in enumerate(a):
            for o in range(-k, k + 1):
                if 0 <= i + o < len(b) and b[i + o] == c:
                    unequal[i, o + k] = False
        return banded_edit_distance(unequal, len(b), k)

    pairs = [("kitten", "sitting"), ("formula", "formulae"), ("abcdef", "abcdef"), ("abc", "cab"), ("", "ab")]
    for a, b in pairs:
        full = int(levenshtein_matrix(np.array([[x != y for y in b] for x in a], bool).reshape(len(a), len(b)))[-1, -1])
        for k in range(5):
            assert distance(a, b, k) == full if full <= k else distance(a, b, k) > k


def test_closest_picks_the_nearest_rendering_first_of_equals_and_none_when_all_are_far() -> None:
    snip = snip_ink(_glyphs("lolsl"), CFG)
    renders = [_glyphs("lolol"), None, _glyphs("lolsl"), _glyphs("lolsl")]
    best, dists = closest(snip, renders)
    assert best == 2 and dists[1] is None and dists[2] == 0.0
    best, dists = closest(snip, [_glyphs("lolol"), np.full((10, 10), 255, np.uint8)])
    assert best is None and dists[0] is not None and dists[0] > MAX_DISTANCE and dists[1] is None
    # ink much narrower than the snip's: never within MAX_DISTANCE (a column more or fewer costs an edit), not compared
    assert closest(snip, [_glyphs("oo")]) == (None, [None])
    assert closest(None, [_glyphs("lolsl")]) == (None, [None])
    assert snip_ink(np.full((30, 30), 255, np.uint8), CFG) is None  # blank: nothing to compare


def test_an_anti_aliased_snip_is_also_compared_at_its_fainter_ink() -> None:
    """A snip whose strokes fade out sideways over 2 px (a screen grab) draws them thinner than TeX's renderings when
    cut at half its ink, and matches nothing there; cut at the fainter INK_LEVELS it matches its own formula's
    rendering, and still not another one."""
    render, wrong = _glyphs("lolsl", scale=3), _glyphs("lolol", scale=3)
    core = ndimage.binary_erosion(render < 128, np.ones((1, 3), bool), iterations=2)
    ink = snip_ink(np.where(core, 0, np.where(render < 128, 170, 255)).astype(np.uint8), CFG)
    assert ink is not None and INK_LEVELS[0] == 0.5 and min(INK_LEVELS) < 1 - 170 / 255
    assert mask_distance(snip_mask(ink), render_mask(render)) > MAX_DISTANCE  # type: ignore[arg-type]
    best, dists = closest(ink, [wrong, render])
    assert best == 1 and dists[1] is not None and dists[1] <= MAX_DISTANCE
    assert dists[0] is not None and dists[0] > MAX_DISTANCE
    assert closest(ink, [wrong])[0] is None


def _widened(pattern: str, by: int) -> np.ndarray:
    """``_glyphs(pattern)`` with the gap after its second glyph ``by`` px wider: the same glyphs, all but two moved."""
    return np.insert(_glyphs(pattern), [19] * by, 255, axis=1)


class _Table:
    """Draws each text as a table says (anything else as an unrelated row), and records every typesetting run."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table, self.runs = table, []  # type: list[list[str]]

    def __call__(self, texts: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        self.runs.append(list(texts))
        return [self.table.get(t, _glyphs("oooo")) for t in texts]


def test_a_near_match_is_refined_step_by_step_to_the_variant_that_draws_the_snip(monkeypatch: pytest.MonkeyPatch) -> None:
    """A match at a distance above 0 has its reading's variants typeset; a closer one is kept and refined in turn,
    for REFINE_ROUNDS rounds, one typesetting run per round; equally close variants leave the match as it is."""
    pattern = "lolsl" * 4
    snip = snip_ink(_glyphs(pattern), CFG)
    table = {"near": _widened(pattern, 4), "nearer": _widened(pattern, 2), "same": _widened(pattern, 4),
             "exact": _glyphs(pattern)}
    variants = {"near": ["far", "nearer", "near"], "nearer": ["exact", "near"], "exact": ["near"], "same": ["near"]}
    renderer = _Table(table)
    [plain] = choose([snip], [["near"]], [renderer])
    assert plain is not None and plain.latex == "near" and 0 < plain.distance <= MAX_DISTANCE
    [refined] = choose([snip], [["near"]], [renderer], refine=lambda t: variants.get(t, []))
    assert refined == Match(0, 0.0, "exact")
    assert renderer.runs[-2:] == [["far", "nearer"], ["exact", "near"]]  # the reading itself is never typeset again
    [nearer] = choose([snip], [["far", "near"]], [renderer], refine=lambda t: variants.get(t, []) if t != "nearer" else [])
    assert nearer is not None and nearer.reading == 1 and nearer.latex == "nearer" and 0 < nearer.distance < plain.distance
    monkeypatch.setattr("core.render_match.REFINE_ROUNDS", 1)
    [once] = choose([snip], [["near"]], [renderer], refine=lambda t: variants.get(t, []))
    assert once == nearer._replace(reading=0)
    # a variant drawn the same as the match: the match stays; an exact match is never refined
    assert choose([snip], [["near"]], [renderer], refine=lambda t: ["same"]) == [plain]
    runs = len(renderer.runs)
    assert choose([snip], [["exact"]], [renderer], refine=lambda t: ["near"]) == [Match(0, 0.0, "exact")]
    assert len(renderer.runs) == runs + 1


def test_every_renderer_hears_when_the_check_is_done_even_when_one_fails() -> None:
    """``finished`` (optional) is called once per ``choose``, after every run: the TeX check starts its next programs
    then (training.render.formula_renderer), so that they do not load while this snip is still being checked."""
    pattern = "lolsl"
    snip = snip_ink(_glyphs(pattern), CFG)
    calls: list[str] = []

    class _Noting(_Table):
        def __call__(self, texts: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
            calls.append("run")
            return super().__call__(texts, scale)

        def finished(self) -> None:
            calls.append("finished")

    def broken(texts: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        raise OSError("pdflatex: killed")

    noting, other = _Noting({}), _Noting({"x": _glyphs(pattern)})
    assert choose([snip], [["x"]], [broken, noting, other])[0] == Match(0, 0.0, "x")  # type: ignore[list-item]
    assert calls.count("finished") == 2 and calls[-2:] == ["finished", "finished"]  # after every run, once each
    calls.clear()
    assert choose([snip], [["x"]], [other]) == [Match(0, 0.0, "x")] and calls == ["run", "finished"]

    class _Failing(_Noting):
        def finished(self) -> None:
            raise OSError("cannot start pdflatex")

    assert choose([snip], [["x"]], [_Failing({"x": _glyphs(pattern)})]) == [Match(0, 0.0, "x")]  # still read


class _DrawingRenderer:
    """Renders one chosen text as the snip itself and every other text as something else."""

    def __init__(self, snip: Image.Image, pick: str = "last") -> None:
        self.snip, self.pick = snip, pick
        self.seen: list[str] = []

    def __call__(self, texts: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        self.seen = list(texts)
        target = {"last": max(texts), "first": min(texts)}.get(self.pick) if texts else None
        other = np.asarray(draw("1 + 2 = 3 = 3"))
        return [np.asarray(self.snip) if t == target else other for t in texts]


class _ScaledRenderer:
    """Draws the last text as 'lolsl' and every other one as 'lolol', at the scale asked for."""

    def __init__(self) -> None:
        self.scales: list[float] = []
        self.seen: list[str] = []

    def __call__(self, texts: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        self.scales.append(scale)
        self.seen = list(texts)
        return [_glyphs("lolsl" if t == max(texts) else "lolol", scale=round(scale)) for t in texts]


def test_the_reading_whose_rendering_draws_the_snip_is_kept(tiny_weights: Path) -> None:
    rec = reader(tiny_weights)
    snip = Image.fromarray(_glyphs("lolsl"))  # drawn at the renderer's scale, as a TeX-typeset snip is
    renderer = _DrawingRenderer(snip)
    pred = rec.recognize(snip, beam=4, renderer=renderer)
    assert len(renderer.seen) > 1  # every hypothesis of the beam was typeset
    assert pred.latex == max(renderer.seen) and pred.render_distance == 0.0
    plain = rec.recognize(snip, beam=4)
    assert pred.first_choice == (plain.latex if plain.latex != pred.latex else None)
    assert pred.to_json()["render_distance"] == 0.0 and "render_distance" not in plain.to_json()


def test_a_larger_snip_is_compared_with_its_readings_typeset_at_its_scale(tiny_weights: Path) -> None:
    rec = reader(tiny_weights)
    snip = Image.fromarray(_glyphs("lolsl", scale=3))  # a zoomed-in snip: glyphs 3x the renderer's
    renderer = _ScaledRenderer()
    pred = rec.recognize(snip, beam=4, renderer=renderer)
    assert renderer.scales == [1.0, 3.0]  # typeset once at the renderer's scale, once more at the snip's
    assert pred.render_distance == 0.0 and pred.latex == max(renderer.seen)


def test_a_larger_snip_the_first_font_matches_at_its_scale_is_not_typeset_in_the_others(tiny_weights: Path) -> None:
    rec = reader(tiny_weights)
    snip = Image.fromarray(_glyphs("lolsl", scale=3))
    first, second = _ScaledRenderer(), _ScaledRenderer()
    pred = rec.recognize(snip, beam=4, renderer=[first, second])
    assert first.scales == [1.0, 3.0] and second.scales == []  # its own scale, then the snip's: a match
    assert pred.render_distance == 0.0 and pred.latex == max(first.seen)


def test_renderers_are_tried_in_turn_for_the_snips_the_earlier_ones_do_not_match(tiny_weights: Path) -> None:
    rec = reader(tiny_weights)
    snip = Image.fromarray(_glyphs("lolsl"))
    first, second = _DrawingRenderer(snip), _DrawingRenderer(snip)
    rec.recognize(snip, beam=4, renderer=[first, second])
    assert first.seen and not second.seen  # the first font matched: no other typeset
    other_font, same_font, also = _DrawingRenderer(snip, pick="none"), _DrawingRenderer(snip), _DrawingRenderer(snip, "first")
    pred = rec.recognize(snip, beam=4, renderer=[other_font, same_font, also])
    assert other_font.seen and same_font.seen and also.seen and min(also.seen) != max(same_font.seen)
    assert pred.latex == max(same_font.seen) and pred.render_distance == 0.0  # the earlier font's match counts


def test_without_a_close_rendering_the_most_confident_reading_stays(tiny_weights: Path) -> None:
    rec = reader(tiny_weights)
    snip = draw("a = b")
    plain = rec.recognize(snip, beam=4)
    def broken(texts: Sequence[str]) -> list[np.ndarray | None]:
        raise OSError("pdflatex: killed")

    for renderer in (_DrawingRenderer(snip, pick="none"), lambda texts: [None] * len(texts), broken):
        pred = rec.recognize(snip, beam=4, renderer=renderer)
        assert (pred.latex, pred.score, pred.render_distance) == (plain.latex, plain.score, None)
    assert plain.render_distance is None


def test_beam_search_nbest_holds_the_beams_endings_best_first(tiny_weights: Path) -> None:
    import torch

    from core.decode import beam_search, beam_search_nbest
    from core.device import autocast
    from core.preprocess import preprocess

    rec = reader(tiny_weights)
    # the features as the recogniser hands them to its decoder (bf16 on a CPU with fast bf16)
    feats, _ = rec._features(rec.model, [preprocess(draw(f), rec.preprocess_config) for f in ("x + 1", "a = b")])
    with torch.inference_mode(), autocast(rec.device, rec._decoder_autocast):
        nbest = beam_search_nbest(rec.model, feats, beam=4)
        best = beam_search(rec.model, feats, beam=4)
    assert len(nbest) == 2 and all(1 <= len(h) <= 4 for h in nbest)
    for hyps, top in zip(nbest, best, strict=True):
        assert [d.score for d in hyps] == sorted((d.score for d in hyps), reverse=True)
        assert hyps[0].ids == top.ids and len({tuple(d.ids) for d in hyps}) == len(hyps)


def test_a_spacing_variant_that_draws_the_snip_is_kept_with_the_models_scores_for_it(
    tiny_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spacing variants of the most confident reading (core.spacing) are typeset after the model's readings; one
    that draws the snip is kept, scored by the model held to its tokens (token probabilities and attention per
    token, as for the model's own readings)."""
    rec = reader(tiny_weights)
    snip = Image.fromarray(_glyphs("lolsl"))
    plain = rec.recognize(snip, beam=1)
    variant = [*plain.tokens, "+", "1"]  # the tiny vocabulary has no spacing commands: any tokens stand in
    monkeypatch.setattr("core.recognizer.spacing_variants", lambda tokens: [["no-such-token"], variant])
    renderer = _Drawing(snip, " ".join(variant))
    pred, _ = rec.recognize_batch([snip, draw("1 + 2 = 3 = 3 = 3")], beam=1, renderer=renderer)  # a wider one beside
    assert " ".join(variant) in renderer.seen and "no-such-token" not in renderer.seen  # out-of-vocabulary: left out
    assert pred.tokens == variant and pred.latex == " ".join(variant) and pred.render_distance == 0.0
    assert len(pred.token_probs) == len(variant) and pred.attention is not None and pred.attention.shape[0] == len(variant)
    assert pred.token_probs[: len(plain.tokens)] == pytest.approx(plain.token_probs, abs=1e-5)
    assert pred.first_choice == plain.latex and pred.score < plain.score


class _Drawing:
    """Renders ``target`` as the snip itself and every other text as something else."""

    def __init__(self, snip: Image.Image, target: str) -> None:
        self.snip, self.target = snip, target
        self.seen: list[str] = []

    def __call__(self, texts: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        self.seen = list(texts)
        return [np.asarray(self.snip) if t == self.target else np.asarray(draw("1 + 2 = 3 = 3")) for t in texts]


def test_a_refined_reading_is_kept_with_the_models_scores_for_it(tiny_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model's reading draws the snip nearly (one gap wider); its variant (core.variants) that draws it exactly is
    kept, scored by the model held to its tokens on the reading's own canvas."""
    rec = reader(tiny_weights)
    pattern = "lolsl" * 4
    snip = Image.fromarray(_glyphs(pattern))
    plain = rec.recognize(snip, beam=1)
    variant = [*plain.tokens, "+", "1"]  # the tiny vocabulary has no spacing or delimiter sizes: any tokens stand in
    monkeypatch.setattr("core.recognizer.spacing_variants", lambda tokens: [])
    monkeypatch.setattr("core.recognizer.refinements", lambda tokens: [["no-such-token"], variant] if tokens == plain.tokens else [])
    renderer = _Table({plain.latex: _widened(pattern, 2), " ".join(variant): _glyphs(pattern)})
    pred = rec.recognize(snip, beam=1, renderer=renderer)
    assert renderer.runs == [[plain.latex], [" ".join(variant)]]  # out-of-vocabulary variants: left out
    assert pred.tokens == variant and pred.render_distance == 0.0 and pred.first_choice == plain.latex
    assert len(pred.token_probs) == len(variant) and pred.attention is not None and pred.attention.shape[0] == len(variant)
    assert pred.token_probs[: len(plain.tokens)] == pytest.approx(plain.token_probs, abs=1e-5)
    monkeypatch.setattr("core.render_match.REFINE_ROUNDS", 0)
    unrefined = rec.recognize(snip, beam=1, renderer=renderer)
    assert unrefined.latex == plain.latex and unrefined.render_distance is not None and unrefined.render_distance > 0


def test_near_ties_keep_the_models_order_on_thin_strokes_and_are_ranked_by_pixels_on_solid_ones() -> None:
    """Of renderings at the same column distance above 0, a snip of thin, light strokes (a PDF viewer's, a browser's)
    keeps the first (the model's order), however many of its columns differ by a pixel; a snip of solid strokes (a
    binarized render) keeps the one that agrees pixel for pixel, as exact ties always do."""
    drawing = _glyphs("lolsl" * 4)
    dark = drawing < 128
    halo = np.zeros_like(dark)
    halo[:, 1:] |= dark[:, :-1]
    halo[:, :-1] |= dark[:, 1:]
    thin = drawing.copy()
    thin[halo & ~dark] = 190  # a light fringe on every stroke: half its ink lighter than half, below the mask's level
    solid_snip, thin_snip = snip_ink(drawing, CFG), snip_ink(thin, CFG)
    assert solid_snip is not None and thin_snip is not None
    mask = snip_mask(solid_snip)
    assert mask is not None and np.array_equal(mask, snip_mask(thin_snip))  # the same columns are compared
    bar_gone = drawing.copy()
    bar_gone[5:14, 20:22] = 255  # the third bar gone: its two columns unequal
    pixel_edges = bar_gone.copy()
    pixel_edges[14, 36:38] = 0  # bars one pixel longer: within the column tolerance, not pixel for pixel
    pixel_edges[14, 44:46] = 0
    near = [render_mask(r) for r in (pixel_edges, bar_gone)]
    assert all(m is not None for m in near)
    d = [mask_distance(mask, m) for m in near]  # type: ignore[arg-type]
    assert 0 < d[0] == d[1] <= MAX_DISTANCE
    assert exact_distance(mask, near[0]) > exact_distance(mask, near[1])  # type: ignore[arg-type]
    assert closest(thin_snip, [pixel_edges, bar_gone])[0] == 0  # the model's first reading stays
    assert closest(solid_snip, [pixel_edges, bar_gone])[0] == 1  # pixels decide
    exact_edges = drawing.copy()
    exact_edges[14, 36:38] = 0
    assert mask_distance(mask, render_mask(exact_edges)) == 0.0  # type: ignore[arg-type]
    assert closest(thin_snip, [exact_edges, drawing])[0] == 1  # exact ties: the pixel-for-pixel one, thin or not
