"""`latexsnip eval`: recognise a dataset split with given weights and score it as im2markup does.

    latexsnip eval --weights model.safetensors --data DATA --split test [--limit N] [--beam N]
                   [--batch N] [--device auto] [--json] [--report FILE] [--image-match] [--gold TSV]

DATA is anything training.dataset.load_samples reads: a Hugging Face hub id, a saved dataset
directory, a parquet directory, or a pack directory. Every image is scored: one that cannot be
read or recognised (ImageError) counts as an empty prediction. Metrics: corpus BLEU-4 (0..100),
edit score (0..1), exact match (0..1), with --image-match the rendered-image match rate (0..1;
needs TeX), and the mean recognition time per image.

With --gold TSV the formulas of the split that DATA has no image for (ones the renderer could
not draw) are scored as empty predictions too: the metrics cover the whole published split.

stdout: a human summary, or with --json exactly one JSON line
``{"n", ["missing",] "bleu", "edit_score", "exact_match", "exact_ignoring_braces",
"exact_ignoring_braces_spacing", ["image_match",] "ms_per_image", ["exact_offered" (beam search: the gold is the
reading or one of the others it offers)]}``. The two ``exact_ignoring_*``
figures are diagnostics: exact match after dropping grouping braces ``{ }`` (and spacing
commands ``\\, \\; ~ \\quad`` ...) from gold and prediction, the part of the misses that are
im2latex's source-dependent braces and spacing rather than misread symbols.
stderr: progress and notes. Exit 0 on success, 2 on a usage/data/weights error (message only).

``evaluate(recognizer, images, formulas, beam, batch)`` is the reusable core (see its docstring).
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image, UnidentifiedImageError

from core.errors import ImageError, LatexSnipError
from training.metrics import (
    GROUPING_BRACES,
    SPACING_TOKENS,
    corpus_bleu,
    edit_distance,
    edit_score,
    exact_match,
    exact_match_ignoring,
    exact_offered,
    tokenize,
)
from training.render import add_render_check_arguments, renderers_for

PROG = "latexsnip eval"
METRIC_KEYS = ("n", "missing", "bleu", "edit_score", "exact_match", "exact_ignoring_braces",
               "exact_ignoring_braces_spacing", "image_match", "ms_per_image", "render_check_changed",
               "without_render_check", "exact_offered")


def text_metrics(refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]]) -> dict[str, float]:
    """BLEU, edit score, exact match and the two exact-match diagnostics (module docstring)."""
    return {
        "bleu": corpus_bleu(refs, hyps),
        "edit_score": edit_score(refs, hyps),
        "exact_match": exact_match(refs, hyps),
        "exact_ignoring_braces": exact_match_ignoring(refs, hyps, GROUPING_BRACES),
        "exact_ignoring_braces_spacing": exact_match_ignoring(refs, hyps, GROUPING_BRACES | SPACING_TOKENS),
    }


def _as_image(item: Any) -> Any:
    """Encoded bytes -> PIL image (ImageError if unreadable); anything else as is."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        try:
            with Image.open(io.BytesIO(bytes(item))) as im:
                im.load()
                return im
        except (UnidentifiedImageError, OSError, ValueError) as e:
            raise ImageError(f"not a readable image ({e})") from None
    if isinstance(item, dict) and ("bytes" in item or "path" in item):  # datasets.Image(decode=False)
        if item.get("bytes"):
            return _as_image(item["bytes"])
        return str(item["path"])
    return item


def _width_hint(item: Any) -> int:
    """Image width in px where it is cheap to know (encoded header, PIL, array), else 0."""
    try:
        if isinstance(item, (bytes, bytearray, memoryview)):
            with Image.open(io.BytesIO(bytes(item))) as im:
                return int(im.width)
        if isinstance(item, Image.Image):
            return int(item.width)
        shape = getattr(item, "shape", None)
        if shape is not None and len(shape) >= 2:
            return int(shape[1])
    except (UnidentifiedImageError, OSError, ValueError):
        pass
    return 0


