"""Exact (Clopper–Pearson) confidence bounds for a proportion, from k successes in n trials.

The audits turn error counts of a distinguishing test into bounds on its error rates with these
(Clopper & Pearson, Biometrika 1934): the one-sided upper bound p⁺ solves P_p⁺[Bin(n, p⁺) ≤ k] = α,
so P[p ≤ p⁺] ≥ 1 − α; the lower bound is its mirror image.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from privqml import validation
from privqml.errors import DataError


def clopper_pearson_upper(successes, trials, alpha: float):
    """One-sided exact (Clopper–Pearson) upper bound p⁺ on a proportion from k successes in n
    trials: p⁺ solves P_p⁺[Bin(n, p⁺) ≤ k] = α, so P[p ≤ p⁺] ≥ 1 − α. Vectorised over k;
    1 when k = n."""
    k = np.asarray(successes, dtype=np.float64)
    n = float(trials)
    with np.errstate(invalid="ignore"):
        upper = stats.beta.ppf(1.0 - alpha, k + 1.0, np.maximum(n - k, 1e-300))
    return np.where(k >= n, 1.0, upper)


def clopper_pearson_lower(successes, trials, alpha: float):
    """One-sided exact lower bound p⁻ (Clopper–Pearson): P[p ≥ p⁻] ≥ 1 − α; 0 when k = 0."""
    k = np.asarray(successes, dtype=np.float64)
    n = float(trials)
    with np.errstate(invalid="ignore"):
        lower = stats.beta.ppf(alpha, np.maximum(k, 1e-300), n - k + 1.0)
    return np.where(k <= 0, 0.0, lower)


@dataclasses.dataclass(frozen=True)
class BinomialInterval:
    """A two-sided Clopper–Pearson interval for a proportion (successes/trials)."""

    successes: int
    trials: int
    lower: float
    upper: float
    confidence: float

    @property
    def estimate(self) -> float:
        return self.successes / self.trials


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> BinomialInterval:
    """Exact two-sided interval, α/2 in each tail (Clopper & Pearson, Biometrika 1934)."""
    validation.confidence("confidence", confidence)
    if not (isinstance(trials, (int, np.integer)) and trials >= 1):
        raise DataError(f"trials={trials!r} must be an integer >= 1")
    if not 0 <= successes <= trials:
        raise DataError(f"successes={successes} must lie in [0, trials={trials}]")
    alpha = 1.0 - confidence
    return BinomialInterval(
        int(successes),
        int(trials),
        float(clopper_pearson_lower(successes, trials, alpha / 2)),
        float(clopper_pearson_upper(successes, trials, alpha / 2)),
        confidence,
    )


__all__ = ["BinomialInterval", "clopper_pearson", "clopper_pearson_lower", "clopper_pearson_upper"]
