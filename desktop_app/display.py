"""Is there a screen to show the app on? Checked before Qt starts: without one, Qt aborts the
process with a core dump (exit 134) and a message about platform plugins that helps nobody."""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable, Mapping

NO_DISPLAY = (
    "latexsnip: no graphical display found (neither DISPLAY nor WAYLAND_DISPLAY is set). "
    "Start it from a desktop session, or recognise image files without the app: "
    "`latexsnip predict IMAGE...`."
)
NO_XCB_CURSOR = (
    "latexsnip: Qt needs the system library libxcb-cursor0 to open windows on X11 "
    "(Debian/Ubuntu: `sudo apt-get install libxcb-cursor0`; `make system-deps` installs it)."
)


def display_problem(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> str | None:
    """A one-line reason why the GUI cannot start here, or None when it can (or we cannot tell).

    Only Linux/BSD desktops depend on these variables; Windows and macOS always have a screen.
    An explicit ``QT_QPA_PLATFORM`` other than xcb/wayland (offscreen, vnc, eglfs...) is trusted.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip().lower()
    if qpa and qpa not in ("xcb", "wayland", "wayland-egl"):
        return None
    x11, wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if not x11 and not wayland:
        return NO_DISPLAY
    uses_xcb = qpa == "xcb" or (not qpa and not wayland)
    if uses_xcb and find_library("xcb-cursor") is None:
        return NO_XCB_CURSOR
    return None
