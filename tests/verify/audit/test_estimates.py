"""Welch and χ² intervals cover the values they estimate (seeded Gaussian samples)."""

from __future__ import annotations

import numpy as np

from privqml.verify.audit.estimates import mean_difference, standard_deviation


def test_intervals_cover_known_values():
    rng = np.random.default_rng(3)
    with_s, without_s = rng.normal(1.0, 2.0, 4000), rng.normal(0.0, 2.0, 4000)
    assert mean_difference(with_s, without_s).covers(1.0)
    assert standard_deviation(without_s).covers(2.0)
    assert not standard_deviation(without_s).covers(2.2)
