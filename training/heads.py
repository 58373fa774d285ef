"""Join checkpoints that share a ResNet body into one with a wide head for long (and tall) formulas.

    python -m training.heads MAIN.safetensors [WIDE.safetensors] [--tall TALL.safetensors]
        --out JOINED.safetensors [--metrics JSON]

MAIN reads every snip that fits the preprocessing ``height`` x ``width``; WIDE (a model whose body was
kept fixed while its projection and decoder learned long formulas, ``latexsnip train --freeze-stages 3``
from MAIN or from a descendant with the same body) reads the snips that its canvas rules put on a
wider (``max_width`` > ``width``) or taller (``max_height`` > ``height``) canvas. The output keeps
MAIN's tensors and adds WIDE's head tensors under ``wide.`` (see ``core.checkpoint``); its
preprocessing is WIDE's, which may differ from MAIN's only in the long-formula settings
(``max_width``, ``max_height``, ``min_fit_scale``), so MAIN reads what it always read. The provenance keeps both inputs' (``wide_head``: WIDE's), each shared ancestor once (``training.provenance``).

A head trained before MAIN's last body blocks were trained further (``latexsnip train --train-last-blocks``) is
joined with its own copy of those blocks (``core.checkpoint``): it reads as it did. Any other body difference is
an error.

``--tall TALL`` adds a third head (``tall.``): TALL (trained like WIDE, on the snips put on a taller canvas,
``training.wide_pack --canvas taller``) reads the canvases taller than ``height`` and WIDE only the wider
ones of the normal height. TALL's preprocessing may differ from WIDE's only in ``max_height`` and is the
output's. Without WIDE, MAIN's own wide head is kept (MAIN must have one); without ``--tall``, MAIN's own tall head
(if it has one, with its own body blocks), so a new wide head joins a three-head file without losing the third.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import torch

from core.checkpoint import (
    HEAD_PREFIXES,
    Checkpoint,
    is_head_tensor,
    load_checkpoint,
    save_checkpoint,
)
from core.errors import CheckpointError
from training.export import parse_metrics
from training.provenance import compact

LONG_FORMULA_SETTINGS = {"max_width", "max_height", "min_fit_scale"}


def main_head_only(ckpt: Checkpoint) -> Checkpoint:
    """``ckpt`` without its extra heads (a joined checkpoint's main model)."""
    extra = tuple(HEAD_PREFIXES.values())
    return replace(ckpt, state_dict={k: v for k, v in ckpt.state_dict.items() if not k.startswith(extra)})


def head_only(ckpt: Checkpoint, head: str) -> Checkpoint:
    """A joined checkpoint's ``head`` ("wide" or "tall") as a one-head checkpoint (same body and preprocessing)."""
    tensors = ckpt.head_tensors(head)
    if not tensors:
        raise CheckpointError(f"{ckpt.source}: has no {head} head")
    main = main_head_only(ckpt)
    return replace(main, state_dict={**main.state_dict, **tensors}, source=f"{ckpt.source} ({head} head)")


def join_heads(main: Checkpoint, wide: Checkpoint, tall: Checkpoint | None = None) -> Checkpoint:
    """MAIN with WIDE's head added (and TALL's as the tall head); a one-line CheckpointError when they cannot
    share a body."""
    if main.has_wide_head or main.has_tall_head:
        main = main_head_only(main)
    for extra in (wide, tall):
        if extra is not None and (extra.has_wide_head or extra.has_tall_head):
            raise CheckpointError(f"{extra.source}: already has an extra head; give a one-head checkpoint")
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
    pre = wide.preprocess
    if tall is not None:
        w, t = wide.preprocess.to_dict(), tall.preprocess.to_dict()
        differ = sorted(k for k in w if w[k] != t[k] and k != "max_height")
        if differ:
            raise CheckpointError(f"{tall.source}: preprocessing differs from {wide.source} in {differ} (only max_height may)")
        if not tall.preprocess.heightens:
            raise CheckpointError(f"{tall.source}: its preprocessing never makes a canvas taller than "
                                  f"{tall.preprocess.height} px (max_height), so a tall head would never be used")
        pre = tall.preprocess
    state = dict(main.state_dict)
    dtype = next(v.dtype for v in main.state_dict.values() if v.is_floating_point())
    provenance = dict(main.provenance)
    for name, extra in (("wide", wide), ("tall", tall)):
        if extra is None:
            continue
        own = own_body_tensors(main, extra, name)
        for k, v in extra.state_dict.items():
            if is_head_tensor(k) or k in own:
                state[HEAD_PREFIXES[name] + k] = (v.to(dtype) if v.is_floating_point() else v).clone()  # own storage
        provenance[f"{name}_head"] = {"source": extra.source, "provenance": extra.provenance}
    # the body is MAIN's, so are its int8 ranges (training.int8_ranges); every shared ancestor is kept once
    return Checkpoint(main.model_config, main.vocab, pre, state, compact(provenance), {}, "<joined>", main.int8_body)


def own_body_tensors(main: Checkpoint, extra: Checkpoint, name: str) -> set[str]:
    """The body tensors where ``extra`` differs from ``main``: the extra head keeps its own copy of them. Only whole
    blocks of the body's last stage may differ (MAIN's trained further with ``--train-last-blocks``); any other
    difference raises CheckpointError."""
    if set(main.state_dict) != set(extra.state_dict):
        raise CheckpointError(f"{extra.source}: tensor names differ from {main.source}")
    differ = {k for k, v in main.state_dict.items()
              if not is_head_tensor(k) and not torch.equal(v.float(), extra.state_dict[k].float())}
    last = f"encoder.body.{3 + main.model_config.stages}."
    outside = sorted(k for k in differ if not k.startswith(last))
    if outside:
        raise CheckpointError(f"{extra.source}: the body differs from {main.source} ({outside[0]}); train the {name} "
                              "head with the body fixed (--freeze-stages 3) from MAIN")
    blocks = {k[: k.index(".", len(last)) + 1] for k in differ}  # e.g. encoder.body.6.5.
    return {k for k in main.state_dict if k.startswith(tuple(blocks))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.heads", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("main", type=Path, help="checkpoint that reads the snips that fit the canvas width")
    p.add_argument("wide", type=Path, nargs="?",
                   help="checkpoint (same body) that reads the snips put on a wider or taller canvas "
                        "(default: MAIN's own wide head)")
    p.add_argument("--tall", type=Path, help="checkpoint (same body) that reads the snips put on a taller canvas "
                                             "(default: MAIN's own tall head, if it has one)")
    p.add_argument("--out", type=Path, required=True, help="the joined checkpoint to write")
    p.add_argument("--metrics", help="JSON object of metrics measured on the result (e.g. from `latexsnip eval --json`)")
    args = p.parse_args(argv)
    try:
        metrics = parse_metrics(args.metrics)
        main_ckpt = load_checkpoint(args.main)
        wide = load_checkpoint(args.wide) if args.wide is not None else head_only(main_ckpt, "wide")
        if args.tall is not None:
            tall: Checkpoint | None = load_checkpoint(args.tall)
        else:  # a new wide head must not cost MAIN its tall head
            tall = head_only(main_ckpt, "tall") if main_ckpt.has_tall_head else None
        joined = join_heads(main_ckpt, wide, tall)
        joined.metrics = metrics
        save_checkpoint(args.out, joined)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for head in ("wide", "tall"):
        own = joined.own_body(head)
        if own:
            blocks = sorted({".".join(k.split(".")[2:4]) for k in own})  # encoder.body.6.5.conv1.weight -> 6.5
            print(f"the {head} head keeps its own copy of the body blocks {', '.join(blocks)} ({len(own)} tensors)")
    pre = joined.preprocess
    reader = f"{args.wide}'s head" if args.wide is not None else f"{args.main}'s wide head"
    if joined.has_tall_head:
        tall_reader = f"{args.tall}'s head" if args.tall is not None else f"{args.main}'s tall head"
        print(f"wrote {args.out}: snips on canvases wider than {pre.width} px (up to {pre.max_width}) read by "
              f"{reader}, taller than {pre.height} px (up to {pre.max_height}) by {tall_reader}")
        return 0
    taller = f" or taller than {pre.height} px (up to {pre.max_height})" if pre.heightens else ""
    print(f"wrote {args.out}: snips on canvases wider than {pre.width} px (up to {pre.max_width}){taller} read by {reader}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
