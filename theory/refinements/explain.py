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
- ``noise``: every slot whose derivative a channel scales, the factor and the channels.
"""

from __future__ import annotations

import numpy as np

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
                             "from negligible (non-zero) terms of fixed gates' images reaches it"}
                     for k in np.nonzero((factors > 0) & (factors < 1))[0] if refiner.table.rows[int(k)].weight_derivatives]
        entry = {
            "observable": str(observable),
            "stages": [{"stage": s, "bound": v} for s, v in refiner.stage_totals(c)],
            "pruned": pruned,
            "near_zero": near_zero,
        }
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
            entry["noise"] = [{"slot": int(k), "gate": _gate(refiner, int(k)), "factor": float(noise.factors[k]),
                               "channels": noise.reasons.get(int(k), "")}
                              for k in np.nonzero(noise.factors < 1.0)[0]
                              if live.union[k] and refiner.table.rows[int(k)].weight_derivatives]
        observables.append(entry)
    return {"refinements": list(refinements), "observables": observables}


__all__ = ["explain"]
