"""The assembled app with a fake recogniser and a fake (2x HiDPI) screen grabber."""

import gc

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QApplication

from core.errors import CheckpointError
from desktop_app import worker as W
from desktop_app.fake import FAKE_LATEX, FakeRecognizer
from desktop_app.main import (
    MSG_CLIPBOARD,
    NO_CLIPBOARD_IMAGE,
    LatexSnipApp,
    send_message,
    send_snip_request,
)
from desktop_app.preview import PreviewService
from desktop_app.settings import Settings
from tests.desktop_app.conftest import ImageGrabber


@pytest.fixture
def make_app(qtbot, tmp_path, monkeypatch):
    # fast, deterministic preview in these tests
    monkeypatch.setattr(
        "desktop_app.main.PreviewService",
        lambda pref, dpi=150, parent=None: PreviewService("mathtext", dpi=dpi, parent=parent),
    )
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"fake")
    apps = []

    def make(loader=None, grabbers=None, settings=None, listen=False):
        s = settings or Settings(weights_file=str(weights))
        quits = []
        app = LatexSnipApp(
            settings=s,
            loader=loader or (lambda p, d: FakeRecognizer(delay_s=0.05)),
            grabbers=grabbers if grabbers is not None else [ImageGrabber(2.0)],
            use_tray=False,
            enable_hotkey=False,
            listen=listen,
            quit_fn=lambda: quits.append(1),
        )
        app.quits = quits
        apps.append(app)
        return app

    yield make
    for a in apps:
        a.shutdown()


def _wait_ready(qtbot, app):
    qtbot.waitUntil(lambda: app.worker.state == W.READY, timeout=20000)


def _drag(qtbot, overlay, a: QPoint, b: QPoint):
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(overlay, pos=(a + b) / 2)
    qtbot.mouseMove(overlay, pos=b)
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=b)


def _start_snip(qtbot, app):
    app.snip()
    qtbot.waitUntil(lambda: app.session is not None and bool(app.session.overlays), timeout=3000)
    ov = app.session.overlays[0]
    qtbot.waitExposed(ov)
    return ov


def test_snip_to_clipboard_and_history(qtbot, make_app):
    app = make_app()
    _wait_ready(qtbot, app)
    ov = _start_snip(qtbot, app)
    assert ov.shot.image.width() == 2 * ov.width()  # a "HiDPI" screen
    with qtbot.waitSignal(app.result_shown, timeout=5000):
        _drag(qtbot, ov, QPoint(100, 100), QPoint(300, 180))
    # the crop is in physical pixels: 2 x (200 x 80)
    assert (app.last_snip.width(), app.last_snip.height()) == (400, 160)
    assert app.result_window.isVisible()
    assert app.result_window.latex() == FAKE_LATEX
    assert QGuiApplication.clipboard().text() == FAKE_LATEX  # auto-copy, raw format
    assert ("LaTeX copied", FAKE_LATEX) in app.messages
    entries = app.store.search()
    assert [e.latex for e in entries] == [FAKE_LATEX]
    assert app.session is None


def test_auto_copy_off_and_format(qtbot, make_app, tmp_path):
    w = tmp_path / "w.safetensors"
    w.write_bytes(b"x")
    QGuiApplication.clipboard().setText("untouched")
    app = make_app(settings=Settings(weights_file=str(w), auto_copy=False, copy_format="display"))
    _wait_ready(qtbot, app)
    ov = _start_snip(qtbot, app)
    with qtbot.waitSignal(app.result_shown, timeout=5000):
        _drag(qtbot, ov, QPoint(50, 50), QPoint(250, 120))
    assert QGuiApplication.clipboard().text() == "untouched"
    app.result_window.copy_button.click()
    assert QGuiApplication.clipboard().text() == f"$${FAKE_LATEX}$$"


