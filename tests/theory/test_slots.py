"""The slot table: closed-form exponents and derivatives, the numeric evaluators, and that every
consumer reads the one table built once per ansatz."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.theory import Ansatz, gradient_bound, loss_gradient_bound, parse_observables, reupload
from privqml.theory import bounds, slots
from privqml.theory.exact import numeric, oracle
from privqml.theory.slots import slot_table, weight_spreads

Q0, Q1 = cirq.LineQubit.range(2)
W, V, X, Y = sympy.symbols("w v x y")
PI = math.pi


def _ansatz(*ops, weights=(W,), inputs=(X,), domain=None, name="slots") -> Ansatz:
    return Ansatz(cirq.Circuit(*ops), weights, inputs, parse_observables("Z0", (Q0, Q1)),
                  input_domain=domain or tuple((-1.0, 1.0) for _ in inputs), name=name)


def test_rx_of_an_affine_angle_in_closed_form():
    """cirq.rx(2w + x) = XPow with t = (2w + x)/π half-turns and Ω = π per unit exponent."""
    table = slot_table(_ansatz(cirq.rx(2 * W + X).on(Q0), cirq.CZ(Q0, Q1)))
    (row,) = table.rows
    assert row.index == 0 and isinstance(row.slot.operation.gate, cirq.XPowGate)
    assert sympy.simplify(row.exponent - (2 * W + X) / sympy.pi) == 0
    assert row.spread == pytest.approx(PI)
    ((j, d_w),) = row.weight_derivatives
    ((i, d_x),) = row.input_derivatives
    assert (j, i) == (0, 0)
    assert sympy.simplify(d_w - 2 / sympy.pi) == 0 and sympy.simplify(d_x - 1 / sympy.pi) == 0
    assert row.spread * abs(float(d_w)) == pytest.approx(2.0)  # 2 per radian of w
    values = np.array([[0.3, 0.5], [-1.0, 0.25]])  # columns: w, x
    np.testing.assert_allclose(table.exponent_values(values)[:, 0], (2 * values[:, 0] + values[:, 1]) / PI, rtol=1e-15)
    np.testing.assert_allclose(table.jacobian(values), np.broadcast_to([[2 / PI, 1 / PI]], (2, 1, 2)), rtol=1e-15)
    assert table.symbols == (W, X) and table.weight_slots == (0,)
    np.testing.assert_allclose(table.spreads, [PI])


def test_xpow_of_a_weight_has_unit_derivative_and_spread_pi():
    table = slot_table(_ansatz(cirq.XPowGate(exponent=W).on(Q0), inputs=()))
    (row,) = table.rows
    assert row.exponent == W and row.weight_derivatives == ((0, 1),) and row.input_derivatives == ()
    assert row.spread == pytest.approx(PI)


def test_derivatives_are_over_the_reals():
    """Abs gives sign, not re/im terms; a jump's DiracDelta stays symbolic and is 0 numerically."""
    table = slot_table(_ansatz(cirq.ry(W * sympy.Abs(X - 1)).on(Q0), cirq.ry(sympy.sign(V) + Y).on(Q1),
                               weights=(W, V), inputs=(X, Y), domain=((-2.0, 2.0), (-1.0, 1.0))))
    first, second = table.rows
    (_, d_w), = first.weight_derivatives
    (_, d_x), = first.input_derivatives
    assert not d_w.has(sympy.re, sympy.im) and not d_x.has(sympy.re, sympy.im)
    assert sympy.simplify(d_x - W * sympy.sign(X - 1) / sympy.pi) == 0
    (j, d_v), = second.weight_derivatives
    assert j == 1 and d_v.has(sympy.DiracDelta)
    point = np.array([[0.7, -0.4, 0.5, 0.2]])  # w, v, x, y
    jac = table.jacobian(point)[0]
    assert jac[0, 0] == pytest.approx(abs(0.5 - 1) / PI) and jac[0, 2] == pytest.approx(-0.7 / PI)
    assert jac[1, 1] == 0.0 and jac[1, 3] == pytest.approx(1 / PI)


def test_no_slot_table_is_empty_but_usable():
    table = slot_table(_ansatz(cirq.H(Q0), cirq.CZ(Q0, Q1), weights=(), inputs=()))
    assert table.n_slots == 0 and table.exponent_values(np.zeros((3, 0))).shape == (3, 0)
    assert table.jacobian(np.zeros((3, 0))).shape == (3, 0, 0)


def test_weight_spreads_sum_over_the_slots_of_a_weight():
    ansatz = _ansatz(cirq.rx(W).on(Q0), cirq.XPowGate(exponent=0.5 * W).on(Q1), cirq.ry(V * X).on(Q1),
                     weights=(W, V))
    spreads = weight_spreads(ansatz)
    assert spreads[W] == pytest.approx(1.0 + 0.5 * PI) and math.isnan(spreads[V])


def test_the_table_is_built_once_per_ansatz_and_shared_by_every_consumer(monkeypatch):
    """The bounds, the loss bound, the float64 simulator and the symbolic oracle all read the one
    cached table: the canonical circuit is built once for all of them."""
    calls = []
    real = slots.canonicalize
    monkeypatch.setattr(slots, "canonicalize", lambda a: calls.append(a.name) or real(a))
    slot_table.cache_clear()
    ansatz = reupload(2, 1)
    ansatz = Ansatz(ansatz.circuit, ansatz.weights, ansatz.inputs, ansatz.observables, name="built once")
    gradient_bound(ansatz)
    gradient_bound(ansatz, sampled=True)
    loss_gradient_bound(ansatz, "mse")
    weights, inputs = np.full(ansatz.n_weights, 0.3), np.full(ansatz.n_inputs, 0.2)
    numeric.expectations_and_jacobian(ansatz, weights, inputs)
    oracle.exact_gradient(ansatz)(weights, inputs)
    weight_spreads(ansatz)
    equal = Ansatz(ansatz.circuit, ansatz.weights, ansatz.inputs, ansatz.observables, name="built once")
    assert slot_table(equal) is slot_table(ansatz)  # cached by value
    assert calls == ["built once"]


def test_no_consumer_canonicalizes_on_its_own():
    for module in (bounds, numeric, oracle):
        assert not hasattr(module, "canonicalize"), module.__name__

