"""The Gaussian mechanism's exact ε against dp-accounting's PLD accountant (an independent code path)."""

from __future__ import annotations

import dp_accounting
import pytest
from dp_accounting import pld

from privqml.verify.audit.gaussian import gaussian_delta, gaussian_epsilon


def test_gaussian_epsilon_matches_dp_accounting_pld():
    # Balle & Wang's exact curve against dp-accounting's PLD accountant (an independent code path).
    for noise_multiplier in (0.5, 1.0, 2.0, 4.0):
        accountant = pld.PLDAccountant()
        accountant.compose(dp_accounting.GaussianDpEvent(noise_multiplier))
        for delta in (1e-5, 1e-3):
            ours = gaussian_epsilon(1 / noise_multiplier, delta)
            assert ours == pytest.approx(accountant.get_epsilon(delta), rel=1e-4, abs=1e-4)
            assert gaussian_delta(1 / noise_multiplier, ours) == pytest.approx(delta, rel=1e-8)
