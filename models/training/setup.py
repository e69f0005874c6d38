r"""The set-up of a training run: model, data, sampling, clipping threshold and noise multiplier.

:func:`run_setup` turns a :class:`~privqml.models.training.records.TrainConfig` into a
:class:`RunSetup` in a fixed order, refusing on the way every setting under which the printed ε
would not be the guarantee:

1. the classes of the dataset, the model (:func:`privqml.models.zoo.build_model`) and the dataset
   inside the model's public input domain (:func:`privqml.models.data.load_dataset`, or the
   ``data`` given); the loss must fit the classes, the batch the training split;
2. for a private run, no unclamped ``bce_prob`` loss (unbounded);
3. the budget, by :func:`privqml.models.privacy.budget.check_budget` (the one budget check every
   command uses): δ < 1/n_train (unless ``allow_large_delta``; a δ that large is met by a
   mechanism that publishes one example outright), Poisson sampling with q = batch_size / n_train
   and T = epochs · round(n_train / batch_size) steps, and σ — given, or the smallest σ for which
   T steps are (target ε, δ)-DP by the configured accountant, raised by
   :data:`~privqml.models.privacy.budget.SIGMA_MARGIN` = 1 + 2⁻²⁰ because TF Privacy applies the
   noise stddev float32(σ·C) to a float32 C; an ε that needs σ below
   :data:`~privqml.models.training.records.MIN_NOISE_MULTIPLIER` is refused (the PLD accountant
   cannot finish in bounded memory);
4. C: the number given, or ``"bound"``: the theory's loss-gradient bound G* of the model over the
   public input domain (for a classical model, the bound of the quantum model it is matched to,
   so that both are compared at one C) — never a quantity computed from the data; a private run's
   C must lie in the float-exact range [2⁻⁶⁴, 2³²] (:func:`privqml.validation.clip_norm`). A
   non-private run needs no C: when the bound is unavailable it has none, and a C it has only
   sets the clipping meter's threshold.

The trainer runs what this record describes; the audits build their settings through it, so an
audit tests the very configuration a training run would use.
"""

from __future__ import annotations

import dataclasses

from privqml import validation
from privqml.errors import ConfigError, DataError
from privqml.models.base import Model
from privqml.models.data import Dataset, dataset_classes, load_dataset
from privqml.models.losses import check_loss
from privqml.models.privacy.budget import SIGMA_MARGIN, Budget, check_budget
from privqml.models.specs import parse_model_spec
from privqml.models.training.records import TrainConfig
from privqml.models.zoo import build_model, reference_quantum_model

NO_CLIP_SOURCE = "none (non-private, no bound)"
METER_ONLY = "; meter only, not applied (non-private run: no clipping, no noise)"


@dataclasses.dataclass(frozen=True)
class RunSetup:
    """Everything a training run of ``config`` is made of before its first step (not frozen in
    depth: ``model`` holds trainable weights, initialised from the public seed).

    Attributes:
        config: the :class:`TrainConfig`.
        model: the model, at its initial weights.
        data: the dataset (features inside the model's public input domain).
        n_classes: K, the number of classes of the task.
        sampling_probability: q = batch_size / n_train, each example's probability of being in a
            step's Poisson batch.
        steps_per_epoch: round(n_train / batch_size) (at least 1).
        steps: T = epochs · steps_per_epoch, the steps accounted for.
        clip: C in the units of ∇_θ ℓ (loss per unit weight); None for a non-private run without a
            bound.
        clip_source: where C came from (``given``, ``bound (loss …)``, the matched quantum model).
        grad_norm_bound: G*, this model's loss-gradient bound, or None (classical, or unbounded).
        noise_multiplier: σ = noise stddev / C, as the trainer applies it (0 for a non-private run).
        calibrated_with: the accountant σ was calibrated with, or None (σ given, or not private).
    """

    config: TrainConfig
    model: Model
    data: Dataset
    n_classes: int
    sampling_probability: float
    steps_per_epoch: int
    steps: int
    clip: float | None
    clip_source: str
    grad_norm_bound: float | None
    noise_multiplier: float
    calibrated_with: str | None

    @property
    def private(self) -> bool:
        return self.config.private


