"""Choosing among readings by their TeX renderings: the reading that draws what the snip shows.

A misread formula often still ranks second or third: beam search's other hypotheses and the readings
at other glyph heights hold the right one for about a third of the snips whose best reading is wrong
(validation, 2026-11-29). The model cannot tell them apart, but a rendering can: each candidate is
typeset (by a ``Renderer`` the caller supplies, e.g. ``training.render`` with TeX Live) and compared
with the snip, column by column, as im2markup's image metric compares two renderings.

The snip goes through the ONE preprocessing function without its rescaling (ink cropped, polarity and
contrast normalised); it is compared only with renderings whose glyph height is close to its own (no
rescaling: rescaled columns never match). Both are binarised, and the distance is
the Levenshtein distance of the two sequences of pixel columns over the snip's width, two columns being equal when their ink agrees within one pixel (``mask_distance``: rasterisers
differ by such edges; im2latex's own images, made with another rasteriser, then match their formula), renderings
equally close by the same count with columns equal only pixel for pixel (``exact_distance``), then the model's
order. A snip typeset in Computer Modern at about the training data's scale matches its formula's rendering
within a few columns and a misreading by whole glyphs apart; a snip in another font matches no rendering within
``MAX_DISTANCE``, and one at another scale is not compared: then the model's choice stays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from PIL import Image
from scipy import ndimage

from core.errors import ImageError
from core.preprocess import PreprocessConfig, glyph_height, preprocess_array

# LaTeX strings -> one grayscale image each (ink dark on white, uint8), None where it does not render
Renderer = Callable[[Sequence[str]], Sequence["np.ndarray | None"]]

# Closest rendering further than this (edit distance / snip columns) from the snip: keep the model's choice.
# Chosen on validation formulas: 0.1 also let Times and 300-dpi snips match wrong readings (robustness renders).
MAX_DISTANCE = 0.03
# A snip whose glyph height is off from a rendering's by more than this factor is not compared with it: rescaled
# columns never match, and the nearest ones matched wrong readings as often as right ones (120 / 300 dpi renders).
KEEP_SCALE_WITHIN = 1.3


def comparison_config(cfg: PreprocessConfig) -> PreprocessConfig:
    """``cfg`` (a checkpoint's preprocessing: ink threshold, border cleaning, polarity) with no rescaling and no
    canvas: nothing shrunk to fit, no padding, no blur."""
    return replace(
        cfg, keep_scale_within=float("inf"), pad=0, height=16, width=16, max_height=1 << 13, max_width=1 << 14,
        min_fit_scale=1.0, trim_multiple=1, upscale_blur=0.0, retry_glyph_heights=(),
    )


def snip_ink(image: Image.Image | np.ndarray, cfg: PreprocessConfig) -> np.ndarray | None:
    """(H, W) float ink (1) on background (0) of ``image`` at its own scale, cropped to it, as
    ``preprocess_array`` sees it under ``comparison_config(cfg)``; None when it holds no usable ink."""
    try:
        ink = preprocess_array(image, comparison_config(cfg))
    except ImageError:
        return None
    return _crop(ink, ink > 0.5)


def _crop(values: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return values[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def snip_mask(ink: np.ndarray) -> np.ndarray | None:
    """Bool ink mask of a ``snip_ink`` array, cropped; None when nothing is left."""
    return _crop(ink > 0.5, ink > 0.5)


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
    differ by a pixel here and there, which ``mask_distance`` counts as the same."""
    a, b = column_ids(snip, render)
    return float(levenshtein_matrix(a[:, None] != b[None, :])[-1, -1]) / max(len(a), 1)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)


def _columns(mask: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """A mask padded to ``h`` rows as packed columns (W, ceil(h / 8)), and the same of its 1-px dilation."""
    padded = np.zeros((h, mask.shape[1]), bool)
    padded[: mask.shape[0]] = mask
    grown = ndimage.binary_dilation(padded, np.ones((3, 3), bool))
    return np.packbits(padded.T, axis=1), np.packbits(grown.T, axis=1)


def mask_distance(snip: np.ndarray, render: np.ndarray) -> float:
    """Column-sequence edit distance between two cropped ink masks, over the snip's width (0: the same columns in
    the same order; about 1 or more: nothing in common). Two columns count as equal when every ink pixel of each
    lies within 1 px of ink in the other (neighbouring columns included): rasterisers differ by such
    one-pixel edges, a different glyph by more."""
    h = max(snip.shape[0], render.shape[0])
    a, grown_a = _columns(snip, h)  # (n, h8)
    b, grown_b = _columns(render, h)  # (m, h8)
    stray = _POPCOUNT[a[:, None, :] & ~grown_b[None, :, :]].sum(-1) + _POPCOUNT[b[None, :, :] & ~grown_a[:, None, :]].sum(-1)
    return float(levenshtein_matrix(stray > 0)[-1, -1]) / max(len(a), 1)


def closest(snip: np.ndarray | None, renders: Sequence[np.ndarray | None], max_distance: float = MAX_DISTANCE
            ) -> tuple[int | None, list[float | None]]:
    """Index of the rendering closest to the snip (a ``snip_ink`` array) by ``mask_distance``, equals by
    ``exact_distance``, then the first; None when none is within ``max_distance``. And every rendering's
    ``mask_distance`` (None: it did not render, the snip has no ink, or their glyph heights differ by more than
    ``KEEP_SCALE_WITHIN``)."""
    mask = snip_mask(snip) if snip is not None else None
    own = glyph_height(mask) if mask is not None else None
    dists: list[float | None] = []
    ranked: list[tuple[float, float, int]] = []
    for i, r in enumerate(renders):
        other = render_mask(r) if r is not None and mask is not None else None
        target = glyph_height(other) if other is not None else None
        if mask is None or other is None or not own or not target or max(target / own, own / target) > KEEP_SCALE_WITHIN:
            dists.append(None)
            continue
        d = mask_distance(mask, other)
        dists.append(d)
        if d <= max_distance:
            ranked.append((d, exact_distance(mask, other), i))
    return (min(ranked)[2] if ranked else None), dists
