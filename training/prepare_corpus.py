"""`latexsnip data prepare`: the offline formula list that `data build` renders.

im2latex-100k's train formulas are not available offline, so (docs/data.md):
  train = the harvested display-math corpus normalised with core.normalize (failures dropped,
          counted) + im2latex val formulas except the 1000 with the lowest formula_idx;
          deduplicated; anything equal to a kept val or any test formula removed
  val   = the 1000 im2latex val formulas with the lowest formula_idx
  test  = hf_like_subset.tsv rows with split == test (never in train)
Output: a TSV with columns formula, split, image, and a JSON report of the counts.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
from collections import Counter
from pathlib import Path

from core.normalize import normalize_latex

csv.field_size_limit(1 << 24)


def _rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def prepare(shared: Path, n_val: int = 1000) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    vt = _rows(shared / "formulas" / "val_test.norm.tsv")
    val_rows = sorted((r for r in vt if r["split"] == "val"), key=lambda r: int(r["formula_idx"]))
    test_all = {r["formula_norm"].strip() for r in vt if r["split"] == "test"}
    hf = _rows(shared / "formulas" / "hf_like_subset.tsv")
    test_rows = sorted((r for r in hf if r["split"] == "test"), key=lambda r: int(r["formula_idx"]))
    val_keep, val_train = val_rows[:n_val], val_rows[n_val:]
    val_keep_set = {r["formula_norm"].strip() for r in val_keep}
    stats: Counter[str] = Counter()
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for r in val_train:
        f = r["formula_norm"].strip()
        if f in test_all or f in val_keep_set or f in seen:
            stats["val_formulas_dropped_as_duplicates"] += 1
            continue
        seen.add(f)
        out.append((f, "train", r["image"]))
    stats["train_from_val"] = len(out)
    harvested = _rows(shared / "extra" / "harvested_formulas.tsv.gz")
    stats["harvested_raw"] = len(harvested)
    for r in harvested:
        g = normalize_latex(r["formula"])
        if not g or not g.strip():
            stats["harvested_normalize_failed"] += 1
            continue
        f = g.strip()
        if f in test_all or f in val_keep_set:
            stats["harvested_equal_val_or_test_dropped"] += 1
        elif f in seen:
            stats["harvested_duplicates_dropped"] += 1
        else:
            seen.add(f)
            out.append((f, "train", ""))
            stats["train_from_harvested"] += 1
    out += [(r["formula_norm"].strip(), "val", r["image"]) for r in val_keep]
    out += [(r["formula_norm"].strip(), "test", r["image"]) for r in test_rows]
    stats["val"], stats["test"] = len(val_keep), len(test_rows)
    assert not any(s == "train" and f in test_all for f, s, _ in out), "a test formula leaked into train"
    return out, dict(stats)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="latexsnip data prepare",
        description="Input: the offline im2latex material folder (README.md, formulas/, extra/). Output: "
        "OUT.tsv (columns formula, split, image: the list `latexsnip data build --formulas` renders) "
        "and OUT.report.json (counts).",
    )
    p.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "im2latex")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--val-size", type=int, default=1000)
    args = p.parse_args(argv)
    if not (args.shared / "formulas" / "val_test.norm.tsv").is_file():
        print(f"latexsnip data prepare: {args.shared} does not hold the im2latex material", file=sys.stderr)
        return 2
    rows, stats = prepare(args.shared, args.val_size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write("formula\tsplit\timage\n")
        for f, s, im in rows:
            fh.write(f"{f}\t{s}\t{im}\n")
    Path(str(args.out) + ".report.json").write_text(json.dumps(stats, indent=1))
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
