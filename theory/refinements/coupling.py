r"""Refinement of the loss bound: |∂ℓ/∂f| and ‖∇_θ f‖ bounded at the same point.

For a binary loss, ‖∇_θ ℓ‖ = |∂ℓ/∂f| · ‖∇_θ f‖. The product bound takes each factor's supremum
on its own — sup_f |∂ℓ/∂f| at f = o_max, say, and G where the gradient is largest — but the
gradient cannot be large where f sits at the edge of its range. Along any line θ + s u of
weight space, f is a trigonometric polynomial (every slot exponent linear in the weights) with
values in [c − h, c + h] and exponential type at most G/h, so the Bernstein–Szegő inequality
(Duffin–Schaeffer for real frequencies) gives f′(s)² + (G/h)² (f − c)² ≤ G², that is

    ‖∇_θ f‖ ≤ G · √(1 − ((f − c)/h)²)          (Bhatia–Davis gives the same for the prefix part)

(:meth:`privqml.theory.bounds.GradientBound.coupled_bound`). Hence

    ‖∇_θ ℓ‖ ≤ G · max_{y, f ∈ [o_min, o_max]} |∂ℓ/∂f (f, y)| · √(1 − ((f − c)/h)²).

The maximum is taken rigorously on a grid of cells: on each cell [a, b] |∂ℓ/∂f| is monotone or
convex in f for every loss here (so its maximum is at an end point) and √(1 − u²) is largest at
the point of the cell closest to the centre; the product of the two maxima bounds the cell. For
MSE with s = 1 and f ∈ [−1, 1] this gives 2.598… G (exactly 3√3/2 · G at f = 1/2) instead of 4 G.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

CELLS = 16384


def coupled_factor(derivatives: Sequence[Callable[[np.ndarray], np.ndarray]], lo: float, hi: float,
                   cells: int = CELLS) -> float:
    """An upper bound of max_{y, f ∈ [lo, hi]} |ℓ′_y(f)| · √(1 − ((f − c)/h)²), c = (lo + hi)/2, h = (hi − lo)/2.

    Each ``derivatives[y]`` maps an array of f to |∂ℓ/∂f| and must be monotone or convex in f.
    """
    h, c = (hi - lo) / 2.0, (hi + lo) / 2.0
    if h <= 0:
        return 0.0
    edges = np.linspace(lo, hi, cells + 1)
    a, b = edges[:-1], edges[1:]
    nearest = np.clip(c, a, b)
    envelope = np.sqrt(np.clip(1.0 - ((nearest - c) / h) ** 2, 0.0, 1.0))
    best = 0.0
    for derivative in derivatives:
        peak = np.maximum(np.abs(derivative(a)), np.abs(derivative(b)))
        best = max(best, float(np.max(peak * envelope)))
    return best


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def loss_derivatives(loss: str, scale: float, lo: float, hi: float, clamp: float | None):
    """|∂ℓ/∂f| per label as functions of f (None for a loss without a coupled form here)."""
    s = scale
    if loss == "bce_logits":
        return [lambda f: s * _sigmoid(s * f), lambda f: s * (1.0 - _sigmoid(s * f))]
    if loss == "mse":
        return [lambda f: 2.0 * s * np.abs(s * f - 1.0), lambda f: 2.0 * s * np.abs(s * f + 1.0)]
    if loss == "bce_prob" and clamp is not None and hi > lo:
        width = hi - lo
        return [lambda f: 1.0 / (np.maximum((f - lo) / width, clamp) * width),
                lambda f: 1.0 / (np.maximum(1.0 - (f - lo) / width, clamp) * width)]
    return None


def coupled_loss_bound(loss: str, scale: float, lo: float, hi: float, clamp: float | None,
                       coupled_gradient: float | None) -> float | None:
    """G_coupled · max |∂ℓ/∂f| √(1 − ((f − c)/h)²), or None when the loss or the gradient bound has no
    coupled form."""
    if coupled_gradient is None or not math.isfinite(coupled_gradient):
        return None
    derivatives = loss_derivatives(loss, scale, lo, hi, clamp)
    if derivatives is None:
        return None
    return coupled_gradient * coupled_factor(derivatives, lo, hi)


__all__ = ["CELLS", "coupled_factor", "coupled_loss_bound", "loss_derivatives"]
