r"""Step mechanisms for :func:`privqml.verify.audit.one_step.one_step_audit`: privqml's trainer step
(fast path and stock TF Privacy path), deliberately broken variants, and quantum noise alone.

=====================  ===========================================================================
mechanism              release R of one step on a fixed batch B (+ canary c)
=====================  ===========================================================================
``fast`` / ``stock``   the trainer's :func:`privqml.models.privacy.dpsgd.dp_step` on that path: TF Privacy's
                       Gaussian sum query, Σ clip_C(g_i) + N(0, σ²C²I). ``real_steps=True`` calls
                       the whole step once per trial; otherwise one ``dp_step`` call with
                       ``n_releases`` = trials: the fast path adds the trainer's own query noise
                       (``get_noised_result``) to n copies of one clipped sum — legitimate because
                       the batch and weights are fixed, so the step is exactly "fixed sum + fresh
                       noise" — and the stock path runs TF Privacy's optimizer n times.
``reference``          the same composition in NumPy from precomputed per-example gradients
                       (:class:`GaussianSumMechanism`), the template of the broken variants:
``noise-omitted``      Σ clip_C(g_i): the noise is never added (accountant told σ).
``sensitivity-doubled``  clip at 2C but noise σC for C: noise not scaled with the clip
                       (also what per-microbatch clipping does to add/remove sensitivity).
``data-clip``          C chosen from the batch (the largest per-example norm, as "adaptive"
                       clipping without accounting does); noise σ·C(batch).
``noise-replayed``     correct clip and scale, but the noise generator is reset to the same state
                       on every call whatever the seed (the same draws in every epoch).
``shots`` / ``depolarizing``  no clipping, no DP noise: the model's gradient estimated from
                       finite shots, or from Monte-Carlo trajectories of a depolarising channel
                       (TFQ's noisy backend), by the trainer's non-private step.
=====================  ===========================================================================

The canary direction u is the canary's per-example gradient computed by the auditor
(a plain GradientTape on the untiled weights, not the code under test); for the quantum-noise
mechanisms, whose gradients are themselves random, u is estimated from ``pilot`` separate
releases (never from the audited trials).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from privqml import validation
from privqml.errors import ConfigError
from privqml.models.privacy import dpsgd
from privqml.verify.audit.verdicts import Check

#: The public seed of the canary candidates: fixed in the code, never derived from a run.
PUBLIC_CANARY_SEED = 20260606


def _unit(vector: np.ndarray, what: str) -> tuple[np.ndarray, float]:
    vector = np.asarray(vector, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not norm > 0:
        raise ConfigError(f"{what} is zero; choose a canary (input, label) whose loss gradient is nonzero")
    return vector / norm, norm


def _clip_rows(grads: np.ndarray, clip: float) -> np.ndarray:
    norms = np.linalg.norm(grads, axis=1, keepdims=True)
    return grads * np.minimum(1.0, clip / np.maximum(norms, 1e-300))


# -- NumPy reference and its broken variants ------------------------------------------------------
@dataclasses.dataclass
class GaussianSumMechanism:
    """Σ clip(g_i) + N(0, std² I) in NumPy, with knobs that break it.

    Attributes:
        per_example_grads: [B, P] gradients of the batch; canary_grad: [P].
        clip_norm, noise_multiplier: C and σ as claimed to the accountant.
        noise_scale: applied noise = noise_scale·σ·C_noise (0: noise omitted).
        clip_scale: applied clip = clip_scale·C, while the noise stays σ·C (the code believes
            it clips at C and reports C: only the statistics can find this one).
        clip_rule: ``None`` (C as given) or ``"max_norm"`` (C = max per-example norm of the batch).
        noise_replay: draw the noise from a generator reset to one fixed state on every call,
            whatever the seed (what a random op whose seed is fixed at trace time does after
            ``tf.random.set_seed``).
    """

    name: str
    description: str
    per_example_grads: np.ndarray
    canary_grad: np.ndarray
    clip_norm: float
    noise_multiplier: float
    noise_scale: float = 1.0
    clip_scale: float = 1.0
    clip_rule: str | None = None
    noise_replay: bool = False

    def __post_init__(self) -> None:
        validation.choice("clip_rule", self.clip_rule, (None, "max_norm"))
        self.per_example_grads = np.atleast_2d(np.asarray(self.per_example_grads, dtype=np.float64))
        self.canary_direction, self.canary_norm = _unit(self.canary_grad, "the canary's gradient")

    def _batch(self, with_canary: bool) -> np.ndarray:
        if with_canary:
            return np.vstack([self.per_example_grads, np.asarray(self.canary_grad, np.float64)[None]])
        return self.per_example_grads

    def clip_applied(self, with_canary: bool) -> float:
        """The clip the code reports (a data-derived one is visible; a scaled one is not)."""
        if self.clip_rule == "max_norm":
            return float(np.max(np.linalg.norm(self._batch(with_canary), axis=1)))
        return float(self.clip_norm)

    def releases(self, with_canary: bool, n: int, seed: int) -> np.ndarray:
        clip = self.clip_applied(with_canary) if self.clip_rule else self.clip_scale * self.clip_norm
        total = _clip_rows(self._batch(with_canary), clip).sum(axis=0)
        noise_clip = clip if self.clip_rule else self.clip_norm
        std = self.noise_scale * self.noise_multiplier * noise_clip
        rng = np.random.default_rng(12345 if self.noise_replay else seed)
        return total[None, :] + std * rng.standard_normal((n, total.size))


BROKEN_MECHANISMS = ("noise-omitted", "sensitivity-doubled", "data-clip", "noise-replayed")


def gaussian_sum_mechanism(
    kind: str, per_example_grads, canary_grad, clip_norm: float, noise_multiplier: float
) -> GaussianSumMechanism:
    """The NumPy ``reference`` or one of :data:`BROKEN_MECHANISMS` (module table)."""
    validation.choice("mechanism", kind, ("reference",) + BROKEN_MECHANISMS)
    common = dict(per_example_grads=per_example_grads, canary_grad=canary_grad, clip_norm=clip_norm,
                  noise_multiplier=noise_multiplier)
    if kind == "reference":
        return GaussianSumMechanism("reference", "clip at C, noise sigma*C (NumPy reference)", **common)
    if kind == "noise-omitted":
        return GaussianSumMechanism("noise-omitted", "clip at C, the noise is never added", noise_scale=0.0, **common)
    if kind == "sensitivity-doubled":
        return GaussianSumMechanism(
            "sensitivity-doubled", "clip at 2C, noise sigma*C (noise not scaled with the clip)", clip_scale=2.0, **common
        )
    if kind == "data-clip":
        return GaussianSumMechanism(
            "data-clip", "C = largest per-example gradient norm of the batch, noise sigma*C(batch)",
            clip_rule="max_norm", **common,
        )
    if kind == "noise-replayed":
        return GaussianSumMechanism(
            "noise-replayed", "clip at C, noise sigma*C from a generator reset on every call", noise_replay=True, **common
        )
    raise AssertionError(f"mechanism {kind!r} has no construction")


# -- privqml's trainer step (real code paths) -------------------------------------------------------
def canary_gradient(model, x_canary, y_canary) -> np.ndarray:
    """∇_θ ℓ(canary) with a plain GradientTape on the model's [P] weights (independent of the
    trainer's tiled per-example path)."""
    x = tf.constant(np.asarray(x_canary, np.float32).reshape(1, -1))
    y = tf.constant(model.encode_labels(np.asarray([y_canary])))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model.per_example_loss(model.weights, x, y))
    return np.asarray(tape.gradient(loss, model.weights), dtype=np.float64)


