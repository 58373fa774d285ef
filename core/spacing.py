"""Spacing variants of a reading: the same tokens with one run of spacing commands written at another width.

Spacing commands draw no ink, but they move everything after them, so a rendering shows which width the snip has.
The model often reads a formula right but for its spacing (validation, beam 5, after the render check: 9% of the
readings differ from the gold only there), and its beam hypotheses mostly differ in spellings that draw the same
space (``~`` and ``\\ ``). The render check (``core.render_match``) typesets these variants beside the model's
readings, so the one whose rendering draws the snip's spacing can be kept.

One run of consecutive spacing tokens is rewritten at a time, to each of ``ALTERNATIVES`` (one spelling per width:
``~ ~ ~`` draws what ``\\quad`` draws, so only one of them is tried), and where no spacing stands before the
formula's final comma or full stop, each of ``BEFORE_END`` is put there. Validation, beam 5 (model card,
"Spacing variants"): exact match 48.2% -> 49.0% over the same readings, none lost.
"""

from __future__ import annotations

from collections.abc import Sequence

# Spacing commands as tokens ("\\" is "\ ", the control space)
SPACING = frozenset({"\\,", "\\:", "\\;", "\\!", "\\", "~", "\\quad", "\\qquad"})
# What a run of spacing tokens is rewritten to, widths 0, 3, 4, 5, 6, 18, 36, 6, 10, 15 and -3 mu
ALTERNATIVES: tuple[tuple[str, ...], ...] = (
    (), ("\\,",), ("\\:",), ("\\;",), ("\\",), ("\\quad",), ("\\qquad",), ("\\,", "\\,"), ("\\;", "\\;"),
    ("\\;", "\\;", "\\;"), ("\\!",),
)
# What may stand before a final "," or "." that has no spacing before it
BEFORE_END: tuple[tuple[str, ...], ...] = (("\\,",), ("\\;",), ("\\",), ("\\quad",))


def spacing_runs(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of spacing tokens."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if tokens[i] in SPACING:
            j = i
            while j < len(tokens) and tokens[j] in SPACING:
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def spacing_variants(tokens: Sequence[str]) -> list[list[str]]:
    """The readings ``tokens`` with one spacing run rewritten, or spacing put before a final comma or full stop;
    each once, ``tokens`` itself never, in order of position."""
    tokens = list(tokens)
    out: dict[tuple[str, ...], None] = {}
    for i, j in spacing_runs(tokens):
        for alt in ALTERNATIVES:
            out[tuple(tokens[:i]) + alt + tuple(tokens[j:])] = None
    if len(tokens) > 1 and tokens[-1] in (",", ".") and tokens[-2] not in SPACING:
        for alt in BEFORE_END:
            out[tuple(tokens[:-1]) + alt + (tokens[-1],)] = None
    out.pop(tuple(tokens), None)
    return [list(v) for v in out]
