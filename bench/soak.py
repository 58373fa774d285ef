"""Memory of the desktop app over many recognitions: does a tray app that runs for weeks grow?

    python bench/soak.py [-n 600] [--every 50] [--recognizer fake|real] [--beam K] [--no-render-check]
        [--preview mathtext|auto] [--tracemalloc] [--out FILE.md]

Builds the app in this process as the tests do (offscreen Qt, no tray, no hotkey, its own data folder in a
temporary directory) and sends the example images in ``resources/examples`` through ``recognize_image``, the path a
snip, a drop or the clipboard takes: worker thread, result window with its rendered preview, attention view, history
and auto-copy. After each ``--every`` results it reads the process's RSS (``/proc/self/status``, Linux), the number of
Python objects the collector tracks and, with ``--tracemalloc``, Python's own allocations. Prints a table and the
growth per recognition over the second half (least squares), in KB. ``--recognizer fake`` (default) is
``desktop_app.fake.FakeRecognizer``: the GUI's share alone; ``real`` loads the shipped weights and reads as the app's
default settings do (beam 5 and the render check; ``--beam 1 --no-render-check`` is faster).
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from startup import rss_mib  # noqa: E402  (bench/, beside this script)

from desktop_app.settings import Settings  # noqa: E402  (no Qt application needed)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 for fewer than two points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/soak.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=600, help="recognitions (default 600)")
    p.add_argument("--every", type=int, default=50, help="measure after this many results (default 50)")
    p.add_argument("--recognizer", choices=("fake", "real"), default="fake",
                   help="fake: the GUI alone (default); real: the shipped weights")
    p.add_argument("--beam", type=int, default=Settings().beam_width, help="beam width (default: the app's)")
    p.add_argument("--no-render-check", action="store_true", help="real recogniser: no render check (the app checks)")
    p.add_argument("--preview", default="mathtext", help="preview renderer (default mathtext; auto: as the app picks)")
    p.add_argument("--tracemalloc", action="store_true", help="also trace Python's allocations (slower)")
    p.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    args = p.parse_args(argv)
    if args.n < 2 * args.every or args.every < 1:
        p.error("-n must be at least twice --every")

    tmp = tempfile.mkdtemp(prefix="latexsnip-soak-")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LATEXSNIP_DATA_DIR"] = tmp
    os.environ["LATEXSNIP_INSTANCE"] = f"soak-{os.getpid()}"
    os.environ["LATEXSNIP_NO_HOTKEY"] = "1"
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    import desktop_app.main as M
    import desktop_app.worker as W
    from desktop_app.fake import FakeRecognizer

    qapp = QApplication.instance() or QApplication([])
    images = [QImage(str(f)) for f in sorted((REPO / "resources" / "examples").glob("*.png"))]
    if not images:
        print("error: no images in resources/examples", file=sys.stderr)
        return 2
    if args.recognizer == "fake":
        weights = Path(tmp) / "fake.safetensors"
        weights.write_bytes(b"fake")
        settings = Settings(weights_file=str(weights), preview_renderer=args.preview, render_check=False, beam_width=args.beam)
        app = M.LatexSnipApp(settings=settings, loader=lambda path, device: FakeRecognizer(),
                             use_tray=False, enable_hotkey=False, listen=False, quit_fn=lambda: None)
    else:
        settings = Settings(preview_renderer=args.preview, render_check=not args.no_render_check, beam_width=args.beam)
        app = M.LatexSnipApp(settings=settings, use_tray=False, enable_hotkey=False, listen=False, quit_fn=lambda: None)
    done = [0, 0]  # results, failures (counted, not kept: keeping them would be the growth measured)

    def count(i: int) -> None:
        done[i] += 1

    def finished(target: int) -> bool:
        return sum(done) >= target

    app.result_shown.connect(lambda _pred: count(0))
    app.notified.connect(lambda title, _msg: count(1) if title == "Recognition failed" else None)

    def wait(cond: Callable[[], bool], timeout_s: float = 300.0) -> bool:
        end = time.monotonic() + timeout_s
        while not cond():
            if time.monotonic() > end:
                return False
            qapp.processEvents()
            time.sleep(0.001)
        return True

    if not wait(lambda: app.worker.state not in (W.LOADING, W.BUSY), 600) or app.worker.state != W.READY:
        print(f"error: the model did not load: {app.worker.message}", file=sys.stderr)
        app.shutdown()
        return 1
    if args.tracemalloc:
        tracemalloc.start()
    rows: list[tuple[int, float, int, float, float]] = []  # done, RSS MiB, gc objects, traced MiB, s
    t0 = time.perf_counter()
    for i in range(args.n):
        target = sum(done) + 1
        app.recognize_image(images[i % len(images)], settings.beam_width)
        if not wait(partial(finished, target)):
            print(f"error: recognition {i + 1} did not finish", file=sys.stderr)
            app.shutdown()
            return 1
        if (i + 1) % args.every == 0:
            for _ in range(3):
                qapp.processEvents()
            gc.collect()
            traced = tracemalloc.get_traced_memory()[0] / 2**20 if args.tracemalloc else 0.0
            rows.append((i + 1, rss_mib(os.getpid()) or 0.0, len(gc.get_objects()), traced, time.perf_counter() - t0))
            print(f"{i + 1:6d} recognitions  RSS {rows[-1][1]:8.1f} MB  objects {rows[-1][2]:8d}"
                  + (f"  traced {traced:7.2f} MB" if args.tracemalloc else "") + f"  {rows[-1][4]:6.1f} s", flush=True)
    app.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    tail = rows[min(len(rows) // 2, len(rows) - 2) :]  # after warm-up (caches and allocator arenas fill first)
    xs = [float(r[0]) for r in tail]
    per_rss = slope(xs, [r[1] * 1024 for r in tail])
    per_obj = slope(xs, [float(r[2]) for r in tail])
    per_traced = slope(xs, [r[3] * 1024 for r in tail])
    summary = (f"growth per recognition over the second half: RSS {per_rss:.1f} KB, "
               f"{per_obj:.2f} Python objects" + (f", traced {per_traced:.2f} KB" if args.tracemalloc else "")
               + f" ({args.recognizer} recogniser, {args.preview} preview, {done[1]} failed)")
    print(summary)
    if args.out:
        lines = ["| recognitions | RSS (MB) | Python objects | traced (MB) |", "|---:|---:|---:|---:|"]
        lines += [f"| {d} | {r:.1f} | {o} | {t:.2f} |" for d, r, o, t, _ in rows]
        args.out.write_text("\n".join(lines) + "\n\n" + summary + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
