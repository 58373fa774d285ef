"""Robustness of the shipped weights to how a formula image was made.

Takes the first N test formulas of the im2latex subset, renders them once per variant (other
fonts, other resolutions, a screen-like anti-aliased zoomed snip, pages drawn by PDF viewers, formulas
as web pages show MathJax's rendering, dark mode, a loose hand-dragged crop, heavy JPEG) and decodes them with the shipped weights (greedy unless ``--beam`` says; ``--render-check``
keeps the hypothesis whose rendering draws the image most closely, as ``latexsnip eval --render-check``). Prints one JSON line per
variant {variant, n_rendered, bleu, edit_score, exact_match, int8, int8_body}, then a Markdown table (to ``--out``
when given; docs/robustness.md is a curated page, so the table is never written there unless asked).
The precision is the app's choice for this CPU (int8 decoder weights without fast bf16, and an int8 ResNet
body where the weights carry its ranges) unless ``--int8 on|off`` says.

Formulas that fail to render in a variant (or that the recogniser rejects) count as misses with
an empty prediction, so every variant is scored on the same N references.

    python bench/robustness.py [-n 300] [--weights P] [--out FILE.md] [--int8 auto|on|off]
                               [--beam N] [--render-check]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.errors import LatexSnipError
from core.int8 import int8_flag
from core.paths import default_weights_path
from core.preprocess import config_with
from core.recognizer import Recognizer
from core.render_match import Renderer
from training.evaluate import gold_formulas, recognize_chunk
from training.metrics import corpus_bleu, edit_score, exact_match, exact_offered
from training.render import add_render_check_arguments, render_formulas, renderers_for
from training.viewer_render import ViewerMissingError, viewer_snips
from training.web_render import WebRendererMissingError, web_snips

DEFAULT_TSV = "/work/shared/im2latex/formulas/hf_like_subset.tsv"
SEED = 0


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    render: dict  # keyword arguments for render_formulas
    post: Callable[[Image.Image, random.Random], Image.Image] | None = None
    # Another way to draw the formulas than training.render's (one image or None per formula); then only the
    # formulas that render_formulas(**render) draws are drawn, so that every variant has the same images missing.
    source: Callable[[Sequence[str]], list[Image.Image | None]] | None = None


def _screen_zoom(im: Image.Image, rng: random.Random) -> Image.Image:
    w, h = im.size
    return im.resize((round(w * 1.5), round(h * 1.5)), Image.Resampling.BILINEAR)


def _invert(im: Image.Image, rng: random.Random) -> Image.Image:
    return Image.fromarray(255 - np.asarray(im.convert("L")), "L")


def _loose_crop(im: Image.Image, rng: random.Random) -> Image.Image:
    """Random 10-60 px white margins per side plus a 1-px gray line along one edge."""
    im = im.convert("L")
    w, h = im.size
    left, top, right, bottom = (rng.randint(10, 60) for _ in range(4))
    canvas = Image.new("L", (w + left + right, h + top + bottom), 255)
    canvas.paste(im, (left, top))
    arr = np.array(canvas)
    gray = rng.randint(120, 200)
    edge = rng.choice(["top", "bottom", "left", "right"])
    if edge == "top":
        arr[0, :] = gray
    elif edge == "bottom":
        arr[-1, :] = gray
    elif edge == "left":
        arr[:, 0] = gray
    else:
        arr[:, -1] = gray
    return Image.fromarray(arr, "L")


def _jpeg40(im: Image.Image, rng: random.Random) -> Image.Image:
    buf = io.BytesIO()
    im.convert("L").save(buf, format="JPEG", quality=40)
    buf.seek(0)
    with Image.open(buf) as out:
        out.load()
        return out


BASE = {"font": "cm", "dpi": 200}
VARIANTS: list[Variant] = [
    Variant("baseline", "cm, 200 dpi, binarized (the training rendering)", BASE),
    Variant("font_times", "Times (mathptmx), 200 dpi", {"font": "times", "dpi": 200}),
    Variant("font_palatino", "Palatino (mathpazo), 200 dpi", {"font": "palatino", "dpi": 200}),
    Variant("dpi_300", "cm, 300 dpi (glyphs 1.5x bigger)", {"font": "cm", "dpi": 300}),
    Variant("dpi_120", "cm, 120 dpi (glyphs 0.6x smaller)", {"font": "cm", "dpi": 120}),
    Variant(
        "screen",
        "cm, 200 dpi, anti-aliased, not binarized, then upscaled 1.5x bilinear (zoomed browser snip)",
        {"font": "cm", "dpi": 200, "binarize": False, "antialias": True},
        _screen_zoom,
    ),
    Variant(
        "screen_pdf",
        "cm, 200 dpi, anti-aliased, not binarized (a PDF viewer's page grabbed at the training scale)",
        {"font": "cm", "dpi": 200, "binarize": False, "antialias": True},
    ),
    Variant(
        "screen_hidpi",
        "cm, 300 dpi, anti-aliased, not binarized (the same on a HiDPI screen, glyphs 1.5x bigger)",
        {"font": "cm", "dpi": 300, "binarize": False, "antialias": True},
    ),
    Variant(
        "pdf_viewer",
        "cm PDF page drawn by poppler (pdftoppm, Evince / Okular) at 100 dpi, its own anti-aliasing (a PDF at 100%)",
        BASE,
        source=partial(viewer_snips, viewer="poppler", dpi=100),
    ),
    Variant(
        "pdf_viewer_mupdf",
        "the same drawn by MuPDF (mutool, Zathura / SumatraPDF) at 100 dpi",
        BASE,
        source=partial(viewer_snips, viewer="mupdf", dpi=100),
    ),
    Variant(
        "pdf_viewer_zoom",
        "the same drawn by poppler at 150 dpi (the page zoomed to 150%, glyphs 1.5x bigger)",
        BASE,
        source=partial(viewer_snips, viewer="poppler", dpi=150),
    ),
    Variant(
        "web_mathjax",
        "MathJax's SVG (its own TeX fonts) drawn by librsvg at 16 px per em, anti-aliased (a web page at 100%)",
        BASE,
        source=web_snips,
    ),
    Variant(
        "web_mathjax_zoom",
        "the same at 24 px per em (the page zoomed to 150%, or a HiDPI screen)",
        BASE,
        source=partial(web_snips, zoom=1.5),
    ),
    Variant("dark_mode", "baseline inverted (light ink on black)", BASE, _invert),
    Variant(
        "loose_crop",
        "baseline + random 10-60 px white margins per side + 1-px gray line at one edge",
        BASE,
        _loose_crop,
    ),
    Variant("jpeg_q40", "baseline saved as JPEG quality 40", BASE, _jpeg40),
]


def _recognize_all(
    rec: Recognizer, images: Sequence[Image.Image | None], batch: int, beam: int = 1, renderer: Renderer | Sequence[Renderer] | None = None
) -> tuple[list[list[str]], list[list[str]], list[list[list[str]]]]:
    """Token lists; [] for a missing image or one the recogniser rejects. Twice: as read, and as the model alone
    chose (different only where a render check kept another reading); and each image's other readings offered
    (``Prediction.alternatives``). Read as ``latexsnip eval`` reads (``training.evaluate.recognize_chunk``)."""
    hyps: list[list[str]] = [[] for _ in images]
    firsts: list[list[str] | None] = [None for _ in images]
    offered: list[list[list[str]]] = [[] for _ in images]
    present = [i for i, im in enumerate(images) if im is not None]
    for s in range(0, len(present), batch):
        idx = present[s : s + batch]
        for i, r in zip(idx, recognize_chunk(rec, [images[i] for i in idx], beam, renderer), strict=True):
            hyps[i], firsts[i], offered[i] = r.tokens, r.first_choice, r.alternatives
    return hyps, [h if f is None else f for h, f in zip(hyps, firsts, strict=True)], offered


def variant_images(
    v: Variant, formulas: Sequence[str], workers: int, cache: dict[str, list] | None = None
) -> tuple[list[Image.Image | None], float]:
    """Rendered (deterministic: variants with the same render options share it) and
    post-processed images, None where a formula does not render; and the render seconds."""
    key = json.dumps(v.render, sort_keys=True)
    t0 = time.perf_counter()
    if cache is not None and key in cache:
        results = cache[key]
    else:
        results = render_formulas(formulas, workers=workers, **v.render)
        if cache is not None:
            cache[key] = results
    t_render = time.perf_counter() - t0
    rng = random.Random(f"{SEED}:{v.name}")
    images: list[Image.Image | None] = []
    if v.source is not None:
        drawn = [i for i, r in enumerate(results) if r.image is not None]
        t0 = time.perf_counter()
        by_index = dict(zip(drawn, v.source([formulas[i] for i in drawn]), strict=True))
        return [by_index.get(i) for i in range(len(formulas))], t_render + time.perf_counter() - t0
    for r in results:
        if r.image is None:
            images.append(None)
        else:
            images.append(v.post(r.image, rng) if v.post is not None else r.image)
    return images, t_render


def score_variant(
    v: Variant, formulas: Sequence[str], images: Sequence[Image.Image | None], rec: Recognizer, batch: int,
    beam: int = 1, renderer: Renderer | Sequence[Renderer] | None = None,
) -> dict:
    t1 = time.perf_counter()
    hyps, unchecked, offered = _recognize_all(rec, images, batch, beam, renderer)
    t_rec = time.perf_counter() - t1
    refs = [f.split() for f in formulas]
    checked = {} if renderer is None else {
        "bleu_unchecked": round(corpus_bleu(refs, unchecked), 2), "exact_unchecked": round(exact_match(refs, unchecked), 4)}
    if beam > 1:  # the right reading kept or among the other readings offered (the result window's menu)
        checked["exact_offered"] = round(exact_offered(refs, hyps, offered), 4)
    return {
        "variant": v.name,
        "n": len(formulas),
        "n_rendered": sum(im is not None for im in images),
        "bleu": round(corpus_bleu(refs, hyps), 2),
        "edit_score": round(edit_score(refs, hyps), 4),
        "exact_match": round(exact_match(refs, hyps), 4),
        "recognize_s": round(t_rec, 1),
        **checked,
    }


def _header(title: str, command: str) -> list[str]:
    return [title, "", "Generated by:", "", "```", command, "```", ""]


def precision(rec: Recognizer) -> str:
    """What the recogniser computes in, as the written tables say it."""
    return f"ResNet body {rec.encoder_precision}, decoder {rec.decoder_precision}"


def comparison_markdown(
    rows: list[dict], command: str, labels: list[str], n: int, split: str = "test", precision: str = "float32",
    decoding: str = "greedy (beam 1)",
) -> str:
    """One row per variant, BLEU and exact match per weights file."""
    desc = {v.name: v.description for v in VARIANTS}
    head = " | ".join(f"BLEU {w}" for w in labels) + " | " + " | ".join(f"exact {w}" for w in labels)
    lines = [
        *_header("# Robustness: weights compared", command),
        f"The first {n} {split} formulas of the im2latex subset, rendered once per variant with",
        f"`training.render` and decoded {decoding} on CPU ({precision}) by each weights file; corpus BLEU-4",
        "(0-100) and exact token match. Formulas that fail to render count as empty predictions.",
        "",
        f"| variant | rendered | {head} | what it is |",
        "|---|---:|" + "---:|" * (2 * len(labels)) + "---|",
    ]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        by = {r["weights"]: r for r in rows if r["variant"] == variant}
        first = by[labels[0]]
        bleu = " | ".join(f"{by[w]['bleu']:.1f}" for w in labels)
        exact = " | ".join(f"{by[w]['exact_match']:.3f}" for w in labels)
        lines.append(f"| {variant} | {first['n_rendered']}/{first['n']} | {bleu} | {exact} | {desc.get(variant, '')} |")
    lines.append("")
    return "\n".join(lines)


def markdown(rows: list[dict], command: str, weights: str, n: int, split: str = "test", precision: str = "float32",
             decoding: str = "greedy (beam 1)") -> str:
    desc = {v.name: v.description for v in VARIANTS}
    lines = [
        *_header("# Robustness of the shipped weights", command),
        f"Weights: `{weights}`. The first {n} {split} formulas of the im2latex subset, rendered once per",
        f"variant with `training.render` and decoded {decoding} on CPU ({precision}). BLEU is corpus BLEU-4 (0-100)",
        "over tokens; edit score is 1 - token Levenshtein / max length; exact match is the fraction of",
        "formulas whose token sequence equals the reference.",
        "",
        "Formulas that fail to render in a variant (or that the recogniser rejects) count as misses",
        f"with an empty prediction, so every row is scored on the same {n} references; `rendered`",
        "says how many images the variant actually had.",
        "",
    ]
    checked = bool(rows) and "bleu_unchecked" in rows[0]
    offered = bool(rows) and "exact_offered" in rows[0]
    if checked:
        lines += ["The unchecked columns score the same readings as the model alone chooses among them (no render check).", ""]
    if offered:
        lines += ["Exact offered: the right reading is the one kept or one of the other readings the result window offers",
                  "(`Prediction.alternatives`).", ""]
    lines += [
        "| variant | rendered | BLEU | edit score | exact match |" + (" BLEU unchecked | exact unchecked |" if checked
                                                                       else "")
        + (" exact offered |" if offered else "") + " what it is |",
        "|---|---:|---:|---:|---:|" + ("---:|---:|" if checked else "") + ("---:|" if offered else "") + "---|",
    ]
    for r in rows:
        unchecked = f" {r['bleu_unchecked']:.1f} | {r['exact_unchecked']:.3f} |" if checked else ""
        more = f" {r['exact_offered']:.3f} |" if offered else ""
        lines.append(
            f"| {r['variant']} | {r['n_rendered']}/{r['n']} | {r['bleu']:.1f} | {r['edit_score']:.3f} | "
            f"{r['exact_match']:.3f} |{unchecked}{more} {desc.get(r['variant'], '')} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Score the shipped weights on the first N im2latex test formulas rendered "
        "in several variants (fonts, dpi, screen snip, dark mode, loose crop, JPEG).",
    )
    ap.add_argument(
        "-n", "--n", type=int, default=300, help="number of test formulas (default 300)"
    )
    ap.add_argument(
        "--tsv", default=DEFAULT_TSV, help="formula table (columns split, formula_norm)"
    )
    ap.add_argument("--split", default="test", choices=("test", "val"),
                    help="formulas of this split (default test; the first 300 val formulas are held out of training, "
                    "for choosing settings)")
    ap.add_argument("--weights", action="append", default=None,
                    help="weights file (default: the shipped weights); repeat to compare several in one table")
    ap.add_argument(
        "--out",
        default=None,
        help="file to write the Markdown table to (default: print it after the JSON lines; "
        "docs/robustness.md is curated by hand, so a run only replaces it when named here)",
    )
    ap.add_argument(
        "--variants",
        default=None,
        help="comma-separated subset of: " + ", ".join(v.name for v in VARIANTS),
    )
    ap.add_argument("--workers", type=int, default=2, help="render processes (default 2)")
    ap.add_argument("--beam", type=int, default=1, help="beam width (default 1 = greedy)")
    ap.add_argument("--preprocess", metavar="JSON",
                    help="JSON overrides of each weights file's preprocessing for this run only, e.g. "
                    "'{\"solid_ink\": 0}' (as `latexsnip eval --preprocess`)")
    add_render_check_arguments(ap)
    ap.add_argument("--batch", type=int, default=16, help="recognition batch size (default 16)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    ap.add_argument("--int8", choices=("auto", "on", "off"), default="auto",
                    help="int8 decoder (and ResNet body, given its ranges; core.int8); auto: on a CPU without fast bf16, as the app does")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    variants = VARIANTS
    if args.variants:
        wanted = [s.strip() for s in args.variants.split(",") if s.strip()]
        known = {v.name: v for v in VARIANTS}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            ap.error(f"unknown variant(s): {', '.join(unknown)}")
        variants = [known[w] for w in wanted]

    weights = args.weights or [str(default_weights_path())]
    shown = []
    for w in weights:
        try:
            shown.append(str(Path(w).resolve().relative_to(Path.cwd().resolve())))
        except ValueError:
            shown.append(w)
    formulas = gold_formulas(args.tsv, args.split)[: args.n]
    if not formulas:
        ap.error(f"no {args.split} formulas in {args.tsv}")
    try:
        recs = [Recognizer.load(w, args.device, int8_flag(args.int8)) for w in weights]
        for rec in recs:
            rec.preprocess_config = config_with(rec.preprocess_config, args.preprocess or "")
    except LatexSnipError as e:
        ap.error(str(e))
    labels = [Path(w).stem for w in weights]
    if len(set(labels)) < len(labels):
        labels = shown

    renderer = renderers_for(args, workers=args.workers)
    decoding = ("greedy (beam 1)" if args.beam == 1 else f"with beam {args.beam}") + (
        f", every hypothesis checked against its rendering in {' / '.join(args.render_fonts)} (`core.render_match`)" if renderer
        else "")
    rows = []
    cache: dict[str, list] = {}
    for v in variants:
        try:
            images, t_render = variant_images(v, formulas, args.workers, cache)
        except (ViewerMissingError, WebRendererMissingError) as e:
            print(f"skipped {v.name}: {e}", file=sys.stderr)
            continue
        for label, rec in zip(labels, recs, strict=True):
            row = {**score_variant(v, formulas, images, rec, args.batch, args.beam, renderer),
                   "render_s": round(t_render, 1),
                   "int8": rec.int8, "int8_body": rec.int8_body}
            if len(recs) > 1:
                row["weights"] = label
            rows.append(row)
            print(json.dumps(row), flush=True)

    command = "python bench/robustness.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    if len(recs) == 1:
        text = markdown(rows, command.strip(), shown[0], len(formulas), args.split, precision(recs[0]), decoding)
    else:
        text = comparison_markdown(rows, command.strip(), labels, len(formulas), args.split, precision(recs[0]),
                                   decoding)
    if args.out is None:
        print(text, end="")
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
