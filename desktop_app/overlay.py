"""Selection overlay: one frameless full-screen window per screen, showing the frozen capture.

The user drags a rectangle on any screen; Esc or a right click cancels. Tiny or empty
selections are rejected with a hint and the overlay stays open for another try.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import QWidget

from desktop_app.capture import Shot
from desktop_app.geometry import RectF, normalize_drag, selection_problem, selection_to_pixels

DEFAULT_HINT = "Drag a rectangle around the formula  ·  Esc or right click cancels"


class SnipOverlay(QWidget):
    """One screen's overlay. Emits ``selected(index, RectF in local logical px)`` or ``cancelled()``."""

    selected = Signal(int, object)
    cancelled = Signal()

    def __init__(self, index: int, shot: Shot) -> None:
        super().__init__(None)
        self.index = index
        self.shot = shot
        self.hint = DEFAULT_HINT
        self.hint_is_error = False
        self._start: QPointF | None = None
        self._end: QPointF | None = None
        self.setObjectName(f"snipOverlay{index}")
        self.setWindowTitle("LaTeXSnip selection")
        self.setWindowFlags(
            Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.Tool
        )
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(True)
        x, y, w, h = shot.geometry
        self.setGeometry(QRect(x, y, w, h))

    def show_on_screen(self) -> None:
        x, y, w, h = self.shot.geometry
        for s in QGuiApplication.screens():
            g = s.geometry()
            if (g.x(), g.y(), g.width(), g.height()) == (x, y, w, h):
                self.setScreen(s)
                break
        self.setGeometry(QRect(x, y, w, h))
        self.show()
        self.raise_()
        self.activateWindow()

    # --- selection state -------------------------------------------------------------------
    def selection(self) -> RectF | None:
        if self._start is None or self._end is None:
            return None
        return normalize_drag(self._start.x(), self._start.y(), self._end.x(), self._end.y())

    def set_hint(self, text: str, error: bool = False) -> None:
        self.hint, self.hint_is_error = text, error
        self.update()

    def _clamp(self, p: QPointF) -> QPointF:
        return QPointF(
            min(max(p.x(), 0.0), float(self.width())), min(max(p.y(), 0.0), float(self.height()))
        )

    # --- events ----------------------------------------------------------------------------
    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
        else:
            super().keyPressEvent(e)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.RightButton:
            self.cancelled.emit()
            return
        if e.button() == Qt.MouseButton.LeftButton:
            self._start = self._end = self._clamp(e.position())
            self.update()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._start is not None:
            self._end = self._clamp(e.position())
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if e.button() != Qt.MouseButton.LeftButton or self._start is None:
            return
        self._end = self._clamp(e.position())
        sel = self.selection()
        self._start = None
        self.update()
        if sel is not None:
            self.selected.emit(self.index, sel)

    def paintEvent(self, _e: object) -> None:
        p = QPainter(self)
        p.drawImage(QRectF(self.rect()), self.shot.image)
        p.fillRect(self.rect(), QColor(0, 0, 0, 90))
        sel = self.selection()
        if sel is not None and self._start is not None:
            r = QRectF(sel.x, sel.y, sel.w, sel.h)
            sx = self.shot.image.width() / max(1, self.width())
            sy = self.shot.image.height() / max(1, self.height())
            src = QRectF(sel.x * sx, sel.y * sy, sel.w * sx, sel.h * sy)
            p.drawImage(r, self.shot.image, src)  # un-dimmed inside the band
            p.setPen(QPen(QColor(0, 150, 255), 2))
            p.drawRect(r)
        # hint banner
        f = QFont()
        f.setPointSize(12)
        p.setFont(f)
        fm = p.fontMetrics()
        tw = fm.horizontalAdvance(self.hint) + 24
        th = fm.height() + 12
        box = QRectF((self.width() - tw) / 2, 16, tw, th)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(170, 30, 30, 220) if self.hint_is_error else QColor(30, 30, 30, 200))
        p.drawRoundedRect(box, 6, 6)
        p.setPen(QColor(255, 255, 255))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, self.hint)
        p.end()


class SnipSession(QObject):
    """Shows one overlay per frozen screen; emits ``snipped(QImage)`` or ``cancelled()`` once."""

    snipped = Signal(QImage)
    cancelled = Signal()

    def __init__(self, shots: list[Shot], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shots = shots
        self.overlays: list[SnipOverlay] = []
        self._done = False
        self.last_problem: str | None = None

    def start(self) -> None:
        for i, shot in enumerate(self.shots):
            ov = SnipOverlay(i, shot)
            ov.selected.connect(self._on_selected)
            ov.cancelled.connect(self.cancel)
            self.overlays.append(ov)
            ov.show_on_screen()

    def crop_for(self, index: int, sel: RectF) -> tuple[QImage | None, str | None]:
        ov = self.overlays[index]
        img = self.shots[index].image
        px = selection_to_pixels(sel, (img.width(), img.height()), (ov.width(), ov.height()))
        problem = selection_problem(px)
        if problem:
            return None, problem
        return img.copy(QRect(px.x, px.y, px.w, px.h)), None

    def _on_selected(self, index: int, sel: RectF) -> None:
        if self._done:
            return
        crop, problem = self.crop_for(index, sel)
        if crop is None:
            self.last_problem = problem
            for ov in self.overlays:
                ov.set_hint(problem or DEFAULT_HINT, error=True)
            return
        self._finish()
        self.snipped.emit(crop)

    def cancel(self) -> None:
        if self._done:
            return
        self._finish()
        self.cancelled.emit()

    def _finish(self) -> None:
        self._done = True
        for ov in self.overlays:
            ov.close()
        self.overlays.clear()

    @property
    def active(self) -> bool:
        return not self._done
