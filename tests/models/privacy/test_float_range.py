"""The mechanism at the edges of float32: overflowing norms, the float-exact range of C and σ, the
noise actually applied there, and a release that is refused (not returned) when it is not finite."""

from __future__ import annotations

import fractions
import json
import math
import subprocess
import sys

import dp_accounting
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_privacy.privacy.dp_query.gaussian_query import GaussianSumQuery

from privqml import validation
from privqml.errors import ConfigError, DataError
from privqml.models.privacy import dpsgd
from privqml.models.privacy.dpsgd import (
    FiniteGaussianSumQuery,
    NonFiniteReleaseError,
    add_noise,
    applied_noise_multiplier,
    check_release,
    clipped_sum,
    dp_step,
    per_example_gradients,
)
from privqml.models.training.records import TrainConfig
from privqml.models.zoo import build_model

HUGE_SCALE = "hea:scale=1e20"  # readout scale 1e20: per-example gradients ~1e19, squared norms > 3.4e38


@pytest.fixture(scope="module")
def huge():
    """A model whose finite per-example gradients have a float32 squared norm of inf, and a batch."""
    model = build_model(HUGE_SCALE, 2, 0)
    rng = np.random.default_rng(4)
    lo, hi = np.array(model.input_domain).T
    x = rng.uniform(lo, hi, size=(12, model.n_features)).astype(np.float32)
    y = np.arange(12) % 2
    return model, x, y


def test_the_huge_scale_model_really_overflows_a_float32_norm(huge):
    model, x, y = huge
    grads, _ = per_example_gradients(model, x, y)
    with np.errstate(over="ignore"):
        squares = np.sum(np.square(grads), axis=1)  # float32, as tf.clip_by_global_norm computes it
    assert np.all(np.isfinite(grads))
    assert np.sum(np.isinf(squares)) >= 2  # several finite rows whose squared norm overflows
    # TF Privacy's own query turns such a row into NaN: the failure the guard's clip removes
    query = GaussianSumQuery(1.0, 0.0)
    row = grads[int(np.argmax(np.isinf(squares)))]
    assert np.all(np.isnan(query.preprocess_record(np.float32(1.0), tf.constant(row)).numpy()))


@pytest.mark.parametrize("path", ["fast", "stock"])
def test_an_overflowing_norm_is_clipped_on_both_paths(huge, path):
    model, x, y = huge
    clip = 0.5
    plain = dp_step(model, x, y, clip, 0.0, 12.0, 0.5, path)  # σ = 0: the release is the clipped sum
    noised = dp_step(model, x, y, clip, 1.0, 12.0, 0.5, path)
    assert np.all(np.isfinite(plain.noised_sum)) and np.all(np.isfinite(noised.noised_sum))
    assert np.all(np.isfinite(noised.gradient))
    assert np.linalg.norm(plain.noised_sum.astype(np.float64)) <= plain.batch_size * clip
    assert plain.batch_size == 12
    if path == "fast":
        np.testing.assert_array_equal(plain.clipped_sum, plain.noised_sum)
        assert np.all(np.isfinite(plain.per_example_norms)) and plain.per_example_norms.max() > 1e18
        assert plain.n_nonfinite == 0  # finite rows: clipped, not zeroed


def test_both_paths_agree_on_the_overflowing_batch(huge):
    model, x, y = huge
    fast = dp_step(model, x, y, 0.5, 0.0, 12.0, 0.5, "fast").noised_sum
    stock = dp_step(model, x, y, 0.5, 0.0, 12.0, 0.5, "stock").noised_sum
    np.testing.assert_allclose(stock, fast, atol=1e-5)
    assert np.linalg.norm(fast) > 0.1  # the clipped rows are really there


