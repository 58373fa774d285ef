"""Join two checkpoints that share a ResNet body into one with a wide head for long (and tall) formulas.

    python -m training.heads MAIN.safetensors WIDE.safetensors --out JOINED.safetensors [--metrics JSON]

MAIN reads every snip that fits the preprocessing ``height`` x ``width``; WIDE (a model whose body was
kept fixed while its projection and decoder learned long formulas, ``latexsnip train --freeze-stages 3``
from MAIN or from a descendant with the same body) reads the snips that its canvas rules put on a
wider (``max_width`` > ``width``) or taller (``max_height`` > ``height``) canvas. The output keeps
MAIN's tensors and adds WIDE's head tensors under ``wide.`` (see ``core.checkpoint``); its
preprocessing is WIDE's, which may differ from MAIN's only in the long-formula settings
(``max_width``, ``max_height``, ``min_fit_scale``), so MAIN reads what it always read. The provenance keeps both inputs' (``wide_head``: WIDE's).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import torch

from core.checkpoint import (
    WIDE_PREFIX,
    Checkpoint,
    is_head_tensor,
    load_checkpoint,
    save_checkpoint,
)
from core.errors import CheckpointError
from training.export import parse_metrics

LONG_FORMULA_SETTINGS = {"max_width", "max_height", "min_fit_scale"}


def main_head_only(ckpt: Checkpoint) -> Checkpoint:
    """``ckpt`` without a wide head (a joined checkpoint's main model)."""
    return replace(ckpt, state_dict={k: v for k, v in ckpt.state_dict.items() if not k.startswith(WIDE_PREFIX)})


def join_heads(main: Checkpoint, wide: Checkpoint) -> Checkpoint:
    """MAIN with WIDE's head added; a one-line CheckpointError when they cannot share a body."""
    if main.has_wide_head:
        main = main_head_only(main)
    if wide.has_wide_head:
        raise CheckpointError(f"{wide.source}: already has a wide head; give a one-head checkpoint")
    for what, a, b in (("model config", main.model_config, wide.model_config), ("vocabulary", main.vocab, wide.vocab)):
        if a != b:
            raise CheckpointError(f"{wide.source}: {what} differs from {main.source}")
    m, w = main.preprocess.to_dict(), wide.preprocess.to_dict()
    differ = sorted(k for k in m if m[k] != w[k] and k not in LONG_FORMULA_SETTINGS)
    if differ:
        raise CheckpointError(f"{wide.source}: preprocessing differs from {main.source} in {differ} "
                              f"(only {sorted(LONG_FORMULA_SETTINGS)} may differ)")
    if not wide.preprocess.enlarges:
        raise CheckpointError(f"{wide.source}: its preprocessing never makes a canvas larger than {wide.preprocess.height}x"
                              f"{wide.preprocess.width} px (max_height, max_width), so a wide head would never be used")
    if set(main.state_dict) != set(wide.state_dict):
        raise CheckpointError(f"{wide.source}: tensor names differ from {main.source}")
    for k, v in main.state_dict.items():
        if not is_head_tensor(k) and not torch.equal(v.float(), wide.state_dict[k].float()):
            raise CheckpointError(f"{wide.source}: the body differs from {main.source} ({k}); train the wide head "
                                  "with the body fixed (--freeze-stages 3) from MAIN")
    state = dict(main.state_dict)
    dtype = next(v.dtype for v in main.state_dict.values() if v.is_floating_point())
    for k, v in wide.state_dict.items():
        if is_head_tensor(k):
            state[WIDE_PREFIX + k] = v.to(dtype) if v.is_floating_point() else v.clone()
    provenance = {**main.provenance, "wide_head": {"source": wide.source, "provenance": wide.provenance}}
    return Checkpoint(main.model_config, main.vocab, wide.preprocess, state, provenance, {}, "<joined>")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.heads", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("main", type=Path, help="checkpoint that reads the snips that fit the canvas width")
    p.add_argument("wide", type=Path, help="checkpoint (same body) that reads the snips put on a wider or taller canvas")
    p.add_argument("--out", type=Path, required=True, help="the joined checkpoint to write")
    p.add_argument("--metrics", help="JSON object of metrics measured on the result (e.g. from `latexsnip eval --json`)")
    args = p.parse_args(argv)
    try:
        metrics = parse_metrics(args.metrics)
        joined = join_heads(load_checkpoint(args.main), load_checkpoint(args.wide))
        joined.metrics = metrics
        save_checkpoint(args.out, joined)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    pre = joined.preprocess
    taller = f" or taller than {pre.height} px (up to {pre.max_height})" if pre.heightens else ""
    print(f"wrote {args.out}: snips on canvases wider than {pre.width} px (up to {pre.max_width}){taller} "
          f"read by {args.wide}'s head")
    return 0


if __name__ == "__main__":
    sys.exit(main())
