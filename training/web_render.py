"""Formula snips as a web page shows them: ``bench/robustness.py``'s web variants.

Most formulas on the web are typeset by MathJax (Stack Exchange, arXiv's HTML pages, many blogs) or drawn from
its SVG output (Wikipedia): its own TeX fonts, drawn as outlines and anti-aliased by the browser, nothing like
pdflatex + Ghostscript. Each formula is typeset as display math by MathJax 3 in Node.js (``training/mathjax``,
one process for all formulas), its SVG drawn at ``em_px`` CSS pixels per em by librsvg (``rsvg-convert``, the SVG
renderer of GNOME's desktop; browsers anti-alias outlines alike), black on white, and cut to its ink with a margin
as a hand-dragged snip is. 16 px per em is a browser's default font size at 100% zoom, about the glyph size of
the training renders (12 pt at 100 dpi: 16.7 px per em). Needs ``node``, MathJax (``npm ci`` in
``training/mathjax``) and ``rsvg-convert`` (Debian: librsvg2-bin): ``make bench-deps`` installs them.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from training.render import crop_snip, precheck, tex_fixups

MATHJAX_DIR = Path(__file__).with_name("mathjax")
SCRIPT = MATHJAX_DIR / "mathjax_svg.js"
MARGIN = 5  # px of background kept around the ink
EM_PX = 16.0  # CSS px per em: a browser's default font size at 100% zoom
TIMEOUT_S = 600.0

_VIEWBOX = re.compile(r'viewBox="\s*([-\d.]+)\s+([-\d.]+)\s+([\d.]+)\s+([\d.]+)\s*"')
_SIZE = re.compile(r'\s(width|height)="[^"]*"')


class WebRendererMissingError(RuntimeError):
    """Node.js, MathJax or rsvg-convert is not installed."""


def check_web_renderer() -> None:
    """WebRendererMissingError naming what to install when a web variant cannot be drawn here."""
    if shutil.which("node") is None:
        raise WebRendererMissingError("node not found: the web variants need Node.js (Debian: nodejs)")
    if not (MATHJAX_DIR / "node_modules" / "mathjax-full").is_dir():
        raise WebRendererMissingError(f"MathJax not installed in {MATHJAX_DIR}: `make bench-deps` installs it "
                                      "(npm ci there)")
    if shutil.which("rsvg-convert") is None:
        raise WebRendererMissingError("rsvg-convert not found: `make bench-deps` installs it (Debian: librsvg2-bin)")


def mathjax_svgs(formulas: Sequence[str]) -> list[str | None]:
    """MathJax's SVG of each formula as display math; None where it cannot typeset it (an unknown command, text-mode
    material such as ``\\fbox``'s) or ``training.render`` refuses it. The same fixups as for TeX (units of
    ``\\hspace { 1 c m }`` joined)."""
    check_web_renderer()
    fixed = [tex_fixups(f) if precheck(f) is None else None for f in formulas]
    todo = [f for f in fixed if f is not None]
    proc = subprocess.run(["node", str(SCRIPT)], input=json.dumps(todo), capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"MathJax failed: {proc.stderr.strip()[-500:]}")
    results = iter(json.loads(proc.stdout))
    return [None if f is None else next(results).get("svg") for f in fixed]


def svg_pixel_size(svg: str, em_px: float) -> tuple[int, int]:
    """(width, height) in px of MathJax's SVG drawn at ``em_px`` px per em (its viewBox is in 1/1000 em)."""
    m = _VIEWBOX.search(svg)
    if m is None:
        raise ValueError("SVG without a viewBox")
    return max(1, round(float(m.group(3)) / 1000 * em_px)), max(1, round(float(m.group(4)) / 1000 * em_px))


def rasterise_svg(svg: str, em_px: float = EM_PX, margin: int = MARGIN) -> Image.Image | None:
    """The SVG drawn by rsvg-convert at ``em_px`` px per em, black on white, anti-aliased, cut to its ink with
    ``margin`` px around it (mode "L"); None where nothing is drawn."""
    w, h = svg_pixel_size(svg, em_px)
    sized = _SIZE.sub("", svg, count=2).replace("<svg ", f'<svg width="{w}px" height="{h}px" ', 1)
    proc = subprocess.run(["rsvg-convert", "--background-color", "white", "--format", "png"],
                          input=sized.encode(), capture_output=True, timeout=60, check=False)
    if proc.returncode != 0 or not proc.stdout:
        return None
    with Image.open(io.BytesIO(proc.stdout)) as im:
        page = np.asarray(im.convert("L"))
    snip = crop_snip(page, margin)
    return None if snip is None else Image.fromarray(snip, "L")


def web_snips(formulas: Sequence[str], zoom: float = 1.0, workers: int = 2) -> list[Image.Image | None]:
    """One snip per formula as a web page at ``zoom`` (1.0 = 100%) shows MathJax's rendering (grey, ink dark);
    None where MathJax cannot typeset it."""
    svgs = mathjax_svgs(formulas)
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(lambda s: None if s is None else rasterise_svg(s, EM_PX * zoom), svgs))
