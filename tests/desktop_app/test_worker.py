import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from core.errors import CheckpointError, ImageError
from desktop_app import worker as W
from desktop_app.fake import FakeRecognizer


def _image():
    a = np.full((40, 120, 3), 255, np.uint8)
    a[15:25, 20:100] = 0
    return a


def _weights(tmp_path: Path) -> Path:
    p = tmp_path / "w.safetensors"
    p.write_bytes(b"fake")
    return p


@pytest.fixture
def controller(qtbot):
    made = {}

    def loader(path, device):
        made["rec"] = FakeRecognizer(delay_s=0.3)
        return made["rec"]

    c = W.WorkerController(loader)
    c.made = made
    yield c
    c.shutdown()


def test_result_arrives_while_event_loop_stays_responsive(qtbot, controller, tmp_path):
    with qtbot.waitSignal(
        controller.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000
    ):
        controller.load(_weights(tmp_path))
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    with qtbot.waitSignal(controller.result, timeout=5000) as blocker:
        job = controller.submit(_image())
    timer.stop()
    job_id, pred = blocker.args
    assert job_id == job
    assert pred.latex == r"\frac { a } { b } + x ^ { 2 }"
    # the recogniser slept 0.3 s in its thread; the GUI timer kept firing meanwhile
    assert len(ticks) >= 5


def test_new_snips_while_busy_replace_pending_ones(qtbot, controller, tmp_path):
    with qtbot.waitSignal(
        controller.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000
    ):
        controller.load(_weights(tmp_path))
    results = []
    controller.result.connect(lambda j, p: results.append(j))
    first = controller.submit(_image())
    qtbot.wait(50)  # first is running now
    controller.submit(_image())
    controller.submit(_image())
    last = controller.submit(_image(), beam=5, reread_unsure=False)
    qtbot.waitUntil(lambda: last in results, timeout=5000)
    qtbot.wait(100)
    assert results == [first, last]  # the two middle ones were replaced, never run
    assert [beam for _, beam in controller.made["rec"].calls] == [1, 5]
    assert controller.made["rec"].rereads == [True, False]  # each job's own setting reaches the recogniser


def test_recognition_error_is_a_message(qtbot, tmp_path):
    c = W.WorkerController(lambda p, d: FakeRecognizer(fail_with=ImageError("The snip is blank.")))
    try:
        with qtbot.waitSignal(c.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000):
            c.load(_weights(tmp_path))
        with qtbot.waitSignal(c.failed, timeout=5000) as b:
            c.submit(_image())
        assert b.args[1] == "The snip is blank."
    finally:
        c.shutdown()


def test_unexpected_exception_becomes_one_line(qtbot, tmp_path):
    c = W.WorkerController(lambda p, d: FakeRecognizer(fail_with=RuntimeError("CUDA exploded")))
    try:
        with qtbot.waitSignal(c.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000):
            c.load(_weights(tmp_path))
        with qtbot.waitSignal(c.failed, timeout=5000) as b:
            c.submit(_image())
        assert b.args[1] == "Unexpected RuntimeError: CUDA exploded"
        assert "Traceback" not in b.args[1]
    finally:
        c.shutdown()


def test_corrupt_weights_status_message(qtbot, tmp_path):
    def loader(path, device):
        raise CheckpointError(f"{path} is not a LaTeXSnip checkpoint (truncated header)")

    c = W.WorkerController(loader)
    try:
        with qtbot.waitSignal(
            c.status, check_params_cb=lambda s, m: s == W.ERROR, timeout=5000
        ) as b:
            c.load(_weights(tmp_path))
        assert "not a LaTeXSnip checkpoint" in b.args[1]
        with qtbot.waitSignal(c.failed, timeout=5000) as b2:
            c.submit(_image())
        assert "not loaded" in b2.args[1]
    finally:
        c.shutdown()


