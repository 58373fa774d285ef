from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.helpers import train_tiny


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    train_tiny(path)
    return path
