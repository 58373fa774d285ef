"""Token vocabulary: im2latex formulas are space-separated tokens; ids 0..3 are special."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


@dataclass(frozen=True)
class Vocab:
    """An ordered token list; the order is the embedding / output row order."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.tokens[: len(SPECIALS)] != SPECIALS:
            raise ValueError("a vocabulary must start with <pad> <bos> <eos> <unk>")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    @classmethod
    def build(cls, formulas: Iterable[str], min_count: int = 1) -> Vocab:
        """From normalized (space-separated) training formulas only; rare tokens -> <unk>."""
        counts = Counter(tok for f in formulas for tok in f.split())
        kept = sorted(t for t, c in counts.items() if c >= min_count and t not in SPECIALS)
        return cls(SPECIALS + tuple(kept))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index  # type: ignore[attr-defined]

    def encode(self, formula: str | Sequence[str]) -> list[int]:
        """Token ids framed by <bos> ... <eos>."""
        toks = formula.split() if isinstance(formula, str) else formula
        index: dict[str, int] = self._index  # type: ignore[attr-defined]
        return [BOS_ID, *(index.get(t, UNK_ID) for t in toks), EOS_ID]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens up to the first <eos>, specials dropped."""
        out: list[str] = []
        for i in ids:
            if i == EOS_ID:
                break
            if i >= len(SPECIALS):
                out.append(self.tokens[i])
        return out
