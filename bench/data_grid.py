"""Picture grid for docs/data.md: genuine im2latex images next to our renderings of the same
formulas in several fonts and resolutions.

    python bench/data_grid.py [--out docs/data_grid.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

from core.normalize import normalize_latex
from training.render import genuine_samples, render_formulas

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "im2latex" / "sample"
VARIANTS = [("cm", 200), ("cm", 300), ("cm", 120), ("times", 200), ("palatino", 200)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("docs/data_grid.png"))
    p.add_argument("--rows", type=int, default=4)
    args = p.parse_args()
    picks: list[tuple[str, Image.Image]] = []
    for raw, img in genuine_samples(SAMPLE, ("test.lst",)):
        norm = normalize_latex(raw)
        if len(picks) < args.rows and norm and 12 <= len(norm.split()) <= 40:
            picks.append((norm, Image.open(img).convert("L")))
    columns = [("genuine im2latex", [im for _, im in picks])]
    for font, dpi in VARIANTS:
        res = render_formulas([f for f, _ in picks], font=font, dpi=dpi, workers=1)
        columns.append((f"{font} {dpi} dpi", [r.image or Image.new("L", (10, 10), 255) for r in res]))
    col_w = [max(im.width for im in ims) + 12 for _, ims in columns]
    row_h = [max(col[1][r].height for col in columns) + 8 for r in range(len(picks))]
    grid = Image.new("L", (sum(col_w), sum(row_h) + 20), 255)
    draw = ImageDraw.Draw(grid)
    x = 0
    for (title, ims), w in zip(columns, col_w, strict=True):
        draw.text((x + 4, 4), title, fill=0)
        y = 20
        for im, h in zip(ims, row_h, strict=True):
            grid.paste(im, (x + 4, y))
            y += h
        x += w
        draw.line([(x - 2, 0), (x - 2, grid.height)], fill=180)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
