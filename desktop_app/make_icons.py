"""Render resources/icons/*.svg to PNG (16..256 px) for platforms without the Qt SVG plugin.

Usage: python -m desktop_app.make_icons
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

from desktop_app.paths import resources_dir  # noqa: E402


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    d = resources_dir() / "icons"
    for svg in sorted(d.glob("*.svg")):
        r = QSvgRenderer(str(svg))
        sizes = (16, 32, 64, 256) if svg.stem == "latexsnip" else (32,)
        for n in sizes:
            img = QImage(n, n, QImage.Format.Format_ARGB32)
            img.fill(Qt.GlobalColor.transparent)
            p = QPainter(img)
            r.render(p)
            p.end()
            out = d / (
                f"{svg.stem}.png" if n == sizes[-1] and len(sizes) == 1 else f"{svg.stem}-{n}.png"
            )
            img.save(str(out))
            print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
