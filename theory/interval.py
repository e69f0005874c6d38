r"""Rigorous interval enclosures of real SymPy expressions.

An *enclosure* of e over a box B = Π_i [lo_i, hi_i] is an interval containing every value
e(z), z ∈ B, where e is defined. Evaluating e's expression tree with interval operations gives
one (the fundamental theorem of interval arithmetic: R. E. Moore, R. B. Kearfott, M. J. Cloud,
*Introduction to Interval Analysis*, SIAM 2009, Thm. 5.1). Floating-point error never shrinks
an enclosure here: every computed endpoint is rounded outward with ``math.nextafter`` (one ulp
after an arithmetic operation, two after a library function such as ``math.sin``), and a ±∞
endpoint is kept (0·∞ is taken as 0, as in extended interval arithmetic).

:func:`compile_function` also compiles the partial derivatives (over the reals) when e has no
jump, for the *mean-value form* (ibid., §6.4): with c the centre of B,

    e(B) ⊆ e(c) + Σ_i ∂_i e(B) · (B_i − c_i),

valid for e continuous on B with bounded derivative (absolutely continuous, so Abs and Max
qualify; sign, Heaviside and Piecewise do not, and get no mean-value form). Its excess shrinks
quadratically with the width of B, the natural form's only linearly; the two are intersected.

Splitting B and taking the largest bound over the pieces stays rigorous, and tends to the
range for continuous e as the pieces shrink (ibid., Thm. 6.1): :func:`privqml.theory.sup.sup_abs_interval`.

Covered: numbers and constants, +, ·, integer and real powers, exp, log, sqrt, sin, cos, tan,
atan, sinh, cosh, tanh, asinh, Abs, sign, Heaviside, sinc, Min, Max and Piecewise (the hull of
its branches). Anything else raises :class:`IntervalError` naming the function.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import sympy

from privqml.theory.symbols import real_derivative

INF = math.inf
Interval = tuple  # (lo, hi), lo <= hi, endpoints may be ±inf
_FULL = (-INF, INF)
_SINC_MIN = -0.2172336283  # min of sin(x)/x (at x ≈ 4.4934), rounded down


class IntervalError(ValueError):
    """An expression that interval arithmetic here does not cover (names the function)."""


# -- outward rounding ---------------------------------------------------------------------
def _down(value: float, ulps: int = 1) -> float:
    for _ in range(ulps):
        value = math.nextafter(value, -INF)
    return value


def _up(value: float, ulps: int = 1) -> float:
    for _ in range(ulps):
        value = math.nextafter(value, INF)
    return value


def _out(lo: float, hi: float, ulps: int = 1) -> Interval:
    if lo != lo or hi != hi:  # NaN: nothing is known
        return _FULL
    return _down(lo, ulps), _up(hi, ulps)


# -- operations ---------------------------------------------------------------------------
def _add(args: Sequence[Interval]) -> Interval:
    # a floating-point sum that is 0 is exact (gradual underflow), so 0 is not rounded
    lo = hi = 0.0
    for a_lo, a_hi in args:
        lo, hi = lo + a_lo, hi + a_hi
        lo, hi = (lo if lo == 0 else _down(lo)), (hi if hi == 0 else _up(hi))
    return _out(lo, hi, 0)


def _times(x: float, y: float, rounding: Callable) -> float:
    """x·y rounded by ``rounding``; exactly 0 when a factor is 0 (so 0·∞ = 0)."""
    return 0.0 if x == 0.0 or y == 0.0 else rounding(x * y)


def _mul2(a: Interval, b: Interval) -> Interval:
    pairs = ((a[0], b[0]), (a[0], b[1]), (a[1], b[0]), (a[1], b[1]))
    lo, hi = min(_times(p, q, _down) for p, q in pairs), max(_times(p, q, _up) for p, q in pairs)
    if a[0] >= 0 and b[0] >= 0:  # a product of non-negative numbers is not negative
        lo = max(lo, 0.0)
    return _out(lo, hi, 0)


def _mul(args: Sequence[Interval]) -> Interval:
    out = (1.0, 1.0)
    for a in args:
        out = _mul2(out, a)
    return out


def _reciprocal(a: Interval) -> Interval:
    lo, hi = a
    if lo > 0:
        return max(0.0, _down(1.0 / hi)), _up(1.0 / lo)
    if hi < 0:
        return _down(1.0 / hi), min(0.0, _up(1.0 / lo))
    if lo == 0 and hi > 0:
        return _down(1.0 / hi), INF
    if hi == 0 and lo < 0:
        return -INF, _up(1.0 / lo)
    return _FULL


def _power(value: float, exponent: float) -> float:
    try:
        return math.pow(value, exponent)
    except OverflowError:
        return INF if value > 0 or float(exponent).is_integer() and exponent % 2 == 0 else -INF


def _pow_int(a: Interval, n: int) -> Interval:
    if n == 0:
        return 1.0, 1.0
    if n < 0:
        return _reciprocal(_pow_int(a, -n))
    if n == 1:
        return a
    lo, hi = a
    p_lo, p_hi = _power(lo, n), _power(hi, n)
    if lo >= 0:
        return max(0.0, _down(p_lo, 2)), _up(p_hi, 2)
    if n % 2 == 1:
        return _out(p_lo, p_hi, 2)
    if hi <= 0:
        return max(0.0, _down(p_hi, 2)), _up(p_lo, 2)
    return 0.0, _up(max(p_lo, p_hi), 2)


def _pow_real(a: Interval, r: float) -> Interval:
    lo, hi = a
    if lo < 0:
        raise IntervalError(f"a real power (exponent {r:g}) of a base that can be negative")
    if r > 0:
        return max(0.0, _down(_power(lo, r), 2)), _up(_power(hi, r), 2)
    if hi == 0:
        return 0.0, INF
    if lo == 0:
        return max(0.0, _down(_power(hi, r), 2)), INF
    return max(0.0, _down(_power(hi, r), 2)), _up(_power(lo, r), 2)


def _exp_point(value: float) -> float:
    try:
        return math.exp(value)
    except OverflowError:
        return INF


def _exp(a: Interval) -> Interval:
    return max(0.0, _down(_exp_point(a[0]), 2)), _up(_exp_point(a[1]), 2)


def _log(a: Interval) -> Interval:
    lo, hi = a
    if hi <= 0:
        raise IntervalError("log of a non-positive number")
    return (-INF if lo <= 0 else _down(math.log(lo), 2)), _up(math.log(hi), 2)


def _has_point(lo: float, hi: float, phase: float, period: float) -> bool:
    """Whether phase + k·period lies in [lo, hi] for some integer k (erring towards yes)."""
    slack = 1e-9 * (1.0 + abs(lo) + abs(hi))
    k = math.ceil((lo - phase) / period - slack)
    return phase + k * period <= hi + slack


def _trig(a: Interval, function: Callable, top: float, bottom: float) -> Interval:
    lo, hi = a
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo >= 2 * math.pi:
        return -1.0, 1.0
    values = (function(lo), function(hi))
    out_lo = -1.0 if _has_point(lo, hi, bottom, 2 * math.pi) else max(-1.0, _down(min(values), 2))
    out_hi = 1.0 if _has_point(lo, hi, top, 2 * math.pi) else min(1.0, _up(max(values), 2))
    return out_lo, out_hi


def _sin(a: Interval) -> Interval:
    return _trig(a, math.sin, math.pi / 2, -math.pi / 2)


def _cos(a: Interval) -> Interval:
    return _trig(a, math.cos, 0.0, math.pi)


def _tan(a: Interval) -> Interval:
    lo, hi = a
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo >= math.pi or _has_point(lo, hi, math.pi / 2, math.pi):
        return _FULL
    return _out(math.tan(lo), math.tan(hi), 2)


def _increasing(function: Callable, floor: float = -INF, ceiling: float = INF) -> Callable:
    def apply(a: Interval) -> Interval:
        def at(value):
            try:
                return function(value)
            except OverflowError:
                return INF if value > 0 else -INF

        lo, hi = _out(at(a[0]), at(a[1]), 2)
        return max(floor, lo), min(ceiling, hi)

    return apply


def _cosh(a: Interval) -> Interval:
    magnitude = _abs(a)
    return _increasing(math.cosh, floor=1.0)(magnitude)


def _abs(a: Interval) -> Interval:
    lo, hi = a
    if lo >= 0:
        return a
    if hi <= 0:
        return -hi, -lo
    return 0.0, max(-lo, hi)


def _sign(a: Interval) -> Interval:
    lo, hi = a
    if lo > 0:
        return 1.0, 1.0
    if hi < 0:
        return -1.0, -1.0
    return (0.0 if lo == 0 else -1.0), (0.0 if hi == 0 else 1.0)


def _heaviside(a: Interval) -> Interval:
    lo, hi = a
    if lo > 0:
        return 1.0, 1.0
    if hi < 0:
        return 0.0, 0.0
    return 0.0, 1.0


def _sinc(a: Interval) -> Interval:
    lo, hi = a
    if lo <= 0 <= hi:
        return _SINC_MIN, 1.0
    ratio = _mul2(_sin(a), _reciprocal(a))
    return max(_SINC_MIN, ratio[0]), min(1.0, ratio[1])


def _hull(args: Sequence[Interval]) -> Interval:
    return min(a[0] for a in args), max(a[1] for a in args)


_UNARY: dict = {
    sympy.exp: _exp,
    sympy.log: _log,
    sympy.sin: _sin,
    sympy.cos: _cos,
    sympy.tan: _tan,
    sympy.atan: _increasing(math.atan, -math.pi / 2 - 1e-15, math.pi / 2 + 1e-15),
    sympy.sinh: _increasing(math.sinh),
    sympy.asinh: _increasing(math.asinh),
    sympy.tanh: _increasing(math.tanh, -1.0, 1.0),
    sympy.cosh: _cosh,
    sympy.Abs: _abs,
    sympy.sign: _sign,
    sympy.sinc: _sinc,
}


# -- compiled expressions -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class IntervalProgram:
    """An expression compiled for interval evaluation: nodes in evaluation order (the last is
    the expression), each (operation, child node indices); symbols index the box's sides."""

    symbols: tuple[sympy.Symbol, ...]
    nodes: tuple[tuple[Callable, tuple[int, ...]], ...]


