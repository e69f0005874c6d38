"""Accounting: cited reference values, TF Privacy cross-checks and its traps, calibration round trips.

Reference: Abadi et al., "Deep Learning with Differential Privacy", CCS 2016, §3.1: with
q = 0.01, σ = 4, δ = 1e-5 and T = 10 000 steps the moments accountant gives ε ≈ 1.26 (strong
composition: 9.34). dp-accounting 0.4.3's RDP accountant (better RDP→DP conversion) gives 1.0355
and its PLD accountant 0.9470 (measured with these pinned versions).
"""

from __future__ import annotations

import json
import math

import dp_accounting
import pytest

from privqml import jsonio
from privqml.errors import ConfigError
from privqml.models.privacy.accounting import (
    calibrate_noise_multiplier,
    compress_ledger,
    compute_epsilon,
    dpsgd_event,
    epsilon_of_event,
    privacy_report,
    tf_privacy_statement_epsilon,
)

ABADI = dict(sampling_probability=0.01, noise_multiplier=4.0, steps=10_000, delta=1e-5)


def test_abadi_reference_rdp_and_pld():
    eps_rdp = compute_epsilon(**ABADI, accountant="rdp")
    eps_pld = compute_epsilon(**ABADI, accountant="pld")
    assert eps_rdp == pytest.approx(1.0355, abs=5e-4)
    assert eps_pld == pytest.approx(0.9470, abs=5e-4)
    assert eps_pld < eps_rdp < 1.26  # both tighter than the paper's moments accountant


def test_tf_privacy_statement_agrees_without_microbatching_and_shows_the_trap():
    # 60000 examples, batch 600 (q = 0.01), 100 epochs = 10 000 steps: Abadi's setting
    ours = compute_epsilon(**ABADI, accountant="rdp")
    statement = tf_privacy_statement_epsilon(60000, 600, 100, 4.0, 1e-5, used_microbatching=False)
    assert statement == pytest.approx(ours, abs=1e-3)  # the statement prints 3 decimals
    # the default used_microbatching=True halves sigma: it reports the epsilon of sigma = 2
    trap = tf_privacy_statement_epsilon(60000, 600, 100, 4.0, 1e-5, used_microbatching=True)
    assert trap == pytest.approx(compute_epsilon(0.01, 2.0, 10_000, 1e-5), abs=1e-3)
    assert trap > 2 * ours


def test_tf_privacy_compute_dp_sgd_privacy_agrees():
    from tensorflow_privacy.privacy.analysis.compute_dp_sgd_privacy_lib import compute_dp_sgd_privacy

    eps, _ = compute_dp_sgd_privacy(60000, 600, 4.0, 100, 1e-5)
    assert eps == pytest.approx(compute_epsilon(**ABADI), rel=1e-9)


@pytest.mark.parametrize("accountant", ["rdp", "pld"])
def test_calibration_round_trip(accountant):
    q, steps, delta = 0.05, 200, 1e-5
    sigma = calibrate_noise_multiplier(2.0, delta, q, steps, accountant, tol=1e-3)
    assert compute_epsilon(q, sigma, steps, delta, accountant) <= 2.0
    # within tol of optimal: a little less noise already overshoots the budget
    assert compute_epsilon(q, sigma - 0.01, steps, delta, accountant) > 2.0


def test_calibration_is_monotone_and_pld_needs_less_noise():
    q, steps, delta = 0.05, 200, 1e-5
    sigmas = [calibrate_noise_multiplier(eps, delta, q, steps, "rdp") for eps in (0.5, 1.0, 4.0)]
    assert sigmas[0] > sigmas[1] > sigmas[2] > 0
    assert calibrate_noise_multiplier(1.0, delta, q, steps, "pld", tol=1e-3) < sigmas[1]
    assert calibrate_noise_multiplier(math.inf, delta, q, steps) == 0.0


def test_ledger_compression_preserves_epsilon():
    step = dpsgd_event(0.1, 1.3, 1).event
    other = dpsgd_event(0.1, 2.0, 1).event
    events = [step] * 4 + [other] * 2 + [step] * 2
    composed = compress_ledger(events)
    direct = dp_accounting.ComposedDpEvent(events)
    assert epsilon_of_event(composed, 1e-5) == pytest.approx(epsilon_of_event(direct, 1e-5), rel=1e-12)
    assert isinstance(compress_ledger([step] * 7), dp_accounting.SelfComposedDpEvent)


def test_privacy_report_and_non_private_runs():
    event = dpsgd_event(0.1, 1.5, 50)
    report = privacy_report(event, 1e-5, 1.5, 0.1, 50, calibrated_with=None)
    assert report.epsilon_rdp == pytest.approx(compute_epsilon(0.1, 1.5, 50, 1e-5))
    assert report.epsilon_pld == pytest.approx(compute_epsilon(0.1, 1.5, 50, 1e-5, "pld"))
    assert report.as_dict()["sampling"] == "poisson"
    off = privacy_report(event, 1e-5, 0.0, 0.1, 50, private=False)
    assert math.isinf(off.epsilon_rdp) and off.as_dict()["epsilon_rdp"] == math.inf
    assert json.loads(jsonio.dumps(off.as_dict()))["epsilon_rdp"] == "inf"  # the package's JSON convention
    assert compute_epsilon(0.1, 0.0, 10, 1e-5) == math.inf


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(target_epsilon=0.0), dict(target_epsilon=-1.0), dict(delta=0.0), dict(delta=1.0),
        dict(sampling_probability=0.0), dict(sampling_probability=1.5), dict(steps=0), dict(accountant="moments"),
    ],
)
def test_bad_accounting_inputs(kwargs):
    args = dict(target_epsilon=1.0, delta=1e-5, sampling_probability=0.1, steps=10, accountant="rdp")
    args.update(kwargs)
    with pytest.raises(ConfigError):
        calibrate_noise_multiplier(**args)
