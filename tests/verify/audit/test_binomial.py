"""Clopper–Pearson bounds: closed forms and binomial tail inversions."""

from __future__ import annotations

import pytest
from scipy import stats

from privqml.errors import DataError
from privqml.verify.audit.binomial import clopper_pearson, clopper_pearson_upper


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
