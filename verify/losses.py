r"""Per-example loss gradients from an engine's Jacobian (the chain rule, float64).

With logits z_c = s·f_c (fixed readout scale s) the per-example loss gradient is

    ∇_θ ℓ = Σ_c (∂ℓ/∂z_c) · s · ∇_θ f_c,

with the Keras definitions of the losses:

=============  ===================================  ===========================================
loss           ℓ                                    ∂ℓ/∂z (or ∂ℓ/∂f)
=============  ===================================  ===========================================
``bce_logits`` softplus(z) − y z, y ∈ {0, 1}         σ(z) − y
``mse``        (z − y)², y ∈ {−1, +1}                2 (z − y)
``hinge``      max(0, 1 − y z), y ∈ {−1, +1}         −y if y z < 1 else 0 (the subgradient 0 at the kink)
``bce_prob``   −y log p − (1 − y) log(1 − p),         ∂ℓ/∂f = (p − y)/(p (1 − p)) / (o_max − o_min),
               p = (f − o_min)/(o_max − o_min)        0 where the clamp [c, 1 − c] is active
``softmax_ce`` −log softmax(z)_y, integer y          softmax(z) − onehot(y)
=============  ===================================  ===========================================

This module is independent of :mod:`privqml.theory.loss` on purpose: it is what the bound is
checked against.
"""

from __future__ import annotations

import numpy as np

from privqml.errors import ConfigError, DataError
from privqml.theory.ansatz import Ansatz
from privqml.theory.observable_range import observable_range
from privqml.verify.engine_base import GradientResult

BINARY_LOSSES = ("bce_logits", "mse", "hinge", "bce_prob")
MULTICLASS_LOSSES = ("softmax_ce",)
LABEL_SETS = {"bce_logits": (0, 1), "bce_prob": (0, 1), "mse": (-1, 1), "hinge": (-1, 1)}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def dloss_dvalues(values: np.ndarray, ansatz: Ansatz, loss: str, labels, clamp: float | None = None) -> np.ndarray:
    """[batch, n_observables] ∂ℓ/∂f_c for each example (see the module table)."""
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels)
    scale = float(ansatz.readout.scale)
    if labels.shape != (values.shape[0],):
        raise DataError(f"labels have shape {labels.shape}; pass one label per example ({values.shape[0]},)")
    if loss in BINARY_LOSSES:
        if values.shape[1] != 1:
            raise ConfigError(f"loss={loss!r} is binary but the ansatz has {values.shape[1]} observables")
        allowed = LABEL_SETS[loss]
        if not np.all(np.isin(labels, allowed)):
            raise DataError(f"labels for loss={loss!r} must lie in {allowed}; got {sorted(set(labels.tolist()))}")
        y = labels.astype(np.float64)
        f = values[:, 0]
        z = scale * f
        if loss == "bce_logits":
            out = scale * (_sigmoid(z) - y)
        elif loss == "mse":
            out = scale * 2.0 * (z - y)
        elif loss == "hinge":
            out = scale * np.where(y * z < 1.0, -y, 0.0)
        else:
            lo, hi, _ = observable_range(ansatz.observables[0])
            p = (f - lo) / (hi - lo)
            if clamp is not None:
                active = (p < clamp) | (p > 1.0 - clamp)
                p = np.clip(p, clamp, 1.0 - clamp)
            else:
                active = np.zeros_like(p, dtype=bool)
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.where(active, 0.0, (p - y) / (p * (1.0 - p)) / (hi - lo))
        return out[:, None]
    if loss in MULTICLASS_LOSSES:
        n_classes = values.shape[1]
        if n_classes < 2:
            raise ConfigError("softmax_ce needs one observable per class (>= 2)")
        if not np.all(np.isin(labels, np.arange(n_classes))):
            raise DataError(f"labels for softmax_ce must be integers in [0, {n_classes - 1}]")
        z = scale * values
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        onehot = np.eye(n_classes)[labels.astype(int)]
        return scale * (p - onehot)
    raise ConfigError(f"loss={loss!r} is not known; choose one of {list(BINARY_LOSSES + MULTICLASS_LOSSES)}")


def loss_gradients(result: GradientResult, ansatz: Ansatz, loss: str, labels, clamp: float | None = None) -> np.ndarray:
    """Per-example ∇_θ ℓ as a [batch, n_weights] array: Σ_c (∂ℓ/∂f_c) ∇_θ f_c."""
    weights = dloss_dvalues(result.values, ansatz, loss, labels, clamp)
    return np.einsum("bc,bcp->bp", weights, result.jacobian)


def applicable_losses(ansatz: Ansatz) -> tuple[str, ...]:
    """The losses defined for this ansatz's readout (binary: one observable; softmax: several)."""
    return BINARY_LOSSES if ansatz.n_outputs == 1 else MULTICLASS_LOSSES


__all__ = ["BINARY_LOSSES", "LABEL_SETS", "MULTICLASS_LOSSES", "applicable_losses", "dloss_dvalues", "loss_gradients"]
