r"""The directional form of the total bound: max over unit directions u of Σ_k Ω_k |r_k · u|.

Along a unit direction u of weight space, the chain rule and Bernstein's inequality give
|D_u f| ≤ h Σ_{k∈L} Ω_k |r_k · u| with r_k = ∇_θ t_k, so

    ‖∇_θ f‖₂ ≤ h · max_{‖u‖=1} Σ_{k∈L} Ω_k |r_k · u|.

Splitting the slots into *exact* rows (r_k constant and involving at least two weights) and the
rest, which enter entrywise through m_j = Σ_k Ω_k sup|∂t_k/∂θ_j|, the maximum is at most

    max_σ ‖ |Σ_k σ_k Ω_k r_k| + m ‖₂,    σ ∈ {±1}^{exact rows},

(for a fixed u, Σ_k Ω_k |r_k·u| = max_σ (Σ_k σ_k Ω_k r_k)·u, and then Cauchy–Schwarz). The exact
rows split into connected components by shared weights; components touch disjoint weights, so
the squared norm adds over components and each is maximised on its own, by enumerating its
2^{rows−1} sign vectors (σ and −σ give the same value) when it has at most ``MAX_SIGN_ROWS``
rows, else relaxed entrywise (m + Σ_k |Ω_k r_k|). With every row relaxed this is the coordinate
form (Σ_j B_j²)^{1/2}; it is never larger, and smaller when a weight is shared between slots
with different signs.
"""

from __future__ import annotations

import math

import numpy as np

from privqml.theory.entries import SlotEntries

MAX_SIGN_ROWS = 12

#: An exact row: (weight indices, signed values Ω_k ∂t_k/∂θ_j), one element per weight of the row.
ExactRow = tuple[np.ndarray, np.ndarray]


def _split_rows(entries: SlotEntries, live_mask: np.ndarray, n_weights: int) -> tuple[list[ExactRow], np.ndarray]:
    """(exact rows, m): the live slots whose derivatives are all constant and involve several
    weights, and m_j = Σ Ω_k sup|∂t_k/∂θ_j| over the other live slots."""
    relaxed = np.zeros(n_weights)
    exact_rows: list[ExactRow] = []
    live = np.nonzero(live_mask[entries.slot])[0]
    if not len(live):
        return exact_rows, relaxed
    # group the live entries by slot once, vectorised (a per-slot scan over all entries is O(gates²))
    order = live[np.argsort(entries.slot[live], kind="stable")]
    starts = np.flatnonzero(np.r_[True, np.diff(entries.slot[order]) != 0])
    counts = np.diff(np.r_[starts, len(order)])
    all_constant = np.minimum.reduceat(entries.constant[order].astype(np.int8), starts).astype(bool)
    exact_group = all_constant & (counts >= 2)
    in_exact = np.repeat(exact_group, counts)
    relaxed_entries = order[~in_exact]
    np.add.at(relaxed, entries.weight[relaxed_entries], entries.spread[relaxed_entries] * entries.sup[relaxed_entries])
    for start, count in zip(starts[exact_group], counts[exact_group]):
        rows = order[start:start + count]
        exact_rows.append((entries.weight[rows], entries.spread[rows] * entries.value[rows]))
    return exact_rows, relaxed


def _components(rows: list[ExactRow]) -> list[list[int]]:
    """The rows grouped into connected components by shared weights (union–find)."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}
    for i, (weights, _) in enumerate(rows):
        for j in weights:
            if j in owner:
                parent[find(i)] = find(owner[j])
            else:
                owner[j] = i
    components: dict[int, list[int]] = {}
    for i in range(len(rows)):
        components.setdefault(find(i), []).append(i)
    return list(components.values())


def _component_max_sq(rows: list[ExactRow], members: list[int], relaxed: np.ndarray) -> tuple[float, float]:
    """(max_σ ‖ |Σ σ_k Ω_k r_k| + m ‖² on the component's weights, ‖m‖² on them)."""
    support = sorted({int(j) for i in members for j in rows[i][0]})
    local = {j: n for n, j in enumerate(support)}
    dense = np.zeros((len(members), len(support)))
    for r, i in enumerate(members):
        for j, value in zip(*rows[i]):
            dense[r, local[int(j)]] += value
    m_local = relaxed[support]
    base_sq = float(np.sum(m_local**2))
    if len(members) > MAX_SIGN_ROWS:
        return float(np.sum((m_local + np.abs(dense).sum(axis=0)) ** 2)), base_sq
    signs = np.array(
        [[1.0] + [1.0 if (s >> b) & 1 else -1.0 for b in range(len(members) - 1)] for s in range(2 ** (len(members) - 1))]
    )
    combos = np.abs(signs @ dense) + m_local[None, :]
    return float(np.max(np.sum(combos**2, axis=1))), base_sq


def directional_form(entries: SlotEntries, live_mask: np.ndarray, n_weights: int) -> float:
    """max_{‖u‖=1} Σ_{k∈L} Ω_k |r_k·u| for the live slots L, input-dependent rows relaxed
    entrywise (see the module docstring); per unit of the weights, before the factor h."""
    rows, relaxed = _split_rows(entries, live_mask, n_weights)
    if not np.all(np.isfinite(relaxed)):
        return math.inf
    total_sq = float(np.sum(relaxed**2))
    for members in _components(rows):
        best_sq, base_sq = _component_max_sq(rows, members, relaxed)
        total_sq += best_sq - base_sq
    return math.sqrt(max(total_sq, 0.0))


__all__ = ["MAX_SIGN_ROWS", "directional_form"]
