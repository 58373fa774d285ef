"""JSON overrides of a frozen config dataclass, checked field by field (command-line options
such as ``latexsnip train --model/--preprocess`` and ``latexsnip eval --preprocess``)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C", bound="DataclassInstance")


def with_overrides(
    cfg: C,
    overrides: str,
    what: str,
    may_be_zero: Collection[str] = (),
    fixed: Collection[str] = (),
) -> C:
    """``cfg`` with the fields a JSON object names replaced, e.g. '{"glyph_height": 10.5}'.

    Numbers must be positive (non-negative for the fields in ``may_be_zero``), of the field's
    type (an int is accepted for a float field); a tuple field takes a list of positive numbers, a
    string field a string; fields in ``fixed`` are not settable. Anything else is a one-line ConfigError that starts with
    ``what`` ("preprocessing", "model")."""
    try:
        changes: Any = json.loads(overrides or "{}")
    except json.JSONDecodeError as e:
        raise ConfigError(f"{what} overrides {overrides!r}: not JSON ({e.msg})") from None
    if not isinstance(changes, dict):
        raise ConfigError(f"{what} overrides {overrides!r}: expected a JSON object")
    types = {f.name: type(getattr(cfg, f.name)) for f in fields(cfg) if f.name not in fixed}
    for k, v in changes.items():
        if k not in types:
            raise ConfigError(f"{what} has no setting {k!r} (known: {', '.join(types)})")
        want = types[k]
        if want is tuple:  # a list of positive numbers, e.g. '{"retry_glyph_heights": [9.5, 13]}'
            if not isinstance(v, list) or not all(is_number(x) and x > 0 for x in v):
                raise ConfigError(f"{what} setting {k!r}: expected a list of positive numbers, got {v!r}")
            changes[k] = tuple(float(x) for x in v)
            continue
        if want is str:  # a name, checked by the config itself (its __post_init__)
            if not isinstance(v, str):
                raise ConfigError(f"{what} setting {k!r}: expected a string, got {v!r}")
            continue
        ok = is_number(v) if want is float else type(v) is want
        floor = 0 if k in may_be_zero else 1e-9
        if not ok or v < floor:
            kind = "non-negative" if k in may_be_zero else "positive"
            raise ConfigError(f"{what} setting {k!r}: expected a {kind} {want.__name__}, got {v!r}")
        if want is float:
            changes[k] = float(v)
    return replace(cfg, **changes)


def is_number(v: Any) -> bool:
    """An int or float, not a bool (JSON true/false)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)
