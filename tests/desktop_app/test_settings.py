from desktop_app.settings import (
    Settings,
    SettingsDialog,
    default_settings,
    load_settings,
    save_settings,
    settings_file,
)


def test_defaults_from_resources_json():
    d = default_settings()
    assert d.hotkey == "<ctrl>+<alt>+m" and d.auto_copy is True and d.copy_format == "raw"
    assert d.reread_unsure is True and d.render_check is True


def test_roundtrip(_isolated_data_dir):
    s = Settings(
        hotkey="<ctrl>+<shift>+l",
        copy_format="mathml",
        auto_copy=False,
        beam_width=5,
        reread_unsure=False,
        render_check=False,
        device="cpu",
        weights_file="/x.safetensors",
    )
    save_settings(s)
    assert settings_file().parent == _isolated_data_dir
    assert load_settings() == s


def test_bad_values_fall_back(_isolated_data_dir):
    (_isolated_data_dir / "settings.ini").write_text(
        "[General]\ncopy_format=weird\nbeam_width=abc\ndevice=tpu\nauto_copy=false\n"
    )
    s = load_settings()
    assert (
        s.copy_format == "raw" and s.beam_width == 5 and s.device == "auto" and s.auto_copy is False
    )


def test_dialog_validates(qtbot, tmp_path):
    dlg = SettingsDialog(Settings())
    qtbot.addWidget(dlg)
    dlg.weights.setText(str(tmp_path / "missing.safetensors"))
    dlg.accept()
    assert "not found" in dlg.error.text() and dlg.result() == 0
    w = tmp_path / "ok.safetensors"
    w.write_bytes(b"x")
    dlg.weights.setText(str(w))
    dlg.hotkey.setText("<ctrl>+<alt>+k")
    dlg.beam.setValue(3)
    assert dlg.reread.isChecked()
    dlg.reread.setChecked(False)
    assert dlg.render_check.isChecked()
    dlg.render_check.setChecked(False)
    dlg.accept()
    assert dlg.result() == 1
    v = dlg.value()
    assert v.weights_file == str(w) and v.hotkey == "<ctrl>+<alt>+k" and v.beam_width == 3
    assert v.reread_unsure is False and v.render_check is False
