"""Measure the LaTeX normalizer against im2latex data.

Usage::

    python3 -m training.normalize_report [--shared /work/shared/im2latex] [--limit N]

Prints the round-trip (identity) rate on the genuine normalized im2latex val/test formulas
and, for the raw harvested corpus, the fraction that normalizes and the fraction whose tokens
all lie in the im2markup vocabulary (+ ``\\mathbb``).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
import time
from collections import Counter
from pathlib import Path

from core.normalize import normalize_is_identity_rate, normalize_latex

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "im2latex"
EXTRA_VOCAB = ("\\mathbb",)


def read_norm_formulas(shared: Path, limit: int | None = None) -> list[str]:
    """The genuine normalized formulas of im2latex val/test (``formula_norm`` column)."""
    csv.field_size_limit(sys.maxsize)
    with open(shared / "formulas" / "val_test.norm.tsv", encoding="utf-8", newline="") as fh:
        rows = [
            r["formula_norm"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]
    return rows[:limit] if limit else rows


def read_harvested(shared: Path, limit: int | None = None) -> list[str]:
    """Raw formulas of the harvested corpus (``formula`` column)."""
    csv.field_size_limit(sys.maxsize)
    path = shared / "extra" / "harvested_formulas.tsv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = [r["formula"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]
    return rows[:limit] if limit else rows


def read_vocab(shared: Path) -> set[str]:
    lines = (
        (shared / "vocab" / "im2markup_latex_vocab.txt").read_text(encoding="utf-8").splitlines()
    )
    return {t for t in lines if t} | set(EXTRA_VOCAB)


def harvested_stats(raw: list[str], vocab: set[str]) -> tuple[float, float, Counter[str]]:
    """(fraction normalized, fraction normalized with all tokens in vocab, OOV token counts)."""
    ok = in_vocab = 0
    oov: Counter[str] = Counter()
    for f in raw:
        norm = normalize_latex(f)
        if norm is None:
            continue
        ok += 1
        missing = [t for t in norm.split(" ") if t not in vocab]
        if missing:
            oov.update(set(missing))
        else:
            in_vocab += 1
    n = max(len(raw), 1)
    return ok / n, in_vocab / n, oov


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    norm = read_norm_formulas(args.shared, args.limit)
    rate = normalize_is_identity_rate(norm)
    print(
        f"identity rate on val_test.norm.tsv: {rate:.4f} ({len(norm)} formulas, "
        f"{time.perf_counter() - t0:.1f}s)"
    )

    t0 = time.perf_counter()
    raw = read_harvested(args.shared, args.limit)
    frac_ok, frac_vocab, oov = harvested_stats(raw, read_vocab(args.shared))
    print(
        f"harvested: {len(raw)} formulas, normalized {frac_ok:.4f}, "
        f"all tokens in im2markup vocab (+\\mathbb) {frac_vocab:.4f} "
        f"({time.perf_counter() - t0:.1f}s)"
    )
    print("most common out-of-vocab tokens (formulas containing them):")
    for tok, n in oov.most_common(30):
        print(f"  {tok}\t{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
