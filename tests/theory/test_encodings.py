"""Input encodings beyond affine angles: non-smooth and singular ∂t/∂θ, honest 'unbounded' records,
symbolic global phases and diagonal gates — each bound held against Cirq simulations."""

from __future__ import annotations

import json
import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.theory import (
    Ansatz,
    canonicalize,
    exact_gradient,
    expectations_and_jacobian,
    gradient_bound,
    loss_gradient_bound,
)
from privqml import jsonio
from privqml.errors import UnsupportedGateError
from privqml.theory.diagonal import DiagonalPhaseGate
from tests.theory.test_spectra import _Mystery as Mystery
from tests.theory.test_symbols import simulated_derivative, simulated_expectation

Q0, Q1, Q2 = cirq.LineQubit.range(3)
W, V, X = sympy.symbols("w v x")
PI = math.pi
Z0 = cirq.PauliSum.wrap(cirq.Z(Q0))


def _ry_encoding(angle, domain=((-PI, PI),)) -> tuple[cirq.Circuit, Ansatz]:
    circuit = cirq.Circuit(cirq.ry(angle).on(Q0))
    return circuit, Ansatz(circuit, (W,), (X,), (Z0,), input_domain=domain)


# -- f = cos(w·g(x)): ∂f/∂w = −g(x) sin(w g(x)), so sup = sup_x |g(x)| (attained) -------------
@pytest.mark.parametrize(
    "g, sup_g, argmax",
    [
        (sympy.Abs(X - 1), 1 + PI, -PI),
        (sympy.sign(X) * X**2, PI**2, PI),
        (sympy.sin(X) / X, 1.0, 1e-3),
    ],
    ids=["w|x-1|", "w sign(x) x^2", "w sin(x)/x"],
)
def test_non_affine_encodings_get_the_attained_bound(g, sup_g, argmax):
    circuit, ansatz = _ry_encoding(W * g)
    bound = gradient_bound(ansatz)
    assert bound.bounded and bound.unbounded_reason is None
    assert bound.grad_norm_bound == pytest.approx(sup_g, rel=1e-6)
    # attained, simulated by Cirq: at x = argmax, w with w·g(x) = π/2
    g_value = float(g.subs(X, argmax))
    derivative = simulated_derivative(circuit, {"w": PI / 2 / g_value, "x": argmax}, "w", Z0, h=1e-6)
    assert abs(derivative) == pytest.approx(abs(g_value), rel=1e-5)
    assert abs(derivative) <= bound.grad_norm_bound + 1e-9
    # and never exceeded on a grid of (w, x)
    rng = np.random.default_rng(7)
    for w_value, x_value in zip(rng.uniform(-4, 4, 40), rng.uniform(-PI, PI, 40)):
        d = simulated_derivative(circuit, {"w": float(w_value), "x": float(x_value)}, "w", Z0)
        assert abs(d) <= bound.grad_norm_bound + 1e-7
    loss = loss_gradient_bound(ansatz, "hinge")
    assert loss.bounded and loss.value == pytest.approx(sup_g, rel=1e-6)


@pytest.mark.parametrize(
    "angle, domain, words",
    [
        (W / X, ((-1.0, 1.0),), ["1/(pi*x)", "x ∈ [-1.0, 1.0]"]),
        (W * sympy.tan(X), ((-PI, PI),), ["tan(x)/pi", f"x ∈ [{-PI}, {PI}]"]),
    ],
    ids=["w/x", "w tan x"],
)
def test_singular_encodings_are_reported_unbounded_with_a_reason(angle, domain, words):
    _, ansatz = _ry_encoding(angle, domain)
    bound = gradient_bound(ansatz)
    assert not bound.bounded and math.isinf(bound.grad_norm_bound)
    for word in words + ["∂t/∂w", "unbounded", "restrict the input domain or change the encoding"]:
        assert word in bound.unbounded_reason, f"{word!r} not in {bound.unbounded_reason}"
    data = json.loads(jsonio.dumps(bound.to_json()))  # privqml's JSON: an infinite bound is "inf"
    assert data["bounded"] is False and data["grad_norm_bound"] == "inf"
    assert jsonio.number(data["per_weight"]["w"]) == math.inf
    assert data["unbounded_reason"] == bound.unbounded_reason
    loss = loss_gradient_bound(ansatz, "bce_logits")
    assert not loss.bounded and loss.value is None and bound.unbounded_reason in loss.unbounded_reason
    assert loss.as_dict()["loss_bounded"] is False and loss.as_dict()["loss_grad_norm_bound"] is None


