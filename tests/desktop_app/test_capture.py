"""desktop_app.capture: what a user is told when the screen cannot be grabbed."""

import sys

import pytest

from desktop_app.capture import capture_help


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS gets its own permission hint")
@pytest.mark.parametrize("env", [{"WAYLAND_DISPLAY": "wayland-0"}, {"DISPLAY": ":0"}])
def test_capture_help_offers_the_clipboard_route(monkeypatch, env):
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert "Read clipboard image" in capture_help()  # a screenshot tool's copy, read by the app
