"""Point estimates with confidence intervals, for the shift and the noise scale of a release.

:func:`mean_difference` is the Welch t interval for a difference of means (unequal variances,
Welch–Satterthwaite degrees of freedom); :func:`standard_deviation` the χ² interval for a standard
deviation, exact for Gaussian samples.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from privqml.errors import DataError


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval, in the units of the samples."""

    value: float
    lower: float
    upper: float
    confidence: float

    def covers(self, target: float) -> bool:
        return self.lower <= target <= self.upper

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def mean_difference(with_samples, without_samples, confidence: float = 0.95) -> Estimate:
    """mean(with) − mean(without) with a Welch t interval."""
    a = np.asarray(with_samples, dtype=np.float64)
    b = np.asarray(without_samples, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        raise DataError(f"need >= 2 samples on each side, got {a.size} and {b.size}")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Estimate(diff, diff, diff, confidence)
    dof = (va + vb) ** 2 / ((va**2) / (a.size - 1) + (vb**2) / (b.size - 1)) if va + vb > 0 else 1.0
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * se
    return Estimate(diff, diff - half, diff + half, confidence)


def standard_deviation(samples, confidence: float = 0.95) -> Estimate:
    """Sample standard deviation with the χ² interval (exact for Gaussian samples)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < 2:
        raise DataError(f"need >= 2 samples for a standard deviation, got {x.size}")
    dof = x.size - 1
    s2 = float(x.var(ddof=1))
    alpha = 1.0 - confidence
    lo = math.sqrt(dof * s2 / stats.chi2.ppf(1 - alpha / 2, dof))
    hi = math.sqrt(dof * s2 / stats.chi2.ppf(alpha / 2, dof))
    return Estimate(math.sqrt(s2), lo, hi, confidence)


__all__ = ["Estimate", "mean_difference", "standard_deviation"]
