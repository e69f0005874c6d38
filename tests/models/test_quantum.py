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
    from privqml.models.privacy.dpsgd import per_example_gradients
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


def _controlled_ansatz():
    """Controlled parametrised rotations (one on control value 0) between trainable layers."""
    import sympy

    from privqml.theory import Ansatz, parse_observables

    q = cirq.LineQubit.range(3)
    a, b, c, d, x = sympy.symbols("a b c d x")
    circuit = cirq.Circuit(
        cirq.rx(x).on(q[0]), cirq.H.on_each(*q[1:]),
        cirq.ry(a).on(q[1]).controlled_by(q[0]),
        (cirq.Z**b).on(q[2]).controlled_by(q[0], q[1], control_values=[0, 1]),
        cirq.ControlledGate(cirq.XPowGate(exponent=c, global_shift=-0.5)).on(q[2], q[0]),
        cirq.ry(d).on(q[1]),
    )
    return Ansatz(circuit, (a, b, c, d), (x,), parse_observables("X1 + Z0 + Y2", q), name="controlled")


def test_controlled_parametrised_gates_run_on_tfq_and_match_the_exact_engine():
    """The theory canonicalises C-U(θ) into one EigenGate slot; TFQ gets it back as a ControlledGate
    and its values and adjoint gradients agree with the float64 engine (float32 tolerance)."""
    from privqml.models.tfq_circuit import compile_ansatz, expectation
    from privqml.theory import gradient_bound
    from privqml.theory.exact.numeric import expectations_and_jacobian

    ansatz = _controlled_ansatz()
    compiled = compile_ansatz(ansatz)
    assert sum(isinstance(op.gate, cirq.ControlledGate) for op in compiled.circuit.all_operations()) == 3
    rng = np.random.default_rng(5)
    bound = gradient_bound(ansatz).grad_norm_bound
    import tensorflow_quantum as tfq

    for _ in range(4):
        w = rng.uniform(-math.pi, math.pi, 4)
        x = rng.uniform(-math.pi, math.pi, (1, 1))
        weights = tf.Variable(w.astype(np.float32))
        with tf.GradientTape() as tape:
            f = expectation(compiled, weights, tf.constant(x, tf.float32), tfq.differentiators.Adjoint())
        grad = tape.gradient(f, weights).numpy()
        f_ref, jac_ref = expectations_and_jacobian(ansatz, w, x[0])
        np.testing.assert_allclose(f.numpy()[0], f_ref, atol=2e-5)
        np.testing.assert_allclose(grad, jac_ref[0], atol=2e-4)
        assert np.linalg.norm(jac_ref[0]) <= bound + 1e-9


def test_a_controlled_gate_tfq_lacks_is_named():
    import sympy

    from privqml.errors import UnsupportedGateError
    from privqml.models.tfq_circuit import compile_ansatz
    from privqml.theory import Ansatz, parse_observables

    q = cirq.LineQubit.range(4)
    w = sympy.Symbol("w")
    # built directly: CCZPow(w).controlled_by(q0) would simplify to a supported C-C-C-Z**w
    circuit = cirq.Circuit(cirq.H.on_each(*q), cirq.ControlledGate(cirq.CCZPowGate(exponent=w)).on(*q))
    ansatz = Ansatz(circuit, (w,), (), parse_observables("X0", q))
    with pytest.raises(UnsupportedGateError, match="CCZPowGate"):
        compile_ansatz(ansatz)


def test_shot_models_refuse_controlled_rotations_parameter_shift_gets_wrong():
    """TFQ's ParameterShift is wrong for C-Rx (measured: -1.857 vs exact -1.313), so a shot model
    of such an ansatz is refused with the reason; the analytic (Adjoint) model is accepted."""
    from privqml.errors import UnsupportedGateError
    from privqml.models.tfq_circuit import compile_ansatz, parameter_shift_problem

    ansatz = _controlled_ansatz()
    assert "controlled gate" in parameter_shift_problem(compile_ansatz(ansatz).canonical)
    assert parameter_shift_problem(compile_ansatz(hea(2, 1, "Z0")).canonical) is None
    with pytest.raises(UnsupportedGateError, match="ParameterShift is not exact.*analytically"):
        QuantumModel(ansatz, shots=100)
    assert QuantumModel(ansatz).differentiator_class.__name__ == "Adjoint"


