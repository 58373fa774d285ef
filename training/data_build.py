"""``latexsnip data build``: render formulas into an im2latex-100k-like Hugging Face dataset.

  latexsnip data build --formulas FILE --out DIR [--split NAME] [--limit N] [--workers N]
                       [--font cm|lm|times|palatino] [--dpi 200] [--fit 320x64] [--normalize]
                       [--pack PACKDIR]

FILE: one formula per line, or a TSV (header row) with a ``formula`` or ``formula_norm`` column,
optionally ``split`` (rows are grouped by it) and ``image``/``filename`` (kept as the file name).
``.gz`` files are read transparently. Without a split column every formula goes to ``--split``
(default train); with one, ``--split`` keeps only that split.

DIR receives a ``datasets.DatasetDict`` (save_to_disk) with the hub's columns ``formula``,
``filename``, ``image`` (320x64 grayscale PNG: the processed image at the top-left of a white
canvas), and ``build_report.json``: per split requested / rendered / too_big / tex_error / ...
/ seconds, plus every failure with its reason. Nothing is dropped silently.

Rendering runs in chunks cached under DIR/.chunks/, so an interrupted build resumes where it
stopped. The output is deterministic for the same input and options.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from core.errors import LatexSnipError

CHUNK_SIZE = 2048
RENDER_VERSION = "r3"  # bump when rendering changes so that cached chunks are not reused

csv.field_size_limit(1 << 24)


class DataBuildError(LatexSnipError):
    """The formula file or the build options are unusable."""


@dataclass
class Row:
    formula: str  # the label, as written to the dataset
    split: str
    filename: str | None = None
    render: str | None = None  # what TeX gets (normalized formula) -- same as formula here


@dataclass
class SplitStats:
    requested: int = 0
    rendered: int = 0
    too_big: int = 0
    tex_error: int = 0
    rejected: int = 0
    empty: int = 0
    normalize_failed: int = 0
    seconds: float = 0.0
    failures: list[dict[str, object]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# reading formulas


def _open_text(path: str) -> io.TextIOBase:
    if not os.path.isfile(path):
        raise DataBuildError(f"{path}: no such formula file")
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")  # noqa: SIM115


def read_formulas(path: str, split: str | None = None) -> list[Row]:
    """Rows of a formula file (see module docstring)."""
    with _open_text(path) as fh:
        first = fh.readline()
        header = first.rstrip("\r\n").split("\t")
        col = (
            "formula_norm"
            if "formula_norm" in header
            else ("formula" if "formula" in header else None)
        )
        rows: list[Row] = []
        if col is None:  # plain list, one formula per line
            lines = [first] + fh.readlines()
            for line in lines:
                f = line.rstrip("\r\n")
                if f.strip():
                    rows.append(Row(f, split or "train"))
            return rows
        reader = csv.DictReader(fh, fieldnames=header, delimiter="\t", quoting=csv.QUOTE_NONE)
        has_split = "split" in header
        name_col = "image" if "image" in header else ("filename" if "filename" in header else None)
        for rec in reader:
            f = (rec.get(col) or "").strip()
            s = (rec.get("split") or "").strip() if has_split else (split or "train")
            if has_split and split is not None and s != split:
                continue
            if not f:
                continue
            rows.append(Row(f, s or "train", (rec.get(name_col) or None) if name_col else None))
    return rows


def _parse_fit(text: str) -> tuple[int, int] | None:
    if text.lower() in ("none", "0", ""):
        return None
    try:
        w, h = text.lower().split("x")
        return int(w), int(h)
    except ValueError as e:
        raise DataBuildError(f"--fit {text!r}: expected WIDTHxHEIGHT, e.g. 320x64") from e


def _filename(split: str, index: int, formula: str) -> str:
    return hashlib.sha1(f"{split}\t{index}\t{formula}".encode()).hexdigest()[:10] + ".png"


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# chunked, cached rendering


def _chunk_key(formulas: Sequence[str], opts: dict[str, object]) -> str:
    h = hashlib.sha1(json.dumps(opts, sort_keys=True).encode())
    for f in formulas:
        h.update(f.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


_CHUNK_SCHEMA = pa.schema([("status", pa.string()), ("error", pa.string()), ("png", pa.binary())])


def _render_chunk(
    formulas: list[str],
    opts: dict[str, Any],
    path: str,
    progress: Callable[[int, int], None] | None,
) -> pa.Table:
    if os.path.isfile(path):
        try:
            t = pq.read_table(path)
            if t.num_rows == len(formulas):
                return t
        except Exception:  # a chunk half-written before a crash: render it again
            pass
    from training.render import render_formulas

    res = render_formulas(
        formulas,
        font=str(opts["font"]),
        dpi=int(opts["dpi"]),
        workers=int(opts["workers"]),
        progress=progress,
    )
    status: list[str] = []
    error: list[str | None] = []
    png: list[bytes | None] = []
    for r in res:
        if r.ok:
            assert r.image is not None
            status.append("ok")
            error.append(None)
            png.append(_png(r.image))
        else:
            status.append(r.error_kind or "tex_error")
            error.append(r.error)
            png.append(None)
    t = pa.table({"status": status, "error": error, "png": png}, schema=_CHUNK_SCHEMA)
    tmp = path + ".tmp"
    pq.write_table(t, tmp)
    os.replace(tmp, path)
    return t


def _fmt_eta(sec: float) -> str:
    sec = int(max(sec, 0))
    return (
        f"{sec // 3600}h{sec % 3600 // 60:02d}m" if sec >= 3600 else f"{sec // 60}m{sec % 60:02d}s"
    )


# --------------------------------------------------------------------------------------------


def build(
    rows: list[Row],
    out: str,
    *,
    workers: int = 2,
    font: str = "cm",
    dpi: int = 200,
    fit: tuple[int, int] | None = (320, 64),
    pack: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    log: Callable[[str], None] = print,
    source: str | None = None,
) -> dict[str, object]:
    """Render ``rows`` and write DIR (DatasetDict + build_report.json); returns the report."""
    import datasets

    from training.render import check_tex

    check_tex(font)
    os.makedirs(out, exist_ok=True)
    chunk_dir = os.path.join(out, ".chunks")
    os.makedirs(chunk_dir, exist_ok=True)
    opts = {"font": font, "dpi": int(dpi), "workers": int(workers), "version": RENDER_VERSION}
    key_opts = {k: v for k, v in opts.items() if k != "workers"}

    split_names = list(dict.fromkeys(r.split for r in rows))
    by_split = {s: [r for r in rows if r.split == s] for s in split_names}
    total = len(rows)
    stats = {s: SplitStats(requested=len(by_split[s])) for s in split_names}
    done_total = 0
    t_start = time.perf_counter()
    rendered_in_run = 0
    last_print = [0.0]
    features = datasets.Features(
        {
            "formula": datasets.Value("string"),
            "filename": datasets.Value("string"),
            "image": datasets.Image(),
        }
    )
    dsets: dict[str, datasets.Dataset] = {}
    pack_rows: dict[str, list[tuple[str, Image.Image]]] = {}
    used_chunks: set[str] = set()

    for split in split_names:
        st = stats[split]
        srows = by_split[split]
        t_split = time.perf_counter()
        cols: dict[str, list[object]] = {"formula": [], "filename": [], "image": []}
        prows: list[tuple[str, Image.Image]] = []
        to_render: list[tuple[int, Row]] = []
        for i, r in enumerate(srows):
            if r.render is None:
                st.normalize_failed += 1
                st.failures.append(
                    {
                        "split": split,
                        "index": i,
                        "formula": r.formula,
                        "reason": "normalize_failed: the normalizer rejected it",
                    }
                )
            else:
                to_render.append((i, r))
        done_total += len(srows) - len(to_render)
        for c0 in range(0, len(to_render), chunk_size):
            chunk = to_render[c0 : c0 + chunk_size]
            formulas = [r.render or "" for _, r in chunk]
            path = os.path.join(
                chunk_dir,
                f"{split}-{c0 // chunk_size:05d}-{_chunk_key(formulas, key_opts)}.parquet",
            )
            cached = os.path.isfile(path)
            used_chunks.add(os.path.basename(path))

            def _progress(
                d: int,
                n: int,
                base: int = done_total,
                run: int = rendered_in_run,
                split: str = split,
            ) -> None:
                now = time.perf_counter()
                if now - last_print[0] >= 15:
                    last_print[0] = now
                    el = now - t_start
                    rate = (run + d) / el if el > 0 else 0.0
                    eta = (total - base - d) / rate if rate > 0 else 0.0
                    log(
                        f"  [{split}] {base + d}/{total} formulas, {rate:.0f}/s, ETA {_fmt_eta(eta)}"
                    )

            table = _render_chunk(formulas, opts, path, _progress)
            if not cached:
                rendered_in_run += len(chunk)
            done_total += len(chunk)
            status = table.column("status").to_pylist()
            errors = table.column("error").to_pylist()
            pngs = table.column("png").to_pylist()
            for (i, r), s, e, b in zip(chunk, status, errors, pngs, strict=True):
                if s != "ok":
                    kind = s if s in ("rejected", "empty") else "tex_error"
                    setattr(st, kind, getattr(st, kind) + 1)
                    st.failures.append(
                        {"split": split, "index": i, "formula": r.formula, "reason": e or s}
                    )
                    continue
                img = Image.open(io.BytesIO(b)).convert("L")
                w, h = img.size
                if fit is not None and (w > fit[0] or h > fit[1]):
                    st.too_big += 1
                    st.failures.append(
                        {
                            "split": split,
                            "index": i,
                            "formula": r.formula,
                            "reason": f"too_big: processed image {w}x{h} exceeds {fit[0]}x{fit[1]}",
                            "size": [w, h],
                        }
                    )
                    continue
                if fit is not None:
                    canvas = Image.new("L", fit, 255)
                    canvas.paste(img, (0, 0))
                    data = _png(canvas)
                else:
                    data = b
                name = r.filename or _filename(split, i, r.formula)
                cols["formula"].append(r.formula)
                cols["filename"].append(name)
                cols["image"].append({"bytes": data, "path": None})
                st.rendered += 1
                if pack is not None:
                    prows.append((r.formula, img))
            el = time.perf_counter() - t_start
            rate = rendered_in_run / el if el > 0 and rendered_in_run else 0.0
            eta = (total - done_total) / rate if rate > 0 else 0.0
            log(
                f"  [{split}] {done_total}/{total} formulas{' (cached chunk)' if cached else ''}, "
                f"{rate:.0f}/s, ETA {_fmt_eta(eta)}"
            )
        st.seconds = round(time.perf_counter() - t_split, 1)
        dsets[split] = datasets.Dataset.from_dict(cols, features=features)
        pack_rows[split] = prows

    # chunks of earlier builds with other formulas/options are of no further use
    for name in os.listdir(chunk_dir):
        if name not in used_chunks:
            with contextlib.suppress(OSError):
                os.remove(os.path.join(chunk_dir, name))
    dd = datasets.DatasetDict(dsets)
    tmp_out = os.path.join(out, ".dataset_tmp")
    dd.save_to_disk(tmp_out)
    # move the saved dataset into DIR (DIR also holds .chunks and the report)
    for name in os.listdir(tmp_out):
        dst = os.path.join(out, name)
        if os.path.isdir(dst):
            import shutil

            shutil.rmtree(dst)
        os.replace(os.path.join(tmp_out, name), dst)
    os.rmdir(tmp_out)

    report: dict[str, object] = {
        "source": source,
        "options": {
            "font": font,
            "dpi": dpi,
            "fit": list(fit) if fit else None,
            "workers": workers,
            "render_version": RENDER_VERSION,
        },
        "seconds": round(time.perf_counter() - t_start, 1),
        "splits": {
            s: {k: v for k, v in vars(st).items() if k != "failures"} for s, st in stats.items()
        },
        "failures": [f for st in stats.values() for f in st.failures],
    }
    with open(os.path.join(out, "build_report.json"), "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, ensure_ascii=False)
    if pack is not None:
        from training.pack import write_pack

        meta = write_pack(
            pack,
            {s: iter(v) for s, v in pack_rows.items()},
            meta={"source": os.path.abspath(out), "render": report["options"]},
        )
        report["pack"] = {"dir": pack, "bytes": meta["bytes"], "splits": meta["splits"]}
    return report


def print_report(report: dict[str, object], log: Callable[[str], None] = print) -> None:
    log(
        f"{'split':<8} {'requested':>9} {'rendered':>9} {'too_big':>8} {'tex_error':>9} {'rejected':>8} "
        f"{'empty':>6} {'norm_fail':>9} {'seconds':>8}"
    )
    splits: dict[str, dict[str, object]] = report["splits"]  # type: ignore[assignment]
    for s, st in splits.items():
        log(
            f"{s:<8} {st['requested']:>9} {st['rendered']:>9} {st['too_big']:>8} {st['tex_error']:>9} "
            f"{st['rejected']:>8} {st['empty']:>6} {st['normalize_failed']:>9} {st['seconds']:>8}"
        )
    if "pack" in report:
        p: dict[str, Any] = report["pack"]  # type: ignore[assignment]
        log(f"pack: {p['dir']} {p['splits']} ({sum(p['bytes'].values()) / 1e6:.1f} MB)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="latexsnip data build",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--formulas", required=True, help="formula file (.txt/.lst/.tsv, .gz ok)")
    ap.add_argument(
        "--out", required=True, help="output directory (DatasetDict + build_report.json)"
    )
    ap.add_argument(
        "--split", default=None, help="split name for a plain list, or the one split to keep"
    )
    ap.add_argument("--limit", type=int, default=None, help="use only the first N formulas")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--font", default="cm", choices=("cm", "lm", "times", "palatino"))
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument(
        "--fit",
        default="320x64",
        help="canvas WxH; formulas that do not fit are skipped ('none': keep all, no canvas)",
    )
    ap.add_argument(
        "--normalize", action="store_true", help="normalize each formula with core.normalize first"
    )
    ap.add_argument(
        "--pack", default=None, help="also write the compact pack (see training/pack.py) here"
    )
    ap.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    args = ap.parse_args(argv)
    try:
        fit = _parse_fit(args.fit)
        rows = read_formulas(args.formulas, args.split)
        if args.limit is not None:
            rows = rows[: args.limit]
        if not rows:
            raise DataBuildError(
                f"{args.formulas}: no formulas"
                + (f" in split {args.split!r}" if args.split else "")
            )
        if args.normalize:
            try:
                from core.normalize import normalize_latex
            except ImportError as e:
                raise DataBuildError(f"--normalize: core.normalize is not available ({e})") from e
            for r in rows:
                try:
                    n = normalize_latex(r.formula)
                except Exception:  # a normalizer bug must not kill a long build
                    n = None
                r.render = n
                if n is not None:
                    r.formula = n
        else:
            for r in rows:
                r.render = r.formula
        print(
            f"latexsnip data build: {len(rows)} formulas from {args.formulas} -> {args.out}",
            flush=True,
        )
        report = build(
            rows,
            args.out,
            workers=args.workers,
            font=args.font,
            dpi=args.dpi,
            fit=fit,
            pack=args.pack,
            chunk_size=args.chunk_size,
            log=lambda m: print(m, flush=True),
            source=os.path.abspath(args.formulas),
        )
    except LatexSnipError as e:
        print(f"latexsnip data build: {e}", file=sys.stderr)
        return 1
    print_report(report)
    print(f"wrote {args.out} (report: {os.path.join(args.out, 'build_report.json')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
