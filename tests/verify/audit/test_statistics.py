"""Audit statistics: closed forms, an independent accountant, and seeded Gaussian simulations."""

from __future__ import annotations

import math

import dp_accounting
import numpy as np
import pytest
from dp_accounting import pld
from scipy import special, stats

from privqml.errors import ConfigError, DataError
from privqml.verify.audit.statistics import (
    audit_distinguishing_test,
    clopper_pearson,
    clopper_pearson_upper,
    epsilon_from_error_rates,
    gaussian_delta,
    gaussian_epsilon,
    mean_difference,
    one_run_audit,
    one_run_epsilon_lower_bound,
    one_run_p_value,
    standard_deviation,
)


# -- closed forms ----------------------------------------------------------------------------
def test_clopper_pearson_closed_forms():
    # k = 0: the upper bound solves (1 − p)^n = α exactly.
    assert clopper_pearson_upper(0, 100, 0.05) == pytest.approx(1 - 0.05 ** (1 / 100), rel=1e-10)
    # k = n: the lower bound solves p^n = α/2 (two-sided interval).
    interval = clopper_pearson(20, 20, confidence=0.9)
    assert interval.upper == 1.0 and interval.lower == pytest.approx(0.05 ** (1 / 20), rel=1e-10)
    # The bounds are binomial tail inversions: P[Bin(n, p⁺) ≤ k] = α.
    upper = float(clopper_pearson_upper(7, 50, 0.025))
    assert stats.binom.cdf(7, 50, upper) == pytest.approx(0.025, rel=1e-8)
    with pytest.raises(DataError, match="successes=11"):
        clopper_pearson(11, 10)


def test_epsilon_from_error_rates_closed_form():
    assert epsilon_from_error_rates(0.01, 0.5, 0.0) == pytest.approx(math.log(50))
    assert epsilon_from_error_rates(0.5, 0.01, 1e-3) == pytest.approx(math.log((1 - 1e-3 - 0.5) / 0.01))
    assert epsilon_from_error_rates(0.5, 0.5, 0.0) == 0.0
    assert epsilon_from_error_rates(0.0, 0.2, 1e-5) == math.inf


def test_gaussian_epsilon_matches_dp_accounting_pld():
    # Balle & Wang's exact curve against dp-accounting's PLD accountant (an independent code path).
    for noise_multiplier in (0.5, 1.0, 2.0, 4.0):
        accountant = pld.PLDAccountant()
        accountant.compose(dp_accounting.GaussianDpEvent(noise_multiplier))
        for delta in (1e-5, 1e-3):
            ours = gaussian_epsilon(1 / noise_multiplier, delta)
            assert ours == pytest.approx(accountant.get_epsilon(delta), rel=1e-4, abs=1e-4)
            assert gaussian_delta(1 / noise_multiplier, ours) == pytest.approx(delta, rel=1e-8)


def test_intervals_cover_known_values():
    rng = np.random.default_rng(3)
    with_s, without_s = rng.normal(1.0, 2.0, 4000), rng.normal(0.0, 2.0, 4000)
    assert mean_difference(with_s, without_s).covers(1.0)
    assert standard_deviation(without_s).covers(2.0)
    assert not standard_deviation(without_s).covers(2.2)


