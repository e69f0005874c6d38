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
4. every ``meter_every`` steps, feed the per-example gradients to the clipping meter.

σ is either given or calibrated from the target ε at δ (:func:`calibrate_noise_multiplier`,
with the RDP accountant unless ``accountant="pld"``); the final ε is computed from the ledger of
spent events by both accountants. ``epsilon=inf`` trains without clipping or noise.

The clipping threshold C is a number or ``"bound"``: the theory's loss-gradient bound over the
public input domain (for a classical model: the bound of the quantum model it is matched to, so
both are compared at one C). Never a quantity computed from the data.

Before any work, settings that would make the printed ε wrong or unattainable are refused with
one line each: δ ≥ 1/n_train (unless ``allow_large_delta``), a σ (given or calibrated) below
:data:`~privqml.models.training.records.MIN_NOISE_MULTIPLIER`, a loss that is unbounded without a clamp.

With ``out_dir`` the run writes ``checkpoint.json`` after every epoch and ``run.json`` +
``curves.png`` at the end (atomically); a finished run with the same config is loaded, not
redone, and an interrupted one resumes from its last finished epoch with fresh secret randomness
(the unfinished epoch's updates were never written out, so nothing released is redone, and the
ledger is the planned T steps: exactly the budget accounted). In simulation mode the resumed run
equals an uninterrupted one.
"""

from __future__ import annotations

import math
import pathlib
import time
from typing import Callable

import numpy as np
import tensorflow as tf

from privqml.errors import ConfigError, DataError
from privqml.models.privacy import accounting, dpsgd, randomness
from privqml.models.training import runio
from privqml.models.privacy.clipping import ClipMeasurement, ClipMeter
from privqml.models.data import Dataset, dataset_classes, load_dataset
from privqml.models.privacy.dpsgd import dp_step, nonprivate_step, per_example_gradients, poisson_batch
from privqml.models.losses import check_loss
from privqml.models.training.records import (
    DEFAULT_DATASET,
    DEFAULT_MODEL,
    MIN_NOISE_MULTIPLIER,
    PRIVACY_SCOPE,
    RUN_FORMAT,
    RunResult,
    TrainConfig,
)
from privqml.models.zoo import build_model, reference_quantum_model

def resolve_clip(config: TrainConfig, model, n_classes: int):
    """(C, source, G*): C from the config, G* this model's loss-gradient bound (or None)."""
    bound = model.loss_gradient_bound()
    grad_norm_bound = bound.value if bound is not None else None
    if config.clip != "bound":
        return float(config.clip), "given", grad_norm_bound
    reference = bound
    source = "bound"
    if bound is None:  # classical: the bound of the quantum model it is matched to
        ref_model = reference_quantum_model(config.model, n_classes, config.seed, config.loss)
        reference = ref_model.loss_gradient_bound()
        source = f"bound of the matched quantum model {ref_model.name}"
    if reference.value is None:
        raise ConfigError(
            f"clip='bound' but the loss gradient of {config.model} is unbounded: "
            f"{reference.unbounded_reason}. Give a numeric clip"
        )
    return float(reference.value), source + f" (loss {reference.loss}: {reference.formula})", grad_norm_bound


def optimizer_for(config: TrainConfig):
    if config.optimizer == "adam":
        return tf.keras.optimizers.legacy.Adam(learning_rate=config.lr)
    return tf.keras.optimizers.legacy.SGD(learning_rate=config.lr)


def _epoch_batches(config: TrainConfig, epoch: int) -> np.random.Generator:
    """The Poisson-draw generator of an epoch, after reseeding the DP noise for it: both from OS
    entropy, or from the simulation seed (:func:`privqml.models.privacy.randomness.epoch_randomness`)."""
    streams = randomness.epoch_randomness(config.simulation_seed, epoch, public_seed=config.seed)
    dpsgd.reseed_noise(streams.noise_seed)
    return streams.batches


def check_privacy_settings(config: TrainConfig, model, n_train: int) -> None:
    """Refuse, before any training, the settings under which the printed ε would not be the guarantee."""
    if not config.private:
        return
    if config.delta >= 1.0 / n_train and not config.allow_large_delta:
        raise ConfigError(
            f"delta={config.delta:g} >= 1/n_train = {1.0 / n_train:.3g}: a mechanism that publishes one "
            f"training example outright meets it; use delta < {1.0 / n_train:.3g} (e.g. "
            f"{10 ** math.floor(math.log10(0.1 / n_train)):g}) or --allow-large-delta"
        )
    if model.loss == "bce_prob" and model.clamp is None:
        raise ConfigError(
            "loss='bce_prob' without a clamp is unbounded (log p -> -inf as p -> 0) and private training "
            "refuses it; add a clamp to the model (e.g. --model hea:clamp=0.01) or use --loss bce_logits"
        )


