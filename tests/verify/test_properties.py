"""Property checks: closed-form pass/fail cases, and what finite-shot estimates can and cannot obey."""

from __future__ import annotations

import dataclasses
import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.theory import Ansatz, gradient_bound, hea, parse_observables, reupload
from privqml.verify import properties as props
from privqml.verify.engines import EngineOptions, GradientResult, gradients


def _one_qubit(observable: str = "Z0") -> Ansatz:
    """ry(θ)|0⟩ measured on ``observable``: f = cos θ for Z0, sin θ + cos θ for X0+Z0."""
    q = cirq.LineQubit(0)
    theta = sympy.Symbol("theta")
    return Ansatz(cirq.Circuit(cirq.ry(theta).on(q)), (theta,), (), parse_observables(observable, (q,)))


def _result(jacobian, tolerance=1e-6, engine="test") -> GradientResult:
    jacobian = np.asarray(jacobian, dtype=float)
    return GradientResult(engine, np.zeros(jacobian.shape[:2]), jacobian, np.full(jacobian.shape, tolerance), 1)


def _deterministic(result: GradientResult) -> GradientResult:
    """The estimate judged as a value (float32 slack only), not against its statistical tolerance."""
    return dataclasses.replace(result, tolerance=np.full(result.jacobian.shape, 1e-5))


def test_per_weight_ratio_and_verdict_in_closed_form():
    ansatz = _one_qubit()
    bound = gradient_bound(ansatz)
    assert bound.per_weight == {"theta": pytest.approx(1.0)}  # |d cos θ / dθ| ≤ 1
    ok = props.check_per_weight(bound, _result([[[0.5]], [[-1.0 - 5e-7]]]))
    assert ok.passed and ok.ratio == pytest.approx(1.0 + 5e-7) and ok.row == 1
    bad = props.check_per_weight(bound, _result([[[0.5]], [[-1.01]]]))
    assert not bad.passed and bad.ratio == pytest.approx(1.01) and bad.row == 1 and "theta" in bad.detail


def test_zero_property_fails_with_infinite_ratio_beyond_tolerance():
    ansatz = hea(2, 1)
    bound = gradient_bound(ansatz)
    assert bound.zero_weights, "hea(2,1) measured on Z0 has provably zero weights"
    index = list(bound.weight_names).index(bound.zero_weights[0])
    jacobian = np.zeros((1, 1, ansatz.n_weights))
    jacobian[0, 0, index] = 1e-7
    assert props.check_zero(bound, _result(jacobian)).passed
    jacobian[0, 0, index] = 1e-3
    failed = props.check_zero(bound, _result(jacobian))
    assert not failed.passed and math.isinf(failed.ratio) and bound.zero_weights[0] in failed.detail


def test_total_uses_the_pointwise_bound_where_it_is_smaller():
    ansatz = reupload(2, 2)  # ∂t/∂w = x: the bound at a small input is smaller than the sup
    bound = gradient_bound(ansatz)
    inputs = np.full((1, 2), 0.1)
    pointwise = bound.pointwise(inputs[0])
    assert pointwise < 0.9 * bound.grad_norm_bound
    jacobian = np.zeros((1, 1, ansatz.n_weights))
    jacobian[0, 0, 0] = pointwise * 0.999
    assert props.check_total(bound, _result(jacobian), inputs).passed
    jacobian[0, 0, 0] = pointwise * 1.001
    failed = props.check_total(bound, _result(jacobian), inputs)
    assert not failed.passed and failed.ratio == pytest.approx(1.001)


def test_agreement_ratio_is_difference_over_tolerance():
    a, b = _result([[[1.0, 2.0]]], 0.01), _result([[[1.005, 2.0]]], 0.01, engine="ref")
    observation = props.check_agreement(a, b, ["u", "v"])
    assert observation.passed and observation.ratio == pytest.approx(0.25)
    observation = props.check_agreement(_result([[[1.1, 2.0]]], 0.01), b, ["u", "v"])
    assert not observation.passed and observation.ratio == pytest.approx(95 / 20)


