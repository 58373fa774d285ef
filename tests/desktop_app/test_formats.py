import io

import numpy as np
import pytest
from PIL import Image

from desktop_app.formats import FORMAT_LABELS, format_latex, tidy_latex
from desktop_app.preview import render_mathtext
from desktop_app.settings import COPY_FORMATS


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        (r"{ \cal L } = - \frac { 1 } { 4 } F _ { \mu \nu } F ^ { \mu \nu }", r"\mathcal{L}=-\frac{1}{4}F_{\mu\nu}F^{\mu\nu}"),
        (r"\alpha b \, x \ y \mathrm { d i a g } ( a , b )", r"\alpha b\,x\ y\mathrm{diag}(a,b)"),
        (r"\left( { \bf x } \right) \operatorname* { l i m } _ { n \rightarrow \infty }",
         r"\left(\mathbf{x}\right)\operatorname*{lim}_{n\rightarrow\infty}"),
        ("a \\\\ b \\beta 2 x \\", r"a\\b\beta2x"),  # line break kept, trailing control space dropped
        (r"x+1   \gamma", r"x+1\gamma"),  # typed text kept
        (r"{ \calligraphic } \cal", r"{\calligraphic}\cal"),
        (r"| \mathrm { \bf B } |", r"|\mathbf{B}|"),  # the inner switch decides  # only whole old switches after a brace
    ],
)
def test_tidy_latex(raw, tidy):
    assert tidy_latex(raw) == tidy
    assert format_latex(raw, "tidy") == tidy


def _pixels(latex: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(render_mathtext(latex))).convert("L"))


@pytest.mark.parametrize(
    "raw",
    [
        r"{ \cal L } = - \frac { 1 } { 4 } F _ { \mu \nu } F ^ { \mu \nu } + { \bf x } \cdot \nabla",
        r"\int _ { 0 } ^ { \infty } e ^ { - a x } \, d x = \frac { 1 } { a } , \quad a > 0",
        r"\sqrt { \alpha b } \ne \mathrm { d i a g } ( \lambda _ { 1 } , \ldots , \lambda _ { n } )",
    ],
)
def test_tidy_latex_draws_the_same_formula(raw):
    assert np.array_equal(_pixels(raw), _pixels(tidy_latex(raw)))


def test_tidy_is_a_copy_format_the_settings_accept():
    assert "tidy" in FORMAT_LABELS and "tidy" in COPY_FORMATS
