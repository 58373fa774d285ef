"""Start-up figures of the desktop app: launch -> tray, launch -> model ready, RSS.

Usage:
    python bench/startup.py [--runs 3] [--weights PATH] [--device auto|cpu|cuda] [--fake]
                            [--platform offscreen|xcb] [--json OUT.json]

Starts the real app (``desktop_app.main.run_app``) in a fresh process with an isolated data
dir, then polls its local socket: "launch to tray" is the time until the app answers (it
listens right after the tray icon is shown), "launch to model ready" the time until its
status query reports ``ready``. RSS is read from /proc/PID/status (Linux) once the model is
loaded. Needs model weights (resources/weights/default.safetensors or --weights) unless
--fake is given (then it measures the app without torch).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def one_run(args: argparse.Namespace, i: int) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix="latexsnip-bench-"))
    instance = f"bench-{os.getpid()}-{i}"
    env = dict(
        os.environ,
        LATEXSNIP_DATA_DIR=str(data),
        LATEXSNIP_INSTANCE=instance,
        LATEXSNIP_NO_HOTKEY="1",
        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    if args.platform:
        env["QT_QPA_PLATFORM"] = args.platform
    if args.fake:
        env["LATEXSNIP_FAKE_RECOGNIZER"] = "1"
    ini = data / "settings.ini"
    ini.write_text(f"[General]\nweights_file={args.weights or ''}\ndevice={args.device}\n")
    # polled in this process over the local socket: a Python child per poll (PySide6 import,
    # ~0.3 s CPU each) would compete with the app for the cores and inflate its figures
    sys.path.insert(0, str(REPO))
    from desktop_app.main import query_status

    os.environ["LATEXSNIP_INSTANCE"] = instance

    def query() -> str:
        r = query_status(500)
        return r[0] if r else ""

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from desktop_app.main import run_app; sys.exit(run_app([]))",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    t_tray = t_ready = None
    state = ""
    try:
        while time.perf_counter() - t0 < args.timeout:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"app exited with {proc.returncode}: {(proc.stderr.read() if proc.stderr else b'').decode()[-2000:]}"
                )
            state = query()
            now = time.perf_counter()
            if state and t_tray is None:
                t_tray = now - t0  # the app listens right after showing its tray icon
            if state == "ready":
                t_ready = now - t0
                break
            if state in ("error", "no-weights"):
                raise RuntimeError(f"model did not load (state {state}); pass --weights or --fake")
            time.sleep(0.05)
        time.sleep(0.5)
        rss = rss_mib(proc.pid)
    finally:
        from desktop_app.main import send_message

        send_message(b"quit\n")
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {
        "launch_to_tray_s": t_tray,
        "launch_to_model_ready_s": t_ready,
        "rss_mib_model_loaded": rss,
        "final_state": state,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--weights", default="", help="weights file (default: the bundled default weights)"
    )
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument(
        "--fake", action="store_true", help="use the fake recogniser (no torch, no weights)"
    )
    ap.add_argument(
        "--platform", default="offscreen", help="QT_QPA_PLATFORM for the app ('' keeps yours)"
    )
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    if not a.fake:
        from core.paths import default_weights_path

        w = Path(a.weights) if a.weights else default_weights_path()
        if not w.exists():
            print(
                f"no weights at {w}: train/export them first, pass --weights, or use --fake",
                file=sys.stderr,
            )
            return 2
    runs = []
    for i in range(a.runs):
        r = one_run(a, i)
        print(json.dumps(r), flush=True)
        runs.append(r)

    def med(k: str) -> float | None:
        vals = [float(r[k]) for r in runs if r[k] is not None]  # type: ignore[arg-type]
        return round(statistics.median(vals), 3) if vals else None

    summary = {
        "runs": a.runs,
        "fake": a.fake,
        "device": a.device,
        "platform": a.platform,
        "launch_to_tray_s": med("launch_to_tray_s"),
        "launch_to_model_ready_s": med("launch_to_model_ready_s"),
        "rss_mib_model_loaded": med("rss_mib_model_loaded"),
    }
    print("median:", json.dumps(summary))
    if a.json:
        a.json.write_text(json.dumps({"summary": summary, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
