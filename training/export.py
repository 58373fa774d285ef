"""`latexsnip export RUN_DIR --out FILE`: the one-file checkpoint `core` loads."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

from core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.errors import CheckpointError
from core.model import ModelConfig
from core.preprocess import PreprocessConfig
from core.vocab import Vocab
from training.provenance import compact

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


def export(run_dir: Path, out: Path, dtype: str = "fp16", which: str = "best", metrics: dict | None = None) -> Checkpoint:
    """best: RUN_DIR/best.safetensors (best validation); last: the latest training state."""
    if which == "best" and (run_dir / "best.safetensors").is_file():
        ckpt = load_checkpoint(run_dir / "best.safetensors")
    else:
        state_path = run_dir / "last.pt"
        if not state_path.is_file():
            raise CheckpointError(f"{run_dir}: no best.safetensors or last.pt (is this a training run directory?)")
        st = torch.load(state_path, map_location="cpu", weights_only=True)
        ckpt = Checkpoint(
            ModelConfig(**st["model_config"]), Vocab(tuple(st["vocab"])), PreprocessConfig(**st["preprocess"]),
            st["model"], provenance={"data": st.get("data"), "steps": st["step"],
                                     "train_seconds": round(st["train_seconds"]), "train_config": st["train_config"],
                                     **st.get("init", {})},
        )
    ckpt.state_dict = {k: (v.to(DTYPES[dtype]) if v.is_floating_point() else v) for k, v in ckpt.state_dict.items()}
    ckpt.provenance = compact({**ckpt.provenance, "exported_dtype": dtype})
    if metrics:
        ckpt.metrics = {**ckpt.metrics, **metrics}
    save_checkpoint(out, ckpt)
    return ckpt


def parse_metrics(text: str | None) -> dict[str, Any]:
    """The ``--metrics`` option: a JSON object (or nothing); anything else raises CheckpointError."""
    if not text:
        return {}
    try:
        metrics = json.loads(text)
    except ValueError as e:
        raise CheckpointError(f"--metrics: expected a JSON object ({e})") from None
    if not isinstance(metrics, dict):
        raise CheckpointError(f"--metrics: expected a JSON object, got {type(metrics).__name__}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="latexsnip export",
        description="Input: a `latexsnip train` run directory. Output: ONE .safetensors file holding weights "
        "(fp16 by default) and JSON metadata (model config, vocabulary, preprocessing, provenance, metrics).",
    )
    p.add_argument("run_dir", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--dtype", choices=sorted(DTYPES), default="fp16")
    p.add_argument("--which", choices=["best", "last"], default="best")
    p.add_argument("--metrics", help="JSON object of metrics to record (e.g. from `latexsnip eval --json`)")
    args = p.parse_args(argv)
    try:
        ckpt = export(args.run_dir, args.out, args.dtype, args.which, parse_metrics(args.metrics))
    except CheckpointError as e:
        print(f"latexsnip export: {e}", file=sys.stderr)
        return 2
    size = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({size:.1f} MB, {ckpt.provenance.get('steps')} steps)")
    return 0
