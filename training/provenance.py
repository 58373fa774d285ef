"""Training provenance that stays flat however many fine-tunes and soups a checkpoint descends from.

A checkpoint's provenance names what it came from: ``init_provenance`` (fine-tuned from) and
``averaged_from[i].provenance`` (a weight average), ``wide_head.provenance`` / ``tall_head.provenance`` (a head
joined by ``training.heads``). Copied as they are, those nest: each soup of a model with its own fine-tune holds the
shared history twice, a head trained from the model it is joined to holds that model's history again, and the header
doubles per stage.
``compact`` keeps every ancestor once, in a ``lineage`` table keyed by a hash of its content, and
puts the key where the nested provenance was; ``expand`` rebuilds the nested form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

Provenance = dict[str, Any]


def _key(node: Provenance) -> str:
    return hashlib.sha256(json.dumps(node, sort_keys=True).encode()).hexdigest()[:16]


def _head_keys(node: Provenance) -> list[str]:
    """The joined heads' entries of a provenance (``wide_head``, ``tall_head``: source + provenance)."""
    return [k for k, v in node.items() if k.endswith("_head") and isinstance(v, dict)]


def _map_ancestors(node: Provenance, f: Callable[[Any], Any]) -> Provenance:
    """``node`` (less its ``lineage``) with ``f`` applied to every slot that holds an ancestor: ``init_provenance``,
    ``averaged_from[i].provenance`` and ``<name>_head.provenance``."""
    out = {k: v for k, v in node.items() if k != "lineage"}
    if "init_provenance" in out:
        out["init_provenance"] = f(out["init_provenance"])
    if isinstance(out.get("averaged_from"), list):
        out["averaged_from"] = [{**m, "provenance": f(m["provenance"])} if isinstance(m, dict) and "provenance" in m
                                else m for m in out["averaged_from"]]
    for name in _head_keys(out):
        if "provenance" in out[name]:
            out[name] = {**out[name], "provenance": f(out[name]["provenance"])}
    return out


def expand(prov: Provenance) -> Provenance:
    """The nested form of a provenance: every key looked up in the ``lineage`` tables of the record and of the
    records it is nested in (a provenance without keys comes back as it is)."""

    def unfold(node: Provenance, outer: dict[str, Provenance]) -> Provenance:
        lineage = {**outer, **(node.get("lineage") or {})}

        def resolve(ref: Any) -> Any:
            if isinstance(ref, str) and ref in lineage:
                return unfold(lineage[ref], lineage)
            return unfold(ref, lineage) if isinstance(ref, dict) else ref

        return _map_ancestors(node, resolve)

    return unfold(prov, {})


def compact(prov: Provenance) -> Provenance:
    """``prov`` with every nested provenance moved into ``lineage`` (once per distinct ancestor) and
    referred to by its key. Already-compact parts (their own ``lineage``, also nested ones) are expanded
    first, so the result is the same however often and wherever it was compacted before."""
    lineage: dict[str, Provenance] = {}

    def intern(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        flat = _map_ancestors(node, intern)
        key = _key(flat)
        lineage.setdefault(key, flat)
        return key

    top = _map_ancestors(expand(prov), intern)
    if lineage:
        top["lineage"] = dict(sorted(lineage.items()))
    return top
