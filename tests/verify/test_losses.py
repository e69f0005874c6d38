"""Per-example loss gradients: chain rule against finite differences and against Keras' losses."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from privqml.errors import DataError
from privqml.theory import hea
from privqml.theory.exact.numeric import batch_expectations_and_jacobians
from privqml.verify.engines import gradients
from privqml.verify.losses import dloss_dvalues, loss_gradients
from tests.verify._cases import points_for


def _loss(values, ansatz, loss, labels, clamp=None):
    s = ansatz.readout.scale
    z = s * values
    if loss == "bce_logits":
        return np.logaddexp(0.0, z[:, 0]) - labels * z[:, 0]
    if loss == "mse":
        return (z[:, 0] - labels) ** 2
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - labels * z[:, 0])
    if loss == "bce_prob":
        p = np.clip((values[:, 0] + 1.0) / 2.0, clamp, 1 - clamp)
        return -labels * np.log(p) - (1 - labels) * np.log(1 - p)
    z = z - z.max(axis=1, keepdims=True)
    return -(z[np.arange(len(labels)), labels] - np.log(np.exp(z).sum(axis=1)))


@pytest.mark.parametrize("loss,labels,observable", [
    ("bce_logits", [0, 1, 1], "Z0"),
    ("mse", [-1, 1, -1], "Z0"),
    ("hinge", [1, -1, 1], "Z0"),
    ("bce_prob", [1, 0, 1], "Z0"),
    ("softmax_ce", [0, 2, 1], "Z0,Z1,Z2"),
])
def test_loss_gradient_matches_central_differences(loss, labels, observable):
    ansatz = hea(3, 1, observable, scale=2.0)
    weights, inputs = points_for(ansatz, batch=3, seed=7)
    labels = np.asarray(labels)
    clamp = 0.05 if loss == "bce_prob" else None
    result = gradients("numeric", ansatz, weights, inputs)
    analytic = loss_gradients(result, ansatz, loss, labels, clamp)
    h = 1e-6
    numeric = np.zeros_like(analytic)
    for j in range(ansatz.n_weights):
        step = np.zeros(ansatz.n_weights)
        step[j] = h
        up, _ = batch_expectations_and_jacobians(ansatz, weights + step, inputs)
        down, _ = batch_expectations_and_jacobians(ansatz, weights - step, inputs)
        numeric[:, j] = (_loss(up, ansatz, loss, labels, clamp) - _loss(down, ansatz, loss, labels, clamp)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)
    assert np.abs(analytic).max() > 1e-2


@pytest.mark.parametrize("name,keras_loss,labels", [
    ("bce_logits", tf.keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum"), [0.0, 1.0, 1.0]),
    ("mse", tf.keras.losses.MeanSquaredError(reduction="sum"), [-1.0, 1.0, -1.0]),
    ("hinge", tf.keras.losses.Hinge(reduction="sum"), [1.0, -1.0, 1.0]),
])
def test_binary_loss_derivatives_are_keras_conventions(name, keras_loss, labels):
    ansatz = hea(2, 1, scale=1.5)
    values = np.asarray([[0.3], [-0.8], [0.95]])
    z = tf.constant(1.5 * values)
    with tf.GradientTape() as tape:
        tape.watch(z)
        total = keras_loss(tf.constant(np.asarray(labels)[:, None]), z)
    dz = tape.gradient(total, z).numpy()
    np.testing.assert_allclose(dloss_dvalues(values, ansatz, name, labels), 1.5 * dz, atol=1e-6)


def test_softmax_ce_derivative_is_keras_sparse_categorical_crossentropy():
    ansatz = hea(3, 1, "Z0,Z1,Z2", scale=3.0)
    values = np.asarray([[0.1, -0.4, 0.9], [0.5, 0.5, -1.0]])
    labels = np.asarray([2, 0])
    z = tf.constant(3.0 * values)
    with tf.GradientTape() as tape:
        tape.watch(z)
        total = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")(labels, z)
    np.testing.assert_allclose(dloss_dvalues(values, ansatz, "softmax_ce", labels), 3.0 * tape.gradient(total, z).numpy(),
                               atol=1e-6)


def test_labels_outside_the_label_set_are_rejected():
    ansatz = hea(2, 1)
    with pytest.raises(DataError, match="labels for loss='mse' must lie in"):
        dloss_dvalues(np.zeros((2, 1)), ansatz, "mse", [0, 1])
