r"""The fast DP-SGD release as one compiled call, for one run or for R replicate runs at once.

R independent runs of the same model (replicates: own weights θ_r, own Poisson batch B_r, own
noise) stack their batches into N = Σ_r |B_r| rows: row i carries the weights θ_{r(i)} of its run,
its features and its label. One traced function then computes

    g_i = ∇_θ ℓ(f(x_i; θ_{r(i)}), y_i)           (one backward pass over all rows; row i depends
                                                  on row i only — the tiled-weights trick)
    S_r = Σ_{i : r(i) = r} clip_C(g_i)            (TF Privacy's Gaussian sum query's clipping, the
                                                  finiteness guard of FiniteGaussianSumQuery)

and each run's release is S_r + N(0, σ²C² I) drawn from that run's own noise generator
(:class:`numpy.random.Generator`: OS entropy in secret mode, or the run's simulation seed), so run
r's release is a function of its own batch, weights and generator only: a replicate's trajectory
equals the one it would have alone (tests/models/privacy/test_fused.py). The sampling the
accountant assumes is each run's own Poisson draw; nothing couples the runs.

The Gaussian noise: z ~ N(0, 1)^P from the generator (float64, NumPy's ziggurat), scaled by the
float64 stddev s = fl(σ·C) and rounded to float32 once; the σ the ledger records is s/C rounded
down (:func:`applied_sigma`), never above what was added. As with TF Privacy's sampler, this is a
floating-point Gaussian, not a snapped or discrete one (Mironov, CCS 2012); see
:mod:`privqml.models.privacy.randomness`.

The traced function is cached per model *structure* (:meth:`~privqml.models.base.Model.trace_key`)
and takes C as an input: runs of the same ansatz, loss and readout share one trace whatever their
initial weights and clip, so a sweep traces each model once per process.
"""

from __future__ import annotations

import contextlib
import fractions
import functools
import math
import os
import secrets

import numpy as np
import tensorflow as tf

from privqml.models.base import Model, traced_inline


@functools.lru_cache(maxsize=1024)
def applied_sigma(clip_norm: float, noise_multiplier: float) -> float:
    """σ as added: the largest float64 ≤ fl(σ·C)/C (0 for σ = 0)."""
    stddev = fractions.Fraction(float(noise_multiplier) * float(clip_norm))
    exact = stddev / fractions.Fraction(float(clip_norm))
    sigma = float(exact)
    return sigma if fractions.Fraction(sigma) <= exact else math.nextafter(sigma, 0.0)


def secret_generator() -> np.random.Generator:
    """A noise generator seeded with 128 bits of the operating system's entropy (never written out)."""
    return np.random.default_rng(secrets.randbits(128))


def gaussian_noise(rng: np.random.Generator, shape, clip_norm: float, noise_multiplier: float) -> np.ndarray:
    """N(0, σ²C²) of ``shape`` as float32: z ~ N(0, 1) from ``rng`` times the float64 stddev fl(σC)."""
    stddev = float(noise_multiplier) * float(clip_norm)
    if stddev == 0.0:
        return np.zeros(shape, np.float32)
    return (rng.standard_normal(shape) * stddev).astype(np.float32)


def _model_key(model: Model):
    key = model.trace_key()
    return key if key is not None else ("instance", id(model))


_TRACES: dict = {}


