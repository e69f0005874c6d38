"""From a task record to one training run of :func:`privqml.models.training.trainer.train`, and back.

The paper checks run the models layer's trainer unchanged — Poisson batches, TF Privacy's
Gaussian sum query, σ calibrated from the target ε by the RDP accountant, both RDP and PLD ε of
the spent ledger, the clipping meter at every step — and keep from each run the numbers the
claims need (:func:`compact_run`). The mapping:

=================  ===========================================================================
record parameter   TrainConfig
=================  ===========================================================================
``model``          ``model`` spec (``hea``, ``reupload``, ``mlp`` — classical ones matched to hea)
``dataset``        ``dataset`` spec
``epsilon``        ``epsilon`` (``inf``: the non-private reference, no clipping and no noise)
``clip``           ``clip``: a number, ``"bound"``, or None (non-private: the meter uses the bound)
``clip_ratio``     ``clip = clip_ratio · G*`` with G* the loss-gradient bound of the model (of
                   the matched quantum model for a classical one) — a public, data-free value;
                   the record's ``g_star`` when it pins one (regime maps), else derived now
``delta, epochs, batch_size, lr, optimizer, n_train, n_test``  the same names
``lr_grid, lr_epochs, ...`` (instead of ``lr``) the learning rate chosen on public data by the rule of
                   :mod:`privqml.paper_checks.learning_rate` for this arm, task and replicate;
                   the choice and its evidence are kept in the result (``lr_choice``)
(seed)             ``seed = simulation_seed = task.int_seed("dataset")``: derived from the
                   dataset and the replicate only, so the arms of a paired comparison share the
                   data split, the Poisson draws and the noise stream of replicate r (common
                   random numbers)
=================  ===========================================================================

The paper checks therefore run the trainer in its *simulation* mode (noise and batches derived
from the recorded seed): each run is a reproducible simulation of DP training whose ε is the
guarantee of the simulated mechanism, not a release that is private against a reader of the
seed. Their results are about the mechanism's accuracy, never releases of private data.

A run's result mixes what (ε, δ) covers (test accuracy; the settings, ε and σ, which are public)
with diagnostics of the private training data (train accuracy, the clipping meter's per-example
norms, fractions clipped, clip bias, noise-to-signal: :data:`DIAGNOSTIC_FIELDS`).
:func:`result_privacy` is the statement its result file carries, separating the two.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

# TensorFlow and TFQ come with the trainer and the model zoo: the claim modules import this
# module only inside ``run_task``, in the process that runs a training task.
from privqml.models.data import dataset_classes
from privqml.models.privacy.randomness import SECRET_STATEMENT, SIMULATION_WARNING
from privqml.models.training.records import COVERED_STATEMENT, NOT_COVERED_STATEMENT, TrainConfig
from privqml.models.training.trainer import replicate_key, train_replicates
from privqml.models.zoo import reference_quantum_model
from privqml.paper_checks.learning_rate import LRChoice, LRRule, choose_lr
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.run_numbers import RunNumbers

# Relative float32 tolerance for "‖g_i‖ ≤ G*" and "bias ≤ (G* − C)+": gradients are computed
# in float32 (rounding ~6e-8 per operation); 1e-5 relative leaves a wide margin for that and
# nothing else.
FLOAT_TOLERANCE = 1e-5

#: the fields of :func:`compact_run` computed from the private training data (not covered by ε)
DIAGNOSTIC_FIELDS = ("train_accuracy", "max_per_example_norm", "clip_fraction_max", "clip_bias_max",
                     "steps_over_bound", "steps_bias_over_prediction", "steps_clipped", "clip_fraction_mean",
                     "clip_bias_mean", "signal_norm_median", "noise_to_signal")
#: the fields of :func:`compact_run` computed from the releases on test data (covered by ε)
COVERED_FIELDS = ("test_accuracy", "accuracy_per_epoch")


def lr_choice(task: Task) -> LRChoice | None:
    """The public learning-rate choice of a task that names the rule (``lr_grid``), else None."""
    if task.get("lr_grid") is None:
        return None
    return choose_lr(task["model"], task["dataset"], task.int_seed("dataset"), LRRule.from_params(task.as_dict()))


def train_config(task: Task, choice: LRChoice | None = None) -> TrainConfig:
    """The :class:`~privqml.models.training.records.TrainConfig` of a training task (``choice``: its
    :func:`lr_choice`, when the task names the learning-rate rule)."""
    clip: Any = task.get("clip")
    if task.get("clip_ratio") is not None:
        g_star = task.get("g_star")
        clip = float(task["clip_ratio"]) * (float(g_star) if g_star is not None else task_bound(task))
    if clip is None:
        clip = "bound"
    epsilon = float(task["epsilon"])
    return TrainConfig(
        model=task["model"],
        dataset=task["dataset"],
        epsilon=epsilon,
        delta=float(task["delta"]),
        clip=clip,
        epochs=int(task["epochs"]),
        batch_size=int(task["batch_size"]),
        lr=float(choice.lr if choice is not None else task["lr"]),
        optimizer=task.get("optimizer", "adam"),
        seed=task.int_seed("dataset"),
        simulation_seed=task.int_seed("dataset"),  # paired design: common random numbers (module docstring)
        n_train=task.get("n_train"),
        n_test=task.get("n_test"),
        meter_every=1,
    )


@functools.lru_cache(maxsize=None)
def reference_bound(model_spec: str, n_classes: int) -> float:
    """G*: the loss-gradient bound of the model over its public input domain (a classical model:
    of the quantum model it is matched to).

    G* depends only on the public model spec and the number of classes (which fix the circuit,
    the observables and the loss), so it is derived once per process for each such pair.
    """
    model = reference_quantum_model(model_spec, n_classes)
    bound = model.loss_gradient_bound()
    if bound is None or bound.value is None:
        raise ValueError(f"model {model_spec!r} with {n_classes} classes has no finite loss-gradient bound")
    return float(bound.value)


def task_bound(task: Task) -> float:
    """:func:`reference_bound` of a training task's model on its dataset."""
    return reference_bound(task["model"], dataset_classes(task["dataset"]))


