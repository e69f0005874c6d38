"""sup |expression| over the public domain: exact strategies and the rigorous fallback."""

import math

import numpy as np
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


# -- non-smooth, singular and removable-singularity derivatives -------------------------------
PI = math.pi


def _grid_max(expr, lo, hi, n=20001):
    f = sympy.lambdify(x, expr, "numpy")
    with np.errstate(all="ignore"):
        values = np.abs(np.asarray(f(np.linspace(lo, hi, n)), dtype=float))
    return float(np.nanmax(values))


@pytest.mark.parametrize(
    "expr, lo, hi, exact",
    [
        (sympy.Abs(x - 1), -PI, PI, 1 + PI),
        (sympy.sign(x) * x**2, -PI, PI, PI**2),
        (sympy.sin(x) / x, -PI, PI, 1.0),
        (sympy.Abs(sympy.sin(3 * x)) * sympy.cos(x) + sympy.sign(x - 0.5), -1.0, 2.0, None),
        (sympy.exp(-x**2) * sympy.cos(3 * x), -PI, PI, 1.0),
        (sympy.sqrt(x + 1) * sympy.atan(x), 0.0, 3.0, 2 * math.atan(3.0)),
    ],
    ids=["abs", "sign-x2", "sinc", "abs-sign-mix", "gauss-cos", "sqrt-atan"],
)
def test_non_smooth_and_removable_singularity_give_rigorous_bounds(expr, lo, hi, exact):
    result = sup_abs(expr, ((x, lo, hi),))
    sampled = _grid_max(expr, lo, hi)
    assert math.isfinite(result.value) and result.reason == ""
    assert result.value >= sampled - 1e-12  # never below the function
    if exact is not None:
        assert result.value == pytest.approx(exact, rel=1e-6)
    else:
        assert result.value <= sampled * (1 + 1e-4) + 1e-9


@pytest.mark.parametrize(
    "expr, lo, hi, shown",
    [(1 / x, -1.0, 1.0, "1/x"), (sympy.tan(x), -PI, PI, "tan(x)"), (1 / x**2 + x, 0.0, 1.0, "x + x**(-2)")],
    ids=["1/x", "tan", "pole-at-endpoint"],
)
def test_unbounded_derivatives_are_reported_with_expression_and_domain(expr, lo, hi, shown):
    result = sup_abs(expr, ((x, lo, hi),))
    assert math.isinf(result.value) and result.method == "unbounded"
    assert shown in result.reason and f"x ∈ [{lo}, {hi}]" in result.reason
    assert "restrict the input domain or change the encoding" in result.reason


def test_two_inputs_with_a_removable_singularity_and_a_kink():
    expr = sympy.sin(x) / x * sympy.Abs(y - 0.25) + x * y
    result = sup_abs(expr, ((x, -2.0, 2.0), (y, -1.0, 1.0)))
    f = sympy.lambdify((x, y), expr, "numpy")
    a, b = np.meshgrid(np.linspace(-2, 2, 801), np.linspace(-1, 1, 801))
    with np.errstate(all="ignore"):
        sampled = float(np.nanmax(np.abs(f(a, b))))
    assert result.method == "interval" and sampled - 1e-12 <= result.value <= sampled * (1 + 1e-3)


def test_functions_interval_arithmetic_does_not_cover_are_reported_not_crashed():
    expr = sympy.besselj(0, x) * sympy.Abs(x) + x**2 * y
    result = sup_abs(expr, ((x, -1.0, 1.0), (y, -1.0, 1.0)))
    assert math.isinf(result.value) and "besselj" in result.reason and "x ∈ [-1.0, 1.0]" in result.reason


def test_weight_dependent_factor_bounded_over_the_reals_by_interval_arithmetic():
    result = sup_abs(sympy.cos(w) * x + sympy.sin(w), ((x, -2.0, 2.0),))
    assert result.value >= math.sqrt(5) - 1e-12 and result.value <= 3.0 + 1e-9
