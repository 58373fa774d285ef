"""Render LaTeX formulas to images the way im2latex-100k was made (harvardnlp/im2markup).

Pipeline per formula: pdflatex (``\\documentclass[12pt]{article}``, amsmath + amssymb, display
style) -> ghostscript raster at ``dpi`` -> (optionally binarized) -> crop to ink -> pad 8 px ->
downsample 2x with Lanczos. The result is the *processed* image: grayscale uint8, ink dark on
white, the formula at (4, 4) with 4 px of white around it -- exactly the top-left part of an
im2markup processed (bucketed) image.

Speed: many formulas go into one pdflatex run (``batch_size`` per document). Each formula is set
in its own box (``$\\displaystyle ...$``) and shipped out as a page sized to that box, so the
ghostscript raster stays small. A batch that reports TeX errors is repaired: the formulas named
by the error lines of the log are re-rendered alone, the rest re-run as a batch; when the log
cannot be mapped to formulas the batch is bisected. One bad formula only loses itself.

Deterministic: the same formulas with the same options give byte-identical images.

``rasteriser`` draws the same pages with a PDF viewer's library instead of Ghostscript, cut to their ink as a
hand-dragged snip (``snip_margin``): ``training.viewer_render``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from core.errors import LatexSnipError
from training.warm_render import (
    TEX_FILE,
    Warm,
    WarmError,
    WarmPool,
    finish,
    ghostscript_command,
    pdflatex_command,
    run_env,
    shared_pool,
)

if TYPE_CHECKING:  # core.render_match imports torch, which render workers need not load
    from core.render_match import Renderer

__all__ = [
    "CHECK_FONTS",
    "FONTS",
    "RenderResult",
    "TexNotFoundError",
    "VIEWER_PROGRAMS",
    "add_render_check_arguments",
    "available_fonts",
    "check_renderers",
    "check_tex",
    "crop_snip",
    "formula_renderer",
    "process_raster",
    "render_formulas",
    "renderers_for",
]

PAD = 8  # px of white around the ink before downsampling (im2markup)
DOWNSAMPLE = 2
BATCH_SIZE = 64
MARGIN_PT = 12  # white margin (TeX pt) around each formula box on its page
VIEWER_PROGRAMS = {"poppler": "pdftoppm", "mupdf": "mutool"}  # rasterisers PDF viewers use (Evince / Okular, Zathura)
BINARIZE_THRESHOLD = 250  # binarize so that any ink coverage is ink: im2latex's strokes are bold

# Debian packages: what every font needs, then the extra package per font.
BASE_PACKAGES = ["texlive-latex-base", "texlive-fonts-recommended", "ghostscript"]
FONTS: dict[str, dict[str, Any]] = {
    # font name -> preamble lines, files that must exist (kpsewhich), Debian package providing them
    "cm": {
        "preamble": "",
        "files": ["amsmath.sty", "amssymb.sty"],
        "package": "texlive-latex-base",
    },
    "lm": {
        "preamble": "\\usepackage{lmodern}",
        "files": ["lmodern.sty", "lmr10.tfm"],
        "package": "lmodern",
    },
    "times": {
        "preamble": "\\usepackage{mathptmx}",
        "files": ["mathptmx.sty", "omlztmcm.fd", "ptmri7t.tfm"],
        "package": "texlive-fonts-recommended",
    },
    "palatino": {
        "preamble": "\\usepackage{mathpazo}",
        "files": ["mathpazo.sty", "zplmr7m.tfm"],
        "package": "texlive-fonts-recommended",
    },
}

# Things a formula must not contain: they would break the batch document or touch files.
_FORBIDDEN = re.compile(
    r"\\(?:begin|end)\s*\{\s*document\s*\}|\\(?:input|include|openout|openin|write|read|immediate|"
    r"shipout|output|special|pdfobj|pdfliteral|catcode|endinput|dump|batchmode|"
    r"errorstopmode|scrollmode|nonstopmode|lsbox|lsout|lsgl)(?![a-zA-Z])|\{\s*lrbox\s*\}"
)


class TexNotFoundError(LatexSnipError):
    """pdflatex, ghostscript or a LaTeX package/font needed for rendering is not installed."""


@dataclass
class RenderResult:
    """One formula's rendering: ``image`` (processed, mode "L") or ``error`` (why not)."""

    image: Image.Image | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.image is not None

    @property
    def error_kind(self) -> str | None:
        """ "tex_error", "empty", "rejected" or "timeout" (the text before the first colon)."""
        if self.error is None:
            return None
        return self.error.split(":", 1)[0]


# --------------------------------------------------------------------------------------------
# installation checks


