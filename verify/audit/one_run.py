r"""Whole-run audits: many canaries in one DP-SGD training run, and the batch sampler.

**One training run, m canaries** (Steinke, Nasr & Jagielski, NeurIPS 2023, white-box form with
Dirac gradient canaries). The model is given m extra *phantom* parameters that the data never
touch (their per-example gradient is 0, as for unused parameters of a large network); canary j
is an example whose gradient is 2C·e_{P+j} (clipped to C·e_{P+j}), included in the training
set with probability 1/2 (the secret S_j) and then sampled into batches like every other example
(Poisson, probability q per step). The run is privqml's DP-SGD step on the augmented [P + m]
vectors: every per-example row is zero either on the model's P coordinates (a canary) or on the m
phantom ones (a real example), so clipping the augmented row clips its one non-zero block and
the noised sum splits exactly into the trainer's own step
(:func:`~privqml.models.privacy.dpsgd.dp_step`, on the run's per-example gradient ``path``) of the
model's real batch and the trainer's clipping and Gaussian noise
(:func:`~privqml.models.privacy.dpsgd.clipped_sum`, :func:`~privqml.models.privacy.dpsgd.add_noise`)
on the canary block, independent across coordinates as one query's noise is. The model's block is
applied by the run's optimizer (post-processing). The auditor's score for canary j is the sum over
steps of the released coordinate P + j; it guesses "in" for the k highest and "out" for the k lowest scores, and
:func:`privqml.verify.audit.one_run_bound.one_run_audit` turns the correct guesses into ε_lb, compared
with the run's accounted ε (PLD, Poisson q, T steps). Every canary is a neighbour of the run
without it, so ε_lb ≤ ε_accounted must hold.

**Sampler audit** (fixed-size shuffled batches accounted as Poisson). The accountant's ε for
Poisson sampling assumes each example is in each step's batch independently with probability q.
The check that applies looks at the sampler itself: over many simulated epochs of T = 1/q steps,
the number of batches containing a given example must have the Binomial(T, q) variance
Tq(1 − q) (a shuffled epoch puts it in exactly one batch: variance 0), and batch sizes the
variance nq(1 − q) (fixed-size batches: 0). The empirical side: a white-box adversary sees the
T noised sums of one epoch along the canary's direction (all other examples orthogonal to it, the
worst case for DP), z_t = b_t + N(0, σ²) in units of C, and runs its best test: the likelihood
ratio of the sampler (Poisson: Σ_t log(1 − q + q e^{(z_t − 1/2)/σ²}); secret shuffle:
log mean_t e^{(z_t − 1/2)/σ²}); with a shuffle whose permutation is public (a fixed seed) it
simply reads the step that holds the canary. ε_lb above the Poisson-accounted ε is a violation
(Chua et al., ICML 2024, "How private are DP-SGD implementations?", show the gap in general).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf
from scipy.special import logsumexp

from privqml import jsonio, validation
from privqml.models.privacy import accounting, dpsgd
from privqml.models.data import Dataset
from privqml.models.training.records import TrainConfig
from privqml.models.training.setup import run_setup
from privqml.models.training.trainer import optimizer_for
from privqml.verify.audit.distinguishing import audit_distinguishing_test
from privqml.verify.audit.estimates import standard_deviation
from privqml.verify.audit.one_run_bound import OneRunAudit, one_run_audit
from privqml.verify.audit.verdicts import Check, record_as_dict, verdict_of

RUN_MECHANISMS = ("correct", "noise-omitted")
SAMPLERS = ("poisson", "shuffle", "shuffle-public")
#: Held-out examples of the audited run's dataset (its test split plays no part in the audit).
RUN_AUDIT_N_TEST = 16


@dataclasses.dataclass(frozen=True)
class RunAuditResult:
    """One training run with m canaries. ε in nats at ``delta``; ``epsilon_accounted`` by
    dp-accounting's PLD accountant for T Poisson-subsampled Gaussian steps. ``training`` is what
    the run was trained with: model, loss, gradient path, public seed, optimizer and learning
    rate, preprocessing, feature range, the data's fingerprint and the audit's own seed."""

    model: str
    mechanism: str
    n_canaries: int
    steps: int
    sampling_probability: float
    noise_multiplier: float
    clip_norm: float
    delta: float
    epsilon_accounted: float
    epsilon_lower_bound: float
    one_run: OneRunAudit
    checks: tuple[Check, ...]
    verdict: str
    training: dict = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict:
        """The audit as privqml JSON values (an infinite ε is ``"inf"``)."""
        return jsonio.to_jsonable({
            "model": self.model, "training": self.training, "mechanism": self.mechanism, "n_canaries": self.n_canaries,
            "steps": self.steps, "sampling_probability": self.sampling_probability,
            "noise_multiplier": self.noise_multiplier, "clip_norm": self.clip_norm, "delta": self.delta,
            "epsilon_accounted": self.epsilon_accounted, "accountant": "pld",
            "epsilon_lower_bound": self.epsilon_lower_bound, "one_run": self.one_run.as_dict(),
            "checks": [c.as_dict() for c in self.checks], "verdict": self.verdict,
        })


def one_run_training_audit(
    model_spec: str = "hea",
    dataset: str = "quantum",
    *,
    n_canaries: int = 1000,
    steps: int = 50,
    batch_size: int = 16,
    n_train: int = 128,
    clip: float | str = "bound",
    noise_multiplier: float = 1.0,
    lr: float = 0.05,
    delta: float = 1e-5,
    confidence: float = 0.95,
    guesses: int | None = None,
    mechanism: str = "correct",
    trainer: dpsgd.Mechanism = dpsgd.GAUSSIAN,
    seed: int = 0,
    preprocessing: str | None = None,
    loss: str | None = None,
    path: str = "fast",
    optimizer: str = "sgd",
    feature_range=None,
    public_seed: int | None = None,
    data: Dataset | None = None,
) -> RunAuditResult:
    """Train once with ``n_canaries`` Dirac canaries and audit the run (module docstring).

    ``guesses`` = k guesses "in" and k "out" (default m/4 each, fixed before the run);
    ``mechanism="noise-omitted"`` applies no noise while accounting for σ (the run must be flagged).
    The model, the data, C and q are those of a training run with these options
    (:func:`~privqml.models.training.setup.run_setup` of a :class:`TrainConfig` with this model,
    dataset, ``loss``, ``path``, ``optimizer``, ``lr``, ``preprocessing``, ``feature_range`` and
    public seed ``public_seed``, default ``seed``); ``data`` replaces the dataset the spec names
    (the audit of a finished run passes the run's data, checked by its fingerprint). T = ``steps``.
    ``seed`` seeds the audit's own randomness: canary inclusion, batches and noise.
    """
    validation.choice("mechanism", mechanism, RUN_MECHANISMS)
    validation.integer("n_canaries", n_canaries, 4)
    validation.integer("steps", steps, 1)
    config = TrainConfig(model=model_spec, dataset=dataset, epsilon=None, noise_multiplier=noise_multiplier,
                         delta=delta, clip=clip, batch_size=batch_size, lr=lr, optimizer=optimizer,
                         seed=seed if public_seed is None else public_seed, path=path, loss=loss, n_train=n_train,
                         n_test=RUN_AUDIT_N_TEST, preprocessing=preprocessing, feature_range=feature_range,
                         allow_large_delta=True)
    setup = run_setup(config, data)
    model, data, clip_norm, q = setup.model, setup.data, setup.clip, setup.sampling_probability
    sigma_applied = 0.0 if mechanism == "noise-omitted" else float(noise_multiplier)
    rng = np.random.default_rng([seed, 7])
    tf.random.set_seed(seed)
    included = rng.random(n_canaries) < 0.5
    step_optimizer = optimizer_for(config)
    scores = np.zeros(n_canaries)
    x_train = data.x_train.astype(np.float32)
    for _ in range(int(steps)):
        batch = dpsgd.poisson_batch(data.n_train, q, rng)
        sampled = np.flatnonzero(included & (rng.random(n_canaries) < q))
        step = dpsgd.dp_step(model, x_train[batch], data.y_train[batch], clip_norm, sigma_applied, batch_size, q,
                             config.path, mechanism=trainer)
        canary_rows = np.zeros((len(sampled), n_canaries), np.float32)
        canary_rows[np.arange(len(sampled)), sampled] = 2.0 * clip_norm
        noised, _ = dpsgd.add_noise(dpsgd.clipped_sum(canary_rows, clip_norm, trainer), clip_norm, sigma_applied, q,
                                    mechanism=trainer)
        step_optimizer.apply_gradients([(tf.constant(step.gradient), model.weights)])
        scores += np.asarray(noised, np.float64)
    k = n_canaries // 4 if guesses is None else int(guesses)
    audit = one_run_audit(scores, included, k_positive=k, k_negative=k, delta=delta, confidence=confidence)
    eps_acc = accounting.compute_epsilon(q, float(noise_multiplier), int(steps), delta, "pld")
    checks = (Check("epsilon", audit.epsilon_lower_bound <= eps_acc,
                    f"one-run epsilon lower bound {audit.epsilon_lower_bound:.4g} ({audit.n_correct}/"
                    f"{audit.n_guesses} guesses right) vs accounted {eps_acc:.4g} (pld, q={q:.4g}, T={steps})"),)
    training = {
        "model": model.name, "loss": model.loss, "path": config.path, "seed": config.seed,
        "optimizer": config.optimizer, "lr": config.lr, "preprocessing": data.preprocessing_mode,
        "feature_range": config.feature_range, "n_train": data.n_train, "data_fingerprint": data.fingerprint(),
        "audit_seed": int(seed),
    }
    return RunAuditResult(
        model=model.name, mechanism=mechanism, n_canaries=n_canaries, steps=int(steps),
        sampling_probability=q, noise_multiplier=float(noise_multiplier), clip_norm=float(clip_norm),
        delta=float(delta), epsilon_accounted=eps_acc, epsilon_lower_bound=audit.epsilon_lower_bound,
        one_run=audit, checks=checks, verdict=verdict_of(eps_acc, checks), training=training,
    )


# -- the batch sampler ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SamplingAuditResult:
    """Sampler statistics and the epoch-level ε lower bound vs the Poisson-accounted ε (PLD)."""

    sampler: str
    n_examples: int
    batch_size: int
    steps: int
    noise_multiplier: float
    delta: float
    trials: int
    appearances_variance: float
    appearances_variance_poisson: float
    batch_size_variance: float
    batch_size_variance_poisson: float
    epsilon_accounted_poisson: float
    epsilon_lower_bound: float
    checks: tuple[Check, ...]
    verdict: str

    def as_dict(self) -> dict:
        """The audit as privqml JSON values (an infinite ε is ``"inf"``)."""
        return record_as_dict(self)


def _epoch_batches(sampler: str, n: int, batch_size: int, steps: int, rng) -> list[np.ndarray]:
    if sampler == "poisson":
        return [dpsgd.poisson_batch(n, batch_size / n, rng) for _ in range(steps)]
    order = rng.permutation(n) if sampler == "shuffle" else np.random.default_rng(0).permutation(n)
    return [order[t * batch_size : (t + 1) * batch_size] for t in range(steps)]


def sampling_audit(
    sampler: str,
    *,
    n_examples: int = 1000,
    batch_size: int = 10,
    noise_multiplier: float = 1.0,
    delta: float = 1e-5,
    trials: int = 100_000,
    epochs_simulated: int = 400,
    confidence: float = 0.95,
    seed: int = 0,
) -> SamplingAuditResult:
    """Audit one epoch (T = n/L steps) of ``sampler`` accounted as Poisson (module docstring)."""
    validation.choice("sampler", sampler, SAMPLERS)
    validation.integer("n_examples", n_examples, 2)
    validation.integer("batch_size", batch_size, 1, n_examples - 1, hint="a batch smaller than the data")
    validation.confidence("confidence", confidence)
    steps = n_examples // batch_size
    q = batch_size / n_examples
    rng = np.random.default_rng([seed, 3])
    per_check = 1.0 - (1.0 - confidence) / 3.0
    # 1. the sampler itself: appearances of example 0 per epoch, and batch sizes
    appearances, sizes = [], []
    for _ in range(epochs_simulated):
        batches = _epoch_batches(sampler, n_examples, batch_size, steps, rng)
        appearances.append(sum(int(np.any(b == 0)) for b in batches))
        sizes.extend(len(b) for b in batches)
    var_app, var_app_poisson = float(np.var(appearances, ddof=1)), steps * q * (1 - q)
    var_size, var_size_poisson = float(np.var(sizes, ddof=1)), n_examples * q * (1 - q)
    app_sd = standard_deviation(appearances, per_check)
    size_sd = standard_deviation(sizes, per_check)
    poisson_like = app_sd.upper ** 2 >= var_app_poisson and size_sd.upper ** 2 >= var_size_poisson
    # 2. the epoch as the white-box adversary sees it along the canary (units of C)
    sigma = float(noise_multiplier)
    without = sigma * rng.standard_normal((trials, steps))
    with_ = sigma * rng.standard_normal((trials, steps))
    if sampler == "poisson":
        with_ += rng.random((trials, steps)) < q
        score = lambda z: np.sum(np.logaddexp(math.log1p(-q), math.log(q) + (z - 0.5) / sigma**2), axis=1)  # noqa: E731
    else:
        position = rng.integers(0, steps, trials) if sampler == "shuffle" else np.zeros(trials, int)
        with_[np.arange(trials), position] += 1.0
        if sampler == "shuffle":
            score = lambda z: logsumexp((z - 0.5) / sigma**2, axis=1)  # noqa: E731
        else:  # public permutation: the adversary knows the step (index 0 here, wlog)
            score = lambda z: z[:, 0]  # noqa: E731
    test = audit_distinguishing_test(score(with_), score(without), delta=delta, confidence=per_check, seed=seed)
    eps_acc = accounting.compute_epsilon(q, sigma, steps, delta, "pld")
    checks = (
        Check("sampling-is-poisson", poisson_like,
              f"appearances of one example per epoch: variance {var_app:.4g} (Poisson: {var_app_poisson:.4g}); "
              f"batch sizes: variance {var_size:.4g} (Poisson: {var_size_poisson:.4g})"),
        Check("epsilon", test.epsilon_lower_bound <= eps_acc,
              f"epoch epsilon lower bound {test.epsilon_lower_bound:.4g} vs Poisson-accounted {eps_acc:.4g} "
              f"(pld, q={q:g}, T={steps})"),
    )
    return SamplingAuditResult(
        sampler=sampler, n_examples=n_examples, batch_size=batch_size, steps=steps, noise_multiplier=sigma,
        delta=float(delta), trials=int(trials), appearances_variance=var_app,
        appearances_variance_poisson=var_app_poisson, batch_size_variance=var_size,
        batch_size_variance_poisson=var_size_poisson, epsilon_accounted_poisson=eps_acc,
        epsilon_lower_bound=float(test.epsilon_lower_bound), checks=checks, verdict=verdict_of(eps_acc, checks),
    )


__all__ = ["RUN_MECHANISMS", "SAMPLERS", "RunAuditResult", "SamplingAuditResult", "one_run_training_audit", "sampling_audit"]
