r"""Whole-run audits: many canaries in one DP-SGD training run, and the batch sampler.

**One training run, m canaries** (Steinke, Nasr & Jagielski, NeurIPS 2023, white-box form with
Dirac gradient canaries). The model is given m extra *phantom* parameters that the data never
touch (their per-example gradient is 0, as for unused parameters of a large network); canary j
is an example whose gradient is 2C·e_{P+j} (clipped to C·e_{P+j}), included in the training
set with probability 1/2 (the secret S_j) and then sampled into batches like every other example
(Poisson, probability q per step). The run is privqml's DP-SGD step — the trainer's per-example
gradients (fast path) of the model's real batch, clipped and noised by the trainer's TF-Privacy
Gaussian sum query on the augmented [P + m] vectors — with the first P coordinates applied to the
model by SGD. The auditor's score for canary j is the sum over steps of the released coordinate
P + j; it guesses "in" for the k highest and "out" for the k lowest scores, and
:func:`privqml.verify.audit.statistics.one_run_audit` turns the correct guesses into ε_lb, compared
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
from scipy.special import logsumexp

from privqml.errors import ConfigError
from privqml.verify.audit.one_step import Check, strict_json, verdict_of
from privqml.verify.audit.statistics import OneRunAudit, audit_distinguishing_test, one_run_audit, standard_deviation

RUN_MECHANISMS = ("correct", "noise-omitted")
SAMPLERS = ("poisson", "shuffle", "shuffle-public")


def _num(v):
    return None if v is None or not math.isfinite(v) else float(v)


@dataclasses.dataclass(frozen=True)
class RunAuditResult:
    """One training run with m canaries. ε in nats at ``delta``; ``epsilon_accounted`` by
    dp-accounting's PLD accountant for T Poisson-subsampled Gaussian steps."""

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

    def as_dict(self) -> dict:
        return strict_json({
            "model": self.model, "mechanism": self.mechanism, "n_canaries": self.n_canaries,
            "steps": self.steps, "sampling_probability": self.sampling_probability,
            "noise_multiplier": self.noise_multiplier, "clip_norm": self.clip_norm, "delta": self.delta,
            "epsilon_accounted": _num(self.epsilon_accounted), "accountant": "pld",
            "epsilon_lower_bound": _num(self.epsilon_lower_bound), "one_run": self.one_run.as_dict(),
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
    seed: int = 0,
) -> RunAuditResult:
    """Train once with ``n_canaries`` Dirac canaries and audit the run (module docstring).

    ``guesses`` = k guesses "in" and k "out" (default m/4 each, fixed before the run);
    ``mechanism="noise-omitted"`` applies no noise while accounting for σ (the run must be flagged).
    """
    import tensorflow as tf

    from privqml.models.privacy import accounting, dpsgd
    from privqml.models.data import dataset_classes, load_dataset
    from privqml.models.training.trainer import TrainConfig, resolve_clip
    from privqml.models.zoo import build_model

    if mechanism not in RUN_MECHANISMS:
        raise ConfigError(f"mechanism={mechanism!r}; choose one of {list(RUN_MECHANISMS)}")
    if not (isinstance(n_canaries, int) and n_canaries >= 4):
        raise ConfigError(f"n_canaries={n_canaries!r} must be an integer >= 4")
    n_classes = dataset_classes(dataset)
    model = build_model(model_spec, n_classes, seed)
    data = load_dataset(dataset, model.n_features, seed, model.input_domain, n_train, 16)
    if not 1 <= batch_size <= data.n_train:
        raise ConfigError(f"batch_size={batch_size!r} must lie in [1, n_train={data.n_train}]")
    config = TrainConfig(model=model_spec, dataset=dataset, epsilon=None, noise_multiplier=noise_multiplier,
                         clip=clip, batch_size=batch_size, seed=seed)
    clip_norm, _, _ = resolve_clip(config, model, n_classes)
    q = batch_size / data.n_train
    sigma_applied = 0.0 if mechanism == "noise-omitted" else float(noise_multiplier)
    rng = np.random.default_rng([seed, 7])
    tf.random.set_seed(seed)
    included = rng.random(n_canaries) < 0.5
    n_weights = model.n_weights
    scores = np.zeros(n_canaries)
    x_train = data.x_train.astype(np.float32)
    for _ in range(int(steps)):
        batch = dpsgd.poisson_batch(data.n_train, q, rng)
        sampled = np.flatnonzero(included & (rng.random(n_canaries) < q))
        grads, _ = dpsgd.per_example_gradients(model, x_train[batch], data.y_train[batch])
        rows = np.zeros((len(batch) + len(sampled), n_weights + n_canaries), np.float32)
        rows[: len(batch), :n_weights] = grads
        rows[len(batch) + np.arange(len(sampled)), n_weights + sampled] = 2.0 * clip_norm
        clipped = dpsgd.clipped_sum(rows, clip_norm)  # the trainer's clipping and noise
        noised, _ = dpsgd.add_noise(clipped, clip_norm, sigma_applied, q)
        noised = np.asarray(noised, np.float64)
        model.weights.assign_sub(lr * noised[:n_weights].astype(np.float32) / batch_size)
        scores += noised[n_weights:]
    k = n_canaries // 4 if guesses is None else int(guesses)
    audit = one_run_audit(scores, included, k_positive=k, k_negative=k, delta=delta, confidence=confidence)
    eps_acc = (accounting.compute_epsilon(q, float(noise_multiplier), int(steps), delta, "pld")
               if noise_multiplier > 0 else math.inf)
    checks = (Check("epsilon", audit.epsilon_lower_bound <= eps_acc,
                    f"one-run epsilon lower bound {audit.epsilon_lower_bound:.4g} ({audit.n_correct}/"
                    f"{audit.n_guesses} guesses right) vs accounted {eps_acc:.4g} (pld, q={q:.4g}, T={steps})"),)
    return RunAuditResult(
        model=model.name, mechanism=mechanism, n_canaries=n_canaries, steps=int(steps),
        sampling_probability=q, noise_multiplier=float(noise_multiplier), clip_norm=float(clip_norm),
        delta=float(delta), epsilon_accounted=eps_acc, epsilon_lower_bound=audit.epsilon_lower_bound,
        one_run=audit, checks=checks, verdict=verdict_of(eps_acc, checks),
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
        out = dataclasses.asdict(self)
        out["checks"] = [c.as_dict() for c in self.checks]
        return strict_json(out)


def _epoch_batches(sampler: str, n: int, batch_size: int, steps: int, rng) -> list[np.ndarray]:
    from privqml.models.privacy.dpsgd import poisson_batch

    if sampler == "poisson":
        return [poisson_batch(n, batch_size / n, rng) for _ in range(steps)]
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
    from privqml.models.privacy import accounting

    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler={sampler!r}; choose one of {list(SAMPLERS)}")
    if not (isinstance(n_examples, int) and isinstance(batch_size, int) and 1 <= batch_size < n_examples):
        raise ConfigError(f"need integers 1 <= batch_size={batch_size!r} < n_examples={n_examples!r}")
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
    eps_acc = accounting.compute_epsilon(q, sigma, steps, delta, "pld") if sigma > 0 else math.inf
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
