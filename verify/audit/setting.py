r"""Build an audit the way ``privqml audit`` does: model, data, public clip, σ, batch, canary.

The setting mirrors a training run of :func:`privqml.models.training.trainer.train` with the same
options: the model and dataset by spec, C given or ``"bound"`` (the theory's loss-gradient
bound over the *public* input domain), σ calibrated from the target ε for T = epochs·n/L
Poisson steps (RDP, as the trainer does by default), one Poisson batch drawn at the initial
weights. The canary is chosen without looking at the training data: among ``candidates``
points drawn from the public input domain with a public seed, with every label, the one whose
loss gradient is largest (so that it is clipped to C when it can be).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from privqml.errors import ConfigError

MECHANISMS = ("dpsgd", "shots", "depolarizing")
PUBLIC_CANARY_SEED = 20260606


@dataclasses.dataclass
class AuditSetting:
    """Everything a one-step audit of a training configuration needs (not frozen: holds a model)."""

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
        return {
            "model": self.model.name, "model_spec": self.model_spec, "dataset": self.dataset,
            "batch_size_drawn": int(len(self.y_batch)), "expected_batch_size": self.expected_batch_size,
            "sampling_probability": self.sampling_probability, "steps": self.steps,
            "target_epsilon": None if math.isinf(self.target_epsilon) else self.target_epsilon,
            "delta": self.delta, "noise_multiplier": self.noise_multiplier,
            "clip_norm": self.clip_norm, "clip_source": self.clip_source,
            "canary": {"x": [float(v) for v in self.x_canary], "label": int(self.y_canary)},
        }


def _with_option(spec: str, option: str) -> str:
    return f"{spec},{option}" if ":" in spec else f"{spec}:{option}"


def public_canary(model, n_classes: int, candidates: int = 16) -> tuple[np.ndarray, int]:
    """The largest-gradient (input, label) among ``candidates`` public-domain points × labels."""
    from privqml.verify.audit.mechanisms import canary_gradient

    rng = np.random.default_rng(PUBLIC_CANARY_SEED)
    domain = np.asarray(model.input_domain, dtype=np.float64)
    lo, hi = domain[:, 0], domain[:, 1]
    centre, half = (lo + hi) / 2, (hi - lo) / 4  # the central half, like the datasets' box
    points = centre + half * rng.uniform(-1.0, 1.0, size=(candidates, len(lo)))
    best = max(
        ((float(np.linalg.norm(canary_gradient(model, x, label))), i, label)
         for i, x in enumerate(points) for label in range(n_classes)),
    )
    return points[best[1]], best[2]


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
    from privqml.models.data import dataset_classes, load_dataset
    from privqml.models.privacy.dpsgd import poisson_batch
    from privqml.models.training.trainer import TrainConfig, noise_for, resolve_clip
    from privqml.models.zoo import build_model

    if mechanism not in MECHANISMS:
        raise ConfigError(f"mechanism={mechanism!r}; choose one of {list(MECHANISMS)}")
    if mechanism == "shots":
        if not (isinstance(shots, int) and shots >= 1):
            raise ConfigError(f"shots={shots!r} must be an integer >= 1")
        model_spec = _with_option(model_spec, f"shots={shots}")
    elif mechanism == "depolarizing":
        if not 0.0 < noise <= 0.75:
            raise ConfigError(f"noise={noise!r} must be a depolarising probability in (0, 0.75]")
        model_spec = _with_option(model_spec, f"noise={noise:g},trajectories={trajectories}")
    private = mechanism == "dpsgd"
    config = TrainConfig(model=model_spec, dataset=dataset, epsilon=epsilon if private else math.inf,
                         delta=delta, clip=clip, batch_size=batch_size, epochs=epochs, seed=seed,
                         path=path, n_train=n_train)
    n_classes = dataset_classes(dataset)
    model = build_model(model_spec, n_classes, seed, config.loss)
    data = load_dataset(dataset, model.n_features, seed, model.input_domain, n_train, 16)
    if batch_size > data.n_train:
        raise ConfigError(f"batch_size={batch_size} exceeds the {data.n_train} training examples")
    q = batch_size / data.n_train
    steps = epochs * max(1, round(data.n_train / batch_size))
    if private:
        clip_norm, clip_source, _ = resolve_clip(config, model, n_classes)
        sigma, _ = noise_for(config, q, steps)  # exactly as the trainer calibrates (margin, floor)
    else:
        clip_norm, clip_source, sigma = None, "none: quantum noise only, no clipping", 0.0
    rng = np.random.default_rng([seed, 17])
    batch = poisson_batch(data.n_train, q, rng)
    x_canary, y_canary = public_canary(model, n_classes)
    return AuditSetting(
        model=model, model_spec=model_spec, dataset=dataset,
        x_batch=data.x_train[batch].astype(np.float32), y_batch=data.y_train[batch],
        x_canary=x_canary.astype(np.float32), y_canary=int(y_canary), clip_norm=clip_norm,
        clip_source=clip_source, noise_multiplier=float(sigma), sampling_probability=q,
        expected_batch_size=batch_size, steps=steps, target_epsilon=float(epsilon) if private else math.inf,
        delta=float(delta), n_train=int(data.n_train), seed=int(seed),
    )


def short_run_replay(setting: AuditSetting, *, path: str = "fast", epochs: int = 1):
    """Train the setting's configuration briefly (secret randomness, as ``privqml train`` does) and
    replay it from its record (:func:`privqml.verify.audit.trained_run.replay_check`): the check
    fails when the recorded seed reproduces the released updates."""
    from privqml.models.training.trainer import TrainConfig, train
    from privqml.verify.audit.trained_run import replay_check

    config = TrainConfig(model=setting.model_spec, dataset=setting.dataset, epsilon=None,
                         noise_multiplier=setting.noise_multiplier, clip=setting.clip_norm,
                         batch_size=setting.expected_batch_size, epochs=epochs, n_train=setting.n_train,
                         seed=setting.seed, path=path, delta=setting.delta, meter_every=0)
    return replay_check(train(config))


def setting_mechanism(setting: AuditSetting, mechanism: str = "dpsgd", *, path: str = "fast",
                      inject: str | None = None, real_steps: bool = False, reseed: bool = True):
    """The step mechanism to audit for ``setting``: the trainer's path, a broken variant
    (``inject``, built on the trainer's per-example gradients), or quantum noise alone."""
    from privqml.models.privacy.dpsgd import per_example_gradients
    from privqml.verify.audit.mechanisms import (
        QuantumNoiseMechanism,
        TrainerStepMechanism,
        canary_gradient,
        gaussian_sum_mechanism,
    )

    if mechanism in ("shots", "depolarizing"):
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
        path=path, real_steps=real_steps, reseed=reseed,
    )


__all__ = ["AuditSetting", "MECHANISMS", "PUBLIC_CANARY_SEED", "build_setting", "public_canary", "setting_mechanism",
           "short_run_replay"]
