"""Deliberately broken variants of the DP-SGD trainer, for audits to prove they catch them.

An audit that has never seen a violation is not evidence. Inside ``with injected(name):`` the
trainer misbehaves in one named way; everything else is unchanged:

``published-seed``  the noise and the Poisson batches are derived from the run's *recorded* seed
                    (the bug of a trainer that seeds its generators from ``run.json``): a replay of
                    the recorded configuration reproduces the released updates exactly.
``nonfinite-leak``  per-example gradients are clipped without the finiteness guard, so one example
                    whose gradient is NaN or infinite turns the release non-finite.
``noise-omitted``   the Gaussian noise is not added, while the accountant is told σ was.

Outside such a block :func:`active` is always False; production code paths only ever ask.
"""

from __future__ import annotations

import contextlib
import contextvars

from privqml import validation

FAULTS = ("published-seed", "nonfinite-leak", "noise-omitted")

_ACTIVE: contextvars.ContextVar[str | None] = contextvars.ContextVar("privqml_injected_fault", default=None)


def check_fault(name) -> str:
    """``name`` if it is one of :data:`FAULTS` (the ``inject`` setting of the audits)."""
    return validation.choice("inject", name, FAULTS, what="trainer fault")


@contextlib.contextmanager
def injected(name: str | None):
    """Run the enclosed code with the trainer fault ``name`` (``None``: no fault)."""
    if name is None:
        yield
        return
    token = _ACTIVE.set(check_fault(name))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active(name: str) -> bool:
    """Whether the fault ``name`` is injected in the current context."""
    return _ACTIVE.get() == name


__all__ = ["FAULTS", "active", "check_fault", "injected"]
