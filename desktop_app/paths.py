"""Where the app keeps things. No Qt widgets and no torch here."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "LATEXSNIP_DATA_DIR"


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    try:
        import resources  # the package shipped beside core/

        return Path(resources.__file__).resolve().parent
    except ImportError:  # pragma: no cover - broken install
        return repo_root() / "resources"


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / name


def data_dir(create: bool = True, only_override: bool = False) -> Path | None:
    """The user data dir: $LATEXSNIP_DATA_DIR, else QStandardPaths' AppDataLocation."""
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        p = Path(override).expanduser()
    elif only_override:
        return None
    else:
        from PySide6.QtCore import QStandardPaths

        loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        p = Path(loc) if loc else Path.home() / ".local" / "share" / "latexsnip"
    if create:
        p.mkdir(parents=True, exist_ok=True)
    return p


def default_weights_path() -> Path:
    """core.paths.default_weights_path() when present (it imports no torch), else the same place."""
    try:
        from core.paths import default_weights_path as core_default
    except ImportError:
        return resources_dir() / "weights" / "default.safetensors"
    return Path(core_default())


def weights_path(setting: str) -> Path:
    return Path(setting).expanduser() if setting.strip() else default_weights_path()