def test_a_single_shot_estimate_attains_the_estimator_bound():
    """At θ = π/2 the shifted circuits give f = −1 and +1 with certainty: one shot yields
    ĝ = (−1 − 1)/2 = −1 exactly, the estimator bound (and the theory bound) itself."""
    ansatz = _one_qubit()
    bound = gradient_bound(ansatz)
    result = gradients("shots", ansatz, [[math.pi / 2]], None, EngineOptions(repetitions=1))
    assert result.jacobian[0, 0, 0] == pytest.approx(-1.0, abs=1e-6)
    observation = props.check_estimates("shots", ansatz, bound, result, np.array([[math.pi / 2]]), np.zeros((1, 0)),
                                        props.sample_mean_widths(ansatz))
    assert observation.passed and observation.ratio == pytest.approx(1.0, abs=1e-6)


def test_shot_estimates_of_a_pauli_sum_exceed_the_exact_range_bound_but_not_the_sampled_bound():
    """O = X + Z has eigenvalues ±√2, so the theory bound on |∂f/∂θ| is √2 (and tight); a
    one-shot estimate samples X and Z separately and reaches |ĝ| = 2 with probability 1/4 at θ = 0."""
    ansatz = _one_qubit("X0+Z0")
    bound = gradient_bound(ansatz)
    assert bound.grad_norm_bound == pytest.approx(math.sqrt(2))
    sampled = gradient_bound(ansatz, sampled=True)
    assert sampled.grad_norm_bound == pytest.approx(2.0)  # the theory's bound on single estimates
    weights = np.zeros((100, 1))
    result = gradients("shots", ansatz, weights, None, EngineOptions(repetitions=1))
    assert np.abs(result.jacobian).max() == pytest.approx(2.0, abs=1e-5)  # P(no 2 in 100) = 0.75^100
    assert not props.check_per_weight(bound, _deterministic(result)).passed
    assert props.check_estimates("shots", ansatz, bound, result, weights, np.zeros((100, 0)),
                                 props.sample_mean_widths(ansatz)).passed
    observation = props.check_sampled_bound("shots", sampled, result, np.zeros((100, 0)))
    assert observation.passed and observation.ratio == pytest.approx(1.0, abs=1e-5)


def test_pruned_bound_does_not_cover_finite_shot_estimates():
    """A provably-zero weight has a zero *gradient*, but its shot estimate is a difference of two
    independent sample means: nonzero, yet within the un-pruned estimator bound."""
    ansatz = hea(2, 1)
    bound = gradient_bound(ansatz)
    pruned = [list(bound.weight_names).index(w) for w in bound.zero_weights]
    rng = np.random.default_rng(0)
    weights = rng.uniform(-math.pi, math.pi, size=(40, ansatz.n_weights))
    inputs = rng.uniform(-math.pi, math.pi, size=(40, ansatz.n_inputs))
    result = gradients("shots", ansatz, weights, inputs, EngineOptions(repetitions=1))
    assert np.abs(result.jacobian[:, :, pruned]).max() > 0.1
    assert not props.check_zero(bound, _deterministic(result)).passed
    assert props.check_estimates("shots", ansatz, bound, result, weights, inputs,
                                 props.sample_mean_widths(ansatz)).passed
    assert props.check_sampled_bound("shots", gradient_bound(ansatz, sampled=True), result, inputs).passed


def test_estimator_bound_from_theory_spreads_equals_tfq_shift_rule_weights():
    ansatz = hea(3, 2, "Z0*Z1+0.5*X2")
    rng = np.random.default_rng(1)
    weights = rng.uniform(-3, 3, size=(2, ansatz.n_weights))
    inputs = rng.uniform(-3, 3, size=(2, ansatz.n_inputs))
    result = gradients("shots", ansatz, weights, inputs, EngineOptions(repetitions=10))
    per_weight, _ = props.estimator_bounds(ansatz, gradient_bound(ansatz), weights, inputs,
                                           props.sample_mean_widths(ansatz))
    np.testing.assert_allclose(result.estimate_bound, per_weight, rtol=1e-6)


def test_merge_reports_the_first_failure_and_the_largest_ratio():
    a = props.Observation("p", "x", True, 0.7, 0, "a")
    b = props.Observation("p", "y", False, 1.3, 2, "b")
    merged = props.merge("p", [a, b])
    assert not merged.passed and merged.engine == "y" and merged.ratio == 1.3 and merged.row == 2
