r"""One DP-SGD step: Poisson batch, per-example gradients, clipping and noise (TF Privacy).

DP-SGD (Abadi et al., CCS 2016) with Poisson subsampling: each step draws a batch B in which
every training example is present independently with probability q = L/n (L the *expected*
batch size), and releases

    g̃ = ( Σ_{i∈B} clip_C(∇_θ ℓ_i) + N(0, σ² C² I) ) / L,      clip_C(g) = g · min(1, C/‖g‖₂),

the sum divided by the *expected* batch size L as TF Privacy's Gaussian sum query / Gaussian
average query do (dividing by |B| would make the normaliser data-dependent). Clipping and noise
go through TF Privacy's :class:`GaussianSumQuery` — ``get_noised_result`` = sum + noise — with
``preprocess_record`` replaced by :class:`FiniteGaussianSumQuery`'s: a non-finite row becomes zero,
and the norm is taken in float64, so that a finite row whose float32 squared norm overflows (a
readout scale of 1e20 gives entries ~1e19, squares ~1e38) is clipped like any other instead of
turning the release into NaN (TF's ``clip_by_global_norm`` returns NaN for an infinite norm).

Float range: C and σ must lie where float32 arithmetic and the accountants are exact
(:mod:`privqml.validation`: C ∈ [2⁻⁶⁴, 2³²], σ ∈ {0} ∪ [2⁻¹⁴, 2¹⁶], batches of at most 2²⁴ rows);
inside it a release is finite, and a release that is not is refused
(:class:`NonFiniteReleaseError`), never returned — under ``python -O`` too. The σ each step
reports is the σ applied, f32(σC)/f32(C), rounded down (:func:`applied_noise_multiplier`).

Per-example gradients ∇_θ ℓ_i, two paths:

``fast``   θ tiled into a [|B|, P] tensor fed to the model (for quantum models: TFQ
           ``symbol_values``); one backward pass of Σ_i ℓ_i with respect to that tensor gives
           every row's gradient — for TFQ one batched adjoint pass. Classical models use the same
           tiling with batched matmuls (a vectorised per-example path).
``stock``  TF Privacy's ``DPKerasSGDOptimizer`` with ``num_microbatches=None`` — one microbatch
           per example, whatever |B| is (Poisson batches vary in size) — whose
           ``_compute_gradients`` takes the Jacobian of the per-example losses and runs the
           Gaussian sum query over its rows. It returns (Σ clip + noise)/|B|; we multiply back by
           |B| and divide by L, an exact rescaling of the same noised sum (post-processing).

With σ = 0 the two paths give the same clipped sum to float tolerance (tests/models/privacy/test_dpsgd.py).
An empty Poisson batch releases noise alone (the query on an all-zero state).
"""

from __future__ import annotations

import dataclasses
import fractions
import functools
import logging
import math
from typing import Literal

import dp_accounting
import numpy as np
import tensorflow as tf
from tensorflow_privacy.privacy.dp_query.gaussian_query import GaussianSumQuery
from tensorflow_privacy.privacy.optimizers.dp_optimizer_keras import GenericDPSGDOptimizer

from privqml import validation
from privqml.errors import DataError, PrivqmlError
from privqml.models.base import Model
from privqml.models.privacy import accounting, fused, randomness
from privqml.models.privacy.budget import PATHS
from privqml.models.privacy.clipping import l2_norms

#: The clipping factor's float64 shrink: 1 − 2⁻²² absorbs the float32 rounding of a clipped row
#: (≤ 2⁻²⁴ per entry, ≤ 2⁻³² from the float64 norm), so that ‖clip_C(g)‖₂ ≤ C holds in float32.
CLIP_SHRINK = 1.0 - 2.0**-22


class NonFiniteReleaseError(PrivqmlError, ArithmeticError):
    """A DP release (noised sum) with a NaN or infinite entry: it is refused, never returned.

    Inside the float-exact range of C and σ it cannot happen (every clipped row is finite with norm
    ≤ C and the noise is finite); raising — not asserting — keeps the refusal under ``python -O``.
    """


