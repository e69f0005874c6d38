"""The record checks in NumPy: bounds against exact oracles, false alarms on simulated honest records, power."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from privqml.errors import ConfigError
from privqml.verify.audit.record import (
    CentredNoise,
    ReleaseRecord,
    audit_record,
    centred_statistic,
    chernoff_batch_bound,
    noise_norm_quantile,
    quiet_dimension,
)

SIGMA, CLIP, N, Q, P, T = 1.1, 0.5, 60, 0.125, 6, 24
L = Q * N  # 7.5


# -- the bounds, against exact distributions ---------------------------------------------------
@pytest.mark.parametrize("n,q,alpha", [(64, 0.125, 1e-6), (400, 0.08, 1e-8), (1000, 0.01, 1e-3), (10, 0.5, 1e-9)])
def test_chernoff_batch_bound_holds_against_the_exact_binomial_tail(n, q, alpha):
    k = chernoff_batch_bound(n, q, alpha)
    assert n * q <= k <= n
    assert stats.binom.sf(k, n, q) <= alpha  # P(B > k), exact
    if k < n:  # not vacuous: at or above the exact (1 - alpha) quantile, but not far
        assert stats.binom.isf(alpha, n, q) <= k <= 2 * stats.binom.isf(alpha, n, q) + 5


def test_chernoff_batch_bound_closed_form():
    # n = 100, q = 1/2, ln(1e6) = 13.816: 100·D(0.76‖0.5) = 76 ln 1.52 + 24 ln 0.48 = 14.207 reaches it,
    # 100·D(0.75‖0.5) = 75 ln 1.5 + 25 ln 0.5 = 13.081 does not: P(B >= 76) <= 1e-6, so B <= 75.
    assert chernoff_batch_bound(100, 0.5, 1e-6) == 75
    assert chernoff_batch_bound(5, 0.5, 1e-12) == 5  # no k <= n reaches the level: n itself


@pytest.mark.parametrize("p,alpha", [(1, 1e-3), (6, 1e-6), (200, 1e-9)])
def test_noise_norm_quantile_holds_against_the_exact_chi_tail(p, alpha):
    bound = noise_norm_quantile(p, alpha)
    assert bound == pytest.approx(math.sqrt(p) + math.sqrt(2 * math.log(1 / alpha)))
    assert stats.chi.sf(bound, p) <= alpha


def test_quiet_dimension_and_centred_statistic_closed_form():
    # two examples whose clipped gradients are e1 and 2·e1 in R^3: variance q(1-q)·5 along e1 only
    clipped = np.array([[1.0, 0, 0], [2.0, 0, 0]])
    assert quiet_dimension(clipped, 0.5, sigma_c=1.0) == 2  # 0.25·5 = 1.25 > 0.25: e1 is loud
    assert quiet_dimension(clipped, 0.5, sigma_c=10.0) == 3  # 1.25 <= 0.25·100: all quiet
    noised = np.array([7.0, 3.0, 4.0])  # centre q·(3, 0, 0) = (1.5, 0, 0); e1 projected out
    assert centred_statistic(noised, clipped, 0.5, 1.0, 2) == pytest.approx(25.0)
    assert centred_statistic(noised, clipped, 0.5, 1.0, 3) == pytest.approx(5.5**2 + 25.0)


# -- simulated records -------------------------------------------------------------------------
def _simulate(rng, *, noise_scale=1.0, signal=0.02, batch_sizes=True, steps=T):
    """An honest DP-SGD record (noise_scale = 1) of a toy model whose per-example gradients span
    two directions, share a mean direction (the signal of a batch grows with its size) and follow
    the weights, the weights following the releases (SGD): the clipped sums depend on the past
    releases, as in training. Returns the record and the centred statistic."""
    basis = np.linalg.qr(rng.standard_normal((P, 2)))[0].T  # [2, P]
    features = rng.standard_normal((N, 2)) + np.array([2.0, 0.0])
    theta = np.zeros(P)
    sigma_c = SIGMA * CLIP
    released, sizes, centred, dimension = [], [], 0.0, None
    for _ in range(steps):
        grads = signal * (features * (1.0 + np.tanh(basis @ theta))) @ basis  # [N, P], rank 2
        norms = np.linalg.norm(grads, axis=1, keepdims=True)
        clipped = grads * np.minimum(1.0, CLIP / np.maximum(norms, 1e-300))
        batch = rng.random(N) < Q
        noised = clipped[batch].sum(axis=0) + noise_scale * sigma_c * rng.standard_normal(P)
        if dimension is None:
            dimension = quiet_dimension(clipped, Q, sigma_c)
        centred += centred_statistic(noised, clipped, Q, sigma_c, dimension)
        released.append(noised / L)
        sizes.append(int(batch.sum()))
        theta -= 0.3 * released[-1]
    record = ReleaseRecord(np.array(released), SIGMA, CLIP, Q, N, L, steps, P,
                           tuple(sizes) if batch_sizes else None)
    return record, CentredNoise(centred, dimension, steps)


def _violations(seed, n_records, alpha, **kwargs):
    rng = np.random.default_rng(seed)
    failed = {"noise-present": 0, "sensitivity": 0, "any": 0}
    for _ in range(n_records):
        record, centred = _simulate(rng, **kwargs)
        result = audit_record(record, alpha, centred)
        names = {c.name for c in result.checks if not c.passed}
        for name in ("noise-present", "sensitivity"):
            failed[name] += name in names
        failed["any"] += bool(names)
    return failed


@pytest.mark.parametrize("batch_sizes", [True, False])
def test_no_false_alarm_on_200_honest_records_at_the_default_alpha(batch_sizes):
    """At α = 1e-6 the expected number of false alarms in 200 records is <= 4e-4: none may occur."""
    assert _violations(1, 200, 1e-6, batch_sizes=batch_sizes)["any"] == 0


def test_false_alarm_rate_is_at_most_alpha_at_a_large_alpha():
    """At α = 0.2 the rate must stay below α (each check is conservative or exact); 400 records:
    a rate of 0.2 would exceed 100 alarms with probability < 1e-3 — 0.2·400 + 3.1·sqrt(400·0.16)."""
    failed = _violations(2, 400, 0.2)
    assert failed["noise-present"] <= 105 and failed["sensitivity"] <= 105
    assert failed["sensitivity"] == 0  # the norm bound is far from tight: no alarm even at α = 0.2


def test_the_plain_noise_test_is_exact_without_signal():
    """With s_t = 0 the statistic is exactly χ²_{TP}: at α = 0.1 the plain test (run alone: no
    centred statistic) fires in 10% of 2000 records; 99.9% binomial band [0.078, 0.122]."""
    rng = np.random.default_rng(3)
    fired = 0
    for _ in range(2000):
        record, _ = _simulate(rng, signal=0.0, steps=4)
        fired += audit_record(record, 0.1).verdict == "violation"
    assert 0.078 <= fired / 2000 <= 0.122


def test_shrunk_or_removed_noise_is_flagged_and_a_larger_clip_too():
    rng = np.random.default_rng(4)
    for _ in range(20):
        shrunk, centred = _simulate(rng, noise_scale=0.2)
        result = audit_record(shrunk, 1e-6, centred)
        assert result.verdict == "violation"
        assert [c.name for c in result.checks if not c.passed] == ["noise-present"]
        assert result.noise_p_value < 1e-20 and result.centred_p_value < 1e-20
        # noise removed from a strong signal: the plain test cannot see it, the centred one does
        removed, centred = _simulate(rng, noise_scale=0.0, signal=5.0)
        result = audit_record(removed, 1e-6, centred)
        assert result.noise_p_value > 1e-3 and result.centred_p_value < 1e-30
        assert result.verdict == "violation"
    # a release of the clipped sum of 10 examples at 10·C: far beyond |B_t|·C + the noise's norm bound
    record, centred = _simulate(rng)
    released = record.released_updates.copy()
    released[5] += 10 * 10 * CLIP / L * np.eye(P)[0]
    result = audit_record(ReleaseRecord(released, SIGMA, CLIP, Q, N, L, T, P, record.batch_sizes), 1e-6, centred)
    assert [c.name for c in result.checks if not c.passed] == ["sensitivity"]
    assert result.norm_ratio_max > 3


def test_malformed_records_fail_the_shape_and_finite_checks():
    record, _ = _simulate(np.random.default_rng(5))
    short = ReleaseRecord(record.released_updates[:-1], SIGMA, CLIP, Q, N, L, T, P, None)
    result = audit_record(short)
    assert result.verdict == "violation" and [c.name for c in result.checks] == ["record-shape", "finite"]
    assert f"{T - 1} released updates for the {T} steps accounted" in result.checks[0].detail
    leaky = record.released_updates.copy()
    leaky[3, 2] = np.nan
    result = audit_record(ReleaseRecord(leaky, SIGMA, CLIP, Q, N, L, T, P, None))
    assert [c.name for c in result.checks if not c.passed] == ["finite"] and result.noise_p_value is None
    with pytest.raises(ConfigError, match="alpha=0"):
        audit_record(record, 0)
