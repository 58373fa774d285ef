import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage

from desktop_app.fake import FakeRecognizer
from desktop_app.imageconv import mime_offers_image
from desktop_app.preview import PreviewService, tex_available
from desktop_app.result_window import ResultWindow
from tests.desktop_app.conftest import formula_image


@pytest.fixture
def preview():
    svc = PreviewService("mathtext")
    yield svc
    svc.shutdown()


@pytest.fixture
def window(qtbot, preview):
    w = ResultWindow(preview)
    qtbot.addWidget(w)
    w.show()
    return w


def _pred():
    a = np.full((60, 200, 3), 255, np.uint8)
    a[20:40, 30:170] = 0
    return FakeRecognizer().recognize(a)


def _wait_preview(qtbot, w, text):
    qtbot.waitUntil(
        lambda: w.last_preview is not None and w.last_preview.latex == text, timeout=10000
    )
    return w.last_preview


def test_prediction_fills_text_preview_and_confidence(qtbot, window):
    window.set_snip(formula_image(300, 80))
    pred = _pred()
    window.set_prediction(pred)
    assert window.latex() == pred.latex
    assert "Confidence" in window.info_label.text()
    res = _wait_preview(qtbot, window, pred.latex)
    assert res.image is not None and not res.image.isNull()
    assert window.preview_label.pixmap() is not None and not window.preview_label.pixmap().isNull()


def test_low_probability_tokens_highlighted(window):
    pred = _pred()
    window.set_prediction(pred)
    low = [i for i, p in enumerate(pred.token_probs) if p < 0.5]
    assert low  # the fake makes token 3 uncertain
    ranges = window.highlighted_ranges()
    text = window.latex()
    assert [text[a:b] for a, b in ranges] == [pred.tokens[i] for i in low]


def test_editing_updates_preview(qtbot, window):
    window.set_prediction(_pred())
    first = _wait_preview(qtbot, window, window.latex())
    window.edit.setPlainText(r"\sqrt { y } + \alpha")
    second = _wait_preview(qtbot, window, r"\sqrt { y } + \alpha")
    assert second.image is not None
    assert second.image.size() != first.image.size() or second.image != first.image


def test_preview_error_is_readable(qtbot, window):
    window.edit.setPlainText(r"\frac { a } {")
    res = _wait_preview(qtbot, window, r"\frac { a } {")
    assert res.image is None
    assert window.preview_error.text()
    assert "Traceback" not in window.preview_error.text()


@pytest.mark.parametrize(
    "fmt,expected",
    [
        ("raw", r"\frac { a } { b }"),
        ("inline", r"$\frac { a } { b }$"),
        ("display", r"$$\frac { a } { b }$$"),
        ("equation", "\\begin{equation}\n\\frac { a } { b }\n\\end{equation}"),
    ],
)
def test_copy_formats_on_clipboard(window, fmt, expected):
    window.edit.setPlainText(r"\frac { a } { b }")
    assert window.copy(fmt) == expected
    assert QGuiApplication.clipboard().text() == expected


def test_copy_mathml(window):
    window.edit.setPlainText(r"x ^ { 2 }")
    out = window.copy("mathml")
    assert out.startswith("<math") and "<msup>" in out
    assert QGuiApplication.clipboard().text() == out


def test_copy_uses_chosen_format_and_empty_text_is_a_message(window):
    window.set_copy_format("inline")
    window.edit.setPlainText("y")
    assert window.copy() == "$y$"
    window.edit.setPlainText("   ")
    assert window.copy() is None
    assert "Nothing to copy" in window.copy_status.text()


def test_retry_button_asks_for_a_wider_beam_than_the_reading_had(qtbot, window):
    window.set_snip(formula_image(200, 60))
    for beam, wider in ((1, 5), (5, 10), (10, 20), (20, 20)):
        window.set_prediction(_pred(), beam)
        assert window.retry_button.text() == f"Retry (beam {wider})"
        with qtbot.waitSignal(window.retry_requested) as b:
            window.retry_button.click()
        assert b.args == [wider]


def test_attention_view_steps_through_tokens(qtbot, window):
    pred = _pred()
    window.set_prediction(pred)
    window.attn_button.setChecked(True)
    view = window.attention_view
    assert view is not None and view.isVisible()
    assert view.slider.maximum() == pred.attention.shape[0] - 1
    view.slider.setValue(2)
    heat = view.current_heat(2)
    assert heat.shape == pred.model_input.shape
    assert "2/" not in view.label.text() and view.label.text().startswith("3/")