class _QuietPforFallback(logging.Filter):
    """Drop TF's notice that ``vectorized_map`` loops over L2Loss (TF Privacy's clip_by_global_norm)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Using a while_loop for converting" not in record.getMessage()


tf.get_logger().addFilter(_QuietPforFallback())


def poisson_batch(n_examples: int, sampling_probability: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of a Poisson batch: each of ``n_examples`` kept independently with prob. q.

    The batch size is Binomial(n, q): E|B| = nq, Var|B| = nq(1 − q).
    """
    validation.probability("sampling_probability", sampling_probability)
    return np.flatnonzero(rng.random(n_examples) < sampling_probability)


# -- per-example gradients ----------------------------------------------------------------------
def _as_inputs(model: Model, x, labels):
    """:func:`_as_arrays` as TensorFlow constants."""
    x, targets = _as_arrays(model, x, labels)
    return tf.constant(x), tf.constant(targets)


def _as_arrays(model: Model, x, labels) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 [B, d], encoded targets float32 [B]) after checking shapes and finiteness, as NumPy."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != model.n_features:
        raise DataError(f"x has shape {x.shape}; the model takes features of shape (batch, {model.n_features})")
    if not np.isfinite(np.sum(x, dtype=np.float64)) and not np.all(np.isfinite(x)):
        raise DataError("x contains NaN or infinite values; clean the features first")
    labels = np.asarray(labels)
    if labels.shape != (x.shape[0],):
        raise DataError(f"labels have shape {labels.shape}; need one label per example ({x.shape[0]},)")
    return x, np.asarray(model.encode_labels(labels), np.float32)


def per_example_gradients(model: Model, x, labels, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """(∇_θ ℓ_i for every example [B, P], ℓ_i [B]) by the fast (tiled-weights) path.

    ``labels`` are integer classes; ``weights`` default to the model's current weights.
    """
    x_a, y_a = _as_arrays(model, x, labels)
    w = model.weights.numpy() if weights is None else np.asarray(weights, np.float32)
    if x_a.shape[0] == 0:
        return np.zeros((0, model.n_weights), np.float32), np.zeros((0,), np.float32)
    grads, losses, _ = fused.clipped_sums(model, np.asarray(w, np.float32)[np.newaxis], [x_a], [y_a])
    return grads, losses


# -- clipping + noise ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StepResult:
    """One DP-SGD step's outputs (nothing applied to the weights).

    Attributes:
        gradient: the released gradient g̃ = noised_sum / expected_batch_size, [P].
        noised_sum: Σ_B clip_C(g_i) + N(0, σ²C² I), [P].
        clipped_sum: Σ_B clip_C(g_i) before noise, [P] (``None`` for the stock path, whose
            optimizer releases only the noised result).
        batch_size: |B| (the Poisson draw).
        expected_batch_size: L = q·n, the normaliser.
        per_example_grads: the unclipped per-example gradients [|B|, P] (fast path), else None.
        per_example_norms: their L2 norms [|B|] (fast path), else None; computed when first read.
        event: the DpEvent spent: PoissonSampled(q, Gaussian(σ as applied)), or NonPrivate.
        path: ``fast``, ``stock`` or ``nonprivate``.
        n_nonfinite: how many per-example gradients had a NaN or infinite entry (each contributed
            zero to the release); None when the path does not expose per-example gradients.
    """

    gradient: np.ndarray
    noised_sum: np.ndarray
    clipped_sum: np.ndarray | None
    batch_size: int
    expected_batch_size: float
    per_example_grads: np.ndarray | None
    event: dp_accounting.DpEvent
    path: str
    n_nonfinite: int | None = None

    @functools.cached_property
    def per_example_norms(self) -> np.ndarray | None:
        return None if self.per_example_grads is None else l2_norms(self.per_example_grads)


class FiniteGaussianSumQuery(GaussianSumQuery):
    r"""TF Privacy's Gaussian sum query with a finiteness guard and an overflow-free clip.

    ``preprocess_record`` maps a record g with any NaN or infinite entry to the zero record, then
    clips it to clip_C(g) = g · min(1, C/‖g‖₂) with ‖g‖₂ computed in float64 (a finite float32 record
    has ‖g‖₂² ≤ P·2²⁵⁶, far below float64's 2¹⁰²⁴) and the factor shrunk by :data:`CLIP_SHRINK`, so
    that the float32 row it returns has norm ≤ C exactly (not just up to rounding); a row with
    ‖g‖₂ ≤ C is returned bit for bit. The zero record has norm 0 ≤ C, so the add-or-remove
    sensitivity stays C and the accountant's analysis is unchanged; without the guard one non-finite
    example turns the whole released sum into NaN, which reveals its presence with certainty (an
    unbounded privacy loss). The stock path runs TF Privacy's optimizer with this very query, so both
    paths clip alike.
    """

    def preprocess_record_impl(self, params, record):
        """(clipped record, ‖record‖₂ in float64 after the guard), as :class:`GaussianSumQuery`'s."""
        parts = tf.nest.flatten(record)
        wide = [tf.cast(p, tf.float64) for p in parts]
        finite = tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(w)) for w in wide]))
        wide = [tf.where(finite, w, tf.zeros_like(w)) for w in wide]
        norm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(w)) for w in wide]))
        clip_norm = tf.cast(params, tf.float64)
        factor = tf.where(norm > clip_norm, clip_norm / tf.maximum(norm, clip_norm) * CLIP_SHRINK,
                          tf.constant(1.0, tf.float64))
        clipped = [tf.cast(w * factor, p.dtype) for w, p in zip(wide, parts)]
        return tf.nest.pack_sequence_as(record, clipped), norm

    def preprocess_record(self, params, record):
        return self.preprocess_record_impl(params, record)[0]

    def preprocess_records(self, params, rows: tf.Tensor) -> tf.Tensor:
        """:meth:`preprocess_record` of every row of a [N, P] tensor at once (the same float64 guard,
        norm and shrunk factor, row by row; one batched op per stage instead of a vectorised map)."""
        wide = tf.cast(rows, tf.float64)
        finite = tf.reduce_all(tf.math.is_finite(wide), axis=1, keepdims=True)
        wide = tf.where(finite, wide, tf.zeros_like(wide))
        norm = tf.sqrt(tf.reduce_sum(tf.square(wide), axis=1, keepdims=True))
        clip_norm = tf.cast(params, tf.float64)
        factor = tf.where(norm > clip_norm, clip_norm / tf.maximum(norm, clip_norm) * CLIP_SHRINK,
                          tf.constant(1.0, tf.float64))
        return tf.cast(wide * factor, rows.dtype)


