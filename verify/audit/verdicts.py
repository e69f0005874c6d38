"""How every privqml audit ends: pass/fail checks and one of three verdicts.

``violation``      a check failed: the implementation does not give the privacy it accounts for
                   (or the audit found a leak, e.g. a replayable seed);
``no-guarantee``   no finite ε is accounted — no DP noise (quantum shot or trajectory noise alone,
                   a non-private run) or a declared simulation — so there is nothing to violate;
``consistent``     every check passed: no violation found *at the audit's power*, not a proof of
                   privacy.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterable

from privqml import jsonio

VERDICTS = ("consistent", "violation", "no-guarantee")


@dataclasses.dataclass(frozen=True)
class Check:
    """One pass/fail check of an audit, with the numbers behind it in ``detail``."""

    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def record_as_dict(record) -> dict:
    """A frozen audit record (a dataclass whose ``checks`` is a tuple of :class:`Check`) as privqml JSON
    values: its fields, the checks as dicts, an infinite ε as ``"inf"``."""
    out = dataclasses.asdict(record)
    out["checks"] = [check.as_dict() for check in record.checks]
    return jsonio.to_jsonable(out)


def verdict_of(epsilon_accounted: float, checks: Iterable[Check]) -> str:
    """``no-guarantee`` without a finite accounted ε, else ``violation`` if a check failed, else
    ``consistent``."""
    if not math.isfinite(epsilon_accounted):
        return "no-guarantee"
    return "violation" if any(not c.passed for c in checks) else "consistent"


def merge_verdicts(verdicts: Iterable[str]) -> str:
    """The verdict of several audits of one thing: ``violation`` if any is, else ``no-guarantee``
    if any is, else ``consistent``."""
    verdicts = list(verdicts)
    for worst in ("violation", "no-guarantee"):
        if worst in verdicts:
            return worst
    return "consistent"


__all__ = ["Check", "VERDICTS", "merge_verdicts", "record_as_dict", "verdict_of"]
