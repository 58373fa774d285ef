"""Make the font/anti-aliasing mix pack the shipped weights were fine-tuned on (see the model card).

    python -m training.font_mix --pack data/pack --out data/fontpack [--n 6000] [--base all]

Renders N random training formulas of PACK in Times, Palatino and anti-aliased (not binarized)
Computer Modern, adds as many Computer Modern images from PACK (or, with ``--base all``, every
training image of PACK), copies PACK's val split.
"""

from __future__ import annotations

import argparse
import random
import sys

from PIL import Image

from training.pack import encode_png, read_pack, write_pack
from training.render import render_formulas

VARIANTS: list[tuple[str, bool]] = [("times", True), ("palatino", True), ("cm", False)]  # (font, binarize)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=6000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--base", choices=["same", "all"], default="same",
                   help="Computer Modern images from PACK: as many as the renders (same) or all of them")
    args = p.parse_args(argv)
    formulas, pngs = read_pack(args.pack, "train")
    rng = random.Random(args.seed)
    picked = [formulas[i] for i in rng.sample(range(len(formulas)), args.n)]
    rows: list[tuple[str, Image.Image]] = []
    for font, binarize in VARIANTS:
        results = render_formulas(picked, font=font, dpi=200, workers=args.workers, binarize=binarize)
        fits = [(f, r.image) for f, r in zip(picked, results, strict=True)
                if r.image is not None and r.image.width <= 312 and r.image.height <= 64]
        rows += fits
        print(f"{font} binarize={binarize}: {len(fits)} of {len(picked)} rendered and fit", file=sys.stderr)
    base = rng.sample(range(len(formulas)), len(rows)) if args.base == "same" else range(len(formulas))
    encoded: list[tuple[str, bytes]] = [(f, b) for f, b in ((f, encode_png(im)) for f, im in rows) if b is not None]
    encoded += [(formulas[i], pngs[i]) for i in base]
    vf, vp = read_pack(args.pack, "val")
    write_pack(args.out, {"train": encoded, "val": list(zip(vf, vp, strict=True))}, already_encoded=True)
    print(f"wrote {args.out}: {len(encoded)} training images", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
