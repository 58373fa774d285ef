"""Evaluation metrics, computed the way harvardnlp/im2markup evaluates im2latex-100k.

Text metrics work on token sequences (a formula's tokens are its whitespace-separated pieces, see
:func:`tokenize`):

* :func:`corpus_bleu` -- corpus BLEU-4 exactly as ``multi-bleu.perl`` (one reference per item):
  clipped n-gram matches and hypothesis n-gram counts are summed over the whole corpus, the
  brevity penalty is ``exp(1 - r/c)`` when the hypotheses are shorter (c < r), and the score is 0
  when any n-gram precision is 0. Range 0..100.
* :func:`edit_score` -- ``1 - sum(levenshtein) / sum(max(len_ref, len_hyp))`` (im2markup's
  "Edit Distance" column). Range 0..1.
* :func:`exact_match` -- fraction of items whose token sequences are identical.
* :func:`exact_match_ignoring` -- the same after dropping some tokens from both sides: a
  diagnostic of *why* exact match is missed (with :data:`GROUPING_BRACES` and
  :data:`SPACING_TOKENS`: im2latex's gold keeps each source's own grouping braces and spacing
  commands, which mostly draw nothing or the same image), never a replacement for it.

Image metric (:func:`image_match`): both formulas are rendered, binarized (pixel <= 128 is ink),
and compared as sequences of pixel columns (the shorter image padded with white at the bottom).
The column sequences are aligned by Levenshtein distance; the pair *matches* unless the
alignment holds a replace or delete block spanning 5 or more gold columns (small horizontal
shifts and insertions are tolerated), as im2markup's ``evaluate_image.py``.

A missing or failed prediction is passed as ``None`` (or ``[]``/``""``) and counts as the empty
sequence / an unrenderable image -- never skipped.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from core.render_match import column_ids, levenshtein_matrix
from core.spacing import SPACING

__all__ = [
    "BINARIZE_THRESHOLD",
    "GROUPING_BRACES",
    "SPACING_TOKENS",
    "MAX_GAP_COLUMNS",
    "corpus_bleu",
    "edit_distance",
    "edit_score",
    "exact_match",
    "exact_match_ignoring",
    "image_match",
    "image_match_details",
    "image_match_rate",
    "tokenize",
]

BINARIZE_THRESHOLD = 128  # im2markup: value <= 128 is ink
MAX_GAP_COLUMNS = 5  # a replace/delete block this wide (gold columns) breaks the match

Tokens = Sequence[str]

GROUPING_BRACES = frozenset({"{", "}"})  # not the literal braces \{ \}
# \, \: \; \! ~ \quad \qquad, and "\ " (a backslash and a space: the token "\"; not "\\", a new row)
SPACING_TOKENS = SPACING  # the spacing commands, as the render check rewrites them (core.spacing)


def tokenize(formula: str | Sequence[str] | None) -> list[str]:
    """A formula's token list: whitespace-split string, a token list as is, None -> []."""
    if formula is None:
        return []
    if isinstance(formula, str):
        return formula.split()
    return list(formula)


def _check_lengths(refs: Sequence[Any], hyps: Sequence[Any]) -> None:
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")


# --------------------------------------------------------------------------------------------
# text metrics


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(
    references: Sequence[Tokens | None], hypotheses: Sequence[Tokens | None], max_n: int = 4
) -> float:
    """Corpus BLEU (0..100) as multi-bleu.perl with one reference per hypothesis.

    ``None`` hypotheses (failed predictions) count as empty. Returns 0.0 for an empty corpus,
    an empty hypothesis corpus, or when any n-gram precision (n <= max_n) is 0.
    """
    _check_lengths(references, hypotheses)
    correct = [0] * (max_n + 1)
    total = [0] * (max_n + 1)
    ref_len = 0
    hyp_len = 0
    for ref_raw, hyp_raw in zip(references, hypotheses, strict=True):
        ref = tokenize(ref_raw)
        hyp = tokenize(hyp_raw)
        ref_len += len(ref)
        hyp_len += len(hyp)
        for n in range(1, max_n + 1):
            hyp_counts = _ngrams(hyp, n)
            if not hyp_counts:
                continue
            ref_counts = _ngrams(ref, n)
            total[n] += sum(hyp_counts.values())
            correct[n] += sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
    if ref_len == 0 or hyp_len == 0:
        return 0.0
    log_sum = 0.0
    for n in range(1, max_n + 1):
        if total[n] == 0 or correct[n] == 0:
            return 0.0
        log_sum += math.log(correct[n] / total[n])
    bp = math.exp(1.0 - ref_len / hyp_len) if hyp_len < ref_len else 1.0
    return 100.0 * bp * math.exp(log_sum / max_n)


