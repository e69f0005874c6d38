"""One JSON convention for the whole package: strict JSON, non-finite numbers as strings.

Strict JSON (RFC 8259) has no Infinity or NaN. privqml writes them as the strings ``"inf"``,
``"-inf"`` and ``"nan"`` — everywhere: run records, audit reports, paper-check results, task
files, benchmarks — so that an infinite ε stays distinguishable from a missing value (``null``)
and every file parses with any JSON reader. :func:`to_jsonable` makes a value writable (NumPy
scalars and arrays, tuples, dataclasses with ``to_json()``); :func:`number` reads a number back.

Every record's ``to_json()`` returns a dict (or list) ready for :func:`dumps`, never a string.
"""

from __future__ import annotations

import json
import math
from typing import Any

NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def to_jsonable(value: Any) -> Any:
    """A copy of ``value`` that :func:`json.dumps` writes as strict JSON (non-finite → strings)."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "to_json") and callable(value.to_json):
        return to_jsonable(value.to_json())
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_jsonable(value.tolist())
    if hasattr(value, "item"):
        return to_jsonable(value.item())
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Strict JSON text of ``value`` (:func:`to_jsonable`, ``allow_nan=False``)."""
    return json.dumps(to_jsonable(value), indent=indent, sort_keys=sort_keys, allow_nan=False)


def number(value: Any) -> float | None:
    """A number read back from privqml JSON: ``"inf"``/``"-inf"``/``"nan"`` → float, None → None."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in NONFINITE:
            raise ValueError(f"{value!r} is not a number in privqml JSON")
        return NONFINITE[value]
    return float(value)


def loads(text: str) -> Any:
    """Parse privqml JSON (strict; also reads the legacy ``Infinity``/``NaN`` tokens as floats)."""
    return json.loads(text)


__all__ = ["NONFINITE", "dumps", "loads", "number", "to_jsonable"]
