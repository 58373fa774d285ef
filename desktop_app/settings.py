"""User settings: a frozen dataclass stored with QSettings (INI file), plus the Settings dialog.

Defaults come from ``resources/default_config.json``. The INI file lives in the user config
location, or in ``$LATEXSNIP_DATA_DIR`` when that is set (tests, portable installs).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from desktop_app.formats import FORMAT_LABELS
from desktop_app.paths import data_dir, resources_dir

log = logging.getLogger(__name__)

COPY_FORMATS = tuple(FORMAT_LABELS)
DEVICES = ("auto", "cpu", "cuda")
RENDERERS = ("auto", "tex", "mathtext")


@dataclass(frozen=True)
class Settings:
    hotkey: str = "<ctrl>+<alt>+m"
    copy_format: str = "raw"
    auto_copy: bool = True
    beam_width: int = 5  # with the render check, beam 5 reads validation 90.98 / 51.7% exact against greedy 90.16 / 46.4%
    reread_unsure: bool = True  # read an unsure snip again at other glyph heights (slower for it)
    render_check: bool = True  # typeset the candidate readings with TeX, keep the one that draws the snip
    device: str = "auto"
    weights_file: str = ""  # empty: the bundled default weights
    preview_renderer: str = "auto"

    def validated(self) -> Settings:
        """Replace out-of-range values by defaults (a hand-edited INI must not crash the app)."""
        d = Settings()
        return replace(
            self,
            copy_format=self.copy_format if self.copy_format in COPY_FORMATS else d.copy_format,
            device=self.device if self.device in DEVICES else d.device,
            preview_renderer=(
                self.preview_renderer if self.preview_renderer in RENDERERS else d.preview_renderer
            ),
            beam_width=min(max(int(self.beam_width), 1), 20),
            hotkey=self.hotkey.strip() or d.hotkey,
        )


def default_settings() -> Settings:
    """Defaults from resources/default_config.json (falling back to the dataclass defaults)."""
    path = resources_dir() / "default_config.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s (%s); using built-in defaults", path, exc)
        return Settings()
    known = {f.name for f in fields(Settings)}
    return _coerce({k: v for k, v in raw.items() if k in known}).validated()


def _coerce(values: dict[str, object]) -> Settings:
    base = Settings()
    out: dict[str, object] = {}
    for f in fields(Settings):
        if f.name not in values:
            continue
        v = values[f.name]
        default = getattr(base, f.name)
        try:
            if isinstance(default, bool):
                out[f.name] = (
                    v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on")
                )
            elif isinstance(default, int):
                out[f.name] = int(str(v))
            else:
                out[f.name] = str(v)
        except (TypeError, ValueError):
            log.warning("ignoring bad setting %s=%r", f.name, v)
    return replace(base, **out)  # type: ignore[arg-type]


def settings_file() -> Path:
    override = data_dir(create=False, only_override=True)
    if override is not None:
        return override / "settings.ini"
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
    return Path(loc or Path.home() / ".config" / "latexsnip") / "settings.ini"


def _qsettings() -> QSettings:
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def load_settings() -> Settings:
    defaults = default_settings()
    qs = _qsettings()
    values: dict[str, object] = asdict(defaults)
    for f in fields(Settings):
        if qs.contains(f.name):
            values[f.name] = qs.value(f.name)
    return _coerce(values).validated()


def save_settings(s: Settings) -> None:
    qs = _qsettings()
    for k, v in asdict(s).items():
        qs.setValue(k, v)
    qs.sync()
    if qs.status() != QSettings.Status.NoError:
        log.error("could not write settings to %s", qs.fileName())


# --------------------------------------------------------------------------- dialog
from PySide6.QtWidgets import (  # noqa: E402  (widgets only needed for the dialog)
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)


class SettingsDialog(QDialog):
    def __init__(
        self, current: Settings, parent: QWidget | None = None, hotkey_note: str = ""
    ) -> None:
        super().__init__(parent)
        from desktop_app.paths import default_weights_path

        self.setWindowTitle("LaTeXSnip – settings")
        self.setObjectName("settingsDialog")
        self._current = current
        self.hotkey = QLineEdit(current.hotkey)
        self.hotkey.setToolTip("pynput syntax, e.g. <ctrl>+<alt>+m or <cmd>+<shift>+l")
        self.copy_format = QComboBox()
        for k, label in FORMAT_LABELS.items():
            self.copy_format.addItem(label, k)
        self.copy_format.setCurrentIndex(max(0, self.copy_format.findData(current.copy_format)))
        self.auto_copy = QCheckBox("Copy the result to the clipboard automatically")
        self.auto_copy.setChecked(current.auto_copy)
        self.beam = QSpinBox()
        self.beam.setRange(1, 20)
        self.beam.setValue(current.beam_width)
        self.reread = QCheckBox("Read an unsure snip again at other sizes (more accurate; 2-3x slower for it)")
        self.reread.setChecked(current.reread_unsure)
        self.reread.setToolTip(
            "When the model is unsure of a reading, it reads the snip again with the formula scaled to "
            "other glyph heights and keeps the most confident reading (only with weights that say so)."
        )
        self.render_check = QCheckBox("Check readings against their TeX rendering (needs TeX Live)")
        self.render_check.setChecked(current.render_check)
        self.render_check.setToolTip(
            "Typesets the model's candidate readings, and the best one with its spacing at other widths, with "
            "pdflatex (Computer Modern, then Times and Palatino) and keeps the one whose rendering draws the snip "
            "most closely; best with a beam width of 5. To answer sooner it keeps a few TeX programs started "
            "(about 200 MB while they wait). Without TeX Live it does nothing."
        )
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        self.device.setCurrentText(current.device)
        self.renderer = QComboBox()
        self.renderer.addItems(list(RENDERERS))
        self.renderer.setCurrentText(current.preview_renderer)
        self.renderer.setToolTip(
            "auto: LaTeX (pdflatex + Ghostscript) when installed, else matplotlib mathtext"
        )
        self.weights = QLineEdit(current.weights_file)
        self.weights.setPlaceholderText(f"default: {default_weights_path()}")
        # wide enough for a typical path (no clipped start), but not wider than ~ 70 characters
        fm = self.weights.fontMetrics()
        shown = current.weights_file or self.weights.placeholderText()
        self.weights.setMinimumWidth(
            min(fm.horizontalAdvance("M" * 40) * 7 // 4, fm.horizontalAdvance(shown) + 24)
        )
        self.weights.setCursorPosition(0)
        self.weights.setToolTip(current.weights_file or str(default_weights_path()))
        browse = QPushButton("Browse ...")
        browse.clicked.connect(self._browse)
        wrow = QHBoxLayout()
        wrow.addWidget(self.weights, 1)
        wrow.addWidget(browse)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)

        form = QFormLayout(self)
        form.addRow("Global hotkey:", self.hotkey)
        if hotkey_note:
            note = QLabel(hotkey_note)
            note.setWordWrap(True)
            note.setStyleSheet("color: #666;")
            form.addRow("", note)
        form.addRow("Copy format:", self.copy_format)
        form.addRow("", self.auto_copy)
        form.addRow("Beam width:", self.beam)
        form.addRow("", self.reread)
        form.addRow("", self.render_check)
        form.addRow("Device:", self.device)
        form.addRow("Weights file:", wrow)
        form.addRow("Preview renderer:", self.renderer)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Model weights", "", "Weights (*.safetensors *.pt *.pth);;All files (*)"
        )
        if path:
            self.weights.setText(path)

    def value(self) -> Settings:
        return Settings(
            hotkey=self.hotkey.text().strip(),
            copy_format=self.copy_format.currentData(),
            auto_copy=self.auto_copy.isChecked(),
            beam_width=self.beam.value(),
            reread_unsure=self.reread.isChecked(),
            render_check=self.render_check.isChecked(),
            device=self.device.currentText(),
            weights_file=self.weights.text().strip(),
            preview_renderer=self.renderer.currentText(),
        ).validated()

    def problem(self) -> str | None:
        from desktop_app.hotkey import validate_combo

        v = self.value()
        if v.weights_file and not Path(v.weights_file).expanduser().is_file():
            return f"Weights file not found: {v.weights_file}"
        return validate_combo(v.hotkey)

    def accept(self) -> None:
        msg = self.problem()
        if msg:
            self.error.setText(msg)
            return
        super().accept()