@pytest.mark.tex
@pytest.mark.skipif(not tex_available(), reason="needs pdflatex + ghostscript")
def test_tex_preview_renders_and_reports_errors(qtbot):
    svc = PreviewService("tex")
    try:
        w = ResultWindow(svc)
        qtbot.addWidget(w)
        w.edit.setPlainText(r"\mathbb { R } ^ { n } \hspace { 1 c m } x")
        res = _wait_preview(qtbot, w, w.latex())
        assert res.backend == "tex" and res.image is not None
        w.edit.setPlainText(r"\undefinedmacro x")
        res = _wait_preview(qtbot, w, w.latex())
        assert res.image is None and "undefined command \\undefinedmacro" in res.error
    finally:
        svc.shutdown()


def test_tex_fixups_undo_normalisation_artifacts():
    from desktop_app.preview import tex_fixups

    assert tex_fixups(r"a \hspace { 1 c m } b") == r"a \hspace { 1cm } b"
    assert tex_fixups(r"a \hspace * { - 0 . 5 2 5 c m } b") == r"a \hspace * { -0.525cm } b"
    assert tex_fixups(r"\hspace { . 5 t r u e c m }") == r"\hspace { .5truecm }"
    assert tex_fixups(r"\kern 3 p t x") == r"\kern 3pt x"
    assert tex_fixups(r"x \label L") == "x "
    assert (
        tex_fixups(r"\renewcommand { \arraystretch } { 1 . 2 }")
        == r"\renewcommand{\arraystretch}{1.2}"
    )
    assert tex_fixups(r"\mbox { a b c } \hspace { 1 c }") == r"\mbox { a b c } \hspace { 1 c }"


def test_attention_display_is_dark_ink_on_white_for_either_polarity():
    from desktop_app.result_window import display_input

    ink_is_one = np.zeros((8, 40), np.float32)  # the real preprocessing: ink 1, background 0
    ink_is_one[3:5, 5:30] = 1.0
    shown = display_input(ink_is_one)
    assert shown[0, 0] == 1.0 and shown[4, 10] == 0.0
    ink_is_zero = 1.0 - ink_is_one  # already dark on white: unchanged
    np.testing.assert_array_equal(display_input(ink_is_zero), ink_is_zero)


def test_attention_upsampling_is_smooth_and_keeps_the_peak_cell():
    from desktop_app.result_window import upsample_bilinear

    a = np.zeros((4, 40), np.float32)  # the real grid: 4 x 40 over a 64 x 320 input
    a[1, 10] = 1.0
    up = upsample_bilinear(a, 64, 320)
    assert up.shape == (64, 320)
    r, c = np.unravel_index(int(np.argmax(up)), up.shape)
    assert 16 <= r < 32 and 80 <= c < 88  # inside cell (1, 10)
    assert 0.0 < up[r, c + 8] < up[r, c]  # falls off smoothly into the next cell
    assert up.min() >= 0.0 and up.max() <= 1.0
    np.testing.assert_allclose(upsample_bilinear(np.ones((4, 40)), 64, 320), 1.0)


def test_mathtext_preview_draws_old_font_switches():
    """im2latex's spelling `{ \\cal L }` (what the model writes) must draw in the mathtext preview too."""
    from desktop_app.preview import mathtext_source, render_mathtext

    assert mathtext_source(r"{ \cal L } = { \bf x } + { \rm d } t") == r"\mathcal{L}=\mathbf{x}+\mathrm{d}t"
    assert mathtext_source(r"x ^ { 2 }") == r"x^{2}"  # mathtext does not skip spaces: `x ^ { 2 }` drew "x 2"
    assert mathtext_source(r"{ \calligraphic }") == r"{\calligraphic}"  # only whole command names
    assert mathtext_source(r"{ \mathcal O } + \mathbf \nabla") == r"{\mathcal{O}}+\mathbf{\nabla}"
    assert mathtext_source(r"\mathrm{\bf B} \mathrm { \bf B }") == r"\mathbf{B}\mathbf{B}"  # typed, as tokens
    for latex in (r"{ \cal L } _ { 1 } = { \bf x } \rightarrow { \it a }", r"\frac { { \cal N } } { 2 }",
                  r"{ \mathcal O } ( x ^ { 4 } ) + | \mathrm { \bf B } |"):
        assert render_mathtext(latex).startswith(b"\x89PNG")


