"""Quantum noise as the only randomness: exact counterexamples (claim C1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from privqml.errors import ConfigError
from privqml.theory import hea
from privqml.verify.audit.quantum import (
    canonical_counterexample,
    depolarizing_step,
    exact_expectations,
    one_qubit_model,
    replace_one_shot_epsilon,
    shot_noise_privacy_loss,
    shot_noise_variance,
)


def test_one_qubit_model_expectation_closed_form():
    model = one_qubit_model()
    x = np.array([[0.0], [0.4], [math.pi / 2], [-2.0]])
    assert np.allclose(exact_expectations(model, [0.7], x), np.cos(x[:, 0]) * math.cos(0.7), atol=1e-12)
    noisy = one_qubit_model(depolarizing=0.1)
    contraction = (1 - 4 * 0.1 / 3) ** 2
    assert np.allclose(exact_expectations(noisy, [0.7], x), contraction * np.cos(x[:, 0]) * math.cos(0.7), atol=1e-12)


@pytest.mark.parametrize("shots", [1, 2, 3, 10, 101, 1000])
def test_shot_noise_has_no_finite_epsilon_for_any_number_of_shots(shots):
    loss = canonical_counterexample(shots)
    assert loss.canary_expectation == pytest.approx(1.0, abs=1e-12)
    assert shot_noise_variance(loss.canary_expectation, shots) == pytest.approx(0.0, abs=1e-12)
    assert loss.max_log_likelihood_ratio == math.inf and not loss.finite_epsilon_possible
    # A witness outcome: impossible under one dataset, possible under the other.
    assert loss.witness_p_without == 0.0 and loss.witness_p_with > 0.0
    # δ_∞ exactly: odd N shifts the grid (supports disjoint: 1); even N: P[K > N/2] for a fair coin.
    if shots % 2:
        expected = 1.0
    else:
        expected = float(stats.binom.sf(shots // 2, shots, 0.5))
    assert loss.delta_infinite == pytest.approx(expected, rel=1e-9)
    assert loss.delta_infinite >= 0.25
    # Even a huge ε needs δ ≥ δ_∞.
    assert loss.hockey_stick(50.0) >= loss.delta_infinite - 1e-12


def test_shot_noise_pmfs_are_exact_distributions():
    loss = canonical_counterexample(4)
    values = np.array(loss.values)
    without, with_ = np.array(loss.pmf_without), np.array(loss.pmf_with)
    assert without.sum() == pytest.approx(1.0) and with_.sum() == pytest.approx(1.0)
    # S_D = 2K/4 − 1 with K ~ Bin(4, 1/2); S_D′ = S_D + 1.
    for k in range(5):
        p = stats.binom.pmf(k, 4, 0.5)
        assert without[np.isclose(values, 2 * k / 4 - 1)].sum() == pytest.approx(p)
        assert with_[np.isclose(values, 2 * k / 4)].sum() == pytest.approx(p)


def test_replace_one_shot_epsilon_closed_form():
    # |f| <= 1/2 everywhere, one example replaced, 10 shots: ε = 10·log((1 + 1/2)/(1 − 1/2)).
    assert replace_one_shot_epsilon(0.5, 10) == pytest.approx(10 * math.log(3))
    assert replace_one_shot_epsilon(0.5, 100) == pytest.approx(10 * replace_one_shot_epsilon(0.5, 10))
    assert replace_one_shot_epsilon(1.0, 1) == math.inf
    with pytest.raises(ConfigError, match="max_abs_expectation"):
        replace_one_shot_epsilon(1.5, 1)


def test_depolarizing_with_shots_still_unbounded_under_add_remove():
    # Depolarising noise keeps |f| ≤ (1 − 4p/3)² < 1, but adding an example adds a term to the
    # released sum: its extreme values are impossible without it.
    loss = shot_noise_privacy_loss(one_qubit_model(0.05), [0.0], [[math.pi / 2]], [0.0], shots=50)
    assert abs(loss.canary_expectation) < 1.0
    assert loss.max_log_likelihood_ratio == math.inf and loss.delta_infinite > 0.1


def test_depolarizing_alone_is_deterministic():
    step = depolarizing_step(0.05)
    assert step.distance > 1e-3  # the canary moves the weights ...
    assert step.max_log_likelihood_ratio == math.inf and step.delta_infinite == 1.0  # ... deterministically
    assert step.contraction[1] == pytest.approx((1 - 4 * 0.05 / 3) ** 2, rel=1e-12)
    again = depolarizing_step(0.05)
    assert again.weights_with == step.weights_with  # bit-for-bit: no randomness at all


def test_shot_model_rejects_multi_term_observables():
    with pytest.raises(ConfigError, match="one Pauli string"):
        shot_noise_privacy_loss(hea(2, 1, observable="Z0+Z1"), np.zeros(4), [[0.1, 0.2]], [0.0, 0.0], shots=3)
    with pytest.raises(ConfigError, match="shots=0"):
        canonical_counterexample(0)


@pytest.mark.parametrize("device", ["rainbow", "weber"])
def test_a_device_calibrated_noise_step_is_deterministic_too(device):
    """The calibrated channels of a Google device (depolarising, thermal relaxation, readout) applied as channels:
    the canary still moves the weights by a fixed amount, a point mass (δ_∞ = 1); the expectations agree with
    Cirq's density-matrix simulation (checked inside) and are contracted, not sampled."""
    from privqml.verify.audit.quantum import device_step

    step = device_step(device)
    assert step.distance > 1e-3 and step.max_log_likelihood_ratio == math.inf and step.delta_infinite == 1.0
    assert device in step.noise and "amplitude_damp" in step.noise
    assert all(0.9 < c < 1.0 for c in step.contraction[1:])  # weak calibrated noise: a contraction just below 1
    assert device_step(device).weights_with == step.weights_with