def _rows_fn(model: Model, query_class):
    """The traced (weights [R, P], rows [N, d + 2], C) → (g [N, P], ℓ [N], S [R, P]), cached by model
    structure and query class; C is an input, so runs at any clip share the trace. A row packs its
    features, target and segment id (:func:`_packed`): two tensor conversions a call, not four (each
    ~30 µs)."""
    key = (_model_key(model), query_class)
    entry = _TRACES.get(key)
    if entry is not None:
        return entry
    n_weights, n_features = model.n_weights, model.n_features
    specs = [tf.TensorSpec([None, n_weights], tf.float32), tf.TensorSpec([None, n_features + 2], tf.float32),
             tf.TensorSpec([], tf.float32)]

    def rows(run_weights, packed, clip_norm):
        n_runs = tf.shape(run_weights)[0]
        x, targets, segments = packed[:, :n_features], packed[:, n_features], packed[:, n_features + 1]
        live = segments >= 0  # padding rows (segment -1) are computed and dropped
        segments = tf.cast(tf.maximum(segments, 0.0), tf.int32)
        weights = tf.gather(run_weights, segments)  # row i carries the weights of its run
        with traced_inline():
            with tf.GradientTape() as tape:
                tape.watch(weights)
                losses = model.per_example_loss(weights, x, targets)
                total = tf.reduce_sum(losses)
            grads = tape.gradient(total, weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        if query_class is not None:
            # clipping only: the noise is added outside
            per_row = clip_rows(query_class(l2_norm_clip=clip_norm, stddev=0.0), grads)
        else:
            per_row = grads
        per_row = tf.where(live[:, tf.newaxis], per_row, tf.zeros_like(per_row))
        return grads, losses, tf.math.unsorted_segment_sum(per_row, segments, n_runs)

    # the concrete function: calling it skips tf.function's per-call signature matching (~0.3 ms a step)
    fn = tf.function(rows, input_signature=specs, autograph=False, jit_compile=_compiles(model)).get_concrete_function()
    if len(_TRACES) > 64:
        _TRACES.clear()
    _TRACES[key] = fn
    return fn


def clip_rows(query, grads: tf.Tensor) -> tf.Tensor:
    """Every row of [N, P] through ``query``'s clip (inside a traced function): the trainer's query
    clips a whole batch with one op per stage (``preprocess_records``); TF Privacy's own query (the
    audits' unguarded fault) clips record by record, vectorised."""
    params = query.derive_sample_params(query.initial_global_state())
    if hasattr(query, "preprocess_records"):
        return query.preprocess_records(params, grads)
    return tf.vectorized_map(lambda g: query.preprocess_record(params, g), grads)


def _outputs_fn(model: Model):
    """The traced (weights rows [N, P], x [N, d]) → f [N, C], cached by model structure."""
    key = ("outputs", _model_key(model))
    fn = _TRACES.get(key)
    if fn is not None:
        return fn

    def rows(weights, x):
        with traced_inline():
            return model.outputs(weights, x)

    fn = tf.function(rows, autograph=False, input_signature=[
        tf.TensorSpec([None, model.n_weights], tf.float32), tf.TensorSpec([None, model.n_features], tf.float32)])
    _TRACES[key] = fn
    return fn


def outputs(model: Model, weights: np.ndarray, xs: list[np.ndarray], chunk: int = 4096) -> list[np.ndarray]:
    """f(x; θ_r) for R runs in as few calls as ``chunk`` rows allow: run r's features ``xs[r]`` at its
    weights ``weights[r]``; float64 arrays [|x_r|, C], one per run (evaluation of replicates)."""
    rows, _ = stacked_rows(weights, xs)
    x = np.concatenate([np.asarray(v, np.float32).reshape(-1, model.n_features) for v in xs])
    fn = _outputs_fn(model)
    parts = [fn(tf.constant(rows[i:i + chunk]), tf.constant(x[i:i + chunk])).numpy() for i in range(0, len(x), chunk)]
    values = np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, model.n_outputs))
    return np.split(values, np.cumsum([len(v) for v in xs])[:-1])


