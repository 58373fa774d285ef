"""Pure functions mapping an overlay selection to pixels of a frozen screenshot.

Qt works in logical (device-independent) pixels; grabbed images are in physical pixels. Each
screen has its own scale ``image_width / window_width`` (this also absorbs fractional scaling
and grabbers that ignore the device pixel ratio). Screen origins may be negative (a monitor
left of or above the primary). Nothing here touches Qt, so it is trivially unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SELECTION_PX = 8  # a selection smaller than this (either side, in image pixels) is rejected


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:  # exclusive
        return self.x + self.w

    @property
    def bottom(self) -> int:  # exclusive
        return self.y + self.h

    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0


@dataclass(frozen=True)
class RectF:
    x: float
    y: float
    w: float
    h: float


def normalize_drag(x0: float, y0: float, x1: float, y1: float) -> RectF:
    """A rectangle from a drag in any direction."""
    return RectF(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))


def screen_scale(
    image_size: tuple[int, int], window_size: tuple[float, float]
) -> tuple[float, float]:
    """(sx, sy) = screenshot pixels per logical window pixel, per axis."""
    iw, ih = image_size
    ww, wh = window_size
    if ww <= 0 or wh <= 0:
        raise ValueError(f"window size must be positive, got {window_size}")
    return iw / ww, ih / wh


def global_to_local(sel: RectF, screen_origin: tuple[float, float]) -> RectF:
    """A selection in global logical coordinates -> coordinates relative to the screen's top left."""
    ox, oy = screen_origin
    return RectF(sel.x - ox, sel.y - oy, sel.w, sel.h)


def selection_to_pixels(
    sel_local: RectF,
    image_size: tuple[int, int],
    window_size: tuple[float, float],
) -> Rect:
    """Map a selection in window-local logical coordinates to a pixel rect in the screenshot.

    Edges are rounded outward-safe (floor the start, ceil the end) and clipped to the image, so
    the crop always contains everything the user saw inside the rubber band.
    """
    import math

    sx, sy = screen_scale(image_size, window_size)
    iw, ih = image_size
    x0 = math.floor(sel_local.x * sx + 1e-9)
    y0 = math.floor(sel_local.y * sy + 1e-9)
    x1 = math.ceil((sel_local.x + sel_local.w) * sx - 1e-9)
    y1 = math.ceil((sel_local.y + sel_local.h) * sy - 1e-9)
    x0, x1 = max(0, min(iw, x0)), max(0, min(iw, x1))
    y0, y1 = max(0, min(ih, y0)), max(0, min(ih, y1))
    return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def global_selection_to_pixels(
    sel_global: RectF,
    screen_origin: tuple[float, float],
    image_size: tuple[int, int],
    window_size: tuple[float, float],
) -> Rect:
    return selection_to_pixels(global_to_local(sel_global, screen_origin), image_size, window_size)


def selection_problem(px: Rect, min_px: int = MIN_SELECTION_PX) -> str | None:
    """None if the crop is usable, else a short hint for the user."""
    if px.is_empty():
        return "Empty selection: drag a rectangle around the formula (Esc cancels)."
    if px.w < min_px or px.h < min_px:
        return (
            f"Selection too small ({px.w}x{px.h} px): drag a larger rectangle around the "
            "formula (Esc cancels)."
        )
    return None


def screen_at(point: tuple[float, float], screens: list[RectF]) -> int | None:
    """Index of the screen (global logical rects) containing the point, else None."""
    x, y = point
    for i, r in enumerate(screens):
        if r.x <= x < r.x + r.w and r.y <= y < r.y + r.h:
            return i
    return None