def _tokens_of(pred: Any) -> list[str]:
    toks = getattr(pred, "tokens", None)
    if toks is not None:
        return list(toks)
    return tokenize(getattr(pred, "latex", pred))


class Reading(NamedTuple):
    """One image's reading as the scorers use it."""

    tokens: list[str]  # the kept reading; [] where the image was unusable
    error: str | None  # why the image was unusable
    first_choice: list[str] | None  # the model's own first choice, where a render check kept another reading
    alternatives: list[list[str]]  # the other readings offered (``Prediction.alternatives``)


def recognize_chunk(recognizer: Any, chunk: Sequence[Any], beam: int, renderer: Any = None) -> list[Reading]:
    """Read ``chunk`` (images, arrays, paths or encoded bytes) in one batch; a batch with an unusable image is
    re-run image by image, so only that image becomes a miss. Shared by ``evaluate`` and bench/robustness.py."""
    kw = {"beam": beam} if renderer is None else {"beam": beam, "renderer": renderer}
    imgs: list[Any] = []
    bad: dict[int, str] = {}
    for i, item in enumerate(chunk):
        try:
            imgs.append(_as_image(item))
        except ImageError as e:
            bad[i] = str(e)
            imgs.append(None)
    good = [i for i in range(len(chunk)) if i not in bad]
    out = [Reading([], bad.get(i), None, []) for i in range(len(chunk))]
    if not good:
        return out
    try:
        preds = recognizer.recognize_batch([imgs[i] for i in good], **kw)
        for i, p in zip(good, preds, strict=True):
            out[i] = _reading(p)
    except ImageError:
        for i in good:
            try:
                out[i] = _reading(recognizer.recognize_batch([imgs[i]], **kw)[0])
            except ImageError as e:
                out[i] = Reading([], str(e), None, [])
    return out


def _reading(pred: Any) -> Reading:
    return Reading(_tokens_of(pred), None, _first_choice(pred), _alternatives(pred))


def _first_choice(pred: Any) -> list[str] | None:
    first = getattr(pred, "first_choice", None)
    return tokenize(first) if first is not None else None


def _alternatives(pred: Any) -> list[list[str]]:
    return [tokenize(a) for a in getattr(pred, "alternatives", ()) or ()]


