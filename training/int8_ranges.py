"""Measure the int8 ranges of a checkpoint's ResNet body and store them in it, weights untouched.

    python -m training.int8_ranges IN.safetensors --data PACK_OR_DIR --out OUT.safetensors
        [--split train] [-n 200] [--augment on|off] [--check-split val] [--check-n 100]

On a CPU without fast bf16 the app reads with int8 decoder weights (``core.int8``); with these ranges it
also runs the ResNet body in int8 (about half the body's time). Static int8 needs the range of every
activation: this command preprocesses ``-n`` images of ``--split`` spread evenly over the split (as the
app preprocesses a snip; with ``--augment on``, the default, each also once after the training augmentation,
so that anti-aliased, blurred or zoomed snips fall inside the ranges too), runs the fp32 body over them with
histogram observers and writes the chosen ranges into the checkpoint's metadata (``int8_body``). The output's
provenance records where they came from; its metrics stay (the fp32 reading is unchanged). It prints how far
the int8 body's features lie from the fp32 ones on ``--check-n`` images of ``--check-split`` (relative L2
error; 0 = none), or why it could not check.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch

from core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.errors import LatexSnipError


def spread(items: Sequence[bytes], n: int) -> list[bytes]:
    """``n`` items spread evenly over ``items`` (all of them when there are fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def _canvases(ckpt: Checkpoint, images: Sequence[bytes], augmented: bool = False, seed: int = 0) -> list[torch.Tensor]:
    """Each image preprocessed as the app does; with ``augmented`` also once more after the training
    augmentation (other zooms, blur, noise, JPEG, dark mode, margins: snips unlike the clean renders)."""
    import numpy as np
    from PIL import Image

    from core.preprocess import preprocess
    from training.augment import AugmentConfig, augment

    out = []
    for i, b in enumerate(images):
        try:
            im = Image.open(io.BytesIO(b)).convert("L")
            out.append(preprocess(im, ckpt.preprocess))
            if augmented:
                out.append(preprocess(augment(im, AugmentConfig(), np.random.default_rng((seed, i))), ckpt.preprocess))
        except (OSError, ValueError, LatexSnipError):
            continue  # an unreadable or empty image says nothing about ranges
    return out


def relative_error(body: torch.nn.Module, int8_body: torch.nn.Module, canvases: Sequence[torch.Tensor]) -> float:
    """sqrt(sum |int8 - fp32|^2 / sum |fp32|^2) over the body's features of ``canvases``."""
    num = den = 0.0
    with torch.no_grad():
        for c in canvases:
            x = c.unsqueeze(0).float()
            ref = body(x)
            num += float((int8_body(x) - ref).pow(2).sum())
            den += float(ref.pow(2).sum())
    return (num / den) ** 0.5 if den > 0 else 0.0


def with_ranges(ckpt: Checkpoint, ranges: dict[str, list[float]], record: dict[str, object]) -> Checkpoint:
    """``ckpt`` carrying ``ranges`` (``core.int8.calibrate_body``), recorded in its provenance."""
    return replace(ckpt, int8_body=ranges, provenance={**ckpt.provenance, "int8_body": record})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.int8_ranges", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, help="the .safetensors checkpoint to read")
    p.add_argument("--data", required=True,
                   help="images to measure on: a pack (latexsnip data build --pack) or a data directory")
    p.add_argument("--split", default="train", help="split of --data to measure on (default train)")
    p.add_argument("-n", type=int, default=200, help="images to measure on (default 200, ~40 s on 2 cores)")
    p.add_argument("--augment", choices=("on", "off"), default="on",
                   help="also measure on each image after the training augmentation (default on)")
    p.add_argument("--seed", type=int, default=0, help="seed of the augmentation (default 0)")
    p.add_argument("--check-split", default="val", help="split of --data to check the int8 body on (default val)")
    p.add_argument("--check-n", type=int, default=100, help="images to check on (default 100; 0 = no check)")
    p.add_argument("--out", type=Path, required=True, help="the checkpoint to write (may be the input)")
    args = p.parse_args(argv)
    if args.n < 1 or args.check_n < 0:
        p.error("-n must be at least 1 and --check-n at least 0")
    # _load_data: data errors as one-line messages, as for eval and soup
    from core import int8
    from training.evaluate import _load_data

    try:
        ckpt = load_checkpoint(args.input)
        body = ckpt.build_model().encoder.body.eval()
        canvases = _canvases(ckpt, spread(_load_data(args.data, args.split, None)[1], args.n), args.augment == "on",
                             args.seed)
        if not canvases:
            raise LatexSnipError(f"{args.data} [{args.split}]: no readable images to measure on")
        print(f"measuring the body's activations on {len(canvases)} canvases of {args.data} [{args.split}] ...",
              file=sys.stderr, flush=True)
        ranges = int8.calibrate_body(body, canvases)
        record: dict[str, object] = {"data": args.data, "split": args.split, "canvases": len(canvases),
                                     "augment": args.augment == "on", "seed": args.seed,
                                     "torch": torch.__version__.split("+")[0], "engine": "x86 (reduce_range)"}
        if args.check_n:
            try:
                check = _canvases(ckpt, spread(_load_data(args.data, args.check_split, None)[1], args.check_n))
            except LatexSnipError as e:
                print(f"note: not checked ({e})", file=sys.stderr)
                check = []
            q = int8.quantize_body(body, ranges)
            if q is body:
                raise LatexSnipError("this torch cannot run an int8 body (no x86 quantised-kernel engine); "
                                     "nothing written")
            if check:
                err = relative_error(body, q, check)
                record["check"] = {"split": args.check_split, "images": len(check), "relative_error": round(err, 4)}
                print(f"int8 body vs fp32 on {len(check)} images of [{args.check_split}]: relative error {err:.4f}")
        save_checkpoint(args.out, with_ranges(ckpt, ranges, record))
    except LatexSnipError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: int8 ranges of {len(ranges)} activations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
