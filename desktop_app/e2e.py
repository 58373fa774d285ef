"""End-to-end check of the real app under Xvfb (run by hand; not part of the unit tests).

    python -m desktop_app.e2e [--display :97] [--keep] [--shots docs/screenshots]
        [--weights W] [--im2latex DIR --count N | --image PNG [--truth TEX] ...] [--zoom 2]

Needs Xvfb, xdotool and xclip (and optionally trayer as a tray host). Steps: start Xvfb (and
trayer), start the app and wait for its model, then for each formula image (im2latex test
images, --image files, or --formula typeset by the preview renderer) show it like a browser
page at --zoom, run `latexsnip snip` (through the CLI when installed), drag over the formula
with xdotool, read the clipboard with xclip and print it beside the ground truth (normalised,
with the token edit distance); then open the History and Settings windows, save screenshots,
quit through the local socket. Uses the real recogniser when resources/weights/default.safetensors exists,
else the built-in fake (LATEXSNIP_FAKE_RECOGNIZER=1). Exit code 0 when every check passed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypeVar

_Img = TypeVar("_Img", bound=Any)

REPO = Path(__file__).resolve().parent.parent


def log(msg: str) -> None:
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def shot(path: Path, env: dict[str, str], window_name: str | None = None) -> Path:
    """Save a PNG of the whole X screen, or of one window found by title (xdotool)."""
    import mss
    import mss.tools

    region = None
    if window_name and shutil.which("xdotool"):
        r = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", window_name],
            env=env,
            capture_output=True,
            text=True,
        )
        ids = r.stdout.split()
        if ids:
            g = subprocess.run(
                ["xdotool", "getwindowgeometry", "--shell", ids[-1]],
                env=env,
                capture_output=True,
                text=True,
            )
            kv = dict(line.split("=", 1) for line in g.stdout.split() if "=" in line)
            if {"X", "Y", "WIDTH", "HEIGHT"} <= kv.keys():
                region = {
                    "left": int(kv["X"]),
                    "top": int(kv["Y"]),
                    "width": int(kv["WIDTH"]),
                    "height": int(kv["HEIGHT"]),
                }
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = env["DISPLAY"]
    try:
        with mss.MSS() if hasattr(mss, "MSS") else mss.mss() as sct:
            mon = region or sct.monitors[1]
            img = sct.grab(mon)
            path.parent.mkdir(parents=True, exist_ok=True)
            mss.tools.to_png(img.rgb, img.size, output=str(path))
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
    log(f"screenshot {path}")
    return path


def clipboard(env: dict[str, str]) -> str:
    r = subprocess.run(
        ["xclip", "-o", "-selection", "clipboard"],
        env=env,
        capture_output=True,
        text=True,
        timeout=5,
    )
    return r.stdout if r.returncode == 0 else ""


def _zoomed(image: _Img, zoom: float) -> _Img:
    """A QPixmap or QImage scaled by ``zoom`` (smooth), as a browser at that zoom shows it."""
    if zoom == 1.0:
        return image
    from PySide6.QtCore import Qt

    return image.scaled(
        round(image.width() * zoom),
        round(image.height() * zoom),
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def show_image_main(path: str, x: int, y: int, zoom: float = 1.0) -> int:
    """Child process: show an image like a page in a browser (zoomed) until killed.

    Prints ``GEOM x y w h`` (the formula's on-screen rectangle) on stdout once shown.
    """
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

    app = QApplication([])
    page = QWidget()
    page.setWindowFlags(Qt.WindowType.FramelessWindowHint)
    page.setWindowTitle("formula")
    page.setStyleSheet("background: white; color: #222;")
    lay = QVBoxLayout(page)
    lay.setContentsMargins(40, 28, 40, 36)
    lay.setSpacing(18)
    head = QLabel(f"<span style='color:#888'>file://{Path(path).name}  ·  zoom {zoom:.0%}</span>")
    text = QLabel("… collecting the terms of the same order, we arrive at")
    text.setWordWrap(True)
    pix = _zoomed(QPixmap(path), zoom)
    lab = QLabel()
    lab.setPixmap(pix)
    lab.setFixedSize(pix.size())
    lay.addWidget(head)
    lay.addWidget(text)
    lay.addWidget(lab, 0, Qt.AlignmentFlag.AlignHCenter)
    lay.addStretch(1)
    page.setFixedWidth(max(640, pix.width() + 160))
    page.move(x, y)
    page.show()

    def report() -> None:
        g = lab.mapToGlobal(lab.rect().topLeft())
        print(f"GEOM {g.x()} {g.y()} {pix.width()} {pix.height()}", flush=True)

    QTimer.singleShot(300, report)
    return app.exec()


def im2latex_samples(root: Path, count: int) -> list[tuple[Path, str]]:
    """The first ``count`` test images of an im2latex-100k style folder with their truth."""
    from training.render import genuine_samples

    return [(Path(img), raw.strip()) for raw, img in genuine_samples(root, ("test.lst",))[:count]]


def attention_shot(
    out: Path,
    weights: Path | None = None,
    image: Path | None = None,
    zoom: float = 2.0,
    token: int | None = None,
) -> Path:
    """Offscreen render of the result window with the attention view open on one token.

    Uses the real recogniser when ``weights`` exists (on ``image`` zoomed like a browser
    would, else on a typeset formula), else the fake one.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from desktop_app.fake import FakeRecognizer
    from desktop_app.imageconv import qimage_to_rgb, rgb_to_qimage
    from desktop_app.preview import PreviewService, choose_backend, render_png
    from desktop_app.result_window import ResultWindow

    app = QApplication.instance() or QApplication([])
    formula = r"\frac { a } { b } + x ^ { 2 }"
    if image is not None:
        img = _zoomed(QImage(str(image)), zoom)
    else:
        img = QImage.fromData(render_png(formula, choose_backend("auto"), dpi=200), "PNG")  # type: ignore[arg-type]
    rgb = qimage_to_rgb(img)
    if weights is not None and weights.exists():
        from desktop_app.worker import default_loader

        rec = default_loader(weights, "auto")
        pred = rec.recognize(np.asarray(rgb))
        status = f"Model ready ({weights.name})"
    else:
        pred = FakeRecognizer(formula).recognize(np.asarray(rgb))
        status = "Model ready (fake recogniser, loaded in 0.0 s)"
    svc = PreviewService("auto")
    w = ResultWindow(svc)
    w.resize(820, 780)
    w.set_model_status("ready", status)
    w.set_snip(rgb_to_qimage(rgb))
    w.set_prediction(pred)
    w.show()
    w.attn_button.setChecked(True)
    assert w.attention_view is not None
    if token is None:  # the first sub/superscript body: a token with a compact, visible focus
        toks = list(pred.tokens)
        token = next(
            (i + 2 for i, t in enumerate(toks[:-2]) if t in ("^", "_")), min(3, len(toks) - 1)
        )
    w.attention_view.slider.setValue(max(0, token))
    deadline = time.time() + 15
    while time.time() < deadline and (w.last_preview is None or w.last_preview.latex != w.latex()):
        app.processEvents()
        time.sleep(0.05)
    for _ in range(20):
        app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(out))
    svc.shutdown()
    log(f"screenshot {out}  ({pred.latex!r}, token {token})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--display", default=":97")
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--shots", type=Path, default=REPO / "docs" / "screenshots")
    ap.add_argument(
        "--formula",
        default=r"\int _ { 0 } ^ { \infty } e ^ { - x ^ { 2 } } d x = \frac { \sqrt { \pi } } { 2 }",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    ap.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="weights file for the real recogniser (default: the bundled default weights)",
    )
    ap.add_argument(
        "--attention-shot", action="store_true", help="only save attention.png (offscreen)"
    )
    ap.add_argument(
        "--image", type=Path, action="append", default=[], help="formula image(s) to snip"
    )
    ap.add_argument("--truth", action="append", default=[], help="ground truth per --image")
    ap.add_argument(
        "--im2latex",
        type=Path,
        default=None,
        help="im2latex-100k style folder: snip its first --count test images (truth known)",
    )
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--zoom", type=float, default=2.0, help="show images enlarged (browser zoom)")
    ap.add_argument(
        "--result-index", type=int, default=-1, help="which snip's result window is result.png"
    )
    ap.add_argument("--token", type=int, default=None, help="token shown in attention.png")
    ap.add_argument(
        "--show-image", nargs=4, metavar=("PNG", "X", "Y", "ZOOM"), help=argparse.SUPPRESS
    )
    a = ap.parse_args(argv)
    if a.show_image:
        return show_image_main(
            a.show_image[0], int(a.show_image[1]), int(a.show_image[2]), float(a.show_image[3])
        )
    samples: list[tuple[Path | None, str | None]] = []
    if a.im2latex is not None:
        samples = list(im2latex_samples(a.im2latex, a.count))
    elif a.image:
        samples = [(p, a.truth[i] if i < len(a.truth) else None) for i, p in enumerate(a.image)]
    if a.attention_shot:
        from core.paths import default_weights_path

        attention_shot(
            a.shots / "attention.png",
            a.weights or default_weights_path(),
            samples[0][0] if samples else None,
            a.zoom,
            a.token,
        )
        return 0
    if not samples:  # a formula typeset by the same renderer as the preview, shown 1:1
        samples = [(None, a.formula)]

    for tool in ("Xvfb", "xdotool", "xclip"):
        if not shutil.which(tool):
            print(
                f"e2e: {tool} is not installed (apt-get install xvfb xdotool xclip)",
                file=sys.stderr,
            )
            return 2
    tmp = Path(tempfile.mkdtemp(prefix="latexsnip-e2e-"))
    env = dict(
        os.environ,
        DISPLAY=a.display,
        LATEXSNIP_DATA_DIR=str(tmp / "data"),
        LATEXSNIP_INSTANCE="e2e",
        QT_QPA_PLATFORM="xcb",
        PYTHONPATH=str(REPO),
    )
    env.pop("WAYLAND_DISPLAY", None)
    from core.paths import default_weights_path

    weights = a.weights or default_weights_path()
    real = weights.exists()
    (tmp / "data").mkdir()
    (tmp / "data" / "settings.ini").write_text(
        f"[General]\nweights_file={weights.resolve() if real else ''}\n"
    )
    if not real:
        env["LATEXSNIP_FAKE_RECOGNIZER"] = "1"
    log(f"recogniser: {'real weights ' + str(weights) if real else 'fake (no weights yet)'}")
    procs: list[subprocess.Popen[bytes]] = []
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        log(("PASS " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    try:
        procs.append(
            subprocess.Popen(
                ["Xvfb", a.display, "-screen", "0", f"{a.size}x24", "-nolisten", "tcp"],
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(1.0)
        if shutil.which("trayer"):
            procs.append(
                subprocess.Popen(
                    [
                        "trayer",
                        "--edge",
                        "top",
                        "--align",
                        "right",
                        "--widthtype",
                        "pixel",
                        "--width",
                        "120",
                        "--height",
                        "28",
                        "--transparent",
                        "false",
                    ],
                    env=env,
                    stderr=subprocess.DEVNULL,
                )
            )
            time.sleep(0.5)
        beside = Path(sys.executable).parent / "latexsnip"  # the venv's console script
        latexsnip = str(beside) if beside.exists() else shutil.which("latexsnip")
        app_cmd = (
            [latexsnip]
            if latexsnip
            else [
                sys.executable,
                "-c",
                "import sys; from desktop_app.main import run_app; sys.exit(run_app())",
            ]
        )
        t0 = time.perf_counter()
        app_log = open(tmp / "app.log", "wb")  # noqa: SIM115 (the child writes it until quit)
        app = subprocess.Popen(app_cmd, env=env, cwd=REPO, stdout=app_log, stderr=subprocess.STDOUT)
        procs.append(app)
        ping = [
            sys.executable,
            "-c",
            "import sys; from desktop_app.main import send_message; sys.exit(0 if send_message(b'ping\\n') else 1)",
        ]
        while subprocess.run(ping, env=env, cwd=REPO).returncode != 0:
            if app.poll() is not None or time.perf_counter() - t0 > 30:
                check(False, "app starts and listens on its local socket")
                raise SystemExit
            time.sleep(0.2)
        check(True, f"app listening after {time.perf_counter() - t0:.1f} s")
        status_cmd = [
            sys.executable,
            "-c",
            "from desktop_app.main import query_status; s = query_status(); print(s[0] if s else '')",
        ]
        while time.perf_counter() - t0 < 90:
            st = subprocess.run(status_cmd, env=env, cwd=REPO, capture_output=True, text=True)
            if st.stdout.strip() not in ("loading", ""):
                break
            time.sleep(0.3)
        check(
            st.stdout.strip() == "ready",
            f"model state {st.stdout.strip()!r} after {time.perf_counter() - t0:.1f} s",
        )
        time.sleep(0.5)
        if shutil.which("trayer"):
            # open the tray menu (icon at the right end of trayer's 28 px bar) and keep its corner
            sw = int(a.size.split("x")[0])
            subprocess.run(["xdotool", "mousemove", str(sw - 14), "14", "click", "3"], env=env)
            time.sleep(1.0)
            tray_png = shot(a.shots / "tray.png", env)
            from PIL import Image

            with Image.open(tray_png) as im:
                im.crop((sw - 560, 0, sw, 220)).save(tray_png)
            subprocess.run(["xdotool", "key", "Escape"], env=env)
            time.sleep(0.5)

        snip_cmd = (
            [latexsnip, "snip", "--no-start"]
            if latexsnip
            else [
                sys.executable,
                "-c",
                "import sys; from desktop_app.main import snip_main; sys.exit(snip_main(['--no-start']))",
            ]
        )
        xd = ["xdotool"]
        previous = ""
        results: list[tuple[str, str | None]] = []
        for n, (image, truth) in enumerate(samples):
            zoom = a.zoom
            if image is None:
                from desktop_app.preview import choose_backend, render_png

                image = tmp / "formula.png"
                image.write_bytes(render_png(str(truth), choose_backend("auto"), dpi=220))
                zoom = 1.0
            shower = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "desktop_app.e2e",
                    "--show-image",
                    str(image),
                    "120",
                    "140",
                    str(zoom),
                ],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
            )
            procs.append(shower)  # type: ignore[arg-type]
            assert shower.stdout is not None
            line = shower.stdout.readline().split()
            fx, fy, fw, fh = (int(v) for v in line[1:5])
            time.sleep(0.5)
            rs = subprocess.run(snip_cmd, env=env, cwd=REPO)
            check(
                rs.returncode == 0,
                f"`{' '.join(Path(c).name for c in snip_cmd[:2])}` reached the running app",
            )
            time.sleep(1.2)
            x0, y0 = fx - 10, fy - 10  # a 10 px margin around the formula
            x1, y1 = fx + fw + 10, fy + fh + 10
            subprocess.run(xd + ["mousemove", str(x0), str(y0), "mousedown", "1"], env=env)
            for k in range(1, 6):
                subprocess.run(
                    xd + ["mousemove", str(x0 + (x1 - x0) * k // 6), str(y0 + (y1 - y0) * k // 6)],
                    env=env,
                )
                time.sleep(0.05)
            time.sleep(0.3)
            if n == 0:
                shot(a.shots / "overlay.png", env)
            subprocess.run(xd + ["mousemove", str(x1), str(y1), "mouseup", "1"], env=env)

            expected = None
            if not real:
                from desktop_app.fake import FAKE_LATEX

                expected = FAKE_LATEX
            deadline = time.time() + 60
            text = ""
            while time.time() < deadline:
                text = clipboard(env).strip()
                if expected is not None and text == expected:
                    break  # the fake always answers the same
                if expected is None and text and text != previous:
                    break
                time.sleep(0.3)
            check(
                bool(text) and (expected is None or text == expected),
                f"clipboard holds the LaTeX of {image.name}",
            )
            print(f"    clipboard: {text}\n    truth:     {truth}", flush=True)
            results.append((text, truth))
            previous = text
            time.sleep(1.5)  # preview render
            shot(tmp / f"result-{n}.png", env, "LaTeXSnip – result")
            shower.terminate()
            shower.wait(5)
            time.sleep(0.3)
        pick = tmp / f"result-{a.result_index % len(samples)}.png"
        shutil.copyfile(pick, a.shots / "result.png")
        log(f"screenshot {a.shots / 'result.png'} (snip {a.result_index % len(samples) + 1})")
        if real:
            from core.normalize import normalize_latex
            from training.metrics import edit_distance

            for text, truth in results:
                if not truth:
                    continue
                try:
                    ref = normalize_latex(truth) or truth
                except Exception:  # an unparsable truth: compare with its raw tokens
                    ref = truth
                d = edit_distance(text.split(), ref.split())
                log(
                    f"truth (normalised): {ref}\n    token edit distance {d} / {len(ref.split())}"
                    f"{'  (exact match)' if d == 0 else ''}"
                )

        # the global hotkey (pynput on X11) opens the overlay too; a right click cancels it
        subprocess.run(xd + ["key", "ctrl+alt+m"], env=env)
        found = False
        for _ in range(30):
            time.sleep(0.2)
            r = subprocess.run(
                xd + ["search", "--onlyvisible", "--name", "LaTeXSnip selection"],
                env=env,
                capture_output=True,
                text=True,
            )
            if r.stdout.strip():
                found = True
                break
        check(found, "global hotkey Ctrl+Alt+M opens the selection overlay")
        subprocess.run(xd + ["mousemove", "640", "600", "click", "3"], env=env)
        time.sleep(0.8)
        r = subprocess.run(
            xd + ["search", "--onlyvisible", "--name", "LaTeXSnip selection"],
            env=env,
            capture_output=True,
            text=True,
        )
        check(not r.stdout.strip(), "right click cancels the overlay")

        subprocess.run([*ping[:2], ping[2].replace("ping", "history")], env=env, cwd=REPO)
        time.sleep(1.0)
        shot(a.shots / "history.png", env, "LaTeXSnip – history")
        subprocess.run([*ping[:2], ping[2].replace("ping", "settings")], env=env, cwd=REPO)
        time.sleep(1.0)
        shot(a.shots / "settings.png", env, "LaTeXSnip – settings")

        subprocess.run([*ping[:2], ping[2].replace("ping", "quit")], env=env, cwd=REPO)
        try:
            rc = app.wait(15)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, f"app quit cleanly (exit code {rc})")
        out = (tmp / "app.log").read_text(errors="replace")
        check("Traceback" not in out, "no traceback in the app's output")
        if "Traceback" in out:
            print(out[-3000:])
    except SystemExit:
        pass
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp}")
    log("ALL PASSED" if not failures else f"{len(failures)} FAILED: {failures}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
