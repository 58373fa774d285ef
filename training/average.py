"""Average the weights of checkpoints fine-tuned from one another ("model soup").

    python -m training.average A.safetensors B.safetensors [...] --out SOUP.safetensors [--weights 0.5,0.5]

Candidates: the ``best.safetensors`` of runs fine-tuned from one model, and the weights of every
validation of a run trained with ``latexsnip train --keep-val-weights`` (RUN_DIR/val_weights/).
Inputs must share model config, vocabulary and preprocessing (else a one-line error, exit 2).
Float tensors are averaged in fp32 and stored in the first input's dtype; integer tensors
(BatchNorm's step counters) come from the first input. The output's provenance names the inputs
and weights (``steps`` is the largest of theirs; each ancestor is kept once, see training.provenance); ``--metrics`` records what `latexsnip eval` measured on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.errors import CheckpointError
from training.export import parse_metrics
from training.provenance import compact


def check_averageable(ckpts: Sequence[Checkpoint]) -> None:
    """A one-line CheckpointError unless ``ckpts`` share model config, vocabulary, preprocessing and
    tensor names (checkpoints of one model, fine-tuned from one another)."""
    first = ckpts[0]
    for c in ckpts[1:]:
        for what, a, b in (("model config", first.model_config, c.model_config), ("vocabulary", first.vocab, c.vocab),
                           ("preprocessing", first.preprocess, c.preprocess)):
            if a != b:
                raise CheckpointError(f"{c.source}: {what} differs from {first.source}; only checkpoints of one "
                                      "model (fine-tuned from one another) can be averaged")
        if set(c.state_dict) != set(first.state_dict):
            raise CheckpointError(f"{c.source}: tensor names differ from {first.source}")


def average(ckpts: list[Checkpoint], weights: list[float]) -> Checkpoint:
    """The weighted mean of ``ckpts`` (weights are normalised to sum to 1)."""
    if len(ckpts) != len(weights) or not ckpts:
        raise CheckpointError(f"{len(ckpts)} checkpoints but {len(weights)} weights")
    check_averageable(ckpts)
    first = ckpts[0]
    total = sum(weights)
    if total <= 0 or any(w < 0 for w in weights):
        raise CheckpointError(f"weights must be non-negative with a positive sum, got {weights}")
    state: dict[str, torch.Tensor] = {}
    for k, v in first.state_dict.items():
        if not v.is_floating_point():
            state[k] = v.clone()
            continue
        acc = torch.zeros(v.shape, dtype=torch.float32)
        for c, w in zip(ckpts, weights, strict=True):
            acc += c.state_dict[k].float() * (w / total)
        state[k] = acc.to(v.dtype)
    steps = [c.provenance.get("steps") for c in ckpts]
    provenance = compact({
        "steps": max((n for n in steps if isinstance(n, int)), default=0),  # the most-trained member's
        "averaged_from": [{"source": c.source, "weight": w / total, "provenance": c.provenance}
                          for c, w in zip(ckpts, weights, strict=True)],
    })
    return Checkpoint(first.model_config, first.vocab, first.preprocess, state, provenance, {}, "<average>")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.average", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", type=Path, help="two or more .safetensors checkpoints")
    p.add_argument("--out", type=Path, required=True, help="the averaged checkpoint to write")
    p.add_argument("--weights", help="comma-separated weights, one per input (default: equal)")
    p.add_argument("--metrics", help="JSON object of metrics to record (e.g. from `latexsnip eval --json`)")
    args = p.parse_args(argv)
    try:
        weights = [float(w) for w in args.weights.split(",")] if args.weights else [1.0] * len(args.inputs)
    except ValueError:
        print(f"error: --weights {args.weights!r}: expected numbers separated by commas", file=sys.stderr)
        return 2
    try:
        metrics = parse_metrics(args.metrics)
        soup = average([load_checkpoint(x) for x in args.inputs], weights)
        soup.metrics = metrics
        save_checkpoint(args.out, soup)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} (mean of {len(args.inputs)} checkpoints, weights "
          f"{', '.join(f'{w / sum(weights):.2f}' for w in weights)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
