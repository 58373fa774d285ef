"""Long formulas: the im2latex formulas that the benchmark subset leaves out.

The HF-like test subset keeps only formulas whose image fits 320x64 (6,763 of the 9,850 test
formulas); a snip of a long equation does not. This takes the formulas of one split of the full
list (``val_test.norm.tsv``) that are *not* in the subset, draws N of them (seeded), renders them
as the training data is rendered (Computer Modern, 200 dpi, binarized) and decodes them greedy
with each weights file. Scores are given per kind: ``wide`` (at most 64 px high, wider than 320)
and ``tall`` (higher than 64 px). Formulas that do not render are left out (counted in ``n_failed``).
``--variant NAME`` draws the same formulas as ``bench/robustness.py``'s variant NAME does (a PDF viewer's
page, a screen snip, MathJax, ...); the kind stays the training rendering's, so each formula is scored in
the same row whatever draws it.

    python bench/long_formulas.py [--split test] [-n 500] [--weights W ...] [--variant pdf_viewer] [--out docs/long_formulas.md]

Choose settings on ``--split val`` (``--list FILE`` writes the drawn formulas;
``training.font_mix --wide REPORT --hold-out FILE`` keeps them out of a training mix); report on ``--split test``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from robustness import VARIANTS, variant_images  # this script's folder, bench/, is on sys.path

from core.errors import LatexSnipError
from core.paths import default_weights_path
from core.preprocess import config_with
from core.recognizer import Recognizer
from training.evaluate import evaluate
from training.pack import encode_png, read_pack, write_pack
from training.viewer_render import ViewerMissingError
from training.web_render import WebRendererMissingError
from training.wide_pack import SHARED, draw_long

SEED = 5


def kind_of(image: Image.Image) -> str:
    return "tall" if image.height > 64 else "wide"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Greedy scores on N long im2latex formulas (not in the 320x64 subset), "
                                 "per kind (wide / tall), for one or more weights files; prints JSON lines, writes Markdown.")
    ap.add_argument("--split", default="test", help="val or test (default test)")
    ap.add_argument("-n", "--n", type=int, default=500, help="formulas drawn (default 500)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"draw seed (default {SEED})")
    ap.add_argument("--tsv", default=f"{SHARED}/val_test.norm.tsv", help="all formulas (formula_idx, split, formula_norm)")
    ap.add_argument("--subset", default=f"{SHARED}/hf_like_subset.tsv", help="the 320x64 subset, left out")
    ap.add_argument("--weights", action="append", default=None, help="weights file (default: the shipped weights); repeat to compare")
    ap.add_argument("--preprocess", metavar="JSON", help="preprocessing overrides for every weights file, e.g. '{\"width\": 768}'")
    ap.add_argument("--out", default=None, help="Markdown table to write (default: none)")
    ap.add_argument("--list", metavar="FILE", help="also write the drawn formulas, one per line (for font_mix --hold-out)")
    ap.add_argument("--write-pack", metavar="DIR", help="also write the rendered formulas as split SPLIT of a pack "
                    "(for `latexsnip eval --data DIR`); without --weights nothing is decoded")
    ap.add_argument("--with-pack", metavar="PACKDIR", help="with --write-pack: put this pack's SPLIT items first "
                    "(e.g. data/pack: the 320x64 subset + every long formula = im2latex's whole split)")
    ap.add_argument("--kind", choices=("all", "wide", "tall"), default="all",
                    help="with --write-pack: write only the drawn formulas of this kind (default all)")
    ap.add_argument("--variant", default="baseline", choices=[v.name for v in VARIANTS],
                    help="draw the formulas as bench/robustness.py's variant of this name (default baseline: as the "
                         "training data is drawn); not with --write-pack")
    ap.add_argument("--workers", type=int, default=2, help="render processes (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        drawn = draw_long(args.tsv, args.subset, args.split, args.n, args.seed)
    except (OSError, KeyError) as e:
        print(f"error: cannot read the formula lists: {e}", file=sys.stderr)
        return 2
    if args.list:
        Path(args.list).write_text("".join(f + "\n" for f in drawn), encoding="utf-8")
    if args.write_pack and args.variant != "baseline":
        print("error: --write-pack writes the training rendering; leave out --variant", file=sys.stderr)
        return 2
    variants = {v.name: v for v in VARIANTS}
    renders: dict[str, list] = {}  # a variant drawn from the training rendering (a PDF viewer's, ...) reuses it
    base, _ = variant_images(variants["baseline"], drawn, args.workers, renders)  # the training rendering: the kind
    images = base
    if args.variant != "baseline":
        try:
            images = variant_images(variants[args.variant], drawn, args.workers, renders)[0]
        except (LatexSnipError, OSError, ViewerMissingError, WebRendererMissingError) as e:
            print(f"error: cannot draw the {args.variant} variant: {e}", file=sys.stderr)
            return 2
    by_kind: dict[str, list[tuple[Image.Image, str]]] = {"wide": [], "tall": []}
    for f, b, im in zip(drawn, base, images, strict=True):
        if b is not None and im is not None:
            by_kind[kind_of(b)].append((im, f))
    failed = sum(b is None or im is None for b, im in zip(base, images, strict=True))
    if args.write_pack:
        rows_out = list(zip(*read_pack(args.with_pack, args.split), strict=True)) if args.with_pack else []
        rows_out += [(f, png) for f, b in zip(drawn, base, strict=True)
                     if b is not None and args.kind in ("all", kind_of(b)) and (png := encode_png(b)) is not None]
        info = write_pack(args.write_pack, {args.split: rows_out}, already_encoded=True,
                          meta={"made_by": "python bench/long_formulas.py " + " ".join(argv if argv is not None else sys.argv[1:])})
        print(f"wrote {args.write_pack}: {info['splits']}", file=sys.stderr)
        if not args.weights:
            return 0
    rows = []
    for w in args.weights or [str(default_weights_path())]:
        rec = Recognizer.load(w, "cpu")
        if args.preprocess:
            rec.preprocess_config = config_with(rec.preprocess_config, args.preprocess)
        for kind, items in by_kind.items():
            if not items:
                continue
            res = evaluate(rec, [im for im, _ in items], [f for _, f in items])
            row = {"weights": w, "kind": kind, "n": len(items), "n_failed": failed, "bleu": round(res["bleu"], 2),
                   "edit_score": round(res["edit_score"], 4), "exact_match": round(res["exact_match"], 4),
                   "ms_per_image": round(res["ms_per_image"], 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        cmd = "python bench/long_formulas.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
        lines = ["# Long formulas", "", "Generated by:", "", "```", cmd, "```", "",
                 f"{args.n} {args.split} formulas not in the 320x64 subset (seed {args.seed}), drawn as `{args.variant}`, "
                 f"{failed} did not render; greedy, CPU.", "",
                 "| weights | kind | n | BLEU | edit score | exact match | ms/image (batch 32) |", "|---|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {Path(r['weights']).name} | {r['kind']} | {r['n']} | {r['bleu']:.2f} | {r['edit_score']:.4f} | "
                  f"{r['exact_match']:.3f} | {r['ms_per_image']:.1f} |" for r in rows]
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
