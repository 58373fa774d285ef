"""Join packs into one: the train items of several packs (all, or a seeded sample of N), one pack's val.

    python -m training.pack_join --out data/tallsyn --train data/tallonly --train data/syntall:7000 \\
        --val data/tallonly [--seed 86]

``--train PACK`` takes every train item of PACK, ``--train PACK:N`` a sample of N of them drawn with
``--seed`` (in the pack's order); ``--val PACK`` copies PACK's val split (default: the first ``--train``
pack's). The images are copied as they are stored (``training.pack``); meta.json records the sources,
so ``latexsnip train --data OUT`` trains on the mix. Used to add the synthetic matrices of
``training.synth_matrices`` to the tall head's data.
"""

from __future__ import annotations

import argparse
import random
import sys

from core.errors import LatexSnipError
from training.pack import read_pack, read_pack_meta, write_pack


def parse_source(spec: str) -> tuple[str, int | None]:
    """``PACK`` or ``PACK:N`` -> (pack, N or None)."""
    pack, sep, n = spec.rpartition(":")
    if sep and n.isdigit():
        return pack, int(n)
    return spec, None


def join(out: str, train: list[str], val: str | None, seed: int) -> dict[str, object]:
    """Write the joined pack ``out``; returns its meta."""
    rng = random.Random(seed)
    rows: list[tuple[str, bytes]] = []
    levels = 0
    sources = []
    for spec in train:
        pack, n = parse_source(spec)
        levels = max(levels, int(str(read_pack_meta(pack).get("levels", 4))))
        formulas, pngs = read_pack(pack, "train")
        picked: list[int] = list(range(len(formulas)))
        if n is not None:
            if n > len(formulas):
                raise LatexSnipError(f"--train {spec}: the pack has only {len(formulas)} train items")
            picked = sorted(rng.sample(range(len(formulas)), n))
        rows.extend((formulas[i], pngs[i]) for i in picked)
        sources.append({"pack": pack, "items": len(picked), "of": len(formulas)})
    val_pack = val or parse_source(train[0])[0]
    val_rows = list(zip(*read_pack(val_pack, "val"), strict=True))
    meta = {"made_by": "python -m training.pack_join", "train_sources": sources, "val_source": val_pack, "seed": seed}
    return write_pack(out, {"train": rows, "val": val_rows}, levels=levels, meta=meta, already_encoded=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.pack_join", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="pack directory to write (splits train, val)")
    ap.add_argument("--train", action="append", required=True, metavar="PACK[:N]",
                    help="a pack whose train items are added (all, or a sample of N); repeatable")
    ap.add_argument("--val", metavar="PACK", help="the pack whose val split is copied (default: the first --train)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    args = ap.parse_args(argv)
    try:
        meta = join(args.out, args.train, args.val, args.seed)
    except LatexSnipError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {meta['splits']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
