"""Training throughput (images/s) of `latexsnip train` on this machine, per configuration.

Runs the real trainer for --steps steps in a temporary run directory for each configuration
and reports the median and overall images/s of its log (the first --skip log records, which
include start-up and warm-up, are left out). Configurations:

    full        all layers train, full 320x64 canvases            (the seed's setting)
    trim        all layers, canvases trimmed to 32 px multiples  (--preprocess trim_multiple=32)
    ft2         fine-tune from weights, stem+layer1+layer2 fixed, trimmed (--freeze-stages 2)
    ft3         fine-tune, whole ResNet fixed (projection + decoder train), trimmed
    grid20      all layers, trimmed, last stage stride 2 wide (4x20 grid: the seed's probe model)

    python bench/train_throughput.py --data data/pack [--steps 60] [--configs full,trim,ft2,ft3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from core.paths import default_weights_path

TRIM = '{"trim_multiple": 32}'
CONFIGS: dict[str, list[str]] = {
    "full": [],
    "trim": ["--preprocess", TRIM],
    "ft2": ["--init", "{weights}", "--preprocess", TRIM, "--freeze-stages", "2"],
    "ft3": ["--init", "{weights}", "--preprocess", TRIM, "--freeze-stages", "3"],
    "grid20": ["--model", '{"last_stride_w": 2}', "--preprocess", TRIM],
}


def measure(data: str, name: str, steps: int, skip: int, weights: str, batch: int, workers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        extra = [a.replace("{weights}", weights) for a in CONFIGS[name]]
        cmd = [sys.executable, "-m", "core.cli", "train", "--data", data, "--out", out, "--device", "cpu",
               "--batch-size", str(batch), "--workers", str(workers), "--max-steps", str(steps),
               "--log-every", "5", "--val-every", "1000000", "--val-size", "16", "--lr", "1e-4",
               "--warmup-steps", "5", *extra]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        recs = [json.loads(x) for x in (Path(out) / "log.jsonl").read_text().splitlines()]
    recs = [r for r in recs if "img_s" in r][skip:]
    overall = batch * (recs[-1]["step"] - recs[0]["step"]) / (recs[-1]["time"] - recs[0]["time"])
    return {"median_img_s": statistics.median(r["img_s"] for r in recs[1:]), "overall_img_s": overall,
            "steps_timed": recs[-1]["step"] - recs[0]["step"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="training data (pack directory or any `latexsnip train --data`)")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--skip", type=int, default=2, help="log records left out at the start")
    p.add_argument("--configs", default="full,trim,ft2,ft3")
    p.add_argument("--weights", default=str(default_weights_path()), help="weights the fine-tune configs start from")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    for name in args.configs.split(","):
        r = measure(args.data, name, args.steps, args.skip, args.weights, args.batch_size, args.workers)
        print(json.dumps({"config": name, **{k: round(v, 1) for k, v in r.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
