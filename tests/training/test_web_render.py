"""training.web_render: formulas as a web page shows them (MathJax's SVG drawn by librsvg)."""

from __future__ import annotations

import numpy as np
import pytest

from training import web_render
from training.web_render import (
    MARGIN,
    WebRendererMissingError,
    check_web_renderer,
    svg_pixel_size,
    web_snips,
)


def _needs_web_renderer() -> None:
    try:
        check_web_renderer()
    except WebRendererMissingError as e:
        pytest.skip(str(e))


def test_svg_size_follows_the_viewbox_in_thousandths_of_an_em() -> None:
    svg = '<svg style="vertical-align: -0.5ex;" width="9ex" height="2ex" viewBox="0 -750 4000 1000"></svg>'
    assert svg_pixel_size(svg, 16) == (64, 16)
    assert svg_pixel_size(svg, 24) == (96, 24)
    with pytest.raises(ValueError, match="viewBox"):
        svg_pixel_size("<svg></svg>", 16)


def test_missing_tools_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_render.shutil, "which", lambda name: None if name == "node" else "/usr/bin/" + name)
    with pytest.raises(WebRendererMissingError, match="node not found"):
        web_snips(["x"])
    monkeypatch.setattr(web_render.shutil, "which", lambda name: None if name == "rsvg-convert" else "/usr/bin/" + name)
    if (web_render.MATHJAX_DIR / "node_modules" / "mathjax-full").is_dir():
        with pytest.raises(WebRendererMissingError, match="librsvg2-bin"):
            web_snips(["x"])


def test_web_snips_are_anti_aliased_cut_to_their_ink_and_scale_with_zoom() -> None:
    _needs_web_renderer()
    formulas = [r"x ^ { 2 } + \frac { a } { b } \hspace { 1 c m } y", r"\nosuchmacro { a }", r"\input { /etc/passwd }",
                r"\boldmath x", r"x ^ { 2 } + \frac { a } { b } y"]
    snips = web_snips(formulas)
    assert snips[1] is None  # MathJax does not know it: no image rather than its name drawn as text
    assert snips[2] is None  # refused before MathJax, as for TeX
    first, bold, unspaced = snips[0], snips[3], snips[4]
    assert first is not None and bold is not None and unspaced is not None and first.mode == "L"
    a = np.asarray(first)
    assert (a[:MARGIN] == 255).all() and (a[:, -MARGIN:] == 255).all()
    assert a.min() < 60 and len(np.unique(a)) > 8  # dark ink with anti-aliased grays
    assert 16 <= first.height <= 60
    assert first.width - unspaced.width > 25  # \hspace { 1 c m }'s units were joined: 1 cm is ~38 CSS px
    zoomed = web_snips(formulas[:1], zoom=1.5)[0]
    assert zoomed is not None
    assert abs((zoomed.width - 2 * MARGIN) / (first.width - 2 * MARGIN) - 1.5) < 0.05
