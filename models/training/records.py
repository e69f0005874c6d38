"""The records of a training run: ``TrainConfig`` (what to run) and ``RunResult`` (what it gave).

``RunResult.summary()`` is the object ``privqml train --json`` prints and ``run.json`` holds, in
the package's JSON convention (:mod:`privqml.jsonio`: an infinite ε is ``"inf"``);
``RunResult.from_summary`` reads it back.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from privqml import jsonio, validation
from privqml.errors import ConfigError
from privqml.models.data.dataset import check_preprocessing
from privqml.models.privacy import accounting, randomness
from privqml.models.privacy.clipping import ClipMeasurement, ClipMeter
from privqml.models.privacy.budget import PATHS

DEFAULT_DATASET = "quantum"
DEFAULT_MODEL = "hea"
OPTIMIZERS = ("adam", "sgd")
RUN_FORMAT = "privqml.run/2"
ADJACENCY = "add or remove one training example"
N_PUBLIC_STATEMENT = (
    "n_train is treated as public: it fixes the sampling probability q = batch_size / n_train, the "
    "expected batch size that normalises each update and the number of steps T before training; the "
    "accountant analyses Poisson sampling at that fixed q, which is exactly what the trainer does"
)
COVERED_STATEMENT = (
    "The (epsilon, delta) guarantee covers the released weights, every released update and what is "
    "computed from them on public or test data (test accuracy and loss), under add-or-remove-one "
    "adjacency, Poisson sampling as performed, with n_train treated as public"
)
NOT_COVERED_STATEMENT = (
    "Diagnostics computed from the private training data, NOT covered by the (epsilon, delta) "
    "guarantee: the clipping meter (raw per-example gradient norms), train loss and accuracy, class "
    "counts, the count of non-finite per-example gradients, the Poisson batch sizes, the timing (it "
    "depends on the batch sizes) and the data fingerprint. Do not publish them with the model"
)
CHECKPOINT_STATEMENT = (
    "Checkpoint of an unfinished privqml training run, NOT covered by the (epsilon, delta) guarantee as a "
    "whole: besides released updates it holds diagnostics of the private training data (data fingerprint, "
    "train metrics, clipping meter, batch sizes). It is deleted when the run finishes; do not publish it"
)
PRIVACY_SCOPE = COVERED_STATEMENT + ". " + NOT_COVERED_STATEMENT + "."
#: The smallest σ a private run accepts: below it the PLD accountant's grid for a subsampled
#: Gaussian needs more than ~0.5 GB and minutes, and ε is far beyond any meaningful budget (~100
#: at q = 0.08, T = 120, δ = 1e-5).
MIN_NOISE_MULTIPLIER = accounting.PLD_SIGMA_FLOOR


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run. Validated on construction (a bad value raises ConfigError).

    Attributes:
        model: model spec (:func:`privqml.models.zoo.build_model`), e.g. ``hea``, ``mlp``.
        dataset: dataset spec (:func:`privqml.models.data.load_dataset`).
        epsilon: target ε (> 0; ``inf`` = non-private). Exclusive with ``noise_multiplier``.
        delta: δ ∈ (0, 1).
        noise_multiplier: σ given directly, 0 or at least :data:`MIN_NOISE_MULTIPLIER` (ε then
            follows from the accountants).
        clip: C > 0, or ``"bound"`` (:func:`privqml.validation.clip`: text such as ``"0.5"`` is read as
            the number, and a number is stored as a float).
        epochs, batch_size: T = epochs · round(n_train / batch_size) steps of expected size
            batch_size (q = batch_size / n_train).
        lr, optimizer: learning rate and ``adam`` or ``sgd``.
        seed: the *public* seed: the data split, the public preprocessing split and the initial
            weights. It never determines the noise or the Poisson batches (recorded in run.json).
        path: per-example gradient path, ``fast`` or ``stock``.
        accountant: accountant used to calibrate σ from ε (``rdp`` or ``pld``).
        meter_every: clipping-meter period in steps (0: off).
        loss: loss name (default: bce_logits / softmax_ce).
        n_train, n_test: sizes of synthetic datasets (integers >= 1, or None for 400 / 200).
        simulation_seed: None (default): noise and Poisson batches from secret OS entropy
            (:mod:`privqml.models.privacy.randomness`). An integer makes them a function of it: a labelled
            *simulation* of DP training, not private against anyone who knows the seed.
        preprocessing: how raw high-dimensional data (digits, files) is mapped to circuit inputs
            (:data:`privqml.models.data.PREPROCESSING_MODES`); None: the task's public default
            (``public-split`` for digits and for files that ship ``x_public``, ``projection`` for a file
            with a declared ``feature_range``, a refusal for a file with neither, ``none`` for synthetic
            tasks); ``private-fit`` is not covered by ε, and ``own-rows-split`` leaves the held-out rows of
            the user's own file unprotected (counted in every output).
        allow_large_delta: accept δ ≥ 1/n_train (a δ that large allows releasing an example
            outright); the outputs then carry a warning.
        feature_range: for .npz and .csv files only, the public range of the raw features, known a
            priori: one (lo, hi) pair for every feature or one pair per feature, as a tuple. With it a
            file without public data is mapped by a data-independent projection
            (:mod:`privqml.models.data.catalog`); None: the file's own declaration, if any.
    """

    model: str = DEFAULT_MODEL
    dataset: str = DEFAULT_DATASET
    epsilon: float | None = 1.0
    delta: float = 1e-5
    noise_multiplier: float | None = None
    clip: float | str = "bound"
    epochs: int = 10
    batch_size: int = 32
    lr: float = 0.05
    optimizer: str = "adam"
    seed: int = 0
    path: str = "fast"
    accountant: str = "rdp"
    meter_every: int = 1
    loss: str | None = None
    n_train: int | None = None
    n_test: int | None = None
    simulation_seed: int | None = None
    preprocessing: str | None = None
    allow_large_delta: bool = False
    feature_range: tuple | None = None

    def __post_init__(self) -> None:
        if self.epsilon is not None and self.noise_multiplier is not None:
            raise ConfigError(
                f"epsilon={self.epsilon} and noise_multiplier={self.noise_multiplier} both given; "
                "give a target epsilon (noise is calibrated) or a noise multiplier, not both"
            )
        if self.epsilon is None and self.noise_multiplier is None:
            raise ConfigError("give epsilon (target, or inf for no privacy) or noise_multiplier")
        if self.epsilon is not None:
            validation.epsilon("epsilon", self.epsilon)
        if self.noise_multiplier is not None:
            validation.noise_multiplier("noise_multiplier", self.noise_multiplier, positive_floor=MIN_NOISE_MULTIPLIER)
        validation.delta("delta", self.delta)
        object.__setattr__(self, "clip", validation.clip("clip", self.clip))  # "bound" or a float
        validation.integer("epochs", self.epochs, 1)
        validation.integer("batch_size", self.batch_size, 1)
        validation.positive("lr", self.lr, hint="the learning rate, e.g. 0.05")
        validation.choice("optimizer", self.optimizer, OPTIMIZERS)
        validation.seed("seed", self.seed)
        validation.choice("path", self.path, PATHS)
        validation.choice("accountant", self.accountant, accounting.ACCOUNTANTS)
        validation.integer("meter_every", self.meter_every, 0, hint="the clipping-meter period in steps; 0 turns it off")
        for name in ("n_train", "n_test"):
            if getattr(self, name) is not None:
                validation.size(name, getattr(self, name))
        randomness.check_simulation_seed(self.simulation_seed)
        if self.preprocessing is not None:
            check_preprocessing(self.preprocessing)
        if self.feature_range is not None:
            object.__setattr__(self, "feature_range", _feature_range(self.feature_range, self.dataset))

    @property
    def private(self) -> bool:
        return not (self.epsilon is not None and math.isinf(self.epsilon))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What a run produced. ``summary()`` is the object ``privqml train --json`` prints.

    Attributes:
        config: the :class:`TrainConfig`.
        model, dataset: descriptions (dicts); ``dataset`` is :meth:`Dataset.summary` and holds
            private diagnostics (class counts, fingerprint) that ``summary()`` files under
            ``not_covered``.
        privacy: the :class:`~privqml.models.privacy.accounting.PrivacyReport` of the spent ledger.
        clip: C as applied (None for a non-private run without a resolvable C).
        clip_source: where C came from.
        grad_norm_bound: G*, the loss-gradient bound of this model (None for classical ones).
        history: per epoch: epoch, steps, train_loss, train_accuracy, test_loss, test_accuracy.
        clip_history: the meter's :class:`ClipMeasurement` records.
        final_weights: θ after training.
        timing: wall-clock seconds (total, per step).
        released_updates: every released gradient g̃_t = (Σ clip_C(g_i) + N(0, σ²C²I)) / L, one
            row per step (what an adversary of DP-SGD sees; covered by the guarantee).
        nonfinite_examples: per-example gradients that had a NaN or infinite entry and were
            therefore released as zero (a diagnostic of the private data).
        batch_sizes: |B_t| of every step's Poisson batch (a diagnostic of the private data: whether
            an example was sampled changes it by one).
        signal_norms: at every meter reading, ‖(1/B) Σ_i clip_C(g_i)‖₂, the norm of the batch's mean
            clipped gradient (units of ∇_θ ℓ; a diagnostic of the private data, like the meter).
    """

    config: TrainConfig
    model: dict
    dataset: dict
    privacy: accounting.PrivacyReport
    clip: float | None
    clip_source: str
    grad_norm_bound: float | None
    history: tuple
    clip_history: tuple
    final_weights: tuple
    timing: dict
    released_updates: tuple = ()
    nonfinite_examples: int = 0
    signal_norms: tuple = ()
    batch_sizes: tuple = ()

    @property
    def test_accuracy(self) -> float:
        return float(self.history[-1]["test_accuracy"])

    @property
    def train_accuracy(self) -> float:
        return float(self.history[-1]["train_accuracy"])

    def meter_summary(self) -> dict:
        meter = ClipMeter(self.clip or 1.0, self.grad_norm_bound)
        meter.history = list(self.clip_history)
        out = meter.summary()
        if self.clip is None:
            out["predicted_bias_max"] = None
        return out

    def caveats(self) -> list[str]:
        """Every way in which this run's ε is weaker than it looks, one sentence each."""
        out = []
        if not self.privacy.private:
            out.append("not private: no noise was added (epsilon is infinite)")
        if self.config.simulation_seed is not None:
            out.append(randomness.SIMULATION_WARNING)
        if not self.dataset.get("preprocessing_covered", True):
            out.append("the preprocessing was fitted on the private training split: NOT covered by epsilon")
        n_unprotected = int(self.dataset.get("n_unprotected") or 0)
        if n_unprotected:
            out.append(
                f"{n_unprotected} of the user's own rows were held out to fit the preprocessing (opt-in "
                "own-rows-split): those rows are NOT protected by epsilon; the training rows are"
            )
        n_train = self.dataset.get("n_train")
        if n_train and self.privacy.delta >= 1.0 / n_train:
            out.append(
                f"delta={self.privacy.delta:g} >= 1/n_train = {1.0 / n_train:.3g}: a mechanism that publishes "
                "one training example outright meets this delta (forced with allow_large_delta)"
            )
        return out

    def guarantee(self) -> dict:
        """What (ε, δ) means for this run: the accounting, the adjacency, the randomness, caveats."""
        dataset = self.dataset
        return {
            "statement": COVERED_STATEMENT,
            "private": self.privacy.private,
            "adjacency": ADJACENCY,
            "n_train": dataset.get("n_train"),
            "n_train_public": N_PUBLIC_STATEMENT,
            **{k: v for k, v in self.privacy.as_dict().items() if k not in ("private", "adjacency")},
            "randomness": randomness.describe(self.config.simulation_seed),
            "preprocessing": {
                "mode": dataset.get("preprocessing_mode", "none"),
                "covered": bool(dataset.get("preprocessing_covered", True)),
                "description": dataset.get("preprocessing", "none"),
            },
            "caveats": self.caveats(),
        }

    def covered(self) -> dict:
        """The outputs the guarantee covers: releases, and what is computed from them on test data."""
        return {
            "test_accuracy": self.test_accuracy,
            "test_history": [
                {k: h[k] for k in ("epoch", "steps", "test_loss", "test_accuracy")} for h in self.history
            ],
            "final_weights": list(self.final_weights),
            "released_updates": [list(row) for row in self.released_updates],
            "clip": self.clip,
            "clip_source": self.clip_source,
            "grad_norm_bound": self.grad_norm_bound,
            "dataset": {k: self.dataset.get(k) for k in ("name", "n_train", "n_test", "n_public", "n_unprotected",
                                                         "n_features", "n_classes", "class_names", "seed")},
        }

    def not_covered(self) -> dict:
        """Diagnostics of the private training data (not protected by ε)."""
        return {
            "statement": NOT_COVERED_STATEMENT,
            "train_accuracy": self.train_accuracy,
            "train_history": [
                {k: h[k] for k in ("epoch", "steps", "train_loss", "train_accuracy")} for h in self.history
            ],
            "clip_meter": self.meter_summary(),
            "clip_history": [r.as_dict() for r in self.clip_history],
            "nonfinite_examples": int(self.nonfinite_examples),
            "signal_norms": [float(v) for v in self.signal_norms],
            "batch_sizes": [int(v) for v in self.batch_sizes],
            "timing": self.timing,
            "class_balance_train": self.dataset.get("class_balance_train"),
            "data_fingerprint": self.dataset.get("fingerprint"),
        }

    def summary(self) -> dict:
        """The run in three blocks — ``guarantee``, ``covered``, ``not_covered`` (which holds the timing:
        wall time depends on the batch sizes) — plus the public configuration and model description, as
        privqml JSON values
        (:func:`privqml.jsonio.to_jsonable`: non-finite numbers are ``"inf"``, ``"-inf"``, ``"nan"``)."""
        return jsonio.to_jsonable({
            "format": RUN_FORMAT,
            "guarantee": self.guarantee(),
            "covered": self.covered(),
            "not_covered": self.not_covered(),
            "config": self.config.as_dict(),
            "model": self.model,
        })

    @classmethod
    def from_summary(cls, data: dict) -> "RunResult":
        """The run whose :meth:`summary` is ``data`` (``run.json`` read back). Numbers are read with
        :func:`privqml.jsonio.number`; an ε stored as ``null`` by older privqml versions is ∞."""
        if data.get("format") != RUN_FORMAT:
            raise ConfigError(
                f"run format={data.get('format')!r} is not {RUN_FORMAT!r}; re-run the training with this privqml"
            )
        g = data["guarantee"]
        privacy = accounting.PrivacyReport(
            _epsilon(g["epsilon_rdp"]), _epsilon(g["epsilon_pld"]), g["delta"], g["noise_multiplier"],
            g["sampling_probability"], g["steps"], calibrated_with=g["calibrated_with"],
            target_epsilon=jsonio.number(g["target_epsilon"]), private=g["private"],
        )
        config = dict(data["config"])
        if config.get("epsilon") is None and config.get("noise_multiplier") is None:
            config["epsilon"] = math.inf  # older privqml stored an infinite epsilon as null
        config["epsilon"] = jsonio.number(config.get("epsilon"))
        covered, diagnostics = data["covered"], data["not_covered"]
        preprocessing = g["preprocessing"]
        dataset = {
            **covered["dataset"], "fingerprint": diagnostics["data_fingerprint"],
            "class_balance_train": diagnostics["class_balance_train"], "preprocessing": preprocessing["description"],
            "preprocessing_mode": preprocessing["mode"], "preprocessing_covered": preprocessing["covered"],
        }
        history = read_history({**test, **train} for test, train in zip(covered["test_history"], diagnostics["train_history"]))
        return cls(
            TrainConfig(**config), data["model"], dataset, privacy, covered["clip"],
            covered["clip_source"], covered["grad_norm_bound"], history,
            tuple(ClipMeasurement(**r) for r in diagnostics["clip_history"]), tuple(covered["final_weights"]),
            diagnostics.get("timing", data.get("timing", {})), tuple(tuple(row) for row in covered["released_updates"]),
            int(diagnostics["nonfinite_examples"]), tuple(float(v) for v in diagnostics.get("signal_norms", ())),
            tuple(int(v) for v in diagnostics.get("batch_sizes", ())),
        )


