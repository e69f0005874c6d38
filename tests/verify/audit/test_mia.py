"""Membership-inference statistics: TF Privacy's numbers, closed forms, the DP bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.errors import ConfigError, DataError
from privqml.verify.audit.mia import (
    advantage_bound,
    logistic_regression_attack,
    membership_inference,
    threshold_attack,
)


def test_threshold_attack_matches_tf_privacy():
    # TF Privacy's own threshold attack (tensorflow-empirical-privacy 0.1.0 run with
    # scikit-learn 1.6.1 in a throwaway environment) printed, for these losses,
    # AUC 0.6647333333333333 and attacker advantage 0.25333333333333335.
    result = threshold_attack(np.linspace(0, 1, 200) ** 2, np.linspace(0, 1, 150))
    assert result.auc == pytest.approx(0.6647333333333333, abs=1e-12)
    assert result.attacker_advantage == pytest.approx(0.25333333333333335, abs=1e-12)
    assert (result.n_members, result.n_nonmembers) == (200, 150)


def test_threshold_attack_closed_forms():
    # Disjoint losses: perfect attack. Identical losses: chance.
    perfect = threshold_attack([0.1, 0.2, 0.3], [1.0, 2.0])
    assert perfect.auc == 1.0 and perfect.attacker_advantage == 1.0
    chance = threshold_attack([0.5] * 10, [0.5] * 10)
    assert chance.auc == 0.5 and chance.attacker_advantage == 0.0
    # AUC = P[member loss < non-member loss] (Mann–Whitney): for U(0,1)² vs U(0,1) it is 2/3.
    rng = np.random.default_rng(0)
    big = threshold_attack(rng.random(20000) ** 2, rng.random(20000))
    assert big.auc == pytest.approx(2 / 3, abs=0.01)
    # Max |TPR − FPR| = max_t (√t − t) = 1/4.
    assert big.attacker_advantage == pytest.approx(0.25, abs=0.015)


def test_logistic_regression_attack_is_scored_out_of_fold():
    rng = np.random.default_rng(1)
    members = rng.normal(1.0, 1.0, size=(400, 2))
    others = rng.normal(0.0, 1.0, size=(400, 2))
    result = logistic_regression_attack(members, others, seed=0)
    # Bayes-optimal AUC for a unit mean shift along (1, 1): Φ(‖μ‖/√2) = Φ(1) ≈ 0.841.
    assert result.auc == pytest.approx(0.841, abs=0.04)
    # Pure noise features: out-of-fold scoring keeps the AUC near 0.5 (no fitting leak).
    noise = logistic_regression_attack(rng.normal(size=(300, 5)), rng.normal(size=(300, 5)), seed=0)
    assert abs(noise.auc - 0.5) < 0.08
    with pytest.raises(DataError, match="columns"):
        logistic_regression_attack(members, others[:, :1])
    with pytest.raises(ConfigError, match="folds=1"):
        logistic_regression_attack(members, others, folds=1)


def test_advantage_bound_closed_form_and_report():
    assert advantage_bound(0.0) == 0.0
    assert advantage_bound(math.log(3)) == pytest.approx(0.5)
    assert advantage_bound(1.0, 1e-5) == pytest.approx((math.e - 1 + 2e-5) / (math.e + 1))
    assert advantage_bound(math.inf) == 1.0
    report = membership_inference(np.zeros(50), np.ones(50), epsilon_accounted=0.5, delta=1e-5)
    assert report.threshold.attacker_advantage == 1.0 and report.exceeds_bound
    assert report.as_dict()["advantage_bound"] == pytest.approx(advantage_bound(0.5, 1e-5))


def test_membership_inference_on_a_dp_training_run():
    from privqml.models.training.trainer import TrainConfig
    from privqml.verify.audit.mia import membership_inference_on_run

    config = TrainConfig(model="mlp:match=hea,n_qubits=2,n_layers=1", dataset="circle", epsilon=1.0, clip=0.5,
                         epochs=3, batch_size=8, n_train=64, n_test=64, lr=0.1)
    report = membership_inference_on_run(config)
    assert (report.threshold.n_members, report.threshold.n_nonmembers) == (64, 64)
    assert report.epsilon_accounted <= 1.0 and report.advantage_bound == pytest.approx(
        advantage_bound(report.epsilon_accounted, 1e-5))
    # Neither attack beats what ε ≤ 1 allows (0.42 at the run's PLD ε), nor is far from chance.
    assert not report.exceeds_bound
    assert abs(report.threshold.auc - 0.5) < 0.15 and abs(report.logistic_regression.auc - 0.5) < 0.15
