"""core.spacing: a reading's spacing rewritten one run at a time, for the render check to compare."""

from __future__ import annotations

from core.spacing import ALTERNATIVES, BEFORE_END, spacing_runs, spacing_variants


def test_each_spacing_run_is_rewritten_to_every_width_on_its_own() -> None:
    tokens = ["a", "\\,", "b", "=", "c", "~", "~", "~", "d"]
    assert spacing_runs(tokens) == [(1, 2), (5, 8)]
    variants = spacing_variants(tokens)
    assert tokens not in variants and len(variants) == len({tuple(v) for v in variants})
    assert len(variants) == 2 * len(ALTERNATIVES) - 1  # the first run's own "\\," left out
    assert ["a", "b", "=", "c", "~", "~", "~", "d"] in variants and ["a", "\\;", "\\;", "b", "=", "c", "~", "~", "~", "d"] in variants
    assert ["a", "\\,", "b", "=", "c", "\\quad", "d"] in variants and ["a", "\\,", "b", "=", "c", "d"] in variants
    # one run at a time: the other stays as read
    assert all(v[:3] == ["a", "\\,", "b"] or v[-4:] == ["~", "~", "~", "d"] for v in variants)


def test_spacing_is_tried_before_a_final_full_stop_and_nowhere_else() -> None:
    assert spacing_variants(["x", "=", "1"]) == []
    assert spacing_variants(["x", "=", "1", ",", "y"]) == []
    assert spacing_variants(["x", "=", "1", "."]) == [["x", "=", "1", *alt, "."] for alt in BEFORE_END]
    # spacing already there: that run is rewritten instead
    variants = spacing_variants(["x", "=", "1", "\\;", "."])
    assert ["x", "=", "1", "\\,", "."] in variants and ["x", "=", "1", "."] in variants
    assert not any(v[-3:-1] == ["\\;", "\\,"] for v in variants)
    assert spacing_variants(["."]) == [] and spacing_variants([]) == []
