"""Offline formula preview: TeX (pdflatex + Ghostscript) when installed, else matplotlib mathtext.

The render functions are plain Python (no Qt) so the coverage benchmark uses exactly the same
code path as the app. ``PreviewService`` runs them in a background QThread, keeps only the
newest request, and caches results.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from desktop_app.formats import MODERN_FONTS, tidy_latex

log = logging.getLogger(__name__)

TEX_TIMEOUT_S = 10.0


class RenderError(Exception):
    """A formula did not render; the message is short and readable (no TeX log dump)."""


# --------------------------------------------------------------------------- TeX backend
# amsmath is required; the rest are used when installed (a minimal TeX still previews).
TEX_PREAMBLE = r"""\documentclass[12pt]{article}
\usepackage{amsmath}
\IfFileExists{amssymb.sty}{\usepackage{amssymb}}{}
\IfFileExists{bm.sty}{\usepackage{bm}}{}
\IfFileExists{latexsym.sty}{\usepackage{latexsym}}{}
\IfFileExists{mathrsfs.sty}{\usepackage{mathrsfs}}{}
\pagestyle{empty}
\newsavebox\snipbox
\begin{document}
"""

# The formula is typeset in a display (like \[...\] in im2latex's renderer) inside a box of
# generous width; the box is then shipped out on a page of exactly its size.
TEX_BODY = r"""\begin{lrbox}{\snipbox}\begin{minipage}{%(width)s}
\[ %(formula)s \]
\end{minipage}\end{lrbox}
"""


def tex_available() -> bool:
    return bool(shutil.which("pdflatex") and (shutil.which("gs") or shutil.which("pdftoppm")))


# im2latex-style normalisation (which the model also emits) splits every character, so
# "\hspace{1cm}" becomes "\hspace { 1 c m }", which TeX rejects. Undo the safe cases.
_UNITS = [
    "filll",
    "fill",
    "fil",
    "pt",
    "mm",
    "cm",
    "in",
    "ex",
    "em",
    "bp",
    "pc",
    "dd",
    "cc",
    "sp",
    "mu",
]
_UNIT_RE = "|".join(r"\s*".join(u) for u in _UNITS)
_DIM_CMDS = (
    "hspace|vspace|kern|mkern|hskip|vskip|mskip|raise|lower|raisebox|rule|makebox|framebox|"
    "parbox|tabcolsep|arraycolsep|unitlength"
)
_SPACED_UNIT = re.compile(
    r"(\\(?:" + _DIM_CMDS + r")\s*\*?\s*[\{\[]?\s*)"
    r"([-+]?\s*(?:\d\s*)*(?:\.\s*)?(?:\d\s*)*)((?:t\s*r\s*u\s*e\s*)?(?:" + _UNIT_RE + r"))"
)
_NEWCOMMAND = re.compile(r"\\(re)?newcommand\s*\{\s*(\\[A-Za-z]+)\s*\}")
_STRETCH = re.compile(r"(\\renewcommand\{\\(?:arraystretch|baselinestretch)\})\s*\{([\d\s.]+)\}")
_LABEL = re.compile(r"\\label\s*(?:\{[^{}]*\}|\S+)")


def _join_dim(m: re.Match[str]) -> str:
    number = re.sub(r"\s+", "", m.group(2))
    unit = re.sub(r"\s+", "", m.group(3))
    return f"{m.group(1)}{number}{unit}"


def tex_fixups(latex: str) -> str:
    """Make normalised token sequences acceptable to real LaTeX (display only)."""
    s = _SPACED_UNIT.sub(_join_dim, latex)
    s = _NEWCOMMAND.sub(lambda m: f"\\{m.group(1) or ''}newcommand{{{m.group(2)}}}", s)
    s = _STRETCH.sub(lambda m: m.group(1) + "{" + re.sub(r"\s+", "", m.group(2)) + "}", s)
    s = _LABEL.sub("", s)
    s = re.sub(r"\\fbox\b", r"\\boxed", s)
    return s


def tex_document(latex: str) -> str:
    # Generous fixed width; the rendered page is cropped to the ink afterwards.
    body = TEX_BODY % {"width": "60cm", "formula": tex_fixups(latex)}
    return (
        TEX_PREAMBLE
        + body
        + r"""\pdfpagewidth=\dimexpr\wd\snipbox+8pt\relax
