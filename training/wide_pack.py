"""A pack of the formulas a checkpoint's canvas rules put on a larger canvas: data for a wide head.

    python -m training.wide_pack --pack data/widemix --weights W --out data/widehead
        [--val-pack data/pack] [--long-val 600 --seed 17] [--canvas {larger,taller,wider}]

A checkpoint whose preprocessing has ``max_width`` > ``width`` gives a formula that would have to
shrink below ``min_fit_scale`` to fit ``width`` a wider canvas, and with ``max_height`` > ``height``
one that would have to shrink so to fit ``height`` a taller one (``core.preprocess``); a joined
checkpoint reads those snips with its wide head (``training.heads``). This keeps exactly those items:
train = the ``--pack``'s train items on a larger canvas (un-augmented), val = the ``--val-pack``'s val
items on a larger canvas plus, with ``--long-val N``, those of N long val formulas (at most 64 px high
unless the checkpoint has the tall rule) (not in
the 320x64 subset, drawn with ``--seed`` as ``bench/long_formulas.py --split val`` draws them,
rendered like the training data). Train on it with ``latexsnip train --init W --freeze-stages 3``
(the body stays W's, so ``training.heads`` can join the result to W's main head). ``--canvas taller``
keeps only the items on a taller canvas: data for a separate tall head (``training.heads --tall``).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.checkpoint import load_checkpoint
from core.errors import LatexSnipError
from core.preprocess import PreprocessConfig
from training.dataset import canvas_sizes
from training.pack import encode_png, read_pack, write_pack

SHARED = "/work/shared/im2latex/formulas"


def long_formulas(all_tsv: str, subset_tsv: str, split: str) -> list[str]:
    """Formulas of ``split`` in ``all_tsv`` whose ``formula_idx`` the subset does not list, in file order."""
    with open(subset_tsv, encoding="utf-8", newline="") as fh:
        kept = {r["formula_idx"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r["split"] == split}
    with open(all_tsv, encoding="utf-8", newline="") as fh:
        return [r["formula_norm"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
                if r["split"] == split and r["formula_idx"] not in kept]


def draw_long(all_tsv: str, subset_tsv: str, split: str, n: int, seed: int) -> list[str]:
    """N long formulas of ``split``, shuffled with ``seed`` (the bench's and --hold-out's draw)."""
    pool = long_formulas(all_tsv, subset_tsv, split)
    random.Random(seed).shuffle(pool)
    return pool[:n]


CANVASES = ("larger", "wider", "taller")


def on_wide_canvas(pngs: Sequence[bytes], pre: PreprocessConfig, workers: int = 1, canvas: str = "larger") -> np.ndarray:
    """Indices of the pack images that ``pre`` puts on a canvas larger than ``pre.height`` x
    ``pre.width`` (``canvas`` "larger": wider or taller, those a wide head reads; "taller": higher than
    ``pre.height``, those a tall head reads; "wider": only wider, those the wide head reads beside a tall head)."""
    if canvas not in CANVASES:
        raise ValueError(f"unknown canvas {canvas!r} ({', '.join(CANVASES)})")
    # the head that reads each canvas (PreprocessConfig.head_for): a wide head alone ("larger") or beside a tall one
    both = ("wide", "tall")
    extra, head = {"larger": (("wide",), "wide"), "wider": (both, "wide"), "taller": (both, "tall")}[canvas]
    return np.flatnonzero([pre.head_for(h, w, extra) == head for h, w in canvas_sizes(pngs, pre, workers)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.wide_pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", required=True, help="pack whose train split is filtered")
    p.add_argument("--weights", type=Path, required=True, help="checkpoint whose preprocessing decides (max_width > width, max_height > height)")
    p.add_argument("--out", required=True, help="pack directory to write (splits train, val)")
    p.add_argument("--val-pack", help="pack whose val split is filtered for val (default: --pack)")
    p.add_argument("--long-val", type=int, default=0, metavar="N", help="also render N long val formulas for val (default 0)")
    p.add_argument("--seed", type=int, default=17, help="draw seed for --long-val (default 17)")
    p.add_argument("--tsv", default=f"{SHARED}/val_test.norm.tsv", help="all formulas (formula_idx, split, formula_norm)")
    p.add_argument("--subset", default=f"{SHARED}/hf_like_subset.tsv", help="the 320x64 subset, left out of --long-val")
    p.add_argument("--workers", type=int, default=2, help="processes for measuring and rendering (default 2)")
    p.add_argument("--canvas", choices=CANVASES, default="larger",
                   help="keep the items on a larger canvas (default), only those on a taller one (data for a tall "
                        "head) or only those on a wider one of the normal height")
    args = p.parse_args(argv)
    try:
        pre = load_checkpoint(args.weights).preprocess
        if not pre.enlarges:
            raise LatexSnipError(f"{args.weights}: its preprocessing never makes a canvas larger than {pre.height}x{pre.width} px "
                                 "(max_height, max_width)")
        formulas, pngs = read_pack(args.pack, "train")
        keep = on_wide_canvas(pngs, pre, args.workers, args.canvas)
        print(f"train: {len(keep)} of {len(pngs)} on a {args.canvas} canvas", file=sys.stderr, flush=True)
        vf, vp = read_pack(args.val_pack or args.pack, "val")
        val = [(vf[i], vp[i]) for i in on_wide_canvas(vp, pre, canvas=args.canvas)]
        n_subset = len(val)
        if args.long_val > 0:
            from training.render import render_formulas

            drawn = draw_long(args.tsv, args.subset, "val", args.long_val, args.seed)
            # without a tall-formula rule only the bench's "wide" kind, rendered at most 64 px high (a tall
            # formula is then shrunk to the canvas height and read by the main head)
            rendered = [(f, png) for f, r in zip(drawn, render_formulas(drawn, workers=args.workers), strict=True)
                        if r.image is not None and (pre.heightens or r.image.height <= 64)
                        and (png := encode_png(r.image)) is not None]
            val += [rendered[i] for i in on_wide_canvas([png for _, png in rendered], pre, canvas=args.canvas)]
        print(f"val: {n_subset} of {len(vp)} pack items + {len(val) - n_subset} long formulas on a {args.canvas} canvas",
              file=sys.stderr)
        info = write_pack(args.out, {"train": [(formulas[i], pngs[i]) for i in keep], "val": val}, already_encoded=True,
                          meta={"made_by": "python -m training.wide_pack " + " ".join(argv if argv is not None else sys.argv[1:])})
    except (LatexSnipError, OSError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {info['splits']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
