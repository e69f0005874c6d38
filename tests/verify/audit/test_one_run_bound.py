"""The one-run audit's bound (Steinke, Nasr & Jagielski 2023): closed forms, randomized response, Gaussian canaries."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from privqml.verify.audit.gaussian import gaussian_epsilon
from privqml.verify.audit.one_run_bound import one_run_audit, one_run_epsilon_lower_bound, one_run_p_value


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
