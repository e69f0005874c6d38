"""Losses: closed forms and agreement with Keras' own losses (the conventions of privqml.models.losses)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from privqml.errors import ConfigError
from privqml.models.losses import check_loss, encode_labels, per_example_loss, predict_classes

F = np.array([[-0.9], [-0.2], [0.0], [0.4], [1.0]], np.float32)
Y = np.array([0, 1, 1, 0, 1])


def test_bce_logits_is_keras_binary_crossentropy_from_logits():
    scale = 2.5
    ours = per_example_loss("bce_logits", tf.constant(F), encode_labels("bce_logits", Y), scale).numpy()
    keras = tf.keras.losses.BinaryCrossentropy(from_logits=True, reduction="none")(
        Y.reshape(-1, 1).astype(np.float32), scale * F
    ).numpy()
    np.testing.assert_allclose(ours, keras, rtol=1e-5, atol=1e-6)


def test_mse_and_hinge_closed_forms_with_pm1_labels():
    y = 2 * Y - 1
    z = 3.0 * F[:, 0]
    np.testing.assert_allclose(per_example_loss("mse", tf.constant(F), encode_labels("mse", Y), 3.0).numpy(), (z - y) ** 2, rtol=1e-6)
    np.testing.assert_allclose(
        per_example_loss("hinge", tf.constant(F), encode_labels("hinge", Y), 3.0).numpy(), np.maximum(0, 1 - y * z), rtol=1e-6
    )


def test_bce_prob_clamped():
    p = np.clip((F[:, 0] + 1) / 2, 0.01, 0.99)
    expected = -(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    ours = per_example_loss("bce_prob", tf.constant(F), encode_labels("bce_prob", Y), 1.0, (-1.0, 1.0), clamp=0.01)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5)


def test_softmax_ce_is_keras_sparse_categorical_crossentropy():
    f = np.random.default_rng(0).uniform(-1, 1, (6, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 2, 1, 0])
    ours = per_example_loss("softmax_ce", tf.constant(f), encode_labels("softmax_ce", y), 1.7).numpy()
    keras = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(y, 1.7 * f).numpy()
    np.testing.assert_allclose(ours, keras, rtol=1e-5, atol=1e-6)
    assert predict_classes("softmax_ce", f).tolist() == np.argmax(f, axis=1).tolist()


def test_predictions_and_checks():
    assert predict_classes("bce_logits", F).tolist() == [0, 0, 0, 1, 1]
    assert predict_classes("bce_prob", F + 0.1, (-1.0, 1.0)).tolist() == [0, 0, 1, 1, 1]
    with pytest.raises(ConfigError):
        check_loss("softmax_ce", 1)
    with pytest.raises(ConfigError):
        check_loss("bce_logits", 3)
    with pytest.raises(ConfigError):
        check_loss("hinge", 1, n_classes=3)
    with pytest.raises(ConfigError):
        check_loss("cross_entropy", 1)
