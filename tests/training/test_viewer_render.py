"""training.viewer_render: formulas drawn as PDF viewers draw them (poppler's pdftoppm, MuPDF's mutool)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from training import render, viewer_render
from training.render import crop_snip
from training.viewer_render import MARGIN, ViewerMissingError, viewer_snips

needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (make system-deps)")


def test_a_snip_keeps_a_white_margin() -> None:
    page = np.full((50, 80), 255, np.uint8)
    page[10:20, 30:45] = 0
    page[12, 31] = 128  # grays are kept
    snip = crop_snip(page, MARGIN)
    assert snip is not None and snip.shape == (10 + 2 * MARGIN, 15 + 2 * MARGIN)
    assert (snip[:MARGIN] == 255).all() and snip[MARGIN + 2, MARGIN + 1] == 128
    assert (snip[MARGIN : MARGIN + 10, MARGIN + 2 : MARGIN + 15] == 0).all()
    assert crop_snip(np.full((5, 5), 255, np.uint8), MARGIN) is None


def test_a_missing_rasteriser_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(viewer_render.shutil, "which", lambda _name: None)
    with pytest.raises(ViewerMissingError, match="mutool not found.*mupdf-tools"):
        viewer_snips(["x"], "mupdf")


@needs_tex
@pytest.mark.parametrize("viewer", ["poppler", "mupdf"])
def test_viewers_draw_anti_aliased_snips(viewer: str) -> None:
    if shutil.which(render.VIEWER_PROGRAMS[viewer]) is None:
        pytest.skip(f"{render.VIEWER_PROGRAMS[viewer]} not installed (make bench-deps)")
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
    """A rasteriser that fails (or hangs past its timeout) costs those formulas' snips, not the whole run: the batch
    is drawn again in halves, as training.render repairs a batch."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (make bench-deps)")
    real = render._viewer_pages
    calls = []

    def flaky(opts, work):  # type: ignore[no-untyped-def]
        calls.append(len(calls))
        if len(calls) in (1, 2):  # the batch, then its first half (one formula)
            return None
        return real(opts, work)

    monkeypatch.setattr(render, "_viewer_pages", flaky)
    snips = viewer_snips(["x ^ { 2 }", "y + 1"], "poppler")
    assert snips[0] is None and snips[1] is not None and len(calls) == 3


@needs_tex
def test_a_hanging_rasteriser_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (make bench-deps)")
    real_run = render._run

    def slow(cmd, cwd, timeout):  # type: ignore[no-untyped-def]
        if cmd[0] == "pdftoppm":
            return real_run(["sleep", "30"], cwd, 0.5)
        return real_run(cmd, cwd, timeout)

    monkeypatch.setattr(render, "_run", slow)
    assert viewer_snips(["x ^ { 2 }"], "poppler") == [None]


def test_an_unknown_rasteriser_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rasteriser 'xpdf'"):
        render.render_formulas(["x"], rasteriser="xpdf")