def _feature_range(value, dataset) -> tuple:
    """``value`` as one finite (lo, hi) with lo < hi, or a tuple of such pairs (one per raw feature),
    for a dataset that is a file (the built-in tasks have their own public ranges)."""
    if not (isinstance(dataset, str) and dataset.endswith((".npz", ".csv"))):
        raise ConfigError(
            f"feature_range applies to .npz and .csv files, not to dataset={dataset!r} (its public range is built in)"
        )
    try:
        pairs = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        pairs = np.empty(0)
    pairs = pairs.reshape(1, 2) if pairs.shape == (2,) else pairs
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0 or not np.all(np.isfinite(pairs)) \
            or np.any(pairs[:, 0] >= pairs[:, 1]):
        raise ConfigError(
            f"feature_range={value!r} must be one finite (lo, hi) with lo < hi, or one such pair per raw feature; "
            "e.g. --feature-range 0,1"
        )
    if pairs.shape[0] == 1:  # one range for every raw feature, in the loader's own form
        return float(pairs[0, 0]), float(pairs[0, 1])
    return tuple((float(lo), float(hi)) for lo, hi in pairs)


def read_history(entries) -> tuple[dict, ...]:
    """Per-epoch history entries read back from privqml JSON: losses and accuracies as floats
    (:func:`privqml.jsonio.number`), ``epoch`` and ``steps`` as they are."""
    return tuple({k: v if k in ("epoch", "steps") else jsonio.number(v) for k, v in entry.items()} for entry in entries)


def _epsilon(value) -> float:
    """An ε read back from run.json: a number, ``"inf"``, or ``null`` (an older privqml's ∞)."""
    number = jsonio.number(value)
    return math.inf if number is None else number


__all__ = ["ADJACENCY", "DEFAULT_DATASET", "DEFAULT_MODEL", "MIN_NOISE_MULTIPLIER", "OPTIMIZERS", "PRIVACY_SCOPE",
           "RUN_FORMAT", "RunResult", "TrainConfig", "read_history", "CHECKPOINT_STATEMENT"]