def public_canary(model, n_classes: int, candidates: int = 16) -> tuple[np.ndarray, int]:
    """The largest-gradient (input, label) among ``candidates`` points of the model's public input
    domain × every label: chosen without looking at any training data (points drawn in the central
    half of each input interval with :data:`PUBLIC_CANARY_SEED`), so that the canary's gradient is
    clipped to C when any public point's is."""
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


class TrainerStepMechanism:
    """One step of :func:`privqml.models.privacy.dpsgd.dp_step` on a fixed batch, with or without a canary.

    ``reseed=True`` calls ``dpsgd.reseed_noise(seed)`` before each side's trials, as the trainer
    does at every epoch, so the audit's noise-freshness check sees whether the path's noise
    depends on the seed; ``reseed=False`` seeds nothing (one continuing random stream).
    """

    _CHUNK = 20_000

    def __init__(self, model, x_batch, y_batch, x_canary, y_canary, *, clip_norm: float,
                 noise_multiplier: float, expected_batch_size: float, sampling_probability: float,
                 path: str = "fast", real_steps: bool = False, reseed: bool = True,
                 mechanism: dpsgd.Mechanism = dpsgd.GAUSSIAN) -> None:
        self.model = model
        self.mechanism = mechanism  # the trainer's (GAUSSIAN), or a broken one injected to be caught
        self.x_batch = np.asarray(x_batch, np.float32)
        self.y_batch = np.asarray(y_batch)
        self.x_canary = np.asarray(x_canary, np.float32).reshape(1, -1)
        self.y_canary = np.asarray([y_canary]).reshape(1)
        self.clip_norm = float(clip_norm)
        self.noise_multiplier = float(noise_multiplier)
        self.expected_batch_size = float(expected_batch_size)
        self.sampling_probability = float(sampling_probability)
        self.path = path
        self.real_steps = bool(real_steps)
        self.reseed = bool(reseed)
        self.name = path
        how = "the whole step per trial" if real_steps else "dp_step with n releases of one batch"
        self.description = f"privqml dp_step, {path} path ({how}), model {model.name}"
        self.canary_direction, self.canary_norm = _unit(
            canary_gradient(model, self.x_canary[0], self.y_canary[0]), "the canary's gradient"
        )

    def _data(self, with_canary: bool):
        if with_canary:
            return np.vstack([self.x_batch, self.x_canary]), np.concatenate([self.y_batch, self.y_canary])
        return self.x_batch, self.y_batch

    def _step(self, x, y, n_releases: int):
        return dpsgd.dp_step(self.model, x, y, self.clip_norm, self.noise_multiplier, self.expected_batch_size,
                             self.sampling_probability, self.path, n_releases=n_releases, mechanism=self.mechanism)

    def clip_applied(self, with_canary: bool) -> float:
        return self.clip_norm  # dp_step takes C as given (TrainConfig refuses anything else)

    def releases(self, with_canary: bool, n: int, seed: int) -> np.ndarray:
        """``n`` releases of the trainer's own :func:`~privqml.models.privacy.dpsgd.dp_step` (its noise call,
        not a re-implementation): the fast path noises n copies of one clipped sum in one call, the
        stock path (and ``real_steps``) runs the whole step n times."""
        if self.reseed:  # the auditor's own seeds: different per side, so replayed noise shows
            dpsgd.reseed_noise(seed)
        x, y = self._data(with_canary)
        if self.real_steps:
            return np.stack([self._step(x, y, 1).noised_sum for _ in range(n)]).astype(np.float64)
        out = []
        for start in range(0, n, self._CHUNK):
            size = min(self._CHUNK, n - start)
            noised = self._step(x, y, size).noised_sum
            out.append(np.asarray(noised, np.float64).reshape(size, -1))
        return np.concatenate(out, axis=0)

    def nonfinite_canary_check(self) -> "Check":
        """A per-example gradient row of NaN/inf added to the batch's rows must leave every release
        finite and the clipped sum unchanged (it contributes zero; sensitivity stays C). Runs the
        trainer's clipping query and noise (:func:`~privqml.models.privacy.dpsgd.clipped_sum`,
        :func:`~privqml.models.privacy.dpsgd.add_noise`)."""
        grads, _ = dpsgd.per_example_gradients(self.model, self.x_batch, self.y_batch)
        poisoned = np.vstack([grads, np.full((2, grads.shape[1]), np.nan, np.float32)])
        poisoned[-1, 0] = np.inf
        base = dpsgd.clipped_sum(grads, self.clip_norm, self.mechanism)
        with_canary = dpsgd.clipped_sum(poisoned, self.clip_norm, self.mechanism)
        noised, _ = dpsgd.add_noise(np.tile(with_canary, (64, 1)), self.clip_norm, self.noise_multiplier,
                                    self.sampling_probability, mechanism=self.mechanism)
        finite = bool(np.all(np.isfinite(noised)))
        # float32 sums of B and B + 2 rows may be reduced in another order: equal up to rounding
        unchanged = bool(np.allclose(base, with_canary, rtol=1e-5, atol=1e-6 * self.clip_norm))
        return Check(
            "finite-release", finite and unchanged,
            "two non-finite per-example gradients (NaN, inf) added to the batch: "
            + ("every release finite and the clipped sum unchanged" if finite and unchanged else
               f"releases finite: {finite}, clipped sum unchanged: {unchanged} — a non-finite example "
               "reveals its presence with certainty"),
        )


