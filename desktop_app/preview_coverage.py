"""Measure how many im2latex test formulas the preview renders.

Usage:
    python -m desktop_app.preview_coverage [--tsv PATH] [--split test] [--backend tex|mathtext]
                                           [--limit N] [--jobs N] [--failures OUT.tsv]

Input: a TSV with a header holding at least the columns ``split`` and ``formula_norm``
(default: /work/shared/im2latex/formulas/hf_like_subset.tsv, or $LATEXSNIP_COVERAGE_TSV).
Every formula of the chosen split goes through exactly the app's render path
(``desktop_app.preview.render_png``); a formula counts as covered when a non-empty image
comes back. Prints the coverage and writes the failures with their readable error messages.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DEFAULT_TSV = "/work/shared/im2latex/formulas/hf_like_subset.tsv"

_WORKDIR: Path | None = None


def _render_one(args: tuple[int, str, str]) -> tuple[int, str | None]:
    global _WORKDIR
    from desktop_app.preview import RenderError, render_png

    idx, latex, backend = args
    if backend == "tex" and _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="latexsnip-cov-"))
    try:
        render_png(latex, backend, dpi=100, workdir=_WORKDIR)
    except RenderError as exc:
        return idx, str(exc)
    except Exception as exc:  # a crash counts as a failure too
        return idx, f"{type(exc).__name__}: {exc}"
    return idx, None


def read_formulas(tsv: Path, split: str) -> list[str]:
    csv.field_size_limit(10**7)
    with tsv.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            r["formula_norm"] for r in rows if r.get("split") == split and r.get("formula_norm")
        ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--tsv", type=Path, default=Path(os.environ.get("LATEXSNIP_COVERAGE_TSV", DEFAULT_TSV))
    )
    ap.add_argument("--split", default="test")
    ap.add_argument("--backend", choices=["tex", "mathtext", "auto"], default="auto")
    ap.add_argument("--limit", type=int, default=0, help="only the first N formulas (0: all)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--failures", type=Path, default=None, help="write failing formulas + messages here"
    )
    a = ap.parse_args(argv)

    from desktop_app.preview import choose_backend

    backend = choose_backend(a.backend)
    if not a.tsv.exists():
        print(f"error: formula file {a.tsv} not found", file=sys.stderr)
        return 2
    formulas = read_formulas(a.tsv, a.split)
    if a.limit:
        formulas = formulas[: a.limit]
    if not formulas:
        print(f"error: no formulas with split={a.split!r} in {a.tsv}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    fails: list[tuple[int, str]] = []
    jobs = [(i, f, backend) for i, f in enumerate(formulas)]
    if backend == "mathtext" or a.jobs <= 1:
        results = map(_render_one, jobs)
        for idx, err in results:
            if err:
                fails.append((idx, err))
    else:
        with ProcessPoolExecutor(max_workers=a.jobs) as ex:
            for idx, err in ex.map(_render_one, jobs, chunksize=8):
                if err:
                    fails.append((idx, err))
    dt = time.perf_counter() - t0
    n = len(formulas)
    ok = n - len(fails)
    print(
        f"backend={backend} split={a.split} formulas={n} rendered={ok} failed={len(fails)} "
        f"coverage={100.0 * ok / n:.2f}% time={dt:.1f}s ({1000 * dt / n:.0f} ms/formula wall)"
    )
    if a.failures:
        with a.failures.open("w", encoding="utf-8") as f:
            f.write("index\terror\tformula\n")
            for idx, err in fails:
                f.write(f"{idx}\t{err}\t{formulas[idx]}\n")
        print(f"failures written to {a.failures}")
    from collections import Counter

    for msg, c in Counter(e for _, e in fails).most_common(8):
        print(f"  {c:5d}  {msg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
