"""The record -> TrainConfig mapping and the per-step counts of compact_run."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from privqml.models.privacy.clipping import measure_clipping
from privqml.models.training.trainer import signal_norm
from privqml.paper_checks import training
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.training import compact_run, train_config
from privqml.theory import builtin_ansatz, loss_gradient_bound


def test_train_config_maps_every_field_and_derives_the_shared_seed():
    task = Task.make("c3", "train", replicate=3, model="mlp", dataset="digits:0v1", epsilon=4.0, clip=0.5,
                     delta=1e-5, epochs=7, batch_size=16, lr=0.01, optimizer="sgd", n_train=100, n_test=50)
    config = train_config(task)
    assert (config.model, config.dataset, config.epsilon, config.clip, config.epochs, config.batch_size) == \
        ("mlp", "digits:0v1", 4.0, 0.5, 7, 16)
    assert (config.lr, config.optimizer, config.n_train, config.n_test, config.meter_every) == (0.01, "sgd", 100, 50, 1)
    assert config.seed == task.int_seed("dataset") == task.replace(model="hea").int_seed("dataset")
    assert config.simulation_seed == config.seed  # paired design: a labelled simulation of DP training
    reference = train_config(task.replace(epsilon=math.inf, clip=None))
    assert reference.clip == "bound" and not reference.private


def test_clip_ratio_uses_the_matched_quantum_bound_derived_once():
    g_star = loss_gradient_bound(builtin_ansatz("hea", n_qubits=4, n_layers=2, observable="Z0"), "bce_logits").value
    task = Task.make("c2", "train", model="mlp", dataset="quantum", epsilon=2.0, clip_ratio=0.25, delta=1e-5,
                     epochs=1, batch_size=16, lr=0.05, n_train=48, n_test=16)
    training.reference_bound.cache_clear()
    assert train_config(task).clip == pytest.approx(0.25 * g_star, rel=1e-12)
    # keyed by (model spec, number of classes): other ratios, seeds and tasks with two classes reuse it
    assert train_config(task.replace(clip_ratio=1.0, replicate=3)).clip == pytest.approx(g_star, rel=1e-12)
    assert training.task_bound(task.replace(dataset="circle")) == pytest.approx(g_star, rel=1e-12)
    info = training.reference_bound.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def _result(history, bound, clip, signal_norms=()):
    summary = {"max_per_example_norm": max(r.norm_max for r in history), "clip_fraction_max": max(r.fraction_clipped for r in history),
               "clip_bias_max": max(r.bias for r in history), "predicted_bias_max": max(0.0, bound - clip)}
    privacy = SimpleNamespace(private=True, epsilon_rdp=2.0, epsilon_pld=1.8, delta=1e-5, noise_multiplier=1.1,
                              steps=len(history), sampling_probability=0.25)
    return SimpleNamespace(meter_summary=lambda: summary, config=SimpleNamespace(simulation_seed=3, batch_size=2),
                           grad_norm_bound=bound, clip=clip, clip_history=tuple(history), signal_norms=tuple(signal_norms),
                           test_accuracy=0.75, train_accuracy=0.8, history=({"test_accuracy": 0.75},), privacy=privacy,
                           clip_source="given", model={"name": "hea"}, dataset={"name": "quantum"},
                           timing={"total_seconds": 1.0, "mean_step_seconds": 0.1})


def test_compact_run_counts_steps_over_the_bound_and_the_prediction():
    bound, clip = 1.0, 0.5
    inside = measure_clipping([[0.3, 0.0], [0.0, 0.4]], clip, bound, step=0)  # nothing clipped
    clipped = measure_clipping([[0.9, 0.0], [0.0, 0.2]], clip, bound, step=1)  # one clipped, bias 0.2
    over = measure_clipping([[1.0 + 1e-3, 0.0]], clip, bound, step=2)  # over the bound (a bug, constructed)
    grads = ([[0.3, 0.0], [0.0, 0.4]], [[0.9, 0.0], [0.0, 0.2]], [[1.0 + 1e-3, 0.0]])
    signals = [signal_norm(np.array(g), clip) for g in grads]
    assert signals == pytest.approx([0.25, math.hypot(0.25, 0.1), 0.5])  # ||mean clip_C(g_i)||
    out = compact_run(_result([inside, clipped, over], bound, clip, signals))
    assert clipped.bias == pytest.approx(0.2)  # ||mean(clip g) - mean g|| = 0.4/2
    # causes: mean clipped fraction (0, 1/2, 1), mean bias, and sigma C / (L median signal)
    assert out.clip_fraction_mean == pytest.approx(0.5)
    assert out.clip_bias_mean == pytest.approx((0.0 + 0.2 + over.bias) / 3)
    assert out.noise_to_signal == pytest.approx(1.1 * 0.5 / 2 / math.hypot(0.25, 0.1))
    # The step over the bound also breaks the prediction: bias 0.501 > (G* - C)+ = 0.5.
    assert (out.steps_over_bound, out.steps_clipped, out.steps_bias_over_prediction) == (1, 2, 1)
    fake = measure_clipping([[0.9, 0.0]], clip, bound, step=3)
    fake = type(fake)(**{**fake.as_dict(), "bias": 0.6})  # bias above (G* - C)+ = 0.5
    assert compact_run(_result([inside, fake], bound, clip)).steps_bias_over_prediction == 1
    tolerated = measure_clipping([[1.0 * (1 + 1e-6), 0.0]], clip, bound)  # within float32 tolerance
    assert compact_run(_result([tolerated], bound, clip)).steps_over_bound == 0
