"""core.spelling: spellings that draw the same, written the way im2latex writes them most."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

import core.recognizer as recognizer_module
from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import ConfigError
from core.preprocess import PreprocessConfig, config_with
from core.recognizer import Recognizer
from core.spelling import SPELLINGS, im2latex_spelling, spelled
from tests.core.helpers import draw


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
        (r"a \ast b ^ { \ast }", r"a * b ^ { * }"),
    ],
)
def test_im2latex_spelling_rewrites_only_identically_rendering_spellings(modern: str, im2latex: str) -> None:
    assert " ".join(im2latex_spelling(modern.split())) == im2latex


@pytest.mark.parametrize(
    ("grouped", "im2latex"),
    [
        # a fraction in a group of its own (an author's {a \over b}) stands alone
        (r"R = { \frac { a } { b } } { \frac 1 2 } c", r"R = \frac { a } { b } \frac 1 2 c"),
        (r"{ \frac { \mathcal { L } } { { \frac { x } { y } } } } ^ { 2 }", r"\frac { { \cal L } } { { \frac { x } { y } } } ^ { 2 }"),
        (r"\left( { \frac { a } { b } } \right)", r"\left( \frac { a } { b } \right)"),
        # but not where the group is an argument, a second brace pair, an array cell or more than the fraction
        (r"\sqrt { \frac { a } { b } } x ^ { \frac 1 2 } \hat { \frac a b }", r"\sqrt { \frac { a } { b } } x ^ { \frac 1 2 } \hat { \frac a b }"),
        (r"\overline { { \frac a b } } { { \frac a b } }", r"\overline { { \frac a b } } { { \frac a b } }"),
        (r"\begin{array} { c } { \frac a b } \\ { \frac c d } & { \frac e f } \end{array}",
         r"\begin{array} { c } { \frac a b } \\ { \frac c d } & { \frac e f } \end{array}"),
        (r"{ \frac a b c } { \frac { a } } { \frac", r"{ \frac a b c } { \frac { a } } { \frac"),
    ],
)
def test_a_fraction_in_a_group_of_its_own_is_written_without_it(grouped: str, im2latex: str) -> None:
    assert " ".join(im2latex_spelling(grouped.split())) == im2latex


def test_spelled_by_name() -> None:
    tokens = [r"{", r"\frac", r"a", r"b", r"}", r"\ast", r"\mathcal", r"{", r"L", r"}"]
    assert spelled(tokens, "as-is") == tokens and spelled(tokens, "as-is") is not tokens
    assert spelled(tokens, "im2latex") == [r"\frac", r"a", r"b", r"*", r"{", r"\cal", r"L", r"}"]
    assert SPELLINGS == ("as-is", "im2latex")
    assert im2latex_spelling(im2latex_spelling(tokens)) == im2latex_spelling(tokens)


def _reader(weights: Path, **settings: object) -> Recognizer:
    rec = Recognizer.load(weights, device="cpu", int8=False)
    rec.preprocess_config = dataclasses.replace(rec.preprocess_config, retry_glyph_heights=(), **settings)  # type: ignore[arg-type]
    return rec


def test_the_kept_reading_is_written_in_the_checkpoints_spelling(tiny_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = draw("x + 1")
    plain = _reader(tiny_weights).recognize(image)
    respelled = [*plain.tokens, plain.tokens[0]]  # what a (fake) convention writes instead
    asked: list[str] = []

    def fake(tokens: Sequence[str], spelling: str) -> list[str]:
        asked.append(spelling)
        return list(respelled) if spelling == "im2latex" else list(tokens)

    monkeypatch.setattr(recognizer_module, "spelled", fake)
    again = _reader(tiny_weights).recognize(image)
    assert (again.latex, again.score) == (plain.latex, pytest.approx(plain.score)) and set(asked) == {"as-is"}
    pred = _reader(tiny_weights, output_spelling="im2latex").recognize(image)
    assert pred.tokens == respelled and pred.latex == " ".join(respelled)
    # the model held to the new tokens: a probability and an attention map per token shown
    assert len(pred.token_probs) == len(respelled) and pred.attention is not None and pred.attention.shape[0] == len(respelled)
    assert pred.token_probs[: len(plain.tokens)] == pytest.approx(plain.token_probs, abs=1e-3)
    assert pred.score != pytest.approx(plain.score)
    assert pred.first_choice is None  # the model's own first choice, respelled, is the same reading


def test_output_spelling_is_a_checked_name(tiny_weights: Path, tmp_path: Path) -> None:
    assert config_with(PreprocessConfig(), '{"output_spelling": "im2latex"}').output_spelling == "im2latex"
    assert PreprocessConfig().output_spelling == "as-is"
    for bad in ('{"output_spelling": "mathpix"}', '{"output_spelling": 1}'):
        with pytest.raises(ConfigError, match="output_spelling"):
            config_with(PreprocessConfig(), bad)
    ckpt = load_checkpoint(tiny_weights)
    save_checkpoint(tmp_path / "s.safetensors",
                    dataclasses.replace(ckpt, preprocess=dataclasses.replace(ckpt.preprocess, output_spelling="im2latex")))
    assert load_checkpoint(tmp_path / "s.safetensors").preprocess.output_spelling == "im2latex"
