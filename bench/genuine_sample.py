"""The shipped weights on genuine im2latex images: im2markup's own renderings, not ``training.render``'s.

Every test, validation and robustness image of this project was made by ``training.render`` (the README of
``../shared/im2latex`` explains why); the only images made by im2latex's own pipeline (pdflatex, then ImageMagick
and its crop / pad / downsample) are the 1,112 of the official sample (``sample/formula_images_processed``, with
raw formulas in ``sample/formulas.lst``). This reads them with the shipped weights and scores the readings
against the formulas in im2latex's token form (``core.normalize``). 1,000 of the sample's formulas are from
im2latex's train split, which this project never had (docs/data.md); the 100 of ``validate.lst`` may be among the
im2latex val formulas the training mixes held (rendered by ``training.render``, never these images).

``--render-check`` also typesets every candidate reading (``core.render_match``); the JSON then gives the
same readings scored as the model alone chooses among them (``without_render_check``): a render check that
only worked on ``training.render``'s own images would change nothing here.

    python bench/genuine_sample.py [-n 1112] [--beam 5] [--render-check] [--weights W] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from core.errors import LatexSnipError
from core.int8 import int8_flag
from core.normalize import normalize_latex
from core.paths import default_weights_path
from core.preprocess import config_with
from core.recognizer import Recognizer
from training.evaluate import evaluate
from training.render import add_render_check_arguments, genuine_samples, renderers_for

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "im2latex" / "sample"


def sample_items(root: Path) -> list[tuple[Path, str]]:
    """(image, normalised formula) of every sample image whose formula normalises, test, validation and train
    lists in that order."""
    pairs = genuine_samples(root, ("test.lst", "validate.lst", "train.lst"))
    return [(Path(png), norm) for raw, png in pairs if (norm := normalize_latex(raw))]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Score weights on im2latex's genuine sample images (JSON on stdout).")
    ap.add_argument("-n", type=int, default=0, help="first N images (default: all)")
    ap.add_argument("--sample", type=Path, default=SAMPLE, help=f"im2markup sample folder (default {SAMPLE})")
    ap.add_argument("--weights", default=str(default_weights_path()))
    ap.add_argument("--beam", type=int, default=1, help="beam width (default 1 = greedy)")
    add_render_check_arguments(ap)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--int8", choices=("auto", "on", "off"), default="auto")
    ap.add_argument("--preprocess", metavar="JSON",
                    help="JSON overrides of the weights' preprocessing for this run only, e.g. "
                    "'{\"solid_ink\": 0}' (as `latexsnip eval --preprocess`)")
    args = ap.parse_args(argv)
    if not (args.sample / "formulas.lst").is_file():
        print(f"no im2markup sample at {args.sample}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    items = sample_items(args.sample)
    if args.n:
        items = items[: args.n]
    renderer = renderers_for(args, workers=1)
    try:
        rec = Recognizer.load(args.weights, "cpu", int8_flag(args.int8))
        rec.preprocess_config = config_with(rec.preprocess_config, args.preprocess or "")
    except LatexSnipError as e:
        ap.error(str(e))
    images = [Image.open(p).convert("L") for p, _ in items]
    res = evaluate(rec, images, [f for _, f in items], beam=args.beam, batch=16, renderer=renderer)
    keys = ("n", "bleu", "edit_score", "exact_match", "ms_per_image", "failed", "render_check_changed",
            "without_render_check")
    print(json.dumps({"weights": args.weights, "beam": args.beam, "render_check": renderer is not None,
                      **{k: res[k] for k in keys if k in res}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
