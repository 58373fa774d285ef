"""pdflatex and ghostscript started before they are needed: the render check's latency.

A render-check call typesets a few formulas, and most of its time went to starting the programs, not to the
formulas (measured on an Intel Xeon, 5 formulas: pdflatex 127 ms, of which ~100 ms load its format; ghostscript
53 ms, of which ~35 ms start it). A ``WarmPool`` keeps some of each already started, so a call waits only for the
work itself (pdflatex ~32 ms, ghostscript ~18 ms), and starts new ones once a burst of runs is over (``start``):

- pdflatex runs in its own work directory on ``f.tex``, a FIFO. It loads its format and then waits for the
  document, which ``Warm.typeset`` writes into the FIFO. The pool holds the FIFO open for reading and writing, so
  pdflatex's open never waits for a writer, and if this process dies the FIFO closes: pdflatex reads an end of
  file and exits instead of waiting for ever.
- ghostscript reads PostScript from its stdin (``-``) with ``-dSAFER`` and file reading allowed only below the
  pool's directory; ``Warm.rasterize`` sends it ``(f.pdf) run`` and closes its stdin, and it exits when done.

The programs, their options and the document are those of a cold run (``training.render``): the pages and
images are byte-identical. Without FIFOs (Windows) ``WarmPool.take`` gives None and callers run cold.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

if sys.platform != "win32":  # FIFOs, and the ioctl that counts what is left in one, are POSIX
    import fcntl
    import termios

log = logging.getLogger(__name__)
_T = TypeVar("_T")

TEX_FILE = "f.tex"  # the FIFO pdflatex reads; its outputs are f.log, f.aux, f.pdf beside it
ROOT_PREFIX = "latexsnip_warm_"  # a pool's folder: ROOT_PREFIX + its process id + "_" + random letters


def remove_stale_roots(parent: str) -> None:
    """Remove the folders of pools whose process is gone (killed before it could remove them: its programs went with
    it, see the module docstring)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        pid = name[len(ROOT_PREFIX):].split("_", 1)[0]
        if name.startswith(ROOT_PREFIX) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or no such call: leave its folder alone
        return True
    return True


def run_env() -> dict[str, str]:
    """The environment of every pdflatex and ghostscript run: a fixed date, so the same input gives the same PDF."""
    return dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1")


def pdflatex_command(parse_first_line: bool = True) -> list[str]:
    """pdflatex on ``f.tex``: the cold run parses its first line (for a ``%&format`` line; ours has none), the warm one
    must not, since that opens the FIFO twice and the second open would find it empty."""
    return ["pdflatex", *([] if parse_first_line else ["-no-parse-first-line"]),
            "-interaction=batchmode", "-no-shell-escape", TEX_FILE]


def ghostscript_command(dpi: int, alpha_bits: int, source: str, permit_read: str | None = None) -> list[str]:
    """ghostscript rasterising ``source`` (a PDF, or "-": PostScript from stdin) to a stream of binary PGM pages on
    stdout."""
    return [
        "gs", "-q", "-dSAFER", "-dNOPAUSE", *([] if source == "-" else ["-dBATCH"]),
        *([f"--permit-file-read={permit_read}"] if permit_read else []),
        "-sDEVICE=pgmraw", f"-r{dpi}", f"-dTextAlphaBits={alpha_bits}", f"-dGraphicsAlphaBits={alpha_bits}",
        "-sstdout=%stderr", "-sOutputFile=%stdout", source,
    ]


def finish(proc: subprocess.Popen[bytes], timeout: float, stdin: bytes | None = None) -> tuple[bytes, bytes]:
    """Wait for ``proc`` (feeding it ``stdin``); on timeout interrupt it (SIGINT: TeX then logs where it was), then
    kill it, and raise ``subprocess.TimeoutExpired``."""
    try:
        return proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        raise


def _unread(fd: int) -> int:
    """Bytes written into the pipe ``fd`` and not read yet."""
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return buf[0]


def _postscript_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


class WarmError(RuntimeError):
    """A started program was gone before it got its work (killed, or out of memory); run cold instead."""


