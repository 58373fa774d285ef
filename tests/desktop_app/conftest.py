"""GUI tests run headless: the Qt platform must be chosen before anything imports Qt."""

from __future__ import annotations

import gc
import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("LATEXSNIP_NO_HOTKEY", "1")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pytest  # noqa: E402
from PySide6.QtCore import QRect, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QImage, QPainter  # noqa: E402

from desktop_app.gui_gc import MainThreadCollector  # noqa: E402


@pytest.fixture(autouse=True)
def _gc_on_gui_thread(qapp):
    """As in the app: Python's cycle collector never runs on a worker thread (a collection there
    can free this thread's Qt objects from the wrong thread: a segfault)."""
    collector = MainThreadCollector()
    yield collector
    collector.stop()


@pytest.fixture
def automatic_gc():
    """CPython's own collection switched on for one test (as outside the app), then off again
    for the autouse collector above."""
    gc.enable()
    yield
    gc.disable()


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Each test gets its own settings/history dir and its own single-instance socket name."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("LATEXSNIP_DATA_DIR", str(d))
    monkeypatch.setenv("LATEXSNIP_INSTANCE", f"test-{os.getpid()}-{tmp_path.name}")
    return d


def formula_image(w: int, h: int, text: str = "a/b + x²", blank_bottom: int = 0) -> QImage:
    """White image tiled with formula-like text (ink in every 60 px cell), except a blank band
    of ``blank_bottom`` px at the bottom."""
    img = QImage(w, h, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setPen(QColor("black"))
    f = QFont()
    f.setPixelSize(max(8, min(24, h // 3)))
    p.setFont(f)
    step = max(16, min(60, h))
    for y in range(0, max(1, h - blank_bottom - step // 2), step):
        for x in range(0, w, 2 * step):
            p.drawText(QRect(x, y, 2 * step, step), Qt.AlignmentFlag.AlignCenter, text)
            p.fillRect(QRect(x + step // 2, y + step // 2, step, 2), QColor("black"))
    p.end()
    return img


class ImageGrabber:
    """Pretends each screen shows ``scale`` times its logical size (a HiDPI screen)."""

    name = "test-image"

    def __init__(self, scale: float = 2.0, fail: bool = False, black: bool = False) -> None:
        self.scale, self.fail, self.black, self.calls = scale, fail, black, 0

    def grab(self, screens):
        self.calls += 1
        if self.fail:
            raise RuntimeError("test grabber refuses")
        out = []
        for s in screens:
            g = s.geometry()
            w, h = int(g.width() * self.scale), int(g.height() * self.scale)
            if self.black:
                img = QImage(w, h, QImage.Format.Format_RGB32)
                img.fill(QColor("black"))
            else:
                img = formula_image(w, h, blank_bottom=200)
            out.append(img)
        return out


@pytest.fixture
def grabber():
    return ImageGrabber()
