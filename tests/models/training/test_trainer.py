"""train(config): accounting of what was spent, Poisson batches, the meter, files, resume, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from privqml.errors import ConfigError, DataError
from privqml.models.privacy.accounting import compute_epsilon
from privqml.models.training import runio
from privqml.models.training.trainer import RunResult, TrainConfig, train

SMALL = dict(dataset="quantum", n_train=64, n_test=32, batch_size=8, epochs=2, lr=0.05, seed=0)


def _hea_bound() -> float:
    """G* of the default hea model, derived here from the theory (bce_logits, scale 1): 0.777..."""
    from privqml.theory import hea, loss_gradient_bound

    return loss_gradient_bound(hea(4, 2), "bce_logits").value


@pytest.fixture(scope="module")
def quantum_run():
    return train(TrainConfig(model="hea", epsilon=2.0, clip="bound", **SMALL))


def test_quantum_run_spends_what_it_accounts(quantum_run):
    run = quantum_run
    q, steps = 8 / 64, 2 * 8
    assert run.privacy.steps == steps and run.privacy.sampling_probability == q
    assert run.privacy.epsilon_rdp <= 2.0
    sigma = run.privacy.noise_multiplier
    assert run.privacy.epsilon_rdp == pytest.approx(compute_epsilon(q, sigma, steps, 1e-5, "rdp"), rel=1e-5)
    assert run.privacy.epsilon_pld == pytest.approx(compute_epsilon(q, sigma, steps, 1e-5, "pld"), rel=1e-5)
    assert run.privacy.epsilon_pld < run.privacy.epsilon_rdp
    assert run.privacy.calibrated_with == "rdp"


def test_quantum_run_at_the_bound_never_clips(quantum_run):
    s = quantum_run.summary()
    covered, meter = s["covered"], s["not_covered"]["clip_meter"]
    assert covered["clip"] == covered["grad_norm_bound"] == pytest.approx(_hea_bound())
    assert covered["clip"] == pytest.approx(0.7772168855587698)  # the refined, coupled bound (1.4621 before)
    assert meter["n_measurements"] == 16
    assert meter["clip_fraction_max"] == 0.0 and meter["clip_bias_max"] == 0.0 and meter["predicted_bias_max"] == 0.0
    assert 0 < meter["max_per_example_norm"] <= covered["grad_norm_bound"]
    for key in ("epsilon_rdp", "epsilon_pld", "delta", "noise_multiplier"):
        assert key in s["guarantee"]
    assert len(covered["test_history"]) == 2 and covered["test_accuracy"] == quantum_run.test_accuracy
    json.loads(json.dumps(s, allow_nan=False))  # strict JSON


def test_classical_run_at_the_same_clip_is_clipped_and_batches_are_poisson():
    sizes = []
    config = TrainConfig(model="mlp", epsilon=2.0, clip="bound", **{**SMALL, "n_train": 200, "batch_size": 10, "epochs": 5})
    run = train(config, progress=lambda info: sizes.append(info["batch_size"]) if "batch_size" in info else None)
    s = run.summary()
    covered, meter = s["covered"], s["not_covered"]["clip_meter"]
    assert covered["clip"] == pytest.approx(_hea_bound())  # the matched hea model's bound
    assert "matched quantum model" in covered["clip_source"]
    assert covered["grad_norm_bound"] is None and meter["predicted_bias_max"] is None
    assert meter["clip_fraction_max"] > 0 and meter["clip_bias_max"] > 0
    # 100 Poisson batches of n = 200, q = 0.05: mean 10 ± 4 sd/sqrt(100); variance ~ 9.5 (not 0)
    sizes = np.array(sizes)
    assert len(sizes) == 100
    assert abs(sizes.mean() - 10) <= 4 * math.sqrt(9.5 / 100)
    assert 0.5 * 9.5 <= sizes.var(ddof=1) <= 1.8 * 9.5


def test_non_private_reference_run():
    run = train(TrainConfig(model="mlp", epsilon=math.inf, **SMALL))
    summary = run.summary()
    g = summary["guarantee"]
    assert g["private"] is False and g["noise_multiplier"] == 0.0
    assert g["epsilon_rdp"] == g["epsilon_pld"] == "inf" and summary["config"]["epsilon"] == "inf"  # privqml JSON
    assert g["calibrated_with"] is None and "not private" in " ".join(g["caveats"])
    assert runio.run_curves(summary).title.endswith("not private (ε = ∞)")
    back = RunResult.from_summary(json.loads(json.dumps(summary)))
    assert back.config == run.config and math.isinf(back.privacy.epsilon_pld) and back.summary() == summary


def test_files_resume_and_skip(tmp_path):
    config = TrainConfig(model="mlp", noise_multiplier=1.1, epsilon=None, clip=1.0, **{**SMALL, "epochs": 3},
                         simulation_seed=7)  # reproducible: the resumed run must equal the reference
    reference = train(config)

    class Interrupt(Exception):
        pass

    def crash(info):
        if info["epoch"] == 2 and info["step"] == 12:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config, out_dir=tmp_path, progress=crash)
    assert (tmp_path / "checkpoint.json").is_file() and not (tmp_path / "run.json").exists()
    resumed = train(config, out_dir=tmp_path)
    np.testing.assert_array_equal(resumed.final_weights, reference.final_weights)
    assert resumed.privacy.epsilon_rdp == pytest.approx(reference.privacy.epsilon_rdp)
    assert resumed.history == reference.history
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["covered"]["test_accuracy"] == reference.test_accuracy
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    curves = runio.run_curves(data)  # what curves.png shows: 3 epochs, 24 metered steps (8 per epoch)
    assert curves.epochs == (1, 2, 3) and curves.test_accuracy == tuple(h["test_accuracy"] for h in reference.history)
    assert curves.meter_steps == tuple(range(24)) and curves.clip == 1.0 and curves.grad_norm_bound is None
    assert curves.norm_max == tuple(m.norm_max for m in reference.clip_history)
    assert "SIMULATION" in curves.title and f"ε_RDP = {reference.privacy.epsilon_rdp:.3g}" in curves.title
    calls = []
    again = train(config, out_dir=tmp_path, progress=calls.append)  # finished: loaded, not redone
    assert calls == [] and isinstance(again, RunResult)
    assert again.final_weights == resumed.final_weights


@pytest.mark.parametrize(
    "kwargs",
    [dict(model="cnn"), dict(dataset="mnist"), dict(batch_size=65), dict(model="hea", loss="bce_prob"),
     dict(model="hea", loss="softmax_ce")],
)
def test_bad_runs(kwargs):
    with pytest.raises(ConfigError):
        train(TrainConfig(**{**SMALL, "epochs": 1, **kwargs}))


def test_nan_features_are_a_data_error(tmp_path):
    x = np.random.default_rng(0).normal(size=(20, 6))
    x[4, 1] = np.nan
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=x, y_train=np.arange(20) % 2, x_test=np.zeros((4, 6)), y_test=[0, 1, 0, 1])
    with pytest.raises(DataError, match="NaN"):
        train(TrainConfig(dataset=str(path), batch_size=4, epochs=1))


def test_given_dataset_and_zero_noise_is_not_private():
    from privqml.models.data import load_dataset

    data = load_dataset("circle", 4, seed=3, n_train=40, n_test=20)
    run = train(TrainConfig(model="mlp", dataset="circle", noise_multiplier=0.0, epsilon=None, clip=1.0,
                            batch_size=8, epochs=1), data=data)
    assert run.dataset["fingerprint"] == data.fingerprint() and run.dataset["n_train"] == 40
    assert run.privacy.private is False and math.isinf(run.privacy.epsilon_rdp)
    with pytest.raises(DataError):
        train(TrainConfig(model="hea", epochs=1), data=load_dataset("circle", 3, seed=0))


def test_spent_sigma_never_falls_below_the_calibrated_one():
    """float32 rounding of σC in TF Privacy's query must not push the ledger's ε over the target."""
    from privqml.models.privacy.accounting import calibrate_noise_multiplier

    for epsilon in (0.7, 3.0):
        run = train(TrainConfig(model="mlp", epsilon=epsilon, clip=0.37, **{**SMALL, "epochs": 1}))
        calibrated = calibrate_noise_multiplier(epsilon, 1e-5, 8 / 64, 8, "rdp")
        assert run.privacy.noise_multiplier >= calibrated
        assert run.privacy.epsilon_rdp <= epsilon


def test_a_run_on_the_vectorised_engine_releases_what_the_tfq_run_releases_and_records_its_engine(tmp_path):
    """Simulation mode: same batches and noise; the releases agree to float32 tolerance step for step (the
    per-example gradients differ by ~1e-5), and run.json says which engine computed them."""
    config = dict(**{**SMALL, "epochs": 1}, noise_multiplier=1.0, epsilon=None, clip=1.0, simulation_seed=9)
    tfq_run = train(TrainConfig(model="hea:n_qubits=4", **config))
    vec_run = train(TrainConfig(model="hea:n_qubits=4,engine=vectorised", **config), out_dir=tmp_path)
    np.testing.assert_allclose(np.array(vec_run.released_updates), np.array(tfq_run.released_updates), atol=1e-3)
    assert np.max(np.abs(np.array(tfq_run.released_updates))) > 0.01
    recorded = json.loads((tmp_path / "run.json").read_text())["model"]["engine"]
    assert recorded["engine"] == "vectorised" and recorded["simulation"] == "state vector"
