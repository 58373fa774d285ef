import pytest

from core.errors import ConfigError
from training.label_style import im2latex_spelling, label_style
from training.train import _parser


@pytest.mark.parametrize(
    ("modern", "im2latex"),
    [
        (r"\mathcal { L } = \mathbf { x } _ { 1 }", r"{ \cal L } = { \bf x } _ { 1 }"),
        (r"\mathcal { A B } ^ { \mathbf { k } }", r"{ \cal A B } ^ { { \bf k } }"),
        (r"\mathbf { \mathcal { F } }", r"{ \bf { \cal F } }"),  # nested: both rewritten
        (r"x \to 0 , \; a \le b \ge c \ne d", r"x \rightarrow 0 , \; a \leq b \geq c \neq d"),
        (r"{ \cal L } \rightarrow \leq", r"{ \cal L } \rightarrow \leq"),  # already im2latex: unchanged
        (r"\mathcal L \mathbf", r"\mathcal L \mathbf"),  # no argument group: left as it is
        (r"\mathcal { L", r"\mathcal { L"),  # unclosed group: left as it is
        (r"\mathrm { d } \top \lefteqn", r"\mathrm { d } \top \lefteqn"),  # only whole tokens
        (r"\overline { \psi } \overline { { Q } } \overline { a b }", r"\overline { { \psi } } \overline { { Q } } \overline { { a b } }"),
        (r"\overline { \mathcal { L } } \overline { { x } y }", r"\overline { { \cal L } } \overline { { { x } y } }"),
    ],
)
def test_im2latex_spelling_rewrites_only_identically_rendering_spellings(modern, im2latex):
    assert im2latex_spelling(modern) == im2latex


def test_label_style_names():
    assert label_style("as-is")(r"\mathcal { L }") == r"\mathcal { L }"
    assert label_style("im2latex")(r"\mathcal { L }") == r"{ \cal L }"
    with pytest.raises(ConfigError, match="unknown label style 'mathpix': choose one of as-is, im2latex"):
        label_style("mathpix")


def test_train_accepts_label_style_and_defaults_to_as_is():
    base = ["--data", "d", "--out", "o"]
    assert _parser().parse_args(base).label_style == "as-is"
    assert _parser().parse_args([*base, "--label-style", "im2latex"]).label_style == "im2latex"
    with pytest.raises(SystemExit):
        _parser().parse_args([*base, "--label-style", "mathpix"])