def applied_noise_multiplier(query: GaussianSumQuery) -> float:
    """σ as ``query`` applies it: the largest float64 ≤ f32(σC)/f32(C), the stddev and clip of its
    float32 global state (0 when the stddev is 0). Never above the applied σ, and within 2⁻²³ of the
    σ asked for inside the float-exact range (:mod:`privqml.validation`)."""
    state = query.initial_global_state()
    stddev = fractions.Fraction(float(np.float32(state.stddev.numpy())))
    clip_norm = fractions.Fraction(float(np.float32(state.l2_norm_clip.numpy())))
    exact = stddev / clip_norm
    sigma = float(exact)  # round to nearest; step down one ulp if that rounded up
    return sigma if fractions.Fraction(sigma) <= exact else math.nextafter(sigma, 0.0)


def _check_settings(clip_norm, noise_multiplier, expected_batch_size, sampling_probability) -> None:
    """The step's settings checked (C, σ, L and q in range, and accountable); each distinct tuple once."""
    try:
        _checked_settings(clip_norm, noise_multiplier, expected_batch_size, sampling_probability)
    except TypeError:  # unhashable: the checks themselves name the bad value
        _checked_settings.__wrapped__(clip_norm, noise_multiplier, expected_batch_size, sampling_probability)


@functools.lru_cache(maxsize=256)
def _checked_settings(clip_norm, noise_multiplier, expected_batch_size, sampling_probability) -> None:
    validation.clip_norm("clip", clip_norm)
    validation.noise_multiplier("noise_multiplier", noise_multiplier)
    validation.positive("expected_batch_size", expected_batch_size, hint="the expected batch size L = q·n_train")
    validation.probability("sampling_probability", sampling_probability)
    accounting.check_accountable(sampling_probability, noise_multiplier)


