"""Make the font/anti-aliasing mix pack used to fine-tune `screen.safetensors`.

    python -m training.font_mix --pack data/pack --out data/fontpack [--n 6000]

Renders N random training formulas of PACK in Times, Palatino and anti-aliased (not binarized)
Computer Modern, adds as many Computer Modern images from PACK, copies PACK's val split.
"""

from __future__ import annotations

import argparse
import io
import random
import sys

from PIL import Image

from training.pack import read_pack, write_pack
from training.render import render_formulas

VARIANTS: list[tuple[str, bool]] = [("times", True), ("palatino", True), ("cm", False)]  # (font, binarize)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=6000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
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
    rows += [(formulas[i], Image.open(io.BytesIO(pngs[i]))) for i in rng.sample(range(len(formulas)), len(rows))]
    vf, vp = read_pack(args.pack, "val")
    write_pack(args.out, {"train": rows, "val": [(f, Image.open(io.BytesIO(b))) for f, b in zip(vf, vp, strict=True)]})
    print(f"wrote {args.out}: {len(rows)} training images", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
