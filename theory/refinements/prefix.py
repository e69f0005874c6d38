r"""Refinement ``prefix``: weights that act on a product state, bounded by the quantum Fisher information.

Before its first multi-qubit operation, a qubit evolves on its own: the *prefix* of qubit q is
the run of single-qubit operations (slots, fixed gates, and depolarising channels) from the
start of the circuit to q's first operation on two or more qubits, or its first channel that is
not a mixture of Paulis (amplitude damping) after a weighted slot. Such a channel *before* q's first
weighted slot only prepares q's initial state, which may be mixed: the prefix starts after it (the
uncertainty relation below holds for mixed states, and the variances of single-qubit generators are
bounded for every state).
After every prefix the state is a product ρ = ⊗_q ρ_q. Let P be the *prefix weights*: the
weights whose every live slot lies in some prefix. Along a unit direction u of the prefix
weights, with the rest of the circuit and the observable folded into Õ (a unital positive map of
O, so its spectrum stays in [o_min, o_max]):

    D_u f = i Tr[[G(u), Õ] ρ],   G(u) = Σ_q G_q(u),   G_q(u) = Σ_{k ∈ prefix(q)} (Σ_j u_j ∂t_k/∂θ_j) H̃_k,

where H̃_k is slot k's generator carried to the end of its prefix (a depolarising channel
commutes with every single-qubit unitary, ρ_q = φ U|0⟩⟨0|U† + (1 − φ) I/2, so ∂ρ_q = −i[G_q, ρ_q]
still holds; a Pauli channel makes f the same mixture of circuits with a Pauli inserted, and the
bound below holds for each). The Robertson uncertainty relation gives |D_u f| ≤ 2 √Var_ρ(G) √Var_ρ(Õ); the
variance of G adds over the qubits of a product state, Var(Õ) ≤ h² (and ≤ (o_max − f)(f − o_min),
Bhatia–Davis), and a single-qubit generator (Ω_k/2) a_k·σ, |a_k| = 1, has Var ≤ Ω_k²/4 |a_k|².
So, with v_j = Σ_k Ω_k (∂t_k/∂θ_j) a_k (3-vectors) and V_q = [v_j]_{j on q},

    |D_u f| ≤ h · (Σ_q ‖V_q u_q‖²)^{1/2} ≤ h · max_group √λ_max(M),   ‖∇_P f‖₂ ≤ that,

taking sup over θ and x entry by entry: ‖Σ_k c_k a_k‖² ≤ Σ_{k,l} |c_k||c_l| Ĝ_kl with |c_k| ≤
(|W| |u|)_k, |W|_kj = Ω_k sup|∂t_k/∂θ_j|, and Ĝ_kl an upper bound of |a_k · a_l|: 1 on the
diagonal; |n_l · R n_k| (n the slots' own axes, R the fixed gates between them) when only fixed
gates or depolarising channels separate slots k < l on the qubit, which makes a_k · a_l the
same for every θ and x; else 1. M = Σ_q |W_q|ᵀ Ĝ_q |W_q| over the prefix weights (the qubits
that share a weight form one group). For an Euler pair ry(θ) rz(φ) the axes are orthogonal and
σ_max = 1 exactly; reupload's ry(w x + b) rz(φ) gives √(1 + sup x²).

*Depolarising channels in a prefix* commute with its single-qubit unitaries and Pauli insertions, so they
move to its end: ρ_q = φ_q σ_q + (1 − φ_q) I/2 with φ_q the product of their factors 1 − 4p/3. Then f is
the mixture, over the subsets S of qubits that keep σ_q (each with probability φ_q, independently), of
the circuits with I/2 on the others, whose weights there have no effect: |D_u f| ≤ h E_S (Σ_{q∈S}
‖V_q u_q‖²)^{1/2} ≤ h (Σ_q φ_q ‖V_q u_q‖²)^{1/2} (Jensen), i.e. M = Σ_q φ_q |W_q|ᵀ Ĝ_q |W_q|.

*Channels that commute with Z rotations* (amplitude and phase damping, depolarising, dephasing — the thermal
channels of a device; :func:`z_covariant` decides it exactly) need not end a prefix after a weighted slot. Such a
channel, and everything after it on the qubit, *waits* at the prefix's end; a later slot whose axis is ±Z
commutes with every waiting operation when they all commute with Z rotations, so it moves before them and joins
the prefix (its Gram entry with the previous slot uses the rotations before the waiting block). The waiting
operations are then part of Õ — a unital positive map again — and no depolarising factor is taken from them. Any
other slot ends the prefix there.

The weights outside P keep the base bound B_rest; ∇_P f and ∇_rest f are disjoint blocks of the
gradient, so ‖∇f‖² ≤ (h·σ)² + B_rest².
"""

