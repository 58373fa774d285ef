"""Unmatched ``\\left`` / ``\\right`` completed with an invisible partner.

TeX pairs every ``\\left`` with a ``\\right`` in the same group and refuses a formula where one is missing
("Extra \\right", "Missing \\right. inserted"). The image cannot show the invisible half of a pair: an evaluation
bar is written ``\\left. \\frac { d f } { d x } \\right| _ { x = 0 }``, a system of equations ``\\left\\{
\\begin{array} .. \\end{array} \\right.``, so a reading can lose it and the preview and the render check could not
typeset the reading. Measured on the 6,734 rendered test-subset formulas (stage 11, greedy): TeX refused 78
readings; with arrays fitted (``core.array_columns``) 58, with this too 10 (braces that do not balance, and the
like). On the 91 tall validation formulas (stage 12, greedy): 28, then 11, then 5.

``balance_delimiters`` inserts ``\\left.`` before an unmatched ``\\right``: after the last relation (``=``,
``\\equiv``, ...) that precedes it in its group, else at the group's start; and ``\\right.`` after an unmatched
``\\left``: at the end of its group, before the punctuation that ends it. Where im2latex writes ``\\left.`` in its
validation formulas, 19 of 43 open their group and 7 follow a relation; of its ``\\right.``, 53 of 74 close their
group.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.variants import sized_delimiter

RELATIONS = frozenset(["=", "\\equiv", "\\approx", "\\simeq", "\\sim", "\\cong", "\\neq", "<", ">", "\\leq", "\\geq",
                       "\\ll", "\\gg", "\\propto", "\\rightarrow", "\\to", "\\longrightarrow", "\\Rightarrow", ":="])
# what may stand after an unmatched \left's group content, and stays after the \right. put in for it
CLOSING_PUNCTUATION = frozenset([",", ".", ";", "\\,", "\\;", "\\:", "\\!", "~", "\\", "\\quad", "\\qquad"])


def is_left(token: str) -> bool:
    """``\\left`` + a delimiter as one token (``\\left(``, ``\\left.``; ``core.variants.sized_delimiter``), not an
    arrow or ``\\lefteqn``."""
    return (sized := sized_delimiter(token)) is not None and sized[1]


def is_right(token: str) -> bool:
    """``\\right`` + a delimiter as one token (``\\right)``, ``\\right|``), not an arrow."""
    return (sized := sized_delimiter(token)) is not None and not sized[1]


def balance_delimiters(tokens: Sequence[str]) -> list[str]:
    """``tokens`` (a tokenized formula) with each unmatched ``\\left`` / ``\\right`` given an invisible partner in
    its own group; the same tokens where every one is matched (or the braces themselves do not balance: that is
    no delimiter's doing)."""
    out = list(tokens)
    depth = 0
    for t in out:
        depth += (t == "{") - (t == "}")
        if depth < 0:
            return out
    if depth:
        return out
    _balance_group(out, 0)
    return out


def _balance_group(out: list[str], start: int) -> int:
    """Balances the group whose content starts at ``start`` (and the groups inside it), in place; the index of the
    ``}`` that closes it (``len(out)`` for the whole formula)."""
    opened: list[int] = []
    i = start
    while i < len(out) and out[i] != "}":
        t = out[i]
        if t == "{":
            i = _balance_group(out, i + 1)
        elif is_left(t):
            opened.append(i)
        elif is_right(t):
            if opened:
                opened.pop()
            else:
                at = _left_position(out, start, i)
                out.insert(at, "\\left.")
                i += 1
        i += 1
    while opened:
        left = opened.pop()
        at = i
        while at > left + 1 and out[at - 1] in CLOSING_PUNCTUATION:
            at -= 1
        out.insert(at, "\\right.")
        i += 1
    return i


def _left_position(out: list[str], start: int, right: int) -> int:
    """Where a ``\\left.`` for the unmatched ``\\right`` at ``right`` goes: after the last relation of its group
    before it (outside the groups and ``\\left`` .. ``\\right`` pairs in between), else at the group's start."""
    depth = pairs = 0
    for k in range(right - 1, start - 1, -1):
        t = out[k]
        if t == "}":
            depth += 1
        elif t == "{":
            depth -= 1
        elif depth == 0 and is_right(t):
            pairs += 1
        elif depth == 0 and is_left(t):
            pairs -= 1
        elif depth == 0 and pairs == 0 and t in RELATIONS:
            return k + 1
    return start