def compile_expression(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> IntervalProgram:
    """Compile ``expr`` (free symbols among ``symbols``) for :func:`enclose`.

    Raises:
        IntervalError: a function or value that is not covered (named in the message).
    """
    position = {s: i for i, s in enumerate(symbols)}
    nodes: list[tuple[Callable, tuple[int, ...]]] = []
    seen: dict[sympy.Basic, int] = {}

    def emit(node: sympy.Basic) -> int:
        if node in seen:
            return seen[node]
        if isinstance(node, sympy.Symbol):
            if node not in position:
                raise IntervalError(f"symbol {node} has no interval")
            index = position[node]
            operation: Callable = lambda box, _children, index=index: box[index]  # noqa: E731
            children: tuple[int, ...] = ()
        elif node.is_number and not node.free_symbols and node.is_extended_real and node.is_finite:
            value = float(node)
            exact = isinstance(node, sympy.Integer) and abs(value) < 2**53
            constant = (value, value) if exact else _out(value, value)
            operation, children = (lambda box, _children, constant=constant: constant), ()
        elif isinstance(node, sympy.Add):
            operation, children = (lambda box, values: _add(values)), tuple(emit(a) for a in node.args)
        elif isinstance(node, sympy.Mul):
            operation, children = (lambda box, values: _mul(values)), tuple(emit(a) for a in node.args)
        elif isinstance(node, sympy.Pow):
            base, exponent = node.args
            if isinstance(exponent, sympy.Integer):
                n = int(exponent)
                operation, children = (lambda box, values, n=n: _pow_int(values[0], n)), (emit(base),)
            elif exponent.is_number and exponent.is_extended_real and exponent.is_finite:
                r = float(exponent)
                operation, children = (lambda box, values, r=r: _pow_real(values[0], r)), (emit(base),)
            else:  # b**e = exp(e log b) for b > 0
                operation = lambda box, values: _exp(_mul2(values[1], _log(values[0])))  # noqa: E731
                children = (emit(base), emit(exponent))
        elif node.func in _UNARY and len(node.args) == 1:
            unary = _UNARY[node.func]
            operation, children = (lambda box, values, unary=unary: unary(values[0])), (emit(node.args[0]),)
        elif node.func is sympy.Heaviside:
            operation, children = (lambda box, values: _heaviside(values[0])), (emit(node.args[0]),)
        elif node.func in (sympy.Min, sympy.Max):
            pick = min if node.func is sympy.Min else max
            operation = lambda box, values, pick=pick: (  # noqa: E731
                pick(v[0] for v in values), pick(v[1] for v in values)
            )
            children = tuple(emit(a) for a in node.args)
        elif isinstance(node, sympy.Piecewise):
            operation, children = (lambda box, values: _hull(values)), tuple(emit(e) for e, _ in node.args)
        else:
            raise IntervalError(f"{type(node).__name__} (in {node})")
        nodes.append((operation, children))
        seen[node] = len(nodes) - 1
        return seen[node]

    emit(expr)
    return IntervalProgram(tuple(symbols), tuple(nodes))


def enclose(program: IntervalProgram, box: Sequence[Interval]) -> Interval:
    """An interval containing every value of the program's expression on ``box``."""
    values: list[Interval] = []
    for operation, children in program.nodes:
        values.append(operation(box, [values[c] for c in children]))
    return values[-1]


#: Functions with jumps: an expression containing one gets no mean-value form (SymPy's derivative
#: of a jump is a DiracDelta, or, for Piecewise, the derivative of each branch — which misses it).
_JUMPS = (sympy.sign, sympy.Heaviside, sympy.Piecewise, sympy.floor, sympy.ceiling, sympy.DiracDelta)


@dataclasses.dataclass(frozen=True)
class IntervalFunction:
    """An expression compiled with, where it has no jump, its real partial derivatives."""

    value: IntervalProgram
    gradient: tuple[IntervalProgram, ...] | None


def compile_function(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> IntervalFunction:
    """:func:`compile_expression` of ``expr``, and of its partial derivatives for the mean-value
    form (none when ``expr`` has a jump or a derivative is not covered).

    Raises:
        IntervalError: ``expr`` itself is not covered.
    """
    value = compile_expression(expr, symbols)
    gradient = None
    if not expr.has(*_JUMPS):
        try:
            gradient = tuple(compile_expression(real_derivative(expr, s), symbols) for s in symbols)
        except IntervalError:
            gradient = None
    return IntervalFunction(value, gradient)


def _mean_value(function: IntervalFunction, box: Sequence[Interval], natural: Interval) -> Interval:
    """The natural enclosure intersected with the mean-value form (where it applies)."""
    if function.gradient is None or not all(math.isfinite(lo) and math.isfinite(hi) for lo, hi in box):
        return natural
    centre = tuple(((lo + hi) / 2, (lo + hi) / 2) for lo, hi in box)
    try:
        terms = [enclose(function.value, centre)]
        for derivative, (lo, hi), (c, _) in zip(function.gradient, box, centre):
            if hi > lo:
                terms.append(_mul2(enclose(derivative, box), (_down(lo - c), _up(hi - c))))
    except IntervalError:  # e.g. a derivative not real on part of the box
        return natural
    form = _add(terms)
    lo, hi = max(natural[0], form[0]), min(natural[1], form[1])
    return (lo, hi) if lo <= hi else natural


def enclose_forms(functions: Sequence[IntervalFunction], box: Sequence[Interval]) -> Interval:
    """The intersection of the enclosures of several forms of one function (their hull where they
    are disjoint, which happens only at points where the function is undefined, such as sin(x)/x
    at 0)."""
    enclosures = [_mean_value(f, box, enclose(f.value, box)) for f in functions]
    lo, hi = max(e[0] for e in enclosures), min(e[1] for e in enclosures)
    return (lo, hi) if lo <= hi else _hull(enclosures)


__all__ = [
    "IntervalError",
    "IntervalFunction",
    "IntervalProgram",
    "compile_expression",
    "compile_function",
    "enclose",
    "enclose_forms",
]
