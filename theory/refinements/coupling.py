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


def coupled_softmax_bound(scale: float, ranges: Sequence[tuple[float, float]], plain: Sequence[float],
                          coupled: Sequence[float | None], tolerance: float = 1e-2, max_boxes: int = 3000) -> float:
    r"""An upper bound of sup ‖∇_θ ℓ‖ for softmax cross-entropy with per-class couplings (rigorous).

    ∇_θ ℓ = s Σ_c (p_c − 1[c = y]) ∇f_c, so ‖∇_θ ℓ‖ ≤ s Σ_c |p_c(f) − 1[c = y]| e_c(f_c) with
    e_c(f_c) = min(G_c, G̃_c √(1 − ((f_c − m_c)/h_c)²)) (G̃_c the class's coupled bound, when proven). The
    maximum over the label y and the outputs f in their box is taken by branch and bound: on a sub-box p_c
    is increasing in f_c and decreasing in the other outputs, so its extremes sit at two corners, and e_c is
    largest at the point of [a_c, b_c] closest to m_c; the product of those maxima bounds the box. Boxes are
    split on their widest side until the largest upper bound is within ``tolerance`` of the best value
    found, or ``max_boxes`` were split; the largest upper bound left is returned (sound either way).
    """
    import heapq
    import itertools

    k = len(ranges)
    lows = np.array([lo for lo, _ in ranges], dtype=float)
    highs = np.array([hi for _, hi in ranges], dtype=float)
    centre, half = (lows + highs) / 2.0, (highs - lows) / 2.0
    plain_g = np.array(plain, dtype=float)
    has_coupling = np.array([c is not None for c in coupled])
    tilde = np.array([g if c is None else c for g, c in zip(plain, coupled)], dtype=float)

    def envelope(u: np.ndarray) -> np.ndarray:
        """e_c at scaled outputs u_c: G̃_c √(1 − u_c²) capped by G_c where a coupling is proven, else G_c."""
        return np.where(has_coupling, np.minimum(plain_g, tilde * np.sqrt(np.clip(1.0 - u**2, 0.0, 1.0))), plain_g)

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max())
        return e / e.sum()

    def softmax_rows(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def envelope_max(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        nearest = np.clip(centre, a, b)
        return envelope(np.where(half > 0, (nearest - centre) / np.where(half > 0, half, 1.0), 0.0))

    eye = np.eye(k, dtype=bool)

    def upper(a: np.ndarray, b: np.ndarray, y: int) -> float:
        # row c: f_c at one end, the others at the opposite ends — the extremes of p_c on the box
        lowest = np.diag(softmax_rows(scale * np.where(eye, a, b)))   # p_c smallest: f_c low, others high
        highest = np.diag(softmax_rows(scale * np.where(eye, b, a)))  # p_c largest
        reach = np.where(np.arange(k) == y, 1.0 - lowest, highest)
        return scale * float(np.sum(reach * envelope_max(a, b))) * (1.0 + 1e-12)

    def value(f: np.ndarray, y: int) -> float:
        p = softmax(scale * f)
        e = envelope(np.where(half > 0, (f - centre) / np.where(half > 0, half, 1.0), 0.0))
        return scale * float(np.sum(np.abs(p - np.eye(k)[y]) * e))

    best = 0.0
    heap = []  # (−upper bound, a counter that breaks ties, label, box)
    order = itertools.count()
    for y in range(k):
        heapq.heappush(heap, (-upper(lows, highs, y), next(order), y, lows, highs))
        best = max(best, value(centre, y))
    splits = 0
    while heap and splits < max_boxes:
        bound, _, y, a, b = heapq.heappop(heap)
        if -bound <= best * (1.0 + tolerance):
            return max(-bound, best)
        side = int(np.argmax(b - a))
        middle = (a[side] + b[side]) / 2.0
        for lo_side, hi_side in ((a[side], middle), (middle, b[side])):
            a2, b2 = a.copy(), b.copy()
            a2[side], b2[side] = lo_side, hi_side
            best = max(best, value((a2 + b2) / 2.0, y))
            heapq.heappush(heap, (-upper(a2, b2, y), next(order), y, a2, b2))
        splits += 1
    return max(best, -heap[0][0]) if heap else best


__all__ = ["CELLS", "coupled_factor", "coupled_loss_bound", "coupled_softmax_bound", "loss_derivatives"]