def _causes(result) -> dict[str, Any]:
    """Why a private run loses accuracy, averaged over its meter readings:

    - ``clip_fraction_mean``: mean over steps of the share of examples with ‖g_i‖ > C;
    - ``clip_bias_mean``: mean over steps of ‖mean clip_C(g_i) − mean g_i‖ (loss-gradient units);
    - ``signal_norm_median``: median over steps of ‖mean clip_C(g_i)‖;
    - ``noise_to_signal``: σC / (L · ``signal_norm_median``) — the per-coordinate standard deviation
      of the released update's noise over the norm of the signal it carries (L the expected batch).
    None where the run has no meter readings (non-private runs, meter off).
    """
    history, norms = result.clip_history, result.signal_norms
    if not history or not result.privacy.private:
        return {"clip_fraction_mean": None, "clip_bias_mean": None, "signal_norm_median": None, "noise_to_signal": None}
    signal = float(np.median(norms)) if len(norms) else math.nan
    noise = result.privacy.noise_multiplier * float(result.clip) / result.config.batch_size
    return {
        "clip_fraction_mean": float(np.mean([r.fraction_clipped for r in history])),
        "clip_bias_mean": float(np.mean([r.bias for r in history])),
        "signal_norm_median": signal,
        "noise_to_signal": noise / signal if signal > 0 else math.inf,
    }


