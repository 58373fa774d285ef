"""Recogniser worker: a QObject living in its own QThread.

The GUI thread never imports torch: ``core.recognizer`` is imported inside ``_load`` which
runs in the worker thread. Jobs are coalesced: if several snips arrive while one is being
recognised, only the newest waits (older pending ones are dropped with ``superseded``).
Shutdown is cooperative (``stop`` then ``QThread.quit``/``wait``), never ``terminate``.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

# status values
LOADING, READY, ERROR, NO_WEIGHTS, BUSY = "loading", "ready", "error", "no-weights", "busy"

# (weights path, device) -> object with .recognize(image, beam, reread_unsure)
Loader = Callable[[Path, str], Any]


def default_loader(path: Path, device: str) -> Any:
    """Runs in the worker thread: the only place the app imports torch (via core.recognizer)."""
    import os
    import sys

    if "torch" not in sys.modules:
        # OpenMP workers that spin while waiting make every other busy process (and the
        # recogniser itself) crawl on a loaded machine; a sleeping wait costs ~nothing here.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    threads = cpu_threads()
    torch.set_num_threads(threads)
    log.info("recogniser uses %d CPU thread(s)", threads)
    from core.recognizer import Recognizer

    rec = Recognizer.load(path, device=device)
    log.info("ResNet body: %s, decoder weights: %s", rec.encoder_precision, rec.decoder_precision)
    warm_up(rec)
    return rec


def cpu_threads(cpu_count: int | None = None, env: Mapping[str, str] | None = None) -> int:
    """Intra-op threads for CPU inference: ``LATEXSNIP_THREADS``, else half the cores (1..4).

    The decoder runs ~50 small sequential steps, so extra threads buy little; on a 2-core
    machine shared with other jobs, 2 threads measured 126-147 ms (6 s with spinning OpenMP
    waits) per formula against 91-108 ms with 1 thread.
    """
    import os

    raw = (os.environ if env is None else env).get("LATEXSNIP_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    n = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    return max(1, min(4, n // 2))


def warm_up(model: Any, beams: tuple[int, ...] = (1, 5)) -> None:
    """Throw-away recognitions, greedy and with the default beam, so the user's first snip does not pay for kernel
    set-up."""
    import numpy as np
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (200, 40), "white")
    ImageDraw.Draw(canvas).text((10, 12), "a + b = c^2", fill="black")  # PIL's built-in font
    img = np.asarray(canvas)
    for beam in beams:
        t0 = time.perf_counter()
        try:
            model.recognize(img, beam=beam)
        except Exception as exc:  # warm-up is best effort; real errors show on the first snip
            log.debug("warm-up recognition failed: %s", exc)
            return
        log.info("warm-up recognition, beam %d: %.0f ms", beam, (time.perf_counter() - t0) * 1000)


@dataclass(frozen=True)
class Job:
    job_id: int
    image: Any  # numpy (H, W, 3) uint8
    beam: int
    reread_unsure: bool = True  # read an unsure snip again at other glyph heights (core.recognizer)
    render_check: bool = False  # keep the reading whose TeX rendering draws the snip (core.render_match)


# () -> a core.render_match.Renderer, or None where it cannot render (no TeX)
RendererFactory = Callable[[], Any]


def default_renderer() -> Any:
    """The TeX renderers of the render check (``training.render.CHECK_FONTS`` that are installed; one process each:
    a snip has a dozen candidates; each finds pdflatex and Ghostscript already started, ``training.warm_render``), or
    None when pdflatex / Ghostscript are missing; runs in the worker thread."""
    from core.errors import LatexSnipError
    from training.render import check_renderers

    try:
        return check_renderers(workers=1)
    except LatexSnipError as exc:
        log.info("render check off: %s", exc)
        return None


def _user_message(exc: BaseException) -> str:
    from core.errors import LatexSnipError  # no torch: plain exception classes

    if isinstance(exc, LatexSnipError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "Out of memory while recognising; try a smaller snip or device 'cpu'."
    if isinstance(exc, ImportError):
        return f"The recogniser is not installed correctly: {exc}"
    return f"Unexpected {type(exc).__name__}: {exc}"


class RecognizerWorker(QObject):
    """Lives in the worker thread. Talk to it only through signals (see WorkerController)."""

    status = Signal(str, str)  # state, human message
    result = Signal(int, object)  # job id, Prediction
    failed = Signal(int, str)  # job id, message

    def __init__(self, loader: Loader | None = None, renderer_factory: RendererFactory | None = None) -> None:
        super().__init__()
        self._loader = loader or default_loader
        self._renderer_factory = renderer_factory or default_renderer
        self._renderer: Any = None
        self._renderer_made = False
        self._model: Any = None
        self._lock = threading.Lock()
        self._pending: Job | None = None
        self._stopping = False
        self.model_path: Path | None = None

    # called from the GUI thread (thread-safe: only touches the locked mailbox)
    def post(self, job: Job) -> int | None:
        """Put a job in the one-slot mailbox; returns the id of a job it replaced, if any."""
        with self._lock:
            old = self._pending.job_id if self._pending else None
            self._pending = job
            return old

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._pending = None

    @Slot(str, str)
    def load(self, path: str, device: str) -> None:
        p = Path(path)
        self._model = None
        self.model_path = p
        if not p.exists() and getattr(self._loader, "needs_file", True):
            self.status.emit(
                NO_WEIGHTS,
                f"No model weights at {p}. Train or download weights and put them there, or "
                "pick a weights file in Settings.",
            )
            return
        self.status.emit(LOADING, f"Loading model {p.name} ...")
        t0 = time.perf_counter()
        try:
            model = self._loader(p, device)
        except Exception as exc:
            log.warning("model load failed: %s", exc)
            log.debug("%s", traceback.format_exc())
            self.status.emit(ERROR, f"Could not load {p.name}: {_user_message(exc)}")
            return
        self._model = model
        what = getattr(model, "description", None) or p.name
        self.status.emit(READY, f"Model ready ({what}, loaded in {time.perf_counter() - t0:.1f} s)")

    @Slot()
    def process(self) -> None:
        """Take the newest pending job (if any) and recognise it."""
        with self._lock:
            job, self._pending = self._pending, None
            stopping = self._stopping
        if job is None or stopping:
            return
        if self._model is None:
            self.failed.emit(
                job.job_id, "The model is not loaded yet (see the status in the tray menu)."
            )
            return
        t0 = time.perf_counter()
        try:
            renderer = self._get_renderer() if job.render_check else None
            extra = {} if renderer is None else {"renderer": renderer}
            pred = self._model.recognize(job.image, beam=job.beam, reread_unsure=job.reread_unsure, **extra)
            log.info(
                "recognised job %d (beam %d%s) in %.0f ms",
                job.job_id,
                job.beam,
                ", render check" if extra else "",
                (time.perf_counter() - t0) * 1000,
            )
        except Exception as exc:
            log.info("recognition failed: %s", exc)
            log.debug("%s", traceback.format_exc())
            self.failed.emit(job.job_id, _user_message(exc))
            return
        with self._lock:
            if self._stopping:
                return
        self.result.emit(job.job_id, pred)

    @Slot()
    def prepare_renderer(self) -> None:
        """Make the render check's renderer now (it starts TeX ahead of need: ``training.warm_render``), so that the
        first checked snip does not wait for it."""
        with self._lock:
            if self._stopping:
                return
        self._get_renderer()

    def _get_renderer(self) -> Any:
        """The renderer, made on first use (None for good when it cannot be made: the check is then skipped)."""
        if not self._renderer_made:
            self._renderer_made = True
            try:
                self._renderer = self._renderer_factory()
            except Exception as exc:  # a broken TeX set-up must not stop recognition
                log.warning("render check off: %s", exc)
                self._renderer = None
        return self._renderer


class WorkerController(QObject):
    """GUI-side owner of the worker thread."""

    status = Signal(str, str)
    result = Signal(int, object)
    failed = Signal(int, str)

    _load_requested = Signal(str, str)
    _process_requested = Signal()
    _renderer_requested = Signal()

    def __init__(
        self, loader: Loader | None = None, parent: QObject | None = None, renderer_factory: RendererFactory | None = None
    ) -> None:
        super().__init__(parent)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("latexsnip-recognizer")
        self.worker = RecognizerWorker(loader, renderer_factory)
        self.worker.moveToThread(self.worker_thread)
        self._load_requested.connect(self.worker.load)
        self._process_requested.connect(self.worker.process)
        self._renderer_requested.connect(self.worker.prepare_renderer)
        self.worker.status.connect(self._on_status)
        self.worker.result.connect(self._on_result)
        self.worker.failed.connect(self.failed)
        self._next_id = 0
        self.state = LOADING
        self.message = "Starting ..."
        self.latest_job: int | None = None
        self.worker_thread.start()

    def load(self, path: Path | str, device: str = "auto") -> None:
        self._load_requested.emit(str(path), device)

    def prepare_render_check(self) -> None:
        """Have the worker make the render check's renderer now rather than at the first checked snip."""
        self._renderer_requested.emit()

    def submit(self, image: Any, beam: int = 1, reread_unsure: bool = True, render_check: bool = False) -> int:
        """Queue a recognition; a still-pending older job is replaced. Returns the job id."""
        self._next_id += 1
        job = Job(self._next_id, image, beam, reread_unsure, render_check)
        self.latest_job = job.job_id
        replaced = self.worker.post(job)
        if replaced is None:
            self._process_requested.emit()
        return job.job_id

    def _on_status(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        self.status.emit(state, message)

    def _on_result(self, job_id: int, pred: object) -> None:
        self.result.emit(job_id, pred)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cooperative stop: drop pending work, let the current call finish, join the thread."""
        self.worker.stop()
        self.worker_thread.quit()
        ok = self.worker_thread.wait(timeout_ms)
        if not ok:
            log.warning(
                "recogniser thread still busy after %d ms; leaving it to finish", timeout_ms
            )
        return bool(ok)