# -- quantum noise as the only randomness -----------------------------------------------------------
QUANTUM_NOISE_KINDS = ("shots", "depolarizing")


class QuantumNoiseMechanism:
    """The trainer's non-private step of a finite-shot or noisy-trajectory quantum model: the only
    randomness is quantum (no clipping, no DP noise: the accountant has nothing to account)."""

    def __init__(self, model, x_batch, y_batch, x_canary, y_canary, *, kind: str, pilot: int = 10,
                 seed: int = 0) -> None:
        validation.choice("kind", kind, QUANTUM_NOISE_KINDS)
        self.model = model
        self.x_batch = np.asarray(x_batch, np.float32)
        self.y_batch = np.asarray(y_batch)
        self.x_canary = np.asarray(x_canary, np.float32).reshape(1, -1)
        self.y_canary = np.asarray([y_canary]).reshape(1)
        self.name = kind
        self.description = f"non-private step of {model.name}: quantum {kind} noise only"
        self.clip_norm = None
        self.noise_multiplier = 0.0
        pilot_with = self.releases(True, pilot, seed + 7)
        pilot_without = self.releases(False, pilot, seed + 11)
        self.canary_direction, self.canary_norm = _unit(
            pilot_with.mean(axis=0) - pilot_without.mean(axis=0), "the pilot estimate of the canary's effect"
        )

    def clip_applied(self, with_canary: bool) -> None:
        return None

    def releases(self, with_canary: bool, n: int, seed: int) -> np.ndarray:
        tf.random.set_seed(seed)
        x, y = self.x_batch, self.y_batch
        if with_canary:
            x, y = np.vstack([x, self.x_canary]), np.concatenate([y, self.y_canary])
        return np.stack([dpsgd.nonprivate_step(self.model, x, y).noised_sum for _ in range(n)]).astype(np.float64)


__all__ = [
    "BROKEN_MECHANISMS",
    "GaussianSumMechanism",
    "PUBLIC_CANARY_SEED",
    "QUANTUM_NOISE_KINDS",
    "QuantumNoiseMechanism",
    "TrainerStepMechanism",
    "canary_gradient",
    "gaussian_sum_mechanism",
    "public_canary",
]