def compact_run(result, reference_grad_norm_bound: float | None = None) -> RunNumbers:
    """The numbers of a :class:`~privqml.models.training.trainer.RunResult` the claims use
    (with :func:`_causes`: clipped fraction, clip bias and noise-to-signal ratio).

    Per-step checks against the bound are evaluated here, over *every* meter reading of the run:
    ``steps_over_bound`` counts steps with max‖g_i‖ > G*(1 + tol); ``steps_bias_over_prediction``
    steps with bias > (G* − C)₊ + tol·G*; ``steps_clipped`` steps with any example clipped.
    ``reference_grad_norm_bound`` (classical runs) is the matched quantum model's G*, for ratios.
    """
    summary = result.meter_summary()
    bound = result.grad_norm_bound
    clip = result.clip
    history = result.clip_history
    over_bound = bias_over = clipped = 0
    for record in history:
        if bound is not None and record.norm_max > bound * (1 + FLOAT_TOLERANCE):
            over_bound += 1
        if record.predicted_bias_bound is not None and record.bias > record.predicted_bias_bound + FLOAT_TOLERANCE * bound:
            bias_over += 1
        if record.fraction_clipped > 0:
            clipped += 1
    return RunNumbers.from_json({
        "test_accuracy": float(result.test_accuracy),
        "train_accuracy": float(result.train_accuracy),
        "accuracy_per_epoch": [float(h["test_accuracy"]) for h in result.history],
        "private": bool(result.privacy.private),
        "epsilon_rdp": float(result.privacy.epsilon_rdp),
        "epsilon_pld": float(result.privacy.epsilon_pld),
        "delta": float(result.privacy.delta),
        "noise_multiplier": float(result.privacy.noise_multiplier),
        "steps": int(result.privacy.steps),
        "sampling_probability": float(result.privacy.sampling_probability),
        "clip": None if clip is None else float(clip),
        "clip_source": result.clip_source,
        "grad_norm_bound": None if bound is None else float(bound),
        "reference_grad_norm_bound": reference_grad_norm_bound if bound is None else float(bound),
        "max_per_example_norm": summary.get("max_per_example_norm"),
        "clip_fraction_max": summary.get("clip_fraction_max"),
        "clip_bias_max": summary.get("clip_bias_max"),
        "predicted_bias_max": summary.get("predicted_bias_max"),
        "meter_readings": len(history),
        "steps_over_bound": over_bound,
        "steps_bias_over_prediction": bias_over,
        "steps_clipped": clipped,
        "simulation": result.config.simulation_seed is not None,
        "model": {k: result.model.get(k) for k in ("name", "family", "n_weights", "n_outputs", "loss")},
        "dataset": {k: result.dataset.get(k) for k in ("name", "n_train", "n_test", "n_classes")},
        **_causes(result),
        "seconds": float(result.timing.get("total_seconds", math.nan)),
        "mean_step_seconds": result.timing.get("mean_step_seconds"),
    })


def result_privacy(task: Task, result: dict[str, Any]) -> dict[str, Any]:
    """The statement a training run's result file carries at its top level: what its (ε, δ) covers,
    which of its fields are diagnostics of the private training data (not covered), and where its
    randomness came from (a simulation when the noise was seeded)."""
    simulation = bool(result.get("simulation"))
    return {
        "private": bool(result.get("private")),
        "covered": COVERED_STATEMENT if result.get("private") else "not private: no noise was added (epsilon is infinite)",
        "covered_fields": [name for name in COVERED_FIELDS if name in result],
        "not_covered": NOT_COVERED_STATEMENT,
        "not_covered_fields": [name for name in DIAGNOSTIC_FIELDS if name in result],
        "randomness": {"mode": "simulation" if simulation else "secret",
                       "statement": SIMULATION_WARNING if simulation else SECRET_STATEMENT},
    }


def run_training_task(task: Task) -> dict[str, Any]:
    """Train the run a task describes and return :func:`compact_run` of it (a classical run with
    the G* of its matched quantum model beside it, for ratios)."""
    return run_training_tasks([task])[0]


def run_training_tasks(tasks) -> list[dict[str, Any]]:
    """:func:`run_training_task` of several tasks in one call: the runs of one model (the seeds of an
    arm, at their own learning rates) advance together
    (:func:`~privqml.models.training.trainer.train_replicates`: one vectorised step for all of them,
    each run's own batches, noise and ledger), and a cell's arms share this process's caches (σ
    calibration, ε of the ledger, the synthetic data). Each result equals the run trained alone, to
    float32 rounding."""
    tasks = list(tasks)
    choices = [lr_choice(task) for task in tasks]
    configs = [train_config(task, choice) for task, choice in zip(tasks, choices)]
    groups: dict[Any, list[int]] = {}
    for index, config in enumerate(configs):
        groups.setdefault(replicate_key(config), []).append(index)
    results: list[Any] = [None] * len(tasks)
    for indices in groups.values():
        for index, result in zip(indices, train_replicates([configs[i] for i in indices])):
            results[index] = result
    out = []
    for task, choice, result in zip(tasks, choices, results):
        reference = task_bound(task) if result.grad_norm_bound is None else None
        numbers = dataclasses.replace(compact_run(result, reference), lr=float(result.config.lr),
                                      lr_choice=None if choice is None else choice.to_json())
        out.append(numbers.to_json())
    return out
