"""Backward Pauli propagation: exact cases, the light-cone fallback, soundness of the superset, and
the remainder carried from negligible terms (near-zero slots, never reported as provably zero)."""

import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.theory import Ansatz, canonicalize, gradient_bound, hea
from privqml.theory.exact.numeric import batch_expectations_and_jacobians
from privqml.theory.pauli import (
    PauliString,
    generator_terms,
    heisenberg_coefficients,
    heisenberg_image,
    live_slots,
    pauli_from_cirq,
)

q = cirq.LineQubit.range(3)
a, b, c = sympy.symbols("a b c")


def _live(circuit, observable, **kwargs):
    ansatz = Ansatz(circuit, tuple(sorted(cirq.parameter_symbols(circuit), key=str)), (), (cirq.PauliSum.wrap(observable),))
    index = {qq: i for i, qq in enumerate(ansatz.qubits)}
    canonical = canonicalize(ansatz)
    return live_slots(canonical, pauli_from_cirq(observable, index), index, **kwargs), canonical


def test_symplectic_algebra():
    x0, z0, y0 = PauliString(1, 0), PauliString(0, 1), PauliString(1, 1)
    assert x0.anticommutes(z0) and not x0.anticommutes(x0)
    assert x0.times(z0) == y0
    assert not PauliString(0b11, 0).anticommutes(PauliString(0, 0b11))  # XX commutes with ZZ


def test_heisenberg_image_of_fixed_gates_and_channels():
    # H^dag Z H = X ; CNOT^dag (Z0) CNOT = Z0 ; depolarising keeps the string (scaled)
    assert heisenberg_image(cirq.H(q[0]), (3,)) == ((1,),)
    assert heisenberg_image(cirq.CNOT(q[0], q[1]), (3, 0)) == ((3, 0),)
    assert heisenberg_image(cirq.CNOT(q[0], q[1]), (0, 3)) == ((3, 3),)
    assert heisenberg_image(cirq.depolarize(0.1).on(q[0]), (1,)) == ((1,),)
    # amplitude damping maps Z to a combination of I and Z
    assert set(heisenberg_image(cirq.amplitude_damp(0.3).on(q[0]), (3,))) == {(0,), (3,)}


def test_commuting_slot_after_the_last_noncommuting_gate_is_pruned():
    circuit = cirq.Circuit(cirq.ry(a).on(q[0]), cirq.rz(b).on(q[0]))
    result, _ = _live(circuit, cirq.Z(q[0]))
    assert result.live == {0} and result.commuting == {1}


def test_rz_before_ry_is_live():
    circuit = cirq.Circuit(cirq.rx(c).on(q[0]), cirq.rz(b).on(q[0]), cirq.ry(a).on(q[0]))
    result, _ = _live(circuit, cirq.Z(q[0]))
    assert result.live == {0, 1, 2}


def test_fallback_to_light_cone_is_sound_and_reported():
    ansatz = hea(3, 3)
    index = {qq: i for i, qq in enumerate(ansatz.qubits)}
    canonical = canonicalize(ansatz)
    term = pauli_from_cirq(next(iter(ansatz.observables[0])), index)
    exact = live_slots(canonical, term, index, max_strings=10_000)
    cone = live_slots(canonical, term, index, max_strings=1)
    assert cone.fell_back_at is not None
    assert exact.live <= cone.live  # the fallback only ever keeps more slots


# -- exactness: only exact zeros are dropped ------------------------------------------------------
def test_a_negligible_term_of_a_fixed_gate_image_is_kept():
    # rx(ε)† Z rx(ε) = cos ε Z + sin ε Y (sign by convention): the Y term is not zero, however small
    for epsilon in (5e-10, 1e-15, 1e-200):
        image = dict(heisenberg_coefficients(cirq.rx(epsilon).on(q[0]), (3,)))
        assert set(image) == {(2,), (3,)}
        assert abs(image[(2,)]) == pytest.approx(math.sin(epsilon), rel=1e-12)
    assert heisenberg_image(cirq.rx(0.0).on(q[0]), (3,)) == ((3,),)
    # ry(π/2) as floats: cos(π/4) and sin(π/4) are different floats, so a Z term of ~1e-16 stays
    image = dict(heisenberg_coefficients(cirq.ry(np.pi / 2).on(q[0]), (3,)))
    assert set(image) == {(1,), (3,)} and 0 < abs(image[(3,)]) < 1e-15


def test_generator_terms_are_exact():
    assert generator_terms(cirq.rx(a).on(q[0])) == (((1,), -math.pi / 2),)
    # FSim's θ becomes an XX and a YY slot; their coefficients are the same float, so the excitation-number
    # cancellation of the commutation refinement is exact
    xx = generator_terms(cirq.XXPowGate(exponent=a).on(q[0], q[1]))
    yy = generator_terms(cirq.YYPowGate(exponent=a).on(q[0], q[1]))
    assert xx == (((1, 1), -math.pi / 2),) and yy == (((2, 2), -math.pi / 2),)
    assert generator_terms(cirq.ZZPowGate(exponent=a).on(q[0], q[1])) == (((3, 3), -math.pi / 2),)


# -- the reported defect and its family ---------------------------------------------------------------
W = sympy.Symbol("w")


def _rz_between(epsilon: float) -> Ansatz:
    """ry(π/2) · rz(w) · rx(ε) on one qubit, Z measured: f(w) = sin ε · sin w (up to sign), so
    max_w |∂f/∂w| = |sin ε| — and ∂f/∂w ≡ 0 exactly when ε = 0 (rz commutes with Z)."""
    circuit = cirq.Circuit(cirq.ry(np.pi / 2).on(q[0]), cirq.rz(W).on(q[0]), cirq.rx(epsilon).on(q[0]))
    return Ansatz(circuit, (W,), (), (cirq.PauliSum.wrap(cirq.Z(q[0])),))