\pdfpageheight=\dimexpr\ht\snipbox+\dp\snipbox+8pt\relax
\hoffset=-1in \voffset=-1in
\shipout\vbox{\kern4pt\hbox{\kern4pt\usebox\snipbox\kern4pt}\kern4pt}
\end{document}
"""
    )


_TEX_ERR = re.compile(r"^! (.*)$", re.M)
_TEX_LINE = re.compile(r"^l\.\d+ (.*)$", re.M)


def tex_error_message(log_text: str) -> str:
    m = _TEX_ERR.search(log_text)
    if not m:
        return "LaTeX could not typeset this formula."
    msg = m.group(1).strip().rstrip(".")
    after = log_text[m.end() :]
    ctx = _TEX_LINE.search(after)
    near = ""
    if ctx:
        near = ctx.group(1).strip()
        if len(near) > 40:
            near = "..." + near[-40:]
    if msg.startswith("Undefined control sequence") and near:
        cs = re.findall(r"\\[A-Za-z@]+|\\.", near)
        return (
            f"LaTeX error: undefined command {cs[-1]}"
            if cs
            else f"LaTeX error: {msg} near '{near}'"
        )
    return f"LaTeX error: {msg}" + (f" near '{near}'" if near else "")


def _crop_to_ink(png: bytes, pad: int = 6) -> bytes:
    from PIL import Image, ImageOps

    im = Image.open(io.BytesIO(png)).convert("L")
    bbox = ImageOps.invert(im).getbbox()
    if bbox is None:
        raise RenderError("The formula renders as nothing (empty output).")
    x0, y0, x1, y1 = bbox
    im = im.crop(
        (max(0, x0 - pad), max(0, y0 - pad), min(im.width, x1 + pad), min(im.height, y1 + pad))
    )
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def render_tex(latex: str, dpi: int = 150, workdir: Path | None = None, crop: bool = True) -> bytes:
    """PNG bytes of the formula typeset by pdflatex; raises RenderError with a readable message."""
    if not latex.strip():
        raise RenderError("Nothing to render.")
    own = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="latexsnip-tex-")) if own else Path(workdir)  # type: ignore[arg-type]
    try:
        (wd / "f.tex").write_text(tex_document(latex), encoding="utf-8")
        env = dict(os.environ, openin_any="p", openout_any="p")
        try:
            proc = subprocess.run(
                [
                    "pdflatex",
                    "-no-shell-escape",
                    "-interaction=nonstopmode",
                    "-halt-on-error",
                    "f.tex",
                ],
                cwd=wd,
                capture_output=True,
                timeout=TEX_TIMEOUT_S,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderError("LaTeX took too long (over 10 s) on this formula.") from exc
        log_text = (wd / "f.log").read_text(encoding="latin-1") if (wd / "f.log").exists() else ""
        if proc.returncode != 0 or not (wd / "f.pdf").exists():
            raise RenderError(
                tex_error_message(log_text or proc.stdout.decode("latin-1", "replace"))
            )
        png = wd / "f.png"
        if shutil.which("gs"):
            cmd = [
                "gs",
                "-q",
                "-dSAFER",
                "-dBATCH",
                "-dNOPAUSE",
                "-sDEVICE=pnggray",
                f"-r{dpi}",
                "-dTextAlphaBits=4",
                "-dGraphicsAlphaBits=4",
                f"-sOutputFile={png}",
                "f.pdf",
            ]
        else:
            cmd = ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "f.pdf", "f"]
        try:
            r = subprocess.run(
                cmd, cwd=wd, capture_output=True, timeout=TEX_TIMEOUT_S, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderError("Rasterising the rendered formula took too long.") from exc
        if r.returncode != 0 or not png.exists():
            raise RenderError("Ghostscript could not rasterise the rendered formula.")
        data = png.read_bytes()
        return _crop_to_ink(data) if crop else data
    finally:
        if own:
            shutil.rmtree(wd, ignore_errors=True)
        else:
            for f in ("f.tex", "f.pdf", "f.png", "f.log", "f.aux"):
                (wd / f).unlink(missing_ok=True)


# --------------------------------------------------------------------------- mathtext backend
# mathtext knows neither old font switches nor a few common macros; rewrite the simple cases.
# The model's tokens arrive tidied (`{ \cal L }` -> `\mathcal{L}`, see ``mathtext_source``); these rules
# cover what a user types: mathtext rejects `{\cal L}` and `\mathcal O` (its font commands need a braced
# argument).
_OLD_SWITCH = "|".join(old.lstrip("\\") for old in MODERN_FONTS)  # cal|bf|rm|it|sf|tt
_MT_REWRITES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # a font command with a one-token argument, `\mathcal O`, needs braces in mathtext: `\mathcal{O}`
    (re.compile(rf"\\(math(?:{_OLD_SWITCH}|bb|frak))(?:\s*(?!\\(?:math|{_OLD_SWITCH})[a-z]*\b)(\\[A-Za-z]+)|\s+([^\s{{}}\\]))"),
     lambda m: f"\\{m[1]}{{{m[2] or m[3]}}}"),
    # `\mathrm { \bf B }`: the inner switch decides the font
    (re.compile(rf"\\math(?:{_OLD_SWITCH})\s*\{{\s*\\({_OLD_SWITCH})(?![A-Za-z])"), r"{\\\1"),
    *(
        (re.compile(r"\{\s*" + re.escape(old) + r"(?![A-Za-z])\s*"), new.replace("\\", "\\\\") + "{")
        for old, new in MODERN_FONTS.items()
    ),
    (re.compile(r"\\operatorname\s*\*?"), r"\\mathrm"),
    (
        re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|scriptscriptstyle|nonumber|notag)\b"),
        "",
    ),
    (re.compile(r"\\(?:left|right)\s*\."), ""),
    (re.compile(r"\\(?:big|Big|bigg|Bigg)[lrm]?\b"), ""),
    (re.compile(r"\\mbox\b"), r"\\mathrm"),
    (re.compile(r"\\text\b"), r"\\mathrm"),
    (re.compile(r"\\hbox\b"), r"\\mathrm"),
    (re.compile(r"\\(?:qquad)\b"), r"\\quad\\quad"),
    (re.compile(r"~"), r"\\ "),
]


def mathtext_source(latex: str) -> str:
    """What mathtext is given for ``latex``. mathtext does not skip spaces as TeX does (`x ^ { 2 }` draws
    "x 2": the superscript is lost), so the token spaces go first (``tidy_latex``), then the rewrites."""
    s = tidy_latex(latex)
    for pat, rep in _MT_REWRITES:
        s = pat.sub(rep, s)
    return s


_MT_LOCK = threading.Lock()  # matplotlib's font cache is not thread-safe


def render_mathtext(latex: str, dpi: int = 150) -> bytes:
    if not latex.strip():
        raise RenderError("Nothing to render.")
    from matplotlib import mathtext

    buf = io.BytesIO()
    try:
        with _MT_LOCK:
            mathtext.math_to_image(f"${mathtext_source(latex)}$", buf, dpi=dpi, format="png")
    except Exception as exc:
        first = str(exc).strip().splitlines()
        msg = first[-1] if first else type(exc).__name__
        raise RenderError(f"Preview (mathtext) cannot draw this: {msg[:160]}") from exc
    return buf.getvalue()


# --------------------------------------------------------------------------- chooser
def choose_backend(pref: str = "auto") -> str:
    if pref == "mathtext":
        return "mathtext"
    if pref == "tex":
        return "tex" if tex_available() else "mathtext"
    return "tex" if tex_available() else "mathtext"


def render_png(latex: str, backend: str, dpi: int = 150, workdir: Path | None = None) -> bytes:
    if backend == "tex":
        return render_tex(latex, dpi=dpi, workdir=workdir)
    return render_mathtext(latex, dpi=dpi)


@dataclass(frozen=True)
class PreviewResult:
    request_id: int
    latex: str
    image: QImage | None
    error: str | None
    backend: str


class _PreviewWorker(QObject):
    done = Signal(object)  # PreviewResult

    def __init__(self, backend: str, dpi: int) -> None:
        super().__init__()
        self.backend = backend
        self.dpi = dpi
        self._lock = threading.Lock()
        self._pending: tuple[int, str] | None = None
        self._cache: OrderedDict[str, tuple[bytes | None, str | None]] = OrderedDict()
        self._workdir: Path | None = None

    def post(self, req: tuple[int, str]) -> bool:
        with self._lock:
            had = self._pending is not None
            self._pending = req
            return had

    @Slot()
    def process(self) -> None:
        with self._lock:
            req, self._pending = self._pending, None
        if req is None:
            return
        rid, latex = req
        key = hashlib.sha1(f"{self.backend}:{self.dpi}:{latex}".encode()).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            png, err = self._cache[key]
        else:
            if self._workdir is None and self.backend == "tex":
                self._workdir = Path(tempfile.mkdtemp(prefix="latexsnip-preview-"))
            try:
                png, err = render_png(latex, self.backend, self.dpi, self._workdir), None
            except RenderError as exc:
                png, err = None, str(exc)
            except Exception as exc:  # never let a renderer bug kill the thread
                png, err = None, f"Preview failed: {type(exc).__name__}: {exc}"
            self._cache[key] = (png, err)
            while len(self._cache) > 128:
                self._cache.popitem(last=False)
        img = QImage.fromData(png, "PNG") if png else None  # type: ignore[arg-type]  # stubs want bytes, runtime wants str
        self.done.emit(PreviewResult(rid, latex, img, err, self.backend))

    def cleanup(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)


class PreviewService(QObject):
    """Renders in a background thread; emits ``rendered(PreviewResult)`` for the newest request only."""

    rendered = Signal(object)
    _kick = Signal()

    def __init__(
        self, backend_pref: str = "auto", dpi: int = 150, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.backend = choose_backend(backend_pref)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("latexsnip-preview")
        self._worker = _PreviewWorker(self.backend, dpi)
        self._worker.moveToThread(self.worker_thread)
        self._kick.connect(self._worker.process)
        self._worker.done.connect(self._on_done)
        self._next = 0
        self.latest = 0
        self.worker_thread.start()

    def request(self, latex: str) -> int:
        self._next += 1
        self.latest = self._next
        if not self._worker.post((self._next, latex)):
            self._kick.emit()
        return self._next

    def _on_done(self, res: PreviewResult) -> None:
        if res.request_id == self.latest:
            self.rendered.emit(res)

    def shutdown(self) -> None:
        self.worker_thread.quit()
        self.worker_thread.wait(15000)
        self._worker.cleanup()
