"""Print the model card's example-prediction table for chosen test images.

    python bench/card_examples.py --weights resources/weights/default.safetensors --data data/pack \
        [--split test] [--beam 5] [--indices 2652,1235,...]

Input: a weights file and a pack (or any dataset `latexsnip eval` reads) with the split; the
indices are positions in that split (the card's default ten were picked from the first shipped
model's output on 2026-11-25: two exact, eight failures of different kinds; kept fixed so that
cards of later weights can be compared row by row). Output: a Markdown table on stdout (gold,
prediction, token edit distance, confidence), the table the model card shows.
"""

from __future__ import annotations

import argparse
import io
import sys

from PIL import Image

from core.recognizer import Recognizer
from training.dataset import load_samples
from training.metrics import edit_distance, tokenize

CARD_INDICES = "2652,1235,3234,5332,395,593,6727,4389,771,2995"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--indices", default=CARD_INDICES, help="comma-separated positions in the split")
    args = p.parse_args(argv)
    formulas, pngs = load_samples(args.data, args.split, None)
    rec = Recognizer.load(args.weights, device="cpu")
    print("| # | gold | prediction | edit | conf. |")
    print("|---|---|---|---|---|")
    for i in (int(s) for s in args.indices.split(",")):
        pred = rec.recognize(Image.open(io.BytesIO(pngs[i])), beam=args.beam)
        dist = edit_distance(tokenize(formulas[i]), tokenize(pred.latex))
        print(f"| {i} | `{formulas[i]}` | `{pred.latex}` | {dist} | {pred.confidence:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
