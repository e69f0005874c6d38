"""Classical baselines: the matching rule, the shared readout, and Keras as an oracle for the MLP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from privqml.models.classical import (
    LinearModel,
    MLPModel,
    matched_classical,
    matched_feature_count,
    matched_hidden_width,
)
from privqml.models.quantum import quantum_model


@pytest.mark.parametrize("p,f,c", [(16, 4, 1), (32, 8, 1), (36, 4, 1), (16, 4, 3), (7, 4, 1), (200, 10, 10)])
def test_matching_rule_is_the_closest_count_from_below(p, f, c):
    h = matched_hidden_width(p, f, c)
    count = lambda h: h * (f + 1 + c) + c  # noqa: E731
    assert h >= 1
    assert count(h) <= p or h == 1
    assert count(h + 1) > p
    m = matched_feature_count(p, c)
    assert m >= 1 and (c * (m + 1) <= p or m == 1) and c * (m + 2) > p


def test_matched_models_share_loss_readout_and_size():
    reference = quantum_model("hea", n_qubits=4, n_layers=2, scale=1.5)
    for family, expected_weights in (("mlp", 13), ("linear", 16), ("logistic", 5)):
        model = matched_classical(family, reference, seed=0)
        assert model.n_weights == expected_weights <= reference.n_weights
        assert (model.loss, model.scale, model.output_ranges) == (reference.loss, reference.scale, reference.output_ranges)
        assert model.input_domain == reference.input_domain
        assert model.describe()["matched_to"] == reference.name


def test_mlp_equals_the_keras_model_with_the_same_weights():
    model = MLPModel(4, 1, hidden=3, output_ranges=((-1.0, 1.0),), scale=2.0,
                     input_domain=((-math.pi, math.pi),) * 4, loss="bce_logits", seed=1)
    weights = model.weights.numpy()
    keras = tf.keras.Sequential([
        tf.keras.Input(shape=(4,)), tf.keras.layers.Dense(3, activation="tanh"), tf.keras.layers.Dense(1, activation="tanh"),
    ])
    w1, b1, w2, b2 = np.split(weights, np.cumsum([12, 3, 3]))
    keras.set_weights([w1.reshape(4, 3), b1, w2.reshape(3, 1), b2])
    x = np.random.default_rng(0).uniform(-3, 3, (6, 4)).astype(np.float32)
    np.testing.assert_allclose(model.outputs(model.weights, x).numpy(), keras(x).numpy(), atol=1e-6)


def test_readout_saturates_to_the_observable_range():
    model = LinearModel(2, 1, n_random_features=3, output_ranges=((-0.5, 2.0),), scale=1.0,
                        input_domain=((-1.0, 1.0),) * 2, loss="bce_logits", seed=0)
    x = np.zeros((1, 2), np.float32)
    phi = model.features(x).numpy()[0]
    big = np.concatenate([1e3 * np.sign(phi), [0.0]]).astype(np.float32)
    np.testing.assert_allclose(model.outputs(big, x).numpy(), [[2.0]], atol=1e-6)
    np.testing.assert_allclose(model.outputs(-big, x).numpy(), [[-0.5]], atol=1e-6)
    np.testing.assert_allclose(model.outputs(np.zeros(4, np.float32), x).numpy(), [[0.75]], atol=1e-6)
    again = LinearModel(2, 1, 3, ((-0.5, 2.0),), 1.0, ((-1.0, 1.0),) * 2, "bce_logits", seed=0)
    np.testing.assert_array_equal(again.frequencies.numpy(), model.frequencies.numpy())
