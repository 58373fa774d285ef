"""LaTeXSnip desktop app: tray icon, single instance, snip -> recognise -> result window.

Entry points for the CLI: ``run_app(argv)`` (bare ``latexsnip``) and ``send_snip_request()``
(``latexsnip snip``). Nothing here imports torch; the recogniser is loaded in the worker thread.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import logging.handlers
import os
import sys
import traceback
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QImage
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from desktop_app import worker as W
from desktop_app.capture import CaptureError, Grabber, grab_screens
from desktop_app.display import display_problem
from desktop_app.gui_gc import MainThreadCollector
from desktop_app.history import HistoryStore, HistoryWindow, image_to_png
from desktop_app.hotkey import HotkeyBridge, NoHotkey, make_hotkey, pretty_combo
from desktop_app.imageconv import qimage_to_array
from desktop_app.overlay import SnipSession
from desktop_app.paths import data_dir, icon_path, weights_path
from desktop_app.preview import PreviewService
from desktop_app.result_window import ResultWindow
from desktop_app.settings import Settings, SettingsDialog, load_settings, save_settings

log = logging.getLogger("desktop_app")

APP_NAME = "LaTeXSnip"
MSG_SNIP = b"snip\n"
MSG_CLIPBOARD = b"clipboard\n"
MSG_SHOW = b"show\n"
NO_CLIPBOARD_IMAGE = (
    "The clipboard holds no image. Copy a formula's picture first (a screenshot tool's Copy, or Copy Image in a "
    "browser or PDF viewer), then choose Read clipboard image again."
)


def server_name() -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    suffix = os.environ.get("LATEXSNIP_INSTANCE", "")
    return f"latexsnip-{user}{('-' + suffix) if suffix else ''}"


def send_message(msg: bytes, timeout_ms: int = 1000) -> bool:
    """Send a message to a running instance; False if none is running. Needs no QApplication."""
    sock = QLocalSocket()
    sock.connectToServer(server_name())
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(QByteArray(msg))
    ok = sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        sock.waitForDisconnected(timeout_ms)
    return bool(ok)


def query_status(timeout_ms: int = 2000) -> tuple[str, str] | None:
    """(model state, message) of the running app, or None when no app answers."""
    sock = QLocalSocket()
    sock.connectToServer(server_name())
    if not sock.waitForConnected(timeout_ms):
        return None
    sock.write(QByteArray(b"status\n"))
    sock.waitForBytesWritten(timeout_ms)
    data = b""
    while not data.endswith(b"\n"):
        # waitForBytesWritten may already have buffered the answer: read before waiting
        if not sock.bytesAvailable() and not sock.waitForReadyRead(timeout_ms):
            break
        data += bytes(sock.readAll().data())
    sock.disconnectFromServer()
    if not data:
        return None
    state, _, message = data.decode("utf-8", "replace").strip().partition("\t")
    return state, message


def send_snip_request() -> bool:
    """``latexsnip snip``: ask the running app to start a snip. False if no app is running."""
    return send_message(MSG_SNIP)


def app_icon(name: str = "latexsnip") -> QIcon:
    for ext in (".svg", ".png"):
        p = icon_path(name + ext)
        if p.exists():
            icon = QIcon(str(p))
            if not icon.isNull():
                return icon
    return QIcon()


class ControlWindow(QWidget):
    """Shown instead of the tray when the desktop has no system tray."""

    def __init__(self, app: LatexSnipApp) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setObjectName("controlWindow")
        self._app = app
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("No system tray found: LaTeXSnip runs in this window."))
        lay.addWidget(self.status)
        row = QHBoxLayout()
        for text, fn in (
            ("Snip", app.snip),
            ("Read clipboard image", app.read_clipboard),
            ("History", app.show_history),
            ("Settings", app.show_settings),
            ("Quit", app.quit),
        ):
            b = QPushButton(text)
            b.clicked.connect(fn)
            row.addWidget(b)
        lay.addLayout(row)

    def closeEvent(self, e: Any) -> None:
        e.ignore()
        QTimer.singleShot(0, self._app.quit)  # not from inside our own close event


class LatexSnipApp(QObject):
    """Everything the running app owns. Tests build it with a fake loader and grabbers."""

    notified = Signal(str, str)  # title, message (also shown as a tray balloon)
    result_shown = Signal(object)

    def __init__(
        self,
        settings: Settings | None = None,
        loader: W.Loader | None = None,
        grabbers: list[Grabber] | None = None,
        store: HistoryStore | None = None,
        use_tray: bool | None = None,
        enable_hotkey: bool = True,
        listen: bool = True,
        quit_fn: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        # before any worker thread starts: cyclic GC only on this (the GUI) thread
        self.collector = MainThreadCollector(parent=self)
        self.settings = settings or load_settings()
        self.grabbers = grabbers
        self._quit_fn = quit_fn or QApplication.quit
        self.store = store or HistoryStore()
        screen = QGuiApplication.primaryScreen()
        dpr = screen.devicePixelRatio() if screen is not None else 1.0
        # render at the screen's physical resolution so the preview is sharp on HiDPI screens
        self.preview = PreviewService(
            self.settings.preview_renderer, dpi=round(150 * dpr), parent=self
        )
        self.result_window = ResultWindow(self.preview, self.settings.copy_format)
        self.result_window.setWindowIcon(app_icon())
        self.result_window.retry_requested.connect(self.retry)
        self.result_window.copied.connect(self._on_copied)
        self.result_window.image_dropped.connect(lambda image: self.recognize_image(image, self.settings.beam_width))
        self.history_window: HistoryWindow | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.session: SnipSession | None = None
        self.capture_error_box: QMessageBox | None = None
        self.last_snip: QImage | None = None
        self.last_beam = self.settings.beam_width
        # the latest user-facing messages (title, text), for tests and scripts; bounded: a tray app runs for weeks
        self.messages: deque[tuple[str, str]] = deque(maxlen=200)
        self._closing = False

        self.worker = W.WorkerController(loader, parent=self)
        self.worker.status.connect(self._on_status)
        self.worker.result.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)

        # tray (or a small window where there is no tray)
        self.tray: QSystemTrayIcon | None = None
        self.control: ControlWindow | None = None
        self.menu = QMenu()
        self.act_snip = QAction("Snip", self.menu)
        self.act_snip.triggered.connect(self.snip)
        self.act_clipboard = QAction("Read clipboard image", self.menu)
        self.act_clipboard.setToolTip("Recognise the picture on the clipboard, e.g. from your desktop's screenshot tool")
        self.act_clipboard.triggered.connect(self.read_clipboard)
        self.act_history = QAction("History", self.menu)
        self.act_history.triggered.connect(self.show_history)
        self.act_settings = QAction("Settings ...", self.menu)
        self.act_settings.triggered.connect(self.show_settings)
        self.act_status = QAction("Model: starting ...", self.menu)
        self.act_status.setEnabled(False)
        self.act_quit = QAction("Quit", self.menu)
        self.act_quit.triggered.connect(self.quit)
        for a, icon in (
            (self.act_snip, "snip"),
            (self.act_clipboard, "snip"),
            (self.act_history, "history"),
            (self.act_settings, "settings"),
        ):
            a.setIcon(app_icon(icon))
            self.menu.addAction(a)
        self.menu.addSeparator()
        self.menu.addAction(self.act_status)
        self.menu.addSeparator()
        self.menu.addAction(self.act_quit)
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        if use_tray:
            self.tray = QSystemTrayIcon(app_icon("latexsnip"), self)
            self.tray.setContextMenu(self.menu)
            self.tray.setToolTip(APP_NAME)
            self.tray.activated.connect(self._on_tray_activated)
            self.tray.show()
        else:
            self.control = ControlWindow(self)
            self.control.setWindowIcon(app_icon())

        # hotkey
        self.hotkey_bridge = HotkeyBridge()
        self.hotkey_bridge.triggered.connect(self.snip)
        self._hotkey_enabled = enable_hotkey
        self.hotkey = (
            make_hotkey(self.settings.hotkey, self.hotkey_bridge.triggered.emit)
            if enable_hotkey
            else NoHotkey(self.settings.hotkey, "disabled")
        )
        self._update_snip_label()

        # single instance server
        self.server: QLocalServer | None = None
        if listen:
            self._listen()

        self.worker.load(weights_path(self.settings.weights_file), self.settings.device)
        if self.settings.render_check:
            self.worker.prepare_render_check()  # TeX started before the first snip needs it
        if self.control is not None:
            self.control.show()

    # ------------------------------------------------------------------ single instance
    def _listen(self) -> None:
        name = server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(name):
            QLocalServer.removeServer(name)  # stale socket from a crash
            if not self.server.listen(name):
                log.warning("cannot listen on %s: %s", name, self.server.errorString())
                return
        self.server.newConnection.connect(self._on_connection)

    def _on_connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            log.debug("local socket connection")
            sock.readyRead.connect(lambda s=sock: self._on_socket_data(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._on_socket_data(sock)

    def _on_socket_data(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll().data())
        log.debug("local socket request %r", data)
        for line in data.splitlines():
            cmd = line.strip().decode("ascii", "replace")
            if cmd == "status":  # the one request that gets an answer (for scripts and benchmarks)
                sock.write(QByteArray(f"{self.worker.state}\t{self.worker.message}\n".encode()))
                sock.flush()
                continue
            action = {
                "snip": self.snip,
                "clipboard": self.read_clipboard,
                "show": self.show_result,
                "history": self.show_history,
                "settings": self.show_settings,
                "quit": self.quit,
                "ping": lambda: None,
            }.get(cmd)
            if action is not None:
                QTimer.singleShot(0, action)
            else:
                log.info("ignoring unknown request %r", cmd)

    # ------------------------------------------------------------------ messages
    def notify(self, title: str, message: str, error: bool = False) -> None:
        self.messages.append((title, message))
        (log.warning if error else log.info)("%s: %s", title, message)
        self.notified.emit(title, message)
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            icon = (
                QSystemTrayIcon.MessageIcon.Warning
                if error
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.tray.showMessage(title, message, icon, 4000)

    def _update_snip_label(self) -> None:
        if self.hotkey.active:
            self.act_snip.setText(f"Snip\t{pretty_combo(self.settings.hotkey)}")
        else:
            self.act_snip.setText("Snip")
            self.act_snip.setToolTip(f"Global hotkey off: {getattr(self.hotkey, 'reason', '')}")

    def _on_status(self, state: str, message: str) -> None:
        if self._closing:  # a queued signal from the worker after shutdown
            return
        self.act_status.setText(_ellipsize(message, 80))
        self.act_status.setToolTip(message)
        if self.tray is not None:
            self.tray.setToolTip(f"{APP_NAME} – {message}")
        if self.control is not None:
            self.control.status.setText(message)
        self.result_window.set_model_status(state, message)
        if state in (W.ERROR, W.NO_WEIGHTS):
            self.notify("LaTeXSnip model", message, error=True)

    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.snip()

    # ------------------------------------------------------------------ snipping
    def snip(self) -> None:
        """Freeze every screen, then show the selection overlays."""
        if self.session is not None and self.session.active:
            for ov in self.session.overlays:
                ov.raise_()
                ov.activateWindow()
            return
        hide: list[QWidget] = [
            w
            for w in (self.result_window, self.history_window, self.control)
            if w is not None and w.isVisible()
        ]
        for w in hide:
            w.hide()
        # give the compositor a moment to remove our windows before grabbing
        QTimer.singleShot(200 if hide else 0, lambda: self._grab_and_select(hide))

    def _grab_and_select(self, hidden: list[QWidget]) -> None:
        try:
            shots = grab_screens(self.grabbers)
        except CaptureError as exc:
            for w in hidden:
                w.show()
            self.messages.append(("Screen capture", str(exc)))
            log.warning("capture failed: %s", exc)
            box = QMessageBox(QMessageBox.Icon.Warning, "LaTeXSnip – screen capture", str(exc))
            box.setObjectName("captureErrorBox")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.capture_error_box = box
            box.show()
            return
        self.session = SnipSession(shots, self)
        self.session.snipped.connect(self._on_snipped)
        self.session.cancelled.connect(lambda: self._on_cancelled(hidden))
        self.session.start()

    def _on_cancelled(self, hidden: list[QWidget]) -> None:
        self.session = None
        for w in hidden:
            if w is not self.result_window or self.result_window.prediction is not None:
                w.show()

    def _on_snipped(self, crop: QImage) -> None:
        self.session = None
        self.recognize_image(crop, self.settings.beam_width)

    def read_clipboard(self) -> None:
        """Recognise the picture on the clipboard: a snip taken by another tool (the way where screens cannot be
        grabbed, e.g. some Wayland desktops) or an image copied from a browser or PDF viewer."""
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self.notify("Clipboard", NO_CLIPBOARD_IMAGE, error=True)
            return
        self.recognize_image(image, self.settings.beam_width)

    def recognize_image(self, image: QImage, beam: int) -> int:
        self.last_snip = image
        self.last_beam = beam
        self.result_window.set_snip(image)
        self.show_result()
        return self.worker.submit(qimage_to_array(image), beam, self.settings.reread_unsure, self.settings.render_check)

    def retry(self, beam: int = 5) -> None:
        if self.last_snip is None:
            return
        self.last_beam = beam
        self.result_window.info_label.setText(f"Recognising again with beam {beam} ...")
        self.result_window._set_busy(True)
        self.worker.submit(qimage_to_array(self.last_snip), beam, self.settings.reread_unsure, self.settings.render_check)

    def _on_result(self, job_id: int, pred: Any) -> None:
        if self._closing:  # a queued signal from the worker after shutdown
            return
        if job_id != self.worker.latest_job:
            return  # a newer snip replaced this one
        self.result_window.set_prediction(pred, self.last_beam)
        try:
            png = image_to_png(self.last_snip) if self.last_snip is not None else None
            self.result_window.history_id = self.store.add(
                pred.latex, float(pred.confidence), self.last_beam, png
            )
        except Exception as exc:  # history must never break recognition
            log.warning("could not save history: %s", exc)
        if self.settings.auto_copy:
            out = self.result_window.copy(self.settings.copy_format)
            if out is not None:
                self.notify("LaTeX copied", _ellipsize(out))
        self.result_shown.emit(pred)

    def _on_failed(self, job_id: int, message: str) -> None:
        if self._closing:  # a queued signal from the worker after shutdown
            return
        if job_id != self.worker.latest_job:
            return
        self.result_window.set_error(message)
        self.show_result()
        self.notify("Recognition failed", message, error=True)

    def _on_copied(self, fmt: str, _text: str) -> None:
        hid = self.result_window.history_id
        if hid is not None:
            try:
                self.store.update_latex(hid, self.result_window.latex())
            except Exception as exc:
                log.warning("could not update history: %s", exc)

    # ------------------------------------------------------------------ windows
    def show_result(self) -> None:
        self.result_window.show()
        self.result_window.raise_()
        self.result_window.activateWindow()

    def show_history(self) -> None:
        if self.history_window is None:
            self.history_window = HistoryWindow(self.store, self.settings.copy_format)
            self.history_window.setWindowIcon(app_icon())
        self.history_window.copy_format = self.settings.copy_format
        self.history_window.show()
        self.history_window.raise_()
        self.history_window.activateWindow()

    def show_settings(self) -> None:
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            return
        note = (
            "" if self.hotkey.active else f"Hotkey inactive: {getattr(self.hotkey, 'reason', '')}"
        )
        dlg = SettingsDialog(self.settings, hotkey_note=note)
        dlg.setWindowIcon(app_icon())
        self.settings_dialog = dlg
        dlg.accepted.connect(lambda: self.apply_settings(dlg.value()))
        dlg.show()

    def apply_settings(self, new: Settings) -> None:
        old = self.settings
        self.settings = new
        save_settings(new)
        self.result_window.set_copy_format(new.copy_format)
        if self.history_window is not None:
            self.history_window.copy_format = new.copy_format
        if (new.weights_file, new.device) != (old.weights_file, old.device):
            self.worker.load(weights_path(new.weights_file), new.device)
        if new.render_check and not old.render_check:
            self.worker.prepare_render_check()
        if new.hotkey != old.hotkey and self._hotkey_enabled:
            self.hotkey.stop()
            self.hotkey = make_hotkey(new.hotkey, self.hotkey_bridge.triggered.emit)
            self._update_snip_label()
        if new.preview_renderer != old.preview_renderer:
            self.notify("Settings", "The preview renderer changes after a restart.")

    # ------------------------------------------------------------------ shutdown
    def shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.hotkey.stop()
        if self.session is not None:
            self.session.cancel()
        if self.server is not None:
            self.server.close()
        self.worker.shutdown()
        self.preview.shutdown()
        if self.tray is not None:
            self.tray.hide()
        # Delete our top-level widgets now, on the GUI thread. Left to Python's cyclic GC they
        # could be collected on a worker thread, which Qt widgets do not survive.
        for w in (
            self.result_window,
            self.history_window,
            self.settings_dialog,
            self.control,
            self.capture_error_box,
        ):
            if w is not None and shiboken6.isValid(w):
                w.hide()
                shiboken6.delete(w)
        self.history_window = self.settings_dialog = self.control = self.capture_error_box = None
        if shiboken6.isValid(self.menu):
            shiboken6.delete(self.menu)
        with contextlib.suppress(Exception):
            self.store.close()
        self.collector.stop()

    def quit(self) -> None:
        self.shutdown()
        self._quit_fn()


def _ellipsize(s: str, n: int = 120) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _setup_logging(verbose: bool) -> Path | None:
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not any(isinstance(h, logging.StreamHandler) for h in root.handlers):
        sh = logging.StreamHandler()
        sh.setFormatter(fmt)
        sh.setLevel(logging.WARNING if not verbose else logging.DEBUG)
        root.addHandler(sh)
    try:
        d = data_dir()
        assert d is not None
        path = d / "latexsnip.log"
        fh = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=2, encoding="utf-8"
        )
        fh.setFormatter(fmt)
        root.addHandler(fh)
        return path
    except Exception:
        return None


def _install_excepthook(log_path: Path | None) -> None:
    """Unexpected errors in Qt slots: log the traceback, show one readable line."""

    def hook(tp: type[BaseException], val: BaseException, tb: Any) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(tp, val, tb)))
        if QApplication.instance() is not None:
            where = f"\n\nDetails were written to {log_path}." if log_path else ""
            QMessageBox.warning(
                None, "LaTeXSnip – unexpected error", f"{tp.__name__}: {val}{where}"
            )

    sys.excepthook = hook


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="latexsnip", description="LaTeXSnip tray app: snip a formula, get LaTeX."
    )
    ap.add_argument("--snip", action="store_true", help="start a snip right after start-up")
    ap.add_argument(
        "--clipboard", action="store_true", help="recognise the clipboard's image right after start-up"
    )
    ap.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    ap.add_argument("--fake-recognizer", action="store_true", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def snip_main(argv: list[str] | None = None) -> int:
    """``latexsnip snip``: make the running app snip; start it (snipping) when none runs."""
    ap = argparse.ArgumentParser(
        prog="latexsnip snip",
        description="Ask the running LaTeXSnip app to start a snip (bind this command to a "
        "keyboard shortcut in your desktop settings). Starts the app if it is not running.",
    )
    ap.add_argument(
        "--no-start", action="store_true", help="only ask a running app; exit 1 if none runs"
    )
    ap.add_argument(
        "--clipboard",
        action="store_true",
        help="read the image on the clipboard instead of snipping the screen (after your desktop's own "
        "screenshot tool copied one, e.g. where the screen cannot be grabbed); the LaTeX goes to the result window",
    )
    a = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    if send_message(MSG_CLIPBOARD) if a.clipboard else send_snip_request():
        return 0
    if a.no_start:
        print(
            "latexsnip snip: LaTeXSnip is not running (start it with `latexsnip`).", file=sys.stderr
        )
        return 1
    return run_app(["--clipboard" if a.clipboard else "--snip"])


def run_app(argv: list[str] | None = None) -> int:
    """Start the tray app, or, if one is already running, ask it to snip. Returns an exit code."""
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if send_message(MSG_CLIPBOARD if args.clipboard else MSG_SNIP):
        what = "read the clipboard's image" if args.clipboard else "start a snip"
        print(f"LaTeXSnip is already running: asked it to {what}.")
        return 0
    problem = display_problem() if QApplication.instance() is None else None
    if problem:
        print(problem, file=sys.stderr)
        return 1
    QApplication.setApplicationName("latexsnip")
    QApplication.setOrganizationName("latexsnip")
    QApplication.setApplicationDisplayName(APP_NAME)
    existing = QApplication.instance()
    app = (
        existing
        if isinstance(existing, QApplication)
        else QApplication([sys.argv[0] if sys.argv else "latexsnip"])
    )
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    log_path = _setup_logging(args.verbose)
    _install_excepthook(log_path)
    loader = None
    if args.fake_recognizer or os.environ.get("LATEXSNIP_FAKE_RECOGNIZER"):
        from desktop_app.fake import fake_loader

        loader = fake_loader
    snipapp = LatexSnipApp(loader=loader)
    app.aboutToQuit.connect(snipapp.shutdown)
    if args.snip:
        QTimer.singleShot(300, snipapp.snip)
    elif args.clipboard:
        QTimer.singleShot(0, snipapp.read_clipboard)
    print(
        "LaTeXSnip is running (tray icon). Bind `latexsnip snip` to a shortcut, or use the hotkey "
        f"{pretty_combo(snipapp.settings.hotkey) if snipapp.hotkey.active else '(inactive: ' + snipapp.hotkey.reason + ')'}.",
        flush=True,
    )
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(run_app())
