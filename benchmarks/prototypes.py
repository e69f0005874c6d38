r"""Out-of-tree prototypes of speed changes proposed for other layers (measured, not merged).

The benchmarks own only ``benchmarks/``; a change that belongs in ``theory/`` or ``models/`` is
prototyped here, switched in for the duration of a measurement, checked to give *identical*
results, and timed side by side with the code in the tree. The report then states the file,
the function, the change and the measured before/after, for the owner to merge.

``bound_entries`` — :func:`privqml.theory.bounds._entries` (the sparse table of angle
derivatives ∂t_k/∂θ_j) with two changes:

1. ``set(ansatz.weights)`` is built once, not once per slot: the stock loop
   ``for slot in slots: … slot.exponent.free_symbols & set(ansatz.weights)`` costs
   O(slots × weights) = O(gates²) hash operations — the quadratic term of the bound's time.
2. a fast path for the derivative of the common exponent t = c·θ (a rotation angle θ/π):
   ``exponent.as_independent(θ, as_Add=False)`` splits it into (c, θ), so ∂t/∂θ = c without
   ``sympy.diff`` (which builds and evaluates a ``Derivative`` through the Mul product rule);
   every other form still goes through ``sympy.diff``.

Both leave every number and expression of :class:`~privqml.theory.GradientBound` unchanged
(checked by :func:`same_bound` at every benchmarked size before timing).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import sympy


def _derivative(exponent: sympy.Expr, weight: sympy.Symbol) -> sympy.Expr:
    """∂ exponent / ∂ weight, with a fast path for exponent = c·weight (c free of weight)."""
    if exponent is weight:
        return sympy.S.One
    if exponent.is_Mul:
        independent, dependent = exponent.as_independent(weight, as_Add=False)
        if dependent is weight:
            return independent
    return sympy.diff(exponent, weight)


def bound_entries(ansatz, canonical):
    """Drop-in for ``privqml.theory.bounds._entries`` (see the module docstring)."""
    from privqml.theory import bounds
    from privqml.theory.sup import sup_abs

    weight_index = {w: j for j, w in enumerate(ansatz.weights)}
    domain = tuple((s, lo, hi) for s, (lo, hi) in zip(ansatz.inputs, ansatz.input_domain))
    rows = []
    for slot in canonical.slots:
        exponent = slot.exponent
        for weight in sorted((s for s in exponent.free_symbols if s in weight_index), key=lambda s: s.name):
            derivative = _derivative(exponent, weight)
            if derivative == 0:
                continue
            relevant = tuple(d for d in domain if d[0] in derivative.free_symbols)
            supremum = sup_abs(derivative, relevant)
            constant = not derivative.free_symbols
            rows.append((
                slot.index, weight_index[weight], slot.spread, supremum.value, constant,
                float(derivative) if constant else math.nan, derivative, supremum.reason,
            ))
    if not rows:
        empty = np.zeros(0)
        return bounds._Entries(empty.astype(int), empty.astype(int), empty, empty, empty.astype(bool), empty, (), ())
    columns = list(zip(*rows))
    return bounds._Entries(
        np.asarray(columns[0], dtype=int),
        np.asarray(columns[1], dtype=int),
        np.asarray(columns[2], dtype=float),
        np.asarray(columns[3], dtype=float),
        np.asarray(columns[4], dtype=bool),
        np.asarray(columns[5], dtype=float),
        tuple(columns[6]),
        tuple(columns[7]),
    )


def available() -> tuple[bool, str]:
    """Whether the prototype still fits the tree (the private function it replaces exists)."""
    try:
        from privqml.theory import bounds
    except ImportError as exc:  # pragma: no cover - theory is part of the package
        return False, f"cannot import privqml.theory.bounds: {exc}"
    if not hasattr(bounds, "_entries") or not hasattr(bounds, "_Entries"):
        return False, "privqml.theory.bounds no longer has _entries/_Entries (the change may be merged)"
    return True, ""


@contextlib.contextmanager
def proposed_bound():
    """Within the block, ``gradient_bound`` uses :func:`bound_entries`."""
    from privqml.theory import bounds

    original = bounds._entries
    bounds._entries = bound_entries
    try:
        yield
    finally:
        bounds._entries = original


def same_bound(a, b) -> bool:
    """Every field of two GradientBounds equal (the SymPy expression compared as text)."""
    da, db = a.as_dict(), b.as_dict()
    return da == db and str(a.expression) == str(b.expression)


__all__ = ["available", "bound_entries", "proposed_bound", "same_bound"]