_UNDER_O = r"""
import json, sys
import numpy as np
from privqml.models.privacy.dpsgd import dp_step, per_example_gradients
from privqml.models.zoo import build_model
model = build_model(sys.argv[1], 2, 0)
rng = np.random.default_rng(4)
lo, hi = np.array(model.input_domain).T
x = rng.uniform(lo, hi, size=(12, model.n_features)).astype(np.float32)
y = np.arange(12) % 2
grads, _ = per_example_gradients(model, x, y)
with np.errstate(over="ignore"):
    out = {"debug": __debug__, "finite_grads": bool(np.all(np.isfinite(grads))),
           "overflowing_rows": int(np.sum(np.isinf(np.sum(np.square(grads), axis=1))))}
for path in ("fast", "stock"):
    for sigma in (0.0, 1.0):
        step = dp_step(model, x, y, 0.5, sigma, 12.0, 0.5, path)
        out[f"{path}/{sigma}"] = [float(v) for v in step.noised_sum]
print(json.dumps(out))
"""


def test_under_python_O_the_overflowing_batch_still_gives_a_finite_clipped_release():
    """``python -O`` strips asserts: the finiteness of a release must not rest on one. A 2-qubit
    model at readout scale 1e21 (faster to trace than the 4-qubit one) has the same overflow."""
    spec = "hea:n_qubits=2,n_layers=1,scale=1e21"
    done = subprocess.run([sys.executable, "-O", "-c", _UNDER_O, spec], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out.pop("debug") is False  # asserts really were off
    assert out.pop("finite_grads") is True and out.pop("overflowing_rows") >= 2
    assert sorted(out) == ["fast/0.0", "fast/1.0", "stock/0.0", "stock/1.0"]
    for name, release in out.items():
        assert len(release) == 4 and all(math.isfinite(v) for v in release), (name, release)
    for path in ("fast", "stock"):
        assert 0.1 < np.linalg.norm(out[f"{path}/0.0"]) <= 12 * 0.5


def test_a_nonfinite_release_is_refused_by_an_explicit_check_not_an_assert(monkeypatch):
    with pytest.raises(NonFiniteReleaseError, match="2 non-finite entries at clip=1.0"):
        check_release(np.array([0.5, np.nan, np.inf], np.float32), 1.0, 2.0, "dp_step")
    np.testing.assert_array_equal(check_release(np.ones(3, np.float32), 1.0, 2.0, "dp_step"), np.ones(3))
    # a mechanism whose noise came out non-finite: dp_step refuses to return it
    model = build_model("mlp", seed=1)
    monkeypatch.setattr(dpsgd, "_fused_noised", lambda total, c, s, q, rng, mechanism: (total * np.float32(np.inf), None))
    with pytest.raises(NonFiniteReleaseError):
        dp_step(model, np.zeros((2, 4), np.float32), np.array([0, 1]), 1.0, 1.0, 2.0, 0.5, "fast")
    with pytest.raises(NonFiniteReleaseError):  # the replicated fast step refuses it too
        dpsgd.dp_steps(model, np.zeros((1, model.n_weights)), [np.zeros((2, 4), np.float32)], [np.array([0, 1])],
                       1.0, 1.0, 2.0, 0.5, [np.random.default_rng(0)])
    with pytest.raises(NonFiniteReleaseError):
        add_noise(np.ones(3), 1.0, 1.0, 0.5)


# -- the clip: norm <= C in float32, bit for bit below C ----------------------------------------
def test_every_clipped_row_has_norm_at_most_c_in_float32_where_tf_privacys_rounding_exceeds_it():
    """3000 rows with log-normal scales (norms from 1e-6 to 1e7, and overflowing ones): each clipped
    row, measured in float64, has ‖·‖ ≤ f32(C); TF Privacy's float32 clip exceeds C by an ulp on
    about a third of the clipped rows (so this test can fail)."""
    rng = np.random.default_rng(7)
    rows = (rng.normal(size=(3000, 16)) * rng.lognormal(0.0, 4.0, size=(3000, 1))).astype(np.float32)
    rows[:20] *= np.float32(1e19)  # finite rows whose float32 squared norm overflows
    for clip in (validation.CLIP_MIN, 1e-7, 0.3, 1.0, 7.5, validation.CLIP_MAX):
        query = FiniteGaussianSumQuery(clip, 0.0)
        out = tf.vectorized_map(lambda g: query.preprocess_record(np.float32(clip), g), tf.constant(rows)).numpy()
        norms = np.linalg.norm(rows.astype(np.float64), axis=1)
        clipped_norms = np.linalg.norm(out.astype(np.float64), axis=1)
        assert np.all(np.isfinite(out))
        assert np.all(clipped_norms <= float(np.float32(clip))), clip
        below = norms <= float(np.float32(clip))
        np.testing.assert_array_equal(out[below], rows[below])  # unclipped rows bit for bit
        over = ~below
        # a clipped row keeps its direction and has norm C·(1 − 2⁻²²) to float32 rounding
        np.testing.assert_allclose(clipped_norms[over], float(np.float32(clip)), rtol=1e-6)
    reference = GaussianSumQuery(1.0, 0.0)
    ordinary = rows[20:]
    theirs = tf.vectorized_map(lambda g: reference.preprocess_record(np.float32(1.0), g), tf.constant(ordinary)).numpy()
    assert np.sum(np.linalg.norm(theirs.astype(np.float64), axis=1) > 1.0) > 100


def test_clipped_sum_of_single_rows_is_the_query_and_counts_no_overflowing_row_as_nonfinite():
    rows = np.array([[3e19, 4e19], [3.0, 4.0], [0.3, 0.4]], np.float32)
    for row in rows:
        total = clipped_sum(row[None, :], 1.0)
        assert np.linalg.norm(total.astype(np.float64)) <= 1.0
    np.testing.assert_allclose(clipped_sum(rows, 1.0), [0.6 + 0.6 + 0.3, 0.8 + 0.8 + 0.4], rtol=1e-6)
    assert dpsgd.count_nonfinite(rows) == 0


# -- the float-exact range ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "clip,sigma,q",
    [(1e-36, 1.0, 0.1), (1e-46, 1.0, 0.1), (1e39, 1.0, 0.1), (1.0, 1e38, 0.1), (1.0, 1e-6, 0.1),
     (validation.CLIP_MIN / 2, 1.0, 0.1), (validation.CLIP_MAX * 2, 1.0, 0.1), (1.0, math.nan, 0.1),
     (1.0, 1000.0, 1e-3)],  # the last: σ inside the box but q·√(e^{1/σ²} − 1) < 2⁻¹⁶
)
def test_the_step_refuses_a_clip_or_sigma_outside_the_float_exact_range(clip, sigma, q):
    model = build_model("mlp", seed=1)
    with pytest.raises(ConfigError) as info:
        dp_step(model, np.zeros((2, 4), np.float32), np.array([0, 1]), clip, sigma, 2.0, q, "fast")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError):
        add_noise(np.zeros(4), clip, sigma, q)