def edit_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Levenshtein distance between two sequences (unit costs)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def edit_score(refs: Sequence[Tokens | None], hyps: Sequence[Tokens | None]) -> float:
    """1 - sum(token Levenshtein) / sum(max(len_ref, len_hyp)); 1.0 when everything is empty."""
    _check_lengths(refs, hyps)
    dist = 0
    norm = 0
    for r_raw, h_raw in zip(refs, hyps, strict=True):
        r = tokenize(r_raw)
        h = tokenize(h_raw)
        dist += edit_distance(r, h)
        norm += max(len(r), len(h))
    if norm == 0:
        return 1.0
    return 1.0 - dist / norm


def exact_match(refs: Sequence[Tokens | None], hyps: Sequence[Tokens | None]) -> float:
    """Fraction (0..1) of items whose token sequences are equal; 0.0 for an empty corpus."""
    _check_lengths(refs, hyps)
    if not refs:
        return 0.0
    hits = sum(tokenize(r) == tokenize(h) for r, h in zip(refs, hyps, strict=True))
    return hits / len(refs)


def exact_offered(
    refs: Sequence[Tokens | None], hyps: Sequence[Tokens | None], offered: Sequence[Sequence[Tokens]]
) -> float:
    """Fraction (0..1) of items whose reference is the reading or one of the other readings offered for it
    (``Prediction.alternatives``, the result window's menu); 0.0 for an empty corpus."""
    _check_lengths(refs, hyps)
    _check_lengths(refs, offered)
    if not refs:
        return 0.0
    hits = sum(
        tokenize(r) in [tokenize(h), *map(tokenize, more)] for r, h, more in zip(refs, hyps, offered, strict=True)
    )
    return hits / len(refs)


def exact_match_ignoring(
    refs: Sequence[Tokens | None], hyps: Sequence[Tokens | None], ignore: frozenset[str]
) -> float:
    """:func:`exact_match` after removing the tokens in ``ignore`` from both sides."""
    _check_lengths(refs, hyps)

    def kept(x: Tokens | None) -> list[str]:
        return [t for t in tokenize(x) if t not in ignore]

    return exact_match([kept(r) for r in refs], [kept(h) for h in hyps])


# --------------------------------------------------------------------------------------------
# image match


