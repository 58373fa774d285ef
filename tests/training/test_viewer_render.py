"""training.viewer_render: formulas drawn as PDF viewers draw them (poppler's pdftoppm, MuPDF's mutool)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from training import viewer_render
from training.viewer_render import MARGIN, ViewerMissingError, crop_to_ink, viewer_snips

needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (make system-deps)")


def test_crop_to_ink_keeps_a_white_margin() -> None:
    page = np.full((50, 80), 255, np.uint8)
    page[10:20, 30:45] = 0
    snip = np.asarray(crop_to_ink(page))
    assert snip.shape == (10 + 2 * MARGIN, 15 + 2 * MARGIN)
    assert (snip[:MARGIN] == 255).all() and (snip[MARGIN : MARGIN + 10, MARGIN : MARGIN + 15] == 0).all()
    assert crop_to_ink(np.full((5, 5), 255, np.uint8)) is None


def test_a_missing_rasteriser_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(viewer_render.shutil, "which", lambda _name: None)
    with pytest.raises(ViewerMissingError, match="mutool not found.*mupdf-tools"):
        viewer_snips(["x"], "mupdf")


@needs_tex
@pytest.mark.parametrize("viewer", ["poppler", "mupdf"])
def test_viewers_draw_anti_aliased_snips(viewer: str) -> None:
    if shutil.which(viewer_render.VIEWERS[viewer]) is None:
        pytest.skip(f"{viewer_render.VIEWERS[viewer]} not installed (make bench-deps)")
    snips = viewer_snips(["x ^ { 2 } + y", r"\nosuchmacro { a }", r"\frac { a } { b }", r"\input { /etc/passwd }"],
                         viewer, dpi=100)
    assert snips[1] is None  # TeX cannot typeset it: that formula alone is missing
    assert snips[3] is None  # refused before TeX, as training.render refuses it
    for snip in (snips[0], snips[2]):
        assert snip is not None and snip.mode == "L"
        gray = np.asarray(snip)
        assert np.unique(gray).size > 16  # anti-aliased, not binarized
        assert 10 < gray.shape[0] < 60 and (gray[:MARGIN] == 255).all()  # about 100 dpi, cropped with a margin


@needs_tex
def test_a_failing_rasteriser_loses_its_snips_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rasteriser that fails (or hangs past its timeout) costs those formulas' snips, not the whole run."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (make bench-deps)")
    real = viewer_render._rasterise
    calls = []

    def flaky(viewer, dpi, work):  # type: ignore[no-untyped-def]
        calls.append(len(calls))
        if len(calls) in (1, 2):  # the batch, then its first formula drawn alone
            raise subprocess.CalledProcessError(1, ["pdftoppm"])
        return real(viewer, dpi, work)

    monkeypatch.setattr(viewer_render, "_rasterise", flaky)
    snips = viewer_snips(["x ^ { 2 }", "y + 1"], "poppler")
    assert snips[0] is None and snips[1] is not None and len(calls) == 3