def test_the_info_line_says_what_the_render_check_found(window):
    import dataclasses

    pred = _pred()
    window.set_prediction(pred)
    assert "renders like" not in window.info_label.text() and window.info_label.toolTip() == ""
    window.set_prediction(dataclasses.replace(pred, render_distance=0.02))
    assert "renders like the snip" in window.info_label.text() and "first choice" not in window.info_label.text()
    window.set_prediction(dataclasses.replace(pred, render_distance=0.0, first_choice="x ^ 2"))
    assert "not the model's first choice" in window.info_label.text()
    assert "x ^ 2" in window.info_label.toolTip()


def test_other_readings_menu_puts_a_reading_in_the_editor_and_undo_takes_it_back(qtbot, window):
    import dataclasses

    pred = _pred()
    window.set_prediction(pred)
    assert not window.readings_button.isEnabled() and window.readings_menu.actions() == []
    pred = dataclasses.replace(pred, first_choice="x ^ 2", alternatives=("x ^ 2", "x _ 2"))
    window.set_prediction(pred)
    highlighted = window.highlighted_ranges()
    actions = window.readings_menu.actions()
    assert window.readings_button.isEnabled() and window.readings_button.text() == "Other readings (2)"
    assert [a.data() for a in actions] == [pred.latex, "x ^ 2", "x _ 2"]
    assert "(kept)" in actions[0].text() and "first choice" in actions[1].text()
    edited: list[str] = []
    window.latex_edited.connect(edited.append)
    actions[2].trigger()
    assert window.latex() == "x _ 2" and edited[-1] == "x _ 2"
    assert window.highlighted_ranges() == []  # the kept reading's token probabilities do not belong to it
    _wait_preview(qtbot, window, "x _ 2")
    window.edit.undo()
    assert window.latex() == pred.latex
    actions[2].trigger()
    actions[0].trigger()  # back to the kept reading: its uncertain tokens are highlighted again
    assert window.latex() == pred.latex and window.highlighted_ranges() == highlighted != []
    window.set_snip(QImage(20, 10, QImage.Format.Format_RGB32))  # a new snip: nothing to pick from yet
    assert not window.readings_button.isEnabled() and window.readings_menu.actions() == []


def test_a_long_reading_is_cut_in_its_menu_entry():
    from desktop_app.result_window import reading_label

    text = " ".join(["x"] * 100)
    assert reading_label(text, kept="y", first=None).endswith("…") and len(reading_label(text, "y", None)) == 90
    assert reading_label("a", kept="a", first="b").endswith("(kept)")
    assert reading_label("b", kept="a", first="b").endswith("(the model's first choice)")


def _drop(window, mime):
    ev = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(ev)


def test_a_dropped_picture_is_read_as_a_snip(qtbot, window, tmp_path):
    data = QMimeData()  # a browser's dragged image
    data.setImageData(formula_image(300, 80))
    with qtbot.waitSignal(window.image_dropped, timeout=1000) as sig:
        _drop(window, data)
    assert (sig.args[0].width(), sig.args[0].height()) == (300, 80)

    path = tmp_path / "formula.PNG"  # a file from the file manager, any case of suffix
    formula_image(120, 40).save(str(path))
    files = QMimeData()
    files.setUrls([QUrl.fromLocalFile(str(path))])
    assert mime_offers_image(files)
    with qtbot.waitSignal(window.image_dropped, timeout=1000) as sig:
        _drop(window, files)
    assert sig.args[0].width() == 120

    text = QMimeData()
    text.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    assert not mime_offers_image(text)  # not even offered: the drag shows "no drop here"


def test_a_dropped_file_that_is_no_picture_says_so(qtbot, window, tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"not a png")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    with qtbot.assertNotEmitted(window.image_dropped):
        _drop(window, data)
    assert "not a picture" in window.info_label.text()


def test_a_transparent_picture_keeps_its_ink(qtbot):
    # a formula on a transparent page (a web page's image): flattened to RGB it would be black on black
    from PySide6.QtGui import QColor, QPainter

    from core.preprocess import to_gray
    from desktop_app.imageconv import qimage_to_array

    img = QImage(60, 20, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.fillRect(20, 5, 20, 10, QColor(0, 0, 0))
    p.end()
    arr = qimage_to_array(img)
    assert arr.shape == (20, 60, 4)
    gray = to_gray(arr)
    assert gray[0, 0] > 0.9 and gray[10, 30] < 0.1  # white page, black ink

    dark = QImage(60, 20, QImage.Format.Format_ARGB32)  # opaque (a dark-mode screen snip): stays RGB
    dark.fill(QColor(20, 20, 20))
    assert qimage_to_array(dark).shape == (20, 60, 3)