from __future__ import annotations

import dataclasses
import functools

import cirq
import numpy as np

from privqml.theory.entries import SlotEntries
from privqml.theory.refinements.channels import depolarising_factor, pauli_support
from privqml.theory.pauli import generator_terms, heisenberg_exact
from privqml.theory.slots import SlotTable

_SIGMA = (
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
_AXIS = {1: 0, 2: 1, 3: 2}
#: the Bloch rotation of conjugation by I, X, Y, Z
_PAULI_TURNS = (np.eye(3), np.diag([1.0, -1.0, -1.0]), np.diag([-1.0, 1.0, -1.0]), np.diag([-1.0, -1.0, 1.0]))
_MAX_ROTATIONS = 64


@dataclasses.dataclass(frozen=True)
class QubitPrefix:
    """The slots in one qubit's prefix and the bound Ĝ on the Gram matrix of their carried axes.

    Attributes:
        qubit: the qubit's index in the ansatz's qubit order.
        slots: the prefix's slots in circuit order (weight slots and input-only slots alike).
        gram: [len(slots), len(slots)] Ĝ_kl ≥ |a_k · a_l| for every θ and x.
        depolarising: φ_q, the product of the factors (1 − 4p/3) of the depolarising channels in the prefix
            (after its last state-preparing channel); 1 without any.
    """

    qubit: int
    slots: tuple[int, ...]
    gram: np.ndarray
    depolarising: float = 1.0


@dataclasses.dataclass(frozen=True)
class PrefixStructure:
    """Every qubit's prefix (see the module docstring)."""

    qubits: tuple[QubitPrefix, ...]

    @functools.cached_property
    def slot_qubit(self) -> dict[int, int]:
        return {k: p.qubit for p in self.qubits for k in p.slots}


@dataclasses.dataclass(frozen=True)
class PrefixBound:
    """The prefix part of one bound.

    Attributes:
        weights: the prefix weights P (indices), for the live slots given.
        sigma: √λ_max(M) per unit half-range: ‖∇_P f‖₂ ≤ h · sigma.
        groups: (qubits, weights, √λ_max) per group of qubits that share weights.
    """

    weights: frozenset[int]
    sigma: float
    groups: tuple[tuple[tuple[int, ...], tuple[int, ...], float], ...]


def _rotation(unitary: np.ndarray) -> np.ndarray:
    """R_ab = ½ Tr[σ_a U σ_b U†]: how U turns a Bloch axis."""
    return np.array([[0.5 * np.real(np.trace(a @ unitary @ b @ unitary.conj().T)) for b in _SIGMA] for a in _SIGMA])


def _axis(op: cirq.Operation) -> np.ndarray | None:
    """The unit Bloch axis of a single-qubit slot's generator (None when it has none)."""
    vector = np.zeros(3)
    for labels, coefficient in generator_terms(op):
        vector[_AXIS[labels[0]]] += coefficient
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else None


class AxisChain:
    """Builds the Gram bound Ĝ of the slots met along one qubit's run of single-qubit operations.

    :meth:`add` takes the operations in circuit order; Ĝ_kl = |n_l · R n_k| for consecutive slots
    k, l separated only by fixed unitaries (R their Bloch rotation) or depolarising channels, 1 for
    any other pair. The same Ĝ bounds |a_k · a_l| for axes carried forward to the end of the run
    and for axes carried backward to its start. A Pauli channel (a mixture of I, X, Y, Z) does not
    end the run: f is the same mixture of the circuits with each Pauli inserted, every one of which
    obeys the bound when the pair across the channel takes the largest |n_l · R n_k| over the
    rotations R the inserted Paulis can make.
    """

    def __init__(self, defer_covariant: bool = False) -> None:
        #: with ``defer_covariant`` (the prefix only) a channel that would end the run is deferred instead:
        #: it and every operation after it wait at the run's end, and a later slot still joins when its axis is
        #: ±Z and every waiting operation commutes with Z rotations (module docstring). None: nothing waits;
        #: True: all that waits commutes with Z rotations; False: something that waits does not.
        self._defer = defer_covariant
        self._waiting: bool | None = None
        self.slots: list[int] = []
        self._axes: list[np.ndarray] = []
        self._pairs: dict[tuple[int, int], float] = {}
        self._rotations: list[np.ndarray] = [np.eye(3)]  # empty: the next pair is not fixed
        self.depolarising = 1.0  # the product of the depolarising factors met

    def add(self, op: cirq.Operation, slot: int, spread: float) -> bool:
        """Take the next operation; False (and nothing taken) when the run must end before it."""
        if self._waiting is not None:
            if slot < 0:
                self._waiting = self._waiting and z_covariant(op)
                return True
            if not (self._waiting and _is_z_axis(op)):
                return False
            # the slot commutes with everything waiting: it moves before it, the rotations since the last slot stay
        if slot >= 0:
            axis = _axis(op) if cirq.qid_shape(op) == (2,) else None
            if axis is None and spread > 0:
                return False
            axis = np.zeros(3) if axis is None else axis
            if self.slots and self._rotations:
                self._pairs[(len(self.slots) - 1, len(self.slots))] = max(
                    abs(float(axis @ r @ self._axes[-1])) for r in self._rotations)
            self.slots.append(slot)
            self._axes.append(axis)
            self._rotations = [np.eye(3)]
            return True
        if cirq.has_unitary(op):
            turn = _rotation(np.asarray(cirq.unitary(op), dtype=complex))
            self._rotations = [turn @ r for r in self._rotations]
            return True
        factor = depolarising_factor(op)
        if factor is not None:
            if 0.0 <= factor <= 1.0:  # a mixture of the state and I/2 (p > 3/4 is not: no factor taken)
                self.depolarising *= float(factor)
            return True
        support = pauli_support(op)
        if support is None:
            if not self._defer:
                return False
            self._waiting = z_covariant(op)
            return True
        # a random Pauli between: the pair's Gram entry is the largest over the Paulis it may be
        # (only exact duplicates merge: two rotations that differ at all both stay, so the maximum over
        # them is never taken at a neighbour of the rotation that attains it)
        turned = {(_PAULI_TURNS[p] @ r).tobytes(): _PAULI_TURNS[p] @ r for p in support for r in self._rotations}
        self._rotations = list(turned.values()) if len(turned) <= _MAX_ROTATIONS else []
        return True

    def gram(self) -> np.ndarray:
        n = len(self.slots)
        gram = np.ones((n, n))
        for (a, b), value in self._pairs.items():
            gram[a, b] = gram[b, a] = value
        return gram


def _is_z_axis(op: cirq.Operation) -> bool:
    """A single-qubit slot whose generator is a multiple of Z (exactly: :func:`generator_terms` drops only zeros)."""
    return cirq.qid_shape(op) == (2,) and all(labels == (3,) for labels, _ in generator_terms(op))


def z_covariant(op: cirq.Operation) -> bool:
    """True when the fixed single-qubit ``op`` commutes with every Z rotation, decided exactly: a diagonal unitary,
    or a channel whose Heisenberg map sends X, Y into span{X, Y} as a rotation-scaling (a X + b Y, −b X + a Y)
    and Z into span{I, Z} (amplitude and phase damping, depolarising, dephasing)."""
    if cirq.qid_shape(op) != (2,):
        return False
    if cirq.has_unitary(op):
        unitary = np.asarray(cirq.unitary(op))
        return unitary[0, 1] == 0 and unitary[1, 0] == 0
    images = [heisenberg_exact(op, (label,)) for label in (1, 2, 3)]
    if any(image is None for image in images):
        return False
    x, y, z = ({labels[0]: c for labels, c in image} for image in images)
    if set(x) - {1, 2} or set(y) - {1, 2} or set(z) - {0, 3}:
        return False
    return x.get(1, 0) == y.get(2, 0) and x.get(2, 0) == -y.get(1, 0)


def _prepares_state(op: cirq.Operation) -> bool:
    """A channel that ends a prefix (not unitary, not depolarising, not a Pauli mixture: amplitude damping, a
    general Kraus map) — which, before any weighted slot, only prepares the qubit's initial state."""
    return not cirq.has_unitary(op) and depolarising_factor(op) is None and pauli_support(op) is None


@functools.lru_cache(maxsize=512)
def prefix_structure(table: SlotTable, qubits: tuple[cirq.Qid, ...], removed: frozenset[int] = frozenset()) -> PrefixStructure:
    """Every qubit's prefix in ``table``'s canonical circuit without the slots ``removed`` — slots the
    function provably does not depend on for any angle (``qubits``: the ansatz's qubit order)."""
    index = {q: i for i, q in enumerate(qubits)}
    open_ = {q: True for q in qubits}
    weighted = {q: False for q in qubits}
    chains = {q: AxisChain(defer_covariant=True) for q in qubits}
    canonical = table.canonical
    for op, slot in zip(canonical.operations, canonical.slot_of):
        if slot in removed:
            continue
        if len(op.qubits) != 1:
            for q in op.qubits:
                open_[q] = False
            continue
        (q,) = op.qubits
        if not open_.get(q, False):
            continue
        if slot < 0 and not weighted[q] and _prepares_state(op):
            # a channel before the qubit's first weighted slot is part of its (mixed) initial state: the
            # uncertainty relation holds for mixed states, so the prefix starts afresh after it
            chains[q] = AxisChain(defer_covariant=True)
            continue
        if not chains[q].add(op, slot, table.rows[slot].spread if slot >= 0 else 0.0):
            open_[q] = False
        elif slot >= 0 and table.rows[slot].weight_derivatives:
            weighted[q] = True
    return PrefixStructure(tuple(QubitPrefix(index[q], tuple(chains[q].slots), chains[q].gram(), chains[q].depolarising)
                                 for q in qubits))


def chain_sigma(slots: tuple[int, ...], gram: np.ndarray, entries: SlotEntries, live_entries: np.ndarray,
                weights: frozenset[int]) -> float:
    """√λ_max(|W|ᵀ Ĝ |W|) over ``weights`` for one qubit's run: |W|_kj = Ω_k sup|∂t_k/∂θ_j| over the live
    entries of the run's slots."""
    return float(chain_sigmas([(slots, gram)], entries, live_entries, weights)[0])


def chain_sigmas(chains: list[tuple[tuple[int, ...], np.ndarray]], entries: SlotEntries, live_entries: np.ndarray,
                 weights: frozenset[int]) -> np.ndarray:
    """:func:`chain_sigma` of every chain at once (one batched eigenvalue call; chains share no slot)."""
    n = len(chains)
    if not n or not len(entries):
        return np.zeros(n)
    n_slots = int(max(entries.slot.max(), max((max(c[0]) for c in chains if c[0]), default=0))) + 1
    chain_of = np.full(n_slots, -1)
    position = np.zeros(n_slots, dtype=int)
    for i, (slots, _) in enumerate(chains):
        chain_of[list(slots)] = i
        position[list(slots)] = np.arange(len(slots))
    picked = np.nonzero(live_entries & (chain_of[entries.slot] >= 0)
                        & np.isin(entries.weight, np.fromiter(weights, dtype=int, count=len(weights))))[0]
    if not len(picked):
        return np.zeros(n)
    chain = chain_of[entries.slot[picked]]
    weight = entries.weight[picked]
    pairs, column = np.unique(chain * (int(entries.weight.max()) + 1) + weight, return_inverse=True)
    first = np.searchsorted(pairs, np.unique(chain) * (int(entries.weight.max()) + 1))
    start_of_chain = np.zeros(n, dtype=int)
    start_of_chain[np.unique(chain)] = first
    local = column - start_of_chain[chain]
    rows = max(len(slots) for slots, _ in chains)
    cols = int(local.max()) + 1
    w = np.zeros((n, rows, cols))
    np.add.at(w, (chain, position[entries.slot[picked]], local), entries.spread[picked] * entries.sup[picked])
    g = np.zeros((n, rows, rows))
    for i, (slots, gram) in enumerate(chains):
        g[i, : len(slots), : len(slots)] = gram
    m = np.einsum("rki,rkl,rlj->rij", w, g, w)
    return np.sqrt(np.maximum(np.linalg.eigvalsh(m)[:, -1], 0.0))


def weights_within_one_group(slot_group: dict[int, int], entries: SlotEntries, live_mask: np.ndarray,
                             exclude: frozenset[int]) -> frozenset[int]:
    """The weights (not in ``exclude``) whose every live entry lies in slots of one same group
    (``slot_group``: slot -> group, e.g. a qubit's suffix or one single-qubit run), with finite suprema."""
    live = np.nonzero(live_mask[entries.slot])[0]
    group_of: dict[int, set] = {}
    for e in live:
        group_of.setdefault(int(entries.weight[e]), set()).add(slot_group.get(int(entries.slot[e]), -1))
    return frozenset(j for j, groups in group_of.items()
                     if j not in exclude and len(groups) == 1 and -1 not in groups
                     and np.all(np.isfinite(entries.sup[live[entries.weight[live] == j]])))


def prefix_bound(structure: PrefixStructure, entries: SlotEntries, live_mask: np.ndarray) -> PrefixBound:
    """The prefix weights for the live slots ``live_mask`` and σ with ‖∇_P f‖₂ ≤ h σ."""
    slot_qubit = structure.slot_qubit
    live_entries = live_mask[entries.slot]
    in_prefix = np.array([int(k) in slot_qubit for k in entries.slot], dtype=bool)
    candidates = set(entries.weight[live_entries & in_prefix].tolist())
    outside = set(entries.weight[live_entries & ~in_prefix].tolist())
    weights = frozenset(j for j in candidates - outside
                        if np.all(np.isfinite(entries.sup[live_entries & (entries.weight == j)])))
    if not weights:
        return PrefixBound(frozenset(), 0.0, ())
    # qubits that share a prefix weight form one group
    qubits_of: dict[int, set[int]] = {}
    for e in np.nonzero(live_entries & in_prefix)[0]:
        j = int(entries.weight[e])
        if j in weights:
            qubits_of.setdefault(j, set()).add(slot_qubit[int(entries.slot[e])])
    groups: list[tuple[set[int], set[int]]] = []
    for j, qs in qubits_of.items():
        merged = [g for g in groups if g[0] & qs]
        group = (set(qs), {j})
        for g in merged:
            group[0].update(g[0])
            group[1].update(g[1])
            groups.remove(g)
        groups.append(group)
    by_qubit = {p.qubit: p for p in structure.qubits}
    results = []
    for qs, ws in groups:
        order = sorted(ws)
        local = {j: i for i, j in enumerate(order)}
        m = np.zeros((len(order), len(order)))
        for q in qs:
            prefix = by_qubit[q]
            position = {k: i for i, k in enumerate(prefix.slots)}
            w = np.zeros((len(prefix.slots), len(order)))
            for e in np.nonzero(live_entries & in_prefix)[0]:
                k, j = int(entries.slot[e]), int(entries.weight[e])
                if j in local and k in position:
                    w[position[k], local[j]] += entries.spread[e] * entries.sup[e]
            m += prefix.depolarising * (w.T @ prefix.gram @ w)
        sigma = float(np.sqrt(max(np.linalg.eigvalsh(m)[-1], 0.0)))
        results.append((tuple(sorted(qs)), tuple(order), sigma))
    return PrefixBound(weights, max(s for _, _, s in results), tuple(results))


__all__ = [
    "AxisChain",
    "PrefixBound",
    "PrefixStructure",
    "QubitPrefix",
    "chain_sigma",
    "chain_sigmas",
    "prefix_bound",
    "prefix_structure",
    "weights_within_one_group",
]