def test_train_config_refuses_a_clip_of_1e_36():
    """At C = 1e-36 the stock path flushed most of its noise to zero and the audit's replay saw all-zero
    updates; such a clip is now refused where a run is configured."""
    with pytest.raises(ConfigError, match=r"^clip=1e-36 lies outside \[5.422e-20, 4.294e\+09\]"):
        TrainConfig(clip=1e-36)
    with pytest.raises(ConfigError, match=r"^noise_multiplier=1e\+38 is above 65536"):
        TrainConfig(epsilon=None, noise_multiplier=1e38)
    assert TrainConfig(clip=validation.CLIP_MIN).clip == 2.0**-64
    assert TrainConfig(clip=validation.CLIP_MAX).clip == 2.0**32


def test_a_batch_beyond_2_24_rows_is_refused():
    with pytest.raises(DataError, match="at most 2\\^24 rows"):
        clipped_sum(np.zeros((validation.MAX_BATCH_ROWS + 1, 1), np.float32), 1.0)


# -- the noise applied at the corners of the range --------------------------------------------------
CORNERS = [(c, s) for c in (validation.CLIP_MIN, validation.CLIP_MAX)
           for s in (validation.NOISE_MULTIPLIER_MIN, validation.NOISE_MULTIPLIER_MAX)]
