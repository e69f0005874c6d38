r"""Out-of-tree prototypes of speed changes proposed for other layers (measured, not merged).

The benchmarks own only ``benchmarks/``; a change that belongs in ``theory/`` or ``models/`` is
prototyped here, checked to give the same results, and timed side by side with the code in the
tree. The report then states the file, the function, the change and the measured before/after,
for the owner to merge. (The bound's linear-time change, prototyped here first, is merged in
``theory.bounds``; its prototype is gone.)

``vectorised_slot_values`` — :meth:`privqml.models.tfq_circuit.CompiledAnsatz.slot_values`
as a few gather / segment-sum ops instead of one TF op per slot (see its docstring); the
gradient through it agrees with the tree's to float32 rounding.

``fused_fast_step`` — :func:`privqml.models.privacy.dpsgd.dp_step` (``path="fast"``) with its three
TensorFlow stages fused into one ``tf.function``: the per-example gradients (``_fast_fn``), the
clipping (``_clipped_sum_fn``: TF Privacy's ``preprocess_record`` under ``tf.vectorized_map``) and the
noise (``_noised``: the same ``GaussianSumQuery``, whose ``initial_sample_state``,
``accumulate_preprocessed_record`` and ``get_noised_result`` the tree runs *eagerly*, op by op).
Same query, same maths, one graph call instead of two graph calls plus ~a dozen eager ops; at
σ = 0 the clipped sum is bit-identical to the tree's. ``closed_form=True`` further replaces the
vectorised ``preprocess_record`` by its closed form g_i · C / max(‖g_i‖₂, C) — what
``tf.clip_by_global_norm`` of one record computes — equal to float rounding (not bit-identical).
"""

from __future__ import annotations

import numpy as np
import sympy


def fused_fast_step(model, clip_norm: float, noise_multiplier: float, expected_batch_size: float,
                    closed_form: bool = False):
    """``step(x, labels) -> (noised_sum, clipped_sum, per_example_grads, norms, gradient)``, numpy.

    The work :func:`privqml.models.privacy.dpsgd.dp_step` does on the fast path (including the numpy
    conversions and the per-example norms it returns), with the TF stages in one graph.
    """
    import tensorflow as tf
    from tensorflow_privacy.privacy.dp_query.gaussian_query import GaussianSumQuery

    from privqml.models.privacy import dpsgd

    clip_norm, noise_multiplier = float(clip_norm), float(noise_multiplier)
    query = GaussianSumQuery(l2_norm_clip=clip_norm, stddev=noise_multiplier * clip_norm)
    spec_w = tf.TensorSpec([model.n_weights], tf.float32)
    spec_x = tf.TensorSpec([None, model.n_features], tf.float32)
    spec_y = tf.TensorSpec([None], tf.float32)

    @tf.function(input_signature=[spec_w, spec_x, spec_y])
    def fused(weights, x, targets):
        tiled = tf.tile(weights[tf.newaxis, :], [tf.shape(x)[0], 1])
        with tf.GradientTape() as tape:
            tape.watch(tiled)
            total = tf.reduce_sum(model.per_example_loss(tiled, x, targets))
        grads = tape.gradient(total, tiled, unconnected_gradients="zero")
        global_state = query.initial_global_state()
        if closed_form:
            norms = tf.norm(grads, axis=1)
            clipped_sum = tf.reduce_sum(grads * (clip_norm / tf.maximum(norms, clip_norm))[:, tf.newaxis], axis=0)
        else:
            params = query.derive_sample_params(global_state)
            clipped = tf.vectorized_map(lambda g: query.preprocess_record(params, g), grads)
            clipped_sum = tf.reduce_sum(clipped, axis=0)
        state = query.accumulate_preprocessed_record(query.initial_sample_state(clipped_sum), clipped_sum)
        noised, _, _ = query.get_noised_result(state, global_state)
        return noised, clipped_sum, grads

    def step(x, labels):
        x_t, y_t = dpsgd._as_inputs(model, x, labels)  # noqa: SLF001 - same validation as dp_step
        noised, clipped, grads = fused(tf.convert_to_tensor(model.weights), x_t, y_t)
        grads = grads.numpy()
        norms = np.linalg.norm(grads.astype(np.float64), axis=1)
        noised = np.asarray(noised, dtype=np.float32)
        return noised, clipped.numpy(), grads, norms, noised / np.float32(expected_batch_size)

    return step