def test_tiny_selection_rejected_with_hint_then_escape(qtbot, make_app):
    app = make_app()
    ov = _start_snip(qtbot, app)
    _drag(qtbot, ov, QPoint(100, 100), QPoint(102, 140))  # 2 logical px wide = 4 physical
    assert app.session is not None and app.session.active
    assert "too small" in ov.hint and ov.hint_is_error
    qtbot.mouseClick(ov, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))  # a click = empty selection
    assert "Empty selection" in ov.hint
    qtbot.keyClick(ov, Qt.Key.Key_Escape)
    assert app.session is None


def test_right_click_cancels(qtbot, make_app):
    app = make_app()
    ov = _start_snip(qtbot, app)
    qtbot.mouseClick(ov, Qt.MouseButton.RightButton, pos=QPoint(10, 10))
    assert app.session is None


def test_recognition_error_shows_message(qtbot, make_app):
    app = make_app()
    _wait_ready(qtbot, app)
    # blank region: the fake raises ImageError like the real recogniser
    blank = ImageGrabber(2.0)
    app.grabbers = [blank]
    ov = _start_snip(qtbot, app)
    with qtbot.waitSignal(app.worker.failed, timeout=5000):
        h = ov.height()
        _drag(qtbot, ov, QPoint(2, h - 40), QPoint(60, h - 2))  # bottom band: white
    assert "blank" in app.result_window.info_label.text()
    assert "Traceback" not in app.result_window.info_label.text()
    assert app.messages[-1][0] == "Recognition failed"


def test_capture_failure_explains(qtbot, make_app):
    app = make_app(grabbers=[ImageGrabber(fail=True), ImageGrabber(black=True)])
    app.snip()
    qtbot.waitUntil(lambda: app.capture_error_box is not None, timeout=3000)
    text = app.capture_error_box.text()
    assert "could not capture the screen" in text
    assert "test grabber refuses" in text and "blank" in text
    assert app.session is None
    app.capture_error_box.close()


def test_corrupt_weights_message(qtbot, make_app):
    def loader(path, device):
        raise CheckpointError(f"{path.name}: not a safetensors file (bad header)")

    app = make_app(loader=loader)
    qtbot.waitUntil(lambda: app.worker.state == W.ERROR, timeout=5000)
    assert "not a safetensors file" in app.act_status.toolTip()
    assert "not a safetensors file" in app.result_window.status_label.text()
    assert app.messages and app.messages[-1][0] == "LaTeXSnip model"


def test_missing_weights_hint(qtbot, make_app, tmp_path):
    app = make_app(settings=Settings(weights_file=str(tmp_path / "none.safetensors")))
    qtbot.waitUntil(lambda: app.worker.state == W.NO_WEIGHTS, timeout=5000)
    assert "No model weights" in app.act_status.toolTip()


def test_retry_with_a_wider_beam(qtbot, make_app):
    rec = FakeRecognizer()
    app = make_app(loader=lambda p, d: rec)
    _wait_ready(qtbot, app)
    ov = _start_snip(qtbot, app)
    with qtbot.waitSignal(app.result_shown, timeout=5000):
        _drag(qtbot, ov, QPoint(100, 100), QPoint(300, 180))
    with qtbot.waitSignal(app.result_shown, timeout=5000):
        app.result_window.retry_button.click()
    assert [b for _, b in rec.calls] == [5, 10]  # the default beam 5, then twice as wide
    assert "beam 10" in app.result_window.info_label.text()
    assert app.result_window.retry_button.text() == "Retry (beam 20)"
    assert len(app.store.search()) == 2


def test_settings_change_reloads_model(qtbot, make_app, tmp_path):
    loaded = []
    app = make_app(loader=lambda p, d: loaded.append(p.name) or FakeRecognizer())
    _wait_ready(qtbot, app)
    other = tmp_path / "other.safetensors"
    other.write_bytes(b"y")
    with qtbot.waitSignal(
        app.worker.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000
    ):
        app.apply_settings(Settings(weights_file=str(other), copy_format="inline"))
    assert loaded == ["w.safetensors", "other.safetensors"]
    assert app.result_window.format_box.currentData() == "inline"


def test_second_instance_request_starts_snip(qtbot, make_app):
    app = make_app(listen=True)
    assert send_snip_request() is True
    qtbot.waitUntil(lambda: app.session is not None and app.session.active, timeout=3000)
    app.session.cancel()


