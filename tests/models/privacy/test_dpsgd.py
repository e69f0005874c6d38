"""DP-SGD steps: Poisson sampling, fast == stock at zero noise, the injected noise, the normaliser."""

from __future__ import annotations

import math

import dp_accounting
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats
from tensorflow_privacy.privacy.dp_query.gaussian_query import GaussianSumQuery

from privqml.errors import ConfigError, DataError
from privqml.models.data import load_dataset
from privqml.models.privacy.dpsgd import (
    add_noise,
    clipped_sum,
    dp_step,
    nonprivate_step,
    per_example_gradients,
    poisson_batch,
)
from privqml.models.zoo import build_model


@pytest.fixture(scope="module")
def hea_model():
    return build_model("hea", seed=1)


@pytest.fixture(scope="module")
def mlp_model():
    return build_model("mlp", seed=1)


@pytest.fixture(scope="module")
def batch():
    data = load_dataset("quantum", 4, seed=0, n_train=40, n_test=10)
    return data.x_train[:7].astype(np.float32), data.y_train[:7]


def test_poisson_batch_sizes_are_binomial():
    """5000 draws of n=200, q=0.05: chi-square goodness of fit to Binomial(200, 0.05), p > 1e-3."""
    n, q, draws = 200, 0.05, 5000
    rng = np.random.default_rng(2024)
    batches = [poisson_batch(n, q, rng) for _ in range(draws)]
    sizes = np.array([len(b) for b in batches])
    edges = np.arange(3, 18)  # pool k <= 3 and k >= 18 so that every expected count is >= 5
    observed = [np.sum(sizes <= 3)] + [np.sum(sizes == k) for k in edges[1:]] + [np.sum(sizes >= 18)]
    pmf = stats.binom(n, q)
    expected = [pmf.cdf(3)] + [pmf.pmf(k) for k in edges[1:]] + [pmf.sf(17)]
    expected = draws * np.array(expected)
    assert min(expected) >= 5
    _, p_value = stats.chisquare(observed, expected)
    assert p_value > 1e-3, (p_value, observed)
    # every example independently with probability q: counts ~ Binomial(draws, q), within 5 sd
    counts = np.bincount(np.concatenate(batches), minlength=n)
    sd = math.sqrt(draws * q * (1 - q))
    assert np.all(np.abs(counts - draws * q) <= 5 * sd)
    both = np.mean([(0 in b) and (1 in b) for b in (set(b.tolist()) for b in batches)])
    assert abs(both - q * q) <= 5 * math.sqrt(q * q / draws)


@pytest.mark.parametrize("fixture,clip", [("hea_model", 0.2), ("mlp_model", 0.3)])
def test_fast_and_stock_paths_agree_at_zero_noise(request, batch, fixture, clip):
    model = request.getfixturevalue(fixture)
    x, y = batch
    fast = dp_step(model, x, y, clip, 0.0, expected_batch_size=5.0, sampling_probability=0.1, path="fast")
    stock = dp_step(model, x, y, clip, 0.0, expected_batch_size=5.0, sampling_probability=0.1, path="stock")
    scale = max(1.0, float(np.linalg.norm(fast.noised_sum)))
    np.testing.assert_allclose(stock.noised_sum, fast.noised_sum, atol=2e-6 * scale)
    np.testing.assert_allclose(fast.gradient, fast.noised_sum / 5.0, rtol=1e-7)
    # the clipped sum is Σ g_i min(1, C/||g_i||) of the per-example gradients
    grads, _ = per_example_gradients(model, x, y)
    norms = np.linalg.norm(grads, axis=1)
    manual = (grads * np.minimum(1.0, clip / norms)[:, None]).sum(axis=0)
    np.testing.assert_allclose(fast.clipped_sum, manual, atol=2e-6 * scale)
    if clip < 1.0:
        assert np.any(norms > clip)  # clipping is really exercised
    assert fast.batch_size == stock.batch_size == 7


def _noise_samples(model, x, y, clip, sigma, steps, path):
    tf.random.set_seed(123)
    reference = dp_step(model, x, y, clip, 0.0, 4.0, 0.1, "fast").clipped_sum
    return np.stack([dp_step(model, x, y, clip, sigma, 4.0, 0.1, path).noised_sum - reference for _ in range(steps)])


def test_injected_noise_has_std_sigma_times_clip_fast_path(mlp_model, batch):
    """N = 300 steps x 13 weights = 3900 draws: sample std within 5 % of σC (≈ 4.4 standard
    errors, SE ≈ 1/sqrt(2N)); mean within 4 σC/sqrt(N); KS normality p > 1e-3."""
    x, y = batch
    clip, sigma = 0.5, 1.7
    noise = _noise_samples(mlp_model, x, y, clip, sigma, 300, "fast").ravel()
    assert noise.size == 300 * mlp_model.n_weights
    target = sigma * clip
    assert abs(noise.std() / target - 1) < 0.05, noise.std()
    assert abs(noise.mean()) < 4 * target / math.sqrt(noise.size)
    assert stats.kstest(noise / target, "norm").pvalue > 1e-3


