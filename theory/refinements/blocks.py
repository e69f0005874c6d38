r"""Refinement ``blocks``: single-qubit runs between entangling operations, bounded as one rotation each.

On one qubit, a *run* is a maximal sequence of single-qubit unitaries (and depolarising channels,
which commute with them) between two operations on several qubits (or other channels), in the
circuit without the slots the whole-observable commutation dropped. Along a unit direction u of
the weights that live only in one run, every generator carried to the end of the run gives

    D_u f = i Tr[[G̃(u), Õ] ρ],   G̃(u) = (g(u) · σ)/2,   |D_u f| ≤ 2 ‖G̃‖ ‖Õ − c‖ ≤ h |g(u)|,

and |g(u)| ≤ σ_run ‖u‖ with σ_run = √λ_max(|W|ᵀ Ĝ |W|), the Gram bound of
:class:`privqml.theory.refinements.prefix.AxisChain`. Runs touch disjoint weights, so these
blocks add in quadrature: ‖∇_M f‖ ≤ h (Σ_runs σ_run²)^{1/2}, per Pauli term with h = 1. For a
PhasedXZ gate (Z, X, Z slots) σ = π√5 where the slot-by-slot (Bernstein) form gives π√6.
"""

from __future__ import annotations

import dataclasses
import functools

import cirq
import numpy as np

from privqml.theory.entries import SlotEntries
from privqml.theory.refinements.prefix import AxisChain, chain_sigmas, weights_within_one_group
from privqml.theory.slots import SlotTable


@dataclasses.dataclass(frozen=True)
class Runs:
    """Every single-qubit run of a circuit: (qubit index, slots, Gram bound Ĝ) per run."""

    runs: tuple[tuple[int, tuple[int, ...], np.ndarray], ...]

    @functools.cached_property
    def slot_run(self) -> dict[int, int]:
        return {k: i for i, (_, slots, _) in enumerate(self.runs) for k in slots}


@functools.lru_cache(maxsize=512)
def single_qubit_runs(table: SlotTable, qubits: tuple[cirq.Qid, ...], removed: frozenset[int]) -> Runs:
    """The runs of ``table``'s circuit without the slots ``removed`` (see the module docstring)."""
    canonical = table.canonical
    chains: dict = {q: AxisChain() for q in qubits}
    index = {q: i for i, q in enumerate(qubits)}
    runs = []

    def close(q) -> None:
        if chains[q].slots:
            runs.append((index[q], tuple(chains[q].slots), chains[q].gram()))
        chains[q] = AxisChain()

    for op, slot in zip(canonical.operations, canonical.slot_of):
        if slot in removed:
            continue
        if len(op.qubits) != 1:
            for q in op.qubits:
                close(q)
            continue
        (q,) = op.qubits
        if not chains[q].add(op, slot, table.rows[slot].spread if slot >= 0 else 0.0):
            close(q)  # the operation ends the run and belongs to none
    for q in qubits:
        close(q)
    return Runs(tuple(runs))


def run_weights(runs: Runs, entries: SlotEntries, live_mask: np.ndarray, exclude: frozenset[int]) -> frozenset[int]:
    """The weights (not in ``exclude``) whose every live entry lies in one same run, with finite suprema."""
    return weights_within_one_group(runs.slot_run, entries, live_mask, exclude)


def runs_sigma(runs: Runs, entries: SlotEntries, live_mask: np.ndarray, weights: frozenset[int]) -> float:
    """(Σ_runs σ_run²)^{1/2} over ``weights`` for the live slots ``live_mask`` (per unit half-range)."""
    live_entries = live_mask[entries.slot]
    sigmas = chain_sigmas([(slots, gram) for _, slots, gram in runs.runs], entries, live_entries, weights)
    return float(np.sqrt(np.sum(sigmas**2)))


__all__ = ["Runs", "run_weights", "runs_sigma", "single_qubit_runs"]
