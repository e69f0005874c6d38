r"""What each refinement did to one ansatz's bound, in words: which slots were pruned or grouped, and why.

:func:`explain` reads a :class:`~privqml.theory.refinements.stages.Refiner` and returns, per
observable, the bound after each stage and the gates behind each change:

- ``pruned``: every slot with a provably zero derivative and the reason — outside the backward
  light cone of every Pauli term, commuting with every Heisenberg-evolved term, or commuting only
  with the *whole* evolved observable (``commutation``; consecutive slots that form one rotation,
  such as FSim's XX and YY, are listed as one group);
- ``near_zero``: every slot that is not pruned only because of a negligible remainder carried from
  fixed gates' Heisenberg images, with its factor φ_k (|∂f/∂t_k| ≤ φ_k Ω_k h);
- ``prefix``: the groups of qubits whose weights act on a product state, their weights and σ;
- ``suffix``: per qubit, the weights after its last multi-qubit operation;
- ``terms``: the Pauli terms of the observable, each with its coefficient and the weights its gradient
  depends on (per-term gradients on disjoint weights add in quadrature);
- ``blocks``: the single-qubit runs between entangling operations whose weights were bounded as one
  rotation each, with the run's qubit, slots and weights;
- ``noise``: every slot whose derivative a channel scales, the factor and the channels;
- ``changed``: every stage that lowered the bound (stage, bound before, bound after) — the refinements
  that set it, named (the record adds ``split`` when the observable's split set it,
  :meth:`privqml.theory.bound_record.GradientBound.explain`).
"""

from __future__ import annotations

import numpy as np

from privqml.theory.refinements.blocks import run_weights, single_qubit_runs
from privqml.theory.refinements.suffix import suffix_weights


def _gate(refiner, slot: int) -> str:
    row = refiner.table.rows[slot]
    return f"slot {slot}: {row.slot.operation}"


def explain(refiner, refinements: tuple[str, ...]) -> dict:
    """The explanation of ``refiner``'s bound with ``refinements`` on (see the module docstring)."""
    names = [w.name for w in refiner.ansatz.weights]
    observables = []
    for c, observable in enumerate(refiner.ansatz.observables):
        base = refiner.live_sets[c]
        live = refiner.live(c, "commutation" in refinements)
        pruned = []
        for k in range(refiner.table.n_slots):
            if base.union[k]:
                if not live.union[k]:
                    pruned.append({"slot": k, "gate": _gate(refiner, k), "refinement": "commutation",
                                   "why": "commutes with the whole Heisenberg-evolved observable (not with each "
                                          "term alone)"})
                continue
            if not refiner.table.rows[k].weight_derivatives:
                continue
            why = ("commutes with every Heisenberg-evolved Pauli term" if k in base.commuting
                   else "outside the backward light cone of every Pauli term")
            pruned.append({"slot": k, "gate": _gate(refiner, k), "refinement": "base pruning", "why": why})
        factors = np.asarray(live.union_weights(), dtype=float)
        near_zero = [{"slot": int(k), "gate": _gate(refiner, int(k)), "factor": float(factors[k]),
                      "why": "commutes with every tracked Heisenberg-evolved Pauli string; only the remainder carried "
                             "from small (non-zero) terms of fixed gates' and channels' images — rounding, a coherent "
                             "error, relaxation — reaches it: bounded by that remainder's norm ε"}
                     for k in np.nonzero((factors > 0) & (factors < 1))[0] if refiner.table.rows[int(k)].weight_derivatives]
        stages = list(refiner.stage_totals(c))
        entry = {
            "observable": str(observable),
            "stages": [{"stage": s, "bound": v} for s, v in stages],
            "changed": [{"stage": after[0], "from": before[1], "to": after[1]}
                        for before, after in zip(stages, stages[1:]) if after[1] < before[1] * (1 - 1e-12)],
            "pruned": pruned,
            "near_zero": near_zero,
        }
        if "terms" in refinements and len(live.terms) > 1:
            entry["terms"] = [{"term": str(t), "coefficient": coef,
                               "weights": sorted({names[int(j)] for j in refiner.entries.weight[m[refiner.entries.slot]]}),
                               "why": "its gradient is bounded on its own; terms on disjoint weights add in quadrature"}
                              for t, (coef, m) in zip([t for t in observable if len(t)], live.terms)]
        if "blocks" in refinements:
            removed = refiner.removed(c, "commutation" in refinements)
            runs = single_qubit_runs(refiner.table, tuple(refiner.ansatz.qubits), removed)
            inside = run_weights(runs, refiner.entries, live.union, frozenset())
            blocks = []
            for qubit, slots, _ in runs.runs:
                ws = sorted({names[int(refiner.entries.weight[e])] for e in range(len(refiner.entries))
                             if int(refiner.entries.slot[e]) in slots and int(refiner.entries.weight[e]) in inside})
                if ws:
                    blocks.append({"qubit": int(qubit), "slots": sorted(int(k) for k in slots), "weights": ws,
                                   "why": "a single-qubit run between entangling operations: bounded as one rotation "
                                          "(Gram bound), runs add in quadrature"})
            entry["blocks"] = blocks
        if "prefix" in refinements:
            bound = refiner.prefix(live.union, refiner.removed(c, "commutation" in refinements))
            entry["prefix"] = [{"qubits": list(qs), "weights": [names[j] for j in ws], "sigma": sigma,
                                "why": "act on a product state (before the first multi-qubit gate): block ≤ h·σ "
                                       "(quantum Fisher information)"}
                               for qs, ws, sigma in bound.groups]
        if "suffix" in refinements:
            structure = refiner.suffix_structure(c)
            prefix_weights = refiner.prefix(live.union, refiner.removed(c, "commutation" in refinements)).weights
            weights = suffix_weights(structure, refiner.entries, live.union, prefix_weights)
            slot_qubit = structure.slot_qubit
            by_qubit: dict[int, set] = {}
            for e in np.nonzero(live.union[refiner.entries.slot])[0]:
                j = int(refiner.entries.weight[e])
                if j in weights:
                    by_qubit.setdefault(slot_qubit[int(refiner.entries.slot[e])], set()).add(names[j])
            entry["suffix"] = [{"qubit": q, "weights": sorted(ws),
                                "why": "act after the last multi-qubit gate: they turn the measured Pauli factor "
                                       "(operator-norm bound)"}
                               for q, ws in sorted(by_qubit.items())]
        if "noise" in refinements:
            noise = refiner.noise
            entries = refiner.entries
            entry["noise"] = [{"slot": int(k), "gate": _gate(refiner, int(k)), "factor": float(noise.factors[k]),
                               "weights": sorted({names[int(j)] for j in entries.weight[entries.slot == k]}),
                               "channels": noise.reasons.get(int(k), "")}
                              for k in np.nonzero(noise.factors < 1.0)[0]
                              if live.union[k] and refiner.table.rows[int(k)].weight_derivatives]
        observables.append(entry)
    return {"refinements": list(refinements), "observables": observables}


__all__ = ["explain"]
