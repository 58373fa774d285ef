"""Global hotkey behind a small interface.

``PynputHotkey`` uses pynput's GlobalHotKeys (X11, Windows, macOS with accessibility
permission). Where pynput is missing or cannot start (Wayland, no display, no permission)
``NoHotkey`` keeps the app working and records why; users can still bind an OS shortcut to
``latexsnip snip``, which reaches the running app through its local socket.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

DEFAULT_HOTKEY = "<ctrl>+<alt>+m"


class Hotkey(Protocol):
    active: bool
    reason: str

    def start(self) -> None: ...
    def stop(self) -> None: ...


class NoHotkey:
    def __init__(self, combo: str, reason: str) -> None:
        self.combo = combo
        self.active = False
        self.reason = reason

    def start(self) -> None:
        log.info("global hotkey disabled: %s", self.reason)

    def stop(self) -> None:
        pass


class PynputHotkey:
    def __init__(self, combo: str, callback: Callable[[], None]) -> None:
        from pynput import keyboard

        keyboard.HotKey.parse(combo)  # raises ValueError on a bad combination
        self.combo = combo
        self._listener = keyboard.GlobalHotKeys({combo: callback})
        self._listener.daemon = True
        self.active = False
        self.reason = ""

    def start(self) -> None:
        self._listener.start()
        self._listener.wait()  # until it is running (or failed)
        self.active = bool(self._listener.running)
        if not self.active:
            self.reason = "the keyboard listener did not start"

    def stop(self) -> None:
        try:
            self._listener.stop()
        except Exception as exc:  # pragma: no cover
            log.debug("stopping hotkey listener: %s", exc)
        self.active = False


def pretty_combo(combo: str) -> str:
    """'<ctrl>+<alt>+m' -> 'Ctrl+Alt+M'."""
    parts = [p.strip().strip("<>") for p in combo.split("+") if p.strip()]
    return "+".join(p.capitalize() if len(p) > 1 else p.upper() for p in parts)


def validate_combo(combo: str) -> str | None:
    """None if pynput accepts the combination (or pynput is absent), else the error."""
    try:
        from pynput import keyboard
    except Exception:
        return None
    try:
        keyboard.HotKey.parse(combo)
    except Exception as exc:
        return f"Invalid hotkey {combo!r}: {exc}"
    return None


class HotkeyBridge(QObject):
    """Turns the listener thread's callback into a queued Qt signal on the GUI thread."""

    triggered = Signal()


def make_hotkey(combo: str, callback: Callable[[], None]) -> Hotkey:
    """The best available global hotkey for this platform (never raises)."""
    if os.environ.get("LATEXSNIP_NO_HOTKEY"):
        return NoHotkey(combo, "disabled by LATEXSNIP_NO_HOTKEY")
    if sys.platform.startswith("linux"):
        if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
            return NoHotkey(
                combo,
                "Wayland has no global hotkeys for apps; bind `latexsnip snip` to a shortcut in your desktop settings",
            )
        if not os.environ.get("DISPLAY"):
            return NoHotkey(combo, "no X display")
        if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
            return NoHotkey(combo, f"QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}")
    try:
        hk = PynputHotkey(combo, callback)
    except ImportError as exc:
        return NoHotkey(
            combo, f"pynput is not available ({exc}); bind `latexsnip snip` to an OS shortcut"
        )
    except Exception as exc:
        return NoHotkey(combo, f"cannot register {combo!r}: {exc}")
    try:
        hk.start()
    except Exception as exc:
        return NoHotkey(combo, f"cannot start the keyboard listener: {exc}")
    if not hk.active:
        return NoHotkey(combo, hk.reason)
    return hk
