r"""The sparse table of angle-derivative suprema M_kj = sup_x |∂t_k/∂θ_j| that the bounds sum.

One entry per (slot k, weight θ_j) pair whose derivative d_kj = ∂t_k/∂θ_j (half-turns per unit
of θ_j, from the slot table :mod:`privqml.theory.slots`) is not identically 0. Its supremum is
taken over the *public* input domain (and over all real weights when d_kj depends on weights)
by :func:`privqml.theory.sup.sup_abs`; an infinite supremum carries a reason naming the gate.
Per weight, the bounds need Σ_{k∈L} Ω_k |d_kj| for a set L of live slots (or with a factor per
slot) and given entry magnitudes (:func:`per_weight_sums`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import sympy

from privqml.theory.ansatz import Ansatz
from privqml.theory.slots import SlotTable
from privqml.theory.sup import sup_abs


@dataclasses.dataclass(frozen=True)
class SlotEntries:
    """The non-zero angle derivatives d_kj = ∂t_k/∂θ_j as parallel arrays, one element per entry.

    Attributes:
        slot: [E] the slot index k.
        weight: [E] the weight index j.
        spread: [E] Ω_k, radians per unit exponent.
        sup: [E] sup over the domain of |d_kj| (``inf`` when it has none).
        constant: [E] True when d_kj is a finite number.
        value: [E] d_kj when constant (signed), else NaN.
        expressions: [E] d_kj as SymPy expressions.
        reasons: [E] why ``sup`` is infinite, naming the gate ("" when finite).
    """

    slot: np.ndarray
    weight: np.ndarray
    spread: np.ndarray
    sup: np.ndarray
    constant: np.ndarray
    value: np.ndarray
    expressions: tuple[sympy.Expr, ...]
    reasons: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.slot)


def slot_entries(ansatz: Ansatz, table: SlotTable) -> SlotEntries:
    """The entries of ``table`` with their suprema over ``ansatz``'s public input domain.

    Within a slot the weights come in name order (the order of the reasons in a report)."""
    domain = tuple((s, lo, hi) for s, (lo, hi) in zip(ansatz.inputs, ansatz.input_domain))
    names = [w.name for w in ansatz.weights]
    rows = []
    for row in table.rows:
        for j, derivative in sorted(row.weight_derivatives, key=lambda entry: names[entry[0]]):
            free = derivative.free_symbols
            relevant = tuple(d for d in domain if d[0] in free) if free else ()
            supremum = sup_abs(derivative, relevant)
            constant = not free and math.isfinite(supremum.value)
            reason = f"{row.slot.source}: ∂t/∂{names[j]} = {supremum.reason}" if supremum.reason else ""
            value = float(derivative) if constant else math.nan
            rows.append((row.index, j, row.spread, supremum.value, constant, value, derivative, reason))
    if not rows:
        empty = np.zeros(0)
        return SlotEntries(empty.astype(int), empty.astype(int), empty, empty, empty.astype(bool), empty, (), ())
    slot, weight, spread, sup, constant, value, expressions, reasons = zip(*rows)
    return SlotEntries(
        np.asarray(slot, dtype=int),
        np.asarray(weight, dtype=int),
        np.asarray(spread, dtype=float),
        np.asarray(sup, dtype=float),
        np.asarray(constant, dtype=bool),
        np.asarray(value, dtype=float),
        tuple(expressions),
        tuple(reasons),
    )


def per_weight_sums(entries: SlotEntries, live_mask: np.ndarray, magnitudes: np.ndarray, n_weights: int) -> np.ndarray:
    """[n_weights] Σ_k φ_k Ω_k |d_kj| for slot factors φ_k (``live_mask`` [n_slots]) and entry
    magnitudes |d_kj| (``magnitudes`` [E]).

    ``live_mask`` is a boolean mask of the live slots L (φ_k = 1 on L, 0 elsewhere), or factors in
    [0, 1]: the fraction of slot k's Bernstein bound that holds (a near-zero slot of
    :mod:`privqml.theory.pauli` has φ_k = ε_k). A slot with φ_k = 0 adds nothing, even where its
    magnitude is infinite."""
    factor = np.asarray(live_mask, dtype=float)[entries.slot]
    with np.errstate(invalid="ignore"):
        contributions = np.where(factor > 0, factor * entries.spread * magnitudes, 0.0)
    return np.bincount(entries.weight, weights=contributions, minlength=n_weights)


__all__ = ["SlotEntries", "per_weight_sums", "slot_entries"]
