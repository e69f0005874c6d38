r"""``train(config) -> RunResult``: DP-SGD (or the non-private reference) end to end.

Per step t = 1..T (T = epochs · round(n_train / batch_size)):

1. draw a Poisson batch, every training example with probability q = batch_size / n_train
   (:func:`~privqml.models.privacy.dpsgd.poisson_batch`) — the sampling the accountant assumes — from a
   generator seeded from the operating system's entropy (:mod:`privqml.models.privacy.randomness`;
   reproducible only in the labelled simulation mode);
2. release g̃_t = (Σ clip_C(∇ℓ_i) + N(0, σ²C²I)) / batch_size by
   :func:`~privqml.models.privacy.dpsgd.dp_step` (TF Privacy's Gaussian sum query behind a finiteness
   guard: a non-finite per-example gradient contributes zero) and record the ``DpEvent`` it spent
   and the release itself;
3. update θ with g̃_t (SGD or Adam: post-processing of the released gradients);
4. every ``meter_every`` steps, feed the per-example gradients to the clipping meter, and record the
   signal norm ‖(1/B) Σ clip_C(∇ℓ_i)‖₂ of the batch (the mean clipped gradient the release carries
   beneath its noise; a private-data diagnostic like the meter).

The model, the data, q, T, the clipping threshold C and σ come from
:func:`~privqml.models.training.setup.run_setup`, before any work: C is a number or ``"bound"``
(the theory's loss-gradient bound over the public input domain, never a quantity computed from the
data), σ is given or calibrated from the target ε at δ, and settings that would make the printed ε
wrong or unattainable are refused there with one line each. The final ε is computed from the
ledger of spent events by both accountants. ``epsilon=inf`` trains without clipping or noise.

With ``out_dir`` the run writes ``checkpoint.json`` after every epoch and ``run.json`` +
``curves.png`` at the end (atomically), then deletes ``checkpoint.json``: it holds private
diagnostics (the data fingerprint, train metrics, the clipping meter, batch sizes) and says so in
its own body (:data:`CHECKPOINT_STATEMENT`) for as long as an interrupted run leaves it; a finished run with the same config is loaded, not
redone, and an interrupted one resumes from its last finished epoch with fresh secret randomness
(the unfinished epoch's updates were never written out, so nothing released is redone, and the
ledger is the planned T steps: exactly the budget accounted). In simulation mode the resumed run
equals an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import pathlib
import time
from typing import Callable, Sequence

import numpy as np

from privqml import jsonio
from privqml.errors import ConfigError
from privqml.models.base import Model
from privqml.models.data import Dataset
from privqml.models.privacy import accounting, dpsgd, fused, randomness
from privqml.models.privacy.clipping import ClipMeasurement, ClipMeter
from privqml.models.privacy.dpsgd import (
    GAUSSIAN,
    Mechanism,
    dp_step,
    dp_steps,
    nonprivate_step,
    nonprivate_steps,
    per_example_gradients,
    poisson_batch,
)
from privqml.models.training import runio
from privqml.models.training.optimizers import StackedOptimizer, optimizer_for
from privqml.models.training.records import (
    CHECKPOINT_STATEMENT,
    DEFAULT_DATASET,
    DEFAULT_MODEL,
    PRIVACY_SCOPE,
    RUN_FORMAT,
    RunResult,
    TrainConfig,
    read_history,
)
from privqml.models.training.setup import RunSetup, run_setup


def _epoch_streams(config: TrainConfig, epoch: int, mechanism: Mechanism = GAUSSIAN) -> randomness.EpochRandomness:
    """The epoch's randomness (Poisson draws, noise): from OS entropy, or from the simulation seed
    (:func:`privqml.models.privacy.randomness.epoch_randomness`); for the stock path TensorFlow's global
    seed is reseeded too (its noise comes from TF Privacy's optimizer). Only then: a new global seed
    makes every ``tf.function`` trace again (measured: 0.5 s per epoch for a 4-qubit fast step)."""
    streams = mechanism.epoch_randomness(config.simulation_seed, epoch, public_seed=config.seed)
    if config.path == "stock":
        dpsgd.reseed_noise(streams.noise_seed)
    return streams


class _RunState:
    """What an epoch boundary must save to resume: weights, optimizer, history, ledger, releases."""

    def __init__(self, private: bool, q: float) -> None:
        self.private, self.q = private, q
        self.history: list[dict] = []
        self.events: list = []
        self.released: list[list[float]] = []
        self.nonfinite = 0
        self.epoch = 0
        self.step_seconds: list[float] = []
        self.signal_norms: list[float] = []
        self.batch_sizes: list[int] = []

    def as_checkpoint(self, identity, model, optimizer, meter) -> dict:
        return {
            "statement": CHECKPOINT_STATEMENT,
            "identity": identity, "epoch": self.epoch, "weights": model.weights.numpy().tolist(),
            "optimizer": optimizer, "history": self.history,
            "clip_history": [r.as_dict() for r in meter.history],
            "step_sigmas": [e.event.noise_multiplier for e in self.events],
            "released_updates": self.released, "nonfinite_examples": self.nonfinite,
            "signal_norms": self.signal_norms, "batch_sizes": self.batch_sizes,
        }

    def restore(self, saved: dict, model, optimizer: StackedOptimizer, run: int, meter) -> None:
        model.weights.assign(np.asarray(saved["weights"], np.float32))
        optimizer.restore(saved["optimizer"], run)
        self.history = list(read_history(saved["history"]))
        meter.history = [ClipMeasurement(**r) for r in saved["clip_history"]]
        self.events = [accounting.dpsgd_event(self.q, s, 1).event for s in saved["step_sigmas"]] if self.private else []
        self.released = saved["released_updates"]
        self.nonfinite = int(saved["nonfinite_examples"])
        self.epoch = int(saved["epoch"])
        self.signal_norms = [float(v) for v in saved.get("signal_norms", [])]
        self.batch_sizes = [int(v) for v in saved.get("batch_sizes", [])]


class _Run:
    """One run of a (possibly replicated) training: its setup, state, meter and files."""

    def __init__(self, config: TrainConfig, out_dir, data: Dataset | None, mechanism: Mechanism = GAUSSIAN,
                 model: Model | None = None) -> None:
        self.mechanism = mechanism
        self.out = runio.check_out_dir(out_dir, kind="run") if out_dir is not None else None
        self.started = time.perf_counter()
        self.setup = setup = run_setup(config, data, model)
        self.identity = {"config": jsonio.to_jsonable(config.as_dict()), "data": setup.data.fingerprint()}
        self.result: RunResult | None = None
        if self.out is not None:  # finished work is loaded, not redone
            done = runio.read_json(self.out / "run.json")
            if done is not None and done.get("format") == RUN_FORMAT and self.identity == {
                "config": done.get("config"), "data": done.get("not_covered", {}).get("data_fingerprint")
            }:
                self.result = RunResult.from_summary(done)
        self.meter = ClipMeter(setup.clip if setup.clip is not None else 1.0, setup.grad_norm_bound,
                               config.meter_every if setup.clip else 0)
        self.state = _RunState(setup.private, setup.sampling_probability)
        self.checkpoint = self.out / "checkpoint.json" if self.out is not None else None
        self.x_train = setup.data.x_train.astype(np.float32)
        self.streams: randomness.EpochRandomness | None = None

    def resume(self, optimizer: StackedOptimizer, index: int) -> None:
        """Continue from this run's checkpoint, if it is one of this very run (config and data)."""
        saved = runio.read_json(self.checkpoint) if self.checkpoint is not None else None
        if (saved is not None and saved.get("identity") == self.identity and "released_updates" in saved
                and isinstance(saved.get("optimizer"), dict)):
            self.state.restore(saved, self.setup.model, optimizer, index, self.meter)

    def save_checkpoint(self, optimizer: StackedOptimizer, index: int) -> None:
        if self.checkpoint is not None:
            runio.write_json_atomic(self.checkpoint, self.state.as_checkpoint(
                self.identity, self.setup.model, optimizer.state(index), self.meter))

    def finish(self) -> RunResult:
        result = _run_result(self.setup, self.state, self.meter, self.started)
        if self.out is not None:
            summary = result.summary()
            runio.write_json_atomic(self.out / "run.json", summary)
            runio.plot_run(summary, self.out / "curves.png")
            if self.checkpoint is not None:  # run.json holds everything it had: no private diagnostics left lying
                self.checkpoint.unlink(missing_ok=True)
        self.result = result
        return result


def train(
    config: TrainConfig,
    out_dir: str | pathlib.Path | None = None,
    progress: Callable[[dict], None] | None = None,
    data: Dataset | None = None,
    mechanism: Mechanism = GAUSSIAN,
    model: Model | None = None,
) -> RunResult:
    """Run ``config``; see the module docstring. ``progress`` gets a dict after every step.

    ``data`` replaces the dataset named in the config (its features must lie in the model's
    public input domain); ``config.dataset`` then only names it in the records. ``mechanism`` is the
    DP-SGD mechanism (:data:`~privqml.models.privacy.dpsgd.GAUSSIAN`; audits inject broken ones).
    ``model`` replaces the model ``config.model`` names: a model built in Python, trained in place.
    """
    runs = [_Run(config, out_dir, data, mechanism, model)]
    if runs[0].result is None:
        _train_runs(runs, progress)
    return runs[0].result


def replicate_key(config: TrainConfig) -> TrainConfig:
    """What runs stepped together must share: the config with its seeds and learning rate blanked
    (seed, simulation_seed, lr: each run's own)."""
    return dataclasses.replace(config, seed=0, simulation_seed=None, lr=1.0)


def train_replicates(
    configs: Sequence[TrainConfig],
    out_dirs: Sequence[str | pathlib.Path] | None = None,
    progress: Callable[[dict], None] | None = None,
    data: Dataset | None = None,
    mechanism: Mechanism = GAUSSIAN,
) -> list[RunResult]:
    """R independent runs of one configuration that differ only in ``seed`` (initial weights, data
    split), ``simulation_seed`` and ``lr``, advanced together: on the fast private path every step is
    one compiled call over all runs' Poisson batches (:func:`~privqml.models.privacy.dpsgd.dp_steps`;
    non-private runs: :func:`~privqml.models.privacy.dpsgd.nonprivate_steps`), each run with its own
    batches, noise, optimizer state, ledger and files. Each run's result equals what :func:`train`
    gives for it alone (in simulation mode, the same trajectory, to float32 rounding: the batched
    kernels round a row's gradient differently for different row counts, by ≤ 1 ulp per operation).
    The stock path steps the runs one after another. ``out_dirs`` has one directory per run (or None);
    finished runs are loaded, interrupted ones resume from their last finished epoch.
    """
    configs = list(configs)
    if not configs:
        raise ConfigError("train_replicates needs at least one configuration")
    keys = {replicate_key(c) for c in configs}
    if len(keys) != 1:
        raise ConfigError("replicates must share every setting but seed, simulation_seed and lr; got "
                          f"{len(keys)} different configurations")
    if out_dirs is not None and len(out_dirs) != len(configs):
        raise ConfigError(f"{len(out_dirs)} output directories for {len(configs)} runs: give one per run")
    runs = [_Run(c, None if out_dirs is None else out_dirs[i], data, mechanism) for i, c in enumerate(configs)]
    todo = [r for r in runs if r.result is None]
    if todo:
        _train_runs(todo, progress)
    return [r.result for r in runs]


def _stacks(runs: list[_Run]) -> bool:
    """Whether the runs can share one compiled fast step: private fast path, equal C, σ, q, L and model structure."""
    first = runs[0].setup
    if first.private and first.config.path != "fast":
        return False
    key = first.model.trace_key()
    return key is not None and all(
        r.setup.model.trace_key() == key and r.setup.clip == first.clip
        and r.setup.private == first.private and r.setup.noise_multiplier == first.noise_multiplier
        and r.setup.sampling_probability == first.sampling_probability
        and r.setup.steps_per_epoch == first.steps_per_epoch for r in runs)


def _train_runs(runs: list[_Run], progress: Callable[[dict], None] | None) -> None:
    config = runs[0].setup.config
    optimizer = optimizer_for([r.setup.config for r in runs])
    for index, run in enumerate(runs):
        run.resume(optimizer, index)
    stacked = _stacks(runs)  # one run too: the flat-array step skips the variable read and assign
    for epoch in range(min(r.state.epoch for r in runs), config.epochs):
        active = [i for i, r in enumerate(runs) if r.state.epoch == epoch]
        if stacked:
            _train_epoch_stacked([runs[i] for i in active], active, epoch, optimizer, progress)
        else:
            for i in active:
                _train_epoch(runs[i], i, epoch, optimizer, progress)
        _evaluate_epoch([runs[i] for i in active], epoch, progress)
        for i in active:
            runs[i].save_checkpoint(optimizer, i)
    for run in runs:
        run.finish()


def release_step(setup: RunSetup, x_train: np.ndarray, streams: randomness.EpochRandomness,
                 optimizer: StackedOptimizer, run: int = 0, mechanism: Mechanism = GAUSSIAN):
    """One step (module docstring, 1-3): draw a Poisson batch from ``streams.batches``, release its
    gradient (DP-SGD with the fast path's noise from ``streams.noise``, or the plain mean for a
    non-private run) and apply it with the optimizer state of run ``run``; returns (batch, StepResult).

    ``x_train`` is the training features as float32 (converted once by the caller).
    """
    config, data, q = setup.config, setup.data, setup.sampling_probability
    batch = poisson_batch(data.n_train, q, streams.batches)
    xb, yb = x_train[batch], data.y_train[batch]
    if setup.private:
        result = dp_step(setup.model, xb, yb, setup.clip, setup.noise_multiplier, config.batch_size, q, config.path,
                         noise_rng=streams.noise, mechanism=mechanism)
    else:
        result = nonprivate_step(setup.model, xb, yb)
    weights = setup.model.weights
    weights.assign(optimizer.step(weights.numpy()[np.newaxis], result.gradient[np.newaxis], [run])[0])
    return batch, result


def _record_step(run: _Run, step: int, batch: np.ndarray, result, seconds: float) -> None:
    """The run's records of one released step (module docstring, 4): ledger, release, meter."""
    setup, state, meter = run.setup, run.state, run.meter
    if setup.private:
        state.events.append(result.event)
    state.released.append([float(v) for v in result.gradient])
    state.batch_sizes.append(int(result.batch_size))
    state.step_seconds.append(seconds)
    if result.n_nonfinite is not None:
        state.nonfinite += result.n_nonfinite
    if meter.due(step):
        grads = result.per_example_grads
        if grads is None:  # stock path (its optimizer does not expose them), or an empty batch
            grads, _ = per_example_gradients(setup.model, run.x_train[batch], setup.data.y_train[batch])
            if result.path == "stock":
                state.nonfinite += dpsgd.count_nonfinite(grads) if setup.private else 0
        released = np.where(np.isfinite(grads), grads, 0.0)  # as released: non-finite = 0
        meter.observe(step, released)
        state.signal_norms.append(signal_norm(released, meter.clip_norm))


def _train_epoch(run: _Run, index: int, epoch: int, optimizer: StackedOptimizer,
                 progress: Callable[[dict], None] | None) -> None:
    """The steps of one epoch of one run (module docstring, 1-4): Poisson batch, release, update, meter."""
    setup = run.setup
    streams = _epoch_streams(setup.config, epoch, run.mechanism)
    for step in range(epoch * setup.steps_per_epoch, (epoch + 1) * setup.steps_per_epoch):
        t0 = time.perf_counter()
        batch, result = release_step(setup, run.x_train, streams, optimizer, index, run.mechanism)
        _record_step(run, step, batch, result, time.perf_counter() - t0)
        if progress is not None:
            progress({"step": step + 1, "total_steps": setup.steps, "epoch": epoch + 1, "batch_size": len(batch)})


def _train_epoch_stacked(runs: list[_Run], indices: list[int], epoch: int, optimizer: StackedOptimizer,
                         progress: Callable[[dict], None] | None) -> None:
    """One epoch of R runs with one compiled fast step per step (:func:`~privqml.models.privacy.dpsgd.dp_steps`)."""
    first = runs[0].setup
    mechanism = runs[0].mechanism
    streams = [mechanism.epoch_randomness(r.setup.config.simulation_seed, epoch, public_seed=r.setup.config.seed)
               for r in runs]
    weights = np.stack([r.setup.model.weights.numpy() for r in runs])
    q = first.sampling_probability
    for step in range(epoch * first.steps_per_epoch, (epoch + 1) * first.steps_per_epoch):
        t0 = time.perf_counter()
        batches = [poisson_batch(r.setup.data.n_train, q, s.batches) for r, s in zip(runs, streams)]
        xs = [r.x_train[b] for r, b in zip(runs, batches)]
        ys = [r.setup.data.y_train[b] for r, b in zip(runs, batches)]
        if first.private:
            results = dp_steps(first.model, weights, xs, ys, first.clip, first.noise_multiplier,
                               first.config.batch_size, q, [s.noise for s in streams], mechanism)
        else:
            results = nonprivate_steps(first.model, weights, xs, ys)
        weights = optimizer.step(weights, np.stack([res.gradient for res in results]), indices)
        seconds = (time.perf_counter() - t0) / len(runs)
        for run, batch, result in zip(runs, batches, results):
            _record_step(run, step, batch, result, seconds)
        if progress is not None:
            progress({"step": step + 1, "total_steps": first.steps, "epoch": epoch + 1, "replicates": len(runs),
                      "batch_size": int(np.mean([len(b) for b in batches]))})
    for run, row in zip(runs, weights):
        run.setup.model.weights.assign(row)


def signal_norm(per_example_grads: np.ndarray, clip_norm: float) -> float:
    """‖(1/B) Σ_i clip_C(g_i)‖₂ with clip_C(g) = g · min(1, C/‖g‖) (0 for an empty batch)."""
    grads = np.asarray(per_example_grads, dtype=np.float64)
    if grads.shape[0] == 0:
        return 0.0
    norms = np.linalg.norm(grads, axis=1)
    scale = np.minimum(1.0, clip_norm / np.maximum(norms, 1e-300))
    return float(np.linalg.norm((grads * scale[:, None]).mean(axis=0)))


def _evaluate_epoch(runs: list[_Run], epoch: int, progress: Callable[[dict], None] | None) -> None:
    """Loss and accuracy after ``epoch`` on the training split (a diagnostic) and the test split, of every
    run in ``runs`` (runs of one model structure: one forward call over all their rows)."""
    groups: dict = {}
    for run in runs:
        key = run.setup.model.trace_key()
        groups.setdefault(("alone", id(run)) if key is None else key, []).append(run)
    for members in groups.values():
        model = members[0].setup.model
        weights = np.stack([r.setup.model.weights.numpy() for r in members])
        xs = [x for r in members for x in (r.setup.data.x_train, r.setup.data.x_test)]
        values = fused.outputs(model, np.repeat(weights, 2, axis=0), xs)
        for i, run in enumerate(members):
            data = run.setup.data
            train_loss, train_acc = run.setup.model.evaluate_outputs(values[2 * i], data.y_train)
            test_loss, test_acc = run.setup.model.evaluate_outputs(values[2 * i + 1], data.y_test)
            step = (epoch + 1) * run.setup.steps_per_epoch
            run.state.history.append({
                "epoch": epoch + 1, "steps": step, "train_loss": train_loss, "train_accuracy": train_acc,
                "test_loss": test_loss, "test_accuracy": test_acc,
            })
            run.state.epoch = epoch + 1
            if progress is not None:
                progress({"step": step, "total_steps": run.setup.steps, "epoch": epoch + 1, "test_accuracy": test_acc})


def _run_result(setup: RunSetup, state: _RunState, meter: ClipMeter, started: float) -> RunResult:
    """The :class:`RunResult`: ε of the spent ledger by both accountants, and what was released."""
    config, sigma, q = setup.config, setup.noise_multiplier, setup.sampling_probability
    if setup.private:
        assert len(state.events) == setup.steps, (len(state.events), setup.steps)
        assert all(e.sampling_probability == q for e in state.events)
    privacy = accounting.privacy_report(
        accounting.compress_ledger(state.events), config.delta, sigma, q,
        len(state.events) if setup.private else setup.steps, calibrated_with=setup.calibrated_with,
        target_epsilon=config.epsilon if setup.private else None, private=setup.private and sigma > 0,
    )
    model, step_seconds = setup.model, state.step_seconds
    return RunResult(
        config=config, model=model.describe(), dataset=setup.data.summary(), privacy=privacy, clip=setup.clip,
        clip_source=setup.clip_source, grad_norm_bound=setup.grad_norm_bound, history=tuple(state.history),
        clip_history=tuple(meter.history), final_weights=tuple(float(w) for w in model.weights.numpy()),
        timing={
            "total_seconds": time.perf_counter() - started,
            "mean_step_seconds": float(np.mean(step_seconds)) if step_seconds else None,
            "steps_timed": len(step_seconds),
        },
        released_updates=tuple(tuple(row) for row in state.released), nonfinite_examples=state.nonfinite,
        signal_norms=tuple(state.signal_norms), batch_sizes=tuple(state.batch_sizes),
    )


__all__ = ["DEFAULT_DATASET", "DEFAULT_MODEL", "PRIVACY_SCOPE", "RunResult", "TrainConfig", "optimizer_for", "release_step",
           "replicate_key", "signal_norm", "train", "train_replicates"]
