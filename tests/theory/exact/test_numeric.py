"""numeric.py: exact adjoint expectations and gradients against closed forms, Cirq and finite differences.

Tolerances: values agree with cirq's complex128 simulators to 1e-12; gradients agree with central
finite differences of cirq values (step 1e-5, truncation ~1e-10) to 1e-7.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import cirq
import numpy as np
import pytest
import sympy

from privqml.errors import ConfigError, DomainError
from privqml.theory import Ansatz, hea, native, reupload
from privqml.theory.exact import numeric

TH, PH = sympy.symbols("th ph")
Q = cirq.LineQubit.range(3)
FD_STEP = 1e-5


def _cirq_values(ansatz: Ansatz, weights, inputs) -> np.ndarray:
    circuit = cirq.resolve_parameters(ansatz.circuit, ansatz.resolver(weights, inputs))
    noisy = not cirq.has_unitary(circuit)
    simulator = cirq.DensityMatrixSimulator(dtype=np.complex128) if noisy else cirq.Simulator(dtype=np.complex128)
    values = simulator.simulate_expectation_values(circuit, list(ansatz.observables), qubit_order=ansatz.qubits)
    return np.real(np.array(values))


def _cirq_jacobian(ansatz: Ansatz, weights, inputs, wrt: str = "weights") -> np.ndarray:
    weights, inputs = np.asarray(weights, float), np.asarray(inputs, float)
    columns = []
    n = weights.size if wrt == "weights" else inputs.size
    for j in range(n):
        shift = np.zeros(n)
        shift[j] = FD_STEP
        if wrt == "weights":
            plus, minus = _cirq_values(ansatz, weights + shift, inputs), _cirq_values(ansatz, weights - shift, inputs)
        else:
            plus, minus = _cirq_values(ansatz, weights, inputs + shift), _cirq_values(ansatz, weights, inputs - shift)
        columns.append((plus - minus) / (2 * FD_STEP))
    return np.stack(columns, axis=1)


def _single_rx() -> Ansatz:
    return Ansatz(cirq.Circuit(cirq.rx(TH).on(Q[0])), (TH,), (), (cirq.Z(Q[0]) * 1.0,))


def _zoo() -> Ansatz:
    """Every gate family of the spectra table, shared symbols, an affine input angle, 3 qubits."""
    a, b, c, d, x = sympy.symbols("a b c d x")
    circuit = cirq.Circuit(
        cirq.rx(x).on(Q[0]), cirq.H(Q[1]), cirq.ry(0.3 * x + b).on(Q[2]),
        cirq.PhasedXZGate(x_exponent=a, z_exponent=b, axis_phase_exponent=c).on(Q[0]),
        cirq.FSimGate(theta=a, phi=d).on(Q[0], Q[1]),
        cirq.PhasedFSimGate(theta=b, zeta=c, chi=d, gamma=a, phi=0.2).on(Q[1], Q[2]),
        cirq.PhasedISwapPowGate(exponent=c, phase_exponent=d).on(Q[0], Q[2]),
        cirq.ControlledGate(cirq.rz(a)).on(Q[2], Q[0]),
        (cirq.CCZ**b).on(*Q), (cirq.H**c).on(Q[1]), (cirq.XX**d).on(Q[0], Q[1]),
        cirq.ZPowGate(exponent=a, global_shift=0.3).on(Q[2]),
        cirq.PhasedXPowGate(exponent=d, phase_exponent=a).on(Q[1]),
    )
    observables = (cirq.Z(Q[0]) * cirq.Z(Q[1]) + 0.5 * cirq.X(Q[2]), cirq.Y(Q[1]) * 1.0)
    return Ansatz(circuit, (a, b, c, d), (x,), observables, name="zoo")


def _noisy(ansatz: Ansatz, channel) -> Ansatz:
    return dataclasses.replace(ansatz, circuit=ansatz.circuit.unfreeze().with_noise(channel))


def _mode(ansatz: Ansatz) -> str:
    return "mixed" if numeric.compile_numeric(ansatz).mixed else "pure"


# -- closed forms -------------------------------------------------------------------------------
@pytest.mark.parametrize("theta", [-2.0, 0.0, 0.4, math.pi / 2, 3.0])
def test_single_rx_closed_form(theta):
    f, jac = numeric.expectations_and_jacobian(_single_rx(), [theta])
    assert f[0] == pytest.approx(math.cos(theta), abs=1e-14)
    assert jac[0, 0] == pytest.approx(-math.sin(theta), abs=1e-14)


def test_two_ry_closed_form():
    ansatz = Ansatz(cirq.Circuit(cirq.ry(TH).on(Q[0]), cirq.ry(PH).on(Q[0])), (TH, PH), (), (cirq.Z(Q[0]) * 1.0,))
    for theta, phi in [(0.3, 0.9), (-1.2, 2.5)]:
        f, jac = numeric.expectations_and_jacobian(ansatz, [theta, phi])
        assert f[0] == pytest.approx(math.cos(theta + phi), abs=1e-14)
        np.testing.assert_allclose(jac[0], [-math.sin(theta + phi)] * 2, atol=1e-14)


def test_hea_sumz_closed_form_with_input_jacobian():
    # hea(2,1), sumZ: f = cos x0 cos θ0 + cos x1 cos θ1 (θq = ry0_q; rz and CZ commute with Z).
    ansatz = hea(2, 1, "sumZ")
    weights, inputs = np.array([0.7, -0.4, 1.9, 2.2]), np.array([0.3, -1.1])
    f, jac = numeric.expectations_and_jacobian(ansatz, weights, inputs, with_respect_to="all")
    c, s = np.cos, np.sin
    assert f[0] == pytest.approx(c(0.3) * c(0.7) + c(-1.1) * c(1.9), abs=1e-14)
    expected = [-c(0.3) * s(0.7), 0, -c(-1.1) * s(1.9), 0, -s(0.3) * c(0.7), -s(-1.1) * c(1.9)]
    np.testing.assert_allclose(jac[0], expected, atol=1e-14)


# -- against cirq -----------------------------------------------------------------------------
CASES = {
    "hea(3,2) Z0*Z1": lambda: hea(3, 2, "Z0*Z1"),
    "reupload(2,2) 0.5*Z0+Z1": lambda: reupload(2, 2, "0.5*Z0+Z1"),
    "native(3,2) Z0,Z1": lambda: native(3, 2, "Z0,Z1"),
    "zoo": _zoo,
    "hea(2,2) depolarize(0.1)": lambda: _noisy(hea(2, 2, "Z0*Z1"), cirq.depolarize(0.1)),
    "zoo amplitude_damp(0.2)": lambda: _noisy(_zoo(), cirq.amplitude_damp(0.2)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_against_cirq_and_finite_differences(name):
    ansatz = CASES[name]()
    rng = np.random.default_rng(sum(map(ord, name)))
    weights, inputs = rng.uniform(-3, 3, ansatz.n_weights), rng.uniform(-3, 3, ansatz.n_inputs)
    f, jac = numeric.expectations_and_jacobian(ansatz, weights, inputs)
    np.testing.assert_allclose(f, _cirq_values(ansatz, weights, inputs), atol=1e-12)
    np.testing.assert_allclose(jac, _cirq_jacobian(ansatz, weights, inputs), atol=1e-7)
    _, jac_x = numeric.expectations_and_jacobian(ansatz, weights, inputs, with_respect_to="inputs")
    np.testing.assert_allclose(jac_x, _cirq_jacobian(ansatz, weights, inputs, "inputs"), atol=1e-7)
    _, jac_all = numeric.expectations_and_jacobian(ansatz, weights, inputs, with_respect_to="all")
    np.testing.assert_allclose(jac_all, np.concatenate([jac, jac_x], axis=1), atol=1e-14)
    assert _mode(ansatz) == ("mixed" if "(0." in name else "pure")


def test_twelve_qubits_against_cirq():
    ansatz = hea(12, 1, "Z0*Z1+0.5*X11")
    rng = np.random.default_rng(12)
    weights, inputs = rng.uniform(-3, 3, ansatz.n_weights), rng.uniform(-3, 3, ansatz.n_inputs)
    f, jac = numeric.expectations_and_jacobian(ansatz, weights, inputs)
    np.testing.assert_allclose(f, _cirq_values(ansatz, weights, inputs), atol=1e-12)
    for j in (0, 1, 22, 23):  # spot-check a few columns with finite differences
        shift = np.zeros(ansatz.n_weights)
        shift[j] = FD_STEP
        fd = (_cirq_values(ansatz, weights + shift, inputs) - _cirq_values(ansatz, weights - shift, inputs)) / (2 * FD_STEP)
        np.testing.assert_allclose(jac[:, j], fd, atol=1e-7)


def test_batch_matches_single_evaluations():
    ansatz = reupload(2, 2, "Z0,Z1")
    rng = np.random.default_rng(7)
    weights, inputs = rng.uniform(-3, 3, (4, ansatz.n_weights)), rng.uniform(-3, 3, (4, ansatz.n_inputs))
    f, jac = numeric.batch_expectations_and_jacobians(ansatz, weights, inputs)
    assert f.shape == (4, 2) and jac.shape == (4, 2, ansatz.n_weights)
    for b in range(4):
        f_b, jac_b = numeric.expectations_and_jacobian(ansatz, weights[b], inputs[b])
        np.testing.assert_allclose(f[b], f_b, atol=1e-14)
        np.testing.assert_allclose(jac[b], jac_b, atol=1e-14)
    # shared weights [P] broadcast over a batch of inputs
    f_shared, _ = numeric.batch_expectations_and_jacobians(ansatz, weights[0], inputs)
    np.testing.assert_allclose(f_shared[0], f[0], atol=1e-14)
    np.testing.assert_allclose(numeric.expectations(ansatz, weights[0], inputs), f_shared, atol=1e-14)


def test_errors_and_domain():
    ansatz = hea(2, 1)
    with pytest.raises(DomainError, match=r"x0=4\.0 lies outside its declared domain"):
        numeric.expectations(ansatz, np.zeros(4), [4.0, 0.0])
    value = numeric.expectations(ansatz, np.zeros(4), [4.0, 0.0], check_domain=False)[0]
    assert value == pytest.approx(math.cos(4.0), abs=1e-14)
    with pytest.raises(DomainError, match=r"need \[\.\.\., 4\] weights"):
        numeric.expectations(ansatz, np.zeros(3), [0.0, 0.0])
    with pytest.raises(DomainError, match="NaN"):
        numeric.expectations(ansatz, [np.nan, 0, 0, 0], [0.0, 0.0])
    with pytest.raises(ConfigError, match="with_respect_to='biases'"):
        numeric.expectations_and_jacobian(ansatz, np.zeros(4), [0.0, 0.0], with_respect_to="biases")
    with pytest.raises(ConfigError, match=r"n_qubits=15 .* state-vector simulator \(limit 14\)"):
        numeric.compile_numeric(hea(15, 1))
    with pytest.raises(ConfigError, match=r"n_qubits=11 .* density-matrix simulator \(limit 10\)"):
        numeric.compile_numeric(_noisy(hea(11, 1), cirq.depolarize(0.01)))


def test_program_is_cached_per_ansatz_value():
    ansatz = hea(2, 1)
    program = numeric.compile_numeric(ansatz)
    assert numeric.compile_numeric(ansatz) is program
    assert numeric.compile_numeric(hea(2, 1)) is program  # an equal ansatz shares the program
    assert numeric.compile_numeric(hea(2, 1, "Z1")) is not program
    assert program.n_slots == 6 and len(program.steps) == 7 and not program.mixed


def test_theory_engines_do_not_import_tensorflow():
    code = (
        "import sys, privqml.theory.exact.numeric, privqml.theory.exact.oracle, privqml.theory.exact.tightness; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_quantum')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
