import pytest

from core.errors import ConfigError
from training.label_style import im2latex_spelling, label_style
from training.train import _parser


def test_im2latex_label_style_is_core_spelling_on_a_formula_string():
    # the rules themselves: tests/core/test_spelling.py
    assert im2latex_spelling(r"\mathcal { L } = { \frac { 1 } { 2 } } a \ast b") == r"{ \cal L } = \frac { 1 } { 2 } a * b"


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
