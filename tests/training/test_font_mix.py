"""training.font_mix: which formulas the font mix renders and repeats (renderer stubbed, no TeX)."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training import font_mix, viewer_render, web_render
from training.metrics import SPACING_TOKENS
from training.pack import read_pack, write_pack
from training.render import RenderResult


def _image(seed: int) -> Image.Image:
    a = np.full((20, 60), 255, np.uint8)
    a[5:15, 5 + seed % 40 : 15 + seed % 40] = 0
    return Image.fromarray(a, "L")


@pytest.fixture
def pack(tmp_path: Path) -> str:
    train = [(f"x _ {{ {i} }}", _image(i)) for i in range(12)]
    out = str(tmp_path / "pack")
    write_pack(out, {"train": train, "val": [("y", _image(99))]})
    return out


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    calls: list[tuple[str, list[str]]] = []

    def fake_render(formulas, font="cm", dpi=200, workers=2, *, binarize=True, **_):  # type: ignore[no-untyped-def]
        calls.append((font if dpi == 200 else f"{font}@{dpi}{'' if binarize else '-aa'}", list(formulas)))
        return [RenderResult(_image(7)) for _ in formulas]

    monkeypatch.setattr(font_mix, "render_formulas", fake_render)
    return calls


def _favour_mix(pack: str, tmp_path: Path, favoured: str, *args: str) -> list[str]:
    """Run font_mix --base all with a formula_norm TSV holding ``favoured``; the mix's train formulas."""
    fav = tmp_path / "fav.tsv"
    fav.write_text("formula_norm\n" + favoured, encoding="utf-8")
    out = str(tmp_path / "mix")
    argv = ["--pack", pack, "--out", out, "--base", "all", "--favour", str(fav), "--workers", "1", *args]
    assert font_mix.main(argv) == 0
    return read_pack(out, "train")[0]


def test_favour_takes_formula_norm_or_formula_and_its_split(
    pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    fav = tmp_path / "fav.tsv"
    fav.write_text("formula\tsplit\n x _ { 5 } \tval\nx _ { 6 }\ttest\n", encoding="utf-8")
    out = str(tmp_path / "mix")
    assert font_mix.main(["--pack", pack, "--out", out, "--n", "0", "--favour", str(fav), "--workers", "1"]) == 0
    assert rendered[0][1] == ["x _ { 5 }"]  # stripped; the test row is not favoured
    bad = tmp_path / "bad.tsv"
    bad.write_text("latex\nz\n", encoding="utf-8")
    assert font_mix.main(["--pack", pack, "--out", out, "--favour", str(bad)]) == 2
    assert f"--favour {bad}: expected a TSV with a formula_norm or formula column" in capsys.readouterr().err


def test_favoured_formulas_are_always_rendered_and_repeated(
    pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]]
) -> None:
    train = _favour_mix(pack, tmp_path, "x _ { 3 }\nx _ { 8 }\nnot in the pack\n", "--n", "2", "--favour-copies", "2")
    assert [font for font, _ in rendered] == ["times", "palatino", "cm"]
    for _, formulas in rendered:
        assert formulas[:2] == ["x _ { 3 }", "x _ { 8 }"] and len(formulas) == 4
    counts = Counter(train)
    # 3 renders + the pack's own image + 2 copies for each favoured formula
    assert counts["x _ { 3 }"] == counts["x _ { 8 }"] == 3 + 1 + 2
    assert len(train) == 3 * 4 + 12 + 2 * 2
    assert read_pack(str(tmp_path / "mix"), "val")[0] == ["y"]


def test_without_favour_the_mix_is_unchanged(pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]]) -> None:
    out = str(tmp_path / "mix")
    assert font_mix.main(["--pack", pack, "--out", out, "--n", "3", "--workers", "1"]) == 0
    train, _ = read_pack(out, "train")
    assert len(train) == 3 * 3 + 3 * 3  # renders + as many pack images (--base same)


