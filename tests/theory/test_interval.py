"""Interval arithmetic: every enclosure contains the sampled values; branch and bound brackets the sup."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

from privqml.theory.interval import IntervalError, compile_expression, compile_function, enclose
from privqml.theory.sup import sup_abs_interval

x, y = sympy.symbols("x y")
PI = math.pi

EXPRESSIONS = [
    x**2 - 3 * x,
    x**3 * y - y**2,
    1 / (x - 5),
    sympy.sin(x) * sympy.cos(3 * y),
    sympy.tan(x / 4),
    sympy.exp(x) * sympy.log(y + 4),
    sympy.sqrt(x + 4) + (y + 4) ** sympy.Rational(3, 2),
    sympy.Abs(x - y) * sympy.sign(y),
    sympy.atan(x) + sympy.tanh(y) + sympy.sinh(x / 2) - sympy.cosh(y / 3) + sympy.asinh(x * y),
    sympy.Heaviside(x - 0.3) * y,
    sympy.sinc(2 * x) + sympy.Max(x, y) - sympy.Min(x, 0),
    sympy.Piecewise((x, x > 0), (y**2, True)),
    2**x + x ** (-2) * 0,
    sympy.pi * x / sympy.E,
]


def _samples(expr, box, n=4001, seed=0):
    rng = np.random.default_rng(seed)
    if expr.has(sympy.Max, sympy.Min):  # NumPy's printer stacks Max/Min arguments: go point by point
        f = np.vectorize(sympy.lambdify((x, y), expr, "mpmath"), otypes=[float])
    else:
        f = sympy.lambdify((x, y), expr, "numpy")
    points = [rng.uniform(lo, hi, n) for lo, hi in box]
    points[0][:2] = box[0]  # the corners too
    points[1][:2] = box[1]
    with np.errstate(all="ignore"):
        values = np.asarray(f(*points), dtype=float) * np.ones(n)
    return values[np.isfinite(values)]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[str(e) for e in EXPRESSIONS])
@pytest.mark.parametrize("box", [((-3.0, 2.0), (-1.5, 3.0)), ((0.25, 0.5), (-0.1, 0.1)), ((-0.01, 0.01), (2.0, 2.0))])
def test_enclosure_contains_every_sampled_value(expr, box):
    program = compile_expression(expr, (x, y))
    lo, hi = enclose(program, box)
    values = _samples(expr, box)
    assert lo <= values.min() and values.max() <= hi


@pytest.mark.parametrize(
    "function, interval, expected",
    [
        (sympy.sin(x), (0.0, PI), (0.0, 1.0)),
        (sympy.sin(x), (-0.1, 0.1), (math.sin(-0.1), math.sin(0.1))),
        (sympy.cos(x), (-1.0, 4.0), (-1.0, 1.0)),
        (sympy.cos(x), (-100.0, 100.0), (-1.0, 1.0)),
        (x**2, (-2.0, 1.0), (0.0, 4.0)),
        (x**3, (-2.0, 1.0), (-8.0, 1.0)),
        (1 / x, (1.0, 2.0), (0.5, 1.0)),
        (1 / x, (0.0, 2.0), (0.5, math.inf)),
        (1 / x, (-1.0, 1.0), (-math.inf, math.inf)),
        (sympy.tan(x), (1.0, 2.0), (-math.inf, math.inf)),
        (sympy.sign(x), (0.0, 1.0), (0.0, 1.0)),
        (sympy.Abs(x), (-3.0, 2.0), (0.0, 3.0)),
        (sympy.sinc(x), (-1.0, 1.0), (-0.2172336283, 1.0)),
        (0 * sympy.exp(x) + x * sympy.exp(-x), (0.0, 0.0), (0.0, 0.0)),
    ],
)
def test_enclosures_are_tight_where_exact_and_infinite_at_poles(function, interval, expected):
    lo, hi = enclose(compile_expression(function, (x,)), (interval,))
    for got, want in ((lo, expected[0]), (hi, expected[1])):
        if math.isinf(want):
            assert got == want
        else:
            assert got == pytest.approx(want, abs=1e-12)
    assert lo <= expected[0] and expected[1] <= hi  # outward: never inside the exact range


def _max_y_cos_y() -> float:
    """max of y·cos(y) on [0, 1]: at the root of cos y − y sin y (bisection)."""
    lo, hi = 0.5, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.cos(mid) - mid * math.sin(mid) > 0 else (lo, mid)
    return lo * math.cos(lo)


def test_branch_and_bound_converges_in_one_dimension():
    result = sup_abs_interval([compile_function(sympy.cos(x) * x, (x,))], ((-1.0, 1.0),))
    exact = _max_y_cos_y()
    assert result.converged and result.lower <= exact <= result.upper <= exact * (1 + 1e-6)


def test_branch_and_bound_brackets_the_supremum_in_two_dimensions():
    expr = sympy.sin(x) * x + sympy.cos(y) * y
    result = sup_abs_interval([compile_function(expr, (x, y))], ((-2.0, 2.0), (-1.0, 1.0)))
    exact = 2 * math.sin(2.0) + _max_y_cos_y()  # x·sin x is largest at the edge x = ±2
    assert result.lower <= exact <= result.upper <= exact * (1 + 5e-3)


def test_sinc_form_removes_the_singularity_of_sin_over_x():
    box = ((-PI, PI),)
    alone = sup_abs_interval([compile_function(sympy.sin(x) / x, (x,))], box)
    assert math.isinf(alone.upper)
    both = sup_abs_interval(
        [compile_function(sympy.sin(x) / x, (x,)), compile_function(sympy.sinc(x), (x,))], box
    )
    assert 1.0 <= both.upper <= 1.0 + 1e-12


def test_infinite_sides_are_not_split_and_stay_rigorous():
    function = compile_function(sympy.cos(y) * x + sympy.sin(y), (x, y))
    result = sup_abs_interval([function], ((-2.0, 2.0), (-math.inf, math.inf)))
    assert math.sqrt(5) <= result.upper <= 3.0 + 1e-12


@pytest.mark.parametrize(
    "expr, words",
    [
        (sympy.besselj(0, x), "besselj"),
        (sympy.floor(x) + x, "floor"),
        (sympy.I * x, "ImaginaryUnit"),
        (sympy.DiracDelta(x), "DiracDelta"),
    ],
)
def test_uncovered_functions_raise_naming_them(expr, words):
    with pytest.raises(IntervalError, match=words):
        compile_expression(expr, (x,))


def test_real_power_of_a_possibly_negative_base_is_refused():
    program = compile_expression(sympy.sqrt(x), (x,))
    assert enclose(program, ((0.0, 4.0),)) == pytest.approx((0.0, 2.0), abs=1e-12)
    with pytest.raises(IntervalError, match="negative"):
        enclose(program, ((-1.0, 4.0),))
