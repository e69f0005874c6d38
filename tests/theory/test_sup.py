"""sup |expression| over the public domain: exact strategies and the rigorous fallback."""

import math

import pytest
import sympy

from privqml.theory.sup import sup_abs

x, y, w = sympy.symbols("x y w")


def test_constant_and_multilinear_are_exact():
    assert sup_abs(sympy.Float(-2.5), ()).value == 2.5
    result = sup_abs(x * y - 2 * x, ((x, -1.0, 3.0), (y, 0.0, 1.0)))
    assert result.method == "vertices" and result.value == pytest.approx(6.0)


def test_single_input_uses_calculus():
    result = sup_abs(x**2 - 3 * x, ((x, -2.0, 2.0),))
    assert result.method == "calculus" and result.value == pytest.approx(10.0)
    # a transcendental derivative still gets a rigorous bound (calculus or interval arithmetic)
    result = sup_abs(sympy.sin(x) * x, ((x, -2.0, 2.0),))
    grid = max(abs(math.sin(v) * v) for v in [i / 1000 - 2 for i in range(4001)])
    assert grid - 1e-9 <= result.value <= 2.0


def test_interval_arithmetic_is_an_upper_bound():
    expr = sympy.sin(x) * sympy.cos(y) + x * y**2
    result = sup_abs(expr, ((x, -1.0, 1.0), (y, -1.0, 1.0)))
    assert result.method == "interval"
    samples = [abs(float(expr.subs({x: a / 10, y: b / 10}))) for a in range(-10, 11) for b in range(-10, 11)]
    assert result.value >= max(samples) - 1e-12


def test_weight_dependence_is_sup_over_the_reals():
    assert sup_abs(sympy.cos(w), ()).value == pytest.approx(1.0)
    unbounded = sup_abs(2 * w, ())
    assert math.isinf(unbounded.value) and "w" in unbounded.reason


def test_unbounded_domain_is_reported():
    result = sup_abs(x, ((x, -math.inf, 1.0),))
    assert math.isinf(result.value) and "public domain" in result.reason
