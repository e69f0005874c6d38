"""The SymPy oracle: closed forms, agreement with numeric.py and Cirq (noiseless and noisy), limits."""

from __future__ import annotations

import dataclasses
import math
import time

import cirq
import numpy as np
import pytest
import sympy

from privqml.errors import ConfigError, DomainError
from privqml.theory import Ansatz, hea, native, reupload
from privqml.theory.exact import numeric, oracle
from tests.theory.exact.test_numeric import _cirq_values

TH, PH = sympy.symbols("th ph")
Q = cirq.LineQubit.range(4)


def test_single_rx_is_cos_and_its_gradient_has_max_norm_one():
    ansatz = Ansatz(cirq.Circuit(cirq.rx(TH).on(Q[0])), (TH,), (), (cirq.Z(Q[0]) * 1.0,))
    (f,) = oracle.symbolic_expectations(ansatz)
    assert sympy.simplify(f - sympy.cos(TH)) == 0
    gradient = oracle.exact_gradient(ansatz)
    (derivative,) = gradient.jacobian[0]
    assert sympy.simplify(derivative + sympy.sin(TH)) == 0
    # |∂f/∂θ|² = 1 − f² ≤ 1, with equality exactly at θ = π/2: the max norm is exactly 1.
    assert sympy.simplify(derivative**2 + f**2) == 1
    assert derivative.subs(TH, sympy.pi / 2) == -1


def test_two_ry_is_cos_of_sum():
    ansatz = Ansatz(cirq.Circuit(cirq.ry(TH).on(Q[0]), cirq.ry(PH).on(Q[0])), (TH, PH), (), (cirq.Z(Q[0]) * 1.0,))
    (f,) = oracle.symbolic_expectations(ansatz)
    assert sympy.simplify(f - sympy.cos(TH + PH)) == 0
    (f_simplified,) = oracle.symbolic_expectations(ansatz, simplify=True)
    assert f_simplified == sympy.cos(TH + PH)


def test_hea_sumz_symbolic_closed_form():
    ansatz = hea(2, 1, "sumZ")
    (f,) = oracle.symbolic_expectations(ansatz)
    x0, x1 = ansatz.inputs
    t0, t1 = ansatz.weights[0], ansatz.weights[2]  # ry0_0, ry0_1
    assert sympy.simplify(f - (sympy.cos(x0) * sympy.cos(t0) + sympy.cos(x1) * sympy.cos(t1))) == 0


def test_x_rotation_with_phase_in_exact_arithmetic():
    # PhasedXPow(exponent=1/2, phase_exponent=p) |0> has Bloch vector (cos πp·…): <X> = sin(π p)·… exactly.
    p = sympy.Symbol("p")
    ansatz = Ansatz(
        cirq.Circuit(cirq.PhasedXPowGate(exponent=0.5, phase_exponent=p).on(Q[0])), (p,), (), (cirq.X(Q[0]) * 1.0,)
    )
    (f,) = oracle.symbolic_expectations(ansatz)
    assert sympy.simplify(f - sympy.sin(sympy.pi * p)) == 0


@pytest.mark.parametrize(
    "channel, closed_form",
    [
        (cirq.depolarize(0.1), (1 - sympy.Rational(4, 3) * sympy.Rational(1, 10)) * sympy.cos(TH)),
        (cirq.amplitude_damp(0.25), sympy.Rational(1, 4) + sympy.Rational(3, 4) * sympy.cos(TH)),
    ],
    ids=["depolarize: (1-4p/3) cos θ", "amplitude_damp: γ + (1-γ) cos θ"],
)
def test_noisy_closed_forms(channel, closed_form):
    ansatz = Ansatz(cirq.Circuit(cirq.rx(TH).on(Q[0]), channel.on(Q[0])), (TH,), (), (cirq.Z(Q[0]) * 1.0,))
    (f,) = oracle.symbolic_expectations(ansatz)
    assert sympy.simplify(f - closed_form) == 0


BUILDS = {
    "hea(2,2)": lambda: hea(2, 2),
    "reupload(2,2)": lambda: reupload(2, 2),
    "native(2,1)": lambda: native(2, 1),
    "hea(2,2) Z0*Z1,X1": lambda: hea(2, 2, "Z0*Z1,X1"),
}


