"""Training-time augmentation, applied to the raw image BEFORE core.preprocess (so that
preprocessing learns to undo what real snips do: other zooms, blur, JPEG, dark mode...)."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageFilter


@dataclass(frozen=True)
class AugmentConfig:
    p_scale: float = 0.5  # resize by a factor in scale_range (screen zoom)
    scale_range: tuple[float, float] = (0.6, 2.2)
    p_rotate: float = 0.15  # small rotation, degrees in +-max_rotate
    max_rotate: float = 1.5
    p_blur: float = 0.2
    p_noise: float = 0.2
    p_jpeg: float = 0.2
    p_invert: float = 0.1  # dark mode
    p_contrast: float = 0.2  # grey ink on a tinted page
    p_margin: float = 0.4  # loose hand-dragged crop: extra background around the formula

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


NO_AUGMENT = AugmentConfig(0, (1, 1), 0, 0, 0, 0, 0, 0, 0, 0)


def augment(image: Image.Image, cfg: AugmentConfig, rng: np.random.Generator) -> Image.Image:
    """A grayscale ("L") image with dark ink on white -> a perturbed "L" image."""
    im = image.convert("L")
    if rng.random() < cfg.p_margin:
        m = rng.integers(0, 24, size=4)
        canvas = Image.new("L", (im.width + int(m[0] + m[2]), im.height + int(m[1] + m[3])), 255)
        canvas.paste(im, (int(m[0]), int(m[1])))
        im = canvas
    if rng.random() < cfg.p_scale:
        s = float(np.exp(rng.uniform(np.log(cfg.scale_range[0]), np.log(cfg.scale_range[1]))))
        im = im.resize((max(4, round(im.width * s)), max(4, round(im.height * s))), Image.Resampling.BILINEAR, reducing_gap=2.0)
    if rng.random() < cfg.p_rotate:
        im = im.rotate(float(rng.uniform(-cfg.max_rotate, cfg.max_rotate)), Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    if rng.random() < cfg.p_blur:
        im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
    a = None
    if rng.random() < cfg.p_contrast:
        a = np.asarray(im, dtype=np.float32) / 255.0
        bg, ink = rng.uniform(0.75, 1.0), rng.uniform(0.0, 0.35)
        a = ink + a * (bg - ink)
    if rng.random() < cfg.p_noise:
        a = np.asarray(im, dtype=np.float32) / 255.0 if a is None else a
        a = a + rng.normal(0.0, rng.uniform(0.02, 0.08), size=a.shape).astype(np.float32)
    if a is not None:
        im = Image.fromarray((np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), "L")
    if rng.random() < cfg.p_invert:
        im = Image.eval(im, lambda v: 255 - v)
    if rng.random() < cfg.p_jpeg:
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=int(rng.integers(30, 90)))
        buf.seek(0)
        im = Image.open(buf).convert("L")
    return im
