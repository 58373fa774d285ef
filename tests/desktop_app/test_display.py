"""desktop_app.display: a clear message instead of Qt's abort when there is no screen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from desktop_app.display import NO_DISPLAY, NO_XCB_CURSOR, display_problem


def _found(name: str) -> str | None:
    return f"lib{name}.so.0"


def _missing(name: str) -> str | None:
    return None


def test_no_display_variables_on_linux() -> None:
    assert display_problem({}, "linux", _found) == NO_DISPLAY
    assert display_problem({"QT_QPA_PLATFORM": "xcb"}, "linux", _found) == NO_DISPLAY


def test_a_display_or_an_explicit_headless_platform_is_fine() -> None:
    assert display_problem({"DISPLAY": ":0"}, "linux", _found) is None
    assert (
        display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", _missing) is None
    )  # Wayland needs no xcb
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", _missing) is None
    assert display_problem({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "linux", _missing) is None


def test_other_systems_always_have_a_screen() -> None:
    assert display_problem({}, "win32", _missing) is None
    assert display_problem({}, "darwin", _missing) is None


def test_x11_without_xcb_cursor_names_the_package() -> None:
    assert display_problem({"DISPLAY": ":0"}, "linux", _missing) == NO_XCB_CURSOR
    assert (
        display_problem(
            {"DISPLAY": ":0", "WAYLAND_DISPLAY": "w", "QT_QPA_PLATFORM": "xcb"}, "linux", _missing
        )
        == NO_XCB_CURSOR
    )
    assert "libxcb-cursor0" in NO_XCB_CURSOR


def test_the_app_exits_with_the_message_instead_of_aborting(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["XDG_RUNTIME_DIR"] = str(tmp_path)  # no running instance to talk to
    env["HOME"] = str(tmp_path)
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run(
        [sys.executable, "-m", "desktop_app.main"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stderr
    assert NO_DISPLAY in r.stderr