RELEASES = {"fast": 2000, "stock": 500}


@pytest.fixture(scope="module")
def mlp_batch():
    model = build_model("mlp", seed=1)
    rng = np.random.default_rng(3)
    return model, rng.uniform(-1.0, 1.0, size=(6, 4)).astype(np.float32), np.arange(6) % 2


@pytest.mark.parametrize("path", ["fast", "stock"])
@pytest.mark.parametrize("clip,sigma", CORNERS)
def test_at_the_corners_the_noise_applied_is_at_least_the_noise_accounted(mlp_batch, path, clip, sigma):
    """K releases of one batch (K = 2000 fast, 500 stock; 13 weights): their spread per coordinate is
    the noise. The pooled sample std s over N = 13(K − 1) degrees of freedom has standard error
    ≈ σC/√(2N) (0.44 % fast, 0.88 % stock); s must lie within 4 standard errors of the accounted
    σ_event·C — in particular not below it (the stock path at C = 1e-37 applied 11 % too little, in
    0.89 σC) — and no release coordinate may have been flushed to the clipped sum (zero noise)."""
    model, x, y = mlp_batch
    tf.random.set_seed(2024)
    releases = RELEASES[path]
    step = dp_step(model, x, y, clip, sigma, 6.0, 1.0, path, n_releases=releases)
    noised = step.noised_sum.astype(np.float64)
    assert noised.shape == (releases, model.n_weights) and np.all(np.isfinite(noised))
    accounted = step.event.event.noise_multiplier * float(np.float32(clip))
    spread = noised - noised.mean(axis=0)
    dof = model.n_weights * (releases - 1)
    std = math.sqrt(np.sum(spread**2) / dof)
    standard_error = 1.0 / math.sqrt(2 * dof)
    assert std / accounted >= 1.0 - 4 * standard_error, (std / accounted, path, clip, sigma)
    assert std / accounted <= 1.0 + 4 * standard_error, (std / accounted, path, clip, sigma)
    assert np.mean(np.all(noised == noised[0], axis=0)) == 0.0  # no coordinate without noise
    # the event's σ is the σ applied: the largest float64 <= f32(σC)/f32(C), within 2⁻²³ of σ
    applied = fractions.Fraction(float(np.float32(sigma * clip))) / fractions.Fraction(float(np.float32(clip)))
    event_sigma = step.event.event.noise_multiplier
    assert isinstance(step.event, dp_accounting.PoissonSampledDpEvent)
    assert fractions.Fraction(event_sigma) <= applied
    assert applied - fractions.Fraction(event_sigma) < fractions.Fraction(math.ulp(event_sigma))
    assert abs(event_sigma / sigma - 1.0) <= 2.0**-23


def test_the_applied_sigma_is_rounded_down_never_up():
    """f32(σC)/f32(C) for 2000 random (C, σ) in the range: the recorded σ is never above the exact
    quotient, and equal to it whenever the quotient is a float64 (C a power of two)."""
    rng = np.random.default_rng(11)
    clips = np.exp2(rng.uniform(-64, 32, size=2000))
    sigmas = np.exp2(rng.uniform(-14, 16, size=2000))
    above = 0
    for clip, sigma in zip(clips, sigmas):
        query = GaussianSumQuery(float(clip), float(sigma * clip))
        exact = fractions.Fraction(float(np.float32(sigma * clip))) / fractions.Fraction(float(np.float32(clip)))
        recorded = applied_noise_multiplier(query)
        assert fractions.Fraction(recorded) <= exact < fractions.Fraction(recorded) + fractions.Fraction(
            math.ulp(recorded))
        above += float(exact) > exact  # round-to-nearest would have recorded more than applied
    assert above > 100  # the rounding direction matters for a good share of the draws
    power = GaussianSumQuery(0.5, 0.5 * 1.25)
    assert applied_noise_multiplier(power) == 1.25