def test_bounded_record_says_so_in_json():
    _, ansatz = _ry_encoding(W * X)
    data = gradient_bound(ansatz).as_dict()
    assert data["bounded"] is True and data["unbounded_reason"] is None
    assert data["grad_norm_bound"] == pytest.approx(PI)


def test_unbounded_slot_pruned_by_the_light_cone_does_not_make_the_bound_infinite():
    circuit = cirq.Circuit(cirq.ry(W).on(Q0), cirq.ry(V / X).on(Q1))
    ansatz = Ansatz(circuit, (W, V), (X,), (Z0,), input_domain=((-1.0, 1.0),))
    bound = gradient_bound(ansatz)
    assert bound.bounded and bound.grad_norm_bound == pytest.approx(1.0) and bound.zero_weights == ("v",)


# -- symbolic global phase ----------------------------------------------------------------------
def test_symbolic_global_phase_is_accepted_and_contributes_nothing():
    phase = cirq.GlobalPhaseGate(sympy.exp(sympy.I * sympy.pi * V)).on()
    circuit = cirq.Circuit(cirq.ry(W).on(Q0), phase, cirq.rx(2 * V).on(Q0))
    ansatz = Ansatz(circuit, (W, V), (), (Z0,))
    reference = Ansatz(cirq.Circuit(cirq.ry(W).on(Q0), cirq.rx(2 * V).on(Q0)), (W, V), (), (Z0,))
    bound = gradient_bound(ansatz)
    assert bound.per_weight == pytest.approx(gradient_bound(reference).per_weight)
    assert bound.per_weight == {"w": pytest.approx(1.0), "v": pytest.approx(2.0)}
    # left out of the stored circuit, so Cirq's simulators (which cannot resolve it) run it too
    assert not any(not op.qubits for op in ansatz.circuit.all_operations())
    assert simulated_expectation(ansatz.circuit, {"w": 0.3, "v": 0.7}, Z0) == pytest.approx(
        math.cos(0.3) * math.cos(1.4), abs=1e-12
    )
    only_phase = Ansatz(cirq.Circuit(cirq.ry(W).on(Q0), phase), (W, V), (), (Z0,))
    assert gradient_bound(only_phase).per_weight == {"w": pytest.approx(1.0), "v": 0.0}
    assert gradient_bound(only_phase).zero_weights == ("v",)
    # Cirq's simulator refuses a symbolic global phase, so the truth is the circuit with the
    # phase evaluated to a complex number at each point (a finite difference in w and in v)
    def numeric_phase(w: float, v: float) -> float:
        phase_now = cirq.GlobalPhaseGate(complex(np.exp(1j * PI * v))).on()
        phased = cirq.Circuit(cirq.ry(w).on(Q0), phase_now, cirq.rx(2 * v).on(Q0))
        return simulated_expectation(phased, {}, Z0)

    h = 1e-5
    for w, v in ((0.3, 0.7), (-1.2, 2.1)):
        _, jacobian = expectations_and_jacobian(ansatz, [w, v])
        expected = [
            (numeric_phase(w + h, v) - numeric_phase(w - h, v)) / (2 * h),
            (numeric_phase(w, v + h) - numeric_phase(w, v - h)) / (2 * h),
        ]
        np.testing.assert_allclose(jacobian[0], expected, atol=1e-7)