def noise_for(config: TrainConfig, sampling_probability: float, total_steps: int) -> tuple[float, str | None]:
    """(σ, the accountant it was calibrated with) — refused when accounting cannot finish."""
    if not config.private:
        return 0.0, None
    if config.noise_multiplier is not None:
        return float(config.noise_multiplier), None
    sigma = accounting.calibrate_noise_multiplier(
        config.epsilon, config.delta, sampling_probability, total_steps, config.accountant
    )
    if sigma < MIN_NOISE_MULTIPLIER:
        floor_eps = accounting.compute_epsilon(sampling_probability, MIN_NOISE_MULTIPLIER, total_steps,
                                               config.delta, "rdp")
        raise ConfigError(
            f"epsilon={config.epsilon:g} needs noise_multiplier={sigma:.3g} < {MIN_NOISE_MULTIPLIER}, below which "
            f"the PLD accountant cannot finish in bounded memory; use epsilon <= {floor_eps:.3g} for this "
            f"q={sampling_probability:.3g}, T={total_steps} (or epsilon=inf for a non-private run)"
        )
    # TF Privacy applies stddev float32(σC) to a float32 C: σ as applied may be 1 ulp below σ.
    # A 2^-20 relative margin keeps the ledger's ε at or below the target.
    return sigma * (1.0 + 2.0**-20), config.accountant


def model_and_data(config: TrainConfig, data: Dataset | None):
    """The model and the dataset of a run (``data`` replaces the one named in the config)."""
    n_classes = dataset_classes(config.dataset) if data is None else data.n_classes
    model = build_model(config.model, n_classes, config.seed, config.loss)
    if data is None:
        data = load_dataset(
            config.dataset, model.n_features, config.seed, model.input_domain, config.n_train, config.n_test,
            preprocessing=config.preprocessing,
        )
    elif not isinstance(data, Dataset):
        raise ConfigError(f"data is a {type(data).__name__}; pass a privqml.models.data.Dataset")
    elif data.n_features != model.n_features or any(
        lo < dlo - 1e-9 or hi > dhi + 1e-9 for (lo, hi), (dlo, dhi) in zip(data.feature_domain, model.input_domain)
    ):
        raise DataError(
            f"data has {data.n_features} features in {data.feature_domain}; the model takes "
            f"{model.n_features} inputs in its public domain {model.input_domain}"
        )
    check_loss(model.loss, model.n_outputs, data.n_classes)
    if config.batch_size > data.n_train:
        raise ConfigError(
            f"batch_size={config.batch_size} exceeds the {data.n_train} training examples of "
            f"{data.name}; use batch_size <= {data.n_train}"
        )
    return model, data, n_classes


