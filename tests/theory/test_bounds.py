"""Bounds: closed forms, pruning proven by exact zeros, soundness against simulated gradients."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.errors import UnsupportedGateError
from privqml.theory import Ansatz, gradient_bound, hea, native, reupload
from privqml.theory.exact.tightness import max_gradient_norm

Q = cirq.LineQubit.range(4)


def _expectations(ansatz: Ansatz, weights, inputs) -> np.ndarray:
    simulator = cirq.DensityMatrixSimulator(dtype=np.complex128)
    rho = simulator.simulate(ansatz.circuit, ansatz.resolver(weights, inputs)).final_density_matrix
    order = {q: i for i, q in enumerate(ansatz.qubits)}
    return np.array([np.real(o.expectation_from_density_matrix(rho, order)) for o in ansatz.observables])


def fd_jacobian(ansatz: Ansatz, weights, inputs, h: float = 1e-6) -> np.ndarray:
    """Central finite differences in float64: an oracle independent of the theory code."""
    weights = np.asarray(weights, dtype=float)
    jac = np.zeros((ansatz.n_outputs, ansatz.n_weights))
    for j in range(ansatz.n_weights):
        step = np.zeros_like(weights)
        step[j] = h
        jac[:, j] = (_expectations(ansatz, weights + step, inputs) - _expectations(ansatz, weights - step, inputs)) / (2 * h)
    return jac


def _one_qubit(ops, weights, observable=None, inputs=()):
    return Ansatz(cirq.Circuit(ops), tuple(weights), tuple(inputs), (observable or cirq.PauliSum.wrap(cirq.Z(Q[0])),))


t, u, v, x = sympy.symbols("t u v x")


def test_single_rx_before_z_has_bound_one_attained():
    ansatz = _one_qubit([cirq.rx(t).on(Q[0])], [t])
    bound = gradient_bound(ansatz)
    assert bound.grad_norm_bound == pytest.approx(1.0)
    assert bound.per_weight == {"t": pytest.approx(1.0)}
    # attained: f = cos t, |f'| = |sin t| = 1 at t = pi/2
    assert abs(fd_jacobian(ansatz, [math.pi / 2], [])[0, 0]) == pytest.approx(1.0, abs=1e-6)


def test_xpow_exponent_spread_is_pi_per_unit():
    ansatz = _one_qubit([(cirq.X**t).on(Q[0])], [t])
    assert gradient_bound(ansatz).grad_norm_bound == pytest.approx(math.pi)
    assert abs(fd_jacobian(ansatz, [0.5], [])[0, 0]) == pytest.approx(math.pi, abs=1e-5)


def test_two_rotations_on_one_axis_are_attained():
    ansatz = _one_qubit([cirq.ry(t).on(Q[0]), cirq.ry(u).on(Q[0])], [t, u])
    bound = gradient_bound(ansatz)
    assert bound.grad_norm_bound == pytest.approx(math.sqrt(2))
    # f = cos(t + u); gradient norm sqrt(2)|sin(t+u)| -> sqrt(2)
    assert np.linalg.norm(fd_jacobian(ansatz, [0.3, math.pi / 2 - 0.3], [])) == pytest.approx(math.sqrt(2), abs=1e-5)


def test_directional_form_is_tighter_with_shared_weights():
    ansatz = _one_qubit([cirq.rx(t + u).on(Q[0]), cirq.ry(t - u).on(Q[0])], [t, u])
    bound = gradient_bound(ansatz)
    assert bound.coordinate_by_observable[0] == pytest.approx(2 * math.sqrt(2))
    assert bound.directional_by_observable[0] == pytest.approx(2.0)
    assert bound.grad_norm_bound == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    worst = max(np.linalg.norm(fd_jacobian(ansatz, rng.uniform(-4, 4, 2), [])) for _ in range(40))
    assert worst <= 2.0 + 1e-6


def test_rz_before_z_measurement_is_provably_zero():
    ansatz = _one_qubit([cirq.ry(t).on(Q[0]), cirq.rz(u).on(Q[0])], [t, u])
    bound = gradient_bound(ansatz)
    assert bound.zero_weights == ("u",)
    assert bound.per_weight["u"] == 0.0
    assert bound.n_pruned_commuting == 1
    rng = np.random.default_rng(1)
    for _ in range(5):
        assert abs(fd_jacobian(ansatz, rng.uniform(-3, 3, 2), [])[0, 1]) < 1e-8


def test_commuting_rule_sees_through_clifford_gates():
    # rz on the target of a CNOT, then Z0 measured: CNOT^dag Z0 CNOT = Z0, rz on q1 commutes
    # with Z0 (light cone also removes it) ; rz on q0 before the CNOT commutes with Z0 too.
    circuit = cirq.Circuit(
        cirq.ry(t).on(Q[0]), cirq.rz(u).on(Q[0]), cirq.ry(v).on(Q[1]), cirq.CNOT(Q[0], Q[1])
    )
    ansatz = Ansatz(circuit, (t, u, v), (), (cirq.PauliSum.wrap(cirq.Z(Q[0])),))
    bound = gradient_bound(ansatz)
    assert set(bound.zero_weights) == {"u", "v"}
    rng = np.random.default_rng(2)
    for _ in range(5):
        jac = fd_jacobian(ansatz, rng.uniform(-3, 3, 3), [])
        assert abs(jac[0, 1]) < 1e-8 and abs(jac[0, 2]) < 1e-8


def test_light_cone_removes_disconnected_gates_but_not_connected_ones():
    circuit = cirq.Circuit(cirq.ry(t).on(Q[0]), cirq.ry(u).on(Q[1]), cirq.ry(v).on(Q[2]), cirq.CZ(Q[0], Q[1]), cirq.ry(t).on(Q[0]))
    ansatz = Ansatz(circuit, (t, u, v), (), (cirq.PauliSum.wrap(cirq.X(Q[0])),))
    bound = gradient_bound(ansatz)
    assert "v" in bound.zero_weights and "u" not in bound.zero_weights
    jac = fd_jacobian(ansatz, [0.4, 0.9, 1.3], [])
    assert abs(jac[0, 2]) < 1e-8 and abs(jac[0, 1]) > 1e-3


def test_pauli_sum_bounded_term_by_term():
    circuit = cirq.Circuit(cirq.rx(t).on(Q[0]), cirq.rx(u).on(Q[1]))
    observable = cirq.Z(Q[0]) + cirq.Z(Q[1])
    ansatz = Ansatz(circuit, (t, u), (), (observable,))
    bound = gradient_bound(ansatz)
    # f = cos t + cos u: max gradient norm sqrt(2), attained; the global range would give 2*sqrt(2)
    assert bound.grad_norm_bound == pytest.approx(math.sqrt(2))
    assert bound.naive_bound == pytest.approx(2 * math.sqrt(2))
    assert np.linalg.norm(fd_jacobian(ansatz, [math.pi / 2, math.pi / 2], [])) == pytest.approx(math.sqrt(2), abs=1e-5)


def test_input_dependent_bound_is_symbolic_and_maximised_over_the_public_domain():
    circuit = cirq.Circuit(cirq.ry(t * x + u).on(Q[0]))
    ansatz = Ansatz(circuit, (t, u), (x,), (cirq.PauliSum.wrap(cirq.Z(Q[0])),), input_domain=((-0.5, 2.0),))
    bound = gradient_bound(ansatz)
    assert x in bound.expression.free_symbols
    assert bound.per_weight["t"] == pytest.approx(2.0)  # sup |x| over [-0.5, 2]
    assert bound.per_weight["u"] == pytest.approx(1.0)
    assert bound.grad_norm_bound == pytest.approx(math.sqrt(5.0))
    assert bound.pointwise([0.25]) == pytest.approx(math.sqrt(1 + 0.25**2))
    assert float(bound.expression.subs(x, 2.0)) == pytest.approx(math.sqrt(5.0))
    # attained at x = 2: f = cos(2t + u), |grad| = |sin| * sqrt(4 + 1)
    assert np.linalg.norm(fd_jacobian(ansatz, [0.0, math.pi / 2], [2.0])) == pytest.approx(math.sqrt(5.0), abs=1e-5)


def test_nonlinear_weight_dependence_is_reported_unbounded():
    ansatz = _one_qubit([cirq.rx(t**2).on(Q[0])], [t])
    bound = gradient_bound(ansatz)
    assert math.isinf(bound.grad_norm_bound)
    assert "not bounded" in bound.unbounded_reason and "t" in bound.unbounded_reason


def test_unbounded_input_domain_is_reported():
    circuit = cirq.Circuit(cirq.ry(t * x).on(Q[0]))
    ansatz = Ansatz(circuit, (t,), (x,), (cirq.PauliSum.wrap(cirq.Z(Q[0])),), input_domain=((-math.inf, math.inf),))
    bound = gradient_bound(ansatz)
    assert math.isinf(bound.grad_norm_bound) and "public domain" in bound.unbounded_reason


@pytest.mark.parametrize(
    "ansatz",
    [hea(2, 1), hea(2, 2, "sumZ"), hea(3, 1, "Z0*Z1"), reupload(2, 2), native(2, 1), native(3, 1, "0.5*Z0+X1"), hea(3, 1, "classes:2")],
    ids=lambda a: a.name,
)
def test_bound_holds_at_random_points_and_pruned_weights_have_zero_gradient(ansatz):
    bound = gradient_bound(ansatz)
    rng = np.random.default_rng(7)
    zero = [ansatz.weights.index(sympy.Symbol(n)) for n in bound.zero_weights]
    per_weight = np.asarray(bound.per_weight_by_observable)
    for _ in range(6):
        weights = rng.uniform(-math.pi, math.pi, ansatz.n_weights)
        inputs = rng.uniform(-math.pi, math.pi, ansatz.n_inputs)
        jac = fd_jacobian(ansatz, weights, inputs)
        for c in range(ansatz.n_outputs):
            assert np.linalg.norm(jac[c]) <= bound.per_observable[c] + 1e-6
            assert np.linalg.norm(jac[c]) <= bound.pointwise(inputs) + 1e-6
            assert np.all(np.abs(jac[c]) <= per_weight[c] + 1e-6)
        if zero:
            assert np.abs(jac[:, zero]).max() < 1e-7


def test_bound_beats_naive_where_pruning_or_splitting_applies():
    for ansatz in [hea(2, 1), hea(3, 2), hea(4, 2), hea(2, 1, "sumZ"), hea(3, 2, "sumZ"), hea(4, 2, "sumZ")]:
        bound = gradient_bound(ansatz)
        assert bound.grad_norm_bound < bound.naive_bound, ansatz.name


def test_switching_pruning_off_gives_the_naive_bound():
    ansatz = hea(3, 2)
    assert gradient_bound(ansatz, prune=False, per_term=False, refine=False).grad_norm_bound == pytest.approx(
        gradient_bound(ansatz).naive_bound)


def test_depolarising_channels_scale_the_bound_slot_by_slot_and_it_still_holds():
    clean = hea(2, 1)
    noisy_circuit = cirq.Circuit()
    for moment in clean.circuit:
        noisy_circuit.append(moment)
        noisy_circuit.append(cirq.Moment(cirq.depolarize(0.05).on(q) for q in clean.qubits))
    noisy = Ansatz(noisy_circuit, clean.weights, clean.inputs, clean.observables)
    # the one live slot, ry on qubit 0, is followed by two channels before its qubit's CZ: (1 - 4p/3)^2; the
    # channel after the CZ, the last gate, turns the measured Z0 into (1 - 4p/3) Z0 (refinement readout)
    assert gradient_bound(clean).grad_norm_bound == pytest.approx(1.0)
    # and channels that every string of the Heisenberg-evolved Z0 crosses scale every earlier slot (contraction)
    phi = 1 - 4 * 0.05 / 3
    assert gradient_bound(noisy, readout=False, contraction=False).grad_norm_bound == pytest.approx(phi**2)
    assert gradient_bound(noisy, contraction=False).grad_norm_bound == pytest.approx(phi**3)
    final = gradient_bound(noisy).grad_norm_bound
    assert final <= phi**3 and final >= max_gradient_norm(noisy, n_starts=6, seed=0).true_max_estimate * (1 - 1e-9)
    assert gradient_bound(noisy, refine=False).grad_norm_bound == pytest.approx(gradient_bound(clean).grad_norm_bound)
    rng = np.random.default_rng(3)
    for _ in range(4):
        jac = fd_jacobian(noisy, rng.uniform(-3, 3, noisy.n_weights), rng.uniform(-3, 3, noisy.n_inputs))
        assert np.linalg.norm(jac) <= gradient_bound(noisy).grad_norm_bound + 1e-6


def test_unsupported_gate_is_named():
    class Mystery(cirq.Gate):
        def __init__(self, angle):
            self.angle = angle

        def _num_qubits_(self):
            return 1

        def _is_parameterized_(self):
            return True

        def _parameter_names_(self):
            return {"t"}

        def _resolve_parameters_(self, resolver, recursive):
            return Mystery(resolver.value_of(self.angle, recursive))

        def __repr__(self):
            return "Mystery(t)"

    ansatz = Ansatz(cirq.Circuit(Mystery(t).on(Q[0])), (t,), (), (cirq.PauliSum.wrap(cirq.Z(Q[0])),))
    with pytest.raises(UnsupportedGateError, match="Mystery"):
        gradient_bound(ansatz)


def test_sampled_bound_keeps_pruned_slots_and_uses_the_sample_mean_range():
    ansatz = hea(2, 1, "Z0*Z1+0.5*X0")
    exact, sampled = gradient_bound(ansatz), gradient_bound(ansatz, sampled=True)
    assert sampled.observable_ranges[0] == (-1.5, 1.5)
    assert sampled.zero_weights == ()
    assert sampled.grad_norm_bound >= exact.grad_norm_bound
    assert sampled.grad_norm_bound == pytest.approx(gradient_bound(ansatz, prune=False, per_term=False).naive_bound * 1.5 / ((exact.observable_ranges[0][1] - exact.observable_ranges[0][0]) / 2))


def test_single_shot_parameter_shift_estimates_obey_the_sampled_bound():
    """rz before Z is provably zero exactly, but a 1-shot shift estimate of it is not: the sampled
    bound keeps it; every single estimate (Omega/2 times a difference of two +-1 outcomes) obeys it."""
    ansatz = _one_qubit([cirq.ry(t).on(Q[0]), cirq.rz(u).on(Q[0])], [t, u])
    sampled = gradient_bound(ansatz, sampled=True)
    assert sampled.per_weight == {"t": pytest.approx(1.0), "u": pytest.approx(1.0)}
    rng = np.random.default_rng(11)
    worst = 0.0
    for _ in range(200):
        weights = rng.uniform(-3, 3, 2)
        grad = []
        for j in range(2):
            shifted = []
            for sign in (+1, -1):
                w = weights.copy()
                w[j] += sign * math.pi / 2
                p_plus = (1 + _expectations(ansatz, w, [])[0]) / 2
                shifted.append(1.0 if rng.random() < p_plus else -1.0)  # one shot
            grad.append((shifted[0] - shifted[1]) / 2)
        worst = max(worst, float(np.linalg.norm(grad)))
    assert worst <= sampled.grad_norm_bound + 1e-12
    assert worst > gradient_bound(ansatz).grad_norm_bound  # the exact (pruned) bound would be exceeded