def test_injected_noise_has_std_sigma_times_clip_stock_path(mlp_model, batch):
    """N = 100 x 13 = 1300 draws: std within 9 % of σC (≈ 4.6 SE)."""
    x, y = batch
    clip, sigma = 0.5, 1.7
    noise = _noise_samples(mlp_model, x, y, clip, sigma, 100, "stock").ravel()
    assert abs(noise.std() / (sigma * clip) - 1) < 0.09, noise.std()


def test_quantum_fast_path_noise(hea_model, batch):
    """N = 60 x 16 = 960 draws: std within 10 % of σC (≈ 4.4 SE)."""
    x, y = batch
    noise = _noise_samples(hea_model, x, y, 1.0, 0.8, 60, "fast").ravel()
    assert abs(noise.std() / 0.8 - 1) < 0.10


def test_event_and_empty_batch(mlp_model):
    empty_x = np.zeros((0, 4), np.float32)
    tf.random.set_seed(0)
    results = [dp_step(mlp_model, empty_x, np.zeros(0, int), 2.0, 1.5, 10.0, 0.2) for _ in range(50)]
    noise = np.stack([r.noised_sum for r in results])
    assert results[0].batch_size == 0 and np.all(results[0].clipped_sum == 0)
    assert abs(noise.std() / 3.0 - 1) < 0.15  # 650 draws, ≈ 5 SE
    event = results[0].event
    assert isinstance(event, dp_accounting.PoissonSampledDpEvent)
    assert event.sampling_probability == 0.2
    assert event.event.noise_multiplier == pytest.approx(1.5, rel=1e-6)


def test_tf_privacy_query_clips_like_the_fast_path(mlp_model, batch):
    """Row by row, TF Privacy's GaussianSumQuery.preprocess_record gives our clipped rows."""
    x, y = batch
    grads, _ = per_example_gradients(mlp_model, x, y)
    query = GaussianSumQuery(0.3, 0.0)
    params = query.derive_sample_params(query.initial_global_state())
    rows = np.stack([query.preprocess_record(params, tf.constant(g)).numpy() for g in grads])
    step = dp_step(mlp_model, x, y, 0.3, 0.0, 7.0, 0.1)
    np.testing.assert_allclose(step.clipped_sum, rows.sum(axis=0), atol=1e-6)


def test_public_clip_and_noise_are_the_steps_own(hea_model, batch):
    """clipped_sum + add_noise (what the audit uses) reproduce dp_step's clipped sum exactly and
    its noise in distribution: mean 0, sd σC per coordinate, the same DpEvent."""
    x, y = batch
    grads, _ = per_example_gradients(hea_model, x, y)
    step = dp_step(hea_model, x, y, 0.2, 0.0, 7.0, 0.1)
    np.testing.assert_array_equal(clipped_sum(grads, 0.2), step.clipped_sum)
    norms = np.linalg.norm(grads * np.minimum(1.0, 0.2 / np.linalg.norm(grads, axis=1))[:, None], axis=1)
    assert np.all(norms <= 0.2 + 1e-6)
    assert clipped_sum(np.zeros((0, 5)), 0.2).shape == (5,)
    copies = np.tile(step.clipped_sum, (400, 1))
    noised, event = add_noise(copies, 0.2, 1.5, 0.1)
    noise = noised - copies
    assert noised.shape == copies.shape
    assert abs(noise.std() / (1.5 * 0.2) - 1) < 0.05  # 6400 draws: ≈ 6 SE
    assert abs(noise.mean()) < 5 * 0.3 / math.sqrt(noise.size)
    assert not np.allclose(noise[0], noise[1])  # every copy its own draw
    step_event = dp_step(hea_model, x, y, 0.2, 1.5, 7.0, 0.1).event
    assert event == step_event


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda: clipped_sum(np.ones((2, 3)), 0.0), ConfigError),
        (lambda: clipped_sum(np.ones(3), 1.0), DataError),
        (lambda: add_noise(np.ones(3), -1.0, 1.0, 0.1), ConfigError),
        (lambda: add_noise(np.ones(3), 1.0, -1.0, 0.1), ConfigError),
        (lambda: add_noise(np.ones(3), 1.0, 1.0, 0.0), ConfigError),
    ],
)
def test_public_clip_and_noise_refuse_bad_input(call, error):
    with pytest.raises(error):
        call()


def test_nonprivate_step_is_the_mean_gradient(mlp_model, batch):
    x, y = batch
    grads, _ = per_example_gradients(mlp_model, x, y)
    step = nonprivate_step(mlp_model, x, y)
    np.testing.assert_allclose(step.gradient, grads.mean(axis=0), atol=1e-6)
    assert isinstance(step.event, dp_accounting.NonPrivateDpEvent)


