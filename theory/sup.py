"""Rigorous suprema of |expression| over the public input domain (never over data).

Used for sup |∂t_k/∂θ_j|, the angle-derivative factors of the bounds. Strategies in order:

1. ``constant``: no free symbol — the absolute value.
2. ``vertices``: multilinear in the inputs (degree ≤ 1 in each; e.g. w·x + b gives x) — a
   multilinear function attains its extrema on the vertices of a box, so the maximum of |e|
   over the 2^n vertices is exact.
3. ``calculus``: one input — SymPy's ``maximum``/``minimum`` over the interval (exact).
4. ``interval``: interval arithmetic (SymPy ``AccumBounds``): a rigorous over-estimate.

Expressions that depend on weights are maximised over all real weights (weights are not
bounded); if the supremum is infinite (e.g. ∂(θ²)/∂θ = 2θ) the result is ``inf`` with a reason.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import sympy
from sympy.calculus.util import AccumBounds, maximum, minimum


@dataclasses.dataclass(frozen=True)
class Supremum:
    """sup |expression| over a box; ``value`` may be ``inf`` with ``reason`` saying why."""

    value: float
    method: str
    reason: str = ""


def _finite(value) -> float:
    value = complex(sympy.N(value))
    return abs(value.real) if abs(value.imag) < 1e-12 else math.inf


@functools.lru_cache(maxsize=65536)
def sup_abs(expr: sympy.Expr, domain: tuple[tuple[sympy.Symbol, float, float], ...]) -> Supremum:
    """sup |expr| with each symbol of ``domain`` in its closed interval; other symbols over ℝ."""
    bounds = {symbol: (lo, hi) for symbol, lo, hi in domain}
    free = expr.free_symbols
    if not free:
        return Supremum(_finite(expr), "constant")
    unbounded = sorted(s.name for s in free if s not in bounds)
    if unbounded:
        # Weight-dependent factor: sup over the whole real line.
        if len(free) == 1:
            (symbol,) = free
            try:
                top = maximum(expr, symbol, sympy.S.Reals)
                bottom = minimum(expr, symbol, sympy.S.Reals)
                value = max(abs(float(top)), abs(float(bottom)))
                if math.isfinite(value):
                    return Supremum(value, "calculus")
            except (NotImplementedError, TypeError, ValueError):
                pass
        return Supremum(
            math.inf,
            "unbounded",
            f"∂(angle)/∂(weight) = {expr} depends on the weights {unbounded}, which are not "
            "bounded; its supremum over all weight values is not finite (use angles affine in each weight)",
        )
    for symbol in free:
        lo, hi = bounds[symbol]
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return Supremum(
                math.inf,
                "unbounded",
                f"input {symbol} has the unbounded domain [{lo}, {hi}] and the angle derivative "
                f"{expr} depends on it; declare a bounded public domain for {symbol}",
            )
    symbols = sorted(free, key=lambda s: s.name)
    try:
        poly = sympy.Poly(expr, *symbols)
        multilinear = all(max(m[i] for m in poly.monoms()) <= 1 for i in range(len(symbols)))
    except sympy.PolynomialError:
        multilinear = False
    if multilinear:
        value = 0.0
        for corner in itertools.product(*[bounds[s] for s in symbols]):
            value = max(value, _finite(expr.subs(dict(zip(symbols, corner)))))
        return Supremum(value, "vertices")
    if len(symbols) == 1:
        (symbol,) = symbols
        lo, hi = bounds[symbol]
        try:
            interval = sympy.Interval(lo, hi)
            value = max(abs(float(maximum(expr, symbol, interval))), abs(float(minimum(expr, symbol, interval))))
            return Supremum(value, "calculus")
        except (NotImplementedError, TypeError, ValueError):
            pass
    enclosure = expr.subs({s: AccumBounds(*bounds[s]) for s in symbols})
    if isinstance(enclosure, AccumBounds):
        value = max(abs(float(enclosure.min)), abs(float(enclosure.max)))
    else:
        value = _finite(enclosure)
    if not math.isfinite(value):
        return Supremum(math.inf, "unbounded", f"interval arithmetic could not bound {expr} on the domain")
    return Supremum(value, "interval")


__all__ = ["Supremum", "sup_abs"]
