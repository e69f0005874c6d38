"""The printed ε is the guarantee: secret randomness, finite releases, honest outputs, early refusals."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from privqml.cli import main
from privqml.errors import ConfigError
from privqml.models.privacy import dpsgd, randomness
from privqml.verify.audit.broken import broken_trainer
from privqml.models.training.trainer import RunResult, TrainConfig, train
from privqml.models.zoo import build_model

TINY = dict(model="mlp", dataset="circle", n_train=48, n_test=16, batch_size=8, epochs=2, clip=1.0,
            noise_multiplier=1.0, epsilon=None, seed=3)


# -- 1. secret randomness: the recorded seed does not determine noise or batches -----------------
def test_two_runs_with_the_recorded_seed_release_different_noise_and_batches():
    sizes_a, sizes_b = [], []
    a = train(TrainConfig(**TINY), progress=lambda i: sizes_a.append(i.get("batch_size")))
    b = train(TrainConfig(**TINY), progress=lambda i: sizes_b.append(i.get("batch_size")))
    assert a.config == b.config  # same recorded config and seed
    assert not np.allclose(a.released_updates[0], b.released_updates[0])
    assert a.final_weights != b.final_weights
    assert sizes_a != sizes_b  # 12 Poisson batch sizes drawn from fresh entropy: equal w.p. < 1e-3


def test_simulation_mode_is_reproducible_and_says_so():
    config = TrainConfig(**TINY, simulation_seed=11)
    a, b = train(config), train(config)
    assert a.released_updates == b.released_updates and a.final_weights == b.final_weights
    summary = a.summary()
    assert summary["guarantee"]["randomness"] == {
        "mode": "simulation", "simulation_seed": 11, "statement": randomness.SIMULATION_WARNING}
    assert any("SIMULATION" in c for c in summary["guarantee"]["caveats"])
    assert train(TrainConfig(**TINY, simulation_seed=12)).released_updates != a.released_updates


def test_a_replay_from_run_json_cannot_reproduce_the_weights(tmp_path):
    """The adversary holding run.json re-runs its config with its seed through every derivation it knows."""
    from privqml.verify.audit.trained_run import load_run, replay_check

    train(TrainConfig(**TINY), out_dir=tmp_path)
    run = load_run(tmp_path)
    assert replay_check(run).passed
    # the old trainer, injected: noise and batches from the recorded seed
    leaky = train(TrainConfig(**TINY), mechanism=broken_trainer("published-seed"))
    check = replay_check(leaky)
    assert not check.passed and "reproduced from run.json" in check.detail


@pytest.mark.parametrize("path", ["fast", "stock"])
def test_the_replay_check_judges_tiny_releases_at_their_own_scale(path):
    """At the smallest clip allowed (2^-64) every release is ~1e-20: a fixed absolute tolerance would call any
    two of them equal (a false 'reproduced'); the check compares in units of the noise's standard deviation."""
    from privqml.verify.audit.trained_run import replay_check

    honest = train(TrainConfig(**{**TINY, "clip": 2.0**-64, "epochs": 1, "path": path}))
    assert max(abs(v) for row in honest.released_updates for v in row) < 1e-17
    assert replay_check(honest).passed
    leaky = train(TrainConfig(**{**TINY, "clip": 2.0**-64, "epochs": 1, "path": path}),
                  mechanism=broken_trainer("published-seed"))
    assert not replay_check(leaky).passed


def test_resume_continues_with_fresh_randomness_and_spends_exactly_the_budget(tmp_path):
    config = TrainConfig(**{**TINY, "epochs": 3})

    class Interrupt(Exception):
        pass

    def crash(info):
        if info["epoch"] == 2 and info["step"] == 8:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config, out_dir=tmp_path, progress=crash)
    saved = json.loads((tmp_path / "checkpoint.json").read_text())
    assert saved["epoch"] == 1 and len(saved["released_updates"]) == 6
    # an interrupted run's checkpoint says in its own body that it is not covered by epsilon
    assert saved["statement"].startswith("Checkpoint of an unfinished") and "NOT covered" in saved["statement"]
    resumed = train(config, out_dir=tmp_path)
    assert not (tmp_path / "checkpoint.json").exists()
    assert resumed.released_updates[:6] == tuple(tuple(r) for r in saved["released_updates"])  # kept, not redone
    assert len(resumed.released_updates) == resumed.privacy.steps == 18
    uninterrupted = train(config)
    assert resumed.privacy.epsilon_rdp == uninterrupted.privacy.epsilon_rdp