class Mechanism:
    """DP-SGD's moving parts as one object, passed to the trainer and to every step the way TF Privacy's
    optimizers take a query: each epoch's secret randomness, the clipping query, the Gaussian noise, the σ the
    stock path's optimizer applies and the accountant is told, and the check of every release.

    :data:`GAUSSIAN` (this class) is the only mechanism privqml's code builds, and it has no switch that
    weakens it. The audits prove they catch broken mechanisms by injecting subclasses that override one part
    (:mod:`privqml.verify.audit.broken`); nothing in this package knows them.
    """

    name = "gaussian"

    def epoch_randomness(self, simulation_seed: int | None, epoch: int,
                         public_seed: int = 0) -> randomness.EpochRandomness:
        """The epoch's Poisson and noise generators (:func:`privqml.models.privacy.randomness.epoch_randomness`:
        secret OS entropy, or the declared simulation seed); ``public_seed``, the run's recorded seed, plays
        no part in it."""
        return randomness.epoch_randomness(simulation_seed, epoch)

    def query_class(self) -> type:
        """The clipped-sum query: :class:`FiniteGaussianSumQuery` (non-finite rows contribute zero)."""
        return FiniteGaussianSumQuery

    def noise(self, rng: np.random.Generator, shape, clip_norm: float, noise_multiplier: float) -> np.ndarray:
        """N(0, σ²C²) of ``shape`` from ``rng`` (:func:`privqml.models.privacy.fused.gaussian_noise`)."""
        return fused.gaussian_noise(rng, shape, clip_norm, noise_multiplier)

    def stock_noise_multiplier(self, noise_multiplier: float) -> float:
        """The σ the stock path's TF Privacy optimizer is built with: the σ asked for."""
        return noise_multiplier

    def accounted_noise_multiplier(self, applied: float, requested: float) -> float:
        """The σ the accountant is told for a stock step: the σ the optimizer's query applied."""
        return applied

    def check_release(self, noised: np.ndarray, clip_norm: float, noise_multiplier: float, where: str) -> np.ndarray:
        """:func:`check_release`: a release with a non-finite entry is refused."""
        return check_release(noised, clip_norm, noise_multiplier, where)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


#: the DP-SGD mechanism of every run privqml trains
GAUSSIAN = Mechanism()


@functools.lru_cache(maxsize=64)
def _query(clip_norm: float, noise_multiplier: float, mechanism: Mechanism = GAUSSIAN) -> GaussianSumQuery:
    """The trainer's Gaussian sum query: finiteness guard, clip at C, noise stddev σ·C on the sum."""
    return mechanism.query_class()(l2_norm_clip=clip_norm, stddev=noise_multiplier * clip_norm)


def _sum_of_clipped(query: GaussianSumQuery, grads: tf.Tensor) -> tf.Tensor:
    """Σ_i preprocess_record(g_i) over the rows of [B, P] (inside a traced function), clipped as the fast
    step clips (:func:`privqml.models.privacy.fused.clip_rows`)."""
    return tf.reduce_sum(fused.clip_rows(query, grads), axis=0)


def count_nonfinite(per_example_grads) -> int:
    """How many rows of [B, P] have a NaN or infinite entry (each contributes zero to a release)."""
    grads = np.asarray(per_example_grads)
    if not grads.size or np.isfinite(np.sum(grads, dtype=np.float64)):  # one pass when all are finite
        return 0
    return int(np.sum(~np.all(np.isfinite(grads), axis=1)))


@functools.lru_cache(maxsize=64)
def _clipped_sum_fn(clip_norm: float, mechanism: Mechanism = GAUSSIAN):
    """:func:`_sum_of_clipped` of per-example gradients [B, P], traced once per C."""
    query = _query(clip_norm, 0.0, mechanism)  # preprocess_record clips; the stddev plays no part in it
    return tf.function(functools.partial(_sum_of_clipped, query),
                       input_signature=[tf.TensorSpec([None, None], tf.float32)])


def clipped_sum(per_example_grads, clip_norm: float, mechanism: Mechanism = GAUSSIAN) -> np.ndarray:
    """Σ_i clip_C(g_i) of per-example gradients [B, P], clipped exactly as :func:`dp_step` clips
    (:class:`FiniteGaussianSumQuery`: a row with a NaN or infinite entry contributes zero); zeros
    of width P for an empty batch.

    For callers that form their own per-example rows (the audit adds canary coordinates) and must
    release them through the trainer's mechanism: pass the result to :func:`add_noise`.
    """
    validation.clip_norm("clip", clip_norm)
    grads = np.asarray(per_example_grads, dtype=np.float32)
    if grads.ndim != 2:
        raise DataError(f"per-example gradients have shape {grads.shape}; need (batch, n_weights)")
    if grads.shape[0] > validation.MAX_BATCH_ROWS:
        raise DataError(f"{grads.shape[0]} per-example gradients; a clipped sum is exact in float32 for at most "
                        "2^24 rows, so split them")
    if grads.shape[0] == 0:
        return np.zeros(grads.shape[1], np.float32)
    return _clipped_sum_fn(float(clip_norm), mechanism)(tf.constant(grads)).numpy()