# -- symbolic DiagonalGate ----------------------------------------------------------------------
def _diagonal_case():
    """H⊗H, then diag(e^{iφ_k}) with φ = (0, w, 0, 2w) + (0, 0, x, x)·v + constants, then H⊗H."""
    angles = [sympy.Float(0.3), W, X * V + 1, 2 * W + X * V]
    diagonal = cirq.DiagonalGate(angles).on(Q0, Q1)
    circuit = cirq.Circuit(cirq.H.on_each(Q0, Q1), diagonal, cirq.H.on_each(Q0, Q1))
    observable = cirq.PauliSum.wrap(cirq.Z(Q0) * cirq.Z(Q1)) + 0.5 * cirq.Z(Q1)
    return circuit, Ansatz(circuit, (W, V), (X,), (observable,), input_domain=((-1.0, 1.0),))


def test_diagonal_gate_is_exact_product_of_diagonal_eigengate_slots():
    circuit, ansatz = _diagonal_case()
    canonical = canonicalize(ansatz)
    diagonal_slots = [s for s in canonical.slots if s.strategy == "diagonal"]
    assert sorted(str(s.exponent) for s in diagonal_slots) == ["v*x/pi", "w/pi"]
    spreads = {str(s.exponent): s.spread for s in diagonal_slots}
    # generator per radian: diag(0, 1, 0, 2) for w (spread 2), diag(0, 0, 1, 1) for v·x (spread 1)
    assert spreads == {"w/pi": pytest.approx(2 * PI), "v*x/pi": pytest.approx(PI)}
    assert all(isinstance(s.operation.gate, DiagonalPhaseGate) for s in diagonal_slots)
    rng = np.random.default_rng(3)
    for _ in range(5):
        w, v, x = rng.uniform(-3, 3, 3)
        resolver = cirq.ParamResolver({"w": w, "v": v, "x": x})
        expected = cirq.unitary(cirq.resolve_parameters(circuit, resolver))
        rebuilt = cirq.unitary(cirq.resolve_parameters(canonical.circuit(), resolver))
        np.testing.assert_allclose(rebuilt, expected, atol=1e-12)


def test_diagonal_gate_top_frequency_equals_the_slot_spread():
    circuit, ansatz = _diagonal_case()
    observable = ansatz.observables[0]
    n = 64
    grid = 2 * PI * np.arange(n) / n
    samples = np.array([simulated_expectation(circuit, {"w": w, "v": 0.4, "x": 0.7}, observable) for w in grid])
    amplitudes = np.abs(np.fft.rfft(samples)) / n
    present = np.nonzero(amplitudes > 1e-9)[0]
    assert present.max() == 2  # frequencies in w: 0, 1, 2 (differences of diag(0, 1, 0, 2))
    (slot,) = [s for s in canonicalize(ansatz).slots if str(s.exponent) == "w/pi"]
    assert slot.spread / PI == pytest.approx(present.max())  # spread per radian of w = top frequency


def test_diagonal_gate_bound_holds_and_matches_the_exact_engines():
    circuit, ansatz = _diagonal_case()
    bound = gradient_bound(ansatz)
    # h = 1.5 (range of ZZ + 0.5 Z is [-1.5, 1.5]); w: spread 2; v: spread 1 · sup|x| = 1
    assert bound.per_weight["w"] <= 1.5 * 2 + 1e-9 and bound.per_weight["v"] <= 1.5 * 1 + 1e-9
    rng = np.random.default_rng(5)
    worst = 0.0
    for _ in range(30):
        w, v, x = rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-1, 1)
        values = {"w": w, "v": v, "x": x}
        observable = ansatz.observables[0]
        simulated = np.array([simulated_derivative(circuit, values, name, observable) for name in ("w", "v")])
        _, jacobian = expectations_and_jacobian(ansatz, [w, v], [x])
        np.testing.assert_allclose(jacobian[0], simulated, atol=1e-6)
        np.testing.assert_allclose(exact_gradient(ansatz)([w, v], [x])[1][0], simulated, atol=1e-6)
        assert abs(simulated[0]) <= bound.per_weight["w"] + 1e-7
        assert abs(simulated[1]) <= bound.per_weight["v"] + 1e-7
        worst = max(worst, float(np.linalg.norm(simulated)))
    assert worst <= bound.grad_norm_bound + 1e-7


