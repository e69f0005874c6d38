"""One-step canary audit: the reference is consistent, every broken mechanism is flagged, the
trainer's fast and stock paths are consistent (real code), quantum noise alone has no guarantee."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.errors import ConfigError
from privqml.verify.audit.one_step import one_step_audit, step_epsilon
from privqml.verify.audit.mechanisms import BROKEN_MECHANISMS, gaussian_sum_mechanism
from privqml.verify.audit.gaussian import gaussian_epsilon

CLIP, SIGMA, DELTA, TRIALS = 0.5, 1.0, 1e-5, 100_000


def _grads(seed=0, batch=8, p=6):
    rng = np.random.default_rng(seed)
    grads = rng.normal(size=(batch, p)) * 0.3
    canary = rng.normal(size=p)
    return grads, 2 * CLIP * canary / np.linalg.norm(canary)  # ‖canary‖ = 2C: clipped to C


def test_step_epsilon_is_the_gaussian_mechanism():
    for sigma in (0.7, 1.0, 2.0):
        assert step_epsilon(sigma, DELTA, "pld") == pytest.approx(gaussian_epsilon(1 / sigma, DELTA), rel=1e-3)
    assert step_epsilon(1.0, DELTA, "rdp") >= step_epsilon(1.0, DELTA, "pld")
    assert step_epsilon(0.0, DELTA) == math.inf


def test_reference_mechanism_is_consistent_with_estimates_on_target():
    grads, canary = _grads()
    result = one_step_audit(gaussian_sum_mechanism("reference", grads, canary, CLIP, SIGMA), trials=TRIALS, delta=DELTA)
    assert result.verdict == "consistent", result.failed()
    assert result.canary_shift_estimate.covers(CLIP) and result.canary_shift_expected == CLIP
    assert result.noise_std_estimate.covers(SIGMA * CLIP)
    # Sound and not vacuous: 0 < ε_lb < ε_accounted = 4.38 (measured 2.6 with these seeds).
    assert 1.5 < result.epsilon_lower_bound < result.epsilon_accounted
    assert result.epsilon_accounted == pytest.approx(4.3772, abs=1e-3)


@pytest.mark.parametrize(
    "kind,expected_failures",
    [
        ("noise-omitted", {"noise-scale", "noise-fresh", "epsilon"}),
        ("sensitivity-doubled", {"sensitivity", "epsilon"}),
        ("data-clip", {"clip-is-public", "sensitivity"}),
        ("noise-replayed", {"noise-fresh"}),
    ],
)
def test_broken_mechanisms_are_flagged(kind, expected_failures):
    assert kind in BROKEN_MECHANISMS
    grads, canary = _grads()
    result = one_step_audit(gaussian_sum_mechanism(kind, grads, canary, CLIP, SIGMA), trials=TRIALS, delta=DELTA)
    assert result.verdict == "violation"
    assert expected_failures <= set(result.failed()), result.failed()
    if "epsilon" in expected_failures:
        assert result.epsilon_lower_bound > result.epsilon_accounted


def test_audit_json_is_strict_and_bad_input_is_refused():
    import json

    grads, canary = _grads()
    result = one_step_audit(gaussian_sum_mechanism("noise-omitted", grads, canary, CLIP, SIGMA), trials=200, delta=DELTA)
    text = json.dumps(result.as_dict(), allow_nan=False)
    for key in ("epsilon_accounted", "epsilon_lower_bound", "noise_std_estimate", "canary_shift_estimate", "verdict"):
        assert key in json.loads(text)
    with pytest.raises(ConfigError, match="trials=5"):
        one_step_audit(gaussian_sum_mechanism("reference", grads, canary, CLIP, SIGMA), trials=5)
    with pytest.raises(ConfigError, match="gradient is zero"):
        gaussian_sum_mechanism("reference", grads, np.zeros(6), CLIP, SIGMA)
    with pytest.raises(ConfigError, match="mechanism='typo'"):
        gaussian_sum_mechanism("typo", grads, canary, CLIP, SIGMA)


# -- the trainer's real code paths -------------------------------------------------------------------
@pytest.fixture(scope="module")
def hea_setting():
    from privqml.verify.audit.setting import build_setting

    return build_setting("hea:n_qubits=2,n_layers=1", "circle", epsilon=1.0, clip=0.1, batch_size=6, n_train=48)


def test_setting_uses_public_clip_and_calibrated_sigma(hea_setting):
    from privqml.models.privacy import accounting

    assert hea_setting.clip_norm == 0.1 and hea_setting.clip_source == "given"
    eps = accounting.compute_epsilon(hea_setting.sampling_probability, hea_setting.noise_multiplier,
                                     hea_setting.steps, 1e-5, "rdp")
    assert eps <= 1.0 + 1e-9  # σ calibrated for the whole run, as the trainer does


@pytest.mark.parametrize("path", ["fast", "stock"])
def test_trainer_paths_are_consistent(hea_setting, path):
    from privqml.verify.audit.setting import setting_mechanism

    cheap = one_step_audit(setting_mechanism(hea_setting, path=path), trials=20_000, delta=DELTA)
    assert cheap.verdict == "consistent", cheap.failed()
    assert cheap.canary_shift_estimate.covers(cheap.canary_shift_expected)
    # The whole step per trial (per-example gradients, clipping and TF Privacy's noise), one
    # random stream: shift, noise scale and freshness checked on the real implementation.
    real = one_step_audit(setting_mechanism(hea_setting, path=path, real_steps=True, reseed=False),
                          trials=120, delta=DELTA, seed=3)
    assert real.verdict == "consistent", real.failed()
    assert real.noise_std_estimate.covers(hea_setting.noise_multiplier * hea_setting.clip_norm)


@pytest.mark.parametrize("path", ["fast", "stock"])
def test_trainer_noise_is_fresh_across_reseeding(hea_setting, path):
    """Reseeding as the trainer does every epoch; the stock path used to replay its noise."""
    from privqml.verify.audit.setting import setting_mechanism

    mech = setting_mechanism(hea_setting, path=path, real_steps=True, reseed=True)
    result = one_step_audit(mech, trials=60, delta=DELTA, seed=5)
    assert dict((c.name, c.passed) for c in result.checks)["noise-fresh"]


def test_broken_variant_on_trainer_gradients_is_flagged(hea_setting):
    from privqml.verify.audit.setting import setting_mechanism

    result = one_step_audit(setting_mechanism(hea_setting, inject="noise-omitted"), trials=20_000, delta=DELTA)
    assert result.verdict == "violation" and result.epsilon_lower_bound > result.epsilon_accounted


# -- quantum noise as the only randomness -------------------------------------------------------------
@pytest.mark.parametrize("kind", ["shots", "depolarizing"])
def test_quantum_noise_alone_has_no_guarantee(kind):
    from privqml.models.quantum import QuantumModel
    from privqml.verify.audit.mechanisms import QuantumNoiseMechanism
    from privqml.verify.audit.quantum import one_qubit_model

    if kind == "shots":
        model = QuantumModel(one_qubit_model(), loss="mse", shots=50, seed=1)
    else:
        model = QuantumModel(one_qubit_model(0.1), loss="mse", trajectories=5, seed=1)
    x = np.array([[0.8], [1.6], [-1.0], [2.2]], np.float32)
    mech = QuantumNoiseMechanism(model, x, np.array([1, 0, 1, 0]), np.array([0.0]), 0, kind=kind, pilot=10)
    result = one_step_audit(mech, trials=40, delta=DELTA)
    assert result.verdict == "no-guarantee"
    assert result.epsilon_accounted == math.inf and result.as_dict()["epsilon_accounted"] == "inf"
    assert 0.0 <= result.epsilon_lower_bound < math.inf  # printed, finite at this trial count
    assert result.clip_norm is None and result.noise_multiplier == 0.0
