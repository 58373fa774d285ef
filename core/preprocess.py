"""The ONE preprocessing function, shared by training and inference.

Any image of a formula (PIL or numpy; RGB, RGBA, grayscale, 16-bit, dark background, any zoom)
-> a (1, H, W) float tensor, ink = 1 on background = 0, in the geometry the model was trained on:
contrast-normalised, cropped to ink, rescaled so that glyphs have the height they have in
im2latex renderings (an enlarged low-resolution snip optionally smoothed: ``upscale_blur``), and
placed left-aligned, vertically centred on an H x W canvas (larger for long or tall formulas when the
checkpoint sets ``max_width`` / ``max_height``).
With ``trim_multiple`` N > 0 the canvas ends at the first multiple of N px past the formula
(at most W): blank columns cost encoder and attention time and say nothing. Batches of such
canvases are right-padded with blank columns by ``pad_stack`` (training and inference alike).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter
from scipy import ndimage

from core.config_json import is_number, with_overrides
from core.errors import ConfigError, ImageError
from core.spelling import SPELLINGS

# Pixels per row of the encoder's feature grid (its vertical stride): taller canvases grow by whole rows.
ROW_PX = 16
# Thin strokes darkened (``solid_ink``): the ink measured is the pixels darker than STROKE_GRAY (lighter ones are
# mostly a stroke's anti-aliased rim, or a JPEG's ringing around it); the strongest darkening maps a gray of 0.79
# to 0.5.
STROKE_GRAY = 0.8
MAX_INK_GAMMA = 3.0


@dataclass(frozen=True)
class PreprocessConfig:
    height: int = 64
    width: int = 320
    pad: int = 4  # free pixels kept around the formula on the canvas
    # Median glyph height (px) of genuine im2latex images (measured on the sample): the default for a new
    # model. A trained checkpoint may read best at another (chosen on validation, see training.retune).
    glyph_height: float = 8.5
    keep_scale_within: float = 1.3  # rescale only when the estimate is off by more than this factor
    min_side: int = 4  # smaller inputs are rejected
    trim_multiple: int = 0  # 0: every canvas is `width` px wide; N: cut blank columns, width a multiple of N
    # Gaussian blur after enlarging, sigma = upscale_blur * (scale - 1) px: smooths the staircase edges of
    # low-resolution snips (2x enlarged 120-dpi renders). 0: none (the default for a new model).
    upscale_blur: float = 0.0
    # Long formulas: one that would have to shrink below `min_fit_scale` of its glyph-rescaled size to fit
    # `width` gets a wider canvas instead, up to `max_width` px, shrunk only to `min_fit_scale` (further if
    # it still does not fit). 0: canvases are never wider than `width` (the default for a new model).
    max_width: int = 0
    min_fit_scale: float = 0.75
    # Tall formulas (arrays, stacked fractions), the same rule upwards: one that would have to shrink below
    # `min_fit_scale` to fit `height` gets a taller canvas, up to `max_height` px, in steps of ROW_PX.
    # 0: canvases are never taller than `height` (the default for a new model).
    max_height: int = 0
    # With S > 0 the tall rule uses S instead of `min_fit_scale`: a formula that would have to shrink below S to fit
    # `height` gets the taller canvas. A three-row array shrunk by 0.8-0.9 still fits 64 px, and the main head, which
    # never saw one so squeezed (its training formulas fit 64 px unscaled), reads it with its middle row left out.
    # 0: `min_fit_scale` (the default, as every checkpoint before this field).
    tall_fit_scale: float = 0.0
    # Faint ink: with P > 0 a pixel is ink when darker than the midpoint between the background and the P-th
    # percentile of the pixels darker than 0.9 (kept within 0.5-0.9). Anti-aliased screen snips draw thin
    # strokes lighter than 0.5 even after the contrast stretch; at the fixed 0.5 their glyphs fall apart
    # into fragments and the glyph-height estimate comes out ~0.6x too small. 0: the fixed 0.5 (the
    # default, as every checkpoint before this field was trained and tuned with).
    ink_percentile: float = 0.0
    # Thin strokes darkened: with F > 0, a snip whose ink (pixels darker than STROKE_GRAY after the contrast
    # stretch) is darker than 0.5 in less than a fraction F of its pixels has every gray raised to the power (at
    # most MAX_INK_GAMMA) that makes F of them so. PDF viewers and browsers anti-alias their own way: their strokes
    # come out lighter and thinner than those of the training renders (binarized at any coverage, then halved:
    # ~0.74 of their ink darker than 0.5; a page drawn by poppler at 100 dpi ~0.52, a zoomed browser snip ~0.33),
    # and the model reads such a snip better darkened. Binarized snips are mostly left as they are (at F 0.7, a
    # tenth of the test renders is darkened a little). 0: never (the default).
    solid_ink: float = 0.0
    # Unsure snips read again (used by core.recognizer, not by preprocess()): a snip the main head reads with a
    # geometric-mean token probability below `retry_confidence` is read again with `glyph_height` set to each
    # of `retry_glyph_heights` (where it still fits the main canvas), and the most confident reading is kept.
    # The model reads some snips better a little smaller or larger than at `glyph_height`. (): never (the
    # default for a new model; chosen on validation, see training.retune).
    retry_glyph_heights: tuple[float, ...] = ()
    retry_confidence: float = 1.0
    # Tall snips read twice (used by core.recognizer): with a tall head, a snip on a taller canvas is also read
    # shrunk to `height`, as without the tall rule (by the main or wide head), and the tall head's reading is kept
    # only where its confidence (mean token log-probability) is higher by more than `tall_margin`. The tall head
    # reads genuine tall formulas far better; the main head reads better the ordinary ones that the glyph
    # rescaling pushed past `height` (often anti-aliased HiDPI snips, whose glyphs measure too small).
    # False: the tall head alone (the default).
    tall_also_shrunk: bool = False
    tall_margin: float = 0.0
    # With the render check (and `tall_also_shrunk`): both readings of a snip on a taller canvas stay candidates, the
    # one `tall_margin` prefers first, and the check keeps whichever draws the snip more closely. A shrunk reading
    # that left a row out can be the surer one and still draw another picture. False: the preferred reading's
    # hypotheses alone (the default).
    tall_render_both: bool = False
    # The spelling convention of the readings (used by core.recognizer; core.spelling): "im2latex" rewrites the
    # kept reading to the spelling im2latex uses most wherever spellings draw the same (`{ \frac a b }` ->
    # `\frac a b`, `\ast` -> `*`, ...), the convention of labels trained with `--label-style im2latex`.
    # "as-is": the model's own tokens (the default).
    output_spelling: str = "as-is"

    def __post_init__(self) -> None:
        # JSON metadata and overrides give a list: keep the frozen config hashable and comparable.
        heights = self.retry_glyph_heights
        if isinstance(heights, (str, bytes)) or not all(is_number(h) and h > 0 for h in heights):
            raise ConfigError(f"preprocessing setting 'retry_glyph_heights': expected positive numbers, got {heights!r}")
        if not 0 < self.retry_confidence <= 1:
            raise ConfigError(f"preprocessing setting 'retry_confidence': a probability in (0, 1], got {self.retry_confidence!r}")
        object.__setattr__(self, "retry_glyph_heights", tuple(float(h) for h in heights))
        if self.output_spelling not in SPELLINGS:
            raise ConfigError(f"preprocessing setting 'output_spelling': one of {', '.join(SPELLINGS)}, "
                              f"got {self.output_spelling!r}")

    def retry_configs(self) -> list[PreprocessConfig]:
        """One config per retry glyph height (empty when unsure snips are not read again)."""
        return [replace(self, glyph_height=h, retry_glyph_heights=()) for h in self.retry_glyph_heights]

    @property
    def widens(self) -> bool:
        """Whether the long-formula rule can give a canvas wider than ``width``."""
        return self.max_width > self.width

    @property
    def heightens(self) -> bool:
        """Whether the tall-formula rule can give a canvas taller than ``height``."""
        return self.max_height > self.height

    @property
    def enlarges(self) -> bool:
        """Whether some canvas can be larger than ``height`` x ``width`` (read by a wide head)."""
        return self.widens or self.heightens

    def is_enlarged(self, canvas_height: int, canvas_width: int) -> bool:
        """Whether a canvas of this size is larger than ``height`` x ``width`` (made by the long or tall
        rule): a checkpoint with a wide head reads such a snip with that head."""
        return canvas_height > self.height or canvas_width > self.width

    def head_for(self, canvas_height: int, canvas_width: int, extra_heads: Collection[str] = ("wide",)) -> str:
        """The head of a checkpoint with these ``extra_heads`` that reads a canvas of this size: "tall" when
        it is taller than ``height`` and there is a tall head, "wide" when it is larger than ``height`` x
        ``width`` and there is a wide head, else "main"."""
        if "tall" in extra_heads and canvas_height > self.height:
            return "tall"
        if "wide" in extra_heads and self.is_enlarged(canvas_height, canvas_width):
            return "wide"
        return "main"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


_MAY_BE_ZERO = {"pad", "min_side", "trim_multiple", "upscale_blur", "max_width", "max_height", "ink_percentile",
                "tall_also_shrunk", "tall_margin", "solid_ink", "tall_fit_scale", "tall_render_both"}  # the other settings must be positive


def config_with(cfg: PreprocessConfig, overrides: str) -> PreprocessConfig:
    """``cfg`` with the fields a JSON object names replaced, e.g. '{"glyph_height": 10.5}'; a
    ConfigError (one line) for bad JSON, unknown fields, values of the wrong type or out of range."""
    out = with_overrides(cfg, overrides, "preprocessing", may_be_zero=_MAY_BE_ZERO)
    if out.ink_percentile > 100:
        raise ConfigError(f"preprocessing setting 'ink_percentile': a percentile is at most 100, got {out.ink_percentile:g}")
    if out.solid_ink >= 1:
        raise ConfigError(f"preprocessing setting 'solid_ink': a fraction below 1, got {out.solid_ink:g}")
    return out


def to_gray(image: Image.Image | np.ndarray) -> np.ndarray:
    """(H, W) float32 in 0..1, ink dark on a light background, whatever the input's mode."""
    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 3 and arr.shape[2] in (2, 4):  # with alpha: composite on the background
            alpha = arr[..., -1:].astype(np.float32) / float(np.iinfo(arr.dtype).max if arr.dtype.kind in "ui" else 1.0)
            color = arr[..., :-1]
            image = _array_to_image(color)
            gray = _pil_gray(image)
            return _composite(gray, alpha[..., 0])
        return _normalise_polarity(_pil_gray(_array_to_image(arr)))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        gray = _pil_gray(Image.fromarray((rgba[..., :3] * 255).astype(np.uint8), "RGB"))
        return _composite(gray, rgba[..., 3])
    return _normalise_polarity(_pil_gray(image))


