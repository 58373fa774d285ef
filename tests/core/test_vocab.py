from __future__ import annotations

import pytest

from core.vocab import BOS_ID, EOS_ID, UNK_ID, Vocab


def test_build_encode_decode() -> None:
    v = Vocab.build(["x ^ { 2 }", "x + y", "\\alpha"], min_count=1)
    ids = v.encode("x ^ { 2 }")
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID
    assert v.decode(ids[1:]) == ["x", "^", "{", "2", "}"]
    assert v.encode("\\beta")[1] == UNK_ID


def test_min_count_drops_rare_tokens() -> None:
    v = Vocab.build(["a b", "a c"], min_count=2)
    assert "a" in v and "b" not in v


def test_decode_stops_at_eos_and_drops_specials() -> None:
    v = Vocab.build(["a b"])
    a, b = v.encode("a b")[1:3]
    assert v.decode([BOS_ID, a, EOS_ID, b]) == ["a"]


def test_specials_required() -> None:
    with pytest.raises(ValueError):
        Vocab(("a", "b"))
