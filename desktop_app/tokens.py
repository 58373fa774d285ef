"""Pure helpers relating a prediction's tokens to positions in the (possibly edited) text."""

from __future__ import annotations

LOW_PROB = 0.5


def token_spans(text: str, tokens: list[str]) -> list[tuple[int, int] | None]:
    """(start, end) of each token in ``text``, found left to right; None once a token is missing.

    Tokens are matched in order, so after the user edits the text the spans before the edit stay
    right and the rest are found again where they still occur in sequence.
    """
    spans: list[tuple[int, int] | None] = []
    pos = 0
    for tok in tokens:
        if not tok:
            spans.append(None)
            continue
        i = text.find(tok, pos)
        # only accept a match nearby so an edit does not drag highlights across the formula
        if i < 0 or (i - pos) > max(8, 2 * len(tok) + 4):
            spans.append(None)
            continue
        spans.append((i, i + len(tok)))
        pos = i + len(tok)
    return spans


def low_prob_spans(
    text: str, tokens: list[str], probs: list[float], threshold: float = LOW_PROB
) -> list[tuple[int, int, float]]:
    out = []
    for span, p in zip(token_spans(text, tokens), probs, strict=False):
        if span is not None and p < threshold:
            out.append((span[0], span[1], p))
    return out


def token_at(text: str, tokens: list[str], pos: int) -> int | None:
    for i, span in enumerate(token_spans(text, tokens)):
        if span is not None and span[0] <= pos < span[1]:
            return i
    return None