def test_missing_weights_status(qtbot, tmp_path):
    c = W.WorkerController(lambda p, d: FakeRecognizer())
    try:
        with qtbot.waitSignal(
            c.status, check_params_cb=lambda s, m: s == W.NO_WEIGHTS, timeout=5000
        ) as b:
            c.load(tmp_path / "nope.safetensors")
        assert "No model weights" in b.args[1] and "Settings" in b.args[1]
    finally:
        c.shutdown()


def test_reload_on_weights_change(qtbot, tmp_path):
    loaded = []
    c = W.WorkerController(lambda p, d: loaded.append((p.name, d)) or FakeRecognizer())
    try:
        a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
        a.write_bytes(b"x")
        b.write_bytes(b"y")
        with qtbot.waitSignal(c.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000):
            c.load(a)
        with qtbot.waitSignal(c.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000):
            c.load(b, "cpu")
        assert loaded == [("a.safetensors", "auto"), ("b.safetensors", "cpu")]
    finally:
        c.shutdown()


def test_gui_modules_do_not_import_torch():
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen';"
        "import desktop_app.main, desktop_app.result_window, desktop_app.history, desktop_app.settings;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_warm_up_is_best_effort():
    class Rec:
        calls = 0

        def recognize(self, image, beam=1):
            Rec.calls += 1
            assert image.ndim == 3 and image.dtype == np.uint8 and (image < 128).any()
            raise ImageError("no formula")

    W.warm_up(Rec())  # the error is swallowed
    assert Rec.calls == 1


def test_cpu_threads_half_the_cores_or_the_override():
    assert W.cpu_threads(2, {}) == 1
    assert W.cpu_threads(1, {}) == 1
    assert W.cpu_threads(8, {}) == 4
    assert W.cpu_threads(64, {}) == 4
    assert W.cpu_threads(2, {"LATEXSNIP_THREADS": "3"}) == 3
    assert W.cpu_threads(8, {"LATEXSNIP_THREADS": "zero"}) == 4


def test_a_render_check_gets_the_renderer_made_once_and_goes_without_when_none_can_be_made(qtbot, tmp_path):
    def renderer(texts):
        return [None] * len(texts)

    for factory, expected in ((lambda: renderer, renderer), (lambda: None, None), (_broken_tex, None)):
        made = []
        rec = FakeRecognizer()
        c = W.WorkerController(lambda p, d, rec=rec: rec, renderer_factory=lambda f=factory, m=made: m.append(1) or f())
        try:
            with qtbot.waitSignal(c.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000):
                c.load(_weights(tmp_path))
            for check in (True, True, False):
                with qtbot.waitSignal(c.result, timeout=5000):
                    c.submit(_image(), render_check=check)
            assert rec.renderers == [expected, expected, None]  # recognition goes on without the check
            assert made == [1]  # made on first use, once, even when it failed
        finally:
            c.shutdown()


def _broken_tex():
    raise OSError("pdflatex: permission denied")


def test_the_renderer_can_be_made_before_the_first_checked_snip(qtbot, tmp_path):
    """The app asks for it after loading the model, so that the first snip finds TeX started
    (training.warm_render); it is still made only once."""
    made = []
    rec = FakeRecognizer()
    c = W.WorkerController(lambda p, d: rec, renderer_factory=lambda: made.append(1) or (lambda texts: [None] * len(texts)))
    try:
        with qtbot.waitSignal(c.status, check_params_cb=lambda s, m: s == W.READY, timeout=5000):
            c.load(_weights(tmp_path))
            c.prepare_render_check()
        qtbot.waitUntil(lambda: made == [1], timeout=5000)
        with qtbot.waitSignal(c.result, timeout=5000):
            c.submit(_image(), render_check=True)
        assert made == [1] and rec.renderers[0] is not None
    finally:
        c.shutdown()


def test_warm_up_reads_greedy_and_with_the_default_beam():
    beams = []

    class Rec:
        def recognize(self, image, beam=1):
            beams.append(beam)

    W.warm_up(Rec())
    assert beams == [1, 5]
