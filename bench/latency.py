"""Recognition latency on this machine for a 320x64 formula image.

Measures, over many runs: the encoder alone, and the whole `Recognizer.recognize` call
(preprocess + encode + decode) greedy and beam-5, reporting p50/p95 in ms and the number of
tokens decoded, and the confidence of the reading (a snip read below the checkpoint's
retry_confidence is read again at its retry_glyph_heights: --no-retry switches that off,
--always-retry reads every snip again, the worst case of one unsure snip). --int8 on/off forces
or forbids int8 decoder weights and ResNet body (core.int8; auto: on a CPU without fast bf16, as the app does).
--render-check typesets every candidate reading with TeX and keeps the one that draws the snip (core.render_match,
one pdflatex run per snip, as the app does, with TeX started ahead of need: training.warm_render; the timed runs
are --pause seconds apart, 0.5 by default with the check, as a user's snips are, so that the next TeX is ready). Uses the shipped weights, or --weights; --random uses an untrained model of the default config
forced to decode --tokens tokens (a fixed-length worst case).

    python bench/latency.py [--weights P] [--runs 50] [--threads N] [--image PNG] [--no-retry | --always-retry]
        [--int8 auto|on|off] [--render-check [--pause S]]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import time
from pathlib import Path

import torch
from PIL import Image

from core.checkpoint import Checkpoint, clean_state_dict
from core.int8 import int8_flag
from core.model import Im2Latex, ModelConfig
from core.paths import default_weights_path, examples_dir
from core.preprocess import PreprocessConfig, preprocess
from core.recognizer import Recognizer
from core.vocab import Vocab


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def _time(fn, runs: int, pause: float = 0.0) -> list[float]:  # type: ignore[no-untyped-def]
    for _ in range(3):
        fn()
    out = []
    for _ in range(runs):
        time.sleep(pause)
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, default=default_weights_path())
    p.add_argument("--image", type=Path, help="formula image (default: the longest example)")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    p.add_argument("--random", action="store_true", help="untrained default-config model")
    p.add_argument("--render-check", action="store_true",
                   help="keep the reading whose TeX rendering draws the snip (needs TeX Live)")
    p.add_argument("--int8", choices=("auto", "on", "off"), default="auto",
                   help="int8 decoder weights and, given its ranges, ResNet body (core.int8); auto: on a CPU without fast bf16")
    p.add_argument("--pause", type=float, default=None,
                   help="seconds between timed runs (default 0, 0.5 with --render-check: snips come seconds apart, and "
                        "in between the render check starts the next TeX, training.warm_render)")
    retry = p.add_mutually_exclusive_group()
    retry.add_argument("--no-retry", action="store_true",
                       help="never read an unsure snip again at other glyph heights (retry_glyph_heights)")
    retry.add_argument("--always-retry", action="store_true",
                       help="read every snip again at the retry glyph heights (retry_confidence 1): an unsure snip's cost")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.random or not args.weights.is_file():
        vocab = Vocab.build(["a"] * 1)
        vocab = Vocab(vocab.tokens + tuple(f"t{i}" for i in range(500)))
        cfg = ModelConfig(vocab_size=len(vocab), max_len=50)
        rec = Recognizer(Checkpoint(cfg, vocab, PreprocessConfig(), clean_state_dict(Im2Latex(cfg))), "cpu")
        label = "untrained default config, 50 tokens forced (max_len=50)"
    else:
        rec = Recognizer.load(args.weights, "cpu", int8_flag(args.int8))
        label = str(args.weights)
    if args.always_retry:
        rec.preprocess_config = dataclasses.replace(rec.preprocess_config, retry_confidence=1.0)
    if args.image:
        image = Image.open(args.image)
    else:
        ex = sorted(examples_dir().glob("*.png"), key=lambda q: q.stat().st_size)
        image = Image.open(ex[-1]) if ex else Image.new("L", (320, 64), 255)
        if not ex:
            from PIL import ImageDraw

            ImageDraw.Draw(image).text((6, 20), "x^2 + y^2 = z^2 + \\alpha", fill=0)
    x = preprocess(image, rec.preprocess_config)[None].contiguous(memory_format=torch.channels_last)
    from core.device import autocast

    def enc() -> None:
        with torch.inference_mode(), autocast(rec.device, rec.encoder_dtype):
            rec.model.encoder(x)

    renderer = None
    if args.render_check:
        from training.render import check_renderers

        renderer = check_renderers(workers=1)
    pre, reread = rec.preprocess_config, not args.no_retry
    pause = args.pause if args.pause is not None else (0.5 if renderer is not None else 0.0)
    res = {"weights": label, "threads": torch.get_num_threads(), "autocast": str(rec.dtype), "int8_decoder": rec.int8,
           "int8_body": rec.int8_body, "reread_unsure": reread, "render_check": renderer is not None,
           "retry_glyph_heights": list(pre.retry_glyph_heights), "retry_confidence": pre.retry_confidence,
           "pause_s": pause}
    e = _time(enc, args.runs)
    res["encoder_ms"] = {"p50": round(_pct(e, 0.5), 1), "p95": round(_pct(e, 0.95), 1)}
    for beam in (1, 5):
        pred = rec.recognize(image, beam=beam, reread_unsure=reread, renderer=renderer)
        t = _time(lambda b=beam: rec.recognize(image, beam=b, reread_unsure=reread, renderer=renderer), args.runs, pause)
        res[f"beam{beam}_ms"] = {"p50": round(_pct(t, 0.5), 1), "p95": round(_pct(t, 0.95), 1),
                                 "tokens": len(pred.tokens), "mean": round(statistics.mean(t), 1),
                                 "confidence": round(math.exp(pred.score), 3),
                                 **({"render_distance": pred.render_distance} if renderer else {})}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
