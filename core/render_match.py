"""Choosing among readings by their TeX renderings: the reading that draws what the snip shows.

A misread formula often still ranks second or third: beam search's other hypotheses and the readings
at other glyph heights hold the right one for about a third of the snips whose best reading is wrong
(validation, 2026-11-29). The model cannot tell them apart, but a rendering can: each candidate is
typeset (by a ``Renderer`` the caller supplies, e.g. ``training.render`` with TeX Live) and compared
with the snip, column by column, as im2markup's image metric compares two renderings.

The snip goes through the ONE preprocessing function without its rescaling (ink cropped, polarity and
contrast normalised); it is compared only with renderings whose ink is about as wide as its own (no
rescaling: rescaled columns never match). Both are binarised (an anti-aliased snip also at fainter ink levels,
``INK_LEVELS``, when it matches nothing at half its ink), and the distance is
the Levenshtein distance of the two sequences of pixel columns over the snip's width, two columns being equal when
their ink agrees within one pixel (``mask_distance``: rasterisers differ by such edges; im2latex's own images, made
with another rasteriser, then match their formula), renderings equally close by the same count with columns equal
only pixel for pixel (``exact_distance``), then the model's order; on a snip of thin, light strokes renderings equally
close but not exact by the model's order alone (``NEAR_TIES_SOLID``). A snip typeset in Computer Modern at about the
training data's scale matches its formula's rendering within a few columns and a misreading by whole glyphs apart;
a snip in another font matches no rendering within ``MAX_DISTANCE``: then the model's choice stays. A snip drawn
larger (a zoomed page, a higher resolution) has its candidates typeset again at its own scale, measured by
``render_scale`` from the width of the model's most confident reading, and is compared with those; a smaller one
keeps the model's choice. A match that is close but not the same (distance above 0) is refined: variants of its
reading (``core.variants``: a spacing width, a delimiter's size, a look-alike command) are typeset and compared the
same way, and a closer one is kept (``REFINE_ROUNDS``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import NamedTuple, Protocol

import numpy as np
from PIL import Image

from core.errors import ImageError
from core.preprocess import PreprocessConfig, preprocess_array, thin_ink_level


class Renderer(Protocol):
    """LaTeX strings -> one grayscale image each (ink dark on white, uint8), None where one does not render; drawn
    ``scale`` times as large as the renderer's own scale (1: the training data's). A renderer may also have a
    ``finished()`` method: ``choose`` calls it once it is done with a batch of snips (e.g. to start the next runs'
    programs then, not while the check still runs)."""

    def __call__(self, formulas: Sequence[str], scale: float = 1.0) -> Sequence[np.ndarray | None]: ...


log = logging.getLogger(__name__)

# Closest rendering further than this (edit distance / snip columns) from the snip: keep the model's choice.
# Chosen on validation formulas: 0.1 also let Times and 300-dpi snips match wrong readings (robustness renders).
MAX_DISTANCE = 0.03
# A snip that no rendering at the renderer's scale matches, and whose ink is more than RESCALE_ABOVE (up to
# MAX_RENDER_SCALE) times as wide as that of the first reading (in the model's order) typeset there whose height
# ratio agrees within SCALE_AGREEMENT, has its readings typeset again at its scale (``render_scale``). Measured on
# the ink's extent, not its glyph heights: an anti-aliased snip's glyphs break up or merge with the ink level
# (300-dpi screen renders of validation formulas: glyph height 0.55-1.4x the rendering's at half ink, width
# 1.47-1.50x), so two in three HiDPI snips were never typeset at their scale (model card, "Larger snips measured by
# their ink"). Never a smaller snip: there one pixel of tolerance is a large part of a glyph (120-dpi renders,
# bench/robustness.py: 2 of 100 exact matches lost, where 300-dpi renders gained 2 and +0.8 BLEU).
RESCALE_ABOVE = 1.1
MAX_RENDER_SCALE = 4.0
SCALE_AGREEMENT = 0.15
# Ink levels (0-1) a snip's pixels must exceed to count as ink when compared: the first, then, when no rendering is
# within MAX_DISTANCE of that, the closest at any of the others. TeX's renderings count any coverage as ink (bold
# strokes); an anti-aliased snip (a screen grab) cut at half its ink draws thinner ones, and matched no rendering at
# all. Chosen on 200 validation formulas' beam-5 readings (model card, "Anti-aliased snips"): exact match on their
# anti-aliased renders at 200 / 250 / 300 dpi 47.5 / 47.5 / 47.5% -> 50.0 / 48.5 / 53.0%; binarized ones unchanged.
INK_LEVELS = (0.5, 0.3, 0.2)
# A match whose rendering is close but not the same (distance above 0): variants of its reading (``choose``'s
# ``refine``, e.g. ``core.variants.refinements``) are typeset at the match's font and scale, and the closest is kept
# where it is closer than the match, then its variants are tried, up to this many rounds (0: never refined).
# Validation, beam 5 (model card, "Near matches refined"): exact match 48.8% -> 50.1%.
REFINE_ROUNDS = 3
# Renderings equally close to a snip (the same ``mask_distance``) are ranked pixel for pixel (``exact_distance``),
# except near matches (distance above 0) to a snip of thin, light strokes: less than this fraction of its ink darker
# than half (``core.preprocess.thin_ink_level``, the test ``solid_ink`` darkens by), as PDF viewers, browsers and
# MathJax draw them. There they keep the model's order: the pixels that differ are anti-aliased edges. Over the first 300
# validation formulas read with beam 5, the pixel ranking of such near ties replaced the model's choice with a worse
# reading 18 more times than with a better one (screen / HiDPI / PDF viewers / MuPDF / MathJax: -3 / -2 / -5 / -5 / -3
# exact matches). On solid strokes (binarized renders: the training data, the test split) pixels still rank them: of
# the test subset's 193 snips whose choice the rule would change everywhere, none is thin, and there the pixel ranking
# kept 8 more exact matches. 0: pixels rank every tie.
NEAR_TIES_SOLID = 0.65


class Match(NamedTuple):
    """What ``choose`` keeps for a snip: the index of the reading whose rendering matched, the distance of what was
    kept, and what was kept: that reading, or the variant of it a refinement found closer."""

    reading: int
    distance: float
    latex: str


class _Found(NamedTuple):
    """A match and where it was made: its rendering, the renderer, the scale."""

    match: Match
    image: np.ndarray
    renderer: Renderer
    scale: float


def comparison_config(cfg: PreprocessConfig) -> PreprocessConfig:
    """``cfg`` (a checkpoint's preprocessing: ink threshold, border cleaning, polarity) with no rescaling and no
    canvas: nothing shrunk to fit, no padding, no blur; thin strokes not darkened (``INK_LEVELS`` compare them)."""
    return replace(
        cfg, keep_scale_within=float("inf"), pad=0, height=16, width=16, max_height=1 << 13, max_width=1 << 14,
        min_fit_scale=1.0, tall_fit_scale=0.0, trim_multiple=1, upscale_blur=0.0, retry_glyph_heights=(), solid_ink=0.0,
    )


def snip_ink(image: Image.Image | np.ndarray, cfg: PreprocessConfig) -> np.ndarray | None:
    """(H, W) float ink (1) on background (0) of ``image`` at its own scale, cropped to it, as
    ``preprocess_array`` sees it under ``comparison_config(cfg)``; None when it holds no usable ink."""
    try:
        ink = preprocess_array(image, comparison_config(cfg))
    except ImageError:
        return None
    return _crop(ink, ink > min(INK_LEVELS))


def _crop(values: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return values[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def snip_mask(ink: np.ndarray, level: float = INK_LEVELS[0]) -> np.ndarray | None:
    """Bool ink mask of a ``snip_ink`` array (its pixels above ``level``), cropped; None when nothing is left."""
    return _crop(ink > level, ink > level)


def render_mask(render: np.ndarray) -> np.ndarray | None:
    """(H, W) bool ink of a rendering (grayscale, ink dark on white, already at the renderer's scale)
    cropped to it; None when it has no ink."""
    ink = np.asarray(render) < 128
    return _crop(ink, ink)


def levenshtein_matrix(unequal: np.ndarray) -> np.ndarray:
    """Full edit-distance DP matrix D[i, j] = distance(a[:i], b[:j]) of two sequences, given which of their items
    differ: ``unequal`` (n, m), 1 where a[i] and b[j] may not be matched; rows vectorised with numpy."""
    n, m = unequal.shape
    sub = unequal.astype(np.int32)
    d = np.empty((n + 1, m + 1), dtype=np.int32)
    d[0] = np.arange(m + 1)
    offs = np.arange(m + 1, dtype=np.int32)
    for i in range(1, n + 1):
        prev = d[i - 1]
        tmp = np.empty(m + 1, dtype=np.int32)
        tmp[0] = i
        tmp[1:] = np.minimum(prev[:-1] + sub[i - 1], prev[1:] + 1)
        # insertions: d[i, j] = min_k<=j tmp[k] + (j - k)
        d[i] = np.minimum.accumulate(tmp - offs) + offs
    return d


def column_ids(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel column of two (H, W) bool masks -> an integer id (equal columns, equal ids), the shorter mask
    padded with blank rows at the bottom."""
    h = max(a.shape[0], b.shape[0])
    ids: dict[bytes, int] = {}
    out = []
    for mask in (a, b):
        if mask.shape[0] < h:
            mask = np.vstack([mask, np.zeros((h - mask.shape[0], mask.shape[1]), bool)])
        cols = np.ascontiguousarray(mask.T)
        out.append(np.array([ids.setdefault(c.tobytes(), len(ids)) for c in cols], dtype=np.int64))
    return out[0], out[1]


def exact_distance(snip: np.ndarray, render: np.ndarray) -> float:
    """``mask_distance`` with columns equal only when identical, pixel for pixel: it separates renderings that
    differ by a pixel here and there, which ``mask_distance`` counts as the same. Worked out in full
    (``myers_distance``): it ranks the renderings within ``MAX_DISTANCE``, whatever its own value."""
    a, b = column_ids(snip, render)
    bits: dict[int, int] = {}  # column id -> the bits of the snip's columns with it
    for i, c in enumerate(a.tolist()):
        bits[c] = bits.get(c, 0) | (1 << i)
    return float(myers_distance([bits.get(c, 0) for c in b.tolist()], len(a))) / max(len(a), 1)


class Columns(NamedTuple):
    """A cropped ink mask as ``mask_distance`` compares it: its pixel columns packed to bytes, (W, h8), padded with
    blank rows to a common height, and the same of its 1-px dilation (3x3)."""

    ink: np.ndarray
    grown: np.ndarray


def packed_columns(mask: np.ndarray, h: int) -> Columns:
    """``mask`` (H, W) bool, H <= h, padded to ``h`` rows (blank rows below) as packed ``Columns``."""
    padded = np.zeros((h, mask.shape[1]), bool)
    padded[: mask.shape[0]] = mask
    tall = padded.copy()  # dilated by 1 px up and down, then sideways
    tall[1:] |= padded[:-1]
    tall[:-1] |= padded[1:]
    grown = tall.copy()
    grown[:, 1:] |= tall[:, :-1]
    grown[:, :-1] |= tall[:, 1:]
    return Columns(np.packbits(padded.T, axis=1), np.packbits(grown.T, axis=1))


def mask_distance(snip: np.ndarray, render: np.ndarray, limit: float | None = None) -> float:
    """Column-sequence edit distance between two cropped ink masks, over the snip's width (0: the same columns in
    the same order; about 1 or more: nothing in common). Two columns count as equal when every ink pixel of each
    lies within 1 px of ink in the other (neighbouring columns included): rasterisers differ by such
    one-pixel edges, a different glyph by more. With ``limit``, only distances up to it are worked out: the same
    value where the distance is at most ``limit``, ``math.inf`` where it is more (``banded_edit_distance``: a
    candidate is compared with the snip column by column only near the diagonal, not every column with every one)."""
    h = max(snip.shape[0], render.shape[0]) + 1  # a blank row below both: the dilation grows into it
    return columns_distance(packed_columns(snip, h), packed_columns(render, h), limit)


def columns_distance(snip: Columns, render: Columns, limit: float | None = None) -> float:
    """``mask_distance`` of two masks' ``packed_columns`` (of the same padded height)."""
    a, grown_a = snip
    b, grown_b = render
    n = max(len(a), 1)
    if limit is None:
        stray = (a[:, None, :] & ~grown_b[None, :, :]).any(-1) | (b[None, :, :] & ~grown_a[:, None, :]).any(-1)
        return float(levenshtein_matrix(stray)[-1, -1]) / n
    k = int(limit * n)  # the most edits within the limit, as float(edits) / n <= limit decides
    k = k + 1 if (k + 1) / n <= limit else k - 1 if k / n > limit else k
    if k < 0 or abs(len(a) - len(b)) > k:
        return math.inf
    cols = np.arange(len(a))[:, None] + np.arange(-k, k + 1)[None, :]  # (n, 2k+1): render column j = i + o
    inside = (cols >= 0) & (cols < len(b))
    j = np.clip(cols, 0, max(len(b) - 1, 0))
    stray = (a[:, None, :] & ~grown_b[j]).any(-1) | (b[j] & ~grown_a[:, None, :]).any(-1)  # (n, 2k+1)
    edits = banded_edit_distance(~inside | stray, len(b), k)
    return edits / n if edits <= k else math.inf


def banded_edit_distance(unequal: np.ndarray, m: int, k: int) -> int:
    """The edit distance of two sequences a (n items) and b (``m`` items) where it is at most ``k``, else some
    number above ``k``. ``unequal`` (n, 2k+1): 1 where a[i] and b[i + o] (o = -k..k) may not be matched. An
    alignment of at most k edits never strays more than k items from the diagonal (Ukkonen), so items further apart
    count as unequal, which changes no distance up to k. Rows (or items of b) with no possible match in the band each
    cost an edit: more of them than ``k`` decide it at once; otherwise ``myers_distance`` works it out: a few integer
    operations per item of b instead of a numpy row per item of a."""
    n = unequal.shape[0]
    over = k + 1
    if abs(n - m) > k:
        return over
    rows, offs = np.nonzero(~unequal.astype(bool))
    cols = rows + offs - k
    keep = (cols >= 0) & (cols < m)
    rows, cols = rows[keep], cols[keep]
    if max(n - len(np.unique(rows)), m - len(np.unique(cols))) > k:
        return over
    equal = np.zeros((m, n), bool)  # (m, n): b's item j equals a's item i
    equal[cols, rows] = True
    packed = np.packbits(equal, axis=1, bitorder="little")  # (m, ceil(n / 8)): item i of a is bit i
    score = myers_distance([int.from_bytes(r.tobytes(), "little") for r in packed], n)
    return score if score <= k else over


def myers_distance(equal: Sequence[int], n: int) -> int:
    """The edit distance of a sequence a of ``n`` items and a sequence b given as, per item of b, the bits (1 << i)
    of the items i of a it may be matched with (Myers' bit-parallel algorithm, in Hyyro's form for whole
    sequences): one column of the edit-distance matrix at a time as bit vectors of +1 / -1 steps down it."""
    if n == 0:
        return len(equal)
    ones, top = (1 << n) - 1, 1 << (n - 1)
    pv, mv, score = ones, 0, n  # vertical deltas of the current column: all +1 (D[i, 0] = i)
    for eq in equal:
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & ones)
        mh = pv & xh
        score += 1 if ph & top else -1 if mh & top else 0
        ph = ((ph << 1) | 1) & ones  # D[0, j] = j: the top row's deltas are +1
        mh = (mh << 1) & ones
        pv = mh | (~(xv | ph) & ones)
        mv = ph & xv
    return score


def closest(snip: np.ndarray | None, renders: Sequence[np.ndarray | None], max_distance: float = MAX_DISTANCE
            ) -> tuple[int | None, list[float | None]]:
    """Index of the rendering closest to the snip (a ``snip_ink`` array) by ``mask_distance``, equals by
    ``exact_distance``, then the first; None when none is within ``max_distance``. On a snip of thin, light strokes
    (``NEAR_TIES_SOLID``) equals at a distance above 0 go to the first of them: the pixels that differ there are
    anti-aliased edges. And every rendering's
    ``mask_distance`` (None: it did not render, the snip has no ink, or their ink's widths differ by more than
    ``max_distance`` of the snip's: each column more or fewer costs an edit, so it cannot be that close; ``math.inf``:
    further than ``max_distance``, not worked out further). The snip's
    ink is cut at ``INK_LEVELS[0]``, and when nothing is that close, at each fainter level (the distances returned
    are those of the level the closest was found at)."""
    masks = [render_mask(r) if r is not None else None for r in renders]
    pixel_ties = snip is None or thin_ink_level(1.0 - snip, NEAR_TIES_SOLID) is None
    dists, ranked = _ranked(snip, masks, INK_LEVELS[0], max_distance, pixel_ties)
    if not ranked:
        for level in INK_LEVELS[1:]:
            level_dists, level_ranked = _ranked(snip, masks, level, max_distance, pixel_ties)
            if level_ranked and (not ranked or min(level_ranked) < min(ranked)):
                dists = level_dists
            ranked += level_ranked
    return (min(ranked)[2] if ranked else None), dists


def _ranked(snip: np.ndarray | None, others: Sequence[np.ndarray | None], level: float, max_distance: float,
            pixel_ties: bool = True) -> tuple[list[float | None], list[tuple[float, float, int]]]:
    """The snip's ink above ``level`` against cropped rendering masks: each one's ``mask_distance`` (None where not
    compared, ``math.inf`` where above ``max_distance``), and (distance, ``exact_distance``, index) of those within
    ``max_distance`` (the ``exact_distance`` 0 where the distance is above 0, without ``pixel_ties``)."""
    mask = snip_mask(snip, level) if snip is not None else None
    dists: list[float | None] = []
    ranked: list[tuple[float, float, int]] = []
    if mask is not None:  # one padded height for all: the snip's columns are packed once
        h = max([mask.shape[0], *(o.shape[0] for o in others if o is not None)]) + 1
        packed = packed_columns(mask, h)
    for i, other in enumerate(others):
        if mask is None or other is None or abs(other.shape[1] - mask.shape[1]) > max_distance * mask.shape[1]:
            dists.append(None)
            continue
        d = columns_distance(packed, packed_columns(other, h), limit=max_distance)
        dists.append(d)
        if d <= max_distance:
            ranked.append((d, exact_distance(mask, other) if d == 0 or pixel_ties else 0.0, i))
    return dists, ranked


def render_scale(snip: np.ndarray | None, renders: Sequence[np.ndarray | None]) -> float | None:
    """How many times as large as the renderer draws it a snip (a ``snip_ink`` array) shows its formula: its ink's
    width over that of the first rendering (the model's most confident reading) whose ink's height says the same
    within ``SCALE_AGREEMENT`` (a misreading may be wider or taller than the formula), where that is above
    ``RESCALE_ABOVE`` and at most ``MAX_RENDER_SCALE``. None when the snip is at about the renderings' scale or smaller,
    out of bounds, or nothing rendered agrees."""
    if snip is None:
        return None
    for mask in (render_mask(r) for r in renders if r is not None):
        if mask is None:
            continue
        scale = snip.shape[1] / mask.shape[1]
        if abs(snip.shape[0] / mask.shape[0] / scale - 1.0) <= SCALE_AGREEMENT:
            return scale if RESCALE_ABOVE < scale <= MAX_RENDER_SCALE else None
    return None


def choose(
    snips: Sequence[np.ndarray | None], readings: Sequence[Sequence[str]], renderers: Sequence[Renderer],
    refine: Callable[[str], Sequence[str]] | None = None,
) -> list[Match | None]:
    """Per snip (a ``snip_ink`` array), the reading (LaTeX, most confident first) whose rendering is ``closest`` to
    it, or None where none is close.

    The first renderer (font) typesets every reading at its own scale, then, for a snip it does not match that is
    drawn larger (``render_scale``), at the snip's scale. A snip still unmatched is then compared, at the same time
    (threads: each renderer runs its own TeX), with its readings typeset by each other renderer as the first did (at
    its own scale, then at the snip's as measured on its own renderings); the earliest renderer that matches counts.
    (The first renderer at the snip's scale ran beside the others until 2026-12-06: the same choices, but on 2 cores
    a zoomed-in Computer Modern snip waited for Times and Palatino, 858 ms instead of ~250 with TeX started ahead.)
    With ``refine`` (a reading -> its variants), a match that is close but not the same is refined
    (``REFINE_ROUNDS``). A renderer that fails is skipped (logged): an optional check must not cost the reading
    itself."""
    if not renderers:
        return [None] * len(snips)
    try:
        return _choose(snips, readings, renderers, refine)
    finally:
        for renderer in renderers:
            finished = getattr(renderer, "finished", None)
            try:
                if callable(finished):
                    finished()
            except Exception as e:  # a renderer's housekeeping must not cost the reading either
                log.warning("render check: %s: %s", type(e).__name__, e)


def _choose(
    snips: Sequence[np.ndarray | None], readings: Sequence[Sequence[str]], renderers: Sequence[Renderer],
    refine: Callable[[str], Sequence[str]] | None,
) -> list[Match | None]:
    found, scales = _choose_at_own_scale(renderers[0], snips, readings, range(len(snips)), rescale=False)
    if scales:
        found = {**_choose_at_scales(renderers[0], snips, readings, scales), **found}
    pending = [k for k in range(len(snips)) if k not in found]

    def other_font(renderer: Renderer) -> dict[int, _Found]:
        return _choose_at_own_scale(renderer, snips, readings, pending)[0]

    jobs: list[Callable[[], dict[int, _Found]]] = [partial(other_font, r) for r in renderers[1:]] if pending else []
    if jobs:
        with ThreadPoolExecutor(len(jobs)) as pool:
            others = list(pool.map(lambda job: job(), jobs))
        for more in others:
            found = {**more, **found}  # an earlier renderer's match wins
    if refine is not None:
        _refine(snips, found, refine)
    return [found[k].match if k in found else None for k in range(len(snips))]


def _refine(snips: Sequence[np.ndarray | None], found: dict[int, _Found], refine: Callable[[str], Sequence[str]]
            ) -> None:
    """Replaces in ``found`` each match at a distance above 0 by the closest of its reading's variants where that
    is closer (``closest``: distance, then pixel for pixel; the match keeps ties), for ``REFINE_ROUNDS`` rounds, each
    round's variants typeset in one run per renderer and scale."""
    pending = [k for k, f in found.items() if f.match.distance > 0]
    for _ in range(REFINE_ROUNDS):
        variants = {k: [v for v in refine(found[k].match.latex) if v != found[k].match.latex] for k in pending}
        groups: dict[tuple[int, float], list[int]] = {}
        for k in pending:
            groups.setdefault((id(found[k].renderer), found[k].scale), []).append(k)
        closer: list[int] = []
        for ks in groups.values():
            renderer, scale = found[ks[0]].renderer, found[ks[0]].scale
            rendered = _render(renderer, {v for k in ks for v in variants[k]}, scale)
            for k in ks:
                images = [rendered.get(v) for v in variants[k]]
                best, dists = closest(snips[k], [found[k].image, *images])
                image = images[best - 1] if best else None
                if best and image is not None and (distance := dists[best]) is not None:
                    match = found[k].match._replace(distance=distance, latex=variants[k][best - 1])
                    found[k] = found[k]._replace(match=match, image=image)
                    closer += [k] if distance > 0 else []
        pending = closer
        if not pending:
            return


def _choose_at_own_scale(
    renderer: Renderer, snips: Sequence[np.ndarray | None], readings: Sequence[Sequence[str]], ks: Iterable[int],
    rescale: bool = True,
) -> tuple[dict[int, _Found], dict[int, float]]:
    """The snips ``ks`` that a rendering by ``renderer`` at its own scale matches, and the scale of each larger snip
    it does not match (``render_scale``); with ``rescale`` those are typeset again at their scale and compared too."""
    ks = list(ks)
    found, rendered = _choose_at(renderer, snips, readings, ks, 1.0)
    scales: dict[int, float] = {}
    for k in ks:
        if k not in found and (scale := render_scale(snips[k], [rendered.get(t) for t in readings[k]])) is not None:
            scales[k] = round(scale, 3)
    if rescale:
        found.update(_choose_at_scales(renderer, snips, readings, scales))
    return found, scales


def _choose_at_scales(
    renderer: Renderer, snips: Sequence[np.ndarray | None], readings: Sequence[Sequence[str]], scales: dict[int, float]
) -> dict[int, _Found]:
    """``_choose_at`` for each snip of ``scales`` at its scale, one typesetting per scale."""
    groups: dict[float, list[int]] = {}
    for k, scale in scales.items():
        groups.setdefault(scale, []).append(k)
    found: dict[int, _Found] = {}
    for scale, ks in groups.items():
        found.update(_choose_at(renderer, snips, readings, ks, scale)[0])
    return found


def _choose_at(
    renderer: Renderer, snips: Sequence[np.ndarray | None], readings: Sequence[Sequence[str]], ks: list[int],
    scale: float,
) -> tuple[dict[int, _Found], dict[str, np.ndarray | None]]:
    """The snips ``ks`` whose readings, typeset by ``renderer`` at ``scale``, hold a match; and the renderings."""
    rendered = _render(renderer, {t for k in ks for t in readings[k]}, scale)
    found: dict[int, _Found] = {}
    for k in ks:
        best, dists = closest(snips[k], [rendered.get(t) for t in readings[k]])
        image = rendered.get(readings[k][best]) if best is not None else None
        if best is not None and image is not None and (distance := dists[best]) is not None:
            found[k] = _Found(Match(best, distance, readings[k][best]), image, renderer, scale)
    return found, rendered


def _render(renderer: Renderer, texts: set[str], scale: float) -> dict[str, np.ndarray | None]:
    """``texts`` typeset by ``renderer`` at ``scale``; nothing when the renderer fails (logged)."""
    ordered = sorted(texts)
    try:
        images = renderer(ordered) if scale == 1.0 else renderer(ordered, scale=scale)
        return dict(zip(ordered, images, strict=True))
    except Exception as e:
        log.warning("render check skipped: %s: %s", type(e).__name__, e)
        return {}