# -- the two-dataset audit on a Gaussian mechanism of known ε ------------------------------------
def _gaussian_scores(mu, n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(mu, 1.0, n), rng.normal(0.0, 1.0, n)


@pytest.mark.parametrize("mu,delta", [(1.0, 1e-5), (2.0, 1e-3), (0.5, 1e-2)])
def test_gaussian_lower_bound_is_sound_and_close(mu, delta):
    true_eps = gaussian_epsilon(mu, delta)
    with_s, without_s = _gaussian_scores(mu, 40_000, seed=11)
    audit = audit_distinguishing_test(with_s, without_s, delta=delta)
    assert audit.epsilon_lower_bound <= true_eps
    # Close to the best a threshold test can certify with 20 000 evaluation trials per side:
    # the population ε of the threshold tests whose error rates are >= 20/20 000.
    t = np.linspace(-8, 8, 4001)
    fpr, fnr = stats.norm.sf(t), stats.norm.cdf(t - mu)
    measurable = (fpr >= 1e-3) & (fnr >= 1e-3)
    achievable = float(np.max(epsilon_from_error_rates(fpr[measurable], fnr[measurable], delta)))
    assert achievable <= true_eps + 1e-9
    assert audit.epsilon_lower_bound >= 0.6 * achievable


def test_gaussian_lower_bound_false_violation_rate_is_at_most_alpha():
    # 300 seeded audits of the μ = 1 Gaussian mechanism at 90% confidence: the bound exceeds the
    # true ε in at most 10% of them (the guarantee); observed is far below (the threshold test
    # is conservative), so we assert the guarantee with a binomial allowance.
    mu, delta = 1.0, 1e-2
    true_eps = gaussian_epsilon(mu, delta)
    exceed = 0
    for seed in range(300):
        w, o = _gaussian_scores(mu, 1000, seed)
        exceed += audit_distinguishing_test(w, o, delta=delta, confidence=0.9, seed=seed).epsilon_lower_bound > true_eps
    assert exceed <= stats.binom.ppf(0.999, 300, 0.10)


def test_split_threshold_is_not_tuned_on_counted_trials():
    # Scores identical in law: any reported ε > 0 would come from selection. With the split,
    # and with a fixed grid (Bonferroni), the bound stays 0 in 95% of seeds or more.
    positives_split = positives_grid = 0
    grid = np.linspace(-3, 3, 25)
    for seed in range(100):
        rng = np.random.default_rng(seed)
        w, o = rng.normal(size=300), rng.normal(size=300)
        positives_split += audit_distinguishing_test(w, o, delta=0.0, seed=seed).epsilon_lower_bound > 0
        positives_grid += audit_distinguishing_test(w, o, delta=0.0, threshold=grid).epsilon_lower_bound > 0
    assert positives_split <= 12 and positives_grid <= 12


def test_distinguishing_audit_records_counts_and_rejects_bad_input():
    audit = audit_distinguishing_test(np.linspace(2, 4, 30), np.linspace(0, 1, 30), delta=0.0, threshold=1.5)
    assert (audit.false_positives, audit.false_negatives, audit.threshold_selection) == (0, 0, "given")
    # 30 trials a side, no errors: FPR⁺ = FNR⁺ = u = 1 − 0.025^(1/30), so ε_lb = log((1 − u)/u).
    u = 1 - 0.025 ** (1 / 30)
    assert audit.epsilon_lower_bound == pytest.approx(math.log((1 - u) / u))
    with pytest.raises(ConfigError, match="delta=2"):
        audit_distinguishing_test([1.0], [0.0], delta=2)
    with pytest.raises(DataError, match="NaN"):
        audit_distinguishing_test([np.nan], [0.0], delta=0.0)
    with pytest.raises(DataError, match="too few trials"):
        audit_distinguishing_test([1.0], [0.0], delta=0.0)


# -- one-run audit (Steinke, Nasr & Jagielski 2023) ------------------------------------------------
def test_one_run_pure_dp_closed_form():
    # δ = 0, every one of r guesses right: p(ε) = q^r, so ε_lb = logit(β^(1/r)).
    for r, beta in ((50, 0.05), (200, 0.01)):
        expected = special.logit(beta ** (1 / r))
        got = one_run_epsilon_lower_bound(1000, r, r, delta=0.0, confidence=1 - beta)
        assert got == pytest.approx(expected, abs=1e-9)
    assert one_run_epsilon_lower_bound(100, 100, 50, delta=0.0) == 0.0


def test_one_run_p_value_delta_term():
    # v = 1: the window max is P[W = 0]/1, so p = P[W ≥ 1] + 2mδ·(1 − q)^r.
    m, r, eps, delta = 100, 10, 1.0, 1e-4
    q = math.exp(eps) / (1 + math.exp(eps))
    expected = (1 - (1 - q) ** r) + 2 * m * delta * (1 - q) ** r
    assert one_run_p_value(m, r, 1, eps, delta) == pytest.approx(expected, rel=1e-10)
    # δ only weakens the audit.
    assert one_run_epsilon_lower_bound(1000, 200, 180, delta=1e-5) <= one_run_epsilon_lower_bound(
        1000, 200, 180, delta=0.0
    )


@pytest.mark.parametrize("epsilon", [1.0, 2.0, 4.0])
def test_one_run_randomized_response_is_sound_and_close(epsilon):
    # The ε-DP randomized response on each canary's secret bit: every guess is right with
    # probability e^ε/(1+e^ε), independently — the extremal mechanism of the theorem.
    m, trials, exceed, bounds = 1000, 40, 0, []
    q = math.exp(epsilon) / (1 + math.exp(epsilon))
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        included = rng.random(m) < 0.5
        reported = np.where(rng.random(m) < q, included, ~included)
        scores = reported + 1e-6 * rng.random(m)  # ties broken at random
        audit = one_run_audit(scores, included, k_positive=int(reported.sum()), k_negative=int(m - reported.sum()),
                              delta=0.0, confidence=0.95)
        bounds.append(audit.epsilon_lower_bound)
        exceed += audit.epsilon_lower_bound > epsilon
    assert exceed <= stats.binom.ppf(0.999, trials, 0.05)
    assert np.median(bounds) >= 0.75 * epsilon


def test_one_run_gaussian_canaries_bound_below_true_epsilon():
    # Each canary shifts its score by μ when included (a Gaussian mechanism per canary, and the
    # canaries are independent, so the run is (ε(δ), δ)-DP per canary with ε = gaussian_epsilon).
    mu, delta, m = 4.0, 1e-5, 2000
    true_eps = gaussian_epsilon(mu, delta)
    rng = np.random.default_rng(5)
    included = rng.random(m) < 0.5
    scores = rng.normal(size=m) + mu * included
    audit = one_run_audit(scores, included, k_positive=[50, 100, 200], k_negative=[50, 100, 200],
                          delta=delta)
    assert 1.0 < audit.epsilon_lower_bound <= true_eps
    assert audit.n_k_tried == 3 and audit.n_guesses in (100, 200, 400)