def _max_abs_derivative(ansatz: Ansatz) -> float:
    grid = np.linspace(-np.pi, np.pi, 721)[:, None]
    _, jacobian = batch_expectations_and_jacobians(ansatz, grid)
    return float(np.abs(jacobian[:, 0, 0]).max())


def test_the_analytic_oracle_matches_the_float64_engine():
    for epsilon in (0.7, 1e-3, 1e-6):
        assert _max_abs_derivative(_rz_between(epsilon)) == pytest.approx(math.sin(epsilon), rel=1e-7)


def test_rz_between_a_half_turn_and_a_tiny_rx_is_not_provably_zero():
    epsilon = 5e-10
    ansatz = _rz_between(epsilon)
    bound = gradient_bound(ansatz)
    true_max = math.sin(epsilon)
    assert _max_abs_derivative(ansatz) == pytest.approx(true_max, abs=1e-15)  # the float64 engine's rounding
    assert "w" not in bound.zero_weights
    assert bound.per_weight["w"] >= true_max and bound.grad_norm_bound >= true_max
    assert bound.per_weight["w"] <= true_max * (1 + 1e-9)  # carried, not given the Bernstein bound 1
    assert bound.as_dict()["slots"]["near_zero"] == 1


@pytest.mark.parametrize("epsilon", [1e-3, 1e-5, 1e-7, 1e-9, 1e-11, 1e-13, 1e-15, -1e-12, 0.0])
def test_the_bound_covers_the_true_maximum_and_is_zero_only_at_zero(epsilon):
    bound = gradient_bound(_rz_between(epsilon))
    true_max = abs(math.sin(epsilon))
    assert bound.per_weight["w"] >= true_max and bound.grad_norm_bound >= true_max
    if epsilon == 0.0:
        assert bound.zero_weights == ("w",) and bound.per_weight["w"] == 0.0
    else:
        assert bound.zero_weights == () and bound.per_weight["w"] > 0.0
    if 0 < abs(epsilon) < 1e-9:  # carried (below 1e-9): within rounding of the true maximum
        assert bound.per_weight["w"] <= true_max * (1 + 1e-9)


def test_live_slots_reports_the_remainder():
    ansatz = _rz_between(5e-10)
    index = {qq: i for i, qq in enumerate(ansatz.qubits)}
    result = live_slots(canonicalize(ansatz), PauliString(0, 1), index)
    (slot, epsilon), = result.near
    assert not result.live and not result.commuting and not result.outside_cone
    assert epsilon == pytest.approx(math.sin(5e-10), rel=1e-9) and epsilon >= math.sin(5e-10)
    assert result.factors(1).tolist() == [epsilon]


def test_the_remainder_spreads_like_a_light_cone():
    # Z0 is measured after rx(ε) on q0 and a CNOT(q0, q1): the strings never reach q1, but the
    # remainder sin ε Y0 does (Y0 ↦ Y0 X1 through the CNOT), so rz(w) on q1 moves f:
    # f = cos ε ⟨Z0⟩ + sin ε ⟨Y0⟩⟨cos w X1 + sin w Y1⟩ with q0 in +Y and q1 in +X: ∂f/∂w = -sin ε sin w.
    epsilon = 1e-10
    circuit = cirq.Circuit(cirq.rx(-np.pi / 2).on(q[0]), cirq.H(q[1]), cirq.rz(W).on(q[1]),
                           cirq.CNOT(q[0], q[1]), cirq.rx(epsilon).on(q[0]))
    ansatz = Ansatz(circuit, (W,), (), (cirq.PauliSum.wrap(cirq.Z(q[0])),))
    bound = gradient_bound(ansatz)
    true_max = math.sin(epsilon)
    assert _max_abs_derivative(ansatz) == pytest.approx(true_max, abs=1e-15)  # the float64 engine's rounding
    assert "w" not in bound.zero_weights and bound.per_weight["w"] >= true_max
    assert bound.per_weight["w"] <= true_max * (1 + 1e-9)
    # with the tiny rotation removed, rz on q1 is outside the cone of Z0: provably zero again
    exact = Ansatz(cirq.Circuit(circuit[:-1], cirq.I(q[0])), (W,), (), (cirq.PauliSum.wrap(cirq.Z(q[0])),))
    assert gradient_bound(exact).zero_weights == ("w",)


def test_a_truly_zero_weight_behind_a_float_half_turn_gets_a_tiny_bound_not_a_zero_claim():
    # rx(w) then ry(π/2), Z measured: ideally ry(π/2)† Z ry(π/2) = X commutes with rx, so ∂f/∂w ≡ 0;
    # the float matrix of ry(π/2) leaves a Z term of ~1e-16, carried into the bound
    circuit = cirq.Circuit(cirq.ry(b).on(q[0]), cirq.rx(W).on(q[0]), cirq.ry(np.pi / 2).on(q[0]))
    bound = gradient_bound(Ansatz(circuit, (b, W), (), (cirq.PauliSum.wrap(cirq.Z(q[0])),)))
    assert "w" not in bound.zero_weights and 0 < bound.per_weight["w"] < 1e-15
    assert bound.per_weight["b"] == pytest.approx(1.0)
    # cirq.H has exact structure (s·[[1, 1], [1, -1]]): there the zero is proven
    circuit = cirq.Circuit(cirq.ry(b).on(q[0]), cirq.rx(W).on(q[0]), cirq.H(q[0]))
    assert gradient_bound(Ansatz(circuit, (b, W), (), (cirq.PauliSum.wrap(cirq.Z(q[0])),))).zero_weights == ("w",)
