"""Screen capture: every screen is grabbed (frozen) before the overlay shows.

Grabbers sit behind one interface and are tried in order (mss, then Qt); a grabber that
raises, returns the wrong number of images, or returns an all-black image (what Wayland
compositors often hand out) counts as failed and the next one is tried.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtGui import QGuiApplication, QImage, QScreen

from desktop_app.imageconv import is_all_black

log = logging.getLogger(__name__)


@dataclass
class Shot:
    """One frozen screen: the physical-pixel image and the screen's logical geometry."""

    image: QImage
    geometry: tuple[int, int, int, int]  # logical x, y, w, h (may be negative x/y)
    dpr: float
    name: str = ""


class CaptureError(Exception):
    """No grabber could capture the screens; the message says what to do."""


class Grabber(Protocol):
    name: str

    def grab(self, screens: list[QScreen]) -> list[QImage]:
        """One image per screen, in the same order; raise on failure."""
        ...


def _geo(screen: QScreen) -> tuple[int, int, int, int]:
    g = screen.geometry()
    return g.x(), g.y(), g.width(), g.height()


class MssGrabber:
    """python-mss (X11, Windows, macOS; not Wayland). Monitors are paired with Qt screens by position."""

    name = "mss"

    def grab(self, screens: list[QScreen]) -> list[QImage]:
        import mss  # optional dependency

        with mss.MSS() if hasattr(mss, "MSS") else mss.mss() as sct:
            monitors = list(sct.monitors[1:])
            if len(monitors) != len(screens):
                raise RuntimeError(f"mss sees {len(monitors)} monitors, Qt sees {len(screens)}")
            order_q = sorted(
                range(len(screens)), key=lambda i: (_geo(screens[i])[0], _geo(screens[i])[1])
            )
            order_m = sorted(
                range(len(monitors)), key=lambda i: (monitors[i]["left"], monitors[i]["top"])
            )
            pair = dict(zip(order_q, order_m, strict=True))
            out: list[QImage] = []
            for i in range(len(screens)):
                shot = sct.grab(monitors[pair[i]])
                img = QImage(
                    shot.bgra, shot.width, shot.height, 4 * shot.width, QImage.Format.Format_RGB32
                )
                out.append(img.copy())
            return out


class QtGrabber:
    """QScreen.grabWindow(0): works on X11, Windows, macOS (with permission); black on Wayland."""

    name = "qt"

    def grab(self, screens: list[QScreen]) -> list[QImage]:
        out = []
        for s in screens:
            pm = s.grabWindow(0)
            if pm.isNull():
                raise RuntimeError(f"Qt returned an empty grab of screen {s.name()!r}")
            out.append(pm.toImage())
        return out


def default_grabbers() -> list[Grabber]:
    grabbers: list[Grabber] = []
    if not os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM") == "xcb":
        grabbers.append(MssGrabber())
    grabbers.append(QtGrabber())
    return grabbers


def grab_screens(grabbers: list[Grabber] | None = None) -> list[Shot]:
    """Grab every screen with the first grabber that works, else raise CaptureError."""
    screens = QGuiApplication.screens()
    if not screens:
        raise CaptureError("No screen found.\n\n" + capture_help())
    reasons = []
    for g in grabbers if grabbers is not None else default_grabbers():
        try:
            images = g.grab(screens)
        except Exception as exc:  # any grabber failure: log, try the next
            log.info("grabber %s failed: %s", g.name, exc)
            reasons.append(f"{g.name}: {exc}")
            continue
        if len(images) != len(screens) or any(is_all_black(im) for im in images):
            log.info("grabber %s returned a blank or incomplete capture", g.name)
            reasons.append(f"{g.name}: blank or incomplete capture")
            continue
        log.debug("captured %d screen(s) with %s", len(images), g.name)
        return [
            Shot(im, _geo(s), s.devicePixelRatio(), s.name())
            for im, s in zip(images, screens, strict=True)
        ]
    raise CaptureError(
        "LaTeXSnip could not capture the screen.\n\n"
        + capture_help()
        + "\n\nDetails: "
        + "; ".join(reasons)
    )


def capture_help() -> str:
    if sys.platform == "darwin":
        return (
            "On macOS, allow screen recording: System Settings > Privacy & Security > Screen "
            "Recording, tick LaTeXSnip (or your terminal / Python), then restart LaTeXSnip."
        )
    if os.environ.get("WAYLAND_DISPLAY"):
        return (
            "Wayland does not let applications read the screen directly. Either log in to an "
            "X11 session, start LaTeXSnip with QT_QPA_PLATFORM=xcb (XWayland; works on some "
            "desktops), or copy a screenshot of the formula with your desktop's tool and choose "
            "Read clipboard image in LaTeXSnip's menu (`latexsnip snip --clipboard`)."
        )
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        return (
            "No X display found (DISPLAY is not set). Start LaTeXSnip inside your desktop session."
        )
    return (
        "Check that no other program blocks screen capture, then try again. As a fallback, copy "
        "a screenshot of the formula with another tool and choose Read clipboard image in "
        "LaTeXSnip's menu."
    )
