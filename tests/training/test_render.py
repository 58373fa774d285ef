"""training.render: TeX -> processed im2latex-style images (needs TeX Live for most tests)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from training import render
from training.render import (
    TexNotFoundError,
    check_tex,
    precheck,
    process_raster,
    render_formulas,
    tex_fixups,
)

needs_tex = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("gs") is None,
    reason="needs pdflatex and ghostscript",
)

GOOD = [
    "x ^ { 2 } + y ^ { 2 } = z ^ { 2 }",
    "\\frac { a } { b }",
    "\\int _ { 0 } ^ { \\infty } e ^ { - x ^ { 2 } } d x = \\frac { \\sqrt { \\pi } } { 2 }",
    "\\sum _ { n = 1 } ^ { N } n = \\frac { N ( N + 1 ) } { 2 }",
    "\\alpha \\beta \\gamma",
    "{ \\cal L } = - \\frac { 1 } { 4 } F _ { \\mu \\nu } F ^ { \\mu \\nu }",
    "\\left( \\begin{array} { c c } { a } & { b } \\\\ { c } & { d } \\\\ \\end{array} \\right)",
    "\\mathbb { R } ^ { n }",
    "\\mathrm { d i a g } ( 1 , 2 )",
    "a \\hspace { 0 . 5 c m } b",
    "\\Big( x \\Big)",
    "\\hat { N } _ { 3 }",
    "\\operatorname { s i n } x",
    "\\psi ^ { \\prime \\prime }",
    "A",
    "\\bar { \\psi } \\gamma ^ { \\mu } \\psi",
]
BAD_TEX = "x + \\undefinedcommandxyz { 2 }"
REJECTED = "\\frac { a } { b"
WIDE = " + ".join(f"x _ {{ {i} }}" for i in range(60))
EMPTY = "\\phantom { x }"


@needs_tex
@pytest.mark.tex
def test_render_end_to_end_and_deterministic() -> None:
    formulas = GOOD[:8] + [BAD_TEX] + GOOD[8:12] + [REJECTED, WIDE, EMPTY] + GOOD[12:]
    res = render_formulas(formulas, workers=2, batch_size=5)
    assert len(res) == len(formulas)
    by = dict(zip(formulas, res, strict=True))
    for f in GOOD + [WIDE]:
        r = by[f]
        assert r.ok and r.error is None, (f, r.error)
        a = np.asarray(r.image)
        assert r.image.mode == "L" and a.dtype == np.uint8
        # 4 px of white around the ink (8 px before the 2x downsampling; Lanczos leaves faint
        # ringing there, as in the genuine images), ink present
        ys, xs = np.nonzero(a < 128)
        assert ys.min() >= 3 and xs.min() >= 3
        assert ys.max() <= a.shape[0] - 4 and xs.max() <= a.shape[1] - 4
        assert a[:2].min() > 200 and a[:, :2].min() > 200
        assert a.min() < 100
    assert (
        by[BAD_TEX].error_kind == "tex_error" and "Undefined control sequence" in by[BAD_TEX].error
    )
    assert by[REJECTED].error_kind == "rejected" and by[REJECTED].image is None
    assert by[EMPTY].error_kind == "empty"
    assert by[WIDE].image.width > 320  # the builder reports it as too_big
    # glyph size of im2latex: 12pt at 200 dpi, halved: a capital A (cap height 8.2pt) is ~12 px high
    ink = np.asarray(by["A"].image) < 128
    assert 11 <= ink.any(axis=1).sum() <= 13
    # same input -> same bytes, whatever the batching and the number of workers
    again = render_formulas(formulas, workers=1, batch_size=64)
    for r1, r2 in zip(res, again, strict=True):
        assert r1.error == r2.error
        if r1.ok:
            assert r1.image.tobytes() == r2.image.tobytes() and r1.image.size == r2.image.size


@needs_tex
@pytest.mark.tex
def test_fonts_available_render() -> None:
    for font in render.available_fonts():
        (r,) = render_formulas(["x ^ { 2 } + \\alpha"], font=font, workers=1)
        assert r.ok, (font, r.error)


def test_check_tex_names_missing_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(TexNotFoundError) as e:
        check_tex()
    msg = str(e.value)
    assert (
        "pdflatex" in msg
        and "gs" in msg
        and "apt-get install" in msg
        and "texlive-latex-base" in msg
    )
    with pytest.raises(TexNotFoundError, match="unknown font"):
        check_tex("comic")


def test_check_tex_names_missing_font_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(render, "_kpsewhich", lambda name: False)
    with pytest.raises(TexNotFoundError, match="apt-get install lmodern"):
        check_tex("lm")


def test_precheck_and_fixups() -> None:
    assert precheck("x ^ { 2 }") is None
    assert precheck("\\{ a \\}") is None
    assert precheck("") is not None
    assert "unbalanced" in (precheck("{ a") or "")
    assert "unbalanced" in (precheck("a }") or "")
    assert "$" in (precheck("a $ b") or "")
    assert "%" in (precheck("a % b") or "")
    assert precheck("\\% \\$ \\#") is None
    assert "forbidden" in (precheck("\\input { x }") or "")
    assert "forbidden" in (precheck("\\end { document }") or "")
    assert precheck("\\begin{array} { c } { a } \\\\ \\end{array}") is None
    assert tex_fixups("a \\hspace { 0 . 7 c m } b") == "a \\hspace {0.7cm} b"
    assert tex_fixups("\\kern - 3 p t x").startswith("\\kern -3pt")
    assert tex_fixups("\\mathrm { e m } { 2 }") == "\\mathrm { e m } { 2 }"


def test_process_raster_geometry() -> None:
    page = np.full((200, 300), 255, np.uint8)
    page[50:90, 100:181] = 0  # 40 x 81 ink box
    out = process_raster(page, binarize=True)
    assert out is not None
    # (81 + 16 -> 98 even) / 2 = 49 wide, (40 + 16) / 2 = 28 high
    assert out.shape == (28, 49)
    ys, xs = np.nonzero(out < 128)
    assert (ys.min(), xs.min()) == (4, 4) and (ys.max(), xs.max()) == (23, 44)
    assert process_raster(np.full((10, 10), 255, np.uint8)) is None


@needs_tex
@pytest.mark.tex
def test_hanging_formula_only_loses_itself() -> None:
    formulas = [
        "a",
        "\\def\\loop{\\loop}\\loop",
        "b ^ { 2 }",
        "\\begin{array} { | c | } { \\hline a } \\\\ \\end{array}",
    ]
    res = render_formulas(formulas, workers=1, timeout=3)
    assert [r.ok for r in res] == [True, False, True, True]
    assert res[1].error_kind == "timeout"


@needs_tex
@pytest.mark.tex
def test_same_phase_whatever_the_neighbours() -> None:
    # the image of a formula does not depend on the other formulas of its batch
    (alone,) = render_formulas(["x = y"], workers=1)
    mixed = render_formulas(
        ["\\int _ { 0 } ^ { 1 } \\frac { a } { b }", "x = y", "y ^ { 2 }"], workers=1
    )
    assert alone.image.tobytes() == mixed[1].image.tobytes()


SAMPLE = "/work/shared/im2latex/sample"


@needs_tex
@pytest.mark.tex
@pytest.mark.skipif(
    not __import__("os").path.isdir(SAMPLE), reason="im2markup sample not available"
)
def test_matches_genuine_im2latex_geometry() -> None:
    m = render.match_genuine(SAMPLE, limit=24, workers=2)
    assert m["rendered"] >= 20 and m["within1"] >= 0.9 and m["mean_abs"] < 10


@needs_tex
@pytest.mark.tex
def test_formula_renderer_feeds_the_render_check() -> None:
    """A snip typeset by the renderer matches its own formula's rendering, column for column, and not a
    misreading of it (core.render_match as the app and `latexsnip eval --render-check` use it)."""
    from core.preprocess import PreprocessConfig
    from core.render_match import MAX_DISTANCE, closest, render_scale, snip_ink

    snip_formula = "x ^ { 2 } + y _ { 1 } = z"
    renderer = render.formula_renderer(workers=1)
    candidates = ["x ^ { 2 } + y _ { 1 } = 2", snip_formula, "x ^ { 2 } + y _ { 1 } = z", BAD_TEX]
    images = renderer(candidates)
    assert images[-1] is None and all(isinstance(a, np.ndarray) and a.dtype == np.uint8 for a in images[:-1])
    assert renderer([]) == []
    snip = renderer([snip_formula])[0]
    best, dists = closest(snip_ink(snip, PreprocessConfig()), images)
    assert best == 1 and dists[1] == 0.0 and dists[2] == 0.0 and dists[3] is None
    assert dists[0] is not None and dists[0] > 0.0
    # a snip typeset 1.5x as large matches no rendering at the training scale, but its own formula's typeset at
    # the scale render_scale measures (the app and the eval typeset the readings again there)
    large = render.formula_renderer(dpi=300, workers=1)([snip_formula])[0]
    ink = snip_ink(large, PreprocessConfig())
    best, dists = closest(ink, images)
    assert best is None and all(d is None or d > MAX_DISTANCE for d in dists)
    scale = render_scale(ink, images)
    assert scale is not None and abs(scale - 1.5) < 0.05
    best, dists = closest(ink, renderer(candidates, scale=scale))
    assert best == 1 and dists[1] is not None and dists[1] <= MAX_DISTANCE
    assert dists[0] is not None and dists[0] > dists[1]


@needs_tex
@pytest.mark.tex
def test_check_renderers_leave_out_fonts_tex_cannot_typeset_and_refuse_when_none_can() -> None:
    renderers = render.check_renderers(["nosuchfont", "cm"], workers=1)
    assert len(renderers) == 1
    assert renderers[0](["x ^ { 2 }"])[0] is not None
    with pytest.raises(render.TexNotFoundError, match="nosuchfont"):
        render.check_renderers(["nosuchfont"])


@needs_tex
@pytest.mark.tex
def test_rendering_while_other_threads_run_forks_no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker process forked while another thread holds a lock can wait on it for ever (the render check's fonts
    run in threads, each rendering): with other threads running, the batches go to threads instead."""
    import threading

    formulas = [f"x ^ {{ {i} }} + y" for i in range(70)]  # two batches
    expected = render_formulas(formulas, workers=2)
    monkeypatch.setattr(render.mp, "get_context", lambda *a: pytest.fail("forked worker processes"))
    out: list[list[render.RenderResult]] = []
    thread = threading.Thread(target=lambda: out.append(render_formulas(formulas, workers=2)))
    thread.start()
    thread.join(120)
    assert out and all(
        a.image is not None and np.array_equal(np.asarray(a.image), np.asarray(b.image))
        for a, b in zip(out[0], expected, strict=True)
    )
