"""Batches for training: length/width buckets, trimmed canvases, the width cap."""

from __future__ import annotations

import io

import numpy as np

from core.preprocess import PreprocessConfig
from core.vocab import Vocab
from tests.core.helpers import draw
from training.augment import AugmentConfig
from training.dataset import FormulaImages, collate, epoch_batches

FORMULAS = ["x", "x + 1", "a + b + c + d + e", "a + b + c + d + e + f + g + h + i + j"]
TRIM = PreprocessConfig(trim_multiple=32)


def _png(formula: str, scale: int = 1) -> bytes:
    buf = io.BytesIO()
    draw(formula, scale=scale).save(buf, format="PNG")
    return buf.getvalue()


def _items(pre: PreprocessConfig, aug: AugmentConfig | None = None) -> FormulaImages:
    return FormulaImages(FORMULAS, [_png(f) for f in FORMULAS], Vocab.build(FORMULAS), pre, aug)


def test_without_trim_every_canvas_is_full_width() -> None:
    ds = _items(PreprocessConfig())
    assert ds.canvas_sizes() is None
    imgs, tokens = collate([ds[(0, i)] for i in range(len(ds))])
    assert imgs.shape == (4, 1, 64, 320) and tokens.shape[0] == 4


def test_trimmed_canvases_and_collate_pads_to_the_widest() -> None:
    ds = _items(TRIM)
    sizes = ds.canvas_sizes()
    assert sizes is not None and set(sizes[:, 0]) == {TRIM.height}
    widths = sizes[:, 1]
    assert list(widths) == sorted(widths) and widths[0] < widths[-1]
    assert [ds[(0, i)][0].shape[1] for i in range(4)] == list(widths)
    imgs, _ = collate([ds[(0, 0)], ds[(0, 2)]])
    assert imgs.shape[-1] == widths[2]
    assert imgs[0, 0, :, widths[0]:].sum() == 0  # the narrow one is padded with blank


def test_width_buckets_keep_batches_narrow_and_carry_the_cap() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 80, size=2000)
    widths = rng.choice([64, 96, 128, 192, 256, 320], size=2000)
    plain = epoch_batches(lengths, 32, 0, 0)
    bucketed = epoch_batches(lengths, 32, 0, 0, widths=widths)
    assert len(plain) == len(bucketed)
    assert all(len(k) == 2 for b in plain for k in b)
    caps = [b[0][2] for b in bucketed]
    assert all(k[2] == max(widths[j] for _, j, _ in b) for b in bucketed for k in b)
    assert np.mean(caps) < 0.8 * np.mean([max(widths[j] for _, j in b) for b in plain])
    assert bucketed == epoch_batches(lengths, 32, 0, 0, widths=widths)  # deterministic: resumable
    assert sorted(j for b in bucketed for _, j, _ in b) == sorted(j for b in plain for _, j in b)


def test_height_buckets_keep_tall_canvases_together() -> None:
    rng = np.random.default_rng(1)
    lengths = rng.integers(5, 80, size=2000)
    widths = rng.choice([64, 128, 256, 448], size=2000)
    heights = np.where(rng.random(2000) < 0.2, rng.choice([80, 96, 128], size=2000), 64)
    by_width = epoch_batches(lengths, 32, 0, 0, widths=widths)
    by_size = epoch_batches(lengths, 32, 0, 0, widths=widths, heights=heights)
    # padded rows: every canvas of a batch is as tall as its tallest
    def rows(batches: list[list[tuple[int, ...]]]) -> int:
        return sum(len(b) * max(heights[j] for _, j, _ in b) for b in batches)
    assert rows(by_size) < 0.8 * rows(by_width)
    assert sorted(j for b in by_size for _, j, _ in b) == sorted(j for b in by_width for _, j, _ in b)
    # equal heights: the same batches as without them (a run without tall canvases is unchanged)
    assert epoch_batches(lengths, 32, 0, 0, widths=widths, heights=np.full(2000, 64)) == by_width


def test_cap_shrinks_a_canvas_that_augmentation_made_wider() -> None:
    ds = _items(TRIM)
    wide = ds[(0, 2)][0].shape[1]
    capped = ds[(0, 2, wide - 32)][0]
    assert capped.shape[1] == wide - 32 and capped.float().sum() > 0
