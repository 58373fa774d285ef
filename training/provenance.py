"""Training provenance that stays flat however many fine-tunes and soups a checkpoint descends from.

A checkpoint's provenance names what it came from: ``init_provenance`` (fine-tuned from) and
``averaged_from[i].provenance`` (a weight average). Copied as they are, those nest: each soup of a
model with its own fine-tune holds the shared history twice, and the header doubles per stage.
``compact`` keeps every ancestor once, in a ``lineage`` table keyed by a hash of its content, and
puts the key where the nested provenance was; ``expand`` rebuilds the nested form.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

Provenance = dict[str, Any]


def _key(node: Provenance) -> str:
    return hashlib.sha256(json.dumps(node, sort_keys=True).encode()).hexdigest()[:16]


def compact(prov: Provenance) -> Provenance:
    """``prov`` with every nested provenance moved into ``lineage`` (once per distinct ancestor) and
    referred to by its key. Already-compact parts (their own ``lineage``) are merged, not nested."""
    lineage: dict[str, Provenance] = {}

    def intern(node: Provenance) -> str:
        flat = flatten(node)
        key = _key(flat)
        lineage.setdefault(key, flat)
        return key

    def flatten(node: Provenance) -> Provenance:
        out = dict(node)
        lineage.update(out.pop("lineage", None) or {})
        if isinstance(out.get("init_provenance"), dict):
            out["init_provenance"] = intern(out["init_provenance"])
        if isinstance(out.get("averaged_from"), list):
            out["averaged_from"] = [
                {**m, "provenance": intern(m["provenance"])}
                if isinstance(m, dict) and isinstance(m.get("provenance"), dict) else m
                for m in out["averaged_from"]
            ]
        return out

    top = flatten(prov)
    if lineage:
        top["lineage"] = dict(sorted(lineage.items()))
    return top


def expand(prov: Provenance) -> Provenance:
    """The nested form of a compact provenance (a provenance without ``lineage`` comes back as it is)."""
    lineage: dict[str, Provenance] = prov.get("lineage") or {}

    def resolve(ref: Any) -> Any:
        return unfold(lineage[ref]) if isinstance(ref, str) and ref in lineage else ref

    def unfold(node: Provenance) -> Provenance:
        out = {k: v for k, v in node.items() if k != "lineage"}
        if "init_provenance" in out:
            out["init_provenance"] = resolve(out["init_provenance"])
        if isinstance(out.get("averaged_from"), list):
            out["averaged_from"] = [{**m, "provenance": resolve(m["provenance"])}
                                    if isinstance(m, dict) and "provenance" in m else m
                                    for m in out["averaged_from"]]
        return out

    return unfold(prov)
