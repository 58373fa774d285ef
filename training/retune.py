"""Rewrite a checkpoint's preprocessing settings, weights untouched.

    python -m training.retune IN.safetensors --preprocess '{"glyph_height": 10.5}' --out OUT.safetensors
        [--why TEXT] [--metrics JSON]

Preprocessing travels inside the checkpoint, so settings chosen after training (e.g. the glyph
height the model reads best, picked on the validation split with `latexsnip eval --preprocess`)
are made permanent here. The output's provenance keeps the input's and records what changed
(``retuned``: previous and new values, ``why``); ``--metrics`` records what `latexsnip eval`
measured on the result (else the input's metrics are dropped: they no longer describe it).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from core.checkpoint import Checkpoint, check_heads_used, load_checkpoint, save_checkpoint
from core.errors import LatexSnipError
from core.preprocess import config_with
from training.export import parse_metrics


def retune(ckpt: Checkpoint, overrides: str, why: str = "") -> Checkpoint:
    """``ckpt`` with the preprocessing overrides (JSON object) applied and recorded in its provenance."""
    new = config_with(ckpt.preprocess, overrides)
    old_d, new_d = ckpt.preprocess.to_dict(), new.to_dict()
    changed = {k: {"from": old_d[k], "to": new_d[k]} for k in new_d if new_d[k] != old_d[k]}
    if not changed:
        raise LatexSnipError(f"{ckpt.source}: the overrides {overrides} change nothing")
    check_heads_used(ckpt.state_dict, new, f"{ckpt.source} with {overrides}")
    history = [*ckpt.provenance.get("retuned", []), {"changed": changed, "why": why}]
    return replace(ckpt, preprocess=new, provenance={**ckpt.provenance, "retuned": history}, metrics={})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.retune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, help="the .safetensors checkpoint to read")
    p.add_argument("--preprocess", required=True, metavar="JSON",
                   help="JSON object of PreprocessConfig settings to change, e.g. '{\"glyph_height\": 10.5}'")
    p.add_argument("--out", type=Path, required=True, help="the checkpoint to write (may be the input)")
    p.add_argument("--why", default="", help="one line on how the settings were chosen (kept in the provenance)")
    p.add_argument("--metrics", help="JSON object of metrics measured with the new settings")
    args = p.parse_args(argv)
    try:
        metrics = parse_metrics(args.metrics)
        out = retune(load_checkpoint(args.input), args.preprocess, args.why)
        out.metrics = metrics
        save_checkpoint(args.out, out)
    except LatexSnipError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    changed = out.provenance["retuned"][-1]["changed"]
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v['from']} -> {v['to']}" for k, v in changed.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