def evaluate(
    recognizer: Any,
    images: Sequence[Any],
    formulas: Sequence[str],
    beam: int = 1,
    batch: int = 32,
    progress: Callable[[int, int], None] | None = None,
    renderer: Any = None,
) -> dict[str, Any]:
    """Recognise ``images`` (PIL images, arrays, paths or encoded bytes) and score them against
    ``formulas`` (gold, whitespace-tokenised).

    ``recognizer`` needs only ``recognize_batch(images, beam=...) -> list`` of objects with
    ``tokens`` (or ``latex``); with a ``renderer`` (``core.render_match.Renderer``) it is passed on as
    ``recognize_batch(..., renderer=renderer)``. Returns a dict with the metrics ``n``, ``bleu`` (0..100),
    ``edit_score`` (0..1), ``exact_match`` (0..1), ``exact_ignoring_braces`` and
    ``exact_ignoring_braces_spacing`` (0..1, diagnostics), ``ms_per_image``, ``failed`` (images that
    raised ImageError, scored as empty predictions), and per item ``predictions`` (str, "" when
    failed), ``errors`` (str or None) and ``edit_distances`` (token Levenshtein to the gold). With a
    ``renderer`` also ``render_check_changed`` (readings the check changed), ``without_render_check`` (the text
    metrics of the model's own choices among the same readings) and ``unchecked_predictions``. Where the readings
    offer others (``Prediction.alternatives``: beam search) also ``exact_offered`` (0..1: the gold is the reading
    or one of those) and per item ``alternatives``.
    """
    if len(images) != len(formulas):
        raise ValueError(f"{len(images)} images but {len(formulas)} formulas")
    if batch < 1 or beam < 1:
        raise ValueError("batch and beam must be >= 1")
    n = len(images)
    hyps: list[list[str]] = [[] for _ in range(n)]
    firsts: list[list[str] | None] = [None] * n
    offered: list[list[list[str]]] = [[] for _ in range(n)]
    errors: list[str | None] = [None] * n
    # Batches of similar widths (a proxy for length): a batch decodes until its longest formula
    # ends and, with trimmed canvases, is as wide as its widest image.
    order = sorted(range(n), key=lambda i: _width_hint(images[i]))
    t0 = time.perf_counter()
    for s in range(0, n, batch):
        idx = order[s : s + batch]
        chunk = recognize_chunk(recognizer, [images[i] for i in idx], beam, renderer)
        for i, (toks, err, first, more) in zip(idx, chunk, strict=True):
            hyps[i], errors[i], firsts[i], offered[i] = toks, err, first, more
        if progress is not None:
            progress(min(s + batch, n), n)
    elapsed = time.perf_counter() - t0
    refs = [tokenize(f) for f in formulas]
    checked = {}
    if renderer is not None:  # the same readings scored as the model alone chooses among them
        unchecked = [h if f is None else f for h, f in zip(hyps, firsts, strict=True)]
        checked = {"render_check_changed": sum(f is not None for f in firsts),
                   "without_render_check": text_metrics(refs, unchecked),
                   "unchecked_predictions": [" ".join(h) for h in unchecked]}
    if any(offered):
        checked |= {"exact_offered": exact_offered(refs, hyps, offered),
                    "alternatives": [[" ".join(a) for a in more] for more in offered]}
    return {
        "n": n,
        **text_metrics(refs, hyps),
        **checked,
        "ms_per_image": 1000.0 * elapsed / max(n, 1),
        "failed": sum(e is not None for e in errors),
        "predictions": [" ".join(h) for h in hyps],
        "errors": errors,
        "edit_distances": [edit_distance(r, h) for r, h in zip(refs, hyps, strict=True)],
    }


# --------------------------------------------------------------------------------------------
# report


def _png_bytes(item: Any) -> bytes | None:
    try:
        img = _as_image(item)
        if isinstance(img, (str, Path)):
            with Image.open(img) as im:
                img = im.copy()
        if not isinstance(img, Image.Image):
            import numpy as np

            arr = np.asarray(img)
            if arr.dtype != np.uint8:
                arr = (np.clip(arr, 0, 1) * 255).astype(np.uint8) if arr.max() <= 1 else arr.astype(np.uint8)
            img = Image.fromarray(arr)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()
    except Exception:  # the report shows "(unreadable)" for such an image
        return None


def worst_items(result: dict[str, Any], formulas: Sequence[str], count: int) -> list[int]:
    """Indices of the ``count`` worst predictions: largest edit distance, then largest relative."""
    def key(i: int) -> tuple[float, float]:
        d = result["edit_distances"][i]
        norm = max(len(tokenize(formulas[i])), len(tokenize(result["predictions"][i])), 1)
        return (-d, -d / norm)

    bad = [i for i in range(result["n"]) if result["edit_distances"][i] > 0 or result["errors"][i]]
    return sorted(bad, key=key)[:count]


