"""Deliberately weakened bounds: the mutation check that the properties have teeth.

A property suite that passes whatever the bound says proves nothing. These functions weaken a
:class:`~privqml.theory.GradientBound` *without touching the theory code* — either by rewriting
the record, or by handing the real derivation a slot table with scaled spreads — so that a test
can assert that the properties then find a counterexample.

- :func:`scaled_bound` multiplies the per-weight bounds of some weights by a factor < 1 and
  rescales the totals consistently (the coordinate form: ‖B'‖/‖B‖ per observable);
- :func:`pruned_bound` applies a pruning rule where it does not hold: it declares weights
  provably zero, zeroes their B_j and removes their share from the totals;
- :func:`spreads_scaled` gives a bound function (``ansatz -> GradientBound``, what
  :func:`privqml.verify.verify_ansatz` takes as ``bound_fn``) whose bound
  :func:`privqml.theory.gradient_bound` derives from spreads Ω_k multiplied by ``factor`` for one
  gate type (:func:`scaled_spreads`) — "a spread halved" inside the real derivation.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Optional

import numpy as np

from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.theory.bounds import GradientBound, gradient_bound
from privqml.theory.slots import SlotTable, slot_table


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
        pointwise_scale=bound.pointwise_scale * float(np.max(ratios)),
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


def scaled_spreads(table: SlotTable, factor: float, gate_type: type | None = None) -> SlotTable:
    """``table`` with every spread Ω_k multiplied by ``factor`` for the slots whose gate is an
    instance of ``gate_type`` (every slot when ``None``); exponents and derivatives unchanged."""
    if not factor >= 0:
        raise ConfigError(f"factor={factor!r} must be >= 0")
    rows = tuple(
        dataclasses.replace(row, spread=row.spread * factor)
        if gate_type is None or isinstance(row.slot.operation.gate, gate_type) else row
        for row in table.rows
    )
    return dataclasses.replace(table, rows=rows)


def spreads_scaled(factor: float = 0.5, gate_type: type | None = None) -> Callable[[Ansatz], GradientBound]:
    """A bound function: ``gradient_bound(ansatz, **options)`` derived from the ansatz's slot table
    with spreads Ω_k·``factor`` for slots whose gate is an instance of ``gate_type`` (every slot
    when ``None``; see :func:`scaled_spreads`). Pass it as ``bound_fn`` to the property runs."""

    def weakened_bound(ansatz: Ansatz, **options) -> GradientBound:
        slots = scaled_spreads(slot_table(ansatz), factor, gate_type)
        return gradient_bound(ansatz, slots=slots, **options)

    return weakened_bound


__all__ = ["pruned_bound", "scaled_bound", "scaled_spreads", "spreads_scaled"]
