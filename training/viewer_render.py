"""Formula snips as a PDF viewer draws them: ``bench/robustness.py``'s pdf_viewer variants and ``training.font_mix``'s
viewer renderings (``--variants poppler-100,...``).

Each formula is typeset by pdflatex on a page of its own, as ``training.render`` does, and the PDF is
rasterised by another library than the training data's Ghostscript, at a screen's resolution: poppler's
``pdftoppm`` (Evince, Okular) or MuPDF's ``mutool`` (Zathura, SumatraPDF), with their own font hinting and
anti-aliasing (thinner, lighter strokes than TeX's renders binarized at any coverage). The page is cropped
to its ink with a margin, as a hand-dragged snip is. Needs ``pdftoppm`` (Debian: poppler-utils) or
``mutool`` (mupdf-tools): ``make bench-deps``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from training.render import precheck, tex_document, tex_fixups
from training.warm_render import TEX_FILE, pdflatex_command

VIEWERS = {"poppler": "pdftoppm", "mupdf": "mutool"}
MARGIN = 5  # px of background kept around the ink
BATCH = 64  # formulas per pdflatex run
TIMEOUT = 120  # s for one pdflatex or rasteriser run (a batch takes ~1 s)


class ViewerMissingError(RuntimeError):
    """The rasteriser a variant needs is not installed."""


def _rasterise(viewer: str, dpi: int, work: Path) -> list[Path]:
    if viewer == "poppler":
        cmd = ["pdftoppm", "-gray", "-r", str(dpi), "f.pdf", "p"]
    else:
        cmd = ["mutool", "draw", "-q", "-r", str(dpi), "-c", "gray", "-o", "p-%d.pgm", "f.pdf"]
    subprocess.run(cmd, cwd=work, check=True, capture_output=True, timeout=TIMEOUT)
    return sorted(work.glob("p-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def _typeset(formulas: Sequence[str], font: str, work: Path) -> bool:
    """Whether pdflatex (as ``training.render`` runs it) typeset ``formulas`` into ``work``/f.pdf without an error."""
    src, _ = tex_document([tex_fixups(f.strip()) for f in formulas], font)
    (work / TEX_FILE).write_text(src, encoding="utf-8")
    subprocess.run(pdflatex_command(), cwd=work, capture_output=True, timeout=TIMEOUT)
    log = work / "f.log"
    return (work / "f.pdf").exists() and not (log.exists() and "\n! " in log.read_text(encoding="latin-1"))


def crop_to_ink(page: np.ndarray, margin: int = MARGIN) -> Image.Image | None:
    """A grey page (ink dark) cut to its ink plus ``margin`` px of white on each side; None when blank."""
    ink = page < 250
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    crop = page[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    canvas = np.full((crop.shape[0] + 2 * margin, crop.shape[1] + 2 * margin), 255, np.uint8)
    canvas[margin : margin + crop.shape[0], margin : margin + crop.shape[1]] = crop
    return Image.fromarray(canvas, "L")


def check_viewer(viewer: str) -> None:
    """ViewerMissingError naming the package when ``viewer``'s rasteriser is not installed."""
    if shutil.which(VIEWERS[viewer]) is None:
        raise ViewerMissingError(f"{VIEWERS[viewer]} not found: `make bench-deps` installs it "
                                 f"(Debian: {'poppler-utils' if viewer == 'poppler' else 'mupdf-tools'})")


def viewer_snips(formulas: Sequence[str], viewer: str = "poppler", dpi: int = 100, font: str = "cm"
                 ) -> list[Image.Image | None]:
    """One snip per formula as ``viewer`` draws its page at ``dpi``; None where ``training.render.precheck`` refuses
    it, TeX cannot typeset it or the rasteriser fails (a batch with an error is drawn again one formula at a time)."""
    check_viewer(viewer)
    todo = [i for i, f in enumerate(formulas) if precheck(f) is None]  # refused as training.render refuses them
    drawn: list[Image.Image | None] = []
    for start in range(0, len(todo), BATCH):
        drawn += _batch([formulas[i] for i in todo[start : start + BATCH]], viewer, dpi, font, alone=False)
    out: list[Image.Image | None] = [None] * len(formulas)
    for i, snip in zip(todo, drawn, strict=True):
        out[i] = snip
    return out


def _batch(formulas: Sequence[str], viewer: str, dpi: int, font: str, alone: bool) -> list[Image.Image | None]:
    with tempfile.TemporaryDirectory(prefix="latexsnip_viewer_") as tmp:
        work = Path(tmp)
        try:
            if _typeset(formulas, font, work):
                pages = _rasterise(viewer, dpi, work)
                if len(pages) == len(formulas):
                    return [crop_to_ink(np.asarray(Image.open(p).convert("L"))) for p in pages]
        except (subprocess.SubprocessError, OSError):  # a program that failed or hung: that batch is drawn again alone
            pass
    if alone:
        return [None]
    return [im for f in formulas for im in _batch([f], viewer, dpi, font, alone=True)]