def write_report(
    path: str | Path, images: Sequence[Any], formulas: Sequence[str], result: dict[str, Any], count: int = 50
) -> Path:
    """The ``count`` worst predictions side by side. ``.md`` -> Markdown + PNGs in
    ``<stem>_images/``; anything else -> one self-contained HTML file (images inline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    idx = worst_items(result, formulas, count)
    summary = (
        f"n={result['n']}  BLEU={result['bleu']:.2f}  edit score={result['edit_score']:.4f}  "
        f"exact match={result['exact_match']:.4f}"
        + (f"  image match={result['image_match']:.4f}" if result.get("image_match") is not None else "")
    )
    if path.suffix.lower() == ".md":
        img_dir = path.with_name(path.stem + "_images")
        img_dir.mkdir(exist_ok=True)
        lines = [f"# Evaluation: {len(idx)} worst predictions", "", summary, "",
                 "| # | image | gold | prediction | edit distance |", "|---|---|---|---|---|"]
        for i in idx:
            png = _png_bytes(images[i])
            cell = "(unreadable)"
            if png is not None:
                (img_dir / f"{i:06d}.png").write_bytes(png)
                cell = f"![{i}]({img_dir.name}/{i:06d}.png)"
            pred = result["predictions"][i] or f"*(no prediction: {result['errors'][i] or 'empty'})*"
            lines.append(f"| {i} | {cell} | `{_md(formulas[i])}` | `{_md(pred)}` | {result['edit_distances'][i]} |")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    rows = []
    for i in idx:
        png = _png_bytes(images[i])
        img_html = (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                    if png is not None else "(unreadable)")
        pred = result["predictions"][i]
        pred_html = (f"<code>{html.escape(pred)}</code>" if pred
                     else f"<em>no prediction: {html.escape(result['errors'][i] or 'empty')}</em>")
        rows.append(f"<tr><td>{i}</td><td>{img_html}</td><td><code>{html.escape(formulas[i])}</code></td>"
                    f"<td>{pred_html}</td><td>{result['edit_distances'][i]}</td></tr>")
    doc = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>latexsnip eval report</title>\n"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top}code{white-space:pre-wrap;"
        "word-break:break-all}td:nth-child(3),td:nth-child(4){max-width:40em}img{max-width:40em}</style>"
        f"</head><body><h1>{len(idx)} worst predictions</h1><p>{html.escape(summary)}</p>\n"
        "<table><tr><th>#</th><th>image</th><th>gold</th><th>prediction</th><th>edit distance</th></tr>\n"
        + "\n".join(rows) + "\n</table></body></html>\n"
    )
    path.write_text(doc, encoding="utf-8")
    return path


def write_predictions(path: str | Path, formulas: Sequence[str], result: dict[str, Any]) -> None:
    """One JSON line per item of ``evaluate``'s ``result``: ``gold``, ``prediction``, ``edit`` (token edit
    distance), ``error``, with the render check ``model_choice`` (what the model alone chose), and where the readings
    offered others, ``alternatives``."""
    unchecked = result.get("unchecked_predictions")
    alternatives = result.get("alternatives")
    with open(path, "w", encoding="utf-8") as fh:
        for i, gold in enumerate(formulas):
            row: dict[str, Any] = {"gold": gold, "prediction": result["predictions"][i],
                                   "edit": result["edit_distances"][i], "error": result["errors"][i]}
            if unchecked is not None:
                row["model_choice"] = unchecked[i]
            if alternatives is not None:
                row["alternatives"] = alternatives[i]
            fh.write(json.dumps(row) + "\n")


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("`", "'")


# --------------------------------------------------------------------------------------------
# CLI


def _positive(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Evaluate weights on a dataset split (im2markup metrics).")
    p.add_argument("--weights", required=True, help="the .safetensors checkpoint")
    p.add_argument("--data", required=True, help="hub id, saved dataset dir, parquet dir or pack dir")
    p.add_argument("--split", default="test", help="split to evaluate (default: test)")
    p.add_argument("--limit", type=_positive, default=None, help="evaluate only the first N items")
    p.add_argument("--beam", type=_positive, default=1, help="beam width (default 1 = greedy)")
    p.add_argument("--batch", type=_positive, default=32, help="images per recognise call (default 32)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--int8", choices=("auto", "on", "off"), default="auto",
                   help="int8 decoder weights and, where the weights carry its ranges, ResNet body (core.int8): "
                        "auto = on a CPU without fast bf16, as the app does")
    p.add_argument("--preprocess", metavar="JSON",
                   help="JSON overrides of the checkpoint's preprocessing for this evaluation only, e.g. "
                   "'{\"glyph_height\": 10.5}' (to choose settings that `python -m training.retune` then writes); "
                   "'{\"retry_glyph_heights\": []}' reads every snip once")
    p.add_argument("--json", action="store_true", help="print exactly one JSON line of metrics")
    p.add_argument("--report", metavar="FILE", help="write the worst predictions: FILE.html, or FILE.md + PNGs")
    p.add_argument("--report-count", type=_positive, default=50, help="items in the report (default 50)")
    p.add_argument("--predictions", metavar="FILE.jsonl", help="write every item as one JSON line: gold, prediction, "
                   "edit distance and (with --render-check) the model's own choice, to study what was misread")
    p.add_argument("--image-match", action="store_true", help="also render both sides and compare images (needs TeX)")
    add_render_check_arguments(p)
    p.add_argument("--workers", type=_positive, default=2,
                   help="render processes for --image-match and --render-check (default 2)")
    p.add_argument("--gold", metavar="TSV", help="the split's full formula list (TSV with a formula_norm or formula "
                   "column and a split column, e.g. the im2latex hf_like_subset.tsv): its formulas that DATA has no "
                   "image for are scored as empty predictions, so BLEU/edit/exact are over the whole split")
    return p


class _Progress:
    def __init__(self, label: str) -> None:
        self.label = label
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - self.last < (0.5 if self.tty else 10.0):
            return
        self.last = now
        rate = done / max(now - self.t0, 1e-9)
        msg = f"{self.label}: {done}/{total} ({rate:.1f}/s)"
        if self.tty:
            print("\r" + msg, end="\n" if done >= total else "", file=sys.stderr, flush=True)
        else:
            print(msg, file=sys.stderr, flush=True)


def _load_data(source: str, split: str, limit: int | None) -> tuple[list[str], list[bytes]]:
    try:
        from training.dataset import load_samples
    except ImportError as e:
        raise LatexSnipError(f"cannot load data: {e}") from None
    try:
        return load_samples(source, split, limit)
    except LatexSnipError:
        raise
    except ImportError as e:
        raise LatexSnipError(f"cannot load data: missing module ({e})") from None
    except (OSError, ValueError, KeyError) as e:
        raise LatexSnipError(f"{source}: cannot load split {split!r} ({type(e).__name__}: {e})") from None


def gold_formulas(tsv: str, split: str, option: str = "--gold") -> list[str]:
    """Formulas of ``split`` in a TSV with a header (column formula_norm, else formula; all rows
    when it has no split column). ``option`` names the flag that gave TSV in error messages."""
    import csv

    try:
        with open(tsv, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    except OSError as e:
        raise LatexSnipError(f"{option} {tsv}: {e.strerror or e}") from None
    if not rows or not ({"formula_norm", "formula"} & set(rows[0])):
        raise LatexSnipError(f"{option} {tsv}: expected a TSV with a formula_norm or formula column")
    col = "formula_norm" if "formula_norm" in rows[0] else "formula"
    return [r[col] for r in rows if r.get("split", split) == split]


def score_missing_as_empty(res: dict[str, Any], formulas: Sequence[str], gold: Sequence[str]) -> dict[str, Any]:
    """Metrics over ``gold``: the gold formulas (as a multiset) that ``formulas`` lacks count as
    empty predictions. Adds ``missing``; ``n`` becomes the number of formulas scored."""
    have = Counter(formulas)
    missing: list[str] = []
    for f in gold:
        if have[f] > 0:
            have[f] -= 1
        else:
            missing.append(f)
    refs = [tokenize(f) for f in [*formulas, *missing]]
    hyps = [p.split() for p in res["predictions"]] + [[] for _ in missing]
    out = {**res, "n": len(refs), "missing": len(missing), **text_metrics(refs, hyps)}
    if "unchecked_predictions" in res:
        unchecked = [p.split() for p in res["unchecked_predictions"]] + [[] for _ in missing]
        out["without_render_check"] = text_metrics(refs, unchecked)
    if "exact_offered" in res:  # a missing formula is offered nothing
        out["exact_offered"] = res["exact_offered"] * len(formulas) / max(len(refs), 1)
    return out


def _load_recognizer(weights: Path, device: str, int8: str = "auto") -> Any:
    from core.int8 import int8_flag  # torch: imported only once the arguments are valid
    from core.recognizer import Recognizer

    return Recognizer.load(weights, device, int8_flag(int8))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        weights = Path(args.weights)
        if not weights.is_file():
            raise LatexSnipError(f"{weights}: no such weights file")
        recognizer = _load_recognizer(weights, args.device, args.int8)
        if args.preprocess:
            from core.preprocess import config_with

            recognizer.preprocess_config = config_with(recognizer.preprocess_config, args.preprocess)
        print(f"loading {args.data} [{args.split}] ...", file=sys.stderr, flush=True)
        formulas, images = _load_data(args.data, args.split, args.limit)
        renderer = renderers_for(args, workers=args.workers)
        res = evaluate(recognizer, images, formulas, beam=args.beam, batch=args.batch,
                       progress=_Progress("recognising"), renderer=renderer)
        if res["failed"]:
            print(f"note: {res['failed']} image(s) could not be recognised; scored as empty predictions",
                  file=sys.stderr)
        if args.predictions:  # the items of DATA, before --gold adds the missing ones
            write_predictions(args.predictions, formulas, res)
            print(f"predictions written to {args.predictions}", file=sys.stderr)
        if args.gold:
            scored = score_missing_as_empty(res, formulas, gold_formulas(args.gold, args.split))
            print(f"note: {scored['missing']} formula(s) of {args.gold} have no image in {args.data}; "
                  "scored as empty predictions", file=sys.stderr)
            res = scored
        if args.image_match:
            from training.metrics import image_match_rate

            try:
                res["image_match"] = image_match_rate(
                    formulas, res["predictions"], workers=args.workers, progress=_Progress("rendering"),
                    log=lambda s: print(s, file=sys.stderr),
                )
            except LatexSnipError as e:
                print(f"image match skipped: {e}", file=sys.stderr)
        if args.report:
            out = write_report(args.report, images, formulas, res, args.report_count)
            print(f"report written to {out}", file=sys.stderr)
        metrics = {k: res[k] for k in METRIC_KEYS if k in res}
        if args.json:
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}))
        else:
            check = ", render check" if args.render_check else ""
            print(f"evaluated {res['n']} images of {args.data} [{args.split}] with {weights.name} "
                  f"(beam {args.beam}{check})")
            if "missing" in res:
                print(f"  missing      {res['missing']} (no image; scored as empty)")
            print(f"  BLEU-4       {res['bleu']:.2f}")
            print(f"  edit score   {res['edit_score']:.4f}")
            print(f"  exact match  {res['exact_match']:.4f} (ignoring {{ }}: {res['exact_ignoring_braces']:.4f}; "
                  f"also spacing commands: {res['exact_ignoring_braces_spacing']:.4f})")
            if "image_match" in res:
                print(f"  image match  {res['image_match']:.4f}")
            print(f"  speed        {res['ms_per_image']:.1f} ms/image")
            if res["failed"]:
                print(f"  unreadable   {res['failed']} (scored as empty)")
            if "without_render_check" in res:
                w = res["without_render_check"]
                print(f"  render check changed {res['render_check_changed']} reading(s); without it: BLEU-4 "
                      f"{w['bleu']:.2f}, edit score {w['edit_score']:.4f}, exact match {w['exact_match']:.4f}")
            if "exact_offered" in res:
                print(f"  offered      {res['exact_offered']:.4f} (the gold is the reading or one of the others "
                      "offered)")
        return 0
    except (LatexSnipError, OSError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