def stacked_rows(weights: np.ndarray, batches: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(weights rows [N, P], segment ids [N]) for runs with weights [R, P] and row counts |B_r|."""
    sizes = np.array([len(b) for b in batches], dtype=np.int64)
    segments = np.repeat(np.arange(len(batches), dtype=np.int32), sizes)
    return np.asarray(weights, np.float32)[segments], segments


def clipped_sums(model: Model, weights: np.ndarray, xs: list[np.ndarray], targets: list[np.ndarray],
                 clip_norm: float | None = None, query_class=None):
    """Per-example gradients and per-run sums of R runs in one call.

    Args:
        model: the model structure (its own weights are not read).
        weights: [R, P] the runs' current weights.
        xs, targets: per run, its batch's features [|B_r|, d] (float32) and encoded targets [|B_r|].
        clip_norm: C, the clip every row gets (S_r = Σ clip_C(g_i)), or None (plain sums S_r = Σ g_i).
        query_class: the Gaussian sum query class whose ``preprocess_record`` clips (the trainer's
            :class:`~privqml.models.privacy.dpsgd.FiniteGaussianSumQuery`; required with ``clip_norm``).

    Returns:
        (g [N, P] float32 numpy, ℓ [N], S [R, P]) with the rows of run r at the offsets of ``xs``.
    """
    n_runs = int(weights.shape[0])
    sizes = [len(v) for v in xs]
    segments = np.repeat(np.arange(n_runs, dtype=np.int32), sizes)
    if segments.shape[0] == 0:
        zeros = np.zeros((0, model.n_weights), np.float32)
        return zeros, np.zeros((0,), np.float32), np.zeros((n_runs, model.n_weights), np.float32)
    x = xs[0] if n_runs == 1 else np.concatenate([np.asarray(v, np.float32).reshape(-1, model.n_features) for v in xs])
    y = targets[0] if n_runs == 1 else np.concatenate([np.asarray(t, np.float32).reshape(-1) for t in targets])
    if (clip_norm is None) != (query_class is None):
        raise ValueError("clip_norm and query_class go together: both (clip every row) or neither (plain sums)")
    weights = np.asarray(weights, np.float32)
    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32).reshape(-1)
    if weights.shape != (n_runs, model.n_weights) or x.shape != (len(segments), model.n_features) or y.shape != segments.shape:
        raise ValueError(f"weights {weights.shape}, x {x.shape}, targets {y.shape}: need ({n_runs}, {model.n_weights}), "
                         f"({len(segments)}, {model.n_features}) and ({len(segments)},)")
    n, compiles = len(segments), _compiles(model)
    packed = _packed(x, y, segments, padded_rows(n) if compiles else n)
    args = (tf.constant(weights), packed, _scalar(1.0 if clip_norm is None else clip_norm))
    if compiles and not _XLA_STARTED:
        grads, losses, sums = _first_xla_call(_rows_fn(model, query_class), args)
    else:
        grads, losses, sums = _call(_rows_fn(model, query_class), args)
    return grads.numpy()[:n], losses.numpy()[:n], sums.numpy()


_XLA_STARTED = False


def _first_xla_call(fn, args: tuple):
    """The process's first XLA compile, with its start-up log lines (:data:`privqml.stack.XLA_NOISE`)
    filtered out of stderr; every other line passes through."""
    global _XLA_STARTED
    from privqml import stack

    show = os.environ.get(stack.SHOW_STARTUP_LOG) == "1"
    with contextlib.nullcontext() if show else stack.filtered_stderr(stack.XLA_NOISE):
        out = _call(fn, args)
    _XLA_STARTED = True
    return out


def _compiles(model: Model) -> bool:
    """Whether the model's step is compiled with XLA (:attr:`Model.xla`: the classical models, whose
    compile takes a fraction of a second per padded row count and saves a third of the step)."""
    return bool(getattr(model, "xla", False))


def padded_rows(n: int) -> int:
    """The row count an XLA-compiled step pads N rows to: a multiple of 16 up to 256, then of an
    eighth of the next power of two, so a training run compiles a handful of shapes, not one per
    Poisson batch size; padding costs at most 1/8 extra rows above 256."""
    if n <= 256:
        return max(16, -(-n // 16) * 16)
    step = 1 << (n.bit_length() - 3)
    return -(-n // step) * step


def _packed(x: np.ndarray, y: np.ndarray, segments: np.ndarray, rows: int) -> tf.Tensor:
    """[features | target | segment id] per row as one float32 [rows, d + 2] tensor, padded to ``rows``
    rows with zero features and targets and segment id -1 (computed, then dropped); the segment ids
    (< 2^24 runs) are exact in float32."""
    packed = np.zeros((rows, x.shape[1] + 2), np.float32)
    packed[:x.shape[0], :-2] = x
    packed[:x.shape[0], -2] = y
    packed[:, -1] = -1.0
    packed[:x.shape[0], -1] = segments
    return tf.constant(packed)


@functools.lru_cache(maxsize=256)
def _scalar(value: float) -> tf.Tensor:
    """A float32 scalar tensor of ``value`` (the clip), made once per value."""
    return tf.constant(value, tf.float32)


def _call(fn, args: tuple):
    """``fn(*args)`` for a concrete function whose inputs the caller has already built with the traced
    signature's dtypes and shapes (and checked): its flat call skips the argument binding and
    signature checks (~0.12 ms a call, a third of a small model's step). Falls back to the ordinary
    call where the flat call is missing."""
    flat = getattr(fn, "_call_flat", None)
    return fn(*args) if flat is None else flat(list(args), fn.captured_inputs)


__all__ = ["applied_sigma", "clip_rows", "clipped_sums", "gaussian_noise", "outputs", "secret_generator", "stacked_rows"]
