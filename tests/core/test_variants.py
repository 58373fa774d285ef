"""core.variants: a reading with one detail drawn otherwise (spacing, a delimiter pair's size, a look-alike command),
for the render check to refine a near match."""

from __future__ import annotations

from core.spacing import spacing_variants
from core.variants import SIZES, delimiter_pairs, delimiter_variants, refinements, swap_variants


def _toks(text: str) -> list[str]:
    return text.split(" ")


def test_delimiters_pair_up_whatever_size_they_are_written_at() -> None:
    tokens = _toks("f \\left( x \\right) + \\Big [ a ( b ) \\Big ] + \\bigl \\{ c \\bigr \\}")
    assert delimiter_pairs(tokens) == [
        (1, 2, 3, 4, "(", ")"), (5, 7, 11, 13, "[", "]"), (8, 9, 10, 11, "(", ")"), (14, 16, 17, 19, "\\{", "\\}"),
    ]
    # a closer with no opener, an opener never closed, \big before a non-delimiter, \leftarrow: no pair
    assert delimiter_pairs(_toks("a ) + ( b \\big x \\leftarrow y")) == []
    # \left. closes nothing plain; its pair is still found
    assert delimiter_pairs(_toks("\\left. x \\right|")) == [(0, 1, 2, 3, ".", "|")]


def test_each_pair_is_written_at_every_other_size_on_its_own() -> None:
    tokens = _toks("( a ) = \\left[ b \\right]")
    variants = [" ".join(v) for v in delimiter_variants(tokens)]
    assert "\\left( a \\right) = \\left[ b \\right]" in variants
    assert "\\Big ( a \\Big ) = \\left[ b \\right]" in variants and "\\Bigl ( a \\Bigr ) = \\left[ b \\right]" in variants
    assert "( a ) = [ b ]" in variants and "( a ) = \\bigg [ b \\bigg ]" in variants
    assert " ".join(tokens) not in variants
    assert len(variants) == 2 * (len(SIZES) - 1)
    # a null delimiter has no plain spelling: that size is left out
    null = [" ".join(v) for v in delimiter_variants(_toks("\\left. x \\right|"))]
    assert "\\big . x \\big |" in null and not any(v.startswith(". x") or v.startswith("x") for v in null)
    assert len(null) == len(SIZES) - 2


def test_look_alikes_are_swapped_one_at_a_time() -> None:
    tokens = _toks("\\mathrm { d } x + \\ldots")
    assert [" ".join(v) for v in swap_variants(tokens)] == [
        "\\operatorname { d } x + \\ldots", "\\mathrm { d } x + \\cdots",
    ]
    assert swap_variants(["x"]) == []


def test_refinements_hold_each_variant_once_spacing_first_and_within_the_limit() -> None:
    tokens = _toks("f ( x ) \\, = \\cdots .")
    out = refinements(tokens)
    assert tokens not in out and len(out) == len({tuple(v) for v in out})
    spacing = spacing_variants(tokens)
    assert out[: len(spacing)] == spacing
    assert _toks("f \\left( x \\right) \\, = \\cdots .") in out and _toks("f ( x ) \\, = \\ldots .") in out
    assert refinements(tokens, limit=3) == out[:3]
    assert refinements([]) == [] and refinements(["x"]) == []
