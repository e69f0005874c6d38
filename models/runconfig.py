"""The records of a training run: ``TrainConfig`` (what to run) and ``RunResult`` (what it gave).

``RunResult.summary()`` is the object ``privqml train --json`` prints and ``run.json`` holds
(strict JSON: infinite ε is ``null``); ``RunResult.from_summary`` reads it back.
"""

from __future__ import annotations

import dataclasses
import math

from privqml.errors import ConfigError
from privqml.models import accounting, runio
from privqml.models.clipping import ClipMeasurement, ClipMeter
from privqml.models.dpsgd import PATHS

DEFAULT_DATASET = "quantum"
DEFAULT_MODEL = "hea"
PRIVACY_SCOPE = (
    "The (epsilon, delta) guarantee covers the released weights and every intermediate update "
    "(add-or-remove-one-example adjacency, Poisson sampling as performed). It does NOT cover: "
    "the clipping-meter history (raw per-example gradient norms), the per-epoch train/test "
    "accuracies and losses, and the data preprocessing fitted on the training split. Pseudo-"
    "random noise from a seeded generator is not cryptographically secure."
)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run. Validated on construction (a bad value raises ConfigError).

    Attributes:
        model: model spec (:func:`privqml.models.zoo.build_model`), e.g. ``hea``, ``mlp``.
        dataset: dataset spec (:func:`privqml.models.data.load_dataset`).
        epsilon: target ε (> 0; ``inf`` = non-private). Exclusive with ``noise_multiplier``.
        delta: δ ∈ (0, 1).
        noise_multiplier: σ ≥ 0 given directly (ε then follows from the accountants).
        clip: C > 0, or ``"bound"``.
        epochs, batch_size: T = epochs · round(n_train / batch_size) steps of expected size
            batch_size (q = batch_size / n_train).
        lr, optimizer: learning rate and ``adam`` or ``sgd``.
        seed: seeds the data split, the initial weights, the Poisson draws and the noise.
        path: per-example gradient path, ``fast`` or ``stock``.
        accountant: accountant used to calibrate σ from ε (``rdp`` or ``pld``).
        meter_every: clipping-meter period in steps (0: off).
        loss: loss name (default: bce_logits / softmax_ce).
        n_train, n_test: sizes of synthetic datasets.
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

    def __post_init__(self) -> None:
        if self.epsilon is not None and self.noise_multiplier is not None:
            raise ConfigError(
                f"epsilon={self.epsilon} and noise_multiplier={self.noise_multiplier} both given; "
                "give a target epsilon (noise is calibrated) or a noise multiplier, not both"
            )
        if self.epsilon is None and self.noise_multiplier is None:
            raise ConfigError("give epsilon (target, or inf for no privacy) or noise_multiplier")
        if self.epsilon is not None:
            accounting.check_epsilon(self.epsilon)
        if self.noise_multiplier is not None:
            nm = self.noise_multiplier
            if not (isinstance(nm, (int, float)) and math.isfinite(nm) and nm >= 0):
                raise ConfigError(f"noise_multiplier={nm!r} must be a finite number >= 0")
        accounting.check_delta(self.delta)
        if isinstance(self.clip, str):
            if self.clip != "bound":
                raise ConfigError(f"clip={self.clip!r}: give a positive number or 'bound'")
        elif not (isinstance(self.clip, (int, float)) and math.isfinite(self.clip) and self.clip > 0):
            raise ConfigError(
                f"clip={self.clip!r} must be a finite number > 0; use 'bound' (the theory's "
                "loss-gradient bound) or a positive number"
            )
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ConfigError(f"{name}={value!r} must be an integer >= 1")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr={self.lr!r} must be a finite number > 0")
        if self.optimizer not in ("adam", "sgd"):
            raise ConfigError(f"optimizer={self.optimizer!r}: choose adam or sgd")
        if self.path not in PATHS:
            raise ConfigError(f"path={self.path!r}: choose one of {list(PATHS)}")
        if self.accountant not in accounting.ACCOUNTANTS:
            raise ConfigError(f"accountant={self.accountant!r}: choose one of {list(accounting.ACCOUNTANTS)}")
        if not (isinstance(self.meter_every, int) and self.meter_every >= 0):
            raise ConfigError(f"meter_every={self.meter_every!r} must be an integer >= 0")

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
        model, dataset: descriptions (dicts).
        privacy: the :class:`~privqml.models.accounting.PrivacyReport` of the spent ledger.
        clip: C as applied (None for a non-private run without a resolvable C).
        clip_source: where C came from.
        grad_norm_bound: G*, the loss-gradient bound of this model (None for classical ones).
        history: per epoch: epoch, steps, train_loss, train_accuracy, test_loss, test_accuracy.
        clip_history: the meter's :class:`ClipMeasurement` records.
        final_weights: θ after training.
        timing: wall-clock seconds (total, per step).
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

    def summary(self) -> dict:
        out = {
            "test_accuracy": self.test_accuracy,
            "train_accuracy": self.train_accuracy,
            "epsilon_rdp": self.privacy.epsilon_rdp,
            "epsilon_pld": self.privacy.epsilon_pld,
            "delta": self.privacy.delta,
            "noise_multiplier": self.privacy.noise_multiplier,
            "clip": self.clip,
            "clip_source": self.clip_source,
            "grad_norm_bound": self.grad_norm_bound,
        }
        out.update(self.meter_summary())
        out.update(
            private=self.privacy.private,
            steps=self.privacy.steps,
            sampling_probability=self.privacy.sampling_probability,
            model=self.model,
            dataset=self.dataset,
            config=self.config.as_dict(),
            privacy=self.privacy.as_dict(),
            privacy_scope=PRIVACY_SCOPE,
            history=list(self.history),
            clip_history=[r.as_dict() for r in self.clip_history],
            final_weights=list(self.final_weights),
            timing=self.timing,
        )
        return runio._clean(out)  # noqa: SLF001 - strict-JSON view

    @classmethod
    def from_summary(cls, data: dict) -> "RunResult":
        p = data["privacy"]
        inf = math.inf
        privacy = accounting.PrivacyReport(
            p["epsilon_rdp"] if p["epsilon_rdp"] is not None else inf,
            p["epsilon_pld"] if p["epsilon_pld"] is not None else inf,
            p["delta"], p["noise_multiplier"], p["sampling_probability"], p["steps"],
            calibrated_with=p["calibrated_with"], target_epsilon=p["target_epsilon"], private=p["private"],
        )
        config = dict(data["config"])
        if config.get("epsilon", 0) is None and config.get("noise_multiplier") is None:
            config["epsilon"] = inf  # strict JSON stored inf as null
        return cls(
            TrainConfig(**config), data["model"], data["dataset"], privacy, data["clip"],
            data["clip_source"], data["grad_norm_bound"], tuple(data["history"]),
            tuple(ClipMeasurement(**r) for r in data["clip_history"]), tuple(data["final_weights"]),
            data["timing"],
        )


__all__ = ["DEFAULT_DATASET", "DEFAULT_MODEL", "PRIVACY_SCOPE", "RunResult", "TrainConfig"]
