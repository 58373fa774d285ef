"""training.provenance: repeated fine-tune + soup stages keep each ancestor once, and nothing is lost."""

from __future__ import annotations

import json
from typing import Any

from training.provenance import compact, expand


def _stages(n: int, squash: bool) -> dict[str, Any]:
    """n rounds of 'fine-tune the current model, then average it with its fine-tune' (how the shipped
    weights were made), with or without compaction at each step."""
    fix = compact if squash else (lambda p: p)
    model: dict[str, Any] = {"data": "data/pack", "steps": 1000, "train_config": {"lr": 1e-3, "pad": "x" * 500}}
    for i in range(n):
        tuned = fix({"data": f"mix{i}", "steps": 100 * i, "init_from": f"stage{i}",
                     "init_provenance": model})
        model = fix({"steps": 100 * i, "averaged_from": [{"source": f"stage{i}", "weight": 0.5, "provenance": model},
                                                          {"source": f"ft{i}", "weight": 0.5, "provenance": tuned}]})
    return model


def test_soups_of_fine_tunes_stay_flat_and_expand_back() -> None:
    nested, flat = _stages(8, squash=False), _stages(8, squash=True)
    assert len(json.dumps(nested)) > 2**8 * 500  # the history doubles per stage when copied
    assert len(json.dumps(flat)) < 16 * 900  # each of the 17 ancestors once
    assert expand(flat) == nested
    assert compact(nested) == flat  # compacting at the end or at every stage gives the same record


def test_compact_is_idempotent_and_leaves_plain_provenance_alone() -> None:
    plain = {"data": "data/pack", "steps": 5}
    assert compact(plain) == plain and expand(plain) == plain
    flat = _stages(3, squash=True)
    assert compact(flat) == flat
    ref = flat["averaged_from"][1]["provenance"]
    assert isinstance(ref, str) and flat["lineage"][ref]["data"] == "mix2"


def test_joined_heads_share_their_ancestors_with_the_main_model() -> None:
    """training.heads joins a main model with heads trained from it: their histories are kept once."""
    main = _stages(4, squash=True)
    tall = compact({"data": "tallonly", "steps": 700, "init_from": "main", "init_head": "tall", "init_provenance": main})
    joined_nested = {**expand(main), "wide_head": {"source": "m.safetensors", "provenance": expand(main)},
                     "tall_head": {"source": "t.safetensors", "provenance": expand(tall)}}
    flat = compact({**main, "wide_head": {"source": "m.safetensors", "provenance": main},
                    "tall_head": {"source": "t.safetensors", "provenance": tall}})
    assert len(json.dumps(flat)) < len(json.dumps(main)) + 1500  # two small records more, no history copied
    assert isinstance(flat["tall_head"]["provenance"], str) and "lineage" not in flat["tall_head"]
    assert flat["lineage"][flat["tall_head"]["provenance"]]["data"] == "tallonly"
    assert expand(flat) == joined_nested
    assert compact(joined_nested) == flat
