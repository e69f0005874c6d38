"""Whole-run audits: one training run with many canaries (quantum and classical), and the sampler."""

from __future__ import annotations

import pytest

from privqml.errors import ConfigError
from privqml.verify.audit.one_run import one_run_training_audit, sampling_audit

RUN = dict(dataset="circle", n_canaries=1000, steps=40, batch_size=16, n_train=128, noise_multiplier=2.0,
           clip=0.5, delta=1e-5)


@pytest.mark.parametrize("model", ["hea:n_qubits=2,n_layers=2", "mlp:match=hea,n_qubits=2,n_layers=2"])
def test_one_run_audit_correct_is_consistent_and_noise_omitted_flagged(model):
    correct = one_run_training_audit(model, mechanism="correct", **RUN)
    assert correct.verdict == "consistent"
    assert 0.0 < correct.epsilon_lower_bound < correct.epsilon_accounted
    assert correct.one_run.n_guesses == 500 and correct.one_run.n_included in range(400, 600)
    broken = one_run_training_audit(model, mechanism="noise-omitted", **RUN)
    assert broken.verdict == "violation"
    # Noise omitted: every guess right, ε_lb = logit(0.05^(1/500)) ≈ 5.09 > accounted ε.
    assert broken.one_run.n_correct == broken.one_run.n_guesses
    assert broken.epsilon_lower_bound == pytest.approx(5.088, abs=0.01)
    assert broken.epsilon_lower_bound > broken.epsilon_accounted == correct.epsilon_accounted


def test_one_run_audit_rejects_bad_input():
    with pytest.raises(ConfigError, match="mechanism='typo'"):
        one_run_training_audit("mlp", mechanism="typo")
    with pytest.raises(ConfigError, match="n_canaries=2"):
        one_run_training_audit("mlp", n_canaries=2)


SAMPLING = dict(n_examples=1000, batch_size=10, noise_multiplier=1.0, trials=50_000, epochs_simulated=200)


def test_poisson_sampler_of_the_trainer_is_consistent():
    result = sampling_audit("poisson", **SAMPLING)
    assert result.verdict == "consistent", [c.detail for c in result.checks if not c.passed]
    assert result.appearances_variance == pytest.approx(result.appearances_variance_poisson, rel=0.3)
    assert result.epsilon_lower_bound <= result.epsilon_accounted_poisson


def test_shuffled_fixed_size_batches_accounted_as_poisson_are_flagged():
    secret = sampling_audit("shuffle", **SAMPLING)
    assert secret.verdict == "violation"
    assert secret.appearances_variance == 0.0 and secret.batch_size_variance == 0.0
    assert [c.name for c in secret.checks if not c.passed] == ["sampling-is-poisson"]
    public = sampling_audit("shuffle-public", **SAMPLING)
    # A public permutation: the adversary reads the canary's step, the Gaussian step is unamplified:
    # ε_lb ≈ 2.3 against the Poisson-accounted 0.72 (PLD, q = 0.01, T = 100).
    assert public.verdict == "violation"
    assert public.epsilon_lower_bound > public.epsilon_accounted_poisson
    assert public.epsilon_accounted_poisson == pytest.approx(0.718, abs=0.01)
