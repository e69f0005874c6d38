"""Quantum models: TFQ outputs against Cirq (analytic, noisy, finite shots); the bound they expose."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import tensorflow as tf

from privqml.errors import ConfigError
from privqml.models.quantum import QuantumModel, quantum_model, with_depolarizing
from privqml.theory import hea, loss_gradient_bound


def _cirq_expectations(ansatz, weights, x, noisy=False):
    simulator = cirq.DensityMatrixSimulator(dtype=np.complex128) if noisy else cirq.Simulator(dtype=np.complex128)
    return np.array([
        np.real(simulator.simulate_expectation_values(ansatz.circuit, list(ansatz.observables), ansatz.resolver(weights, row)))
        for row in x
    ])


@pytest.mark.parametrize("family,n_classes", [("hea", 2), ("reupload", 2), ("native", 2), ("hea", 3)])
def test_analytic_outputs_match_cirq(family, n_classes):
    model = quantum_model(family, n_classes=n_classes, n_qubits=3, n_layers=2, seed=2)
    x = np.random.default_rng(0).uniform(-math.pi, math.pi, (4, model.n_features))
    ours = model.outputs(model.weights, tf.constant(x, tf.float32)).numpy()
    np.testing.assert_allclose(ours, _cirq_expectations(model.ansatz, model.weights.numpy(), x), atol=2e-5)


def test_depolarizing_after_every_gate_layer():
    ansatz = hea(3, 1, "Z0")
    noisy = with_depolarizing(ansatz, 0.05)
    assert len(noisy.circuit) == 2 * len(ansatz.circuit)
    channels = [op for op in noisy.circuit.all_operations() if isinstance(op.gate, cirq.DepolarizingChannel)]
    assert len(channels) == len(ansatz.circuit) * 3
    assert with_depolarizing(ansatz, 0.0) is ansatz
    with pytest.raises(ConfigError):
        with_depolarizing(ansatz, 0.9)


def test_noisy_trajectories_estimate_the_density_matrix_expectation():
    """Mean of T trajectories vs the exact channel output: |error| <= 5 / sqrt(T) (each in [-1, 1])."""
    trajectories = 400
    model = quantum_model("hea", n_qubits=3, n_layers=1, noise=0.05, trajectories=trajectories, seed=1)
    assert model.compiled.noisy and model.differentiator_class.__name__ == "ParameterShift"
    x = np.random.default_rng(1).uniform(-1.5, 1.5, (3, 3))
    ours = model.outputs(model.weights, tf.constant(x, tf.float32)).numpy()
    exact = _cirq_expectations(model.ansatz, model.weights.numpy(), x, noisy=True)
    noiseless = _cirq_expectations(hea(3, 1, "Z0"), model.weights.numpy(), x)
    assert np.max(np.abs(exact - noiseless)) > 0.02  # the noise is visible
    assert np.max(np.abs(ours - exact)) <= 5 / math.sqrt(trajectories)


def test_finite_shots_estimate_the_expectation():
    """Mean of N shots of a ±1 outcome: |error| <= 5 / sqrt(N)."""
    shots = 2000
    model = quantum_model("hea", n_qubits=3, n_layers=1, shots=shots, seed=3)
    x = np.random.default_rng(2).uniform(-1.5, 1.5, (4, 3))
    ours = model.outputs(model.weights, tf.constant(x, tf.float32)).numpy()
    exact = _cirq_expectations(model.ansatz, model.weights.numpy(), x)
    assert np.max(np.abs(ours - exact)) <= 5 / math.sqrt(shots)
    assert np.max(np.abs(ours - exact)) > 0  # really sampled
    with pytest.raises(ConfigError):
        quantum_model("hea", shots=0)


def test_model_exposes_its_ansatz_and_the_theory_bound():
    model = quantum_model("hea", n_qubits=4, n_layers=2, scale=2.0, seed=0)
    expected = loss_gradient_bound(model.ansatz, "bce_logits").value
    assert model.loss_gradient_bound().value == pytest.approx(expected)
    assert model.n_weights == model.ansatz.n_weights == 16
    assert model.scale == 2.0 and model.output_ranges == ((-1.0, 1.0),)
    assert isinstance(model, QuantumModel) and model.describe()["n_qubits"] == 4
    multi = quantum_model("hea", n_classes=3)
    assert multi.loss == "softmax_ce" and multi.n_outputs == 3
    with pytest.raises(ConfigError):
        quantum_model("hea", n_classes=5, n_qubits=4)


def test_compiled_circuit_is_usable_from_several_tf_functions():
    """Regression: the first call inside a tf.function must not cache a graph-local tensor."""
    from privqml.models.tfq_circuit import compile_ansatz, expectation

    compiled = compile_ansatz(hea(2, 1, "Z0"))
    x = tf.constant([[0.1, 0.2]], tf.float32)
    w = tf.constant(np.linspace(-1, 1, 4), tf.float32)
    first = tf.function(lambda: expectation(compiled, w, x))()
    second = tf.function(lambda: expectation(compiled, w, x) * 1.0)()
    np.testing.assert_allclose(first.numpy(), second.numpy())
    np.testing.assert_allclose(first.numpy(), expectation(compiled, w, x).numpy())
    with pytest.raises(ConfigError, match="trajectories"):
        expectation(compile_ansatz(with_depolarizing(hea(2, 1, "Z0"), 0.1)), w, x)


def test_shot_models_clip_at_the_sampled_bound_which_every_estimate_obeys():
    """1-shot parameter-shift estimates exceed the exact (pruned) bound but not the sampled one."""
    from privqml.models.dpsgd import per_example_gradients
    from privqml.theory import loss_gradient_bound

    model = quantum_model("hea", n_qubits=4, n_layers=2, shots=1, seed=0)
    sampled = model.loss_gradient_bound()
    exact = loss_gradient_bound(model.ansatz, model.loss)
    assert sampled.value > exact.value
    rng = np.random.default_rng(0)
    x = rng.uniform(-math.pi, math.pi, (128, model.n_features)).astype(np.float32)
    grads, _ = per_example_gradients(model, x, rng.integers(0, 2, 128))
    norms = np.linalg.norm(grads, axis=1)
    assert norms.max() <= sampled.value + 1e-5
    assert norms.max() > exact.value  # the exact bound would not do for estimates
