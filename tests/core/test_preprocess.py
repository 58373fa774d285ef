from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from core.errors import ConfigError, ImageError
from core.preprocess import (
    ROW_PX,
    PreprocessConfig,
    canvas_height,
    canvas_width,
    config_with,
    darken_thin_ink,
    pad_stack,
    preprocess,
    preprocess_array,
)
from core.render_match import snip_ink
from tests.core.helpers import draw

CFG = PreprocessConfig()


def _ink_box(canvas: np.ndarray, level: float = 0.5) -> tuple[int, int]:
    rows = np.flatnonzero((canvas > level).any(axis=1))
    cols = np.flatnonzero((canvas > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_output_geometry_and_polarity() -> None:
    t = preprocess(draw("x + 1"))
    assert t.shape == (1, CFG.height, CFG.width) and t.dtype.is_floating_point
    assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0
    assert float(t[0, 0, -1]) == 0.0  # background is 0


def test_modes_give_the_same_result() -> None:
    base = preprocess_array(draw("a = b"))
    im = draw("a = b")
    variants = {
        "rgb": im.convert("RGB"),
        "16bit": Image.fromarray(np.asarray(im).astype(np.uint16) * 257),
        "numpy_float": np.asarray(im, dtype=np.float32) / 255.0,
        "dark_mode": im.point(lambda v: 255 - v),
        "tinted": im.point(lambda v: 60 + v * 140 // 255),
    }
    for name, v in variants.items():
        out = preprocess_array(v)
        assert np.abs(out - base).mean() < 0.02, name


def test_transparent_png_with_light_ink() -> None:
    im = draw("y - 2")
    alpha = np.where(np.asarray(im) < 128, 255, 0).astype(np.uint8)
    white_ink = Image.merge("RGBA", [Image.new("L", im.size, 255)] * 3 + [Image.fromarray(alpha)])
    out = preprocess_array(white_ink)
    assert out.max() > 0.9 and out[0, -1] == 0.0


def test_zoomed_snip_lands_near_native_scale() -> None:
    native = _ink_box(preprocess_array(draw("1 + 2 = 3", size=20)))
    zoomed = _ink_box(preprocess_array(draw("1 + 2 = 3", size=20, scale=3)))
    assert abs(zoomed[0] - native[0]) <= 3 and abs(zoomed[1] - native[1]) <= 0.25 * native[1]


def test_loose_crop_is_cropped() -> None:
    im = draw("k > 0")
    loose = Image.new("L", (im.width + 300, im.height + 200), 255)
    loose.paste(im, (150, 100))
    assert np.abs(preprocess_array(loose) - preprocess_array(im)).mean() < 0.01


def test_too_wide_is_shrunk_to_fit() -> None:
    im = draw("1 + 2 = 3 " * 12)
    out = preprocess_array(im)
    h, w = _ink_box(out)
    assert w <= CFG.width - 2 * CFG.pad + 1


@pytest.mark.parametrize(
    "image,match",
    [
        (Image.new("L", (2, 50), 255), "too small"),
        (Image.new("RGB", (100, 40), (255, 255, 255)), "blank"),
        (Image.new("L", (100, 40), 0), "blank"),
    ],
)
def test_bad_inputs(image: Image.Image, match: str) -> None:
    with pytest.raises(ImageError, match=match):
        preprocess(image)


def test_filled_area_is_not_a_formula() -> None:
    rng = np.random.default_rng(0)
    photo = (rng.random((120, 200)) * 255).astype(np.uint8)
    photo[:, :4] = 255
    photo[:4, :] = 255
    with pytest.raises(ImageError):
        preprocess(photo)


def test_frame_caught_by_a_loose_snip_is_ignored() -> None:
    im = draw("k > 0")
    framed = Image.new("L", (im.width + 60, im.height + 40), 255)
    framed.paste(im, (30, 20))
    px = framed.load()
    for x in range(framed.width):  # a table rule along the top and a frame on the left
        px[x, 0] = 90
    for y in range(framed.height):
        px[1, y] = 120
    assert np.abs(preprocess_array(framed) - preprocess_array(im)).mean() < 0.01


def test_trimmed_canvas_ends_at_a_multiple_past_the_formula() -> None:
    trim = PreprocessConfig(trim_multiple=32)
    full = preprocess_array(draw("x + 1"))
    short = preprocess_array(draw("x + 1"), trim)
    assert short.shape[0] == CFG.height and short.shape[1] % 32 == 0 and short.shape[1] < CFG.width
    assert np.array_equal(short, full[:, : short.shape[1]])  # the same pixels, blank columns cut
    assert not full[:, short.shape[1] :].any()
    long = preprocess_array(draw("a + b + c + d + e + f + g + h + i + j + k + l + m + n + o + p"), trim)
    assert long.shape[1] == CFG.width  # never wider than the configured canvas


def test_canvas_width_rounding() -> None:
    trim = PreprocessConfig(trim_multiple=32, pad=4)
    assert canvas_width(24, trim) == 32  # 24 + 2 * 4 fits exactly
    assert canvas_width(25, trim) == 64
    assert canvas_width(1000, trim) == trim.width
    assert canvas_width(10, CFG) == CFG.width  # no trimming by default


def test_pad_stack_right_pads_with_blank() -> None:
    a, b = torch.ones(1, 4, 3), torch.ones(1, 4, 5)
    out = pad_stack([a, b])
    assert out.shape == (2, 1, 4, 5)
    assert out[0, :, :, 3:].abs().sum() == 0 and out[0, :, :, :3].min() == 1 and out[1].min() == 1


def test_pad_stack_pads_shorter_canvases_at_the_bottom() -> None:
    a, b = torch.ones(1, 4, 3), torch.ones(1, 6, 2)
    out = pad_stack([a, b])
    assert out.shape == (2, 1, 6, 3)
    assert out[0, :, :4, :].min() == 1 and out[0, :, 4:, :].abs().sum() == 0  # rows below: blank
    assert out[1, :, :, :2].min() == 1 and out[1, :, :, 2:].abs().sum() == 0


def _stack(rows: int) -> Image.Image:
    """A tall formula: ``rows`` lines of text, one above the other (an array)."""
    lines = [draw(f"x_{i} + y = {i}") for i in range(rows)]
    im = Image.new("L", (lines[0].width, 30 * rows + 10), 255)
    for i, line in enumerate(lines):
        im.paste(line.crop((0, 0, line.width, 32)), (0, 30 * i))
    return im


def test_tall_formula_gets_a_taller_canvas_instead_of_shrinking_much() -> None:
    tall = PreprocessConfig(trim_multiple=32, max_width=448, max_height=128, min_fit_scale=0.8)
    base = PreprocessConfig(trim_multiple=32, max_width=448, min_fit_scale=0.8)
    six = _stack(6)
    native = _ink_box(preprocess_array(six, PreprocessConfig(trim_multiple=32, height=1024)))[0]
    assert native > (base.height - 2 * base.pad) / 0.8  # fitting 64 px would shrink it below 0.8x
    out = preprocess_array(six, tall)
    assert base.height < out.shape[0] <= 128 and out.shape[0] % ROW_PX == 0
    assert abs(_ink_box(out)[0] - 0.8 * native) <= 3  # shrunk to 0.8x only
    squeezed = preprocess_array(six, base)
    assert squeezed.shape[0] == 64 and _ink_box(squeezed)[0] <= 64 - 2 * base.pad + 1
    # One line keeps the normal canvas, exactly as without max_height; a very tall one fits the tallest.
    one = draw("x + y = 1")
    assert np.array_equal(preprocess_array(one, tall), preprocess_array(one, base))
    huge = preprocess_array(_stack(20), tall)
    assert huge.shape[0] == 128 and _ink_box(huge)[0] <= 128 - 2 * tall.pad + 1
    assert canvas_height(56, tall) == 64 and canvas_height(57, tall) == 80 and canvas_height(500, tall) == 128
    assert canvas_height(500, base) == 64 and not base.heightens and tall.heightens and tall.enlarges


def test_tall_fit_scale_gives_the_taller_canvas_sooner() -> None:
    """A four-row stack that fits 64 px shrunk by ~0.85 keeps the normal canvas under min_fit_scale 0.8, and gets
    the taller one, shrunk only to tall_fit_scale, under 0.95; one long line is not affected."""
    tall = PreprocessConfig(trim_multiple=32, max_width=448, max_height=128, min_fit_scale=0.8)
    sooner = replace(tall, tall_fit_scale=0.95)
    four = _stack(4)
    native = _ink_box(preprocess_array(four, PreprocessConfig(trim_multiple=32, height=1024)))[0]
    assert 0.8 < (tall.height - 2 * tall.pad) / native < 0.95
    assert preprocess_array(four, tall).shape[0] == 64
    out = preprocess_array(four, sooner)
    assert out.shape[0] > 64 and abs(_ink_box(out)[0] - 0.95 * native) <= 2
    line = draw("x + y = 1 + x + y = 2 + x + y = 3 + x + y = 4 + x + y = 5 + x + y = 6 + x + y = 7")
    assert np.array_equal(preprocess_array(line, sooner), preprocess_array(line, tall))
    assert np.array_equal(preprocess_array(four, replace(tall, tall_fit_scale=0.8)), preprocess_array(four, tall))
    # the render check compares snips at their own size, whatever the tall rule
    assert np.array_equal(snip_ink(four, sooner), snip_ink(four, tall))


def test_config_overrides_from_json() -> None:
    cfg = config_with(CFG, '{"glyph_height": 10, "trim_multiple": 32}')
    assert cfg.glyph_height == 10.0 and isinstance(cfg.glyph_height, float) and cfg.trim_multiple == 32
    assert cfg.height == CFG.height and config_with(CFG, "") == CFG
    tall = config_with(CFG, '{"tall_also_shrunk": true, "tall_margin": 0.04}')
    assert tall.tall_also_shrunk is True and tall.tall_margin == 0.04
    assert config_with(tall, '{"tall_also_shrunk": false}').tall_also_shrunk is False
    for bad, why in (("{bad", "not JSON"), ("[1]", "JSON object"), ('{"glyph": 9}', "no setting 'glyph'"),
                     ('{"height": 6.5}', "expected a positive int"), ('{"glyph_height": 0}', "positive float"), ('{"glyph_height": "9"}', "float"),
                     ('{"pad": -1}', "non-negative"), ('{"width": true}', "int"), ('{"tall_margin": -0.1}', "non-negative"),
                     ('{"tall_also_shrunk": 1}', "bool")):
        with pytest.raises(ConfigError, match=why):
            config_with(CFG, bad)


def test_larger_glyph_height_gives_larger_glyphs() -> None:
    image = draw("a + b = c", size=20)
    small = _ink_box(preprocess_array(image, config_with(CFG, '{"glyph_height": 8.5, "keep_scale_within": 1.0}')))
    big = _ink_box(preprocess_array(image, config_with(CFG, '{"glyph_height": 10.5, "keep_scale_within": 1.0}')))
    assert big[0] > small[0] and abs(big[1] / small[1] - 10.5 / 8.5) < 0.1


def test_upscale_blur_softens_enlarged_snips_only() -> None:
    tiny = np.asarray(draw("a + b = c", size=9).convert("L"))
    tiny = np.where(tiny < 128, 0, 255).astype(np.uint8)  # a binarized low-resolution snip
    blurred_cfg = config_with(CFG, '{"upscale_blur": 0.6}')
    plain, blurred = preprocess_array(tiny, CFG), preprocess_array(tiny, blurred_cfg)
    assert _ink_box(plain) == pytest.approx(_ink_box(blurred), abs=1)  # same glyph geometry
    midtones = [int(((c > 0.1) & (c < 0.9)).sum()) for c in (plain, blurred)]
    assert midtones[1] > 1.2 * midtones[0]  # staircase edges smoothed
    # nothing to enlarge: the setting changes nothing
    big = draw("a + b = c", size=40)
    assert np.array_equal(preprocess_array(big, CFG), preprocess_array(big, blurred_cfg))
    with pytest.raises(ConfigError, match="non-negative"):
        config_with(CFG, '{"upscale_blur": -0.5}')


def test_long_formula_gets_a_wider_canvas_instead_of_shrinking_much() -> None:
    wide = PreprocessConfig(trim_multiple=32, max_width=448, min_fit_scale=0.8)
    base = PreprocessConfig(trim_multiple=32)
    letters = list("abcdefghijklmnopqrstuv")
    mild, long = draw(" + ".join(letters[:16])), draw(" + ".join(letters))
    # Native width of the drawn formula after the glyph rescaling (no canvas limit).
    native = _ink_box(preprocess_array(long, PreprocessConfig(trim_multiple=32, width=2048)))[1]
    assert native > 1.3 * (base.width - 2 * base.pad)  # fitting 320 px would shrink it below 0.8x
    out = preprocess_array(long, wide)
    assert base.width < out.shape[1] <= 448 and out.shape[1] % 32 == 0
    assert abs(_ink_box(out)[1] - 0.8 * native) <= 3  # shrunk to 0.8x only
    assert _ink_box(preprocess_array(long, base))[1] <= base.width - 2 * base.pad + 1
    # A formula that fits with a mild shrink keeps the normal canvas, exactly as without max_width.
    mild_native = _ink_box(preprocess_array(mild, PreprocessConfig(trim_multiple=32, width=2048)))[1]
    assert base.width - 2 * base.pad < mild_native < (base.width - 2 * base.pad) / 0.8
    assert np.array_equal(preprocess_array(mild, wide), preprocess_array(mild, base))
    huge = preprocess_array(draw("a + b + c + d " * 12), wide)
    assert huge.shape[1] == 448 and _ink_box(huge)[1] <= 448 - 2 * wide.pad + 1  # still fits the widest canvas
    assert canvas_width(1000, wide) == 448 and canvas_width(300, PreprocessConfig(max_width=448)) == 320
    assert canvas_width(400, PreprocessConfig(max_width=448)) == 448


def test_faint_ink_counts_as_ink_with_ink_percentile() -> None:
    """An anti-aliased screen snip: strokes light gray, only a few pixels truly dark."""
    image = draw("a + b = c", size=20)
    sharp = np.where(np.asarray(image) < 128, 0, 255).astype(np.uint8)
    faint = np.where(sharp == 0, 150, 255).astype(np.uint8)
    ys, xs = np.nonzero(sharp == 0)
    faint[ys[:3], xs[:3]] = 0  # the contrast stretch maps these to 0: the strokes stay ~0.6
    adaptive = config_with(CFG, '{"ink_percentile": 10, "keep_scale_within": 1.0}')
    fixed = config_with(CFG, '{"keep_scale_within": 1.0}')
    want = _ink_box(preprocess_array(sharp, fixed))
    assert _ink_box(preprocess_array(faint, adaptive), 0.2) == pytest.approx(want, abs=2)
    assert _ink_box(preprocess_array(faint, fixed), 0.2) != pytest.approx(want, abs=2)  # the fixed 0.5 misreads it
    # a sharp (binarized) snip reads exactly as before
    assert np.array_equal(preprocess_array(sharp, adaptive), preprocess_array(sharp, fixed))
    with pytest.raises(ConfigError, match="at most 100"):
        config_with(CFG, '{"ink_percentile": 101}')


def test_thin_strokes_darkened_with_solid_ink() -> None:
    """A PDF viewer's anti-aliasing: strokes mostly light gray. ``solid_ink`` darkens them until that fraction of
    the ink is darker than 0.5; a binarized snip, already that dark, stays as it is."""
    image = draw("a + b = c", size=20)
    sharp = np.where(np.asarray(image.convert("L")) < 128, 0, 255).astype(np.uint8)
    thin = np.where(sharp == 0, 170, 255).astype(np.uint8)
    ys, xs = np.nonzero(sharp == 0)
    thin[ys[::10], xs[::10]] = 0  # a tenth of the ink dark: the stretch leaves the rest at ~0.67
    darkened = config_with(CFG, '{"solid_ink": 0.6}')
    plain = preprocess_array(thin, CFG)
    out = preprocess_array(thin, darkened)
    ink = plain > 0.1
    assert (plain[ink] > 0.5).mean() < 0.2  # as it comes: light strokes (ink 1 - gray)
    assert (out[ink] >= 0.499).mean() >= 0.6  # darkened: that fraction at half ink or darker
    assert np.array_equal(out > 0.1, ink)  # no new ink, none lost: only its darkness changes
    assert np.array_equal(preprocess_array(sharp, darkened), preprocess_array(sharp, CFG))
    # the power is bounded (strokes at 0.797 stay a little lighter than 0.5), and paler pixels are no ink
    gray = np.full((10, 10), 1.0, np.float32)
    gray[2:8, 4] = 0.797
    assert darken_thin_ink(gray, 0.9)[4, 4] == pytest.approx(0.797**3)
    assert np.array_equal(darken_thin_ink(gray, 0.0), gray)
    assert np.array_equal(darken_thin_ink(np.where(gray < 1, 0.85, gray), 0.9), np.where(gray < 1, 0.85, gray))
    with pytest.raises(ConfigError, match="below 1"):
        config_with(CFG, '{"solid_ink": 1}')
