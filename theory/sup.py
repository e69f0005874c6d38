"""Rigorous suprema of |expression| over the public input domain (never over data).

Used for sup |∂t_k/∂θ_j|, the angle-derivative factors of the bounds. Strategies in order:

1. ``constant``: no free symbol — the absolute value.
2. ``vertices``: multilinear in the inputs (degree ≤ 1 in each; e.g. w·x + b gives x) — a
   multilinear function attains its extrema on the vertices of a box, so the maximum of |e|
   over the 2^n vertices is exact.
3. ``calculus``: one input — SymPy's ``maximum``/``minimum`` over the interval, with the input
   taken real (so Abs and sign are handled). Exact; accepted only when it is not below the
   lower bound that interval branch and bound proves (with no tolerance: that lower bound is
   rigorous), or, where interval arithmetic does not apply, not below the expression sampled on
   a grid by more than the samples' rounding (and then raised to the largest sample): sampling
   can only reject it.
4. ``interval``: interval arithmetic (natural and mean-value forms, :mod:`privqml.theory.interval`)
   with branch and bound (:func:`sup_abs_interval`), sin(u)/u also read as sinc(u): a rigorous
   upper bound, within 1e-6 of the supremum when the search converges.

Expressions that depend on weights are maximised over all real weights (weights are not
bounded): by calculus for one weight alone, else by interval arithmetic with the weights in
(−∞, ∞). A supremum that is infinite — or that no strategy proves finite — is ``inf`` with a
reason that begins with the expression and names the domain, e.g. "1/x is unbounded on
x ∈ [-1.0, 1.0]; restrict the input domain or change the encoding". Never a sampled maximum:
a sample is a lower estimate, not a bound.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import itertools
import math
from typing import Optional, Sequence

import numpy as np
import sympy
from sympy.calculus.util import maximum, minimum

from privqml.theory.interval import Interval, IntervalError, IntervalFunction, compile_function, enclose_forms

_ADVICE = "restrict the input domain or change the encoding"
_SAMPLES = 2001
_INFINITE_SIDE_BOXES = 256
#: relative rounding of a lambdified NumPy evaluation, allowed between a sample and SymPy's maximum
_SAMPLE_ROUNDING = 1e-13


@dataclasses.dataclass(frozen=True)
class Supremum:
    """sup |expression| over a box; ``value`` may be ``inf``, with ``reason`` saying why.

    Attributes:
        value: the supremum (an upper bound on it for ``interval``), or ``inf``.
        method: ``constant``, ``vertices``, ``calculus``, ``interval`` or ``unbounded``.
        reason: for an infinite value, a sentence that begins with the expression; else "".
    """

    value: float
    method: str
    reason: str = ""


def _magnitude(interval: Interval) -> float:
    return max(abs(interval[0]), abs(interval[1]))


def _mignitude(interval: Interval) -> float:
    lo, hi = interval
    return 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))


@dataclasses.dataclass(frozen=True)
class IntervalSupremum:
    """sup_B |e| lies in [lower, upper] (``lower`` from enclosures at points where e is defined)."""

    upper: float
    lower: float
    n_boxes: int
    converged: bool


def sup_abs_interval(
    functions: Sequence[IntervalFunction],
    box: Sequence[Interval],
    *,
    rtol: float = 1e-6,
    max_boxes: int = 2000,
) -> IntervalSupremum:
    """Bounds on sup |e| over ``box`` by best-first branch and bound.

    The piece with the largest enclosure bound is halved along its widest side; the answer is the
    largest bound over the pieces (an upper bound on sup_B |e| at every step), with a lower bound
    from the enclosures at the pieces' midpoints (where e is defined), which checks values
    computed otherwise, e.g. by SymPy's calculus.

    ``functions`` are compilations of equal expressions (e.g. with sin(x)/x and sinc(x)); their
    enclosures are intersected. Infinite sides are never split. Stops when the largest piece
    bound is within ``rtol`` of the lower bound, or after ``max_boxes`` enclosures.
    """
    box = tuple((float(lo), float(hi)) for lo, hi in box)
    splittable = [i for i, (lo, hi) in enumerate(box) if math.isfinite(lo) and math.isfinite(hi) and hi > lo]

    def lower_at_midpoint(piece) -> float:
        point = tuple(
            ((lo + hi) / 2, (lo + hi) / 2) if i in splittable else (lo, hi) for i, (lo, hi) in enumerate(piece)
        )
        return _mignitude(enclose_forms(functions, point))

    heap = [(-_magnitude(enclose_forms(functions, box)), 0, box)]
    lower = lower_at_midpoint(box)
    count = 1
    while True:
        upper, _, piece = -heap[0][0], heap[0][1], heap[0][2]
        if upper <= lower * (1 + rtol) + 1e-300 or count >= max_boxes or not splittable:
            break
        side = max(splittable, key=lambda i: piece[i][1] - piece[i][0])
        lo, hi = piece[side]
        middle = (lo + hi) / 2
        if not lo < middle < hi:  # the side is down to adjacent floats
            break
        heapq.heappop(heap)
        for half in ((lo, middle), (middle, hi)):
            child = piece[:side] + (half,) + piece[side + 1 :]
            heapq.heappush(heap, (-_magnitude(enclose_forms(functions, child)), count, child))
            lower = max(lower, lower_at_midpoint(child))
            count += 1
    upper = -heap[0][0]
    return IntervalSupremum(upper, lower, count, upper <= lower * (1 + rtol) + 1e-300)


def _finite(value) -> float:
    """|value| of a real number (a rounding-size imaginary part from the evaluation counts in the
    modulus, which is never below |Re value|); ``inf`` for a genuinely complex one."""
    value = complex(sympy.N(value))
    return abs(value) if abs(value.imag) < 1e-12 else math.inf


def _domain_text(symbols, bounds) -> str:
    return ", ".join(f"{s} ∈ [{bounds[s][0]}, {bounds[s][1]}]" for s in symbols)


def _calculus(expr: sympy.Expr, symbol: sympy.Symbol, domain: sympy.Set) -> Optional[float]:
    """max |expr| over ``domain`` by SymPy with ``symbol`` taken real; None when SymPy cannot."""
    real = sympy.Dummy(symbol.name, real=True)
    expr = expr.xreplace({symbol: real})
    try:
        extremes = [complex(sympy.N(f(expr, real, domain))) for f in (maximum, minimum)]
    except Exception:  # noqa: BLE001 - any SymPy failure means the strategy declines
        return None
    if any(abs(v.imag) > 1e-12 * max(1.0, abs(v.real)) or math.isnan(v.real) for v in extremes):
        return None
    return max(abs(v) for v in extremes)


def _sampled_max(expr: sympy.Expr, symbol: sympy.Symbol, lo: float, hi: float) -> float:
    """max |expr| on a grid (a lower estimate, used only to reject a wrong calculus result)."""
    function = sympy.lambdify(symbol, expr, "numpy")
    grid = np.linspace(lo, hi, _SAMPLES)
    with np.errstate(all="ignore"):
        values = np.abs(np.broadcast_to(np.asarray(function(grid), dtype=complex), grid.shape))
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


def _checked_against_samples(calculus: float, sampled: float) -> Optional[float]:
    """SymPy's maximum when no sample exceeds it by more than evaluation rounding (``_SAMPLE_ROUNDING``
    relative), raised to the largest sample; None (reject) when a sample exceeds it by more."""
    if calculus >= sampled * (1 - _SAMPLE_ROUNDING):
        return max(calculus, sampled)
    return None


def _interval(expr: sympy.Expr, symbols, box) -> tuple[Optional[IntervalSupremum], str]:
    """Branch-and-bound bounds on sup |expr| (None and the uncovered function if not applicable)."""
    forms = [expr]
    rewritten = expr.rewrite(sympy.sinc)
    if rewritten != expr:
        forms.append(rewritten)
    finite = all(math.isfinite(lo) and math.isfinite(hi) for lo, hi in box)
    try:
        functions = [compile_function(form, symbols) for form in forms]
        return sup_abs_interval(functions, box, max_boxes=2000 if finite else _INFINITE_SIDE_BOXES), ""
    except IntervalError as exc:  # not covered, or not real on part of the domain
        return None, str(exc)


def _over_inputs(expr: sympy.Expr, symbols, bounds) -> Supremum:
    domain = _domain_text(symbols, bounds)
    calculus = None
    if len(symbols) == 1:
        (symbol,) = symbols
        lo, hi = bounds[symbol]
        calculus = _calculus(expr, symbol, sympy.Interval(lo, hi))
    enclosure, uncovered = _interval(expr, symbols, [bounds[s] for s in symbols])
    if enclosure is not None and math.isfinite(enclosure.upper):
        # the enclosures' lower bound is rigorous: a calculus value below it is below the supremum
        if calculus is not None and enclosure.lower <= calculus <= enclosure.upper * (1 + 1e-12):
            return Supremum(calculus, "calculus")
        return Supremum(enclosure.upper, "interval")
    if calculus is not None and math.isinf(calculus):
        return Supremum(math.inf, "unbounded", f"{expr} is unbounded on {domain}; {_ADVICE}")
    if calculus is not None:
        checked = _checked_against_samples(calculus, _sampled_max(expr, symbols[0], *bounds[symbols[0]]))
        if checked is not None:
            return Supremum(checked, "calculus")
    why = (
        f"privqml's interval arithmetic does not cover {uncovered}"
        if uncovered
        else "interval arithmetic finds no finite enclosure"
    )
    return Supremum(
        math.inf,
        "unbounded",
        f"{expr} has no finite bound that could be proven on {domain} (SymPy finds no maximum and {why}); {_ADVICE}",
    )


def _over_weights(expr: sympy.Expr, weights: list[str], bounds) -> Supremum:
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    calculus = _calculus(expr, free[0], sympy.S.Reals) if len(free) == 1 else None
    enclosure, _ = _interval(expr, free, [bounds.get(s, (-math.inf, math.inf)) for s in free])
    upper = enclosure.upper if enclosure is not None else math.inf
    lower = enclosure.lower if enclosure is not None else 0.0
    if calculus is not None and math.isfinite(calculus) and lower <= calculus <= upper * (1 + 1e-12):
        checked = _checked_against_samples(calculus, _sampled_max(expr, free[0], -10 * math.pi, 10 * math.pi))
        if checked is not None:
            return Supremum(checked, "calculus")
    if math.isfinite(upper):
        return Supremum(upper, "interval")
    return Supremum(
        math.inf,
        "unbounded",
        f"{expr} depends on the weights {weights}, which are not bounded, and has no finite bound over "
        "all their values; use angles affine in each weight",
    )


@functools.lru_cache(maxsize=65536)
def sup_abs(expr: sympy.Expr, domain: tuple[tuple[sympy.Symbol, float, float], ...]) -> Supremum:
    """sup |expr| with each symbol of ``domain`` in its closed interval; other symbols over ℝ."""
    bounds = {symbol: (lo, hi) for symbol, lo, hi in domain}
    free = expr.free_symbols
    if not free:
        value = _finite(expr)
        if math.isfinite(value):
            return Supremum(value, "constant")
        return Supremum(math.inf, "unbounded", f"{expr} is not a finite real number")
    for symbol in sorted(free & set(bounds), key=lambda s: s.name):
        lo, hi = bounds[symbol]
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return Supremum(
                math.inf,
                "unbounded",
                f"{expr} depends on input {symbol}, whose public domain [{lo}, {hi}] is unbounded; "
                f"declare a bounded public domain for {symbol}",
            )
    weights = sorted(s.name for s in free if s not in bounds)
    if weights:
        return _over_weights(expr, weights, bounds)
    symbols = sorted(free, key=lambda s: s.name)
    try:
        poly = sympy.Poly(expr, *symbols)
        multilinear = all(max(m[i] for m in poly.monoms()) <= 1 for i in range(len(symbols)))
    except Exception:  # noqa: BLE001 - not a polynomial in the inputs (PolynomialError and kin)
        multilinear = False
    if multilinear:
        value = 0.0
        for corner in itertools.product(*[bounds[s] for s in symbols]):
            value = max(value, _finite(expr.subs(dict(zip(symbols, corner)))))
        return Supremum(value, "vertices")
    return _over_inputs(expr, symbols, bounds)


__all__ = ["IntervalSupremum", "Supremum", "sup_abs", "sup_abs_interval"]
