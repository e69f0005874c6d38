"""Accounting: cited reference values, TF Privacy cross-checks and its traps, calibration round trips.

Reference: Abadi et al., "Deep Learning with Differential Privacy", CCS 2016, §3.1: with
q = 0.01, σ = 4, δ = 1e-5 and T = 10 000 steps the moments accountant gives ε ≈ 1.26 (strong
composition: 9.34). dp-accounting 0.4.3's RDP accountant (better RDP→DP conversion) gives 1.0355
and its PLD accountant 0.9470 (measured with these pinned versions).
"""

from __future__ import annotations

import importlib.metadata
import json
import math

import dp_accounting
import mpmath
import pytest
from dp_accounting.rdp import RdpAccountant

from privqml import jsonio, validation
from privqml.errors import ConfigError
from privqml.models.privacy.accounting import (
    PLD_SIGMA_FLOOR,
    calibrate_noise_multiplier,
    check_accountable,
    compress_ledger,
    compute_epsilon,
    dpsgd_event,
    epsilon_of_event,
    max_accountable_noise_multiplier,
    privacy_report,
    tf_privacy_statement_epsilon,
)

ABADI = dict(sampling_probability=0.01, noise_multiplier=4.0, steps=10_000, delta=1e-5)


DP_ACCOUNTING_VERSION = importlib.metadata.version("dp-accounting")  # 0.4.3 default stack, 0.6.0 on 3.12

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


# -- the accountants' exact range -----------------------------------------------------------------
def _poisson(q, sigma, steps=1):
    return dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps)


@pytest.mark.parametrize(
    "event,start",
    [
        # NaN σ (a clip of 0 in float32 gives stddev/C = 0/0): dp-accounting's series never ends
        (_poisson(0.1, math.nan, 10), "noise_multiplier=nan must be a finite number >= 0"),
        (_poisson(0.1, math.inf, 10), "noise_multiplier=inf must be a finite number >= 0"),
        (_poisson(math.nan, 1.0, 10), "sampling_probability=nan must lie in (0, 1]"),
        (_poisson(1.5, 1.0, 10), "sampling_probability=1.5 must lie in (0, 1]"),
        (_poisson(1e-6, 64.0, 10), "noise_multiplier=64.0 at sampling_probability=1e-06: the per-step privacy loss"),
        (dp_accounting.GaussianDpEvent(1e38), "noise_multiplier=1e+38 at sampling_probability=1: the per-step"),
        (dp_accounting.ComposedDpEvent([_poisson(0.1, 1.0), _poisson(0.1, math.nan)]), "noise_multiplier=nan"),
    ],
)
@pytest.mark.parametrize("accountant", ["rdp", "pld"])
def test_an_event_outside_the_exact_range_is_refused_at_once(event, start, accountant):
    with pytest.raises(ConfigError) as info:
        epsilon_of_event(event, 1e-5, accountant)
    assert str(info.value).startswith(start), str(info.value)


def test_the_pld_accountant_refuses_a_sigma_below_its_floor_and_zero_sigma_is_infinite():
    with pytest.raises(ConfigError, match=r"^noise_multiplier=0.1 is below 0.3: the PLD accountant"):
        epsilon_of_event(_poisson(0.1, 0.1, 10), 1e-5, "pld")
    assert epsilon_of_event(_poisson(0.1, 0.1, 10), 1e-5, "rdp") > 100
    assert epsilon_of_event(_poisson(0.1, 0.0, 10), 1e-5, "rdp") == math.inf
    assert check_accountable(0.1, 0.0, "pld") == 0.0


def test_the_largest_accountable_sigma_solves_the_signal_equation():
    """σ_max(q) = 1/√(log(1 + s²/q²)), s = 2⁻¹⁶: q·√(e^{1/σ²} − 1) = s there; 2¹⁶ at q = 1."""
    for q in (1e-7, 1e-4, 0.01, 0.5, 1.0):
        sigma = max_accountable_noise_multiplier(q)
        assert q * math.sqrt(math.expm1(1 / sigma**2)) == pytest.approx(validation.ACCOUNTING_MIN_SIGNAL, rel=1e-9)
        assert check_accountable(q, sigma) == sigma
        with pytest.raises(ConfigError):
            check_accountable(q, sigma * (1 + 1e-9))
    assert max_accountable_noise_multiplier(1.0) == pytest.approx(2.0**16, rel=1e-9)
    assert max_accountable_noise_multiplier(1.0) >= validation.NOISE_MULTIPLIER_MAX
    assert max_accountable_noise_multiplier(1e-6) == pytest.approx(0.428172, abs=1e-6)