@dataclass
class Warm:
    """One started pdflatex (waiting on ``work``/f.tex) and, where the pool keeps them for the caller's resolution,
    one started ghostscript. Use each once, then ``close``."""

    work: str
    tex: subprocess.Popen[bytes]
    fifo: int  # the pool's read-write descriptor of work/f.tex; closed once the document is written
    gs: subprocess.Popen[bytes] | None = None
    permit_read: str | None = None  # the folder ghostscript may read below (the pool's)
    _closed: bool = field(default=False, repr=False)

    def typeset(self, document: str, timeout: float) -> None:
        """Give pdflatex ``document`` and wait for it (``subprocess.TimeoutExpired`` as ``finish``); WarmError when it
        had already exited."""
        if self.tex.poll() is not None:
            raise WarmError(f"the started pdflatex exited early (status {self.tex.returncode})")
        data = memoryview(document.encode("utf-8"))
        deadline = time.monotonic() + timeout
        os.set_blocking(self.fifo, False)
        try:
            # the FIFO holds 64 KiB at most: write as pdflatex reads, then wait until it has read everything (closing
            # the last descriptor of a FIFO before its reader opened it would drop the data), so that it finds the
            # end of the file there, as in a cold run
            while True:
                if data:
                    with contextlib.suppress(BlockingIOError):
                        data = data[os.write(self.fifo, data):]
                if not data and not _unread(self.fifo):
                    break
                if self.tex.poll() is not None:
                    raise WarmError("the started pdflatex exited before reading its document")
                if time.monotonic() > deadline:
                    finish(self.tex, 0)  # interrupts it as a cold run's timeout does, and raises TimeoutExpired
                time.sleep(0.0005)
        finally:
            os.close(self.fifo)
            self.fifo = -1
        finish(self.tex, max(deadline - time.monotonic(), 0.1))

    def rasterize(self, dpi: int, alpha_bits: int, timeout: float) -> bytes | None:
        """work/f.pdf as a stream of binary PGM pages by the started ghostscript; None where it was started for another
        resolution or is gone (the caller then runs one cold)."""
        gs, self.gs = self.gs, None
        if gs is None:
            return None
        if self.permit_read is None or gs.args != ghostscript_command(dpi, alpha_bits, "-", self.permit_read) \
                or gs.poll() is not None:
            _stop(gs)
            return None
        pdf = os.path.join(self.work, "f.pdf")
        out, _ = finish(gs, timeout, f"{_postscript_string(pdf)} run\n".encode())
        return out

    def close(self) -> None:
        """Stop whatever was not used (the work directory is the caller's to remove)."""
        if self._closed:
            return
        self._closed = True
        if self.fifo >= 0:
            os.close(self.fifo)
            self.fifo = -1
        for proc in (self.tex, self.gs):
            if proc is not None:
                _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


