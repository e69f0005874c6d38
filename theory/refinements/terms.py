r"""Refinement ``terms``: per-term gradients on disjoint weights add in quadrature.

For O = c_0 + Σ_t c_t P_t, ∇f = Σ_t c_t g_t with g_t = ∇_θ⟨P_t⟩, and each g_t is zero outside the
weights S_t that its live slots touch. With ‖g_t‖ ≤ b_t,

    ‖∇f‖² = Σ_{t,s} c_t c_s g_t · g_s ≤ Σ_{t,s : S_t ∩ S_s ≠ ∅} |c_t| |c_s| b_t b_s,

since g_t · g_s = 0 when S_t and S_s are disjoint. With every pair overlapping this is
(Σ_t |c_t| b_t)², the triangle inequality; for Σ_q Z_q after one layer of single-qubit rotations
it is Σ_q b_q², the exact value.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def quadrature_total(values: Sequence[float], supports: Sequence[frozenset[int]]) -> float:
    """(Σ_{t,s : S_t ∩ S_s ≠ ∅} v_t v_s)^{1/2} for v_t = |c_t| b_t ≥ 0 and the weight sets S_t."""
    v = np.asarray(values, dtype=float)
    if not len(v):
        return 0.0
    if not np.all(np.isfinite(v)):
        return math.inf
    overlap = np.array([[bool(a & b) or i == j for j, b in enumerate(supports)] for i, a in enumerate(supports)])
    return float(math.sqrt(max(float(v @ overlap @ v), 0.0)))


__all__ = ["quadrature_total"]