def _rdp_integer_order(q, sigma, alpha):
    """log A_α/(α − 1), A_α = Σ_k C(α,k) q^k (1−q)^(α−k) e^{(k²−k)/(2σ²)} (Mironov et al. 2019,
    arXiv:1908.10530, §3.3), in 60-digit arithmetic."""
    with mpmath.workdps(60):
        q, sigma = mpmath.mpf(q), mpmath.mpf(sigma)
        total = mpmath.fsum(mpmath.binomial(alpha, k) * q**k * (1 - q) ** (alpha - k)
                            * mpmath.exp(mpmath.mpf(k * k - k) / (2 * sigma**2)) for k in range(alpha + 1))
        return float(mpmath.log(total) / (alpha - 1))


def _rdp_any_order(q, sigma, alpha):
    """log E_{z~N(0,σ²)}[(1 − q + q·e^{(2z − 1)/(2σ²)})^α]/(α − 1) by quadrature in 40 digits."""
    with mpmath.workdps(40):
        q, sigma, alpha = mpmath.mpf(q), mpmath.mpf(sigma), mpmath.mpf(alpha)
        ratio = lambda t: 1 + q * (mpmath.exp(t / sigma - 1 / (2 * sigma**2)) - 1)  # noqa: E731
        total = mpmath.quad(lambda t: mpmath.npdf(t) * ratio(t) ** alpha, [-mpmath.inf, -10, 0, 10, mpmath.inf])
        return float(mpmath.log(total) / (alpha - 1))


@pytest.mark.parametrize("q", [1e-7, 3e-4, 0.1, 0.5, 0.9, 1.0])
def test_at_the_edge_of_the_range_dp_accountings_rdp_is_within_2_percent_of_an_oracle(q):
    """At σ = σ_max(q) (q·√(e^{1/σ²} − 1) = 2⁻¹⁶) no order's per-step RDP is below a high-precision
    oracle (closed form for integer orders, quadrature for fractional ones) by more than 2 %, so the ε
    composed from them is an upper bound. dp-accounting 0.4.3 (the default stack) is within 2 % at
    every order (worst: 1.2 % at q = 1/2, α = 1.1); 0.6.0 (the Python 3.12 stack) is within 2 % at the
    integer orders, and its series for fractional orders may stop unconverged and over-state the RDP
    (4e-4 for 1.3e-10 at α = 1.1; 1e-6 for 1.2e-9 at α = 10.5, q = 1/2) or drop the order (inf):
    conservative either way."""
    sigma = max_accountable_noise_multiplier(q)
    event = dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma))
    orders = [1.1, 1.5, 2, 3, 10.5, 32, 256]
    rdp = RdpAccountant(orders=orders).compose(event)._rdp  # noqa: SLF001 - the per-order values
    for alpha, got in zip(orders, rdp):
        exact = _rdp_integer_order(q, sigma, alpha) if float(alpha).is_integer() else _rdp_any_order(q, sigma, alpha)
        assert got >= exact * (1 - 0.02), (q, sigma, alpha, got, exact)  # never an under-statement
        if DP_ACCOUNTING_VERSION == "0.4.3" or float(alpha).is_integer():
            assert got == pytest.approx(exact, rel=0.02), (q, sigma, alpha, got, exact)


def test_just_outside_the_range_dp_accountings_rdp_fails():
    """q = 1/2, σ = 2¹⁹ (signal 2⁻²⁰): the order-1.1 RDP is lost — dp-accounting 0.4.3 computes it negative and
    raises, 0.6.0 drops the order and returns ε = ∞. Either way no usable ε: the range ends before this."""
    event = dp_accounting.PoissonSampledDpEvent(0.5, dp_accounting.GaussianDpEvent(2.0**19))
    try:
        epsilon = RdpAccountant(orders=[1.1]).compose(event).get_epsilon(1e-5)
    except ValueError as exc:
        assert "Renyi divergence cannot be negative" in str(exc)
    else:
        assert epsilon == math.inf


def test_calibration_refuses_targets_outside_the_range_instead_of_failing_inside_dp_accounting():
    # a tiny ε needs σ beyond σ_max(q): refused with the limit named
    with pytest.raises(ConfigError, match=r"needs a noise_multiplier above 0.428172, beyond which"):
        calibrate_noise_multiplier(1e-3, 1e-9, 1e-6, 10, "rdp")
    # PLD cannot verify a σ below its floor: a large ε is refused, naming the largest usable one
    refused = r"^epsilon=1000.0 needs noise_multiplier=0\.\d+ < 0.3 \(rdp\), below which .* use epsilon <= 55\.[78] for"
    with pytest.raises(ConfigError, match=refused):
        calibrate_noise_multiplier(1000.0, 1e-5, 8 / 48, 12, "pld")
    assert calibrate_noise_multiplier(1000.0, 1e-5, 8 / 48, 12, "rdp") < PLD_SIGMA_FLOOR