def run_setup(config: TrainConfig, data: Dataset | None = None, model: Model | None = None) -> RunSetup:
    """The :class:`RunSetup` of ``config`` (module docstring); ``data`` replaces the dataset the
    config names (its features must lie in the model's public input domain); ``model`` replaces the model
    ``config.model`` names (a :class:`~privqml.models.base.Model` built in Python: it is trained in place,
    and ``config.model`` only names it in the records)."""
    model, data, n_classes = _model_and_data(config, data, model)
    _check_loss_is_bounded(config, model)
    budget = _budget(config, data.n_train)
    try:
        clip, clip_source, grad_norm_bound = _clip(config, model, n_classes)
    except ConfigError:
        if config.private:
            raise
        clip, clip_source, grad_norm_bound = None, NO_CLIP_SOURCE, None
    if not config.private and clip is not None:
        clip_source += METER_ONLY
    return RunSetup(config, model, data, n_classes, budget.sampling_probability, budget.steps_per_epoch, budget.steps,
                    clip, clip_source, grad_norm_bound, budget.noise_multiplier, budget.calibrated_with)


def _budget(config: TrainConfig, n_train: int) -> Budget:
    """:func:`~privqml.models.privacy.budget.check_budget` of ``config`` at ``n_train`` examples."""
    return check_budget(
        epsilon=config.epsilon, delta=config.delta, noise_multiplier=config.noise_multiplier, n_train=n_train,
        batch_size=config.batch_size, epochs=config.epochs, accountant=config.accountant,
        allow_large_delta=config.allow_large_delta,
    )


def _model_and_data(config: TrainConfig, data: Dataset | None, model: Model | None = None) -> tuple[Model, Dataset, int]:
    n_classes = dataset_classes(config.dataset) if data is None else data.n_classes
    if model is None:
        model = build_model(config.model, n_classes, config.seed, config.loss)
    elif not isinstance(model, Model):
        raise ConfigError(f"model is a {type(model).__name__}; pass a privqml Model (privqml.models.QuantumModel, "
                          "a classical model) or a model spec string")
    elif config.loss is not None and config.loss != model.loss:
        raise ConfigError(f"loss={config.loss!r} but the model was built with loss={model.loss!r}; build the model "
                          "with the loss you want and leave loss unset")
    if data is None:
        data = load_dataset(
            config.dataset, model.n_features, config.seed, model.input_domain, config.n_train, config.n_test,
            preprocessing=config.preprocessing, feature_range=config.feature_range,
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


def _check_loss_is_bounded(config: TrainConfig, model: Model) -> None:
    """Refuse, before any training, a private run whose loss is unbounded (its clipped gradients
    are still bounded, but the bound the run reports is meaningless)."""
    if config.private and model.loss == "bce_prob" and model.clamp is None:
        raise ConfigError(
            "loss='bce_prob' without a clamp is unbounded (log p -> -inf as p -> 0) and private training "
            "refuses it; add a clamp to the model (e.g. --model hea:clamp=0.01) or use --loss bce_logits"
        )


def _clip(config: TrainConfig, model: Model, n_classes: int) -> tuple[float, str, float | None]:
    """(C, where it came from, G* of this model or None)."""
    bound = model.loss_gradient_bound()
    grad_norm_bound = bound.value if bound is not None else None
    if config.clip != "bound":
        return float(config.clip), "given", grad_norm_bound  # inside the float-exact range (TrainConfig)
    reference, source = bound, "bound"
    if bound is None:  # classical: the bound of the quantum model it is matched to
        try:
            parse_model_spec(config.model)
        except ConfigError:  # a model object built in Python: its spec names no quantum model to match
            raise ConfigError(f"clip='bound' for {config.model}: a classical model's bound is that of the quantum "
                              "model it is matched to, which an object built in Python does not name; give a "
                              "numeric clip, or train it by spec (e.g. 'mlp:match=hea')") from None
        ref_model = reference_quantum_model(config.model, n_classes, config.seed, config.loss)
        reference = ref_model.loss_gradient_bound()
        source = f"bound of the matched quantum model {ref_model.name}"
    if reference.value is None:
        raise ConfigError(
            f"clip='bound' but the loss gradient of {config.model} is unbounded: "
            f"{reference.unbounded_reason}. Give a numeric clip"
        )
    if config.private:
        try:
            validation.clip_norm("clip", float(reference.value))
        except ConfigError as exc:
            raise ConfigError(f"clip='bound' of model={config.model!r} is G* = {reference.value:.6g}: {exc}") from None
    return float(reference.value), source + f" (loss {reference.loss}: {reference.formula})", grad_norm_bound


__all__ = ["RunSetup", "SIGMA_MARGIN", "run_setup"]
