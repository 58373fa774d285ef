"""Spelling conventions of training labels.

Two spellings of one formula render the same image, so a model can only learn which one to write
from its training labels. The harvested training corpus writes modern LaTeX (``\\mathcal { L }``,
``\\mathbf { x }``, ``\\to``); im2latex, the hep-th arXiv of the 1990s, mostly writes the old
spellings (``{ \\cal L }``, ``{ \\bf x }``, ``\\rightarrow``). Counted on the 8,308 genuine
im2latex val formulas (per 1,000 formulas): ``\\cal`` 172 / ``\\mathcal`` 23, ``\\bf`` 87 /
``\\mathbf`` 17, ``\\rightarrow`` 31 / ``\\to`` 14, ``\\leq`` 11 / ``\\le`` 3, ``\\geq`` 8 / ``\\ge`` 4,
``\\overline { { x } }`` 33 / ``\\overline { x }`` 8;
in the harvested corpus the other way round. ``im2latex`` rewrites each label to the spelling
im2latex uses most, so that one convention is learned instead of a mix that depends on the
source; ``as-is`` keeps the labels. Only spellings that render identically are rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.errors import ConfigError
from core.normalize import group_end, is_one_group

# Font commands with an argument -> the old declaration, written inside a group of its own.
_FONT_SWITCHES = {"\\mathcal": "\\cal", "\\mathbf": "\\bf"}
# Commands whose argument im2latex mostly writes in a second pair of braces (`\overline { { x } }`: 80% of
# its \overline, 7% of the harvested ones).
_DOUBLE_BRACED = {"\\overline"}
# Tokens with an identical-looking token that im2latex prefers.
_SYNONYMS = {"\\to": "\\rightarrow", "\\le": "\\leq", "\\ge": "\\geq", "\\ne": "\\neq"}


def _im2latex_tokens(tokens: Sequence[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        takes_group = tok in _FONT_SWITCHES or tok in _DOUBLE_BRACED
        end = group_end(tokens, i + 1) if takes_group and i + 1 < len(tokens) and tokens[i + 1] == "{" else None
        if end is None:
            out.append(_SYNONYMS.get(tok, tok))
            i += 1
            continue
        inner = _im2latex_tokens(tokens[i + 2 : end])
        if tok in _FONT_SWITCHES:  # \mathcal { A B } -> { \cal A B }
            out += ["{", _FONT_SWITCHES[tok], *inner, "}"]
        else:  # \overline { x } -> \overline { { x } }
            out += [tok, "{", *(inner if is_one_group(inner) else ["{", *inner, "}"]), "}"]
        i = end + 1
    return out


def im2latex_spelling(formula: str) -> str:
    """A normalized (space-separated) formula in im2latex's preferred spelling; same rendering."""
    return " ".join(_im2latex_tokens(formula.split()))


def as_is(formula: str) -> str:
    return formula


LABEL_STYLES: dict[str, Callable[[str], str]] = {"as-is": as_is, "im2latex": im2latex_spelling}


def label_style(name: str) -> Callable[[str], str]:
    """The rewrite called ``name``; a ConfigError naming the choices otherwise."""
    try:
        return LABEL_STYLES[name]
    except KeyError:
        raise ConfigError(f"unknown label style {name!r}: choose one of {', '.join(LABEL_STYLES)}") from None
