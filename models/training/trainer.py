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

import pathlib
import time
from typing import Callable

import numpy as np
import tensorflow as tf

from privqml import jsonio
from privqml.models.data import Dataset
from privqml.models.privacy import accounting, dpsgd, randomness
from privqml.models.privacy.clipping import ClipMeasurement, ClipMeter
from privqml.models.privacy.dpsgd import dp_step, nonprivate_step, per_example_gradients, poisson_batch
from privqml.models.training import runio
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


def optimizer_for(config: TrainConfig):
    """The Keras optimizer of ``config`` (Adam or SGD at its learning rate): post-processing of the
    released gradients."""
    if config.optimizer == "adam":
        return tf.keras.optimizers.legacy.Adam(learning_rate=config.lr)
    return tf.keras.optimizers.legacy.SGD(learning_rate=config.lr)


def _epoch_batches(config: TrainConfig, epoch: int) -> np.random.Generator:
    """The Poisson-draw generator of an epoch, after reseeding the DP noise for it: both from OS
    entropy, or from the simulation seed (:func:`privqml.models.privacy.randomness.epoch_randomness`)."""
    streams = randomness.epoch_randomness(config.simulation_seed, epoch, public_seed=config.seed)
    dpsgd.reseed_noise(streams.noise_seed)
    return streams.batches


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
            "optimizer": [w.tolist() for w in optimizer.get_weights()], "history": self.history,
            "clip_history": [r.as_dict() for r in meter.history],
            "step_sigmas": [e.event.noise_multiplier for e in self.events],
            "released_updates": self.released, "nonfinite_examples": self.nonfinite,
            "signal_norms": self.signal_norms, "batch_sizes": self.batch_sizes,
        }

    def restore(self, saved: dict, model, optimizer, meter) -> None:
        model.weights.assign(np.asarray(saved["weights"], np.float32))
        optimizer.apply_gradients([(tf.zeros_like(model.weights), model.weights)])  # create slots
        optimizer.set_weights([np.asarray(w, np.float32) for w in saved["optimizer"]])
        self.history = list(read_history(saved["history"]))
        meter.history = [ClipMeasurement(**r) for r in saved["clip_history"]]
        self.events = [accounting.dpsgd_event(self.q, s, 1).event for s in saved["step_sigmas"]] if self.private else []
        self.released = saved["released_updates"]
        self.nonfinite = int(saved["nonfinite_examples"])
        self.epoch = int(saved["epoch"])
        self.signal_norms = [float(v) for v in saved.get("signal_norms", [])]
        self.batch_sizes = [int(v) for v in saved.get("batch_sizes", [])]


def train(
    config: TrainConfig,
    out_dir: str | pathlib.Path | None = None,
    progress: Callable[[dict], None] | None = None,
    data: Dataset | None = None,
) -> RunResult:
    """Run ``config``; see the module docstring. ``progress`` gets a dict after every step.

    ``data`` replaces the dataset named in the config (its features must lie in the model's
    public input domain); ``config.dataset`` then only names it in the records.
    """
    out = runio.check_out_dir(out_dir) if out_dir is not None else None
    started = time.perf_counter()
    setup = run_setup(config, data)
    identity = {"config": jsonio.to_jsonable(config.as_dict()), "data": setup.data.fingerprint()}
    if out is not None:  # finished work is loaded, not redone
        done = runio.read_json(out / "run.json")
        if done is not None and done.get("format") == RUN_FORMAT and identity == {
            "config": done.get("config"), "data": done.get("not_covered", {}).get("data_fingerprint")
        }:
            return RunResult.from_summary(done)
    meter = ClipMeter(setup.clip if setup.clip is not None else 1.0, setup.grad_norm_bound,
                      config.meter_every if setup.clip else 0)
    optimizer = optimizer_for(config)
    state = _RunState(setup.private, setup.sampling_probability)
    checkpoint_path = out / "checkpoint.json" if out is not None else None
    if checkpoint_path is not None:
        saved = runio.read_json(checkpoint_path)
        if saved is not None and saved.get("identity") == identity and "released_updates" in saved:
            state.restore(saved, setup.model, optimizer, meter)
    for epoch in range(state.epoch, config.epochs):
        _train_epoch(setup, epoch, state, optimizer, meter, progress)
        _evaluate_epoch(setup, epoch, state, progress)
        if checkpoint_path is not None:
            runio.write_json_atomic(checkpoint_path, state.as_checkpoint(identity, setup.model, optimizer, meter))
    result = _run_result(setup, state, meter, started)
    if out is not None:
        summary = result.summary()
        runio.write_json_atomic(out / "run.json", summary)
        runio.plot_run(summary, out / "curves.png")
        if checkpoint_path is not None:  # run.json holds everything it had: no private diagnostics left lying
            checkpoint_path.unlink(missing_ok=True)
    return result


