"""Spelling conventions of training labels.

Two spellings of one formula render the same image, so a model can only learn which one to write
from its training labels. ``im2latex`` rewrites each label to the spelling im2latex uses most
(``core.spelling``: the counts, the rules), so that one convention is learned instead of a mix that
depends on the source; ``as-is`` keeps the labels. Only spellings that render identically are rewritten.
Since 2026-12-06 the im2latex style also writes a fraction that stands in a group of its own without that
group and ``\\ast`` as ``*``; the stages trained before used it without those two rules.
"""

from __future__ import annotations

from collections.abc import Callable

from core import spelling
from core.errors import ConfigError


def im2latex_spelling(formula: str) -> str:
    """A normalized (space-separated) formula in im2latex's preferred spelling; same rendering."""
    return " ".join(spelling.im2latex_spelling(formula.split()))


def as_is(formula: str) -> str:
    return formula


LABEL_STYLES: dict[str, Callable[[str], str]] = {"as-is": as_is, "im2latex": im2latex_spelling}


def label_style(name: str) -> Callable[[str], str]:
    """The rewrite called ``name``; a ConfigError naming the choices otherwise."""
    try:
        return LABEL_STYLES[name]
    except KeyError:
        raise ConfigError(f"unknown label style {name!r}: choose one of {', '.join(LABEL_STYLES)}") from None
