r"""Placement of an ansatz on a device's qubits (step 2 of :mod:`privqml.theory.devices`).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import cirq

from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.theory.devices.calibration import cirq_google
from privqml.theory.devices.compilation import _target_gateset


def couplers(properties: "cirq_google.GoogleNoiseProperties", gateset: str = "sqrt_iswap") -> dict:
    """{frozenset({a, b}): Pauli error per cycle} of the pairs with a calibrated two-qubit gate of ``gateset``."""
    _, two_qubit_type = _target_gateset(gateset)
    on_device = set(properties.qubits)
    out = {}
    for table in (properties.gate_pauli_errors, properties.fsim_errors):
        for op_id in table:
            pair = frozenset(op_id.qubits)
            if len(op_id.qubits) == 2 and op_id.gate_type is two_qubit_type and pair <= on_device:
                out.setdefault(pair, float(properties.gate_pauli_errors.get(op_id, 0.0)))
    return out


def _qubit_costs(properties) -> dict:
    """Single-qubit gate Pauli error + mean readout error, per device qubit."""
    costs = {}
    for q in properties.qubits:
        gate_error = properties.gate_pauli_errors.get(cirq.OpIdentifier(cirq.PhasedXZGate, q), 0.0)
        readout = properties.readout_errors.get(q, (0.0, 0.0))
        costs[q] = float(gate_error) + 0.5 * float(sum(readout))
    return costs


def _search_graph(n_qubits: int, pairs) -> tuple[list[int], dict, set]:
    """The BFS order of the ansatz qubits over the required pairs plus links chaining their components."""
    adjacency = {i: set() for i in range(n_qubits)}
    for i, j in pairs:
        adjacency[i].add(j)
        adjacency[j].add(i)
    links, seen, previous = set(), set(), None
    for root in range(n_qubits):
        if root in seen:
            continue
        if previous is not None:  # keep the chosen set connected: the next component sits next to the last
            adjacency[previous].add(root)
            adjacency[root].add(previous)
            links.add(frozenset((previous, root)))
        stack = [root]
        while stack:
            v = stack.pop()
            if v not in seen:
                seen.add(v)
                stack.extend(adjacency[v])
        previous = root
    order, queue = [], [0]
    while queue:
        v = queue.pop(0)
        if v not in order:
            order.append(v)
            queue.extend(sorted(adjacency[v] - set(order)))
    return order, adjacency, links


def _check_explicit(qubits, n_qubits: int, pairs, device_couplers, device_qubits, name: str):
    qubits = tuple(qubits)
    if len(qubits) != n_qubits or len(set(qubits)) != n_qubits:
        raise ConfigError(f"qubits={list(map(str, qubits))} must be {n_qubits} distinct device qubits")
    off = [str(q) for q in qubits if q not in device_qubits]
    if off:
        raise ConfigError(f"qubits {off} are not qubits of {name}; choose among {sorted(map(str, device_qubits))}")
    for i, j in sorted(pairs):
        if frozenset((qubits[i], qubits[j])) not in device_couplers:
            raise ConfigError(f"ansatz qubits {i} and {j} are coupled but {qubits[i]} and {qubits[j]} are not a "
                              f"coupler of {name}; pick coupled qubits (no routing or SWAP insertion is done)")
    return qubits


class _PlacementSearch:
    """Branch and bound over injective maps of the ansatz qubits (in BFS order) onto coupled device qubits."""

    def __init__(self, n_qubits: int, pairs: set, device_couplers: dict, properties, max_nodes: int):
        self.n_qubits, self.couplers, self.max_nodes = n_qubits, device_couplers, max_nodes
        self.device_qubits = sorted(properties.qubits)
        self.neighbours = {q: [] for q in self.device_qubits}
        for pair in device_couplers:
            a, b = sorted(pair)
            self.neighbours[a].append(b)
            self.neighbours[b].append(a)
        self.qubit_cost = _qubit_costs(properties)
        self.order, self.adjacency, self.links = _search_graph(n_qubits, pairs)
        self.best_cost, self.best = math.inf, None
        self.nodes = 0
        self.failed, self.failed_depth = None, -1  # the pair that found no coupler, at the deepest level

    def _candidates(self, v: int, mapping: dict, used: set) -> list[tuple[float, cirq.Qid]]:
        """(added cost, device qubit) for ansatz qubit v, cheapest first; couplers to every placed neighbour."""
        placed = [u for u in sorted(self.adjacency[v]) if u in mapping]
        if not placed:
            return sorted((self.qubit_cost[q], q) for q in self.device_qubits if q not in used)
        pool = [q for q in self.neighbours[mapping[placed[0]]] if q not in used
                and all(frozenset((q, mapping[u])) in self.couplers for u in placed)]
        if not pool and len(mapping) > self.failed_depth:
            self.failed, self.failed_depth = (min(v, placed[0]), max(v, placed[0])), len(mapping)
        required = [u for u in placed if frozenset((u, v)) not in self.links]
        return sorted((self.qubit_cost[q] + sum(self.couplers[frozenset((q, mapping[u]))] for u in required), q)
                      for q in pool)

    def extend(self, mapping: dict, used: set, cost: float) -> None:
        if cost >= self.best_cost or self.nodes >= self.max_nodes:
            return
        if len(mapping) == self.n_qubits:
            self.best_cost, self.best = cost, dict(mapping)
            return
        v = self.order[len(mapping)]
        for step, q in self._candidates(v, mapping, used):
            self.nodes += 1
            mapping[v] = q
            used.add(q)
            self.extend(mapping, used, cost + step)
            del mapping[v]
            used.discard(q)


def place(
    n_qubits: int,
    properties: "cirq_google.GoogleNoiseProperties",
    *,
    pairs: Sequence[tuple[int, int]] = (),
    gateset: str = "sqrt_iswap",
    qubits: Optional[Sequence[cirq.Qid]] = None,
    max_nodes: int = 200_000,
    name: str = "the device",
) -> tuple[cirq.Qid, ...]:
    """Device qubits (index i for ansatz qubit i) for ``n_qubits`` qubits that couple ``pairs``.

    Every pair (i, j) of ``pairs`` lands on a coupler of ``gateset``, and the chosen qubits are connected
    (components of the pair graph are chained by couplers too; with no pairs the qubits form a line). Among
    such placements the one with the least cost Σ_i c(φ(i)) + Σ_pairs p₂(φ(i), φ(j)) is taken, c = single-
    qubit Pauli error + mean readout error, p₂ = the coupler's Pauli error per cycle: an exhaustive branch
    and bound in a fixed order (cheapest candidates first, ties by qubit order) that stops after
    ``max_nodes`` partial placements with the best found so far — deterministic either way.

    Routing is out of scope: when the pair graph does not embed in the coupler graph (a triangle on a
    square grid), this refuses, naming the pair. ``qubits`` (explicit device qubits) is checked instead.
    """
    device_couplers = couplers(properties, gateset)
    pairs = {tuple(sorted(p)) for p in pairs}
    if qubits is not None:
        return _check_explicit(qubits, n_qubits, pairs, device_couplers, set(properties.qubits), name)
    if not 1 <= n_qubits <= len(properties.qubits):
        raise ConfigError(f"n_qubits={n_qubits} does not fit on {name} ({len(properties.qubits)} qubits)")
    search = _PlacementSearch(n_qubits, pairs, device_couplers, properties, max_nodes)
    search.extend({}, set(), 0.0)
    if search.best is None:
        where = f"ansatz qubits {search.failed[0]} and {search.failed[1]}" if search.failed else "the ansatz qubits"
        reason = "no placement exists" if search.nodes < max_nodes else f"none found in {max_nodes} search steps"
        raise ConfigError(f"cannot put {where} on a coupler of {name} ({reason}: the coupling graph does not "
                          "embed in the device's; no routing or SWAP insertion is done) - change the "
                          "entangling pattern or pass qubits=")
    return tuple(search.best[i] for i in range(n_qubits))


def interaction_pairs(ansatz: Ansatz) -> set[tuple[int, int]]:
    """Index pairs (i < j, in ``ansatz.qubits`` order) acted on together by a gate (every pair of a wider gate)."""
    index = {q: i for i, q in enumerate(ansatz.qubits)}
    pairs = set()
    for op in ansatz.circuit.all_operations():
        ids = sorted(index[q] for q in op.qubits)
        pairs |= {(a, b) for k, a in enumerate(ids) for b in ids[k + 1:]}
    return pairs


__all__ = ["couplers", "interaction_pairs", "place"]