def release_step(setup: RunSetup, x_train: np.ndarray, rng: np.random.Generator, optimizer):
    """One step (module docstring, 1-3): draw a Poisson batch from ``rng``, release its gradient
    (DP-SGD, or the plain mean for a non-private run) and apply it; returns (batch, StepResult).

    ``x_train`` is the training features as float32 (converted once by the caller).
    """
    config, data, q = setup.config, setup.data, setup.sampling_probability
    batch = poisson_batch(data.n_train, q, rng)
    xb, yb = x_train[batch], data.y_train[batch]
    if setup.private:
        result = dp_step(setup.model, xb, yb, setup.clip, setup.noise_multiplier, config.batch_size, q, config.path)
    else:
        result = nonprivate_step(setup.model, xb, yb)
    optimizer.apply_gradients([(tf.constant(result.gradient), setup.model.weights)])
    return batch, result


def _train_epoch(setup: RunSetup, epoch: int, state: _RunState, optimizer, meter: ClipMeter,
                 progress: Callable[[dict], None] | None) -> None:
    """The steps of one epoch (module docstring, 1-4): Poisson batch, release, update, meter."""
    config, model, data, q = setup.config, setup.model, setup.data, setup.sampling_probability
    x_train = data.x_train.astype(np.float32)
    rng = _epoch_batches(config, epoch)
    for step in range(epoch * setup.steps_per_epoch, (epoch + 1) * setup.steps_per_epoch):
        t0 = time.perf_counter()
        batch, result = release_step(setup, x_train, rng, optimizer)
        xb, yb = x_train[batch], data.y_train[batch]
        if setup.private:
            state.events.append(result.event)
        state.released.append([float(v) for v in result.gradient])
        state.batch_sizes.append(int(result.batch_size))
        state.step_seconds.append(time.perf_counter() - t0)
        if result.n_nonfinite is not None:
            state.nonfinite += result.n_nonfinite
        if meter.due(step):
            grads = result.per_example_grads
            if grads is None:  # stock path: its optimizer does not expose them
                grads, _ = per_example_gradients(model, xb, yb)
                state.nonfinite += dpsgd.count_nonfinite(grads) if setup.private else 0
            released = np.where(np.isfinite(grads), grads, 0.0)  # as released: non-finite = 0
            meter.observe(step, released)
            state.signal_norms.append(signal_norm(released, meter.clip_norm))
        if progress is not None:
            progress({"step": step + 1, "total_steps": setup.steps, "epoch": epoch + 1, "batch_size": len(batch)})


def signal_norm(per_example_grads: np.ndarray, clip_norm: float) -> float:
    """‖(1/B) Σ_i clip_C(g_i)‖₂ with clip_C(g) = g · min(1, C/‖g‖) (0 for an empty batch)."""
    grads = np.asarray(per_example_grads, dtype=np.float64)
    if grads.shape[0] == 0:
        return 0.0
    norms = np.linalg.norm(grads, axis=1)
    scale = np.minimum(1.0, clip_norm / np.maximum(norms, 1e-300))
    return float(np.linalg.norm((grads * scale[:, None]).mean(axis=0)))


def _evaluate_epoch(setup: RunSetup, epoch: int, state: _RunState, progress: Callable[[dict], None] | None) -> None:
    """Loss and accuracy after ``epoch`` on the training split (a diagnostic) and the test split."""
    model, data = setup.model, setup.data
    train_loss, train_acc = model.evaluate(data.x_train, data.y_train)
    test_loss, test_acc = model.evaluate(data.x_test, data.y_test)
    step = (epoch + 1) * setup.steps_per_epoch
    state.history.append({
        "epoch": epoch + 1, "steps": step, "train_loss": train_loss, "train_accuracy": train_acc,
        "test_loss": test_loss, "test_accuracy": test_acc,
    })
    state.epoch = epoch + 1
    if progress is not None:
        progress({"step": step, "total_steps": setup.steps, "epoch": epoch + 1, "test_accuracy": test_acc})


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
           "signal_norm", "train"]