def test_a_pack_without_val_gives_a_mix_without_val(tmp_path: Path, rendered: list[tuple[str, list[str]]]) -> None:
    """A pack of training formulas alone (``latexsnip data build`` of a synthetic list) has no val split."""
    only_train = str(tmp_path / "train_only")
    write_pack(only_train, {"train": [(f"x _ {{ {i} }}", _image(i)) for i in range(4)]})
    out = str(tmp_path / "mix")
    assert font_mix.main(["--pack", only_train, "--out", out, "--n", "2", "--workers", "1"]) == 0
    assert len(read_pack(out, "train")[0]) == 2 * 3 + 4 and read_pack(out, "val")[0] == []  # the pack has only 4


def test_base_limit_keeps_the_favoured_and_a_random_rest(
    pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]]
) -> None:
    train = _favour_mix(pack, tmp_path, "x _ { 3 }\nx _ { 8 }\n", "--n", "0", "--base-limit", "5", "--favour-copies", "0")
    base = Counter(train)
    for f in ("x _ { 3 }", "x _ { 8 }"):
        base[f] -= 3  # the three renders
    assert sum(base.values()) == 5 and base["x _ { 3 }"] == base["x _ { 8 }"] == 1
    assert len(train) == 3 * 2 + 5


def test_variants_choose_the_renderings(
    pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "mix")
    argv = ["--pack", pack, "--out", out, "--n", "2", "--workers", "1", "--variants", "cm-110, times,cm-135"]
    assert font_mix.main(argv) == 0
    assert [name for name, _ in rendered] == ["cm@110", "times", "cm@135"]  # low dpi stays binarized
    assert len(read_pack(out, "train")[0]) == 3 * 2 + 3 * 2
    assert font_mix.main([*argv[:-1], "times,cm-72"]) == 2
    err = capsys.readouterr().err
    assert "unknown variant(s) cm-72" in err and "cm-110" in err
    assert font_mix.main([*argv[:-1], " , "]) == 2


def test_respace_renders_spaced_copies_of_unfavoured_formulas(
    tmp_path: Path, rendered: list[tuple[str, list[str]]]
) -> None:
    train = [(f"a + {i} = b", _image(i)) for i in range(6)]
    src = str(tmp_path / "pack")
    write_pack(src, {"train": train, "val": [("y", _image(99))]})
    fav = tmp_path / "fav.tsv"
    fav.write_text("formula_norm\na + 0 = b\n", encoding="utf-8")
    out = str(tmp_path / "mix")
    argv = ["--pack", src, "--out", out, "--n", "1", "--variants", "times", "--base", "all",
            "--favour", str(fav), "--favour-copies", "0", "--respace", "3", "--workers", "1"]
    assert font_mix.main(argv) == 0
    assert [name for name, _ in rendered] == ["times", "cm"]
    spaced = rendered[1][1]
    assert len(spaced) == 3 and all(f.split() != ["a", "+", "0", "=", "b"] for f in spaced)
    for f in spaced:  # the formula's own tokens, in order, with spacing commands between them
        assert [t for t in f.split() if t not in SPACING_TOKENS] in ([t for t in g.split()] for g, _ in train)
    assert len(read_pack(out, "train")[0]) == 2 + 3 + 6


def _report(tmp_path: Path, failures: list[dict[str, object]]) -> str:
    path = tmp_path / "build_report.json"
    path.write_text(json.dumps({"source": "x", "failures": failures}), encoding="utf-8")
    return str(path)


