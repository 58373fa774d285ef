"""training.export: the --metrics option is a JSON object or a one-line error (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import CheckpointError
from training import export


def test_parse_metrics() -> None:
    assert export.parse_metrics(None) == {}
    assert export.parse_metrics('{"bleu": 86.5}') == {"bleu": 86.5}
    for bad in ("[1]", "{bleu"):
        with pytest.raises(CheckpointError, match="--metrics: expected a JSON object"):
            export.parse_metrics(bad)


def test_bad_metrics_is_an_error_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = export.main([str(tmp_path), "--out", str(tmp_path / "w.safetensors"), "--metrics", "{bleu"])
    assert rc == 2
    assert "latexsnip export: --metrics: expected a JSON object" in capsys.readouterr().err
    assert not (tmp_path / "w.safetensors").exists()
