"""Replicates in one call: R runs stepped together equal the runs trained alone (simulation mode)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from privqml.errors import ConfigError
from privqml.models.privacy import fused
from privqml.models.privacy.dpsgd import dp_step, dp_steps
from privqml.models.training.optimizers import StackedOptimizer
from privqml.models.training.trainer import TrainConfig, train, train_replicates
from privqml.models.zoo import build_model

#: float32 rounding of per-example gradients computed in batches of different composition, carried
#: through a few Adam steps (measured: ≤ 5e-7 on the weights)
TRAJECTORY_ATOL = 2e-5


def _configs(model: str, seeds=(3, 5, 8), **overrides) -> list[TrainConfig]:
    base = dict(model=model, epochs=2, n_train=120, n_test=60, epsilon=3.0, batch_size=16, meter_every=1)
    base.update(overrides)
    return [TrainConfig(seed=s, simulation_seed=100 + s, **base) for s in seeds]


@pytest.mark.parametrize("model", ["hea:n_qubits=3,n_layers=1,engine=vectorised", "mlp"])
def test_each_replicate_equals_its_run_alone(model):
    configs = _configs(model)
    together = train_replicates(configs)
    for config, run in zip(configs, together):
        alone = train(config)
        assert run.batch_sizes == alone.batch_sizes  # the same Poisson draws, run by run
        assert run.batch_sizes != together[0].batch_sizes or run is together[0]  # and runs differ from each other
        np.testing.assert_allclose(run.released_updates, alone.released_updates, atol=TRAJECTORY_ATOL)
        np.testing.assert_allclose(run.final_weights, alone.final_weights, atol=TRAJECTORY_ATOL)
        assert run.privacy.epsilon_rdp == alone.privacy.epsilon_rdp
        assert run.privacy.steps == alone.privacy.steps == len(run.batch_sizes)
        assert [h["test_accuracy"] for h in run.history] == pytest.approx([h["test_accuracy"] for h in alone.history],
                                                                         abs=1 / 60 + 1e-9)


def test_runs_at_different_learning_rates_step_together_and_equal_their_runs_alone():
    configs = [dataclasses.replace(c, lr=lr) for c, lr in zip(_configs("mlp", epsilon=float("inf")), (0.01, 0.05, 0.2))]
    together = train_replicates(configs)
    for config, run in zip(configs, together):
        alone = train(config)
        assert run.config.lr == config.lr and not run.privacy.private
        np.testing.assert_allclose(run.final_weights, alone.final_weights, atol=TRAJECTORY_ATOL)
    assert together[0].final_weights != together[2].final_weights


def test_replicates_must_share_every_setting_but_the_seeds():
    a, b = _configs("mlp", seeds=(1, 2))
    with pytest.raises(ConfigError, match="share every setting"):
        train_replicates([a, dataclasses.replace(b, epochs=3)])
    with pytest.raises(ConfigError, match="one per run"):
        train_replicates([a, b], out_dirs=["x"])


def test_a_finished_replicate_is_loaded_not_redone(tmp_path):
    configs = _configs("mlp", seeds=(1, 2), epochs=1)
    dirs = [tmp_path / "r1", tmp_path / "r2"]
    first = train(configs[0], out_dir=dirs[0])
    stamp = (dirs[0] / "run.json").stat().st_mtime_ns
    both = train_replicates(configs, out_dirs=dirs)
    assert (dirs[0] / "run.json").stat().st_mtime_ns == stamp
    assert both[0].released_updates == first.released_updates
    assert json.loads((dirs[1] / "run.json").read_text())["config"]["seed"] == 2
    assert not (dirs[1] / "checkpoint.json").exists()


def test_dp_steps_release_exactly_what_dp_step_releases_per_run():
    model = build_model("hea:n_qubits=3,n_layers=1,engine=vectorised", seed=0)
    rng = np.random.default_rng(4)
    weights = rng.uniform(-3, 3, (3, model.n_weights)).astype(np.float32)
    xs = [rng.uniform(-3, 3, (n, model.n_features)).astype(np.float32) for n in (5, 0, 9)]
    ys = [rng.integers(0, 2, len(x)) for x in xs]
    together = dp_steps(model, weights, xs, ys, 0.3, 1.1, 8.0, 0.1, [np.random.default_rng(s) for s in (1, 2, 3)])
    for r in range(3):
        model.weights.assign(weights[r])
        alone = dp_step(model, xs[r], ys[r], 0.3, 1.1, 8.0, 0.1, noise_rng=np.random.default_rng(r + 1))
        assert together[r].batch_size == alone.batch_size
        np.testing.assert_allclose(together[r].clipped_sum, alone.clipped_sum, atol=1e-6)
        np.testing.assert_allclose(together[r].noised_sum, alone.noised_sum, atol=1e-6)
        assert together[r].event == alone.event
    # a run's rows depend on that run only: changing run 0's weights leaves run 2's release unchanged
    moved = weights.copy()
    moved[0] += 1.0
    again = dp_steps(model, moved, xs, ys, 0.3, 1.1, 8.0, 0.1, [np.random.default_rng(s) for s in (1, 2, 3)])
    np.testing.assert_allclose(again[2].noised_sum, together[2].noised_sum, atol=1e-6)
    assert not np.allclose(again[0].clipped_sum, together[0].clipped_sum)


def test_every_runs_clipped_sum_respects_the_clip_and_noise_has_the_stated_scale():
    model = build_model("mlp", seed=0)
    rng = np.random.default_rng(0)
    weights = rng.normal(0, 5, (4, model.n_weights)).astype(np.float32)
    xs = [rng.uniform(-3, 3, (7, model.n_features)).astype(np.float32) for _ in range(4)]
    ys = [rng.integers(0, 2, 7) for _ in range(4)]
    results = dp_steps(model, weights, xs, ys, 0.05, 0.0, 7.0, 0.1, [np.random.default_rng(s) for s in range(4)])
    for result in results:
        assert np.linalg.norm(result.clipped_sum) <= 7 * 0.05 * (1 + 1e-6)
        np.testing.assert_array_equal(result.noised_sum, result.clipped_sum)  # σ = 0: nothing added
    noise = fused.gaussian_noise(np.random.default_rng(1), (20000,), 0.5, 2.0)
    assert noise.dtype == np.float32 and abs(np.std(noise) - 1.0) < 0.02
    assert fused.applied_sigma(0.3, 1.1) <= 1.1 and fused.applied_sigma(0.3, 1.1) == pytest.approx(1.1, rel=1e-15)


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_stacked_optimizer_matches_keras_and_steps_runs_independently(kind):
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(6, 2, 5)).astype(np.float32)
    start = rng.normal(size=(2, 5)).astype(np.float32)
    ours = StackedOptimizer(kind, 0.05, n_runs=2)
    weights = start.copy()
    keras = [tf.keras.optimizers.legacy.Adam(0.05) if kind == "adam" else tf.keras.optimizers.legacy.SGD(0.05)
             for _ in range(2)]
    variables = [tf.Variable(start[r]) for r in range(2)]
    for g in grads:
        weights = ours.step(weights, g)
        for r in range(2):
            keras[r].apply_gradients([(tf.constant(g[r]), variables[r])])
    for r in range(2):
        np.testing.assert_allclose(weights[r], variables[r].numpy(), rtol=1e-5, atol=1e-6)
    # run 1 alone, stepped with its own gradients only, reaches the same weights bit for bit
    alone = StackedOptimizer(kind, 0.05, n_runs=1)
    w1 = start[1:2].copy()
    for g in grads:
        w1 = alone.step(w1, g[1:2])
    np.testing.assert_array_equal(w1[0], weights[1])
    # and a state written out and read back continues identically
    saved = ours.state(1)
    restored = StackedOptimizer(kind, 0.05, n_runs=1)
    restored.restore(json.loads(json.dumps(saved)))
    np.testing.assert_array_equal(restored.step(weights[1:2], grads[0, 1:2]), ours.step(weights, grads[0])[1:2])
