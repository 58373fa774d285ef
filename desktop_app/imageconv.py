"""QImage <-> numpy conversions, and pictures from drags (GUI-thread helpers; no torch)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage


def _pixels(img: QImage, fmt: QImage.Format, channels: int) -> np.ndarray:
    """(H, W, channels) uint8 copy of ``img`` converted to ``fmt`` (rows without their padding)."""
    conv = img.convertToFormat(fmt)
    w, h, bpl = conv.width(), conv.height(), conv.bytesPerLine()
    buf = np.frombuffer(conv.constBits(), dtype=np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, : w * channels].reshape(h, w, channels).copy()


def qimage_to_rgb(img: QImage) -> np.ndarray:
    """(H, W, 3) uint8 copy of a QImage."""
    return _pixels(img, QImage.Format.Format_RGB888, 3)


def qimage_to_array(img: QImage) -> np.ndarray:
    """What the recogniser is given: (H, W, 3) uint8, or (H, W, 4) RGBA where the picture is partly transparent (an
    image copied from a web page or dropped from a file, often a formula on a transparent page): flattened to RGB its
    transparent pixels would turn black and hide the ink; ``core.preprocess.to_gray`` composites them onto the page.
    An opaque picture stays RGB, so a dark-mode snip is still recognised as one."""
    if not img.hasAlphaChannel():
        return qimage_to_rgb(img)
    rgba = _pixels(img, QImage.Format.Format_RGBA8888, 4)
    return rgba if int(rgba[..., 3].min()) < 255 else rgba[..., :3].copy()


def rgb_to_qimage(arr: np.ndarray) -> QImage:
    """QImage (owning its data) from (H, W), (H, W, 3) or (H, W, 4) uint8 / float 0..1 arrays."""
    a = np.asarray(arr)
    if a.dtype != np.uint8:
        a = np.clip(a * (255.0 if a.max(initial=0) <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    a = np.ascontiguousarray(a)
    h, w = a.shape[:2]
    if a.ndim == 2:
        img = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8)
    elif a.shape[2] == 3:
        img = QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        img = QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return img.copy()


def is_blank(img: QImage, tolerance: int = 6) -> bool:
    """True for a null image or one of (almost) a single colour: all black counts as a failed grab."""
    if img.isNull() or img.width() == 0 or img.height() == 0:
        return True
    small = img.scaled(128, 128) if img.width() * img.height() > 128 * 128 * 4 else img
    a = qimage_to_rgb(small).astype(np.int16)
    return int(a.max()) - int(a.min()) <= tolerance


def is_all_black(img: QImage) -> bool:
    if img.isNull():
        return True
    small = img.scaled(128, 128) if img.width() * img.height() > 128 * 128 * 4 else img
    return int(qimage_to_rgb(small).max()) <= 4


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def _image_files(mime: QMimeData) -> list[str]:
    """The local files a drag carries whose names say they are pictures."""
    paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    return [p for p in paths if p.lower().endswith(IMAGE_SUFFIXES)]


def mime_offers_image(mime: QMimeData) -> bool:
    """Whether a drag carries a picture: image data (a browser's image) or a local image file."""
    return mime.hasImage() or bool(_image_files(mime))


def image_from_mime(mime: QMimeData) -> QImage | None:
    """The dropped picture (image data first, else the first local image file that loads); None if there is none."""
    if mime.hasImage():
        img = QImage(mime.imageData())
        if not img.isNull():
            return img
    for path in _image_files(mime):
        img = QImage(path)
        if not img.isNull():
            return img
    return None
