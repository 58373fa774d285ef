"""core.coverage: how much of a snip's inked feature-grid cells a reading's attention visited."""

from __future__ import annotations

import numpy as np
import torch

from core.coverage import coverage_penalty, ink_cells


def test_a_cell_holds_ink_where_its_block_of_the_canvas_does() -> None:
    canvas = torch.zeros(1, 32, 32)  # (1, H, W), ink bright on 0 as core.preprocess makes it
    canvas[0, 2:6, 3:5] = 1.0  # inside cell (0, 0) of a 2 x 4 grid of 16 x 8 px cells
    canvas[0, 20, 30] = 0.4  # too faint to be ink
    ink = ink_cells(canvas, (2, 4), (16, 8))
    assert ink.shape == (2, 4) and ink.tolist() == [[True, False, False, False], [False, False, False, False]]
    # a canvas narrower than the batch's grid (the batch's padding is blank)
    assert ink_cells(canvas[:, :, :16], (2, 4), (16, 8)).tolist() == ink.tolist()
    assert not ink_cells(np.zeros((32, 32)), (2, 4), (16, 8)).any()


def test_the_penalty_is_zero_when_every_inked_cell_got_a_steps_worth_and_negative_when_one_was_skipped() -> None:
    ink = np.array([[True, True], [False, True]])
    full = torch.zeros(3, 4)
    full[0, 0] = full[1, 1] = full[2, 3] = 1.0  # one step on each inked cell
    assert coverage_penalty(full, ink) == 0.0
    skipped = torch.zeros(3, 4)
    skipped[0, 0] = skipped[1, 1] = 1.0
    skipped[2, 2] = 1.0  # the last step looks at a blank cell: the third inked one is never visited
    assert coverage_penalty(skipped, ink) < coverage_penalty(full, ink)
    half = full.clone()
    half[2, 3] = half[2, 2] = 0.5
    assert coverage_penalty(skipped, ink) < coverage_penalty(half, ink) < 0.0
    assert coverage_penalty(torch.zeros(0, 4), ink) == 0.0 and coverage_penalty(full, np.zeros((2, 2), bool)) == 0.0