def _ink(img: Any) -> np.ndarray:
    """(H, W) bool ink mask of a PIL image or array (grayscale, RGB or RGBA on white)."""
    arr: np.ndarray
    if hasattr(img, "convert"):  # PIL
        arr = np.asarray(img.convert("L"), dtype=np.uint8)
    else:
        arr = np.asarray(img)
        if arr.ndim == 3:
            if arr.shape[2] == 4:  # composite on white
                alpha = arr[..., 3:4].astype(np.float32) / 255.0
                arr = arr[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
            arr = arr[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        if arr.dtype != np.uint8:
            if np.issubdtype(arr.dtype, np.floating) and arr.size and float(arr.max()) <= 1.0:
                arr = arr * 255.0
            arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {arr.shape}")
    return arr <= BINARIZE_THRESHOLD


def _opcodes(a: np.ndarray, b: np.ndarray) -> list[tuple[str, int, int, int, int]]:
    """Edit blocks (tag, i1, i2, j1, j2) like Levenshtein.opcodes: runs of the same edit type."""
    d = levenshtein_matrix(a[:, None] != b[None, :])
    i, j = len(a), len(b)
    steps: list[tuple[str, int, int]] = []  # (tag, i before step, j before step), reversed
    while i > 0 or j > 0:
        if i > 0 and j > 0 and a[i - 1] == b[j - 1] and d[i, j] == d[i - 1, j - 1]:
            steps.append(("equal", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + 1:
            steps.append(("replace", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            steps.append(("delete", i - 1, j))
            i -= 1
        else:
            steps.append(("insert", i, j - 1))
            j -= 1
    steps.reverse()
    blocks: list[tuple[str, int, int, int, int]] = []
    for tag, si, sj in steps:
        di = 0 if tag == "insert" else 1
        dj = 0 if tag == "delete" else 1
        if blocks and blocks[-1][0] == tag and blocks[-1][2] == si and blocks[-1][4] == sj:
            t, i1, _, j1, _ = blocks[-1]
            blocks[-1] = (t, i1, si + di, j1, sj + dj)
        else:
            blocks.append((tag, si, si + di, sj, sj + dj))
    return blocks


def _match_one(gold: Any, pred: Any) -> bool:
    if gold is None or pred is None:
        return False
    a, b = column_ids(_ink(gold), _ink(pred))
    if len(a) == len(b) and np.array_equal(a, b):
        return True
    for tag, i1, i2, _j1, _j2 in _opcodes(a, b):
        if tag in ("replace", "delete") and i2 - i1 >= MAX_GAP_COLUMNS:
            return False
    return True


def image_match(gold_imgs: Sequence[Any], pred_imgs: Sequence[Any]) -> list[bool]:
    """Per item: does the predicted rendering match the gold rendering (im2markup's rule)?

    Items are PIL images or arrays (grayscale 0..255, ink dark on white); ``None`` for a
    prediction that is missing or did not compile is a miss (so is a ``None`` gold image).
    """
    _check_lengths(gold_imgs, pred_imgs)
    return [_match_one(g, p) for g, p in zip(gold_imgs, pred_imgs, strict=True)]


def image_match_details(
    gold_formulas: Sequence[str],
    pred_formulas: Sequence[str | None],
    workers: int = 2,
    *,
    font: str = "cm",
    dpi: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> list[bool | None]:
    """Render both sides with :mod:`training.render` and match them.

    One entry per item: True/False, or None where the *gold* formula itself does not render
    (im2markup only evaluates items whose gold image exists). Raises TexNotFoundError (a
    LatexSnipError) when TeX/ghostscript are missing.
    """
    from training.render import check_tex, render_formulas

    _check_lengths(gold_formulas, pred_formulas)
    check_tex(font)
    n = len(gold_formulas)
    preds = [" ".join(tokenize(p)) for p in pred_formulas]
    both = list(gold_formulas) + preds
    # Mid-grey threshold (not the training data's bold "any ink" one): stroke widths as
    # pdflatex draws them, so a glyph swap shifts the following columns as little as possible.
    results = render_formulas(both, font=font, dpi=dpi, workers=workers, progress=progress, threshold=128)
    out: list[bool | None] = []
    for k in range(n):
        g, p = results[k], results[n + k]
        if g.image is None:
            out.append(None)
        else:
            out.append(_match_one(g.image, p.image))
    return out


def image_match_rate(
    gold_formulas: Sequence[str],
    pred_formulas: Sequence[str | None],
    workers: int = 2,
    *,
    font: str = "cm",
    dpi: int = 200,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> float:
    """Fraction (0..1) of items whose predicted rendering matches the gold rendering.

    Predictions that are missing or do not compile count as misses. Items whose gold formula
    does not render are left out of the rate (as im2markup) and reported through ``log``
    (default: stderr). Raises TexNotFoundError when TeX is not installed -- callers should catch
    it and skip the metric with its message.
    """
    details = image_match_details(gold_formulas, pred_formulas, workers, font=font, dpi=dpi, progress=progress)
    scored = [d for d in details if d is not None]
    skipped = len(details) - len(scored)
    if skipped:
        msg = f"image match: {skipped} gold formula(s) do not render and are left out"
        (log or (lambda s: print(s, file=sys.stderr)))(msg)
    if not scored:
        return 0.0
    return sum(scored) / len(scored)
