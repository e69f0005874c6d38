r"""The clipping-bias meter: how much per-example clipping distorts the batch gradient.

For a batch of per-example gradients g_1..g_B and threshold C, with clip_C(g) = g·min(1, C/‖g‖),
the meter records

    norm_max = max_i ‖g_i‖,  norm_mean = mean_i ‖g_i‖,  fraction_clipped = #{‖g_i‖ > C} / B,
    bias = ‖ mean_i clip_C(g_i) − mean_i g_i ‖₂,

and the prediction of the theory's bound G* ≥ sup ‖∇_θ ℓ‖ (over the public input domain, every
weight vector and label):

    bias ≤ mean_i ‖clip_C(g_i) − g_i‖ = mean_i (‖g_i‖ − C)₊ ≤ (G* − C)₊,

zero when C ≥ G* (no example can be clipped). Unclipped gradients are kept *bit for bit*
(the factor is applied only where ‖g_i‖ > C), so with C ≥ G* the measured bias is exactly 0.0.

Norms are computed in float64 without overflow or underflow (:func:`l2_norms`): a row whose
squared norm leaves float64's range is rescaled by its largest entry first, ‖g‖ = m·‖g/m‖ with
m = max_j |g_j|, so a finite row always has a finite norm.

Privacy scope: the meter looks at raw per-example gradients of the training data. Its history
is a research diagnostic, **not** covered by the run's (ε, δ) guarantee; do not release it as
private output (run.json says so).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class ClipMeasurement:
    """One meter reading (norms in the units of ∇_θ ℓ: loss per unit weight).

    Attributes:
        step: the training step it was taken at.
        batch_size: B, the number of per-example gradients measured.
        clip_norm: C.
        norm_max, norm_mean: max and mean of ‖g_i‖₂ (0 for an empty batch).
        fraction_clipped: share of examples with ‖g_i‖ > C.
        bias: ‖mean clip_C(g_i) − mean g_i‖₂.
        bias_bound_batch: mean_i (‖g_i‖ − C)₊, the batch's own upper bound on ``bias``.
        predicted_bias_bound: (G* − C)₊ from the theory's bound, or None without a bound.
        grad_norm_bound: G*, or None.
    """

    step: int
    batch_size: int
    clip_norm: float
    norm_max: float
    norm_mean: float
    fraction_clipped: float
    bias: float
    bias_bound_batch: float
    predicted_bias_bound: float | None
    grad_norm_bound: float | None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def l2_norms(rows) -> np.ndarray:
    """‖g_i‖₂ of every row of [B, P], in float64, finite for every finite row.

    Rows whose plain sum of squares overflows (|g_j| ≳ 1e154) or underflows to 0 while the row is
    not zero are recomputed as m·√(Σ (g_j/m)²) with m = max_j |g_j|; the others are NumPy's norm,
    bit for bit. A row with a NaN entry has norm NaN, one with an infinite entry (and no NaN) inf.
    """
    grads = np.asarray(rows, dtype=np.float64)
    if grads.ndim != 2:
        raise ValueError(f"rows have shape {grads.shape}; need (batch, n)")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        norms = np.linalg.norm(grads, axis=1)
        peak = np.max(np.abs(grads), axis=1) if grads.shape[1] else np.zeros(grads.shape[0])
        redo = np.isfinite(peak) & (peak > 0) & ((norms == 0) | ~np.isfinite(norms))
        if np.any(redo):
            scaled = grads[redo] / peak[redo, None]
            norms[redo] = peak[redo] * np.sqrt(np.sum(scaled * scaled, axis=1))
    return norms


def predicted_bias_bound(grad_norm_bound: float | None, clip_norm: float) -> float | None:
    """(G* − C)₊, or None when there is no bound."""
    if grad_norm_bound is None or not math.isfinite(grad_norm_bound):
        return None
    return max(0.0, float(grad_norm_bound) - float(clip_norm))


def measure_clipping(
    per_example_grads: np.ndarray, clip_norm: float, grad_norm_bound: float | None = None, step: int = 0
) -> ClipMeasurement:
    """A :class:`ClipMeasurement` of ``per_example_grads`` [B, P] at threshold ``clip_norm``."""
    grads = np.asarray(per_example_grads, dtype=np.float64)
    predicted = predicted_bias_bound(grad_norm_bound, clip_norm)
    if grads.shape[0] == 0:
        return ClipMeasurement(step, 0, float(clip_norm), 0.0, 0.0, 0.0, 0.0, 0.0, predicted, grad_norm_bound)
    norms = l2_norms(grads)
    over = norms > clip_norm
    clipped = grads.copy()
    clipped[over] = (clipped[over] / norms[over, None]) * clip_norm  # g/‖g‖ first: no overflow
    bias = float(l2_norms((clipped.mean(axis=0) - grads.mean(axis=0))[None, :])[0])
    return ClipMeasurement(
        step=int(step),
        batch_size=int(grads.shape[0]),
        clip_norm=float(clip_norm),
        norm_max=float(norms.max()),
        norm_mean=float(norms.mean()),
        fraction_clipped=float(over.mean()),
        bias=bias,
        bias_bound_batch=float(np.maximum(norms - clip_norm, 0.0).mean()),
        predicted_bias_bound=predicted,
        grad_norm_bound=None if grad_norm_bound is None else float(grad_norm_bound),
    )


class ClipMeter:
    """Collects a :class:`ClipMeasurement` every ``every`` steps (0 disables the meter)."""

    def __init__(self, clip_norm: float, grad_norm_bound: float | None = None, every: int = 1):
        self.clip_norm = float(clip_norm)
        self.grad_norm_bound = grad_norm_bound
        self.every = int(every)
        self.history: list[ClipMeasurement] = []

    def due(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def observe(self, step: int, per_example_grads: np.ndarray) -> ClipMeasurement:
        record = measure_clipping(per_example_grads, self.clip_norm, self.grad_norm_bound, step)
        self.history.append(record)
        return record

    def summary(self) -> dict:
        """Maxima over the history (None when nothing was measured)."""
        def peak(name):
            values = [getattr(r, name) for r in self.history if getattr(r, name) is not None]
            return max(values) if values else None

        return {
            "clip_fraction_max": peak("fraction_clipped"),
            "clip_bias_max": peak("bias"),
            "predicted_bias_max": predicted_bias_bound(self.grad_norm_bound, self.clip_norm),
            "max_per_example_norm": peak("norm_max"),
            "n_measurements": len(self.history),
        }


__all__ = ["ClipMeasurement", "ClipMeter", "l2_norms", "measure_clipping", "predicted_bias_bound"]
