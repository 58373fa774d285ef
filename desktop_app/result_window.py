"""Result window: the snip, editable LaTeX with a live offline preview, copy formats, attention."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QFontDatabase,
    QGuiApplication,
    QImage,
    QPixmap,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.formats import FORMAT_LABELS, FormatError, format_latex
from desktop_app.imageconv import image_from_mime, mime_offers_image
from desktop_app.preview import PreviewResult, PreviewService
from desktop_app.tokens import LOW_PROB, low_prob_spans, token_at

log = logging.getLogger(__name__)

PREVIEW_DEBOUNCE_MS = 250
STATE_COLORS = {
    "ready": "#2e7d32",
    "loading": "#ef6c00",
    "busy": "#ef6c00",
    "error": "#c62828",
    "no-weights": "#c62828",
}


def copy_text(text: str) -> None:
    cb = QGuiApplication.clipboard()
    cb.setText(text)


def render_check_note(pred: Any) -> str:
    """What the render check (core.render_match) said about a prediction, for the info line: nothing when it
    did not run or no candidate rendered like the snip."""
    if getattr(pred, "render_distance", None) is None:
        return ""
    changed = getattr(pred, "first_choice", None) is not None
    return "  ·  renders like the snip" + (" (not the model's first choice)" if changed else "")


def reading_label(text: str, kept: str, first: str | None, width: int = 90) -> str:
    """A menu entry for one reading of the snip: the LaTeX, cut to ``width`` characters, and what it is."""
    short = text if len(text) <= width else text[: width - 1] + "…"
    return short + ("   (kept)" if text == kept else "   (the model's first choice)" if text == first else "")


def retry_beam(beam: int) -> int:
    """The beam width "Retry" reads a snip again with: 5 after a narrower beam, else twice as wide (at most 20, the
    settings' limit)."""
    return 5 if beam < 5 else min(2 * beam, 20)


def display_input(model_input: np.ndarray) -> np.ndarray:
    """The model input as dark ink on white, whichever polarity the recogniser used.

    The real preprocessing gives ink = 1 on background = 0; the background is the majority
    of the pixels, so a dark median means the image has to be inverted for display.
    """
    m = np.clip(np.asarray(model_input, dtype=np.float32), 0.0, 1.0)
    return 1.0 - m if m.size and float(np.median(m)) < 0.5 else m


def upsample_bilinear(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear upsampling of an (Hf, Wf) grid to (h, w), cell centres aligned (as in Qt/PIL)."""
    a = np.asarray(a, dtype=np.float32)
    hf, wf = a.shape

    def axis(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        i0 = np.floor(x).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (x - i0).astype(np.float32)

    r0, r1, fr = axis(h, hf)
    c0, c1, fc = axis(w, wf)
    rows = a[r0] * (1 - fr)[:, None] + a[r1] * fr[:, None]  # (h, wf)
    return rows[:, c0] * (1 - fc)[None, :] + rows[:, c1] * fc[None, :]


class AttentionView(QWidget):
    """Heat map of one token's attention over the model input (pyqtgraph, imported lazily)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import os

        os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
        import pyqtgraph as pg

        self._pg = pg
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setBackground("w")
        self.vb = self.plot.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.base = pg.ImageItem(axisOrder="row-major")
        self.heat = pg.ImageItem(axisOrder="row-major")
        # a translucent highlighter over dark-on-white ink: yellow -> red, low attention clear
        ramp = np.linspace(0.0, 1.0, 256)
        lut = np.stack(
            [
                np.full(256, 235.0),
                200.0 * (1 - ramp) + 40.0 * ramp,
                20.0 * (1 - ramp),
                150.0 * np.sqrt(ramp),
            ],
            axis=1,
        ).astype(np.uint8)
        self.heat.setLookupTable(lut)
        self.vb.addItem(self.base)
        self.vb.addItem(self.heat)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self._show)
        self.label = QLabel("")
        row = QHBoxLayout()
        row.addWidget(QLabel("Token:"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        lay.addWidget(self.plot, 1)
        lay.addLayout(row)
        self.tokens: list[str] = []
        self.probs: list[float] = []
        self.attention: np.ndarray | None = None
        self.model_input: np.ndarray | None = None
        self.setMinimumHeight(160)
        self.setMaximumHeight(260)  # the model input is ~5:1; more height is only white space

    def set_data(
        self, model_input: np.ndarray, attention: np.ndarray, tokens: list[str], probs: list[float]
    ) -> None:
        self.model_input = np.asarray(model_input, dtype=np.float32)
        self.attention = np.asarray(attention, dtype=np.float32)
        self.tokens, self.probs = tokens, probs
        self.base.setImage(display_input(self.model_input), levels=(0.0, 1.0))
        self.slider.setRange(0, max(0, self.attention.shape[0] - 1))
        self.slider.setValue(0)
        self._show(0)
        self.vb.autoRange(padding=0.02)

    def current_heat(self, t: int) -> np.ndarray | None:
        """Attention of token t upsampled (nearest) to the model input's size."""
        if self.attention is None or self.model_input is None or not len(self.attention):
            return None
        t = min(max(t, 0), self.attention.shape[0] - 1)
        h, w = self.model_input.shape
        up = upsample_bilinear(self.attention[t], h, w)
        m = float(up.max())
        return up / m if m > 0 else up

    def _show(self, t: int) -> None:
        heat = self.current_heat(t)
        if heat is None:
            return
        self.heat.setImage(heat, levels=(0.0, 1.0))
        tok = self.tokens[t] if t < len(self.tokens) else "<end>"
        p = self.probs[t] if t < len(self.probs) else float("nan")
        self.label.setText(f"{t + 1}/{len(self.attention)}  {tok}  p={p:.2f}")  # type: ignore[arg-type]


class ResultWindow(QWidget):
    retry_requested = Signal(int)  # beam width
    copied = Signal(str, str)  # format, text
    latex_edited = Signal(str)
    image_dropped = Signal(QImage)  # a picture dropped on the window: read it as a snip

    def __init__(
        self,
        preview: PreviewService | None = None,
        copy_format: str = "raw",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("LaTeXSnip – result")
        self.setObjectName("resultWindow")
        self.resize(760, 560)
        self.prediction: Any = None
        self.history_id: int | None = None
        self._tokens: list[str] = []
        self._probs: list[float] = []
        self.last_preview: PreviewResult | None = None
        self.preview = preview or PreviewService(parent=self)
        self._own_preview = preview is None
        self.preview.rendered.connect(self._on_preview)

        self.status_label = QLabel("")
        self.status_label.setObjectName("modelStatus")
        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setMinimumHeight(60)
        self.image_label.setStyleSheet("background: white; border: 1px solid #ccc;")
        self.image_label.setText("Snip a formula, or drop a picture of one on this window.")
        self.setAcceptDrops(True)  # the editor takes its own drops (text)
        self.info_label = QLabel("")
        self.info_label.setObjectName("infoLabel")
        self.info_label.setWordWrap(True)

        self.edit = QPlainTextEdit()
        self.edit.setObjectName("latexEdit")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSize(max(mono.pointSize(), 11))
        self.edit.setFont(mono)
        self.edit.setMaximumHeight(110)
        self.edit.setPlaceholderText("LaTeX appears here; edit it freely, the preview follows.")
        self.edit.textChanged.connect(self._on_text_changed)
        self.edit.viewport().setMouseTracking(True)
        self.edit.viewport().installEventFilter(self)

        self.preview_label = QLabel()
        self.preview_label.setObjectName("previewImage")
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setStyleSheet("background: white;")
        scroll = QScrollArea()
        scroll.setWidget(self.preview_label)
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(100)
        self.preview_error = QLabel("")
        self.preview_error.setObjectName("previewError")
        self.preview_error.setStyleSheet("color: #c62828;")
        self.preview_error.setWordWrap(True)

        self.format_box = QComboBox()
        for key, label in FORMAT_LABELS.items():
            self.format_box.addItem(label, key)
        self.set_copy_format(copy_format)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("copyButton")
        self.copy_button.clicked.connect(lambda: self.copy())
        self.retry_button = QPushButton()
        self.retry_button.setObjectName("retryButton")
        self.retry_button.setToolTip(
            "Recognise the same snip again with a wider beam search (slower, sometimes better)"
        )
        self._set_retry_beam(retry_beam(1))
        self.retry_button.clicked.connect(lambda: self.retry_requested.emit(self._retry_beam))
        self.readings_button = QToolButton()
        self.readings_button.setObjectName("readingsButton")
        self.readings_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.readings_button.setToolTip(
            "Other ways the model read this snip (other beam hypotheses; with the render check, the model's own first "
            "choice): pick one to put it in the editor (Ctrl+Z takes it back)"
        )
        self.readings_menu = QMenu(self.readings_button)
        self.readings_menu.triggered.connect(lambda action: self.use_reading(str(action.data())))
        self.readings_button.setMenu(self.readings_menu)
        self._fill_readings(None)
        self.attn_button = QPushButton("Attention")
        self.attn_button.setCheckable(True)
        self.attn_button.setToolTip("Show where the model looked for each token")
        self.attn_button.toggled.connect(self._toggle_attention)
        self.copy_status = QLabel("")

        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Format:"))
        buttons.addWidget(self.format_box)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.copy_status, 1)
        buttons.addWidget(self.readings_button)
        buttons.addWidget(self.attn_button)
        buttons.addWidget(self.retry_button)

        self.attention_view: AttentionView | None = None
        self.attention_box = QVBoxLayout()

        lay = QVBoxLayout(self)
        lay.addWidget(self.status_label)
        lay.addWidget(QLabel("Snip:"))
        lay.addWidget(self.image_label)
        lay.addWidget(self.info_label)
        lay.addWidget(QLabel("LaTeX (low-confidence tokens highlighted):"))
        lay.addWidget(self.edit)
        lay.addWidget(QLabel("Preview:"))
        lay.addWidget(scroll, 1)
        lay.addWidget(self.preview_error)
        lay.addLayout(self.attention_box)
        lay.addLayout(buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(PREVIEW_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._request_preview)
        self._copy_status_timer = QTimer(self)
        self._copy_status_timer.setSingleShot(True)
        self._copy_status_timer.timeout.connect(lambda: self.copy_status.setText(""))
        self._set_busy(False)

    # ------------------------------------------------------------------ public API
    def set_copy_format(self, fmt: str) -> None:
        i = self.format_box.findData(fmt)
        self.format_box.setCurrentIndex(max(i, 0))

    def latex(self) -> str:
        return self.edit.toPlainText().strip()

    def set_model_status(self, state: str, message: str) -> None:
        color = STATE_COLORS.get(state, "#555")
        self.status_label.setText(f"<span style='color:{color}'>●</span> {message}")
        self.status_label.setToolTip(message)

    def set_snip(self, image: QImage) -> None:
        """A new snip: show it and wait for the recogniser."""
        self.prediction = None
        self.history_id = None
        self._tokens, self._probs = [], []
        self._fill_readings(None)
        pm = QPixmap.fromImage(image)
        if pm.height() > 200 or pm.width() > 700:
            pm = pm.scaled(
                700,
                200,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.image_label.setPixmap(pm)
        self.image_label.setMinimumHeight(min(pm.height(), 200) + 8)
        self.info_label.setStyleSheet("")
        self.info_label.setText("Recognising ...")
        self._set_busy(True)

    def _set_retry_beam(self, beam: int) -> None:
        self._retry_beam = beam
        self.retry_button.setText(f"Retry (beam {beam})")

    def set_prediction(self, pred: Any, beam: int = 1) -> None:
        self.prediction = pred
        self._set_retry_beam(retry_beam(beam))
        self._tokens = list(getattr(pred, "tokens", []) or [])
        self._probs = [float(p) for p in (getattr(pred, "token_probs", []) or [])]
        n_low = sum(1 for p in self._probs if p < LOW_PROB)
        self.info_label.setStyleSheet("")
        conf = float(pred.confidence)
        self.info_label.setText(
            f"Confidence {conf:.0%}  ·  {len(self._tokens)} tokens, {n_low} uncertain  ·  "
            f"{pred.ms:.0f} ms  ·  beam {beam}{render_check_note(pred)}"
        )
        first = getattr(pred, "first_choice", None)
        self.info_label.setToolTip(f"The model's own first choice was:\n{first}" if first else "")
        self.edit.setPlainText(pred.latex)
        self._fill_readings(pred)
        self._request_preview()  # no debounce for a fresh result
        self._set_busy(False)
        if self.attention_view is not None:
            self._fill_attention()

    def use_reading(self, text: str) -> None:
        """Put one of the prediction's readings (``readings_menu``) in the editor, as an edit Ctrl+Z takes back;
        low-confidence tokens are highlighted only for the reading they belong to (the kept one)."""
        kept = self.prediction is not None and text == self.prediction.latex
        self._tokens = list(getattr(self.prediction, "tokens", []) or []) if kept else []
        self._probs = [float(p) for p in (getattr(self.prediction, "token_probs", []) or [])] if kept else []
        cursor = QTextCursor(self.edit.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)  # not setPlainText: that would clear the undo history

    def _fill_readings(self, pred: Any) -> None:
        """The "Other readings" menu for ``pred``: the kept reading (a way back), then its alternatives (enabled by
        ``_set_busy``, which every caller runs next)."""
        self.readings_menu.clear()
        alternatives = list(getattr(pred, "alternatives", ()) or ()) if pred is not None else []
        first = getattr(pred, "first_choice", None)
        for text in [pred.latex, *alternatives] if alternatives else []:
            action = self.readings_menu.addAction(reading_label(text, pred.latex, first))
            action.setData(text)
            action.setToolTip(text)
        self.readings_button.setText(f"Other readings ({len(alternatives)})" if alternatives else "Other readings")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if mime_offers_image(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        image = image_from_mime(event.mimeData())
        if image is None:
            self.set_error("That file is not a picture LaTeXSnip can open (PNG, JPEG, BMP, GIF, WebP, TIFF).")
            event.ignore()
            return
        event.acceptProposedAction()
        self.image_dropped.emit(image)

    def set_error(self, message: str) -> None:
        self.info_label.setStyleSheet("color: #c62828;")
        self.info_label.setText(message)
        self._set_busy(False)

    def copy(self, fmt: str | None = None) -> str | None:
        """Put the current LaTeX on the clipboard in ``fmt`` (default: the chosen format)."""
        fmt = fmt or self.format_box.currentData()
        text = self.latex()
        if not text:
            self._flash("Nothing to copy.", error=True)
            return None
        try:
            out = format_latex(text, fmt)
        except FormatError as exc:
            self._flash(str(exc), error=True)
            return None
        copy_text(out)
        self._flash(f"Copied ({FORMAT_LABELS.get(fmt, fmt)}).")
        self.copied.emit(fmt, out)
        return out

    # ------------------------------------------------------------------ internals
    def _flash(self, text: str, error: bool = False) -> None:
        self.copy_status.setStyleSheet("color: #c62828;" if error else "color: #2e7d32;")
        self.copy_status.setText(text)
        self._copy_status_timer.start(4000)

    def _set_busy(self, busy: bool) -> None:
        has = self.prediction is not None
        self.retry_button.setEnabled(
            not busy
            and (
                has
                or self.image_label.pixmap() is not None
                and not self.image_label.pixmap().isNull()
            )
        )
        self.attn_button.setEnabled(
            not busy and has and getattr(self.prediction, "attention", None) is not None
        )
        self.readings_button.setEnabled(not busy and bool(self.readings_menu.actions()))

    def _on_text_changed(self) -> None:
        self._highlight()
        self._debounce.start()
        self.latex_edited.emit(self.latex())

    def _highlight(self) -> None:
        sels = []
        text = self.edit.toPlainText()
        for start, end, p in low_prob_spans(text, self._tokens, self._probs):
            sel = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(QColor(255, 205, 120) if p >= 0.25 else QColor(255, 150, 150))
            fmt.setToolTip(f"p = {p:.2f}")
            sel.format = fmt
            cur = QTextCursor(self.edit.document())
            cur.setPosition(start)
            cur.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            sel.cursor = cur
            sels.append(sel)
        self.edit.setExtraSelections(sels)

    def highlighted_ranges(self) -> list[tuple[int, int]]:
        return [
            (s.cursor.selectionStart(), s.cursor.selectionEnd())
            for s in self.edit.extraSelections()
        ]

    def _request_preview(self) -> None:
        self._debounce.stop()
        text = self.latex()
        if not text:
            self.preview_label.clear()
            self.preview_error.setText("")
            return
        self.preview.request(text)

    def _on_preview(self, res: PreviewResult) -> None:
        if res.latex != self.latex():
            return  # stale
        self.last_preview = res
        if res.image is not None:
            pm = QPixmap.fromImage(res.image)
            pm.setDevicePixelRatio(max(1.0, self.devicePixelRatioF()))
            self.preview_label.setPixmap(pm)
            self.preview_error.setText("")
        else:
            self.preview_label.clear()
            self.preview_error.setText(res.error or "Cannot render this LaTeX.")

    def _toggle_attention(self, on: bool) -> None:
        if on and self.attention_view is None:
            try:
                self.attention_view = AttentionView(self)
            except Exception as exc:  # pyqtgraph missing or broken
                self.attn_button.setChecked(False)
                self.set_error(f"Attention view unavailable: {exc}")
                return
            self.attention_box.addWidget(self.attention_view)
        if self.attention_view is not None:
            self.attention_view.setVisible(on)
            if on:
                self._fill_attention()

    def _fill_attention(self) -> None:
        p = self.prediction
        if self.attention_view is None or p is None or p.attention is None or p.model_input is None:
            return
        self.attention_view.set_data(p.model_input, p.attention, self._tokens, self._probs)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if (
            ev.type() == QEvent.Type.MouseMove
            and self.attention_view is not None
            and self.attention_view.isVisible()
            and obj is self.edit.viewport()
        ):
            pos = self.edit.cursorForPosition(ev.position().toPoint()).position()  # type: ignore[attr-defined]
            t = token_at(self.edit.toPlainText(), self._tokens, pos)
            if t is not None:
                self.attention_view.slider.setValue(t)
        return super().eventFilter(obj, ev)

    def closeEvent(self, e: Any) -> None:
        self._debounce.stop()
        super().closeEvent(e)

    def shutdown(self) -> None:
        if self._own_preview:
            self.preview.shutdown()
