"""training.plot: PNG from a synthetic training log, log parsing, CLI errors, live window."""

from __future__ import annotations

import json
import math

import pytest

from training import plot


def _write_log(path, with_partial_line: bool = True) -> None:
    lines = []
    for step in range(1, 201, 10):
        lines.append({"step": step, "loss": 5.0 * math.exp(-step / 60) + 0.2, "lr": 1e-3, "img_s": 500.0})
        if step % 50 == 1 and step > 1:
            lines.append({"step": step, "val_bleu": step / 3, "val_edit": step / 250, "val_exact": step / 500,
                          "val_loss": 3.0 - step / 100, "val_n": 64})
    text = "\n".join(json.dumps(r) for r in lines) + "\n"
    if with_partial_line:
        text += '{"step": 201, "lo'  # the trainer is mid-write
    path.write_text(text)


def test_read_log_splits_train_and_val(tmp_path):
    log = tmp_path / "log.jsonl"
    _write_log(log)
    c = plot.read_log(log)
    assert len(c.train_step) == 20 and c.train_step[0] == 1
    assert set(c.val) == {"val_bleu", "val_edit", "val_exact", "val_loss"}
    assert c.val["val_bleu"][0] == [51, 101, 151]


def test_write_curves_png(tmp_path):
    log = tmp_path / "log.jsonl"
    _write_log(log)
    out = plot.write_curves_png(log, tmp_path / "run" / "curves.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert not list((tmp_path / "run").glob("*.tmp*"))


def test_write_curves_png_train_only(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"step": 1, "loss": 4.0}) + "\n" + json.dumps({"step": 2, "loss": 3.5}) + "\n")
    assert plot.write_curves_png(log, tmp_path / "c.png").stat().st_size > 0


def test_cli_png_and_errors(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    _write_log(log, with_partial_line=False)
    assert plot.main([str(log), "--png", str(tmp_path / "x.png")]) == 0
    assert (tmp_path / "x.png").is_file()
    assert plot.main([str(tmp_path / "missing.jsonl"), "--png", str(tmp_path / "y.png")]) == 2
    assert "no such log file" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("not json\n")
    assert plot.main([str(empty), "--png", str(tmp_path / "z.png")]) == 2
    assert "no training or validation records" in capsys.readouterr().err


def test_cli_without_display_writes_png_next_to_log(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    _write_log(log)
    monkeypatch.setattr(plot, "_has_display", lambda: False)
    assert plot.main([str(log)]) == 0
    assert (tmp_path / "log.png").is_file()


def test_live_plot_refreshes_offscreen(tmp_path, monkeypatch):
    pytest.importorskip("pyqtgraph")
    pytest.importorskip("PySide6")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    log = tmp_path / "log.jsonl"
    win = plot.live_plot(log, block=False)  # the log does not exist yet: the window waits
    try:
        _write_log(log)
        win.refresh()
        assert "step 191" in win.windowTitle()
    finally:
        win.close()
