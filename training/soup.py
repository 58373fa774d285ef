"""Greedy weight soup: the uniform average of the candidates that help on a validation split.

    python -m training.soup BASE.safetensors CANDIDATE.safetensors [...] --data data/pack --out SOUP.safetensors
        [--split val] [--limit N] [--device cpu]

Inputs: checkpoints of one model fine-tuned from one another (e.g. the shipped weights, the
``best.safetensors`` of fine-tunes from them, a run's ``val_weights/`` from ``--keep-val-weights``).
Each is scored alone on the split (greedy decoding; BLEU, ties broken by exact match), then, from the
best one on, every other one in order of its own score joins the soup when the soup (uniform mean of
its members) scores higher with it than without. Output: the soup as one checkpoint, with its
validation metrics and every tried mix with its score in the provenance; a table of the scores on
stdout. Progress goes to stderr. One-line errors (exit 2) for unreadable or mismatched inputs.
This is how stages 7-9 of the shipped weights were chosen by hand (see the model card).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.errors import LatexSnipError
from training.average import average, check_averageable

Score = tuple[float, float]  # (BLEU, exact match): compared as a tuple
Scorer = Callable[[Checkpoint], dict[str, Any]]


def greedy_soup(ckpts: Sequence[Checkpoint], score: Scorer,
                log: Callable[[str], None] = lambda s: None) -> tuple[Checkpoint, list[dict[str, Any]]]:
    """The best soup of ``ckpts`` by ``score`` (a function returning at least ``bleu`` and
    ``exact_match``) and the trials: one dict per scored mix (``members``: indices, ``bleu``,
    ``exact_match``, ``kept``)."""
    if not ckpts:
        raise LatexSnipError("no checkpoints to choose from")
    check_averageable(ckpts)  # mismatched inputs fail here, before any scoring
    trials: list[dict[str, Any]] = []

    def trial(members: list[int]) -> tuple[Checkpoint, Score, dict[str, Any]]:
        mix = ckpts[members[0]] if len(members) == 1 else average([ckpts[i] for i in members], [1.0] * len(members))
        m = score(mix)
        bleu, exact = round(float(m["bleu"]), 3), round(float(m["exact_match"]), 4)
        trials.append({"members": members, "bleu": bleu, "exact_match": exact})
        log(f"{'+'.join(Path(ckpts[i].source).name for i in members)}: BLEU {bleu:.2f} exact {exact:.3f}")
        return mix, (bleu, exact), m

    singles = [trial([i]) for i in range(len(ckpts))]
    for row in trials:
        row["kept"] = False
    order = sorted(range(len(ckpts)), key=lambda i: singles[i][1], reverse=True)
    members = [order[0]]
    best, best_score, best_metrics = singles[order[0]]
    trials[order[0]]["kept"] = True
    for i in order[1:]:
        mix, s, m = trial([*members, i])
        trials[-1]["kept"] = s > best_score
        if s > best_score:
            members, best, best_score, best_metrics = [*members, i], mix, s, m
    return replace(best, metrics={k: v for k, v in best_metrics.items() if isinstance(v, (int, float))}), trials


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.soup", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", type=Path, help="the .safetensors checkpoints to choose from")
    p.add_argument("--data", required=True, help="dataset with the validation split (pack, parquet, hub id ...)")
    p.add_argument("--out", type=Path, required=True, help="the soup checkpoint to write")
    p.add_argument("--split", default="val", help="split to choose on (default: val; never the test split)")
    p.add_argument("--limit", type=int, help="score on the first N items only")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    args = p.parse_args(argv)
    if args.split == "test":
        print("error: choosing on the test split would make its figures meaningless; use val", file=sys.stderr)
        return 2
    try:
        from core.recognizer import Recognizer  # torch: only once the arguments are valid
        from training.evaluate import _load_data, evaluate

        ckpts = [load_checkpoint(x) for x in args.inputs]
        formulas, images = _load_data(args.data, args.split, args.limit)

        def score(c: Checkpoint) -> dict[str, Any]:
            res = evaluate(Recognizer(c, args.device), images, formulas)
            return {k: v for k, v in res.items() if not isinstance(v, list)}

        soup, trials = greedy_soup(ckpts, score, lambda s: print(s, file=sys.stderr, flush=True))
    except LatexSnipError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    names = [str(x) for x in args.inputs]
    soup.provenance = {**soup.provenance, "soup": {
        "split": args.split, "data": args.data, "items": len(formulas),
        "trials": [{**t, "members": [names[i] for i in t["members"]]} for t in trials]}}
    soup.metrics = {f"{args.split}_{k}": v for k, v in soup.metrics.items()}
    save_checkpoint(args.out, soup)
    print(f"{'BLEU':>7} {'exact':>6}  kept  mix ({args.split}, {len(formulas)} items)")
    for t in trials:
        print(f"{t['bleu']:7.2f} {t['exact_match']:6.3f}  {'yes' if t['kept'] else ' no':>4}  "
              f"{' + '.join(args.inputs[i].name for i in t['members'])}")
    kept = [t for t in trials if t["kept"]][-1]
    print(f"wrote {args.out}: {' + '.join(names[i] for i in kept['members'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
