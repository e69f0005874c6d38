r"""The Gaussian mechanism as a known-ε oracle: its exact privacy profile.

The Gaussian mechanism with sensitivity Δ and noise σ (μ = Δ/σ, the reciprocal of DP-SGD's noise
multiplier for one unsampled step) is exactly (ε, δ(ε))-DP with (Balle & Wang, ICML 2018, Thm. 8)

    δ(ε) = Φ(μ/2 − ε/μ) − e^ε Φ(−μ/2 − ε/μ);

:func:`gaussian_epsilon` inverts it. The tests use it as the true ε of simulated mechanisms.
"""

from __future__ import annotations

import math

from scipy import optimize, stats

from privqml import validation


def gaussian_delta(mu: float, epsilon: float) -> float:
    """δ(ε) of the Gaussian mechanism with μ = sensitivity/σ (Balle & Wang 2018, Thm. 8)."""
    validation.positive("mu", mu, hint="mu is the sensitivity over the noise standard deviation")
    a = mu / 2 - epsilon / mu
    b = -mu / 2 - epsilon / mu
    # Φ(a) − e^ε Φ(b), with the second term in log space to avoid overflow.
    second = math.exp(epsilon + stats.norm.logcdf(b)) if b > -40 else 0.0
    return float(stats.norm.cdf(a) - second)


def gaussian_epsilon(mu: float, delta: float) -> float:
    """The exact ε at ``delta`` of the Gaussian mechanism with μ = sensitivity/σ (inverts
    :func:`gaussian_delta`; the one-step DP-SGD step without sampling has μ = 1/noise_multiplier)."""
    validation.delta("delta", delta, allow_zero=True)
    if delta <= 0:
        return math.inf
    if gaussian_delta(mu, 0.0) <= delta:
        return 0.0
    hi = 1.0
    while gaussian_delta(mu, hi) > delta:
        hi *= 2.0
    return float(optimize.brentq(lambda e: gaussian_delta(mu, e) - delta, 0.0, hi, xtol=1e-12))


__all__ = ["gaussian_delta", "gaussian_epsilon"]
