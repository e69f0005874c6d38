r"""Per-example losses in the project's conventions (the same as :mod:`privqml.theory.loss`).

Binary models have one output f ∈ [o_min, o_max] and logit z = s·f (s the fixed readout scale);
multi-class models have one output per class and logits z_c = s·f_c. Integer class labels
k ∈ {0, …, K−1} are encoded per loss:

=============  ==================  =============================================
loss           label y             ℓ
=============  ==================  =============================================
``bce_logits`` y = k ∈ {0, 1}      softplus(z) − y z   (Keras BinaryCrossentropy(from_logits))
``mse``        y = 2k − 1 ∈ {±1}   (z − y)²
``hinge``      y = 2k − 1 ∈ {±1}   max(0, 1 − y z)
``bce_prob``   y = k ∈ {0, 1}      −y log p − (1−y) log(1−p),  p = (f − o_min)/(o_max − o_min),
                                   clamped to [c, 1−c] when a clamp c is given
``softmax_ce`` y = k               −log softmax(z)_y   (Keras SparseCategoricalCrossentropy)
=============  ==================  =============================================

Prediction: binary → class 1 iff z > 0 (``bce_prob``: iff p > 1/2); multi-class → argmax z.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from privqml import validation
from privqml.errors import ConfigError

BINARY_LOSSES = ("bce_logits", "mse", "hinge", "bce_prob")
MULTICLASS_LOSSES = ("softmax_ce",)
LOSSES = BINARY_LOSSES + MULTICLASS_LOSSES


def default_loss(n_outputs: int) -> str:
    """``bce_logits`` for one output, ``softmax_ce`` for several."""
    return "bce_logits" if n_outputs == 1 else "softmax_ce"


def check_loss(loss: str, n_outputs: int, n_classes: int | None = None) -> str:
    """Validate the loss against the model's outputs and the task's classes."""
    validation.choice("loss", loss, LOSSES)
    if loss in BINARY_LOSSES and n_outputs != 1:
        raise ConfigError(f"loss={loss!r} is binary but the model has {n_outputs} outputs; use softmax_ce")
    if loss in MULTICLASS_LOSSES and n_outputs < 2:
        raise ConfigError(f"loss={loss!r} needs one output per class; the model has {n_outputs}")
    if n_classes is not None:
        if loss in BINARY_LOSSES and n_classes != 2:
            raise ConfigError(f"loss={loss!r} is binary but the dataset has {n_classes} classes")
        if loss in MULTICLASS_LOSSES and n_classes != n_outputs:
            raise ConfigError(
                f"the model has {n_outputs} outputs but the dataset has {n_classes} classes; "
                "give one observable per class (observable=classes:K)"
            )
    return loss


def encode_labels(loss: str, labels) -> np.ndarray:
    """Integer class labels → the float32 targets the loss expects (see the module table)."""
    labels = np.asarray(labels, dtype=np.int64)
    if loss in ("mse", "hinge"):
        return (2 * labels - 1).astype(np.float32)
    return labels.astype(np.float32)


def per_example_loss(
    loss: str,
    outputs: tf.Tensor,
    targets: tf.Tensor,
    scale: float,
    output_range: tuple[float, float] = (-1.0, 1.0),
    clamp: float | None = None,
) -> tf.Tensor:
    """ℓ_i for every example: ``outputs`` f [B, C], ``targets`` [B] (encoded) → [B]."""
    targets = tf.cast(targets, outputs.dtype)
    logits = scale * outputs
    if loss == "softmax_ce":
        return tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(targets, tf.int32), logits=logits
        )
    z = logits[:, 0]
    if loss == "bce_logits":
        return tf.nn.softplus(z) - targets * z
    if loss == "mse":
        return tf.square(z - targets)
    if loss == "hinge":
        return tf.nn.relu(1.0 - targets * z)
    if loss == "bce_prob":
        lo, hi = output_range
        p = (outputs[:, 0] - lo) / (hi - lo)
        if clamp is not None:
            p = tf.clip_by_value(p, clamp, 1.0 - clamp)
        return -(targets * tf.math.log(p) + (1.0 - targets) * tf.math.log(1.0 - p))
    validation.choice("loss", loss, LOSSES)
    raise AssertionError(f"loss={loss!r} is known but has no formula here")


def predict_classes(loss: str, outputs: np.ndarray, output_range=(-1.0, 1.0)) -> np.ndarray:
    """Predicted class indices from outputs f [B, C] (the decision rule in the module docstring)."""
    outputs = np.asarray(outputs)
    if outputs.shape[1] > 1:
        return np.argmax(outputs, axis=1)
    if loss == "bce_prob":
        lo, hi = output_range
        return (outputs[:, 0] > (lo + hi) / 2).astype(np.int64)
    return (outputs[:, 0] > 0).astype(np.int64)


__all__ = [
    "BINARY_LOSSES",
    "LOSSES",
    "MULTICLASS_LOSSES",
    "check_loss",
    "default_loss",
    "encode_labels",
    "per_example_loss",
    "predict_classes",
]
