"""run_setup: one set-up (model, data, q, T, C, σ) for the trainer and the audits, refused early when
the printed ε would not be the guarantee."""

from __future__ import annotations

import math

import pytest

from privqml.errors import ConfigError
from privqml.models.privacy.accounting import calibrate_noise_multiplier
from privqml.models.training.records import TrainConfig
from privqml.models.training.setup import METER_ONLY, NO_CLIP_SOURCE, SIGMA_MARGIN, run_setup

HEA = "hea:n_qubits=2,n_layers=1"
SMALL = dict(dataset="circle", n_train=64, n_test=16, batch_size=8, epochs=2, seed=0)


def test_a_private_setup_calibrates_sigma_with_the_margin_and_clips_at_the_bound():
    setup = run_setup(TrainConfig(model=HEA, epsilon=2.0, **SMALL))
    assert (setup.sampling_probability, setup.steps_per_epoch, setup.steps) == (8 / 64, 8, 16)
    assert setup.noise_multiplier == calibrate_noise_multiplier(2.0, 1e-5, 8 / 64, 16, "rdp") * SIGMA_MARGIN
    assert setup.calibrated_with == "rdp" and setup.private
    bound = setup.model.loss_gradient_bound()
    assert setup.clip == setup.grad_norm_bound == bound.value
    assert setup.clip_source == f"bound (loss {bound.loss}: {bound.formula})"
    assert (setup.n_classes, setup.data.n_train, setup.data.n_test) == (2, 64, 16)


def test_a_classical_model_is_clipped_at_its_matched_quantum_bound_and_a_given_sigma_is_kept():
    quantum = run_setup(TrainConfig(model=HEA, epsilon=2.0, **SMALL))
    classical = run_setup(TrainConfig(model=f"mlp:match={HEA.replace(':', ',')}", epsilon=None, noise_multiplier=1.3,
                                      **SMALL))
    assert classical.clip == quantum.clip and classical.grad_norm_bound is None
    assert classical.clip_source.startswith("bound of the matched quantum model")
    assert classical.noise_multiplier == 1.3 and classical.calibrated_with is None


def test_a_non_private_setup_has_no_noise_and_its_clip_only_sets_the_meter():
    given = run_setup(TrainConfig(model=HEA, epsilon=math.inf, clip=0.5, **SMALL))
    assert (given.noise_multiplier, given.calibrated_with, given.private) == (0.0, None, False)
    assert given.clip == 0.5 and given.clip_source == "given" + METER_ONLY
    unbounded = run_setup(TrainConfig(model=HEA, epsilon=math.inf, loss="bce_prob", **SMALL))
    assert unbounded.clip is None and unbounded.clip_source == NO_CLIP_SOURCE and unbounded.grad_norm_bound is None


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(delta=0.05), "delta=0.05 >= 1/n_train = 0.0156"),
        (dict(batch_size=65), "batch_size=65 exceeds the 64 training examples of circle; use batch_size <= 64"),
        (dict(epsilon=1e6), "epsilon=1e+06 needs noise_multiplier < 0.3"),
        (dict(loss="bce_prob"), "loss='bce_prob' without a clamp is unbounded"),
    ],
)
def test_settings_that_would_make_epsilon_wrong_are_refused(kwargs, needle):
    with pytest.raises(ConfigError) as info:
        run_setup(TrainConfig(**{"model": HEA, "epsilon": 1.0, **SMALL, **kwargs}))
    assert needle in str(info.value)


def test_a_large_delta_can_be_forced():
    setup = run_setup(TrainConfig(model=HEA, epsilon=4.0, delta=0.05, allow_large_delta=True, **SMALL))
    assert setup.noise_multiplier > 0 and setup.config.delta == 0.05


def test_the_audit_setting_is_the_trainers_setup():
    from privqml.verify.audit.setting import AUDIT_N_TEST, build_setting

    setting = build_setting(HEA, "circle", epsilon=1.0, clip=0.1, batch_size=6, n_train=48)
    setup = run_setup(TrainConfig(model=HEA, dataset="circle", epsilon=1.0, clip=0.1, batch_size=6, epochs=1,
                                  n_train=48, n_test=AUDIT_N_TEST))
    assert (setting.noise_multiplier, setting.clip_norm, setting.sampling_probability, setting.steps) == (
        setup.noise_multiplier, setup.clip, setup.sampling_probability, setup.steps)
    assert setting.model.describe() == setup.model.describe() and setting.n_train == setup.data.n_train
