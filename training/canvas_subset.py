"""Write the items of a pack split that preprocessing puts on a taller (or wider) canvas, with their indices.

    python -m training.canvas_subset --pack data/pack --split test --weights resources/weights/default.safetensors \\
        --preprocess '{"tall_fit_scale": 1.0}' --out data/testtallfit1 [--canvas {taller,wider,larger}]

A change to the tall rule (``tall_fit_scale``, the tall head) changes the readings of these snips
only: every other snip keeps its canvas and head. ``--canvas wider`` writes those the wide head reads,
``larger`` both: a new wide head changes the readings of the wider ones and, where a tall snip is also read shrunk
(``tall_also_shrunk``), possibly of the taller ones. Reading the subset again (``latexsnip eval --data
OUT --predictions F``) and putting those readings in place of a whole-split run's (in pack order; meta.json
lists the ``indices``) measures the change on the whole split at a fraction of the cost. The images are
copied as stored; images preprocessing refuses are left out, as reading them would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.checkpoint import dataclass_from, read_metadata
from core.errors import LatexSnipError
from core.preprocess import PreprocessConfig, config_with
from training.data_load import pack_png_to_canvas
from training.pack import read_pack, write_pack
from training.wide_pack import CANVASES, on_wide_canvas


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.canvas_subset", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", required=True, help="pack directory to read")
    ap.add_argument("--split", default="test", help="split to read and write (default test)")
    ap.add_argument("--weights", required=True, help="checkpoint whose preprocessing decides the canvas")
    ap.add_argument("--preprocess", default="", metavar="JSON",
                    help="overrides of that preprocessing, as `latexsnip eval --preprocess`")
    ap.add_argument("--canvas", choices=CANVASES, default="taller",
                    help="the items on a taller canvas (default: the tall head's), a wider one of the normal height "
                         "(the wide head's) or either (larger)")
    ap.add_argument("--out", required=True, help="pack directory to write (the one split; meta.json has 'indices')")
    args = ap.parse_args(argv)
    try:
        cfg = dataclass_from(PreprocessConfig, read_metadata(args.weights).get("preprocess"), "preprocess",
                             Path(args.weights))
        cfg = config_with(cfg, args.preprocess)
        formulas, pngs = read_pack(args.pack, args.split)
        # measured on the images as `latexsnip eval` reads a pack (hub-style, on the 320x64 canvas), not as stored
        keep = [int(i) for i in on_wide_canvas([pack_png_to_canvas(png) for png in pngs], cfg, canvas=args.canvas)]
        note = f"{args.pack} {args.split} items on a {args.canvas} canvas with {args.weights}'s preprocessing {args.preprocess}"
        write_pack(args.out, {args.split: [(formulas[i], pngs[i]) for i in keep]}, already_encoded=True,
                   meta={"note": note.strip(), "indices": keep})
    except LatexSnipError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {len(keep)} of {len(pngs)} {args.split} items on a {args.canvas} canvas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
