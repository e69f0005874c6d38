"""The public Hypothesis strategies: valid ansätze that TFQ runs, values inside the declared domain,
and coverage of the families the strategies promise (Google-native gates, sharing, affine angles,
Pauli sums with several terms, several observables)."""

from __future__ import annotations

import cirq
import numpy as np
import sympy
from hypothesis import given
from hypothesis import strategies as st

from privqml.theory import Ansatz, canonicalize
from privqml.verify.noise import NoiseModel
from privqml.verify.strategies import ansatze, inputs_for, labels_for, noise_models, points, shot_counts
from privqml.verify.tfq_engines import tfq_program
from tests.verify._cases import hypothesis_settings

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