def _kpsewhich(name: str) -> bool:
    try:
        out = subprocess.run(["kpsewhich", name], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(out.stdout.strip())


def check_tex(font: str = "cm") -> None:
    """Raise TexNotFoundError naming the missing programs / Debian packages, else return None."""
    if font not in FONTS:
        raise TexNotFoundError(f"unknown font {font!r}; choose one of {', '.join(FONTS)}")
    missing_progs = [p for p in ("pdflatex", "gs", "kpsewhich") if shutil.which(p) is None]
    pkgs: list[str] = []
    if "pdflatex" in missing_progs or "kpsewhich" in missing_progs:
        pkgs += ["texlive-latex-base", "texlive-fonts-recommended"]
    if "gs" in missing_progs:
        pkgs.append("ghostscript")
    if missing_progs:
        raise TexNotFoundError(
            f"rendering formulas needs {', '.join(missing_progs)} (not found on PATH); install with: "
            f"sudo apt-get install {' '.join(dict.fromkeys(pkgs + BASE_PACKAGES))}"
        )
    spec = FONTS[font]
    missing_files = [f for f in spec["files"] if not _kpsewhich(f)]
    if missing_files:
        raise TexNotFoundError(
            f"font {font!r} needs {', '.join(missing_files)} (not found by kpsewhich); install with: "
            f"sudo apt-get install {spec['package']}"
        )


def available_fonts() -> list[str]:
    """The font options whose files are installed."""
    out = []
    for name in FONTS:
        try:
            check_tex(name)
        except TexNotFoundError:
            continue
        out.append(name)
    return out


# --------------------------------------------------------------------------------------------
# TeX document


_UNIT = r"(?:e\s*m|e\s*x|p\s*t|c\s*m|m\s*m|i\s*n|m\s*u|b\s*p|p\s*c|s\s*p|d\s*d|c\s*c)"
_NUM = r"[-+]?\s*(?:\d\s*)*(?:[.,]\s*)?(?:\d\s*)+"
_BRACED_DIM = re.compile(r"\{\s*(" + _NUM + _UNIT + r")\s*\}")
_KERN_DIM = re.compile(
    r"(\\(?:kern|hskip|vskip|mkern|mskip|mspace|hspace\*?|vspace\*?|rule)\s*)("
    + _NUM
    + _UNIT
    + r")(?![a-zA-Z])"
)
_SPACES = re.compile(r"\s+")
_HLINE_IN_CELL = re.compile(r"\{\s*\\hline(?![a-zA-Z])")


def tex_fixups(formula: str) -> str:
    """What TeX is given for ``formula`` (the label stays as it is).

    Normalized im2latex formulas separate every character by a space, which breaks dimensions:
    ``\\hspace { 0 . 7 c m }`` is an "Illegal unit" error for TeX. Dimensions (number + unit,
    braced or after \\kern-like commands) get their spaces removed, and ``{ \\hline a }`` (an
    array cell that starts with \\hline) becomes ``\\hline { a }``; nothing else changes.
    """
    f = _BRACED_DIM.sub(lambda m: "{" + _SPACES.sub("", m.group(1)) + "}", formula)
    # im2latex puts \\hline into the first cell of its row ({ \\hline a } & ...): TeX wants it
    # before the cell
    f = _HLINE_IN_CELL.sub(r"\\hline {", f)
    return _KERN_DIM.sub(lambda m: m.group(1) + _SPACES.sub("", m.group(2)) + " ", f)


# im2latex-100k was rendered without amsmath/amssymb: its big operators come from cmex10 at its
# design size and \\big..\\Bigg have the kernel's fixed heights. Loading amsmath (needed by
# \\text, aligned, \\operatorname ... in other corpora) changes both; these lines undo that.
# Measured on the 1,112 genuine sample images: processed-image sizes match far better (see
# README of training data in the report) than with a plain amsmath preamble.
_IM2LATEX_COMPAT = (
    "\\DeclareFontShape{OMX}{cmex}{m}{n}{<->sfixed*cmex10}{}\n"
    "\\makeatletter\n"
    + "".join(
        f"\\DeclareRobustCommand\\{name}[1]{{{{\\hbox{{$\\left#1\\vbox to{h}\\p@{{}}\\right.\\n@space$}}}}}}\n"
        for name, h in (("big", "8.5"), ("Big", "11.5"), ("bigg", "14.5"), ("Bigg", "17.5"))
    )
    + "\\makeatother\n"
)


def _preamble(font: str, dpi: int = 200) -> str:
    px_sp = round(72.27 / dpi * 65536)  # one device pixel in TeX scaled points
    return (
        "\\batchmode\n"
        "\\documentclass[12pt]{article}\n"
        "\\usepackage{amsmath}\n"
        "\\usepackage{amssymb}\n"
        f"{_IM2LATEX_COMPAT}"
        f"{FONTS[font]['preamble']}\n"
        "\\pagestyle{empty}\n"
        "\\newsavebox\\lsbox\n"
        f"\\pdfhorigin={MARGIN_PT}pt \\pdfvorigin={MARGIN_PT}pt\n"
        "\\makeatletter\n"
        # ship the box as one page sized to it (+ margins); an empty box still makes a page
        # page height: a whole number of device pixels, so that the box top (MARGIN_PT below
        # the page top) has the same sub-pixel phase on every page whatever the box height
        "\\def\\lsout{\\pdfpagewidth=\\dimexpr\\wd\\lsbox+"
        f"{2 * MARGIN_PT}pt\\relax"
        "\\count255=\\numexpr\\dimexpr\\ht\\lsbox+\\dp\\lsbox+"
        f"{2 * MARGIN_PT}pt\\relax/{px_sp}\\relax"
        f"\\pdfpageheight=\\numexpr(\\count255+1)*{px_sp}\\relax sp\\relax"
        "\\ifnum\\currentgrouplevel=\\lsgl\\relax\\else\\errmessage{" + _LEAK_MSG + "}\\fi"
        "\\global\\advance\\c@page\\@ne\\shipout\\hbox{\\usebox\\lsbox}}\n"
        "\\makeatother\n"
        "\\begin{document}\n"
        "\\edef\\lsgl{\\the\\currentgrouplevel}\n"
    )


def tex_document(formulas: Sequence[str], font: str, dpi: int = 200) -> tuple[str, int]:
    """The .tex source (one page per formula, sized to it, as TeX draws it in ``font``; ``dpi`` rounds the page
    heights to whole device pixels) and the line number (1-based) of the first formula."""
    head = _preamble(font, dpi)
    first_line = head.count("\n") + 1
    body = "".join(
        f"\\begin{{lrbox}}{{\\lsbox}}$\\displaystyle {f} $\\end{{lrbox}}\\lsout\n" for f in formulas
    )
    return head + body + "\\end{document}\n", first_line


def precheck(formula: str) -> str | None:
    """A reason to refuse ``formula`` without running TeX, or None."""
    f = formula.strip()
    if not f:
        return "rejected: empty formula"
    if "\n" in f or "\r" in f:
        return "rejected: formula spans several lines"
    depth = 0
    i = 0
    n = len(f)
    while i < n:
        c = f[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return "rejected: unbalanced braces (extra '}')"
        elif c == "$":
            return "rejected: unescaped '$'"
        elif c == "%":
            return "rejected: unescaped '%' (comment)"
        elif c == "#":
            return "rejected: unescaped '#'"
        i += 1
    if depth:
        return "rejected: unbalanced braces (missing '}')"
    m = _FORBIDDEN.search(f)
    if m:
        return f"rejected: forbidden command {m.group(0)}"
    return None


# --------------------------------------------------------------------------------------------
# one batch (runs in a worker process)

_ERR_RE = re.compile(r"^! (.*)$")
_LEAK_MSG = "latexsnip: group nesting changed"
_LINE_RE = re.compile(r"^l\.(\d+)")


def _parse_log(log: str, first_line: int, n: int) -> tuple[list[tuple[int | None, str]], bool]:
    """[(formula index or None, message)] for each error, and whether the run ended fatally."""
    errors: list[tuple[int | None, str]] = []
    lines = log.splitlines()
    fatal = "Emergency stop" in log or "Fatal error" in log or "capacity exceeded" in log
    i = 0
    while i < len(lines):
        m = _ERR_RE.match(lines[i])
        if m:
            msg = m.group(1).strip()
            idx: int | None = None
            for j in range(i + 1, min(i + 40, len(lines))):
                lm = _LINE_RE.match(lines[j])
                if lm:
                    k = int(lm.group(1)) - first_line
                    idx = k if 0 <= k < n else None
                    break
                if _ERR_RE.match(lines[j]):
                    break
            errors.append((idx, msg))
        i += 1
    return errors, fatal


def _read_pgm_stream(data: bytes) -> list[np.ndarray]:
    """Split ghostscript's concatenated binary PGM (P5) output into arrays."""
    pages: list[np.ndarray] = []
    pos = 0
    n = len(data)
    tok_re = re.compile(rb"(?:\s|#[^\n]*\n)*(\S+)")
    while pos < n:
        fields = []
        p = pos
        for _ in range(4):
            m = tok_re.match(data, p)
            if m is None:
                raise ValueError("bad PGM stream")
            fields.append(m.group(1))
            p = m.end()
        if fields[0] != b"P5":
            raise ValueError(f"bad PGM magic {fields[0]!r}")
        w, h, maxval = int(fields[1]), int(fields[2]), int(fields[3])
        if maxval > 255:
            raise ValueError("16-bit PGM not supported")
        p += 1  # single whitespace after maxval
        arr = np.frombuffer(data, dtype=np.uint8, count=w * h, offset=p).reshape(h, w)
        pages.append(arr)
        pos = p + w * h
        while pos < n and data[pos : pos + 1].isspace():
            pos += 1
    return pages


def process_raster(
    page: np.ndarray, binarize: bool = True, threshold: int | None = None
) -> np.ndarray | None:
    """Raster of one page (uint8, ink dark) -> processed image array, or None if no ink.

    Crop to ink, pad 8 px (right/bottom get one more px when needed to make the size even, as
    in im2markup where the padded crop sits inside an even-sized bucket), downsample 2x Lanczos.
    """
    a = page
    if binarize:
        a = np.where(a < (BINARIZE_THRESHOLD if threshold is None else threshold), 0, 255).astype(
            np.uint8
        )
    ink = a < 255
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    crop = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    H = h + 2 * PAD
    W = w + 2 * PAD
    H += H % 2
    W += W % 2
    canvas = np.full((H, W), 255, dtype=np.uint8)
    canvas[PAD : PAD + h, PAD : PAD + w] = crop
    img = Image.fromarray(canvas, "L").resize(
        (W // DOWNSAMPLE, H // DOWNSAMPLE), Image.Resampling.LANCZOS
    )
    return np.asarray(img, dtype=np.uint8)


def crop_snip(page: np.ndarray, margin: int) -> np.ndarray | None:
    """A grey page (ink dark: any coverage, below ``BINARIZE_THRESHOLD``) cut to its ink plus ``margin`` px of white on
    each side, at full resolution and with its grays, as a hand-dragged snip; None when blank."""
    ink = page < BINARIZE_THRESHOLD
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    crop = page[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    canvas = np.full((crop.shape[0] + 2 * margin, crop.shape[1] + 2 * margin), 255, np.uint8)
    canvas[margin : margin + crop.shape[0], margin : margin + crop.shape[1]] = crop
    return canvas


def _run(cmd: list[str], cwd: str, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd``; on timeout interrupt it (SIGINT: TeX then logs where it was), then kill."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=run_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = finish(proc, timeout)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _timeout(opts: _Opts, n: int) -> float:
    """Per-run limit: a healthy batch of 64 takes well under a second, so allow ~10x that."""
    return min(opts.timeout, 5.0 + 0.2 * n)


@dataclass(frozen=True)
class _Opts:
    font: str
    dpi: int
    binarize: bool
    tmpdir: str | None
    timeout: float
    alpha_bits: int = 1
    threshold: int = 250
    rasteriser: str = "ghostscript"  # or a PDF viewer's: VIEWER_PROGRAMS
    page_dpi: int | None = None  # the resolution page heights are whole pixels at (``tex_document``); None: ``dpi``
    snip_margin: int | None = None  # a page cut to its ink + this margin at full resolution instead of im2markup's way


def _pdflatex(
    formulas: Sequence[str], opts: _Opts, work: str, warm: Warm | None = None
) -> tuple[bool, list[tuple[int | None, str]], bool]:
    """Run pdflatex once (``warm``'s, started in ``work``, where given). Returns (pdf exists, errors [(formula index |
    None, message)], fatal); WarmError when ``warm``'s pdflatex was gone."""
    src, first_line = tex_document(formulas, opts.font, opts.page_dpi or opts.dpi)
    timed_out = False
    try:
        if warm is not None:
            warm.typeset(src, _timeout(opts, len(formulas)))
        else:
            with open(os.path.join(work, TEX_FILE), "w", encoding="utf-8") as fh:
                fh.write(src)
            _run(pdflatex_command(), work, _timeout(opts, len(formulas)))
    except subprocess.TimeoutExpired:
        timed_out = True
    try:
        with open(os.path.join(work, "f.log"), encoding="latin-1") as fh:
            log = fh.read()
    except OSError:
        log = ""
    errors, fatal = _parse_log(log, first_line, len(formulas))
    if timed_out:
        # the interrupted TeX logs "! Interruption." at the line it was working on
        where = [i for i, msg in errors if msg.startswith("Interruption")]
        idx = where[-1] if where else (0 if len(formulas) == 1 else None)
        return False, [(idx, "timeout: pdflatex took too long")], True
    return os.path.exists(os.path.join(work, "f.pdf")), errors, fatal


def _ghostscript(opts: _Opts, work: str, warm: Warm | None = None) -> list[np.ndarray] | None:
    """work/f.pdf's pages (by ``warm``'s ghostscript where given), None where ghostscript fails."""
    try:
        data = warm.rasterize(opts.dpi, opts.alpha_bits, _timeout(opts, 64)) if warm is not None else None
        if data is None:
            data = _run(ghostscript_command(opts.dpi, opts.alpha_bits, "f.pdf"), work, _timeout(opts, 64)).stdout
        return _read_pgm_stream(data)
    except (subprocess.TimeoutExpired, ValueError):
        return None


def _viewer_pages(opts: _Opts, work: str) -> list[np.ndarray] | None:
    """work/f.pdf's pages as the PDF viewer library ``opts.rasteriser`` draws them, None where it fails or hangs."""
    if opts.rasteriser == "poppler":
        cmd = ["pdftoppm", "-gray", "-r", str(opts.dpi), "f.pdf", "p"]
    else:
        cmd = ["mutool", "draw", "-q", "-r", str(opts.dpi), "-c", "gray", "-o", "p-%d.pgm", "f.pdf"]
    try:
        if _run(cmd, work, _timeout(opts, 64)).returncode != 0:
            return None
        files = sorted(Path(work).glob("p-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        return [np.asarray(Image.open(p).convert("L")) for p in files]
    except (subprocess.TimeoutExpired, OSError):
        return None


def _pages(opts: _Opts, work: str, warm: Warm | None = None) -> list[np.ndarray] | None:
    """work/f.pdf's pages drawn by ``opts.rasteriser``, None where it fails."""
    return _ghostscript(opts, work, warm) if opts.rasteriser == "ghostscript" else _viewer_pages(opts, work)


_Result = tuple[np.ndarray | None, str | None]


def _page_result(page: np.ndarray, opts: _Opts) -> _Result:
    if opts.snip_margin is not None:
        arr = crop_snip(page, opts.snip_margin)
    else:
        arr = process_raster(page, opts.binarize, opts.threshold)
    return (arr, None) if arr is not None else (None, "empty: the formula renders no ink")


def _error_result(msg: str) -> _Result:
    return (None, msg if msg.startswith("timeout") else f"tex_error: {msg}")


def _render_batch(formulas: Sequence[str], opts: _Opts, pool: WarmPool | None = None) -> list[_Result]:
    """Render a batch, repairing it when TeX reports errors; one result per formula.

    Every formula's page is checked (at its own source line) to leave TeX's group nesting as
    it found it, so an error is attributed to the formula that caused it and the pages of the
    other formulas are those of an error-free run. The formulas named by errors are re-run
    alone (their failure confirmed or their page taken from the solo run). Fatal errors or
    errors that name no formula make the batch split in halves.
    """
    n = len(formulas)
    if n == 0:
        return []
    warm = pool.take(opts.dpi, opts.alpha_bits) if pool is not None else None
    work = warm.work if warm is not None else tempfile.mkdtemp(prefix="lsr_", dir=opts.tmpdir)
    try:
        try:
            has_pdf, errors, fatal = _pdflatex(formulas, opts, work, warm)
        except WarmError:
            assert warm is not None
            warm.close()
            shutil.rmtree(work, ignore_errors=True)
            warm, work = None, tempfile.mkdtemp(prefix="lsr_", dir=opts.tmpdir)
            has_pdf, errors, fatal = _pdflatex(formulas, opts, work)
        if n == 1:
            if errors or not has_pdf:
                return [_error_result(errors[0][1] if errors else "pdflatex produced no PDF")]
            pages = _pages(opts, work, warm)
            if pages is None or len(pages) != 1:
                return [(None, "tex_error: no page rasterized")]
            return [_page_result(pages[0], opts)]
        timeouts = [i for i, msg in errors if i is not None and msg.startswith("timeout")]
        if timeouts:
            # the formula TeX was stuck on fails; the others are run again without it
            k = timeouts[0]
            return (
                _render_batch(formulas[:k], opts, pool)
                + [(None, "timeout: pdflatex took too long")]
                + _render_batch(formulas[k + 1 :], opts, pool)
            )
        culprits = sorted({i for i, _ in errors if i is not None})
        clean_map = has_pdf and not fatal and all(i is not None for i, _ in errors)
        pages = _pages(opts, work, warm) if clean_map and len(culprits) < n else None
    finally:
        if warm is not None:
            warm.close()
        shutil.rmtree(work, ignore_errors=True)
        if pool is not None:
            pool.start(delay=REFILL_DELAY)  # the next call's programs load once this burst of runs is over
    if pages is not None and (len(pages) == n or culprits):
        # Formulas before the first nesting leak ran in a clean TeX state: their pages and
        # error messages are what a solo run gives. Everything from the leak on is re-run.
        # When the page count is off, a culprit made extra (or no) pages: only the pages before
        # the first culprit are trusted.
        first_msg: dict[int, str] = {}
        for i, msg in errors:
            if i is not None:
                first_msg.setdefault(i, msg)
        leaks = [i for i, msg in errors if i is not None and _LEAK_MSG in msg]
        stop = min(leaks) if leaks else n
        if len(pages) != n:
            stop = min(stop, culprits[0])
        out: list[_Result] = [
            _error_result(first_msg[i]) if i in first_msg else _page_result(pages[i], opts)
            for i in range(stop)
        ]
        if stop < n:
            out += _render_batch([formulas[stop]], opts, pool) + _render_batch(formulas[stop + 1 :], opts, pool)
        return out
    half = n // 2
    return _render_batch(formulas[:half], opts, pool) + _render_batch(formulas[half:], opts, pool)


def _worker(
    args: tuple[int, list[str], _Opts], pool: WarmPool | None = None
) -> tuple[int, list[tuple[np.ndarray | None, str | None]]]:
    idx, formulas, opts = args
    # precheck here too so that direct callers get the same behaviour
    res: list[tuple[np.ndarray | None, str | None] | None] = [None] * len(formulas)
    todo = []
    for i, f in enumerate(formulas):
        why = precheck(f)
        if why:
            res[i] = (None, why)
        else:
            todo.append(i)
    for i, r in zip(
        todo, _render_batch([tex_fixups(formulas[i].strip()) for i in todo], opts, pool), strict=True
    ):
        res[i] = r
    return idx, [r if r is not None else (None, "internal: no result") for r in res]


# --------------------------------------------------------------------------------------------
# public API


def alpha_bits(antialias: bool) -> int:
    """Ghostscript's -dTextAlphaBits / -dGraphicsAlphaBits for ``render_formulas``' ``antialias``."""
    return 4 if antialias else 1


def render_formulas(
    formulas: Sequence[str],
    font: str = "cm",
    dpi: int = 200,
    workers: int = 2,
    tmpdir: str | None = None,
    *,
    binarize: bool = True,
    batch_size: int = BATCH_SIZE,
    timeout: float = 60.0,
    antialias: bool = True,
    threshold: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    warm: WarmPool | None = None,
    checked: bool = False,
    rasteriser: str = "ghostscript",
    page_dpi: int | None = None,
    snip_margin: int | None = None,
) -> list[RenderResult]:
    """Render each formula to its processed im2latex-style image (see module docstring).

    Returns one RenderResult per input, in order. ``error`` starts with the kind:
    "tex_error: ..." (TeX could not compile it), "rejected: ..." (refused before TeX: unbalanced
    braces, '$', '%', file/document commands), "empty: ..." (no ink), "timeout: ...".
    ``progress(done, total)`` is called after each batch. With ``warm`` (``training.warm_render``), work done in
    this process takes its programs already started (the same images, sooner). ``checked``: the caller has run
    ``check_tex(font)`` (it costs ~10-15 ms of kpsewhich runs). ``rasteriser``: Ghostscript (the training data's) or
    a PDF viewer's library (``VIEWER_PROGRAMS``: its program must be installed; ``warm`` is then not used).
    ``page_dpi``: the resolution TeX sizes page heights to whole pixels at (default ``dpi``). ``snip_margin``: each
    page is cut to its ink plus that many px at ``dpi``, with its grays (``crop_snip``), instead of im2markup's
    processing (``binarize`` and ``threshold`` then do nothing).
    """
    if rasteriser != "ghostscript" and rasteriser not in VIEWER_PROGRAMS:
        raise ValueError(f"unknown rasteriser {rasteriser!r}: ghostscript, {', '.join(VIEWER_PROGRAMS)}")
    if not checked:
        check_tex(font)
    formulas = list(formulas)
    opts = _Opts(
        font=font,
        dpi=int(dpi),
        binarize=binarize,
        tmpdir=tmpdir,
        timeout=timeout,
        alpha_bits=alpha_bits(antialias),
        threshold=BINARIZE_THRESHOLD if threshold is None else int(threshold),
        rasteriser=rasteriser,
        page_dpi=page_dpi,
        snip_margin=snip_margin,
    )
    if rasteriser != "ghostscript":
        warm = None  # a warm pool holds Ghostscript
    jobs = [
        (k, formulas[s : s + batch_size], opts)
        for k, s in enumerate(range(0, len(formulas), batch_size))
    ]
    results: list[RenderResult] = [RenderResult(None, "internal: not rendered")] * len(formulas)
    done = 0

    def _collect(k: int, batch: list[tuple[np.ndarray | None, str | None]]) -> None:
        nonlocal done
        base = k * batch_size
        for j, (arr, err) in enumerate(batch):
            img = Image.fromarray(arr, "L") if arr is not None else None
            results[base + j] = RenderResult(img, err)
        done += len(batch)
        if progress is not None:
            progress(done, len(formulas))

    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            _collect(*_worker(job, warm))
    elif threading.active_count() > 1:
        # Another thread runs (the render check's fonts, a GUI): a forked worker would inherit the locks it holds and
        # could wait on one for ever (seen: `bench/robustness.py --render-check` hung, a worker forked from one font's
        # thread stuck on an import lock). Threads then: the work is mostly pdflatex and Ghostscript, and they take
        # the programs ``warm`` started.
        with ThreadPoolExecutor(min(workers, len(jobs))) as threads:
            for k, batch in threads.map(partial(_worker, pool=warm), jobs):
                _collect(k, batch)
    else:
        # fork: the workers only run subprocesses and numpy, and fork needs no __main__ guard
        # in the caller's script (forkserver/spawn would re-import it)
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(min(workers, len(jobs))) as pool:
            for k, batch in pool.imap_unordered(_worker, jobs):
                _collect(k, batch)
    return results


def formula_renderer(
    font: str = "cm", dpi: int = 200, workers: int = 2, warm: WarmPool | None = None, *, checked: bool = False
) -> Renderer:
    """``render_formulas`` as a ``core.render_match.Renderer``: formulas -> images as arrays (ink dark on
    white, the training data's rendering; ``scale`` times as large: at ``scale`` x ``dpi``), None where one
    does not render. TexNotFoundError at once where TeX cannot typeset ``font`` (``checked``: the caller has run
    ``check_tex(font)``). With ``warm``, a call takes pdflatex and ghostscript already started
    (``training.warm_render``: the same images, sooner)."""
    if not checked:
        check_tex(font)

    def render(formulas: Sequence[str], scale: float = 1.0) -> list[np.ndarray | None]:
        if not formulas:
            return []
        res = render_formulas(formulas, font=font, dpi=max(1, round(dpi * scale)), workers=workers, warm=warm,
                              checked=True)
        return [np.asarray(r.image, dtype=np.uint8) if r.image is not None else None for r in res]

    def finished() -> None:
        """The caller's burst of runs is over (``core.render_match.choose`` says so once a snip is decided): the
        pool's next programs start loading now instead of ``REFILL_DELAY`` after the last run."""
        if warm is not None:
            warm.start(delay=0.01)  # in a timer thread: the caller's reading goes on meanwhile

    render.finished = finished  # type: ignore[attr-defined]
    return render


# Fonts the render check typesets a snip's readings in by default, tried in turn: Computer Modern (im2latex, most
# papers), then Times and Palatino for snips none of its renderings match (model card, "Render check": on Times /
# Palatino renders +1.3 / +1.9 BLEU against Computer Modern alone, Computer Modern snips unchanged)
CHECK_FONTS: tuple[str, ...] = ("cm", "times", "palatino")
REFILL_DELAY = 0.5  # s after a run before a warm pool starts new programs, unless the caller says sooner that it is done
CHECK_DPI = 200  # the render check's renderings: at the training data's resolution, anti-aliased then binarized
CHECK_ALPHA_BITS = alpha_bits(antialias=True)
# pdflatex spares beyond one per font: a zoomed-in snip's readings are typeset at its scale too, in each font tried
# (2 cores, p50 beam 5 of a Times snip at 1.5x: 915 ms with 1, 827 with 3; docs/benchmarks.md)
CHECK_TEX_EXTRA = 3


def check_renderers(fonts: Sequence[str] = CHECK_FONTS, workers: int = 1) -> list[Renderer]:
    """One ``formula_renderer`` per font of ``fonts`` that TeX Live here can typeset, in order, for the render check
    (``Recognizer.recognize(..., renderer=...)`` tries them in turn); raises ``TexNotFoundError`` when none can.
    They share this process's ``training.warm_render.shared_pool`` with a ghostscript per font (a snip no Computer
    Modern rendering matches is typeset in the other fonts at the same time) and ``CHECK_TEX_EXTRA`` more pdflatex
    than fonts (for a zoomed-in snip's runs at its scale), so a call finds them started (waiting, each pdflatex holds
    ~30 MB of its own memory, each ghostscript ~8 MB; 2 cores, example 04 beam 1 with 3 fonts: 482 ms cold, 363 ms
    with 2 spares, 295 ms with 3)."""
    usable: list[str] = []
    missing: list[TexNotFoundError] = []
    for font in fonts:
        try:
            check_tex(font)
            usable.append(font)
        except TexNotFoundError as exc:
            missing.append(exc)
    if not usable:
        raise missing[0] if missing else TexNotFoundError("no font given for the render check")
    pool = shared_pool(CHECK_DPI, CHECK_ALPHA_BITS, spares=len(usable), tex_spares=len(usable) + CHECK_TEX_EXTRA)
    return [formula_renderer(font=font, dpi=CHECK_DPI, workers=workers, warm=pool, checked=True) for font in usable]


def add_render_check_arguments(parser: argparse.ArgumentParser) -> None:
    """``--render-check`` and ``--render-fonts`` (a list of fonts), as ``latexsnip eval`` and the benches take them;
    ``renderers_for`` makes what they ask for."""
    parser.add_argument("--render-check", action="store_true",
                        help="typeset every hypothesis of every reading, and the best one's spacing variants "
                             "(core.spacing), with TeX (in the --render-fonts) and keep the one that draws the image "
                             "most closely, refined where it draws it nearly (core.render_match, core.variants, as "
                             "the app does; needs TeX Live; best with --beam 5)")
    parser.add_argument("--render-fonts", type=lambda text: text.split(","), default=list(CHECK_FONTS),
                        metavar="FONTS", help="comma-separated fonts the render check typesets the readings in, tried "
                                              f"in turn (default {','.join(CHECK_FONTS)}; each one of: {', '.join(FONTS)})")


def renderers_for(args: argparse.Namespace, workers: int) -> list[Renderer] | None:
    """The renderers of ``add_render_check_arguments``' options (``check_renderers``), None without --render-check."""
    return check_renderers(args.render_fonts, workers=workers) if args.render_check else None


def genuine_samples(
    sample_dir: str | os.PathLike[str], lists: Sequence[str] = ("train.lst", "validate.lst", "test.lst")
) -> list[tuple[str, str]]:
    """(raw formula, image path) of every image of the im2markup sample (formulas.lst, ``lists`` of
    ``idx name basic`` lines, formula_images_processed/) that exists, in the order of ``lists``."""
    with open(os.path.join(sample_dir, "formulas.lst"), encoding="latin-1", newline="\n") as fh:
        raw = fh.read().split("\n")
    out: list[tuple[str, str]] = []
    for lst in lists:
        p = os.path.join(sample_dir, lst)
        if not os.path.isfile(p):
            continue
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 2 or not parts[0].isdigit() or int(parts[0]) >= len(raw):
                    continue
                img = os.path.join(sample_dir, "formula_images_processed", f"{parts[1]}.png")
                if os.path.isfile(img):
                    out.append((raw[int(parts[0])], img))
    return out


def match_genuine(
    sample_dir: str, limit: int | None = None, workers: int = 2, **kwargs: object
) -> dict[str, float]:
    """Render the raw formulas of the im2markup sample and compare with its genuine images.

    ``sample_dir`` holds formulas.lst, train/validate/test.lst (``idx name basic``) and
    formula_images_processed/. For each formula that renders, the ink bounding box (pixels < 128)
    of our processed image is compared with the genuine one: ``exact`` = same width and height,
    ``within1`` = both within 1 px; ``mean_abs`` = mean absolute gray difference over the common
    top-left window (both images have the formula at (4, 4)).
    """
    names = genuine_samples(sample_dir)
    names = names[:limit] if limit else names
    res = render_formulas([f for f, _ in names], workers=workers, **kwargs)  # type: ignore[arg-type]

    def _bbox(a: np.ndarray) -> tuple[int, int] | None:
        ys, xs = np.nonzero(a < 128)
        return (int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)) if ys.size else None

    exact = near = n = 0
    diffs: list[float] = []
    for (_, img), r in zip(names, res, strict=True):
        if r.image is None:
            continue
        g = np.asarray(Image.open(img).convert("L"))
        m = np.asarray(r.image)
        bg, bm = _bbox(g), _bbox(m)
        if bg is None or bm is None:
            continue
        n += 1
        exact += bg == bm
        near += abs(bg[0] - bm[0]) <= 1 and abs(bg[1] - bm[1]) <= 1
        h, w = min(g.shape[0], m.shape[0]), min(g.shape[1], m.shape[1])
        diffs.append(float(np.abs(g[:h, :w].astype(np.float32) - m[:h, :w]).mean()))
    return {
        "pairs": len(names),
        "rendered": n,
        "exact": exact / max(n, 1),
        "within1": near / max(n, 1),
        "mean_abs": float(np.mean(diffs)) if diffs else float("nan"),
    }


def _bench(n: int = 1024, workers: int = 2) -> None:  # pragma: no cover - manual benchmark
    import csv

    with open("/work/shared/im2latex/formulas/val_test.norm.tsv", encoding="utf-8") as fh:
        rows = [
            r["formula_norm"] for r in csv.DictReader(fh, delimiter="\t") if r["split"] == "val"
        ]
    t = time.perf_counter()
    res = render_formulas(rows[:n], workers=workers)
    dt = time.perf_counter() - t
    bad = [r.error for r in res if not r.ok]
    print(f"{n} formulas in {dt:.1f}s = {n / dt:.0f}/s; failures {len(bad)}: {bad[:5]}")


if __name__ == "__main__":  # pragma: no cover
    import sys

    if len(sys.argv) > 2 and sys.argv[1] == "--match":
        print(match_genuine(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None))
    else:
        _bench(
            int(sys.argv[1]) if len(sys.argv) > 1 else 1024,
            int(sys.argv[2]) if len(sys.argv) > 2 else 2,
        )
