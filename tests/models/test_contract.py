"""The contract every model family inherits (privqml.models.base): ranges, tiling, per-example grads.

Each family is held to three properties:
1. outputs lie in the declared observable ranges, also at the corners of the public domain;
2. per-example weights [B, P] with identical rows give the same outputs as shared weights [P];
3. the fast per-example gradients (tiled weights, one backward pass) equal TensorFlow's Jacobian
   of the per-example losses with respect to the shared weight variable (an independent route).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from privqml.models.privacy.dpsgd import per_example_gradients
from privqml.models.zoo import build_model

CASES = [
    ("hea", 2),
    ("reupload:n_qubits=3,n_layers=2", 2),
    ("native:n_qubits=3,n_layers=1", 2),
    ("hea:n_qubits=3,n_layers=1", 3),
    ("mlp", 2),
    ("linear", 2),
    ("logistic", 2),
    ("mlp:n_qubits=3,n_layers=1", 3),
]


@pytest.fixture(scope="module", params=CASES, ids=[f"{s}-K{k}" for s, k in CASES])
def model_and_batch(request):
    spec, n_classes = request.param
    model = build_model(spec, n_classes=n_classes, seed=4)
    rng = np.random.default_rng(9)
    lo = np.array([d[0] for d in model.input_domain])
    hi = np.array([d[1] for d in model.input_domain])
    corners = np.where(rng.random((3, model.n_features)) < 0.5, lo, hi)
    x = np.vstack([rng.uniform(lo, hi, size=(5, model.n_features)), corners]).astype(np.float32)
    y = rng.integers(0, n_classes, size=len(x))
    return model, x, y


def test_outputs_stay_in_the_observable_ranges(model_and_batch):
    model, x, _ = model_and_batch
    rng = np.random.default_rng(1)
    for _ in range(3):
        weights = rng.normal(scale=3.0, size=model.n_weights).astype(np.float32)
        f = model.outputs(tf.constant(weights), tf.constant(x)).numpy()
        assert f.shape == (len(x), model.n_outputs)
        for c, (lo, hi) in enumerate(model.output_ranges):
            assert np.all(f[:, c] >= lo - 1e-5) and np.all(f[:, c] <= hi + 1e-5)


def test_tiled_weights_give_the_shared_outputs(model_and_batch):
    model, x, _ = model_and_batch
    shared = model.outputs(model.weights, tf.constant(x)).numpy()
    tiled = model.outputs(tf.tile(model.weights[tf.newaxis, :], [len(x), 1]), tf.constant(x)).numpy()
    np.testing.assert_allclose(tiled, shared, atol=1e-6)


def test_fast_per_example_gradients_equal_the_jacobian(model_and_batch):
    model, x, y = model_and_batch
    fast, losses = per_example_gradients(model, x, y)
    targets = tf.constant(model.encode_labels(y))
    with tf.GradientTape(persistent=True) as tape:
        per_example = model.per_example_loss(model.weights, tf.constant(x), targets)
    jacobian = tape.jacobian(per_example, model.weights, experimental_use_pfor=False).numpy()
    np.testing.assert_allclose(losses, per_example.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fast, jacobian, rtol=1e-4, atol=1e-5)
    assert fast.shape == (len(x), model.n_weights)