def add_noise(clipped, clip_norm: float, noise_multiplier: float, sampling_probability: float,
              noise_rng: np.random.Generator | None = None, mechanism: Mechanism = GAUSSIAN):
    """The trainer's Gaussian noise on a clipped sum: (clipped + N(0, σ²C² I), the DpEvent spent).

    ``clipped`` may carry leading axes (e.g. [n, P] copies of one clipped sum): every entry gets
    independent noise, so one call gives n independent releases. The noise is the fast path's
    (:func:`privqml.models.privacy.fused.gaussian_noise`) from ``noise_rng``, by default a fresh
    generator seeded from the operating system's entropy. The event is
    PoissonSampled(q, Gaussian(σ as applied)) for *one* release; accounting for n of them is the
    caller's business.
    """
    validation.clip_norm("clip", clip_norm)
    validation.noise_multiplier("noise_multiplier", noise_multiplier)
    validation.probability("sampling_probability", sampling_probability)
    accounting.check_accountable(sampling_probability, noise_multiplier)
    clipped = np.asarray(clipped, dtype=np.float32)
    rng = fused.secret_generator() if noise_rng is None else noise_rng
    noised, event = _fused_noised(clipped, float(clip_norm), float(noise_multiplier), sampling_probability, rng,
                                  mechanism)
    mechanism.check_release(noised, float(clip_norm), float(noise_multiplier), "add_noise")
    return noised, event


def _fused_noised(clipped: np.ndarray, clip_norm: float, noise_multiplier: float, sampling_probability: float,
                  rng: np.random.Generator, mechanism: Mechanism = GAUSSIAN):
    """(clipped + N(0, σ²C²) from ``rng``, the DpEvent spent) — the fast path's Gaussian mechanism."""
    noise = mechanism.noise(rng, clipped.shape, clip_norm, noise_multiplier)
    sigma = fused.applied_sigma(clip_norm, noise_multiplier)
    spent = dp_accounting.PoissonSampledDpEvent(sampling_probability, dp_accounting.GaussianDpEvent(sigma))
    return (clipped + noise).astype(np.float32), spent


def check_release(noised: np.ndarray, clip_norm: float, noise_multiplier: float, where: str) -> np.ndarray:
    """``noised`` if every entry is finite; else :class:`NonFiniteReleaseError` (the release is
    refused, not returned). An explicit check, not an ``assert``: it holds under ``python -O``."""
    finite = np.isfinite(noised)
    if not np.all(finite):
        raise NonFiniteReleaseError(
            f"the DP release of {where} has {int(np.sum(~finite))} non-finite entries at clip={clip_norm!r}, "
            f"noise_multiplier={noise_multiplier!r}; nothing is released. Inside the float-exact range this "
            "cannot happen: report it with the model and the settings"
        )
    return noised


def reseed_noise(seed: int) -> None:
    """Set TensorFlow's global seed for the DP noise and retrace the stock path.

    A ``tf.function`` bakes the global seed into its random ops when it is traced, and their
    kernels restart the same stream after every ``tf.random.set_seed``; without a retrace the
    stock path replayed identical noise after each reseed (every epoch of a run), which the
    noise cancels out of differences of updates — a privacy bug found by the audit's
    noise-fresh check. Retracing after each reseed gives every seed its own stream.
    """
    tf.random.set_seed(int(seed))
    _stock_fn.cache_clear()


@functools.lru_cache(maxsize=64)
def _stock_fn(model: Model, clip_norm: float, noise_multiplier: float, mechanism: Mechanism = GAUSSIAN):
    """TF Privacy's DP-SGD optimizer (one microbatch per example) around the trainer's query."""
    optimizer = GenericDPSGDOptimizer(
        dp_sum_query=_query(clip_norm, noise_multiplier, mechanism), num_microbatches=None, learning_rate=1.0
    )
    spec_x = tf.TensorSpec([None, model.n_features], tf.float32)
    spec_y = tf.TensorSpec([None], tf.float32)

    @tf.function(input_signature=[spec_x, spec_y])
    def noised_mean(x, targets):
        grads_and_vars = optimizer._compute_gradients(  # noqa: SLF001 - TF Privacy's DP gradient
            lambda: model.per_example_loss(model.weights, x, targets), [model.weights]
        )
        return grads_and_vars[0][0]

    return optimizer, noised_mean