def test_too_big_formulas_reads_sizes_from_the_report(tmp_path: Path) -> None:
    report = _report(tmp_path, [
        {"split": "train", "formula": "a", "reason": "too_big: processed image 500x40 exceeds 320x64"},
        {"split": "train", "formula": "b", "reason": "too_big: processed image 700x40 exceeds 320x64"},
        {"split": "train", "formula": "c", "reason": "too_big: processed image 400x90 exceeds 320x64"},
        {"split": "train", "formula": "d", "reason": "too_big: ...", "size": [600, 64]},  # newer reports
        {"split": "val", "formula": "e", "reason": "too_big: processed image 500x40 exceeds 320x64"},
        {"split": "train", "formula": "f", "reason": "tex_error: Undefined control sequence"},
        {"split": "train", "formula": "g", "reason": "too_big"},  # no size: skipped
    ])
    assert font_mix.too_big_formulas(report, 592) == ["a", "d"]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable build_report.json"):
        font_mix.too_big_formulas(str(bad), 592)


def test_wide_renders_the_too_big_formulas_except_the_held_out(
    pack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sizes = {"w1": (500, 40), "w2": (580, 50), "w3": (700, 40), "w4": (400, 60)}  # as rendered
    reported = {"w1": [508, 48], "w2": [588, 58], "w3": [708, 48], "w4": [408, 64]}  # w4: its render is higher
    calls: list[list[str]] = []

    def fake_render(formulas, font="cm", dpi=200, workers=2, *, binarize=True, **_):  # type: ignore[no-untyped-def]
        calls.append(list(formulas))
        return [RenderResult(_image(3).resize(sizes[f])) for f in formulas]

    monkeypatch.setattr(font_mix, "render_formulas", fake_render)
    report = _report(tmp_path, [{"split": "train", "formula": f, "size": size, "reason": "too_big"}
                                for f, size in reported.items()])
    hold = tmp_path / "hold.txt"
    hold.write_text("w2\n", encoding="utf-8")
    out = str(tmp_path / "mix")
    argv = ["--pack", pack, "--out", out, "--n", "0", "--variants", "none", "--base", "all",
            "--wide", report, "--wide-max-width", "600", "--hold-out", str(hold), "--workers", "1"]
    assert font_mix.main(argv) == 0
    assert calls == [["w1", "w4"]]  # w3's report size is over the limit, w2 is held out
    train = read_pack(out, "train")[0]
    assert Counter(train)["w1"] == 1 and "w4" not in train and len(train) == 12 + 1
    assert "wide (cm, binarize=True, 200 dpi): 1 of 2 rendered and fit (1 held out), 1 copies" in capsys.readouterr().err
    # Tall formulas: a higher limit admits w4, --wide-min-height keeps only renders above it, each repeated.
    tall = [str(tmp_path / "tall") if a == out else a for a in argv] + [
        "--wide-max-height", "64", "--wide-min-height", "56", "--wide-copies", "3"]
    calls.clear()
    assert font_mix.main(tall) == 0
    assert calls == [["w1", "w4"]]
    train = read_pack(str(tmp_path / "tall"), "train")[0]
    assert Counter(train)["w4"] == 3 and "w1" not in train and len(train) == 12 + 3
    assert "wide (cm, binarize=True, 200 dpi): 1 of 2 rendered and fit (1 held out), 3 copies" in capsys.readouterr().err
    # --wide-variants renders the same formulas in other renderings too, with the same limits and copies.
    calls.clear()
    assert font_mix.main(tall + ["--wide-variants", "times,cm-aa"]) == 0
    assert calls == [["w1", "w4"], ["w4"], ["w4"]]  # the other renderings: only what Computer Modern kept
    train = read_pack(str(tmp_path / "tall"), "train")[0]
    assert Counter(train)["w4"] == 9 and len(train) == 12 + 9
    assert "wide cm-aa (cm, binarize=False, 200 dpi): 1 of 1 rendered and fit" in capsys.readouterr().err
    assert font_mix.main(tall + ["--wide-variants", "comic"]) == 2
    assert "unknown variant(s) comic" in capsys.readouterr().err
    assert font_mix.main(tall + ["--wide-min-height", "64"]) == 2
    assert "--wide-min-height below --wide-max-height" in capsys.readouterr().err
    missing = [str(tmp_path / "missing.json") if a == report else a for a in argv]
    assert font_mix.main(missing) == 2
    assert "missing.json: not a readable build_report.json" in capsys.readouterr().err


def _gradient(width: int) -> Image.Image:
    """A stroke anti-aliased the way a viewer draws it: many grays, most of them light."""
    a = np.full((20, width), 255, np.uint8)
    a[5:15, 5:37] = np.linspace(0, 230, 32, dtype=np.uint8)
    return Image.fromarray(a, "L")


def test_viewer_variants_keep_sixteen_grays(
    pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """poppler-100 & co. are drawn by training.viewer_render (stubbed), not by TeX's Ghostscript; they are packed
    with 16 grays (4 would flatten their light strokes), and those too big for the canvas are left out."""
    calls: list[tuple[str, int, list[str]]] = []

    def fake_viewer(formulas, viewer="poppler", dpi=100, font="cm", workers=2):  # type: ignore[no-untyped-def]
        assert workers == 1  # --workers
        calls.append((viewer, dpi, list(formulas)))
        return [None if i == 0 else _gradient(400 if i == 1 else 60) for i in range(len(formulas))]

    monkeypatch.setattr(font_mix, "viewer_snips", fake_viewer)
    monkeypatch.setattr(font_mix, "check_viewer", lambda viewer: None)  # stubbed: no rasteriser needs installing
    out = str(tmp_path / "mix")
    argv = ["--pack", pack, "--out", out, "--n", "4", "--workers", "1", "--variants", "times,poppler-150,mupdf-100"]
    assert font_mix.main(argv) == 0
    assert [(v, d) for v, d, _ in calls] == [("poppler", 150), ("mupdf", 100)]
    assert [name for name, _ in rendered] == ["times"]
    formulas, pngs = read_pack(out, "train")
    assert len(formulas) == 4 + 2 * 2 + 8  # times, two viewer renders each (one failed, one too wide), base "same"
    grays = [np.unique(np.asarray(Image.open(io.BytesIO(p)))).size for p in pngs]
    assert min(grays[4:8]) >= 15 and max(grays[:4]) <= 4  # the viewer renders (after Times's 4): 15 of 16 grays
    assert "poppler-150 (poppler, 150 dpi, 16 grays): 2 of 4 drawn and fit" in capsys.readouterr().err


def test_viewer_variants_need_their_rasteriser(
    pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(viewer_render.shutil, "which", lambda name: None if name == "mutool" else f"/usr/bin/{name}")
    out = str(tmp_path / "mix")
    assert font_mix.main(["--pack", pack, "--out", out, "--n", "2", "--variants", "times,poppler-100,mupdf-100"]) == 2
    assert "mupdf-100: mutool not found" in capsys.readouterr().err
    assert rendered == []  # told before any rendering
    assert not Path(out).exists()
    report = _report(tmp_path, [{"split": "train", "formula": "w", "size": [508, 48], "reason": "too_big"}])
    argv = ["--pack", pack, "--out", out, "--n", "0", "--variants", "none", "--wide", report, "--wide-variants", "mupdf-100"]
    assert font_mix.main(argv) == 2
    assert "mupdf-100: mutool not found" in capsys.readouterr().err
    assert rendered == [] and not Path(out).exists()  # --wide-variants are checked before any rendering too


def test_wide_viewer_variants_draw_the_kept_formulas_at_any_size_with_sixteen_grays(
    pack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PDF viewer's page of a long formula is drawn at the viewer's scale: the Computer Modern limits choose the
    formulas, not its size (training.wide_pack then puts each on the canvas the app would)."""
    sizes = {"w1": (500, 40), "w2": (300, 40)}
    monkeypatch.setattr(font_mix, "render_formulas", lambda formulas, **_: [  # type: ignore[misc]
        RenderResult(_image(3).resize(sizes[f])) for f in formulas])
    drawn: list[tuple[str, int, list[str]]] = []

    def fake_viewer(formulas, viewer="poppler", dpi=100, font="cm", workers=2):  # type: ignore[no-untyped-def]
        drawn.append((viewer, dpi, list(formulas)))
        a = np.full((20, 700), 255, np.uint8)
        a[5:15, 5:695] = np.tile(np.linspace(0, 230, 16, dtype=np.uint8), 44)[:690]
        return [Image.fromarray(a, "L") for _ in formulas]  # its ink wider than any limit

    monkeypatch.setattr(font_mix, "viewer_snips", fake_viewer)
    monkeypatch.setattr(font_mix, "check_viewer", lambda viewer: None)
    report = _report(tmp_path, [{"split": "train", "formula": f, "size": [w + 8, h + 8], "reason": "too_big"}
                                for f, (w, h) in sizes.items()])
    out = str(tmp_path / "mix")
    argv = ["--pack", pack, "--out", out, "--n", "0", "--variants", "none", "--base", "all", "--wide", report,
            "--wide-max-width", "400", "--wide-variants", "poppler-100", "--wide-copies", "2", "--workers", "1"]
    assert font_mix.main(argv) == 0
    assert drawn == [("poppler", 100, ["w2"])]  # only what Computer Modern kept (w1's render is over 400 px)
    formulas, pngs = read_pack(out, "train")
    assert Counter(formulas)["w2"] == 2 + 2 and len(formulas) == 12 + 4
    viewer_pngs = [Image.open(io.BytesIO(p)) for f, p in zip(formulas, pngs, strict=True) if f == "w2"]
    assert sum(im.width > 400 for im in viewer_pngs) == 2  # the viewer's pages, kept beyond --wide-max-width
    assert max(np.unique(np.asarray(im)).size for im in viewer_pngs) >= 15
    assert "wide poppler-100 (poppler, 100 dpi, 16 grays): 1 of 1 drawn, 2 copies" in capsys.readouterr().err


def test_web_variants_are_drawn_by_mathjax_with_sixteen_grays(
    pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """mathjax-100 / mathjax-150 are drawn by training.web_render (stubbed) at their zoom, packed like viewer renders."""
    zooms: list[float] = []

    def fake_web(formulas, zoom=1.0, workers=2):  # type: ignore[no-untyped-def]
        zooms.append(zoom)
        return [None if i == 0 else _gradient(400 if i == 1 else 60) for i in range(len(formulas))]

    monkeypatch.setattr(font_mix, "web_snips", fake_web)
    monkeypatch.setattr(font_mix, "check_web_renderer", lambda: None)
    out = str(tmp_path / "mix")
    assert font_mix.main(["--pack", pack, "--out", out, "--n", "4", "--variants", "mathjax-100,mathjax-150"]) == 0
    assert zooms == [1.0, 1.5] and rendered == []
    formulas, pngs = read_pack(out, "train")
    assert len(formulas) == 2 * 2 + 4  # two web renders each (one failed, one too wide), base "same"
    assert min(np.unique(np.asarray(Image.open(io.BytesIO(p)))).size for p in pngs[:4]) >= 15
    assert "mathjax-150 (MathJax, zoom 1.5, 16 grays): 2 of 4 drawn and fit" in capsys.readouterr().err


def test_web_variants_need_mathjax(pack: str, tmp_path: Path, rendered: list[tuple[str, list[str]]],
                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(web_render.shutil, "which", lambda name: None if name == "node" else f"/usr/bin/{name}")
    out = str(tmp_path / "mix")
    assert font_mix.main(["--pack", pack, "--out", out, "--n", "2", "--variants", "times,mathjax-100"]) == 2
    assert "mathjax-100: node not found" in capsys.readouterr().err
    assert rendered == [] and not Path(out).exists()


def test_a_pack_without_a_split_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only_val = str(tmp_path / "valpack")
    write_pack(only_val, {"val": [("y", _image(1))]})
    assert font_mix.main(["--pack", only_val, "--out", str(tmp_path / "mix"), "--variants", "times"]) == 2
    assert "no split 'train' in the pack (have: val)" in capsys.readouterr().err
