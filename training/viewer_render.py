"""Formula snips as a PDF viewer draws them: ``bench/robustness.py``'s pdf_viewer variants and ``training.font_mix``'s
viewer renderings (``--variants poppler-100,...``).

Each formula is typeset by pdflatex on a page of its own, as ``training.render`` does (the same batches, error
repair and parallel workers), and the PDF is rasterised by another library than the training data's Ghostscript, at a
screen's resolution: poppler's ``pdftoppm`` (Evince, Okular) or MuPDF's ``mutool`` (Zathura, SumatraPDF), with their
own font hinting and anti-aliasing (thinner, lighter strokes than TeX's renders binarized at any coverage). The page
is cut to its ink with a margin, as a hand-dragged snip is. Needs ``pdftoppm`` (Debian: poppler-utils) or ``mutool``
(mupdf-tools): ``make bench-deps``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from PIL import Image

from training.render import VIEWER_PROGRAMS, render_formulas

MARGIN = 5  # px of background kept around the ink
# TeX sizes each page to whole pixels at this resolution, not at the viewer's: the formula's sub-pixel phase then
# varies from page to page at a screen's dpi, as formulas placed anywhere on a real page do
PAGE_DPI = 200


class ViewerMissingError(RuntimeError):
    """The rasteriser a variant needs is not installed."""


def check_viewer(viewer: str) -> None:
    """ViewerMissingError naming the package when ``viewer``'s rasteriser is not installed."""
    if shutil.which(VIEWER_PROGRAMS[viewer]) is None:
        raise ViewerMissingError(f"{VIEWER_PROGRAMS[viewer]} not found: `make bench-deps` installs it "
                                 f"(Debian: {'poppler-utils' if viewer == 'poppler' else 'mupdf-tools'})")


def viewer_snips(formulas: Sequence[str], viewer: str = "poppler", dpi: int = 100, font: str = "cm",
                 workers: int = 2) -> list[Image.Image | None]:
    """One snip per formula as ``viewer`` draws its page at ``dpi`` (grey, ink dark); None where
    ``training.render`` refuses it, TeX cannot typeset it or the rasteriser fails on it."""
    check_viewer(viewer)
    results = render_formulas(formulas, font=font, dpi=dpi, workers=workers, rasteriser=viewer, page_dpi=PAGE_DPI,
                              snip_margin=MARGIN)
    return [r.image for r in results]