def test_resume_in_simulation_mode_equals_an_uninterrupted_run(tmp_path):
    config = TrainConfig(**{**TINY, "epochs": 3}, simulation_seed=5)
    reference = train(config)

    def crash(info):
        if info["epoch"] == 2 and info["step"] == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, out_dir=tmp_path, progress=crash)
    resumed = train(config, out_dir=tmp_path)
    assert resumed.final_weights == reference.final_weights
    assert resumed.released_updates == reference.released_updates


# -- 2. finite releases ---------------------------------------------------------------------------
def _inf_loss_canary():
    """An unclamped bce_prob hea model and an input whose loss is +inf: f(x=0; θ=0) = ⟨Z0⟩ = 1, p = 1,
    so label 0 has loss -log(1 - p) = inf."""
    model = build_model("hea", 2, 0, "bce_prob")
    model.weights.assign(np.zeros(model.n_weights, np.float32))
    x = np.zeros((1, model.n_features), np.float32)
    return model, x, np.array([0])


@pytest.mark.parametrize("path", ["fast", "stock"])
def test_an_inf_loss_canary_does_not_change_the_finiteness_of_the_release(path):
    model, x_canary, y_canary = _inf_loss_canary()
    grads, losses = dpsgd.per_example_gradients(model, x_canary, y_canary)
    assert not np.isfinite(losses[0]) or not np.all(np.isfinite(grads))  # the canary is really non-finite
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.5, 1.5, size=(6, model.n_features)).astype(np.float32)
    y = np.arange(6) % 2
    with_canary = dpsgd.dp_step(model, np.vstack([x, x_canary]), np.concatenate([y, y_canary]), 0.5, 0.0, 7, 0.5, path)
    without = dpsgd.dp_step(model, x, y, 0.5, 0.0, 7, 0.5, path)
    assert np.all(np.isfinite(with_canary.noised_sum))
    np.testing.assert_allclose(with_canary.noised_sum, without.noised_sum, atol=1e-6)  # it contributed zero
    if path == "fast":
        assert with_canary.n_nonfinite == 1 and without.n_nonfinite == 0
    noised = dpsgd.dp_step(model, np.vstack([x, x_canary]), np.concatenate([y, y_canary]), 0.5, 1.0, 7, 0.5, path)
    assert np.all(np.isfinite(noised.noised_sum))


def test_without_the_guard_the_canary_poisons_the_release():
    """The test above can fail: the broken variant lets the NaN through."""
    model, x_canary, y_canary = _inf_loss_canary()
    step = dpsgd.dp_step(model, x_canary, y_canary, 0.5, 1.0, 7, 0.5, "fast", mechanism=broken_trainer("nonfinite-leak"))
    assert not np.all(np.isfinite(step.noised_sum))


def test_unclamped_bce_prob_is_refused_for_private_training():
    with pytest.raises(ConfigError, match="bce_prob.*clamp"):
        train(TrainConfig(**{**TINY, "model": "hea", "clip": 1.0}, loss="bce_prob"))
    run = train(TrainConfig(**{**TINY, "model": "hea:clamp=0.01", "epochs": 1}, loss="bce_prob"))
    assert all(math.isfinite(v) for row in run.released_updates for v in row)