def test_verify_runs_a_controlled_ansatz_on_the_engines_that_are_exact_for_it():
    """pshift/shots/noisy decline the controlled ansatz with the reason; adjoint and numeric check it."""
    from privqml.verify import get_engine, verify_ansatz

    ansatz = _controlled_ansatz()
    for name in ("pshift", "shots", "noisy"):
        assert "use adjoint, fd or numeric" in get_engine(name).declines(ansatz)
    assert get_engine("adjoint").declines(ansatz) is None
    report = verify_ansatz(ansatz, engines="adjoint,pshift,shots,numeric", examples=4,
                           properties=("per_weight", "shots", "agree"))
    assert report.passed
    by_name = {p.name: p for p in report.properties}
    assert by_name["shots"].examples == 0 and "ParameterShift" in by_name["shots"].skipped
    assert dict(by_name["agree"].max_ratio_by_engine).keys() == {"adjoint"}


# -- engines ---------------------------------------------------------------------------------------
def test_the_vectorised_engine_gives_the_tfq_models_per_example_gradients():
    """Same ansatz, same weights, same batch: per-example losses and gradients of the DP step's fast path agree
    to float32 tolerance (TFQ's float32 adjoint itself errs by ~2e-5 per unit of spread)."""
    from privqml.models.privacy.dpsgd import per_example_gradients

    rng = np.random.default_rng(4)
    x = rng.uniform(-np.pi, np.pi, size=(16, 4)).astype(np.float32)
    labels = rng.integers(0, 2, size=16)
    tfq_model = quantum_model("hea", n_qubits=4, n_layers=2, seed=2, engine="tfq")
    vec_model = quantum_model("hea", n_qubits=4, n_layers=2, seed=2, engine="vectorised")
    np.testing.assert_array_equal(tfq_model.weights.numpy(), vec_model.weights.numpy())
    g_tfq, l_tfq = per_example_gradients(tfq_model, x, labels)
    g_vec, l_vec = per_example_gradients(vec_model, x, labels)
    np.testing.assert_allclose(l_vec, l_tfq, atol=2e-5)
    np.testing.assert_allclose(g_vec, g_tfq, atol=2e-4)
    assert np.max(np.abs(g_tfq)) > 0.05  # not a vacuous comparison of zeros
    assert vec_model.describe()["engine"]["engine"] == "vectorised"
    assert tfq_model.describe()["engine"] == {"engine": "tfq", "chosen": "tfq (given)"}


def test_a_noisy_model_on_the_vectorised_engine_is_exact_and_keeps_the_exact_bound():
    model = quantum_model("hea", n_qubits=2, n_layers=1, noise=0.05, engine="vectorised")
    assert model.trajectories is None and model.describe()["engine"]["simulation"] == "density matrix"
    sampled = quantum_model("hea", n_qubits=2, n_layers=1, noise=0.05, engine="tfq")  # trajectories: the sampled bound
    assert model.loss_gradient_bound().value <= sampled.loss_gradient_bound().value


@pytest.mark.parametrize("kwargs, needle", [
    (dict(engine="qiskit"), "engine='qiskit' is not a known simulation engine"),
    (dict(engine="vectorised", shots=100), "engine='vectorised' computes exact expectations"),
])
def test_engine_choices_are_checked(kwargs, needle):
    with pytest.raises(ConfigError, match=needle):
        quantum_model("hea", n_qubits=2, n_layers=1, **kwargs)


@pytest.mark.parametrize(("kwargs", "engine", "reason"), [
    (dict(n_qubits=4), "vectorised", "4 qubits <= 16"),
    (dict(n_qubits=17, n_layers=1), "tfq", "17 qubits > 16"),
    (dict(n_qubits=3, noise=0.01), "vectorised", "exact density matrices"),
    (dict(n_qubits=11, n_layers=1, noise=0.01), "tfq", "density-matrix (the circuit has noise channels) limit of 10"),
    (dict(n_qubits=3, shots=100), "tfq", "shots=100"),
    (dict(n_qubits=3, noise=0.01, trajectories=20), "tfq", "trajectories=20"),
])
def test_auto_picks_the_faster_engine_for_the_size_and_records_why(kwargs, engine, reason):
    model = quantum_model("hea", **kwargs)
    described = model.describe()["engine"]
    assert described["engine"].startswith(engine) and reason in described["chosen"]
    assert described["chosen"].startswith("auto: ")