def _inked(w: int, h: int) -> QImage:
    """A white picture with a dark bar: not blank, so the recogniser reads it."""
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    p = QPainter(image)
    p.fillRect(w // 4, h // 3, w // 2, h // 3, Qt.GlobalColor.black)
    p.end()
    return image


@pytest.fixture
def clipboard_image():
    """Put a picture on the clipboard for one test; cleared after, so no other test finds it there."""
    yield lambda image: QGuiApplication.clipboard().setImage(image)
    QGuiApplication.clipboard().clear()


def test_clipboard_image_is_read_like_a_snip(qtbot, make_app, clipboard_image):
    # a picture another tool copied (a screenshot tool's Copy, a browser's Copy Image)
    clipboard_image(_inked(240, 60))
    app = make_app()
    _wait_ready(qtbot, app)
    with qtbot.waitSignal(app.result_shown, timeout=5000):
        app.act_clipboard.trigger()  # the tray menu's entry
    assert (app.last_snip.width(), app.last_snip.height()) == (240, 60)
    assert app.result_window.isVisible() and app.result_window.latex() == FAKE_LATEX
    assert [e.latex for e in app.store.search()] == [FAKE_LATEX]  # kept in the history as a snip is


def test_messages_kept_are_bounded(make_app):
    app = make_app()
    for i in range(250):  # a tray app runs for weeks: one "LaTeX copied" per snip
        app.notify("LaTeX copied", f"x_{i}")
    assert len(app.messages) == 200 and app.messages[-1] == ("LaTeX copied", "x_249")


def test_clipboard_without_an_image_says_so(qtbot, make_app):
    QGuiApplication.clipboard().setText("no picture here")
    app = make_app()
    _wait_ready(qtbot, app)
    app.read_clipboard()
    assert ("Clipboard", NO_CLIPBOARD_IMAGE) in app.messages
    assert app.worker.latest_job is None and app.last_snip is None  # nothing sent to the recogniser


def test_a_picture_dropped_on_the_result_window_is_read(qtbot, make_app):
    app = make_app()
    _wait_ready(qtbot, app)
    with qtbot.waitSignal(app.result_shown, timeout=5000):
        app.result_window.image_dropped.emit(_inked(180, 50))  # what its dropEvent emits (test_result_window.py)
    assert app.last_snip.width() == 180 and app.result_window.latex() == FAKE_LATEX


def test_second_instance_request_reads_the_clipboard(qtbot, make_app, clipboard_image):
    clipboard_image(_inked(100, 40))
    app = make_app(listen=True)
    _wait_ready(qtbot, app)
    with qtbot.waitSignal(app.result_shown, timeout=5000):
        assert send_message(MSG_CLIPBOARD) is True
    assert app.last_snip is not None and app.last_snip.width() == 100


def test_app_collects_garbage_on_the_gui_thread_only(automatic_gc, make_app):
    """Worker threads (recogniser, preview) must never run Python's cycle collector."""
    app = make_app()  # automatic collection on before, as in a real run
    assert not gc.isenabled() and app.collector.thresholds == gc.get_threshold()
    app.shutdown()
    assert gc.isenabled()


def test_no_instance_running():
    assert send_snip_request() is False


def test_control_window_quit(qtbot, make_app):
    app = make_app()
    assert app.control is not None
    app.quit()
    assert app.quits == [1]
    assert not app.worker.worker_thread.isRunning()
    assert QApplication.instance() is not None


def test_status_query_over_socket(qtbot, make_app):
    # the client must be another process (as in real use): a client thread in this process
    # would block in waitForReadyRead while holding the GIL the server's slot needs
    import subprocess
    import sys

    app = make_app(listen=True)
    _wait_ready(qtbot, app)
    code = "from desktop_app.main import query_status; print(query_status())"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30000)  # a fresh Python importing Qt: slow on a busy machine
    out = proc.stdout.read()
    assert "'ready'" in out and "Model ready" in out