def test_diagonal_gate_with_only_constants_and_a_common_phase():
    angles = [W + 0.1, W + 0.1, W - 0.2, W + 0.4]  # w is a global phase: no contribution
    circuit = cirq.Circuit(cirq.H.on_each(Q0, Q1), cirq.DiagonalGate(angles).on(Q0, Q1), cirq.H(Q1))
    ansatz = Ansatz(circuit, (W,), (), (cirq.PauliSum.wrap(cirq.X(Q0) * cirq.Z(Q1)),))
    bound = gradient_bound(ansatz)
    assert bound.per_weight == {"w": 0.0} and bound.zero_weights == ("w",)
    value = expectations_and_jacobian(ansatz, [0.8])[0][0]
    assert value == pytest.approx(simulated_expectation(circuit, {"w": 0.8}, ansatz.observables[0]), abs=1e-12)


def test_unbounded_reason_is_the_documented_example():
    # the example in GradientBound's docstring
    _, ansatz = _ry_encoding(W / X, ((-1.0, 1.0),))
    assert gradient_bound(ansatz).unbounded_reason == (
        "Ry(w/(pi*x)π)(q(0)): ∂t/∂w = 1/(pi*x) is unbounded on x ∈ [-1.0, 1.0]; "
        "restrict the input domain or change the encoding"
    )


def test_diagonal_gate_bound_is_tighter_than_through_cirqs_decomposition():
    circuit, ansatz = _diagonal_case()
    (diagonal,) = [op for op in circuit.all_operations() if isinstance(op.gate, cirq.DiagonalGate)]
    decomposed = cirq.Circuit(
        op if op is not diagonal else cirq.decompose_once(diagonal) for op in circuit.all_operations()
    )
    through_rz = Ansatz(decomposed, (W, V), (X,), ansatz.observables, input_domain=ansatz.input_domain)
    # Walsh–Hadamard rz angles of diag(0, 1, 0, 2)·w: spreads add to 2.5 per radian, against 2
    assert gradient_bound(ansatz, per_term=False).per_weight["w"] == pytest.approx(1.5 * 2.0)
    assert gradient_bound(through_rz, per_term=False).per_weight["w"] == pytest.approx(1.5 * 2.5)


def test_diagonal_gate_with_complex_angles_is_refused():
    circuit = cirq.Circuit(cirq.DiagonalGate([0, sympy.I * W]).on(Q0))
    with pytest.raises(UnsupportedGateError, match=r"diagonal gate .* is not unitary.*real angles") as info:
        gradient_bound(Ansatz(circuit, (W,), (), (Z0,)))
    assert str(info.value).count("real angles") == 1


def test_unsupported_operation_inside_a_decomposition_is_named_once():
    class Wrapper(cirq.Gate):
        def _num_qubits_(self):
            return 1

        def _decompose_(self, qubits):
            yield Mystery(W).on(qubits[0])

        def _is_parameterized_(self):
            return True

        def _parameter_names_(self):
            return {"w"}

        def _resolve_parameters_(self, resolver, recursive):
            return self

    circuit = cirq.Circuit(Wrapper().on(Q0))
    with pytest.raises(UnsupportedGateError) as info:
        gradient_bound(Ansatz(circuit, (W,), (), (Z0,)))
    message = str(info.value)
    assert "its decomposition contains _Mystery (Mystery(w)(q(0))), which no strategy accepts" in message
    assert message.count("Rewrite it with") == 1 and "\n" not in message