def _array_to_image(arr: np.ndarray) -> Image.Image:
    if arr.dtype == np.uint8:
        return Image.fromarray(arr.squeeze() if arr.ndim == 3 and arr.shape[2] == 1 else arr)
    a = arr.astype(np.float32)
    if arr.dtype.kind in "ui":
        a /= float(np.iinfo(arr.dtype).max)
    elif a.max(initial=0.0) > 1.0:
        a /= 255.0
    a = np.clip(a, 0.0, 1.0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    return Image.fromarray((a * 255.0 + 0.5).astype(np.uint8))


def _pil_gray(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(image, dtype=np.float32)
        top = 65535.0 if a.max(initial=0.0) > 255 else 255.0
        return np.clip(a / top, 0.0, 1.0)
    if image.mode == "F":
        a = np.asarray(image, dtype=np.float32)
        return np.clip(a / (255.0 if a.max(initial=0.0) > 1.0 else 1.0), 0.0, 1.0)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def _composite(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Transparent pixels become background: ink is whatever differs from it where opaque."""
    opaque = alpha > 0.5
    if not opaque.any():
        return np.ones_like(gray)
    # Ink is light on a transparent page (dark-theme export) when opaque pixels are mostly light.
    ink_light = float(np.median(gray[opaque])) > 0.5
    ink = (1.0 - gray) if not ink_light else gray
    return 1.0 - ink * alpha


def _normalise_polarity(gray: np.ndarray) -> np.ndarray:
    """Dark mode (light ink on dark background) -> dark ink on light background."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1.0 - gray if float(np.median(border)) < 0.5 else gray


def _stretch(gray: np.ndarray) -> np.ndarray:
    """Background -> 1, darkest ink -> 0 (coloured text on a tinted page becomes black on white)."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    bg = float(np.median(border))
    ink = float(gray.min())
    if bg - ink < 0.15:  # no contrast: blank
        return np.ones_like(gray)
    return np.clip((gray - ink) / (bg - ink), 0.0, 1.0)


def _clear_border_lines(gray: np.ndarray, depth: int = 3, cover: float = 0.95) -> np.ndarray:
    """A hand-dragged snip often catches a frame, rule or table border along an edge: rows or
    columns within ``depth`` px of an edge that are inked over ``cover`` of their length become
    background (a formula never fills an edge line like that)."""
    h, w = gray.shape
    if h <= 2 * depth or w <= 2 * depth:
        return gray
    ink = gray < 0.75
    rows = [r for r in (*range(depth), *range(h - depth, h)) if ink[r].mean() > cover]
    cols = [c for c in (*range(depth), *range(w - depth, w)) if ink[:, c].mean() > cover]
    if not rows and not cols:
        return gray
    out = gray.copy()
    out[rows] = 1.0
    out[:, cols] = 1.0
    return out


def ink_threshold(gray: np.ndarray, percentile: float) -> float:
    """Gray level (background 1) below which a pixel counts as ink: 0.5, or with ``percentile`` > 0 the
    midpoint between the background and that percentile of the darker pixels, within 0.5-0.9."""
    if percentile <= 0:
        return 0.5
    darker = gray[gray < 0.9]
    if darker.size == 0:
        return 0.5
    return min(0.9, max(0.5, (1.0 + float(np.percentile(darker, min(percentile, 100.0)))) / 2.0))


def thin_ink_level(gray: np.ndarray, solid: float) -> float | None:
    """The gray level (above 0.5) that a fraction ``solid`` of ``gray``'s ink (pixels darker than STROKE_GRAY) is
    darker than, where less than that fraction is darker than 0.5: thin, light strokes (anti-aliased by a PDF viewer
    or a browser); None where the strokes are solid, there is no ink, or ``solid`` is 0."""
    if solid <= 0:
        return None
    ink = gray[gray < STROKE_GRAY]
    if ink.size == 0:
        return None
    level = float(np.quantile(ink, solid))
    return level if level > 0.5 else None


def darken_thin_ink(gray: np.ndarray, solid: float) -> np.ndarray:
    """``gray`` (background 1, ink towards 0) raised to the power, at most MAX_INK_GAMMA, that makes a fraction
    ``solid`` of its ink (pixels darker than STROKE_GRAY) darker than 0.5; unchanged where that many already are."""
    level = thin_ink_level(gray, solid)
    if level is None:
        return gray
    return gray ** min(MAX_INK_GAMMA, float(np.log(0.5) / np.log(level)))


def glyph_height(ink: np.ndarray) -> float | None:
    """Typical character height in px: a high percentile of upright connected components."""
    labels, n = ndimage.label(ink)
    if n == 0:
        return None
    heights = []
    for sl in ndimage.find_objects(labels):
        h = sl[0].stop - sl[0].start
        w = sl[1].stop - sl[1].start
        if h >= 2 and h * 3 >= w:  # skip bars, fraction lines, dots
            heights.append(h)
    if not heights:
        return None
    return float(np.percentile(heights, 60))


def preprocess(image: Image.Image | np.ndarray, cfg: PreprocessConfig = PreprocessConfig()) -> torch.Tensor:
    """(1, H, W) float32 tensor, ink 1 on background 0; raises ImageError for unusable input."""
    canvas = preprocess_array(image, cfg)
    return torch.from_numpy(canvas).unsqueeze(0)


def preprocess_array(image: Image.Image | np.ndarray, cfg: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Same as ``preprocess`` but returns an (H, W) float32 numpy array."""
    if isinstance(image, Image.Image):
        w, h = image.size
    else:
        h, w = image.shape[:2]
    if min(w, h) < cfg.min_side:
        raise ImageError(f"The image is {w}x{h} px: too small to hold a formula (select a larger area).")
    gray = darken_thin_ink(_clear_border_lines(_stretch(to_gray(image))), cfg.solid_ink)
    mask = gray < ink_threshold(gray, cfg.ink_percentile)
    if not mask.any():
        raise ImageError("The image is blank: no formula found (select an area with visible text).")
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, gray.shape[0])
    left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, gray.shape[1])
    crop = gray[top:bottom, left:right]
    cmask = mask[top:bottom, left:right]
    if cmask.size > 400:
        midtones = float(((crop > 0.2) & (crop < 0.8)).mean())
        if cmask.mean() > 0.6 or midtones > 0.4:
            raise ImageError("The selection looks like a picture or a filled area, not a formula.")

    scale = 1.0
    gh = glyph_height(cmask)
    if gh is not None:
        s = cfg.glyph_height / gh
        if max(s, 1.0 / s) > cfg.keep_scale_within:
            scale = s
    ch, cw = crop.shape
    scale = min(_fit(scale, cw, cfg.width, cfg.max_width, cfg.pad, cfg.min_fit_scale),
                _fit(scale, ch, cfg.height, cfg.max_height, cfg.pad, cfg.tall_fit_scale or cfg.min_fit_scale))
    nh, nw = max(1, round(ch * scale)), max(1, round(cw * scale))
    if (nh, nw) != (ch, cw):
        pil = Image.fromarray((crop * 255.0 + 0.5).astype(np.uint8))
        pil = pil.resize((nw, nh), Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
        if scale > 1 and cfg.upscale_blur > 0:
            pil = pil.filter(ImageFilter.GaussianBlur(cfg.upscale_blur * (scale - 1)))
        crop = np.asarray(pil, dtype=np.float32) / 255.0
    canvas = np.zeros((canvas_height(nh, cfg), canvas_width(nw, cfg)), dtype=np.float32)
    y0 = (canvas.shape[0] - nh) // 2
    canvas[y0 : y0 + nh, cfg.pad : cfg.pad + nw] = 1.0 - np.clip(crop, 0.0, 1.0)
    return canvas


def _fit(scale: float, size: int, room: int, max_room: int, pad: int, min_fit: float) -> float:
    """The scale that fits ``size`` px of ink (at ``scale``) into a canvas side of ``room`` px, or, when
    that would shrink it below ``min_fit`` and ``max_room`` > ``room``, into up to ``max_room``."""
    fit = (room - 2 * pad) / size
    if max_room > room and fit < scale * min_fit:
        return min(scale * min_fit, (max_room - 2 * pad) / size)
    return min(scale, fit)


def canvas_height(ink_height: int, cfg: PreprocessConfig) -> int:
    """Height of the canvas that holds a formula ``ink_height`` px high (after rescaling): ``height``,
    or with the tall-formula rule the first multiple of ROW_PX px that holds it, up to ``max_height``."""
    need = ink_height + 2 * cfg.pad
    if need <= cfg.height or not cfg.heightens:
        return cfg.height
    return min(cfg.max_height, -(-need // ROW_PX) * ROW_PX)


def canvas_width(ink_width: int, cfg: PreprocessConfig) -> int:
    """Width of the canvas that holds a formula ``ink_width`` px wide (after rescaling)."""
    need = ink_width + 2 * cfg.pad
    widest = max(cfg.width, cfg.max_width)
    if cfg.trim_multiple <= 0:
        return cfg.width if need <= cfg.width else widest
    return min(widest, -(-need // cfg.trim_multiple) * cfg.trim_multiple)


def pad_stack(canvases: Sequence[torch.Tensor]) -> torch.Tensor:
    """Canvases (..., H_i, W_i) -> one (B, ..., max H_i, max W_i) tensor, padded with blank (0) on
    the right and, for canvases of several heights (tall formulas), at the bottom."""
    h = max(c.shape[-2] for c in canvases)
    w = max(c.shape[-1] for c in canvases)
    return torch.stack([F.pad(c, (0, w - c.shape[-1], 0, h - c.shape[-2])) if c.shape[-2:] != (h, w) else c
                        for c in canvases])
