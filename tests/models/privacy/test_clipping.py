"""The clipping-bias meter: closed forms; zero bias at C >= bound (quantum); active clipping (classical)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.models.privacy.clipping import ClipMeter, l2_norms, measure_clipping, predicted_bias_bound
from privqml.models.data import load_dataset
from privqml.models.privacy.dpsgd import per_example_gradients
from privqml.models.zoo import build_model


def test_closed_form_measurement():
    grads = np.array([[3.0, 4.0], [0.0, 1.0]])
    m = measure_clipping(grads, 2.5, grad_norm_bound=6.0, step=7)
    # clipped rows (1.5, 2) and (0, 1); means (0.75, 1.5) vs (1.5, 2.5): bias ||(-0.75, -1)|| = 1.25
    assert (m.norm_max, m.norm_mean, m.fraction_clipped) == (5.0, 3.0, 0.5)
    assert m.bias == pytest.approx(1.25)
    assert m.bias_bound_batch == pytest.approx(1.25)
    assert m.predicted_bias_bound == pytest.approx(3.5)
    assert m.step == 7
    assert predicted_bias_bound(2.0, 3.0) == 0.0 and predicted_bias_bound(None, 1.0) is None
    empty = measure_clipping(np.zeros((0, 2)), 1.0)
    assert empty.batch_size == 0 and empty.bias == 0.0


def _inputs(model, n, seed):
    rng = np.random.default_rng(seed)
    lo = np.array([d[0] for d in model.input_domain])
    hi = np.array([d[1] for d in model.input_domain])
    inside = rng.uniform(lo, hi, size=(n, model.n_features))
    corners = np.where(rng.random((n, model.n_features)) < 0.5, lo, hi)
    return np.vstack([inside, corners]).astype(np.float32), rng.integers(0, 2, size=2 * n)


@pytest.mark.parametrize("spec", ["hea", "reupload:n_qubits=3,n_layers=2"])
def test_clip_at_the_bound_clips_nothing_and_the_bias_is_exactly_zero(spec):
    model = build_model(spec, seed=0)
    bound = model.loss_gradient_bound().value
    rng = np.random.default_rng(5)
    for trial in range(4):  # random weights (wide), random and corner inputs of the public domain
        model.weights.assign(rng.normal(scale=3.0, size=model.n_weights).astype(np.float32))
        x, y = _inputs(model, 16, trial)
        grads, _ = per_example_gradients(model, x, y)
        m = measure_clipping(grads, bound, bound, step=trial)
        assert m.norm_max <= bound
        assert m.fraction_clipped == 0.0
        assert m.bias == 0.0  # exactly: unclipped rows are kept bit for bit
        assert m.predicted_bias_bound == 0.0


def test_below_the_bound_the_measured_bias_obeys_the_prediction():
    model = build_model("hea", seed=3)
    bound = model.loss_gradient_bound().value
    x, y = _inputs(model, 32, 1)
    grads, _ = per_example_gradients(model, x, y)
    clip = 0.25 * float(np.linalg.norm(grads, axis=1).max())
    m = measure_clipping(grads, clip, bound)
    assert m.fraction_clipped > 0
    assert 0 < m.bias <= m.bias_bound_batch + 1e-12 <= m.predicted_bias_bound + 1e-12
    assert m.predicted_bias_bound == pytest.approx(bound - clip)


def test_classical_model_at_the_quantum_clip_is_clipped():
    quantum = build_model("hea", seed=0)
    clip = quantum.loss_gradient_bound().value
    mlp = build_model("mlp", seed=0)
    data = load_dataset("quantum", mlp.n_features, seed=0)
    grads, _ = per_example_gradients(mlp, data.x_train, data.y_train)
    meter = ClipMeter(clip, grad_norm_bound=None, every=1)
    m = meter.observe(0, grads)
    assert m.fraction_clipped > 0 and m.norm_max > clip and m.bias > 0
    assert m.predicted_bias_bound is None  # no bound for the classical model
    summary = meter.summary()
    assert summary["clip_fraction_max"] == m.fraction_clipped and summary["predicted_bias_max"] is None
    assert not math.isnan(summary["clip_bias_max"])


def test_norms_are_computed_without_overflow_or_underflow():
    """‖(3e200, 4e200)‖ = 5e200 and ‖(3e-200, 4e-200)‖ = 5e-200, where Σg² over/underflows float64;
    ordinary rows are NumPy's norm bit for bit; the meter then clips a 1e200-sized row to C."""
    rows = np.array([[3e200, 4e200], [3e-200, 4e-200], [3.0, 4.0], [0.0, 0.0]])
    with np.errstate(over="ignore", under="ignore"):
        assert np.linalg.norm(rows[:2], axis=1).tolist() == [np.inf, 0.0]  # the plain formula fails both
    norms = l2_norms(rows)
    np.testing.assert_allclose(norms[:2], [5e200, 5e-200], rtol=1e-15)
    assert norms[2] == np.linalg.norm(rows[2]) and norms[3] == 0.0
    assert np.isnan(l2_norms([[np.nan, 1.0]])[0]) and l2_norms([[np.inf, 1.0]])[0] == np.inf
    m = measure_clipping(rows[:3], 2.5)
    assert m.norm_max == pytest.approx(5e200, rel=1e-15) and m.fraction_clipped == 2 / 3
    # rows 0 and 2 clip to (1.5, 2), row 1 is kept: bias = ‖mean clip − mean g‖ ≈ ‖(3e200, 4e200)‖/3
    assert m.bias == pytest.approx(5e200 / 3, rel=1e-12)
