"""Deliberately weakened bounds: the mutation check that the properties have teeth.

A property suite that passes whatever the bound says proves nothing. These functions weaken a
:class:`~privqml.theory.GradientBound` *without touching the theory code* — either by rewriting
the record, or by scaling the spectra the derivation sees — so that a test can assert that the
properties then find a counterexample.

- :func:`scaled_bound` multiplies the per-weight bounds of some weights by a factor < 1 and
  rescales the totals consistently (the coordinate form: ‖B'‖/‖B‖ per observable);
- :func:`pruned_bound` applies a pruning rule where it does not hold: it declares weights
  provably zero, zeroes their B_j and removes their share from the totals;
- :func:`spreads_scaled` is a context manager under which
  :func:`privqml.theory.gradient_bound` derives its bound from spreads Ω_k multiplied by
  ``factor`` for one gate type — "a spread halved" inside the real derivation. It wraps the
  ``canonicalize`` that :mod:`privqml.theory.bounds` looked up, and restores it on exit.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterable, Optional

import numpy as np

from privqml.errors import ConfigError


class _ScaledPointwise:
    def __init__(self, inner, factor: float):
        self.inner, self.factor = inner, factor

    def __call__(self, x):
        return self.factor * self.inner(x)


def _rescaled(bound, rows: np.ndarray, extra_zero: tuple[str, ...] = ()):
    old = np.asarray(bound.per_weight_by_observable, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(np.linalg.norm(old, axis=1) > 0, np.linalg.norm(rows, axis=1) / np.linalg.norm(old, axis=1), 1.0)
    scale = lambda values: tuple(float(v * r) for v, r in zip(values, ratios))  # noqa: E731
    return dataclasses.replace(
        bound,
        per_weight_by_observable=tuple(tuple(float(v) for v in row) for row in rows),
        per_observable=scale(bound.per_observable),
        coordinate_by_observable=scale(bound.coordinate_by_observable),
        directional_by_observable=scale(bound.directional_by_observable),
        naive_by_observable=scale(bound.naive_by_observable),
        zero_weights=tuple(dict.fromkeys(bound.zero_weights + extra_zero)),
        _pointwise=_ScaledPointwise(bound._pointwise, float(np.max(ratios))),  # noqa: SLF001
        ansatz_name=f"{bound.ansatz_name} [weakened]",
    )


def scaled_bound(bound, factor: float, weights: Optional[Iterable[str]] = None):
    """The bound with B_j multiplied by ``factor`` for ``weights`` (all when ``None``)."""
    if not factor >= 0:
        raise ConfigError(f"factor={factor!r} must be >= 0")
    names = list(bound.weight_names)
    chosen = set(names if weights is None else weights)
    unknown = chosen - set(names)
    if unknown:
        raise ConfigError(f"weights {sorted(unknown)} are not weights of {bound.ansatz_name!r}")
    rows = np.asarray(bound.per_weight_by_observable, dtype=float).copy()
    for j, name in enumerate(names):
        if name in chosen:
            rows[:, j] *= factor
    return _rescaled(bound, rows)


def pruned_bound(bound, weights: Iterable[str]):
    """The bound with ``weights`` declared provably zero (a pruning rule applied where it may not hold)."""
    weights = tuple(weights)
    weakened = scaled_bound(bound, 0.0, weights)
    return dataclasses.replace(weakened, zero_weights=tuple(dict.fromkeys(bound.zero_weights + weights)))


@contextlib.contextmanager
def spreads_scaled(factor: float = 0.5, gate_type: type | None = None):
    """Within the block, :func:`privqml.theory.gradient_bound` sees spreads Ω_k·``factor`` for
    slots whose gate is an instance of ``gate_type`` (every slot when ``None``).

    Yields a dict whose ``"calls"`` counts how many canonical circuits were weakened, so a test
    can assert the hook really took effect.
    """
    from privqml.theory import bounds as bounds_module
    from privqml.theory.spectra import CanonicalCircuit, EigenSpectrum

    original = bounds_module.canonicalize
    record = {"calls": 0, "slots": 0}

    def weakened(ansatz):
        canonical = original(ansatz)
        slots = []
        for slot in canonical.slots:
            if gate_type is None or isinstance(slot.operation.gate, gate_type):
                spectrum = EigenSpectrum(slot.spectrum.half_turns, slot.spectrum.spread * factor,
                                         tuple(f * factor for f in slot.spectrum.frequencies))
                slot = dataclasses.replace(slot, spectrum=spectrum)
                record["slots"] += 1
            slots.append(slot)
        record["calls"] += 1
        return CanonicalCircuit(canonical.operations, canonical.slot_of, tuple(slots))

    bounds_module.canonicalize = weakened
    try:
        yield record
    finally:
        bounds_module.canonicalize = original


__all__ = ["pruned_bound", "scaled_bound", "spreads_scaled"]
