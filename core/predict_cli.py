"""`latexsnip predict`: image files -> one LaTeX line each."""

from __future__ import annotations

import argparse
import json
import sys

from core.errors import LatexSnipError
from core.paths import default_weights_path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="latexsnip predict",
        description="Recognise formula images. Input: image files (PNG, JPEG, ...). Output on stdout: one "
        "line per image, the LaTeX (or with --json an object {image, latex, score, ms}). Unreadable images "
        "get an error line on stderr; the others still run; exit status 1 if any failed.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--weights", help=f"checkpoint (.safetensors); default {default_weights_path()}")
    p.add_argument("--beam", type=int, default=1, help="beam width (1 = greedy)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--no-reread", action="store_true",
                   help="read each image once, even one read unsure that the weights would read again at other "
                   "glyph heights (faster, a little less accurate)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    weights = args.weights or default_weights_path()
    if not args.weights and not default_weights_path().is_file():
        print(f"latexsnip predict: no default weights at {weights}; train a model or pass --weights FILE",
              file=sys.stderr)
        return 2
    from core.recognizer import Recognizer

    try:
        rec = Recognizer.load(weights, device=args.device)
    except LatexSnipError as e:
        print(f"latexsnip predict: {e}", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        try:
            pred = rec.recognize(path, beam=args.beam, reread_unsure=not args.no_reread)
        except LatexSnipError as e:
            print(f"{path}: {e}" if not str(e).startswith(path) else str(e), file=sys.stderr)
            failed += 1
            continue
        if args.json:
            print(json.dumps({"image": path, **pred.to_json()}), flush=True)
        else:
            print(pred.latex, flush=True)
    return 1 if failed else 0
