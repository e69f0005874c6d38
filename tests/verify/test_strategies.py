"""The public Hypothesis strategies: valid ansätze that TFQ runs, values inside the declared domain,
coverage of the families the strategies promise (Google-native gates, sharing, affine angles,
Pauli sums with several terms, several observables), and corner points — weights on the
quarter-turn lattice, inputs at the ends of their intervals — that attain the bounds where they
are tight."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import sympy
from hypothesis import find, given, settings
from hypothesis import strategies as st

from privqml.theory import Ansatz, builtin_ansatz, canonicalize, gradient_bound, hea, native, parse_observables, reupload
from privqml.theory.exact.numeric import batch_expectations_and_jacobians
from privqml.verify.engine_base import angle_map
from privqml.theory.noise import NoiseModel
from privqml.verify.strategies import (
    ansatze,
    corner_inputs,
    corner_points,
    inputs_for,
    labels_for,
    lattice_values,
    noise_models,
    points,
    quarter_turns,
    shot_counts,
    weights_for,
)
from privqml.verify.tfq_engines import tfq_program
from tests.verify._cases import hypothesis_settings, shared_weights

SEEN: dict[str, int] = {}


def _note(key: str, condition: bool = True) -> None:
    if condition:
        SEEN[key] = SEEN.get(key, 0) + 1


def test_random_ansatze_are_valid_compile_for_tfq_and_cover_the_families():
    SEEN.clear()
    _draw_and_record()
    for family in ("FSimGate", "PhasedXZGate", "PhasedXPowGate", "ISwapPowGate", "shared weight", "affine w*x+b",
                   "pauli sum", "several observables", "re-uploading"):
        assert SEEN.get(family, 0) >= 1, (family, SEEN)


@hypothesis_settings(ci_examples=60)
@given(data=st.data())
def _draw_and_record(data):
    ansatz = data.draw(ansatze(max_qubits=3, max_observables=3, max_layers=3))
    assert isinstance(ansatz, Ansatz) and ansatz.n_weights >= 1
    tfq_program(ansatz)  # TFQ accepts every generated circuit
    canonicalize(ansatz)
    gates = {type(op.gate).__name__ for op in ansatz.circuit.all_operations()}
    _note("FSimGate", "FSimGate" in gates)
    _note("PhasedXZGate", "PhasedXZGate" in gates)
    _note("PhasedXPowGate", "PhasedXPowGate" in gates)
    _note("ISwapPowGate", "ISwapPowGate" in gates)
    uses = [cirq.parameter_names(op) for op in ansatz.circuit.all_operations()]
    names = [n for u in uses for n in u if n.startswith("w")]
    _note("shared weight", len(names) > len(set(names)))
    expressions = [v for op in ansatz.circuit.all_operations() for v in _parameters(op)]
    _note("affine w*x+b", any(_is_affine_product(e, ansatz) for e in expressions))
    _note("pauli sum", any(sum(1 for t in o if len(t)) >= 2 for o in ansatz.observables))
    _note("several observables", ansatz.n_outputs >= 2)
    _note("re-uploading", sum(1 for op in ansatz.circuit.all_operations()
                              if set(cirq.parameter_names(op)) & {s.name for s in ansatz.inputs}) > ansatz.n_qubits)


def _parameters(op):
    gate = op.gate
    return [v for v in vars(gate).values() if isinstance(v, sympy.Basic)] if gate is not None else []


def _is_affine_product(expression, ansatz) -> bool:
    free = expression.free_symbols
    return bool(free & set(ansatz.weights)) and bool(free & set(ansatz.inputs)) and expression.is_Add


@hypothesis_settings(ci_examples=40)
@given(data=st.data())
def test_points_lie_in_the_declared_domain_and_labels_in_the_label_set(data):
    ansatz = data.draw(ansatze(max_qubits=2))
    weights, inputs = data.draw(points(ansatz, max_batch=3))
    assert weights.shape[1] == ansatz.n_weights and inputs.shape == (weights.shape[0], ansatz.n_inputs)
    assert 1 <= weights.shape[0] <= 3
    ansatz.check_inputs(inputs)  # raises DomainError otherwise
    assert np.all(np.isfinite(weights))
    labels = data.draw(labels_for(ansatz, "mse", 4))
    assert set(labels.tolist()) <= {-1, 1}
    x = data.draw(inputs_for(ansatz))
    assert x.shape == (ansatz.n_inputs,)


@hypothesis_settings(ci_examples=30)
@given(model=noise_models(), shots=shot_counts(1, 500))
def test_noise_models_pair_depolarising_with_another_channel_and_shots_are_positive(model, shots):
    assert isinstance(model, NoiseModel) and model.channels[0][0] == "depolarize"
    assert model.channels[1][0] in ("amplitude_damp", "phase_damp", "bit_flip", "phase_flip")
    assert all(0.0 <= p <= 0.2 for _, p in model.channels)
    assert 1 <= shots <= 500


# ---------------------------------------------------------------------------------------
# corners and edges
# ---------------------------------------------------------------------------------------
def _names(ansatz) -> list[str]:
    return [w.name for w in ansatz.weights]


def test_quarter_turns_are_half_a_half_turn_of_the_fastest_slot():
    assert quarter_turns(hea(2, 1)) == pytest.approx([math.pi / 2] * 4)  # rx, ry, rz: t = θ/π
    # ry(w·x + b) with x ∈ [−π, π]: ∂t/∂w = x/π is 1 at the far corner, ∂t/∂b = 1/π
    assert dict(zip(_names(reupload(2, 1)), quarter_turns(reupload(2, 1)))) == pytest.approx(
        {"w0_0": 0.5, "b0_0": math.pi / 2, "rz0_0": math.pi / 2, "w0_1": 0.5, "b0_1": math.pi / 2, "rz0_1": math.pi / 2})
    # PhasedXZ exponents are half-turns already; FSim θ, φ are radians (t = θ/π)
    assert dict(zip(_names(native(2, 1)), quarter_turns(native(2, 1)))) == pytest.approx(
        {"px0_0": 0.5, "pz0_0": 0.5, "pa0_0": 0.5, "px0_1": 0.5, "pz0_1": 0.5, "pa0_1": 0.5,
         "th0_0": math.pi / 2, "ph0_0": math.pi / 2})
    # w0 in ry(w0), ry(2·w0·x0 + w2) (x0 ∈ [0, 1]), rx(−w0), ry(−1.5·w0·x1 + 0.3) (x1 ∈ [−2, 3]):
    # fastest |∂t/∂w0| = 1.5·3/π; w1 in XXPow(0.5·w1) and rz(w1 + x1): 0.5; w2: 1/π
    assert quarter_turns(shared_weights()) == pytest.approx([math.pi / 9, 1.0, math.pi / 2])
    q = cirq.LineQubit(0)
    w, x = sympy.symbols("w x")
    frozen = Ansatz(cirq.Circuit(cirq.ry(w * x).on(q)), (w,), (x,), parse_observables("Z0", (q,)),
                    input_domain=((0.0, 0.0),))
    assert quarter_turns(frozen) == pytest.approx([math.pi / 2])  # no slot moves with w there
    assert lattice_values(reupload(1, 1)) == pytest.approx(
        [(0.0, 0.5, 1.0, 1.5), (0.0, math.pi / 2, math.pi, 3 * math.pi / 2), (0.0, math.pi / 2, math.pi, 3 * math.pi / 2)])


@hypothesis_settings(ci_examples=30)
@given(data=st.data())
def test_corner_points_put_every_slot_angle_on_a_multiple_of_pi_over_2(data):
    ansatz = data.draw(st.sampled_from((hea(2, 2), reupload(2, 2), native(3, 2))))
    weights, inputs = data.draw(corner_points(ansatz))
    assert set(np.abs(inputs).tolist()) == {math.pi}  # every input at −π or π
    twice_t = 2 * angle_map(ansatz).values(weights[None, :], inputs[None, :])
    np.testing.assert_allclose(twice_t, np.round(twice_t), atol=1e-9)


@hypothesis_settings(ci_examples=30)
@given(data=st.data())
def test_points_end_with_the_requested_corner_rows(data):
    ansatz = shared_weights()  # domains [0, 1] and [−2, 3]
    weights, inputs = data.draw(points(ansatz, max_batch=2, corner_rows=3))
    assert 4 <= weights.shape[0] <= 5 and inputs.shape == (weights.shape[0], 2)
    lattice = lattice_values(ansatz)
    for w, x in zip(weights[-3:], inputs[-3:]):
        assert all(v in values for v, values in zip(w.tolist(), lattice))
        assert x[0] in (0.0, 1.0) and x[1] in (-2.0, 3.0)
    corner = data.draw(corner_inputs(ansatz))
    assert corner[0] in (0.0, 1.0) and corner[1] in (-2.0, 3.0)


def test_inputs_and_weights_cover_edges_as_well_as_the_interior():
    ansatz = reupload(2, 1)
    lattice = lattice_values(ansatz)
    counts = {"input at an end": 0, "input inside": 0, "weight on the lattice": 0, "weight off it": 0}

    @hypothesis_settings(ci_examples=40)
    @given(x=inputs_for(ansatz), w=weights_for(ansatz))
    def draw(x, w):
        for value in x.tolist():
            counts["input at an end" if abs(value) == math.pi else "input inside"] += 1
            assert -math.pi <= value <= math.pi
        for value, values in zip(w.tolist(), lattice):
            counts["weight on the lattice" if value in values else "weight off it"] += 1

    draw()
    assert all(n >= 5 for n in counts.values()), counts


def _per_weight_ratio(ansatz, bound, weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """[B] max_j |∂f_0/∂θ_j| / B_j (exact float64 gradients)."""
    _, jacobian = batch_expectations_and_jacobians(ansatz, weights, inputs)
    per_weight = np.asarray(list(bound.per_weight.values()))
    live = per_weight > 0
    return np.max(np.abs(jacobian[:, 0, live]) / per_weight[live], axis=-1)


def test_a_corner_point_attains_the_reupload_bound_that_only_the_domain_edge_reaches():
    """reupload(2, 1, Z0): f = cos(w0·x0 + b0), so |∂f/∂w0| = |x0 sin(w0·x0 + b0)| reaches its bound
    B = π only at |x0| = π with the angle at an odd multiple of π/2 — a corner point."""
    ansatz = reupload(2, 1, "Z0")
    bound = gradient_bound(ansatz)
    assert bound.per_weight["w0_0"] == pytest.approx(math.pi)

    def ratio_w0(weights, inputs) -> float:
        _, jacobian = batch_expectations_and_jacobians(ansatz, weights[None, :], inputs[None, :])
        return abs(float(jacobian[0, 0, 0])) / bound.per_weight["w0_0"]

    found = find(corner_points(ansatz), lambda p: ratio_w0(*p) >= 1 - 1e-12,
                 settings=settings(database=None, derandomize=True, max_examples=50))
    assert ratio_w0(*found) == pytest.approx(1.0, abs=1e-12) and abs(found[1][0]) == math.pi
    # strictly inside the domain the bound is out of reach: at |x0| = 0.9π at most 0.9 of it
    assert ratio_w0(np.array([0.0, math.pi / 2, 0, 0, 0, 0]), np.array([0.9 * math.pi, 0.0])) == pytest.approx(0.9)


@pytest.mark.parametrize("family,qubits,layers,observable", [
    ("hea", 2, 2, "Z0"), ("hea", 3, 1, "Z0*Z1"), ("reupload", 2, 1, "Z0"), ("reupload", 2, 2, "Z0*Z1"),
    ("native", 2, 1, "Z0*Z1"), ("native", 2, 2, "sumZ"),
])
def test_random_corner_points_attain_a_per_weight_bound_about_half_the_time(family, qubits, layers, observable):
    """The claim of :func:`lattice_values`: on the built-in grid a random lattice point with the
    inputs at a random corner attains max_j |∂f/∂θ_j| / B_j = 1 in 41–96 % of draws (here six
    configurations, 200 draws each: 47–65 %)."""
    ansatz = builtin_ansatz(family, n_qubits=qubits, n_layers=layers, observable=observable)
    rng = np.random.default_rng(0)
    lattice = np.asarray(lattice_values(ansatz))  # [P, 4]
    weights = lattice[np.arange(ansatz.n_weights), rng.integers(0, 4, size=(200, ansatz.n_weights))]
    inputs = np.where(rng.integers(0, 2, size=(200, ansatz.n_inputs)) == 1, math.pi, -math.pi)
    ratios = _per_weight_ratio(ansatz, gradient_bound(ansatz), weights, inputs)
    assert ratios.max() == pytest.approx(1.0, abs=1e-12)
    assert 0.35 <= np.mean(ratios >= 1 - 1e-12) <= 0.99