def vectorised_slot_values(compiled):
    """``slot_values(weights, inputs)`` computing every slot exponent in a handful of TF ops.

    Proposed for :meth:`privqml.models.tfq_circuit.CompiledAnsatz.slot_values`, which evaluates
    one lambdified SymPy expression per slot — thousands of small TF ops, each dispatched
    eagerly (and recorded on the tape) outside ``tf.function``. When every exponent is a
    polynomial of degree ≤ 2 in the symbols with no squares (t_k = c_k + Σ a_kj v_j +
    Σ b_kij v_i v_j with v = [θ, x]: rotation angles θ/π, re-uploading (w·x + b)/π, PhasedXZ's
    z + a …), the slot values are one gather-multiply and one ``unsorted_segment_sum`` for the
    linear terms, the same for the bilinear ones. Returns ``None`` when some exponent is not of
    that form (the caller keeps the lambdified path).
    """
    import tensorflow as tf

    ansatz = compiled.ansatz
    symbols = list(ansatz.weights) + list(ansatz.inputs)
    index = {s: i for i, s in enumerate(symbols)}
    n_slots = len(compiled.canonical.slots)
    constant = np.zeros(n_slots)
    linear, bilinear = [], []
    for k, slot in enumerate(compiled.canonical.slots):
        expr = sympy.expand(slot.exponent)
        free = sorted(expr.free_symbols, key=lambda s: s.name)
        if not free:
            constant[k] += float(expr)
            continue
        try:
            poly = sympy.Poly(expr, *free)
        except sympy.PolynomialError:
            return None
        for monom, coeff in poly.terms():
            degree, c = sum(monom), float(coeff)
            if degree == 0:
                constant[k] += c
            elif degree == 1:
                linear.append((k, index[free[monom.index(1)]], c))
            elif degree == 2 and max(monom) == 1:
                i, j = (index[free[t]] for t, m in enumerate(monom) if m)
                bilinear.append((k, i, j, c))
            else:
                return None

    def table(rows, column):
        return tf.constant([r[column] for r in rows], tf.int32 if column < len(rows[0]) - 1 else tf.float32)

    constant_t = tf.constant(constant, tf.float32)
    lin = [table(linear, c) for c in range(3)] if linear else None
    bil = [table(bilinear, c) for c in range(4)] if bilinear else None

    def slot_values(weights, inputs):
        inputs = tf.convert_to_tensor(inputs, tf.float32)
        weights = tf.convert_to_tensor(weights, tf.float32)
        batch = tf.shape(inputs)[0]
        if weights.shape.rank == 1:
            weights = tf.tile(weights[tf.newaxis, :], [batch, 1])
        v = tf.concat([weights, inputs], axis=1)
        out = tf.zeros([batch, n_slots]) + constant_t
        if lin is not None:
            terms = tf.gather(v, lin[1], axis=1) * lin[2]
            out += tf.transpose(tf.math.unsorted_segment_sum(tf.transpose(terms), lin[0], n_slots))
        if bil is not None:
            terms = tf.gather(v, bil[1], axis=1) * tf.gather(v, bil[2], axis=1) * bil[3]
            out += tf.transpose(tf.math.unsorted_segment_sum(tf.transpose(terms), bil[0], n_slots))
        return out

    return slot_values


def fused_available() -> tuple[bool, str]:
    try:
        from privqml.models.privacy import dpsgd
    except ImportError as exc:
        return False, f"cannot import privqml.models.privacy.dpsgd: {exc}"
    if not hasattr(dpsgd, "_as_inputs"):
        return False, "privqml.models.privacy.dpsgd no longer has _as_inputs"
    return True, ""


__all__ = [
    "fused_available",
    "fused_fast_step",
    "vectorised_slot_values",
]
