r"""Build an audit the way ``privqml audit`` does: model, data, public clip, σ, batch, canary.

The setting is a training run's set-up (:func:`privqml.models.training.setup.run_setup`) with the
same options — the model and dataset by spec (with ``n_test`` = :data:`AUDIT_N_TEST` held-out
examples), C given or ``"bound"`` (the theory's loss-gradient bound over the *public* input
domain), σ calibrated from the target ε for T = epochs · round(n_train / batch_size) Poisson steps
exactly as the trainer calibrates it — plus one Poisson batch drawn at the initial weights and a
canary chosen without looking at the training data (:func:`~privqml.verify.audit.mechanisms.public_canary`).
The audit measures the mechanism at the δ it is given, also δ ≥ 1/n_train, which a training run
refuses unless told otherwise.

For the quantum-noise mechanisms (``shots``, ``depolarizing``) the model is the same spec with
finite shots or a depolarising channel, trained without clipping or DP noise (ε = ∞).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from privqml import jsonio, validation
from privqml.errors import ConfigError
from privqml.models.privacy.dpsgd import per_example_gradients, poisson_batch
from privqml.models.training.records import TrainConfig
from privqml.models.training.setup import run_setup
from privqml.verify.audit.mechanisms import (
    QuantumNoiseMechanism,
    TrainerStepMechanism,
    canary_gradient,
    gaussian_sum_mechanism,
    public_canary,
)

MECHANISMS = ("dpsgd", "shots", "depolarizing")
AUDIT_N_TEST = 16


@dataclasses.dataclass
class AuditSetting:
    """Everything a one-step audit of a training configuration needs (not frozen: holds a model).

    Attributes:
        model, model_spec, dataset: the model (at its initial weights) and the specs it came from.
        x_batch, y_batch: one Poisson batch of the training split (probability q each).
        x_canary, y_canary: the public canary.
        clip_norm, clip_source: C (None for the quantum-noise mechanisms) and where it came from.
        noise_multiplier: σ as the trainer would apply it (0 without DP noise).
        sampling_probability, expected_batch_size, steps: q, L = q·n_train and T of the run.
        target_epsilon, delta: the run's budget (ε = ∞ without DP noise).
        n_train, seed: the training split's size and the public seed.
    """

    model: object
    model_spec: str
    dataset: str
    x_batch: np.ndarray
    y_batch: np.ndarray
    x_canary: np.ndarray
    y_canary: int
    clip_norm: float | None
    clip_source: str
    noise_multiplier: float
    sampling_probability: float
    expected_batch_size: int
    steps: int
    target_epsilon: float
    delta: float
    n_train: int = 64
    seed: int = 0

    def describe(self) -> dict:
        """The setting as privqml JSON values (an infinite target ε is ``"inf"``)."""
        return jsonio.to_jsonable({
            "model": self.model.name, "model_spec": self.model_spec, "dataset": self.dataset,
            "batch_size_drawn": int(len(self.y_batch)), "expected_batch_size": self.expected_batch_size,
            "sampling_probability": self.sampling_probability, "steps": self.steps,
            "target_epsilon": self.target_epsilon, "delta": self.delta, "noise_multiplier": self.noise_multiplier,
            "clip_norm": self.clip_norm, "clip_source": self.clip_source,
            "canary": {"x": [float(v) for v in self.x_canary], "label": int(self.y_canary)},
        })


def _with_option(spec: str, option: str) -> str:
    return f"{spec},{option}" if ":" in spec else f"{spec}:{option}"


def build_setting(
    model_spec: str = "hea",
    dataset: str = "quantum",
    *,
    epsilon: float = 1.0,
    delta: float = 1e-5,
    clip: float | str = "bound",
    mechanism: str = "dpsgd",
    shots: int = 100,
    noise: float = 0.05,
    trajectories: int = 20,
    batch_size: int = 8,
    epochs: int = 1,
    n_train: int = 64,
    path: str = "fast",
    seed: int = 0,
) -> AuditSetting:
    """The :class:`AuditSetting` of a training configuration (see the module docstring)."""
    validation.choice("mechanism", mechanism, MECHANISMS)
    if mechanism == "shots":
        model_spec = _with_option(model_spec, f"shots={validation.integer('shots', shots, 1)}")
    elif mechanism == "depolarizing":
        validation.in_interval("noise", noise, 0.0, 0.75, hint="a depolarising probability")
        model_spec = _with_option(model_spec, f"noise={noise:g},trajectories={trajectories}")
    private = mechanism == "dpsgd"
    config = TrainConfig(model=model_spec, dataset=dataset, epsilon=epsilon if private else math.inf,
                         delta=delta, clip=clip, batch_size=batch_size, epochs=epochs, seed=seed,
                         path=path, n_train=n_train, n_test=AUDIT_N_TEST)
    setup = run_setup(config)
    if private:
        clip_norm, clip_source, sigma = setup.clip, setup.clip_source, setup.noise_multiplier
    else:
        clip_norm, clip_source, sigma = None, "none: quantum noise only, no clipping", 0.0
    data = setup.data
    batch = poisson_batch(data.n_train, setup.sampling_probability, np.random.default_rng([seed, 17]))
    x_canary, y_canary = public_canary(setup.model, setup.n_classes)
    return AuditSetting(
        model=setup.model, model_spec=model_spec, dataset=dataset,
        x_batch=data.x_train[batch].astype(np.float32), y_batch=data.y_train[batch],
        x_canary=x_canary.astype(np.float32), y_canary=int(y_canary), clip_norm=clip_norm,
        clip_source=clip_source, noise_multiplier=float(sigma), sampling_probability=setup.sampling_probability,
        expected_batch_size=batch_size, steps=setup.steps, target_epsilon=float(config.epsilon),
        delta=float(delta), n_train=int(data.n_train), seed=int(seed),
    )


def setting_mechanism(setting: AuditSetting, mechanism: str = "dpsgd", *, path: str = "fast",
                      inject: str | None = None, real_steps: bool = False, reseed: bool = True, trainer=None):
    """The step mechanism to audit for ``setting``: the trainer's path (its DP-SGD mechanism ``trainer``, by
    default the trainer's own; a broken one of :mod:`privqml.verify.audit.broken` to be caught), a broken
    NumPy variant (``inject``, built on the trainer's per-example gradients), or quantum noise alone."""
    validation.choice("mechanism", mechanism, MECHANISMS)
    if mechanism != "dpsgd":
        if inject:
            raise ConfigError(f"inject={inject!r} applies to --mechanism dpsgd only")
        return QuantumNoiseMechanism(setting.model, setting.x_batch, setting.y_batch, setting.x_canary,
                                     setting.y_canary, kind=mechanism)
    if inject:
        # A gradient canary (the white-box adversary of Nasr et al., IEEE S&P 2021) along the public
        # canary's gradient, of norm at least 2C so that every clipping bug shows in the shift.
        grads, _ = per_example_gradients(setting.model, setting.x_batch, setting.y_batch)
        canary = canary_gradient(setting.model, setting.x_canary, setting.y_canary)
        norm = float(np.linalg.norm(canary))
        if 0 < norm < 2 * setting.clip_norm:
            canary = canary * (2 * setting.clip_norm / norm)
        return gaussian_sum_mechanism(inject, grads, canary, setting.clip_norm, setting.noise_multiplier)
    return TrainerStepMechanism(
        setting.model, setting.x_batch, setting.y_batch, setting.x_canary, setting.y_canary,
        clip_norm=setting.clip_norm, noise_multiplier=setting.noise_multiplier,
        expected_batch_size=setting.expected_batch_size, sampling_probability=setting.sampling_probability,
        path=path, real_steps=real_steps, reseed=reseed, **({} if trainer is None else {"mechanism": trainer}),
    )


__all__ = ["AUDIT_N_TEST", "AuditSetting", "MECHANISMS", "build_setting", "setting_mechanism"]