class _RunState:
    """What an epoch boundary must save to resume: weights, optimizer, history, ledger, releases."""

    def __init__(self, private: bool, q: float) -> None:
        self.private, self.q = private, q
        self.history: list[dict] = []
        self.events: list = []
        self.released: list[list[float]] = []
        self.nonfinite = 0
        self.epoch = 0

    def as_checkpoint(self, identity, model, optimizer, meter) -> dict:
        return {
            "identity": identity, "epoch": self.epoch, "weights": model.weights.numpy().tolist(),
            "optimizer": [w.tolist() for w in optimizer.get_weights()], "history": self.history,
            "clip_history": [r.as_dict() for r in meter.history],
            "step_sigmas": [e.event.noise_multiplier for e in self.events],
            "released_updates": self.released, "nonfinite_examples": self.nonfinite,
        }

    def restore(self, saved: dict, model, optimizer, meter) -> None:
        model.weights.assign(np.asarray(saved["weights"], np.float32))
        optimizer.apply_gradients([(tf.zeros_like(model.weights), model.weights)])  # create slots
        optimizer.set_weights([np.asarray(w, np.float32) for w in saved["optimizer"]])
        self.history = saved["history"]
        meter.history = [ClipMeasurement(**r) for r in saved["clip_history"]]
        self.events = [accounting.dpsgd_event(self.q, s, 1).event for s in saved["step_sigmas"]] if self.private else []
        self.released = saved["released_updates"]
        self.nonfinite = int(saved["nonfinite_examples"])
        self.epoch = int(saved["epoch"])


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
    model, data, n_classes = model_and_data(config, data)
    identity = {"config": runio._clean(config.as_dict()), "data": data.fingerprint()}  # noqa: SLF001
    if out is not None:  # finished work is loaded, not redone
        done = runio.read_json(out / "run.json")
        if done is not None and done.get("format") == RUN_FORMAT and identity == {
            "config": done.get("config"), "data": done.get("not_covered", {}).get("data_fingerprint")
        }:
            return RunResult.from_summary(done)
    check_privacy_settings(config, model, data.n_train)
    q = config.batch_size / data.n_train
    steps_per_epoch = max(1, round(data.n_train / config.batch_size))
    total_steps = config.epochs * steps_per_epoch
    private = config.private
    sigma, calibrated_with = noise_for(config, q, total_steps)
    try:
        clip, clip_source, grad_norm_bound = resolve_clip(config, model, n_classes)
    except ConfigError:
        if private:
            raise
        clip, clip_source, grad_norm_bound = None, "none (non-private, no bound)", None
    if not private and clip is not None:
        clip_source += "; meter only, not applied (non-private run: no clipping, no noise)"
    meter = ClipMeter(clip if clip is not None else 1.0, grad_norm_bound, config.meter_every if clip else 0)
    optimizer = optimizer_for(config)
    x_train, y_train = data.x_train.astype(np.float32), data.y_train
    state = _RunState(private, q)
    checkpoint_path = out / "checkpoint.json" if out is not None else None
    if checkpoint_path is not None:
        saved = runio.read_json(checkpoint_path)
        if saved is not None and saved.get("identity") == identity and "released_updates" in saved:
            state.restore(saved, model, optimizer, meter)
    step_seconds = []
    step = state.epoch * steps_per_epoch
    for epoch in range(state.epoch, config.epochs):
        rng = _epoch_batches(config, epoch)
        for _ in range(steps_per_epoch):
            t0 = time.perf_counter()
            batch = poisson_batch(data.n_train, q, rng)
            xb, yb = x_train[batch], y_train[batch]
            if private:
                result = dp_step(model, xb, yb, clip, sigma, config.batch_size, q, config.path)
                state.events.append(result.event)
            else:
                result = nonprivate_step(model, xb, yb)
            optimizer.apply_gradients([(tf.constant(result.gradient), model.weights)])
            state.released.append([float(v) for v in result.gradient])
            step_seconds.append(time.perf_counter() - t0)
            if result.n_nonfinite is not None:
                state.nonfinite += result.n_nonfinite
            if meter.due(step):
                grads = result.per_example_grads
                if grads is None:  # stock path: its optimizer does not expose them
                    grads, _ = per_example_gradients(model, xb, yb)
                    state.nonfinite += dpsgd.count_nonfinite(grads) if private else 0
                meter.observe(step, np.where(np.isfinite(grads), grads, 0.0))  # as released: non-finite = 0
            step += 1
            if progress is not None:
                progress({"step": step, "total_steps": total_steps, "epoch": epoch + 1, "batch_size": len(batch)})
        train_loss, train_acc = model.evaluate(data.x_train, data.y_train)
        test_loss, test_acc = model.evaluate(data.x_test, data.y_test)
        state.history.append({
            "epoch": epoch + 1, "steps": step, "train_loss": train_loss, "train_accuracy": train_acc,
            "test_loss": test_loss, "test_accuracy": test_acc,
        })
        state.epoch = epoch + 1
        if progress is not None:
            progress({"step": step, "total_steps": total_steps, "epoch": epoch + 1, "test_accuracy": test_acc})
        if checkpoint_path is not None:
            runio.write_json_atomic(checkpoint_path, state.as_checkpoint(identity, model, optimizer, meter))
    if private:
        expected = accounting.dpsgd_event(q, max(sigma, 0.0), total_steps)
        assert len(state.events) == total_steps, (len(state.events), total_steps)
        assert all(e.sampling_probability == expected.event.sampling_probability for e in state.events)
    privacy = accounting.privacy_report(
        accounting.compress_ledger(state.events), config.delta, sigma, q, len(state.events) if private else total_steps,
        calibrated_with=calibrated_with, target_epsilon=config.epsilon if private else None,
        private=private and sigma > 0,
    )
    result = RunResult(
        config=config, model=model.describe(), dataset=data.summary(), privacy=privacy, clip=clip,
        clip_source=clip_source, grad_norm_bound=grad_norm_bound, history=tuple(state.history),
        clip_history=tuple(meter.history), final_weights=tuple(float(w) for w in model.weights.numpy()),
        timing={
            "total_seconds": time.perf_counter() - started,
            "mean_step_seconds": float(np.mean(step_seconds)) if step_seconds else None,
            "steps_timed": len(step_seconds),
        },
        released_updates=tuple(tuple(row) for row in state.released), nonfinite_examples=state.nonfinite,
    )
    if out is not None:
        summary = result.summary()
        runio.write_json_atomic(out / "run.json", summary)
        runio.plot_run(summary, out / "curves.png")
    return result


__all__ = ["DEFAULT_DATASET", "DEFAULT_MODEL", "PRIVACY_SCOPE", "RunResult", "TrainConfig", "check_privacy_settings",
           "model_and_data", "noise_for", "optimizer_for", "resolve_clip", "train"]
