"""Variants of a reading for the render check to refine a near match: the same tokens with one detail drawn otherwise.

When the rendering of the reading the render check chose comes close to the snip but is not the same (its distance
is above 0 but within ``core.render_match.MAX_DISTANCE``), the formula is read right but for a detail that moves
what follows it: a spacing width, a delimiter's size, ``\\mathrm`` (no space around it) for ``\\operatorname``, low
dots for centred ones. Validation, beam 5, after the render check: 88 of 735 chosen readings came that close, and
none of them was the gold. ``refinements`` lists every reading that changes one such detail; the render check
(``core.render_match.choose``) keeps one whose rendering is closer, and tries again from there.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.spacing import spacing_variants

# Delimiters a plain (unsized) token pair stands for, openers and closers
OPENERS = frozenset({"(", "[", "\\{", "\\langle", "\\lbrack", "\\lbrace", "\\lfloor", "\\lceil"})
CLOSERS = frozenset({")", "]", "\\}", "\\rangle", "\\rbrack", "\\rbrace", "\\rfloor", "\\rceil"})
# The sizes one delimiter pair is tried at: None plain, "left" \left ... \right, else \big-style commands written
# before each delimiter (``\Big ( ... \Big )`` draws ordinary symbols, ``\Bigl ( ... \Bigr )`` an opening and a
# closing one, spaced otherwise)
SIZES: tuple[str | None, ...] = (None, "left", "big", "Big", "bigg", "Bigg", "bigl", "Bigl", "biggl", "Biggl")
_BIG = {"\\big", "\\Big", "\\bigg", "\\Bigg"}
_BIG_SIDED = {f"\\{s}{side}": side == "l" for s in ("big", "Big", "bigg", "Bigg") for side in "lr"}
# Commands that draw alike but for their spacing or height
SWAPS: dict[str, tuple[str, ...]] = {
    "\\mathrm": ("\\operatorname",),
    "\\operatorname": ("\\mathrm",),
    "\\ldots": ("\\cdots",),
    "\\cdots": ("\\ldots",),
    "\\dots": ("\\cdots",),
}


def sized_delimiter(token: str) -> tuple[str, bool] | None:
    """(delimiter, opens) of one ``\\left(`` / ``\\right)`` token (``\\left.`` too); None for anything else, such as
    ``\\leftarrow`` or ``\\rightarrow``."""
    for prefix, opens in (("\\left", True), ("\\right", False)):
        if token.startswith(prefix) and len(token) > len(prefix) and not token[len(prefix)].isalpha():
            return token[len(prefix) :], opens
    return None


def _delimiter(tokens: Sequence[str], i: int) -> tuple[int, str, bool] | None:
    """At ``tokens[i]``: (tokens it spans, delimiter, opens) of a delimiter written plain, as one ``\\left(`` /
    ``\\right)`` token, or after a ``\\big``-style command; None for anything else."""
    t = tokens[i]
    if t in OPENERS or t in CLOSERS:
        return 1, t, t in OPENERS
    if (sized := sized_delimiter(t)) is not None:
        return 1, *sized
    if i + 1 < len(tokens):
        d = tokens[i + 1]
        if t in _BIG_SIDED:
            return 2, d, _BIG_SIDED[t]
        if t in _BIG and (d in OPENERS or d in CLOSERS):
            return 2, d, d in OPENERS
    return None


def delimiter_pairs(tokens: Sequence[str]) -> list[tuple[int, int, int, int, str, str]]:
    """Matched delimiter pairs: (start, end) of the opening one's tokens, (start, end) of the closing one's, and the
    two delimiters; a closer pairs with the last unclosed opener."""
    stack: list[tuple[int, int, str]] = []
    pairs: list[tuple[int, int, int, int, str, str]] = []
    i = 0
    while i < len(tokens):
        found = _delimiter(tokens, i)
        if found is None:
            i += 1
            continue
        span, delim, opens = found
        if opens:
            stack.append((i, i + span, delim))
        elif stack:
            a, b, left = stack.pop()
            pairs.append((a, b, i, i + span, left, delim))
        i += span
    return sorted(pairs)


def _sized(delim: str, size: str | None, opens: bool) -> list[str] | None:
    """One delimiter written at ``size`` (``SIZES``); None where that cannot be written (a plain null delimiter)."""
    if size is None:
        return None if delim in (".", "/", "<", ">") else [delim]
    if size == "left":
        return [("\\left" if opens else "\\right") + delim]
    if size.endswith("l"):
        return ["\\" + (size if opens else size[:-1] + "r"), delim]
    return ["\\" + size, delim]


def delimiter_variants(tokens: Sequence[str]) -> list[list[str]]:
    """``tokens`` with one matched delimiter pair written at each other size of ``SIZES``."""
    tokens = list(tokens)
    out: list[list[str]] = []
    for a, b, c, d, left, right in delimiter_pairs(tokens):
        for size in SIZES:
            opening, closing = _sized(left, size, True), _sized(right, size, False)
            if opening is None or closing is None:
                continue
            variant = tokens[:a] + opening + tokens[b:c] + closing + tokens[d:]
            if variant != tokens:
                out.append(variant)
    return out


def swap_variants(tokens: Sequence[str]) -> list[list[str]]:
    """``tokens`` with one command of ``SWAPS`` written as its look-alike."""
    tokens = list(tokens)
    return [tokens[:i] + [alt] + tokens[i + 1 :] for i, t in enumerate(tokens) for alt in SWAPS.get(t, ())]


def refinements(tokens: Sequence[str], limit: int = 100) -> list[list[str]]:
    """Every reading that differs from ``tokens`` in one detail (spacing: ``core.spacing``; a delimiter pair's
    size; a ``SWAPS`` look-alike), each once, ``tokens`` itself never; at most ``limit``, spacing first."""
    seen = {tuple(tokens)}
    out: list[list[str]] = []
    for v in spacing_variants(tokens) + delimiter_variants(tokens) + swap_variants(tokens):
        if tuple(v) not in seen:
            seen.add(tuple(v))
            out.append(v)
    return out[:limit]