def dp_step(
    model: Model,
    x,
    labels,
    clip_norm: float,
    noise_multiplier: float,
    expected_batch_size: float,
    sampling_probability: float,
    path: Literal["fast", "stock"] = "fast",
    n_releases: int = 1,
    noise_rng: np.random.Generator | None = None,
    mechanism: Mechanism = GAUSSIAN,
) -> StepResult:
    """Privatised gradient of the batch (x, labels) at the model's current weights, released by ``mechanism``
    (:data:`GAUSSIAN`; an audit injects a broken one to prove it would be caught).

    ``x, labels`` are the Poisson batch already drawn (:func:`poisson_batch`), possibly empty;
    the audit may call this with and without a canary example. The weights are not changed.

    ``n_releases`` > 1 returns that many independent releases of the same batch, stacked on a
    leading axis ([n, P]): the fast path adds the query's noise to n copies of one clipped sum,
    the stock path runs TF Privacy's optimizer n times. The trainer takes one; an audit takes many
    through this very function, so a fault in the trainer's noise cannot hide from it.

    The fast path's noise comes from ``noise_rng`` (the run's generator; by default a fresh one
    seeded from the operating system's entropy); the stock path's from TF Privacy's query
    (TensorFlow's global generator, :func:`reseed_noise`).
    """
    _check_settings(clip_norm, noise_multiplier, expected_batch_size, sampling_probability)
    validation.choice("path", path, PATHS)
    validation.integer("n_releases", n_releases, 1)
    clip_norm, noise_multiplier = float(clip_norm), float(noise_multiplier)
    x_a, y_a = _as_arrays(model, x, labels)
    batch = int(x_a.shape[0])
    if batch > validation.MAX_BATCH_ROWS:
        raise DataError(f"the batch has {batch} rows; a clipped sum is exact in float32 for at most 2^24 rows, so "
                        "split it or use a smaller expected batch size")
    grads = clipped = None
    if batch == 0 or path == "fast":
        rng = fused.secret_generator() if noise_rng is None else noise_rng
        if batch == 0:
            clipped = np.zeros(model.n_weights, np.float32)
        else:
            grads, _, sums = fused.clipped_sums(model, model.weights.numpy()[np.newaxis], [x_a], [y_a], clip_norm, mechanism.query_class())
            clipped = sums[0]
        shape = (model.n_weights,) if n_releases == 1 else (int(n_releases), model.n_weights)
        noised, event = _fused_noised(np.broadcast_to(clipped, shape), clip_norm, noise_multiplier,
                                      sampling_probability, rng, mechanism)
    else:
        x_t, y_t = tf.constant(x_a), tf.constant(y_a)
        optimizer, noised_mean = _stock_fn(model, clip_norm, mechanism.stock_noise_multiplier(noise_multiplier),
                                           mechanism)
        # undo TF Privacy's 1/|B|: the noised sum
        rows = [noised_mean(x_t, y_t) * float(batch) for _ in range(int(n_releases))]
        noised = rows[0] if n_releases == 1 else tf.stack(rows)
        applied = applied_noise_multiplier(optimizer._dp_sum_query)  # noqa: SLF001 - the query the optimizer ran
        sigma = mechanism.accounted_noise_multiplier(applied, noise_multiplier)
        event = dp_accounting.PoissonSampledDpEvent(sampling_probability, dp_accounting.GaussianDpEvent(sigma))
    noised = np.asarray(noised, dtype=np.float32)
    mechanism.check_release(noised, clip_norm, noise_multiplier, path)  # a sum of clipped finite rows + finite noise
    return StepResult(
        gradient=noised / np.float32(expected_batch_size),
        noised_sum=noised,
        clipped_sum=clipped,
        batch_size=batch,
        expected_batch_size=float(expected_batch_size),
        per_example_grads=grads,
        event=event,
        path=path,
        n_nonfinite=count_nonfinite(grads) if grads is not None else None,
    )


