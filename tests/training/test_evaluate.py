"""training.evaluate: the reusable evaluate() with a fake recogniser, the report, the CLI."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import datasets
import pytest
from PIL import Image

from core.errors import ImageError
from training import evaluate as ev
from training.metrics import corpus_bleu, edit_score

GOLD = ["a + b", "x ^ { 2 }", "\\frac { 1 } { 2 }", "y _ 1", "c"]
# what the fake recogniser answers for item i (None: the image is unusable -> ImageError)
ANSWERS = ["a + b", "x ^ 2", None, "y _ 1", "c d"]


def _image(i: int) -> Image.Image:
    if ANSWERS[i] is None:
        return Image.new("L", (1, 1), 255)  # "too small": the fake raises ImageError
    return Image.new("L", (20 + i, 10), 255)  # width encodes the item


@dataclass
class FakePrediction:
    latex: str
    tokens: list[str]


class FakeRecognizer:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def recognize_batch(self, images, beam=1):
        self.calls.append(len(images))
        out = []
        for im in images:
            if im.size == (1, 1):
                raise ImageError("image too small")  # the whole batch fails, as Recognizer does
            ans = ANSWERS[im.size[0] - 20]
            out.append(FakePrediction(ans, ans.split()))
        return out


@pytest.fixture
def tiny_dataset() -> datasets.Dataset:
    ds = datasets.Dataset.from_dict(
        {"formula": GOLD, "filename": [f"{i}.png" for i in range(len(GOLD))],
         "image": [_image(i) for i in range(len(GOLD))]}
    )
    return ds.cast_column("image", datasets.Image())


def _expected_preds() -> list[str]:
    return [a or "" for a in ANSWERS]


def test_evaluate_scores_every_item(tiny_dataset):
    rec = FakeRecognizer()
    images = list(tiny_dataset["image"])
    seen = []
    res = ev.evaluate(rec, images, list(tiny_dataset["formula"]), beam=1, batch=2,
                      progress=lambda d, t: seen.append((d, t)))
    assert res["n"] == 5
    assert res["predictions"] == _expected_preds()
    assert res["failed"] == 1 and res["errors"][2] == "image too small"
    refs = [g.split() for g in GOLD]
    hyps = [p.split() for p in _expected_preds()]
    assert res["bleu"] == pytest.approx(corpus_bleu(refs, hyps))
    assert res["edit_score"] == pytest.approx(edit_score(refs, hyps))
    # exact: items 0 and 3 of 5
    assert res["exact_match"] == pytest.approx(2 / 5)
    # edit distances: 0, x ^ { 2 } -> x ^ 2 = 2, 7 (empty vs 7 tokens), 0, 1
    assert res["edit_distances"] == [0, 2, 7, 0, 1]
    assert res["ms_per_image"] >= 0
    assert seen[-1] == (5, 5)
    # three batches (in image-width order); the one holding the bad image fails as a whole and
    # is re-run image by image
    assert sorted(rec.calls) == [1, 1, 1, 2, 2]


def test_recognize_chunk_isolates_the_unusable_image():
    # what bench/robustness.py reads with too: one Reading per image, in the chunk's order
    rec = FakeRecognizer()
    out = ev.recognize_chunk(rec, [_image(i) for i in range(4)] + [b"not an image"], beam=1)
    assert [r.tokens for r in out] == [["a", "+", "b"], ["x", "^", "2"], [], ["y", "_", "1"], []]
    assert out[2].error == "image too small" and "not a readable image" in (out[4].error or "")
    assert all(r.error is None and r.first_choice is None and r.alternatives == [] for r in out[:2])
    assert rec.calls == [4, 1, 1, 1, 1]  # the batch failed as a whole, then image by image


def test_evaluate_accepts_encoded_bytes_and_unreadable_bytes():
    buf = io.BytesIO()
    _image(0).save(buf, format="PNG")
    res = ev.evaluate(FakeRecognizer(), [buf.getvalue(), b"not an image"], ["a + b", "c"], batch=8)
    assert res["predictions"] == ["a + b", ""]
    assert res["failed"] == 1 and "not a readable image" in res["errors"][1]
    assert res["exact_match"] == pytest.approx(0.5)


def test_report_html_and_markdown(tiny_dataset, tmp_path):
    images = list(tiny_dataset["image"])
    res = ev.evaluate(FakeRecognizer(), images, GOLD, batch=4)
    html_path = ev.write_report(tmp_path / "r.html", images, GOLD, res, count=2)
    text = html_path.read_text()
    assert text.count("<tr><td>") == 2  # the 2 worst: item 2 (7 edits) then item 1 (2 edits)
    assert text.index("<tr><td>2</td>") < text.index("<tr><td>1</td>")
    assert "data:image/png;base64," in text and "no prediction: image too small" in text
    assert "\\frac { 1 } { 2 }" in text
    md_path = ev.write_report(tmp_path / "r.md", images, GOLD, res)
    md = md_path.read_text()
    assert md.count("\n| ") == 4  # header + the 3 imperfect items (0 and 3 are exact)
    assert sorted(p.name for p in (tmp_path / "r_images").iterdir()) == ["000001.png", "000002.png", "000004.png"]


def test_cli_missing_weights_exits_2(tmp_path, capsys):
    rc = ev.main(["--weights", str(tmp_path / "missing.safetensors"), "--data", str(tmp_path), "--json"])
    assert rc == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "missing.safetensors" in err and "no such weights file" in err
    assert "Traceback" not in err


def test_cli_json_line_and_report(tiny_dataset, tmp_path, capsys, monkeypatch):
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"fake")
    monkeypatch.setattr(ev, "_load_recognizer", lambda *a: FakeRecognizer())  # no torch import
    got_args = {}

    def fake_load(source, split, limit):
        got_args.update(source=source, split=split, limit=limit)
        return GOLD[:limit], list(tiny_dataset["image"])[:limit]

    monkeypatch.setattr(ev, "_load_data", fake_load)
    rc = ev.main(["--weights", str(weights), "--data", "somewhere", "--split", "val", "--limit", "4",
                  "--batch", "3", "--json", "--report", str(tmp_path / "rep.html"),
                  "--predictions", str(tmp_path / "preds.jsonl")])
    assert rc == 0
    rows = [json.loads(line) for line in (tmp_path / "preds.jsonl").read_text().splitlines()]
    assert [r["gold"] for r in rows] == GOLD[:4] and sum(r["prediction"] == r["gold"] for r in rows) == 2
    assert all(set(r) == {"gold", "prediction", "edit", "error"} and (r["edit"] == 0) == (r["prediction"] == r["gold"])
               for r in rows)  # no render check: no model_choice
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert list(rec) == ["n", "bleu", "edit_score", "exact_match", "exact_ignoring_braces",
                         "exact_ignoring_braces_spacing", "ms_per_image"]
    assert rec["n"] == 4 and rec["exact_match"] == 0.5
    assert got_args == {"source": "somewhere", "split": "val", "limit": 4}
    assert (tmp_path / "rep.html").is_file() and "report written" in err

    # the human summary
    assert ev.main(["--weights", str(weights), "--data", "somewhere"]) == 0
    out = capsys.readouterr().out
    assert "BLEU-4" in out and "exact match" in out and "ignoring { }" in out


def test_cli_data_error_exits_2(tmp_path, capsys, monkeypatch):
    from core.errors import LatexSnipError

    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"fake")
    monkeypatch.setattr(ev, "_load_recognizer", lambda *a: FakeRecognizer())

    def boom(source, split, limit):
        raise LatexSnipError(f"{source}: no split {split!r}")

    monkeypatch.setattr(ev, "_load_data", boom)
    assert ev.main(["--weights", str(weights), "--data", "nowhere", "--split", "dev"]) == 2
    assert "nowhere: no split 'dev'" in capsys.readouterr().err


def test_missing_gold_formulas_count_as_empty_predictions(tmp_path):
    res = {"predictions": ["a + b", "x"], "bleu": 100.0}
    tsv = tmp_path / "gold.tsv"
    tsv.write_text("formula_idx\tsplit\tformula_norm\n1\ttest\ta + b\n2\ttest\tx\n3\tval\tq\n4\ttest\ty ^ 2\n")
    gold = ev.gold_formulas(str(tsv), "test")
    assert gold == ["a + b", "x", "y ^ 2"]
    out = ev.score_missing_as_empty(res, ["a + b", "x"], gold)
    assert out["n"] == 3 and out["missing"] == 1
    assert out["exact_match"] == pytest.approx(2 / 3)
    assert out["edit_score"] == pytest.approx(1 - 3 / 7)  # 0 + 0 + 3 edits over max lengths 3 + 1 + 3
    assert out["bleu"] < 100.0
    with pytest.raises(ev.LatexSnipError):
        ev.gold_formulas(str(tmp_path / "absent.tsv"), "test")


def test_cli_preprocess_overrides_reach_the_recognizer(tiny_dataset, tmp_path, capsys, monkeypatch):
    from core.preprocess import PreprocessConfig

    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"fake")
    rec = FakeRecognizer()
    rec.preprocess_config = PreprocessConfig()
    monkeypatch.setattr(ev, "_load_recognizer", lambda *a: rec)
    monkeypatch.setattr(ev, "_load_data", lambda s, sp, lim: (GOLD[:2], list(tiny_dataset["image"])[:2]))
    assert ev.main(["--weights", str(weights), "--data", "x", "--json", "--preprocess", '{"glyph_height": 10.5}']) == 0
    assert rec.preprocess_config.glyph_height == 10.5
    capsys.readouterr()
    assert ev.main(["--weights", str(weights), "--data", "x", "--preprocess", '{"glyph": 1}']) == 2
    assert "no setting 'glyph'" in capsys.readouterr().err


def test_exact_match_diagnostics_ignore_braces_then_spacing():
    refs = [["{", "\\frac", "{", "1", "}", "{", "2", "}", "}"], ["a", "\\,", "b"], ["x"], ["\\{", "y", "\\}"]]
    hyps = [["\\frac", "{", "1", "}", "{", "2", "}"], ["a", "b"], ["z"], ["y"]]
    m = ev.text_metrics(refs, hyps)
    assert m["exact_match"] == 0.0
    assert m["exact_ignoring_braces"] == pytest.approx(1 / 4)  # literal \{ \} are symbols, not grouping
    assert m["exact_ignoring_braces_spacing"] == pytest.approx(2 / 4)
    out = ev.score_missing_as_empty({"predictions": ["\\frac 1 2"]}, ["{ \\frac 1 2 }"], ["{ \\frac 1 2 }", "q"])
    assert out["exact_match"] == 0.0 and out["exact_ignoring_braces"] == pytest.approx(1 / 2)


@dataclass
class CheckedPrediction:
    latex: str
    tokens: list[str]
    first_choice: str | None


class RenderCheckingRecognizer:
    """Answers GOLD for items 0 and 1 after its render check; the model alone would have said ANSWERS."""

    def __init__(self) -> None:
        self.renderers: list[object] = []

    def recognize_batch(self, images, beam=1, renderer=None):
        self.renderers.append(renderer)
        out = []
        for im in images:
            i = im.size[0] - 20
            first = ANSWERS[i] or ""
            final = GOLD[i] if i in (0, 1) else first
            out.append(CheckedPrediction(final, final.split(), first if final != first else None))
        return out


def test_a_render_check_is_passed_on_and_scored_against_the_models_own_choice():
    images = [_image(i) for i in range(len(GOLD)) if ANSWERS[i] is not None]
    gold = [g for g, a in zip(GOLD, ANSWERS, strict=True) if a is not None]
    rec = RenderCheckingRecognizer()
    renderer = object()
    res = ev.evaluate(rec, images, gold, beam=5, renderer=renderer)
    assert rec.renderers and all(r is renderer for r in rec.renderers)
    assert res["render_check_changed"] == 1  # item 1: "x ^ 2" -> "x ^ { 2 }"; item 0 was right already
    assert res["exact_match"] == pytest.approx(3 / 4)
    assert res["without_render_check"]["exact_match"] == pytest.approx(2 / 4)
    scored = ev.score_missing_as_empty(res, gold, [*gold, "z"])  # one gold formula without an image
    assert scored["exact_match"] == pytest.approx(3 / 5)
    assert scored["without_render_check"]["exact_match"] == pytest.approx(2 / 5)
    plain = ev.evaluate(FakeRecognizer(), images, gold, beam=5)  # no renderer: nothing passed, nothing added
    assert "without_render_check" not in plain


@dataclass
class OfferingPrediction:
    latex: str
    tokens: list[str]
    alternatives: tuple[str, ...]


class OfferingRecognizer:
    """Reads every item as its ANSWERS entry and offers the gold as an alternative for item 1 only."""

    def recognize_batch(self, images, beam=1):
        out = []
        for im in images:
            i = im.size[0] - 20
            out.append(OfferingPrediction(ANSWERS[i], ANSWERS[i].split(), (GOLD[i], "q") if i == 1 else ()))
        return out


def test_the_readings_offered_are_scored_and_written_with_the_predictions(tmp_path):
    images = [_image(i) for i in range(len(GOLD)) if ANSWERS[i] is not None]
    gold = [g for g, a in zip(GOLD, ANSWERS, strict=True) if a is not None]  # a + b, x ^ { 2 }, y _ 1, c
    res = ev.evaluate(OfferingRecognizer(), images, gold, beam=5)
    assert res["exact_match"] == pytest.approx(2 / 4)  # a + b, y _ 1
    assert res["exact_offered"] == pytest.approx(3 / 4)  # and x ^ { 2 }, offered
    assert res["alternatives"][1] == ["x ^ { 2 }", "q"] and res["alternatives"][0] == []
    assert ev.score_missing_as_empty(res, gold, [*gold, "z"])["exact_offered"] == pytest.approx(3 / 5)
    path = tmp_path / "p.jsonl"
    ev.write_predictions(path, gold, res)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[1]["alternatives"] == ["x ^ { 2 }", "q"] and rows[1]["prediction"] == "x ^ 2"
    assert "exact_offered" not in ev.evaluate(FakeRecognizer(), images, gold, beam=5)  # none offered
