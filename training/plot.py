"""`latexsnip plot LOG [--png OUT]`: training curves from the trainer's JSON-lines log.

Each log line is a dict with ``step`` and either ``loss`` (a training record) or validation
values ``val_bleu`` / ``val_edit`` / ``val_loss`` (``val_exact`` too when present). Lines that
are not JSON (e.g. a half-written last line while training runs) are ignored.

* ``write_curves_png(log_path, png_path)`` -- a static PNG (matplotlib, Agg backend).
* ``live_plot(log_path)`` -- a pyqtgraph window that re-reads the log every 2 s
  (``latexsnip train --plot``). Qt/pyqtgraph are imported only here.
* ``main(argv)`` -- with ``--png OUT`` writes the PNG; without it opens the live window, or, when
  no display is available, writes ``<LOG stem>.png`` next to the log.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import LatexSnipError

PROG = "latexsnip plot"
VAL_KEYS = ("val_bleu", "val_edit", "val_exact", "val_loss")


@dataclass
class Curves:
    train_step: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # key -> (steps, values)

    @property
    def empty(self) -> bool:
        return not self.train_step and not self.val


def _num(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def read_log(log_path: str | Path) -> Curves:
    """Parse the log; LatexSnipError when it cannot be read."""
    path = Path(log_path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise LatexSnipError(f"{path}: no such log file") from None
    except OSError as e:
        raise LatexSnipError(f"{path}: cannot read the log ({e})") from None
    return parse_lines(text.splitlines())


def parse_lines(lines: list[str]) -> Curves:
    c = Curves()
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(rec, dict):
            continue
        step = _num(rec.get("step"))
        if step is None:
            continue
        loss = _num(rec.get("loss"))
        if loss is not None:
            c.train_step.append(step)
            c.train_loss.append(loss)
        for k in VAL_KEYS:
            v = _num(rec.get(k))
            if v is not None:
                steps, vals = c.val.setdefault(k, ([], []))
                steps.append(step)
                vals.append(v)
    return c


def smooth(values: list[float], alpha: float | None = None) -> list[float]:
    """Exponential moving average with bias correction (as TensorBoard's smoothing).

    ``alpha`` defaults to a value that suits the number of points (none for a handful, ~0.95
    for thousands), so a short log is not dragged behind its raw curve.
    """
    if alpha is None:
        alpha = max(0.0, min(0.95, 1.0 - 10.0 / max(len(values), 1)))
    out: list[float] = []
    m = 0.0
    for i, v in enumerate(values, 1):
        m = alpha * m + (1 - alpha) * v
        out.append(m / (1 - alpha**i))
    return out


def write_curves_png(log_path: str | Path, png_path: str | Path) -> Path:
    """Write the curves of ``log_path`` to ``png_path`` (matplotlib Agg); returns the path.

    Left: training loss (raw + smoothed) and val_loss. Right: validation BLEU (left axis, 0..100)
    and edit score / exact match (right axis, 0..1). Raises LatexSnipError on an unreadable or
    empty log.
    """
    curves = read_log(log_path)
    if curves.empty:
        raise LatexSnipError(f"{log_path}: no training or validation records to plot")
    # A bare Figure (no pyplot) renders through Agg: no global state, no GUI backend.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), dpi=100)
    ax_loss, ax_val = fig.subplots(1, 2)
    if curves.train_step:
        ax_loss.plot(curves.train_step, curves.train_loss, color="tab:blue", alpha=0.3, lw=0.8, label="train loss")
        ax_loss.plot(curves.train_step, smooth(curves.train_loss), color="tab:blue", lw=1.5, label="train loss (smoothed)")
    if "val_loss" in curves.val:
        s, v = curves.val["val_loss"]
        ax_loss.plot(s, v, "o-", color="tab:orange", ms=3, label="val loss")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    if curves.train_loss and min(curves.train_loss) > 0:
        ax_loss.set_yscale("log")
    ax_loss.set_title("loss")
    ax_loss.grid(alpha=0.3)
    if ax_loss.lines:
        ax_loss.legend(fontsize=8)

    ax_val.set_title("validation")
    ax_val.set_xlabel("step")
    ax_val.grid(alpha=0.3)
    handles = []
    if "val_bleu" in curves.val:
        s, v = curves.val["val_bleu"]
        handles += ax_val.plot(s, v, "o-", color="tab:green", ms=3, label="BLEU-4")
        ax_val.set_ylabel("BLEU-4")
    right = ax_val.twinx()
    for key, label, color in (("val_edit", "edit score", "tab:purple"), ("val_exact", "exact match", "tab:red")):
        if key in curves.val:
            s, v = curves.val[key]
            handles += right.plot(s, v, "s--", color=color, ms=3, label=label)
    if any(k in curves.val for k in ("val_edit", "val_exact")):
        right.set_ylabel("edit score / exact match")
    else:
        right.set_yticks([])
    if handles:
        ax_val.legend(handles=handles, loc="lower right", fontsize=8)
    else:
        ax_val.text(0.5, 0.5, "no validation yet", ha="center", va="center", transform=ax_val.transAxes)
    fig.tight_layout()
    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.png")
    fig.savefig(tmp, format="png")
    os.replace(tmp, out)
    return out


def live_plot(log_path: str | Path, interval_s: float = 2.0, block: bool = True):  # noqa: ANN201
    """A pyqtgraph window re-reading ``log_path`` every ``interval_s`` seconds.

    ``block=True`` runs the Qt event loop and returns its exit code when the window is closed;
    ``block=False`` returns the window (it has a ``refresh()`` method) for a caller that runs
    its own event loop.
    """
    import pyqtgraph as pg
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([sys.argv[0]])
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    path = Path(log_path)

    win = pg.GraphicsLayoutWidget(title=f"latexsnip training: {path}")
    win.resize(1100, 450)
    p_loss = win.addPlot(title="loss")
    p_loss.setLabel("bottom", "step")
    p_loss.showGrid(x=True, y=True, alpha=0.3)
    p_loss.addLegend()
    p_val = win.addPlot(title="validation BLEU-4")
    p_val.setLabel("bottom", "step")
    p_val.showGrid(x=True, y=True, alpha=0.3)
    p_val.addLegend()
    p_edit = win.addPlot(title="validation edit score / exact match")
    p_edit.setLabel("bottom", "step")
    p_edit.showGrid(x=True, y=True, alpha=0.3)
    p_edit.addLegend()

    items = {
        "loss": p_loss.plot(pen=pg.mkPen((31, 119, 180, 80), width=1), name="train loss"),
        "loss_s": p_loss.plot(pen=pg.mkPen((31, 119, 180), width=2), name="smoothed"),
        "val_loss": p_loss.plot(pen=pg.mkPen((255, 127, 14), width=2), symbol="o", symbolSize=5, name="val loss"),
        "val_bleu": p_val.plot(pen=pg.mkPen((44, 160, 44), width=2), symbol="o", symbolSize=5, name="BLEU-4"),
        "val_edit": p_edit.plot(pen=pg.mkPen((148, 103, 189), width=2), symbol="s", symbolSize=5, name="edit score"),
        "val_exact": p_edit.plot(pen=pg.mkPen((214, 39, 40), width=2), symbol="s", symbolSize=5, name="exact match"),
    }
    state: dict[str, tuple[int, int] | None] = {"sig": None}

    def refresh() -> None:
        try:
            st = path.stat()
            sig = (st.st_mtime_ns, st.st_size)
        except OSError:
            win.setWindowTitle(f"latexsnip training: waiting for {path}")
            return
        if sig == state["sig"]:
            return
        state["sig"] = sig
        try:
            c = read_log(path)
        except LatexSnipError:
            return
        items["loss"].setData(c.train_step, c.train_loss)
        items["loss_s"].setData(c.train_step, smooth(c.train_loss))
        for k in ("val_loss", "val_bleu", "val_edit", "val_exact"):
            s, v = c.val.get(k, ([], []))
            items[k].setData(s, v)
        last = f"step {int(c.train_step[-1])}" if c.train_step else "no steps yet"
        win.setWindowTitle(f"latexsnip training: {path.name} ({last})")

    timer = QtCore.QTimer(win)
    timer.timeout.connect(refresh)
    timer.start(int(interval_s * 1000))
    win.refresh = refresh
    win._timer = timer  # keep a reference
    refresh()
    win.show()
    if not block:
        return win
    return int(app.exec())


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description="Plot training curves from a JSON-lines training log.")
    p.add_argument("log", metavar="LOG", help="the trainer's log.jsonl")
    p.add_argument("--png", metavar="OUT", help="write a PNG instead of opening a live window")
    args = p.parse_args(argv)
    try:
        if args.png is None and _has_display():
            try:
                return live_plot(args.log)
            except ImportError as e:
                print(f"{PROG}: no live window ({e}); writing a PNG instead", file=sys.stderr)
        out = Path(args.png) if args.png else Path(args.log).with_suffix(".png")
        write_curves_png(args.log, out)
        print(f"wrote {out}", file=sys.stderr)
        return 0
    except ImportError as e:
        print(f"{PROG}: missing dependency ({e}); install with: pip install 'latexsnip[app]'", file=sys.stderr)
        return 2
    except (LatexSnipError, OSError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