def dp_steps(
    model: Model,
    weights,
    xs: list,
    labels: list,
    clip_norm: float,
    noise_multiplier: float,
    expected_batch_size: float,
    sampling_probability: float,
    noise_rngs: list,
    mechanism: Mechanism = GAUSSIAN,
) -> list[StepResult]:
    """The fast path's releases for R runs of one model in one call (replicates).

    Run r has weights ``weights[r]`` ([R, P]), its own Poisson batch (``xs[r]``, ``labels[r]``, possibly
    empty) and its own noise generator ``noise_rngs[r]``; all share C, σ, L and q. Every run's
    release is exactly the one :func:`dp_step` (fast path, ``noise_rng=noise_rngs[r]``) gives at those
    weights: the per-example gradients of all runs' rows come from one compiled call
    (:func:`privqml.models.privacy.fused.clipped_sums`) and each run's clipped sum and noise are its
    own. Returns one :class:`StepResult` per run.
    """
    _check_settings(clip_norm, noise_multiplier, expected_batch_size, sampling_probability)
    clip_norm, noise_multiplier = float(clip_norm), float(noise_multiplier)
    weights = np.asarray(weights, np.float32)
    if not (weights.ndim == 2 and weights.shape == (len(xs), model.n_weights) and len(labels) == len(xs) == len(noise_rngs)):
        raise DataError(f"weights {weights.shape}, {len(xs)} batches, {len(labels)} label sets and {len(noise_rngs)} "
                        f"generators: need one of each per run, weights of shape (runs, {model.n_weights})")
    inputs = [_as_arrays(model, x, y) for x, y in zip(xs, labels)]
    if sum(int(x.shape[0]) for x, _ in inputs) > validation.MAX_BATCH_ROWS:
        raise DataError("the runs' batches hold more than 2^24 rows together; step fewer runs at once")
    grads, _, sums = fused.clipped_sums(model, weights, [x for x, _ in inputs], [y for _, y in inputs],
                                        clip_norm, mechanism.query_class())
    results, start = [], 0
    for r, (x, _) in enumerate(inputs):
        size = int(x.shape[0])
        rows = grads[start:start + size]
        start += size
        noised, event = _fused_noised(sums[r], clip_norm, noise_multiplier, sampling_probability, noise_rngs[r],
                                      mechanism)
        mechanism.check_release(noised, clip_norm, noise_multiplier, "fast")
        results.append(StepResult(
            gradient=noised / np.float32(expected_batch_size), noised_sum=noised, clipped_sum=sums[r],
            batch_size=size, expected_batch_size=float(expected_batch_size),
            per_example_grads=rows if size else None,
            event=event, path="fast", n_nonfinite=count_nonfinite(rows) if size else None,
        ))
    return results


def nonprivate_steps(model: Model, weights, xs: list, labels: list) -> list[StepResult]:
    """The non-private reference step of R runs in one call: each run's mean gradient
    (1/|B_r|) Σ_{i∈B_r} ∇ℓ_i (no clipping, no noise; zeros for an empty batch), from the same compiled
    per-example function as the fast path."""
    inputs = [_as_arrays(model, x, y) for x, y in zip(xs, labels)]
    grads, _, sums = fused.clipped_sums(model, weights, [x for x, _ in inputs], [y for _, y in inputs])
    results = []
    for r, (x, _) in enumerate(inputs):
        size = int(x.shape[0])
        gradient = sums[r] / np.float32(size) if size else np.zeros(model.n_weights, np.float32)
        results.append(StepResult(
            gradient=gradient, noised_sum=sums[r], clipped_sum=None, batch_size=size,
            expected_batch_size=float(size), per_example_grads=None,
            event=dp_accounting.NonPrivateDpEvent(), path="nonprivate",
        ))
    return results


def nonprivate_step(model: Model, x, labels) -> StepResult:
    """The ordinary mean batch gradient (no clipping, no noise): the non-private reference."""
    return nonprivate_steps(model, model.weights.numpy()[np.newaxis], [x], [labels])[0]


__all__ = ["CLIP_SHRINK", "GAUSSIAN", "FiniteGaussianSumQuery", "Mechanism", "NonFiniteReleaseError", "PATHS", "StepResult", "add_noise",
           "applied_noise_multiplier", "check_release", "clipped_sum", "count_nonfinite", "dp_step", "dp_steps", "nonprivate_step", "nonprivate_steps",
           "per_example_gradients", "poisson_batch"]