@pytest.mark.parametrize(
    "kwargs,error",
    [
        (dict(clip_norm=0.0), ConfigError), (dict(clip_norm=-1.0), ConfigError), (dict(clip_norm=math.nan), ConfigError),
        (dict(noise_multiplier=-0.1), ConfigError), (dict(path="loop"), ConfigError),
        (dict(sampling_probability=0.0), ConfigError), (dict(x=np.full((2, 4), np.nan)), DataError),
        (dict(x=np.zeros((2, 3))), DataError), (dict(labels=np.zeros(3, int)), DataError),
    ],
)
def test_bad_step_inputs(mlp_model, kwargs, error):
    args = dict(x=np.zeros((2, 4), np.float32), labels=np.zeros(2, int), clip_norm=1.0, noise_multiplier=1.0,
                expected_batch_size=2.0, sampling_probability=0.1, path="fast")
    args.update(kwargs)
    with pytest.raises(error):
        dp_step(mlp_model, **args)


def test_stock_path_noise_is_fresh_after_every_epoch_reseed():
    """Regression: the stock path's traced noise used to replay after each epoch's reseed."""
    from privqml.models.training.trainer import TrainConfig, _epoch_streams
    from privqml.models.zoo import build_model

    simulation = TrainConfig(model="hea:n_qubits=2,n_layers=1", simulation_seed=0, path="stock")
    model = build_model("hea:n_qubits=2,n_layers=1")
    x = np.zeros((4, model.n_features), np.float32)
    labels = np.array([0, 1, 0, 1])
    draws = {}
    for epoch in (0, 1, 0):
        _epoch_streams(simulation, epoch)
        draws.setdefault(epoch, []).append(
            np.stack([dp_step(model, x, labels, 0.1, 1.0, 4, 0.5, path="stock").noised_sum for _ in range(3)])
        )
    assert not np.allclose(draws[0][0], draws[1][0])  # a new epoch draws new noise
    np.testing.assert_allclose(draws[0][0], draws[0][1])  # the same simulated epoch reproduces (resume)


def test_clipped_sum_releases_a_nonfinite_row_as_zero():
    rows = np.array([[3.0, 4.0], [np.nan, 1.0], [np.inf, 0.0]], np.float32)
    np.testing.assert_allclose(clipped_sum(rows, 1.0), [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize("n", [1, 5, 16, 17, 40, 300, 1000])
def test_xla_padding_rows_are_computed_and_dropped(mlp_model, n):
    """A classical model's step compiles with XLA on rows padded to fused.padded_rows(n): the padding
    (segment -1) must not reach the sums, and every real row's gradient, loss and clipped sum equal the
    plain graph's (the same model traced without XLA) to float32 rounding."""
    from privqml.models.privacy import fused
    from privqml.models.privacy.dpsgd import FiniteGaussianSumQuery

    assert type(mlp_model).xla and fused.padded_rows(n) >= n and fused.padded_rows(n) <= max(16, n + n // 8 + 16)
    rng = np.random.default_rng(n)
    x = rng.uniform(-1, 1, (n, mlp_model.n_features)).astype(np.float32)
    y = mlp_model.encode_labels(rng.integers(0, 2, n)).astype(np.float32)
    weights = np.stack([mlp_model.weights.numpy(), mlp_model.weights.numpy() * 0.5])
    halves = [x[: n // 2], x[n // 2:]]
    targets = [y[: n // 2], y[n // 2:]]
    compiled = fused.clipped_sums(mlp_model, weights, halves, targets, 0.05, FiniteGaussianSumQuery)
    plain_model = build_model("mlp", seed=0)
    plain_model.xla = False  # an instance attribute: the same structure, traced without XLA
    fused._TRACES.clear()
    try:
        plain = fused.clipped_sums(plain_model, weights, halves, targets, 0.05, FiniteGaussianSumQuery)
    finally:
        fused._TRACES.clear()
    for a, b in zip(compiled, plain):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # float32 sums in another order
    grads = compiled[0]
    norms = np.linalg.norm(grads.astype(np.float64), axis=1)
    clipped = grads * np.minimum(1.0, 0.05 / np.maximum(norms, 1e-30))[:, None]
    np.testing.assert_allclose(compiled[2][0], clipped[: n // 2].sum(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(compiled[2][1], clipped[n // 2:].sum(0), rtol=1e-5, atol=1e-7)


def test_the_mechanism_holds_no_test_hooks():
    """Broken mechanisms are injected objects (privqml.verify.audit.broken), not switches inside the mechanism:
    nothing in models/privacy names a fault, and the trainer's default is the one correct mechanism."""
    import inspect
    import pathlib

    from privqml.models.privacy import dpsgd as mechanism_module
    from privqml.models.training import trainer
    from privqml.verify.audit import broken

    import re

    source = "\n".join(p.read_text() for p in pathlib.Path(mechanism_module.__file__).parent.glob("*.py"))
    for pattern in (r"\bfaults?\.", r"import faults", r"noise-omitted", r"nonfinite-leak", r"published-seed",
                    r"contextvars", r"\.active\("):
        assert not re.search(pattern, source), pattern
    assert type(mechanism_module.GAUSSIAN) is mechanism_module.Mechanism
    assert inspect.signature(trainer.train).parameters["mechanism"].default is mechanism_module.GAUSSIAN
    assert inspect.signature(dp_step).parameters["mechanism"].default is mechanism_module.GAUSSIAN
    assert {type(m).__module__ for m in broken.BROKEN_TRAINERS.values()} == {"privqml.verify.audit.broken"}
