"""privqml.keras: a Keras model built the usual way (a tfq.layers.PQC, or Dense layers) trains privately through
the trainer, computes what its privqml Model computes, and gets the released weights back."""

from __future__ import annotations

import json

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf
import tensorflow_quantum as tfq

from privqml import api
from privqml import keras as pk
from privqml.errors import ConfigError
from privqml.models.data import Dataset

QUBITS = cirq.GridQubit.rect(1, 2)
X0, X1, A, B = sympy.symbols("x0 x1 a b")
ENCODING = cirq.Circuit(cirq.rx(X0).on(QUBITS[0]), cirq.rx(X1).on(QUBITS[1]))


def _pqc_model(repetitions=None, seed=1):
    circuit = cirq.Circuit(cirq.ry(A).on(QUBITS[0]), cirq.CNOT(*QUBITS), cirq.ry(B).on(QUBITS[0]),
                           cirq.rz(A).on(QUBITS[1]))
    pqc = tfq.layers.PQC(circuit, [cirq.Z(QUBITS[0])], repetitions=repetitions,
                         initializer=tf.keras.initializers.RandomUniform(-3, 3, seed=seed))
    return tf.keras.Sequential([tf.keras.Input(shape=(), dtype=tf.string), pqc]), pqc


def _data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, (n, 2))
    return x, (np.cos(x[:, 0]) > 0).astype(int)


def test_a_pqc_model_is_the_privqml_model_of_encoding_plus_circuit():
    keras_model, pqc = _pqc_model()
    model = pk.make_private(keras_model, encoding=ENCODING)
    x, _ = _data(40, 0)
    assert model.family == "quantum" and model.n_weights == 2 and model.n_features == 2
    np.testing.assert_allclose(model.weights.numpy(), pqc.get_weights()[0])
    np.testing.assert_allclose(keras_model(pk.encode(ENCODING, x)).numpy(), model.predict_outputs(x), atol=2e-6)
    assert model.loss_gradient_bound().value > 0  # clip='bound' has a bound to use


def test_fit_equals_the_trainer_in_simulation_mode_and_writes_the_weights_back(tmp_path):
    x, y = _data(160, 1)
    xv, yv = _data(80, 2)
    keras_model, pqc = _pqc_model()
    start = pqc.get_weights()[0].copy()
    result = pk.fit(keras_model, x, y, validation_data=(xv, yv), encoding=ENCODING, epsilon=2.0, epochs=2,
                    simulation_seed=4, out=tmp_path / "run")
    # the same model given to the trainer directly, from the same start, same data and simulation seed
    twin = pk.make_private(_pqc_model()[0], encoding=ENCODING)
    twin.weights.assign(start)
    data = Dataset(name="keras arrays", x_train=x, y_train=y, x_test=xv, y_test=yv, n_classes=2,
                   feature_domain=twin.input_domain, preprocessing="none (declared by the caller of privqml.keras.fit)")
    direct = api.train(twin, "keras arrays", epsilon=2.0, epochs=2, simulation_seed=4, data=data, loss=twin.loss)
    assert np.array_equal(np.asarray(result.final_weights), np.asarray(direct.final_weights))
    assert result.test_accuracy == direct.test_accuracy
    assert result.privacy.epsilon_rdp == direct.privacy.epsilon_rdp <= 2.0
    assert 0 < result.privacy.epsilon_pld < result.privacy.epsilon_rdp  # both accountants reported
    assert result.clip_source.startswith("bound") and result.clip == pytest.approx(direct.clip)
    # the Keras model holds the released weights and predicts what the record says
    np.testing.assert_array_equal(pqc.get_weights()[0], np.asarray(result.final_weights, np.float32))
    predicted = (keras_model(pk.encode(ENCODING, xv)).numpy()[:, 0] > 0).astype(int)
    assert np.mean(predicted == yv) == pytest.approx(result.test_accuracy)
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["guarantee"]["epsilon_rdp"] == pytest.approx(result.privacy.epsilon_rdp)
    assert record["guarantee"]["randomness"]["mode"] == "simulation"
    assert not np.array_equal(start, pqc.get_weights()[0])


def test_a_sampled_pqc_trains_with_its_repetitions_as_shots():
    keras_model, _ = _pqc_model(repetitions=50)
    model = pk.make_private(keras_model, encoding=ENCODING)
    assert model.shots == 50 and model.describe()["shots"] == 50


def test_a_dense_model_is_its_privqml_model_and_needs_a_numeric_clip():
    keras_model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(4, activation="tanh"),
                                       tf.keras.layers.Dense(1)])
    model = pk.make_private(keras_model)
    x, y = _data(120, 3)
    xv, yv = _data(60, 4)
    assert model.family == "classical" and model.n_weights == 17
    np.testing.assert_allclose(keras_model(x.astype(np.float32)).numpy(), model.predict_outputs(x), atol=1e-5)
    # per-example weights [B, P] give each row its own model (the fast path's contract)
    rows = np.tile(model.weights.numpy(), (3, 1))
    rows[1] += 0.5
    shared = model.outputs(tf.constant(rows[1]), tf.constant(x[:3], tf.float32)).numpy()
    batched = model.outputs(tf.constant(rows), tf.constant(x[:3], tf.float32)).numpy()
    np.testing.assert_allclose(batched[1], shared[1], atol=1e-6)
    with pytest.raises(ConfigError, match="clip"):
        pk.fit(keras_model, x, y, validation_data=(xv, yv), epsilon=2.0, epochs=1)
    result = pk.fit(keras_model, x, y, validation_data=(xv, yv), epsilon=2.0, epochs=2, clip=1.0)
    assert result.clip == 1.0 and np.isfinite(result.privacy.epsilon_pld)
    np.testing.assert_allclose(keras_model(x.astype(np.float32)).numpy(),
                               pk.make_private(keras_model).predict_outputs(x), atol=1e-5)
    np.testing.assert_array_equal(pk.make_private(keras_model).weights.numpy(),
                                  np.asarray(result.final_weights, np.float32))


@pytest.mark.parametrize("build,options,match", [
    (lambda: tf.keras.Sequential([tf.keras.Input(shape=(), dtype=tf.string), tfq.layers.PQC(
        cirq.Circuit(cirq.ry(A).on(QUBITS[0])), cirq.Z(QUBITS[0])), tf.keras.layers.Dense(1)]), {"encoding": ENCODING},
     "besides its PQC"),
    (lambda: _pqc_model()[0], {}, "encoding="),
    (lambda: _pqc_model()[0], {"encoding": cirq.Circuit(cirq.rx(A).on(QUBITS[0]))}, "both features"),
    (lambda: tf.keras.Sequential([tf.keras.Input(shape=(4, 1)), tf.keras.layers.Conv1D(2, 2)]), {}, "Conv1D"),
    (lambda: tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(2, activation="softmax")]), {},
     "softmax belongs in the loss"),
    (lambda: tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)]), {"loss": "bce_prob"},
     "bounded output"),
])
def test_what_cannot_be_trained_is_refused_in_one_line(build, options, match):
    with pytest.raises(ConfigError, match=match) as refused:
        pk.make_private(build(), **options)
    assert "\n" not in str(refused.value)
