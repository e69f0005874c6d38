"""The two-dataset audit: closed forms, and seeded Gaussian mechanisms of known ε."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from privqml.errors import ConfigError, DataError
from privqml.verify.audit.distinguishing import audit_distinguishing_test, epsilon_from_error_rates
from privqml.verify.audit.gaussian import gaussian_epsilon


def test_epsilon_from_error_rates_closed_form():
    assert epsilon_from_error_rates(0.01, 0.5, 0.0) == pytest.approx(math.log(50))
    assert epsilon_from_error_rates(0.5, 0.01, 1e-3) == pytest.approx(math.log((1 - 1e-3 - 0.5) / 0.01))
    assert epsilon_from_error_rates(0.5, 0.5, 0.0) == 0.0
    assert epsilon_from_error_rates(0.0, 0.2, 1e-5) == math.inf


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
