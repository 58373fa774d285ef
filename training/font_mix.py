"""Make the font/anti-aliasing mix pack the shipped weights were fine-tuned on (see the model card).

    python -m training.font_mix --pack data/pack --out data/fontpack [--n 6000] [--base all [--base-limit K]]
        [--favour FORMULAS.tsv --favour-copies K] [--variants times,palatino,cm-aa,cm-110,cm-135,poppler-100,...]
        [--respace N] [--wide BUILD_REPORT [--wide-max-width W] [--wide-max-height H] [--wide-min-height H]
        [--wide-copies K] [--wide-variants times,cm-aa,poppler-100] [--hold-out FILE]]

Renders N random training formulas of PACK in Times, Palatino and anti-aliased (not binarized)
Computer Modern (``--variants`` picks them, and can add low-resolution binarized Computer Modern
at 110 / 135 dpi, or pages drawn as PDF viewers draw them: ``poppler-100``, ``mupdf-100``,
``poppler-150``, ``training.viewer_render``, or as web pages show MathJax's rendering: ``mathjax-100``,
``mathjax-150``, ``training.web_render``; both kept with 16 grays instead of the pack's 4), adds as many
Computer Modern images from PACK (or, with ``--base all``, every training image of PACK), copies PACK's
val split (if it has one).

``--favour`` names a TSV (column ``formula_norm`` or ``formula``; only the rows of
``--favour-split`` when it has a split column): the training formulas of PACK listed there (for us the genuine im2latex val formulas, the in-domain part of the training set)
are always among the rendered ones and their Computer Modern images appear K more times, so the
mix leans towards im2latex's own way of writing formulas.

``--respace N`` adds N more Computer Modern renders of training formulas (not favoured ones) with
spacing commands written in (``training.respace``), so the widths of ``\\,`` ``\\;`` ``~`` ``\\quad``
are learned from images.

``--wide BUILD_REPORT`` adds Computer Modern renders (200 dpi, binarized) of the training formulas
that ``latexsnip data build`` left out as too big for the 320x64 canvas (its ``build_report.json``),
those at most ``--wide-max-width`` px wide and ``--wide-max-height`` (56) px high: long formulas, which
a model trained on 320-px canvases reads only shrunk (train with a wider canvas: ``--preprocess
'{"width": 768}'``). A larger ``--wide-max-height`` adds tall formulas (arrays, stacked fractions; a
taller canvas: ``max_height``), ``--wide-min-height`` keeps only those higher than it, and each render
appears ``--wide-copies`` times. ``--wide-variants`` renders the formulas kept so in those renderings too
(a Ghostscript rendering kept when it fits the same limits; a PDF viewer's or MathJax's at its own scale, whatever
its size, as the app's preprocessing scales it), so a head for long and tall formulas also sees other fonts,
screen snips and PDF viewers' pages.
``--hold-out FILE`` (one formula per line) names formulas never added, e.g. the validation formulas
``bench/long_formulas.py --split val --list FILE`` scores.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Sequence

from PIL import Image

from core.errors import LatexSnipError
from training.data_load import available_splits
from training.evaluate import gold_formulas
from training.pack import PackError, encode_png, read_pack, write_pack
from training.render import render_formulas
from training.respace import respace
from training.viewer_render import ViewerMissingError, check_viewer, viewer_snips
from training.web_render import WebRendererMissingError, check_web_renderer, web_snips

# name -> (font, binarize, dpi). The pack's own images are Computer Modern, binarized, 200 dpi.
VARIANTS: dict[str, tuple[str, bool, int]] = {
    "times": ("times", True, 200),
    "palatino": ("palatino", True, 200),
    "cm-aa": ("cm", False, 200),  # anti-aliased, like a screen snip
    "cm-110": ("cm", True, 110),  # low resolution: glyphs ~0.55x, as in a snip of a small PDF zoom
    "cm-135": ("cm", True, 135),
}
# name -> (viewer, dpi): the pdflatex page drawn as a PDF viewer draws it (``training.viewer_render``; needs poppler
# or MuPDF: ``make bench-deps``), anti-aliased with thinner, lighter strokes than any Ghostscript render.
VIEWER_VARIANTS: dict[str, tuple[str, int]] = {
    "poppler-100": ("poppler", 100),  # Evince / Okular at about 100%
    "mupdf-100": ("mupdf", 100),  # Zathura / SumatraPDF
    "poppler-150": ("poppler", 150),  # zoomed in
}
# name -> zoom: the formula as a web page at that zoom shows MathJax's rendering (``training.web_render``; needs Node.js,
# MathJax and librsvg: ``make bench-deps``), its own fonts, outlines anti-aliased at 16 px per em at 100%.
WEB_VARIANTS: dict[str, float] = {
    "mathjax-100": 1.0,
    "mathjax-150": 1.5,
}
# Gray levels a viewer or web render keeps in the pack: the default 4 would turn its light stroke edges white or mid-gray.
VIEWER_LEVELS = 16
DEFAULT_VARIANTS = "times,palatino,cm-aa"
# Largest render --wide keeps: 56 px high (64 with the 4-px pad), at most --wide-max-width px wide.
WIDE_MAX_HEIGHT = 56
WIDE_MAX_WIDTH = 592
_PAD2 = 8  # the build report's processed image has 4 px of white on each side of the render


def parse_variants(text: str) -> list[str]:
    """'times,cm-110' -> ['times', 'cm-110']; ValueError naming the known ones otherwise."""
    if text.strip() == "none":
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS and n not in VIEWER_VARIANTS and n not in WEB_VARIANTS]
    if unknown or not names:
        raise ValueError(f"unknown variant(s) {', '.join(unknown) or '(none given)'}; known: "
                         f"{', '.join([*VARIANTS, *VIEWER_VARIANTS, *WEB_VARIANTS])}, none")
    return names


def too_big_formulas(report_path: str, max_width: int, max_height: int = WIDE_MAX_HEIGHT) -> list[str]:
    """Training formulas a build report lists as too big whose render (the report's processed image
    less its 4-px pad on each side) is at most ``max_width`` x ``max_height`` px; ValueError when the
    file is no build report."""
    try:
        with open(report_path, encoding="utf-8") as fh:
            failures = json.load(fh)["failures"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{report_path}: not a readable build_report.json ({type(e).__name__}: {e})") from None
    out = []
    for f in failures:
        reason = str(f.get("reason", ""))
        if f.get("split") != "train" or not reason.startswith("too_big"):
            continue
        m = re.search(r"(\d+)x(\d+) exceeds", reason)
        size = f.get("size") or ([int(m[1]), int(m[2])] if m else None)
        if size is not None and size[0] - _PAD2 <= max_width and size[1] - _PAD2 <= max_height:
            out.append(str(f["formula"]))
    return out


def _fitting(formulas: list[str], images: Sequence[Image.Image | None], max_size: tuple[int, int] | None
             ) -> list[tuple[str, Image.Image]]:
    """(formula, image) of the formulas that were drawn and fit ``max_size`` (None: whatever their size)."""
    return [(f, im) for f, im in zip(formulas, images, strict=True)
            if im is not None and (max_size is None or (im.width <= max_size[0] and im.height <= max_size[1]))]


def _drawn_fits(name: str, formulas: list[str], workers: int, max_size: tuple[int, int] | None = (312, 64)
                ) -> tuple[list[tuple[str, Image.Image]], str]:
    """``formulas`` drawn by the PDF viewer variant ``name`` (``training.viewer_render``) or the web one (MathJax,
    ``training.web_render``); those drawn that fit ``max_size`` (None: any size), and how they were drawn."""
    if name in VIEWER_VARIANTS:
        viewer, dpi = VIEWER_VARIANTS[name]
        return _fitting(formulas, viewer_snips(formulas, viewer, dpi, workers=workers), max_size), f"{viewer}, {dpi} dpi"
    zoom = WEB_VARIANTS[name]
    return _fitting(formulas, web_snips(formulas, zoom, workers=workers), max_size), f"MathJax, zoom {zoom:g}"


def _read_lines(path: str) -> set[str]:
    with open(path, encoding="utf-8") as fh:
        return {line.strip() for line in fh if line.strip()}


def _render_fits(formulas: list[str], font: str, dpi: int, binarize: bool, workers: int,
                 max_size: tuple[int, int] = (312, 64)) -> list[tuple[str, Image.Image]]:
    """Render ``formulas``; keep those that compile and fit ``max_size`` (default: the training canvas)."""
    results = render_formulas(formulas, font=font, dpi=dpi, workers=workers, binarize=binarize)
    return _fitting(formulas, [r.image for r in results], max_size)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=6000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--base", choices=["same", "all"], default="same",
                   help="Computer Modern images from PACK: as many as the renders (same) or all of them")
    p.add_argument("--base-limit", type=int, default=0,
                   help="with --base all: keep at most this many of PACK's training images (the favoured "
                        "ones always), e.g. to fit a pack into a GPU machine's 64 MiB transfer; 0 = no limit")
    p.add_argument("--favour", help="TSV of formulas to favour (always rendered, CM images repeated)")
    p.add_argument("--favour-copies", type=int, default=1,
                   help="extra copies of each favoured formula's Computer Modern image (default 1)")
    p.add_argument("--variants", default=DEFAULT_VARIANTS,
                   help=f"renderings to add, comma-separated (default {DEFAULT_VARIANTS}; known: {', '.join(VARIANTS)}; "
                        f"drawn by a PDF viewer's library or MathJax, `make bench-deps`: "
                        f"{', '.join([*VIEWER_VARIANTS, *WEB_VARIANTS])})")
    p.add_argument("--favour-split", default="val",
                   help="rows of --favour to use when it has a split column (default val)")
    p.add_argument("--respace", type=int, default=0,
                   help="also render this many training formulas with spacing commands inserted (default 0)")
    p.add_argument("--wide", metavar="BUILD_REPORT",
                   help="also render the training formulas `latexsnip data build` left out as too big "
                        "(its build_report.json) that fit --wide-max-width x 56 px")
    p.add_argument("--wide-max-width", type=int, default=WIDE_MAX_WIDTH,
                   help=f"widest render --wide keeps, px (default {WIDE_MAX_WIDTH})")
    p.add_argument("--wide-max-height", type=int, default=WIDE_MAX_HEIGHT,
                   help=f"highest render --wide keeps, px (default {WIDE_MAX_HEIGHT}: none taller than the canvas)")
    p.add_argument("--wide-min-height", type=int, default=0,
                   help="--wide keeps only renders higher than this, px (default 0: all)")
    p.add_argument("--wide-copies", type=int, default=1, help="times each --wide render appears (default 1)")
    p.add_argument("--wide-variants", default="none",
                   help="--wide also renders its formulas in these renderings, comma-separated, each with "
                        f"--wide-copies copies (default none: Computer Modern 200 dpi only; known: "
                        f"{', '.join([*VARIANTS, *VIEWER_VARIANTS, *WEB_VARIANTS])})")
    p.add_argument("--hold-out", metavar="FILE", help="formulas (one per line) that --wide never adds")
    args = p.parse_args(argv)
    try:
        variants = parse_variants(args.variants)
        wide_variants = parse_variants(args.wide_variants)
    except ValueError as e:
        print(f"error: --variants / --wide-variants: {e}", file=sys.stderr)
        return 2
    try:
        if args.wide_copies < 1 or args.wide_min_height >= args.wide_max_height:
            raise ValueError("--wide-copies must be >= 1 and --wide-min-height below --wide-max-height")
        wide = too_big_formulas(args.wide, args.wide_max_width, args.wide_max_height) if args.wide else []
        held = _read_lines(args.hold_out) if args.hold_out else set()
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        formulas, pngs = read_pack(args.pack, "train")
        # a pack of training formulas alone (e.g. synthetic ones) has no val split to copy
        val = read_pack(args.pack, "val") if "val" in available_splits(args.pack) else ([], [])
    except PackError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    try:
        listed = gold_formulas(args.favour, args.favour_split, "--favour") if args.favour else []
        favoured_set = {f.strip() for f in listed}
    except LatexSnipError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    favoured = [i for i, f in enumerate(formulas) if f in favoured_set]
    others = [i for i, f in enumerate(formulas) if f not in favoured_set]
    picked = [formulas[i] for i in favoured + rng.sample(others, min(args.n, len(others)))]
    if args.favour:
        print(f"favouring {len(favoured)} training formulas listed in {args.favour}", file=sys.stderr)
    for name in dict.fromkeys([*variants, *wide_variants]):  # before any rendering
        try:
            if name in VIEWER_VARIANTS:
                check_viewer(VIEWER_VARIANTS[name][0])
            elif name in WEB_VARIANTS:
                check_web_renderer()
        except (ViewerMissingError, WebRendererMissingError) as e:
            print(f"error: {name}: {e}", file=sys.stderr)
            return 2
    rows: list[tuple[str, Image.Image]] = []
    viewer_rows: list[tuple[str, Image.Image]] = []  # drawn by a PDF viewer's library or MathJax: VIEWER_LEVELS grays
    for name in variants:
        if name in VIEWER_VARIANTS or name in WEB_VARIANTS:
            fits, how = _drawn_fits(name, picked, args.workers)
            viewer_rows += fits
            print(f"{name} ({how}, {VIEWER_LEVELS} grays): {len(fits)} of {len(picked)} drawn and fit", file=sys.stderr)
            continue
        font, binarize, dpi = VARIANTS[name]
        fits = _render_fits(picked, font, dpi, binarize, args.workers)
        rows += fits
        print(f"{name} ({font}, binarize={binarize}, {dpi} dpi): {len(fits)} of {len(picked)} rendered and fit", file=sys.stderr)
    if args.respace > 0:
        spaced = [" ".join(respace(formulas[i].split(), rng)) for i in rng.sample(others, min(args.respace, len(others)))]
        fits = _render_fits(spaced, "cm", 200, True, args.workers)
        rows += fits
        print(f"respaced (cm, 200 dpi): {len(fits)} of {len(spaced)} rendered and fit", file=sys.stderr)
    if wide:
        kept = [f for f in wide if f.strip() not in held]
        n_held = len(wide) - len(kept)
        for name in ["wide", *wide_variants]:
            if name in VIEWER_VARIANTS or name in WEB_VARIANTS:  # its own scale: the size limits do not apply
                fits, how = _drawn_fits(name, kept, args.workers, max_size=None)
                viewer_rows += fits * args.wide_copies
                print(f"wide {name} ({how}, {VIEWER_LEVELS} grays): {len(fits)} of {len(kept)} drawn, "
                      f"{args.wide_copies} copies", file=sys.stderr)
                continue
            font, binarize, dpi = ("cm", True, 200) if name == "wide" else VARIANTS[name]
            fits = _render_fits(kept, font, dpi, binarize, args.workers, (args.wide_max_width, args.wide_max_height))
            fits = [(f, im) for f, im in fits if im.height > args.wide_min_height]
            rows += fits * args.wide_copies
            label = name if name == "wide" else f"wide {name}"
            print(f"{label} ({font}, binarize={binarize}, {dpi} dpi): {len(fits)} of {len(kept)} rendered and fit "
                  f"({n_held} held out), {args.wide_copies} copies", file=sys.stderr)
            if name == "wide":  # the other renderings: only the formulas whose Computer Modern render was kept
                kept = list(dict.fromkeys(f for f, _ in fits))
    if args.base == "same":
        base: Sequence[int] = rng.sample(range(len(formulas)), min(len(formulas), len(rows) + len(viewer_rows)))
    elif 0 < args.base_limit < len(formulas):
        base = sorted(favoured + rng.sample(others, max(0, args.base_limit - len(favoured))))
    else:
        base = range(len(formulas))
    encoded: list[tuple[str, bytes]] = [(f, b) for f, b in ((f, encode_png(im)) for f, im in rows) if b is not None]
    encoded += [(f, b) for f, b in ((f, encode_png(im, VIEWER_LEVELS)) for f, im in viewer_rows) if b is not None]
    encoded += [(formulas[i], pngs[i]) for i in base]
    encoded += [(formulas[i], pngs[i]) for i in favoured for _ in range(args.favour_copies)]
    write_pack(args.out, {"train": encoded, "val": list(zip(*val, strict=True))}, already_encoded=True)
    print(f"wrote {args.out}: {len(encoded)} training images", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