class WarmPool:
    """Keeps ``tex_spares`` pdflatex (~35 MB resident while it waits, ~30 of it its own) for any document and
    ``spares`` ghostscript (~22 MB resident, ~8 its own) for ``dpi`` and ``alpha_bits`` ready. ``take`` hands over a
    pdflatex with a ghostscript where the caller's resolution is the pool's (another resolution starts its own when
    needed, and leaves the pool's for the next call), ``start`` starts new ones up to the spares. Thread-safe; every
    started program is stopped at ``close`` (called at exit too)."""

    def __init__(self, dpi: int, alpha_bits: int, spares: int = 1, tmpdir: str | None = None,
                 tex_spares: int | None = None) -> None:
        self.dpi, self.alpha_bits, self.spares = dpi, alpha_bits, max(spares, 1)
        self.tex_spares = max(tex_spares or 0, self.spares)
        self.available = hasattr(os, "mkfifo")
        remove_stale_roots(tmpdir or tempfile.gettempdir())
        self.root = tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}_", dir=tmpdir)
        self._lock = threading.Lock()
        self._tex: list[Warm] = []  # each without its ghostscript
        self._gs: list[subprocess.Popen[bytes]] = []
        self._timer: threading.Timer | None = None
        self._closed = False
        atexit.register(self.close)

    def take(self, dpi: int | None = None, alpha_bits: int | None = None) -> Warm | None:
        """A started pdflatex, with a started ghostscript where ``dpi`` and ``alpha_bits`` are the pool's (or not
        given); None without FIFOs, or once closed. Where none is waiting one is started now. The next ones start at
        ``start``: call it once the work is done, so that their loading does not compete with the work for the CPU
        (measured on 2 cores: pdflatex took 70-77 ms instead of ~32 ms while the next pair loaded), best with a
        ``delay``, since a render check runs TeX several times in a row."""
        if not self.available:
            return None
        with_gs = (dpi is None or dpi == self.dpi) and (alpha_bits is None or alpha_bits == self.alpha_bits)
        with self._lock:
            if self._closed:
                return None
            warm = self._tex.pop(0) if self._tex else self._start(self._spawn_tex)
            if warm is None or not with_gs:
                return warm
            gs = self._gs.pop(0) if self._gs else self._start(self._spawn_gs)
            if gs is None:
                warm.close()
                return None
            warm.gs, warm.permit_read = gs, self.permit_read
            return warm

    def _start(self, spawn: Callable[[], _T]) -> _T | None:
        """A newly started program; None, and the pool off for good, where it cannot be started (not installed, no
        memory): callers then run cold and meet the same fault with its own message."""
        try:
            return spawn()
        except OSError as exc:
            log.warning("cannot start pdflatex and ghostscript ahead of need (%s); rendering without", exc)
            self.available = False
            return None

    def start(self, delay: float = 0.0) -> None:
        """Start programs up to the spares now, or ``delay`` seconds after the last such call (a burst of runs then
        takes the spares and runs the rest cold, without new ones loading beside it on the same cores); else each
        ``take`` finding none starts one, and waits for it."""
        if delay > 0:
            with self._lock:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer = threading.Timer(delay, self.start)
                self._timer.daemon = True
                self._timer.start()
            return
        if self.available:
            with self._lock:
                while len(self._tex) < self.tex_spares and not self._closed and self.available:
                    warm = self._start(self._spawn_tex)
                    if warm is not None:
                        self._tex.append(warm)
                while len(self._gs) < self.spares and not self._closed and self.available:
                    gs = self._start(self._spawn_gs)
                    if gs is not None:
                        self._gs.append(gs)

    def _spawn_tex(self) -> Warm:
        work = tempfile.mkdtemp(prefix="lsr_", dir=self.root)
        fifo_path = os.path.join(work, TEX_FILE)
        os.mkfifo(fifo_path, 0o600)
        fifo = os.open(fifo_path, os.O_RDWR)  # never blocks, and keeps pdflatex's open from blocking
        try:
            tex = subprocess.Popen(pdflatex_command(parse_first_line=False), cwd=work, env=run_env(),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError:
            os.close(fifo)
            raise
        return Warm(work, tex, fifo)

    def _spawn_gs(self) -> subprocess.Popen[bytes]:
        """A ghostscript for the pool's resolution: it reads any work folder's f.pdf (by its full path)."""
        return subprocess.Popen(ghostscript_command(self.dpi, self.alpha_bits, "-", self.permit_read), cwd=self.root,
                                env=run_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    @property
    def permit_read(self) -> str:
        return os.path.join(self.root, "")

    def processes(self) -> Sequence[subprocess.Popen[bytes]]:
        """The started programs waiting now (for tests)."""
        return [warm.tex for warm in self._tex] + list(self._gs)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            tex, self._tex = self._tex, []
            gs, self._gs = self._gs, []
            if self._timer is not None:
                self._timer.cancel()
        for warm in tex:
            warm.close()
        for proc in gs:
            _stop(proc)
        shutil.rmtree(self.root, ignore_errors=True)


_SHARED: dict[tuple[int, int], WarmPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(dpi: int, alpha_bits: int, spares: int = 1, tex_spares: int | None = None) -> WarmPool:
    """This process's pool for ``dpi`` and ``alpha_bits``, its first programs starting now: one per process, whoever
    asks (the render check's renderers of every font share it), with the most ``spares`` and ``tex_spares`` asked
    for."""
    with _SHARED_LOCK:
        pool = _SHARED.get((dpi, alpha_bits))
        if pool is None or pool.closed:
            pool = _SHARED[(dpi, alpha_bits)] = WarmPool(dpi, alpha_bits, spares, tex_spares=tex_spares)
        pool.spares = max(pool.spares, spares)
        pool.tex_spares = max(pool.tex_spares, tex_spares or 0, pool.spares)
    pool.start()
    return pool