@pytest.mark.parametrize("name", list(BUILDS))
def test_oracle_numeric_and_cirq_agree(name):
    ansatz = BUILDS[name]()
    start = time.perf_counter()
    gradient = oracle.exact_gradient(ansatz)
    build_seconds = time.perf_counter() - start
    assert build_seconds < 20.0  # seconds, not minutes; generous for a loaded 2-core CI box
    rng = np.random.default_rng(sum(map(ord, name)))
    for _ in range(3):
        weights, inputs = rng.uniform(-3, 3, ansatz.n_weights), rng.uniform(-3, 3, ansatz.n_inputs)
        f, jac = gradient(weights, inputs)
        f_numeric, jac_numeric = numeric.expectations_and_jacobian(ansatz, weights, inputs)
        np.testing.assert_allclose(f, _cirq_values(ansatz, weights, inputs), atol=1e-12)
        np.testing.assert_allclose(f, f_numeric, atol=1e-12)
        np.testing.assert_allclose(jac, jac_numeric, atol=1e-12)


@pytest.mark.parametrize(
    "n_layers, channel", [(2, cirq.depolarize(0.1)), (1, cirq.amplitude_damp(0.15))],
    ids=["hea(2,2) depolarize(0.1)", "hea(2,1) amplitude_damp(0.15)"],
)
def test_noisy_oracle_against_density_matrix_simulator(n_layers, channel):
    base = hea(2, n_layers, "Z0*Z1,X0")
    ansatz = dataclasses.replace(base, circuit=base.circuit.unfreeze().with_noise(channel))
    gradient = oracle.exact_gradient(ansatz)
    rng = np.random.default_rng(5)
    for _ in range(3):
        weights, inputs = rng.uniform(-3, 3, ansatz.n_weights), rng.uniform(-3, 3, ansatz.n_inputs)
        f, jac = gradient(weights, inputs)
        np.testing.assert_allclose(f, _cirq_values(ansatz, weights, inputs), atol=1e-12)
        np.testing.assert_allclose(jac, numeric.expectations_and_jacobian(ansatz, weights, inputs)[1], atol=1e-12)


def test_four_qubit_circuit_with_fixed_and_three_qubit_gates():
    a, b, c = sympy.symbols("a b c")
    circuit = cirq.Circuit(
        cirq.H.on_each(*Q), cirq.rx(a).on(Q[0]), (cirq.CCX**b).on(Q[0], Q[1], Q[2]),
        cirq.FSimGate(theta=c, phi=a).on(Q[2], Q[3]), cirq.T(Q[3]), cirq.CNOT(Q[3], Q[0]),
    )
    ansatz = Ansatz(circuit, (a, b, c), (), (cirq.Z(Q[0]) * cirq.X(Q[3]) + 0.25 * cirq.Y(Q[2]),))
    gradient = oracle.exact_gradient(ansatz)
    weights = np.array([0.4, -1.3, 2.2])
    f, jac = gradient(weights, [])
    np.testing.assert_allclose(f, _cirq_values(ansatz, weights, []), atol=1e-12)
    np.testing.assert_allclose(jac, numeric.expectations_and_jacobian(ansatz, weights)[1], atol=1e-12)


def test_refuses_more_than_four_qubits():
    with pytest.raises(ConfigError, match=r"at most 4 qubits.*n_qubits=5.*privqml.theory.exact.numeric"):
        oracle.symbolic_expectations(hea(5, 1))
    with pytest.raises(ConfigError, match="at most 4 qubits"):
        oracle.exact_gradient(hea(5, 1))


def test_call_validation_and_cache():
    ansatz = hea(2, 1)
    gradient = oracle.exact_gradient(ansatz)
    assert oracle.exact_gradient(ansatz) is gradient
    with pytest.raises(DomainError, match="takes 4 weights and 2 inputs"):
        gradient(np.zeros(3), np.zeros(2))
    f, jac = gradient(np.zeros(4), np.zeros(2))
    assert f.shape == (1,) and jac.shape == (1, 4) and f[0] == pytest.approx(1.0, abs=1e-15)
    assert math.isclose(float(gradient.expectations[0].subs({s: 0 for s in ansatz.weights + ansatz.inputs})), 1.0)