# -- 4. honest outputs --------------------------------------------------------------------------
def test_run_json_separates_covered_from_not_covered(tmp_path):
    run = train(TrainConfig(**TINY), out_dir=tmp_path)
    data = json.loads((tmp_path / "run.json").read_text())
    assert set(data) == {"format", "guarantee", "covered", "not_covered", "config", "model"}
    g = data["guarantee"]
    assert g["adjacency"] == "add or remove one training example" and g["n_train"] == 48
    assert "treated as public" in g["n_train_public"]
    assert g["randomness"]["mode"] == "secret" and g["caveats"] == []
    covered = data["covered"]
    assert len(covered["released_updates"]) == 12 and covered["final_weights"] == list(run.final_weights)
    # private diagnostics live only under not_covered
    for key in ("clip_history", "train_history", "class_balance_train", "data_fingerprint", "nonfinite_examples",
                "batch_sizes", "timing"):
        assert key in data["not_covered"] and key not in covered and key not in g
    # every step's Poisson batch size is recorded (for the audit of the record), and is no more than n_train
    assert len(data["not_covered"]["batch_sizes"]) == 12 and all(0 <= b <= 48 for b in data["not_covered"]["batch_sizes"])
    # the checkpoint held private diagnostics: it is gone once run.json is written
    assert not (tmp_path / "checkpoint.json").exists()
    assert "train_accuracy" not in json.dumps(covered) and "fingerprint" not in json.dumps(covered)
    assert RunResult.from_summary(data).summary() == data


def test_cli_prints_which_block_is_which(tmp_path, capsys):
    status = main(["train", "--model", "mlp", "--dataset", "circle", "--n-train", "24", "--n-test", "8",
                   "--batch-size", "6", "--epochs", "1", "--clip", "1", "--out", str(tmp_path)])
    out = " ".join(capsys.readouterr().out.split())
    assert status == 0
    assert "covered by (ε, δ)" in out and "NOT covered by ε" in out and "treated as public" in out


# -- 4. bad settings fail before any work ---------------------------------------------------------
@pytest.mark.parametrize(
    "args,needle",
    [
        (["--delta", "0.5"], "delta=0.5 >= 1/n_train"),
        (["--delta", "0.05"], "delta=0.05 >= 1/n_train"),
        (["--epsilon", "1000"], "epsilon=1000 needs noise_multiplier"),
        (["--epsilon", "1e6"], "epsilon=1e+06 needs noise_multiplier"),
        (["--noise-multiplier", "0.01"], "noise_multiplier=0.01 is below"),
        (["--n-train", "0"], "n_train=0"),
        (["--n-train", "-3"], "n_train=-3"),
        (["--n-test", "0"], "n_test=0"),
    ],
)
def test_bad_settings_exit_2_before_training(tmp_path, capsys, args, needle):
    calls = []
    out = tmp_path / "out"
    argv = ["train", "--model", "mlp", "--dataset", "circle", "--n-train", "24", "--batch-size", "6", "--epochs", "1",
            "--out", str(out), *args]
    status = main(argv)
    captured = capsys.readouterr()
    text = " ".join(captured.err.split())
    assert status == 2, text
    assert needle in text and "Traceback" not in captured.err + captured.out
    assert len(captured.err.strip().splitlines()) == 1  # one line, not wrapped at the console's width
    assert not (out / "run.json").exists() and not (out / "checkpoint.json").exists() and calls == []


def test_large_delta_can_be_forced_and_is_then_warned():
    run = train(TrainConfig(**{**TINY, "epochs": 1}, delta=0.1, allow_large_delta=True))
    caveats = run.summary()["guarantee"]["caveats"]
    assert any("delta=0.1 >= 1/n_train" in c for c in caveats)


def test_unusable_out_is_refused_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for out in (blocker, blocker / "sub"):
        status = main(["train", "--model", "mlp", "--epochs", "1", "--out", str(out)])
        err = " ".join(capsys.readouterr().err.split())
        assert status == 2 and "out=" in err and "Traceback" not in err


def test_nan_labels_in_a_file_are_one_error(tmp_path, capsys):
    x = np.random.default_rng(0).normal(size=(20, 6))
    y = (np.arange(20) % 2).astype(float)
    y[3] = np.nan
    path = tmp_path / "nan_labels.npz"
    np.savez(path, x_train=x, y_train=y, x_test=np.zeros((4, 6)), y_test=[0, 1, 0, 1])
    status = main(["train", "--dataset", str(path), "--batch-size", "4", "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 2 and "NaN" in err and "Traceback" not in err
