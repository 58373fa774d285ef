"""Spelling conventions: one way to write what several spellings draw the same.

Two spellings of one formula can render the same image, so a model can only learn which one to write
from its training labels, and a reader of pixels can only guess it. The harvested training corpus writes
modern LaTeX (``\\mathcal { L }``, ``\\mathbf { x }``, ``\\to``); im2latex, the hep-th arXiv of the 1990s, mostly
writes the old spellings (``{ \\cal L }``, ``{ \\bf x }``, ``\\rightarrow``). Counted on the 8,308 genuine im2latex
val formulas (per 1,000 formulas): ``\\cal`` 172 / ``\\mathcal`` 23, ``\\bf`` 87 / ``\\mathbf`` 17, ``\\rightarrow``
31 / ``\\to`` 14, ``\\leq`` 11 / ``\\le`` 3, ``\\geq`` 8 / ``\\ge`` 4, ``\\overline { { x } }`` 33 / ``\\overline { x }``
8, ``*`` 33 / ``\\ast`` 7; of its 6,830 fractions 70% stand alone (``\\frac { a } { b }``) and 30% in a group of
their own (``{ \\frac { a } { b } }``, an author's ``{a \\over b}``), which draws the same.

``im2latex_spelling`` rewrites a tokenized formula to the spelling im2latex uses most. ``training.label_style``
applies it to training labels (so that one convention is learned instead of a mix that depends on the source),
and ``core.recognizer`` to the readings of a checkpoint whose preprocessing says ``output_spelling`` "im2latex"
(so that the choices the image cannot show follow that convention even where the model strays from it). Only
spellings that render identically are rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.normalize import COMMANDS_WITH_ARGUMENTS, group_end, is_one_group

# Font commands with an argument -> the old declaration, written inside a group of its own.
_FONT_SWITCHES = {"\\mathcal": "\\cal", "\\mathbf": "\\bf"}
# Commands whose argument im2latex mostly writes in a second pair of braces (`\overline { { x } }`: 80% of
# its \overline, 7% of the harvested ones).
_DOUBLE_BRACED = {"\\overline"}
# Tokens with an identical-looking token that im2latex prefers.
_SYNONYMS = {"\\to": "\\rightarrow", "\\le": "\\leq", "\\ge": "\\geq", "\\ne": "\\neq", "\\ast": "*"}
# Tokens after which a group is an argument (or an array cell, or a column spec), never a group of its own: the
# normalizer's commands with arguments, and scripts, delimiter sizes, the array's own tokens, an infix fraction and
# the other commands that take what follows.
_TAKES_NEXT = COMMANDS_WITH_ARGUMENTS | frozenset(
    ["^", "_", "\\sp", "\\sb", "{", "}", "&", "\\\\", "\\sideset", "\\atop", "\\not", "\\d", "\\pmod",
     "\\begin{array}", "\\end{array}", "\\left", "\\right", "\\middle", "\\big", "\\Big", "\\bigg", "\\Bigg",
     "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\biggl", "\\biggr", "\\Biggl", "\\Biggr", "\\bigm", "\\Bigm",
     "\\label", "\\protect"]
)


def _fraction_group_end(tokens: Sequence[str], i: int, after_own_group: bool) -> int | None:
    """Where the group opened at ``i`` closes when it holds exactly one ``\\frac`` and its two arguments (each a
    group or one token) and is not an argument itself (``after_own_group``: the token before closes such a group,
    which no command takes as its argument); else None."""
    if tokens[i] != "{" or i + 1 >= len(tokens) or tokens[i + 1] != "\\frac":
        return None
    if i > 0 and tokens[i - 1] in _TAKES_NEXT and not (after_own_group and tokens[i - 1] == "}"):
        return None
    end = group_end(tokens, i)
    k = i + 2
    for _ in range(2):
        if end is None or k >= end:
            return None
        k = (group_end(tokens, k) if tokens[k] == "{" else k) or end
        k += 1
    return end if k == end else None


def _im2latex_tokens(tokens: Sequence[str]) -> list[str]:
    out: list[str] = []
    i = 0
    after_own_group = False
    while i < len(tokens):
        tok = tokens[i]
        fraction_end = _fraction_group_end(tokens, i, after_own_group)
        after_own_group = fraction_end is not None
        if fraction_end is not None:  # { \frac a b } -> \frac a b
            out += _im2latex_tokens(tokens[i + 1 : fraction_end])
            i = fraction_end + 1
            continue
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


def im2latex_spelling(tokens: Sequence[str]) -> list[str]:
    """A tokenized formula in im2latex's preferred spelling; the same rendering."""
    return _im2latex_tokens(tokens)


SPELLINGS = ("as-is", "im2latex")


def spelled(tokens: Sequence[str], spelling: str) -> list[str]:
    """``tokens`` in the convention named ``spelling`` (one of ``SPELLINGS``; "as-is" keeps them)."""
    return im2latex_spelling(tokens) if spelling == "im2latex" else list(tokens)
