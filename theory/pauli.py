"""Provably-zero derivatives: backward Pauli propagation with a light-cone fallback.

For an angle slot k with generator H_k (U_k(t) ∝ exp(i t H_k)) the derivative of
f = Tr[O U_K … U_1 ρ U_1† … U_K†] is

    ∂f/∂t_k = i Tr[[H_k, O_k] ρ_k],      O_k = (channels and gates after k)†(O)  (Heisenberg picture),

so ∂f/∂t_k ≡ 0 whenever H_k commutes with O_k. We track, walking the circuit backwards, a
*superset* S of the Pauli strings that can appear in O_k with a non-zero coefficient:

- a fixed gate or channel maps each string R touching it to the Pauli decomposition of its
  Heisenberg image (U†RU, or Σ K†RK for a channel) restricted to the gate's qubits;
- a parametrised slot, for *all* values of its angle, maps S into the closure of S under
  R ↦ Q·R for every Pauli term Q of H_k that anticommutes with R (the span of the
  Baker–Campbell–Hausdorff series of e^{-itH} R e^{itH}).

Slot k is *provably zero* for the observable term when every Pauli term of H_k commutes with
every string of S (then [H_k, R] = 0 for every R in S, hence [H_k, O_k] = 0). Coefficient
cancellations are ignored, so S only over-approximates and the rule is sound. When S grows past
``max_strings`` the walk falls back to the backward light cone (the qubit support of S), where a
slot is provably zero iff it acts outside the cone. Both passes are linear in the number of
gates.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import cirq
import numpy as np

from privqml.theory.spectra import CanonicalCircuit, generator_matrix

_SIGMA = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
# (x bit, z bit) of I, X, Y, Z
_XZ = ((0, 0), (1, 0), (1, 1), (0, 1))
_MAX_EXACT_QUBITS = 3
#: a Pauli term with a coefficient below this is taken as absent from an image or a generator
_LABEL_TOL = 1e-9


@dataclasses.dataclass(frozen=True)
class PauliString:
    """A Pauli string in symplectic form over the circuit's qubits (phase dropped).

    Bit i of ``x`` / ``z`` belongs to qubit i of the ansatz's sorted qubit list.
    """

    x: int
    z: int

    @property
    def support(self) -> int:
        return self.x | self.z

    def anticommutes(self, other: "PauliString") -> bool:
        return bin((self.x & other.z) ^ (self.z & other.x)).count("1") % 2 == 1

    def times(self, other: "PauliString") -> "PauliString":
        return PauliString(self.x ^ other.x, self.z ^ other.z)


def pauli_from_cirq(string: cirq.PauliString, index: dict) -> PauliString:
    x = z = 0
    for qubit, pauli in string.items():
        bit = 1 << index[qubit]
        if pauli == cirq.X or pauli == cirq.Y:
            x |= bit
        if pauli == cirq.Z or pauli == cirq.Y:
            z |= bit
    return PauliString(x, z)


def _local_paulis(k: int):
    return list(itertools.product(range(4), repeat=k))


def _local_matrix(labels) -> np.ndarray:
    out = np.ones((1, 1), dtype=complex)
    for label in labels:
        out = np.kron(out, _SIGMA[label])
    return out


def labels_to_bits(labels, positions) -> tuple[int, int]:
    x = z = 0
    for label, position in zip(labels, positions):
        xb, zb = _XZ[label]
        x |= xb << position
        z |= zb << position
    return x, z


def bits_to_labels(string: PauliString, positions) -> tuple[int, ...]:
    labels = []
    for position in positions:
        xb, zb = (string.x >> position) & 1, (string.z >> position) & 1
        labels.append({(0, 0): 0, (1, 0): 1, (1, 1): 2, (0, 1): 3}[(xb, zb)])
    return tuple(labels)


def _op_key(op: cirq.Operation):
    try:
        hash(op.gate)
        return ("gate", op.gate)
    except TypeError:
        return ("id", id(op))


def heisenberg_image(op: cirq.Operation, labels: tuple[int, ...]) -> tuple[tuple[int, ...], ...] | None:
    """Local Pauli labels in the Heisenberg image of ``labels`` under a fixed ``op``; None if unknown."""
    image = heisenberg_coefficients(op, labels)
    return None if image is None else tuple(term for term, c in image if abs(c) > _LABEL_TOL)


@functools.lru_cache(maxsize=8192)
def _heisenberg_coefficients_cached(key, labels: tuple[int, ...], matrices_bytes: bytes, k: int, n_kraus: int):
    kraus = np.frombuffer(matrices_bytes, dtype=complex).reshape(n_kraus, 2**k, 2**k)
    pauli = _local_matrix(labels)
    image = sum(K.conj().T @ pauli @ K for K in kraus)
    return tuple(_coefficients(image, k))


def _coefficients(matrix: np.ndarray, k: int, tol: float = 1e-12) -> list[tuple[tuple[int, ...], float]]:
    """(labels, real coefficient) of a Hermitian ``matrix`` in the local Pauli basis."""
    dim = 2**k
    out = []
    for labels in _local_paulis(k):
        coefficient = np.trace(_local_matrix(labels).conj().T @ matrix) / dim
        if abs(coefficient) > tol:
            out.append((labels, float(np.real(coefficient))))
    return out


def heisenberg_coefficients(op: cirq.Operation, labels: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], float], ...] | None:
    """The Heisenberg image Σ_K K† P K of the local Pauli string ``labels`` under a fixed ``op``, as
    (labels, real coefficient) pairs; None for more than three qubits or an operation with neither
    a unitary nor a Kraus representation."""
    k = len(op.qubits)
    if k > _MAX_EXACT_QUBITS:
        return None
    if cirq.has_unitary(op):
        kraus = np.asarray([cirq.unitary(op)], dtype=complex)
    elif cirq.has_kraus(op):
        kraus = np.asarray(cirq.kraus(op), dtype=complex)
    else:
        return None
    return _heisenberg_coefficients_cached(_op_key(op), labels, kraus.tobytes(), k, len(kraus))


@functools.lru_cache(maxsize=4096)
def _generator_terms_cached(matrix_bytes: bytes, k: int) -> tuple[tuple[tuple[int, ...], float], ...]:
    matrix = np.frombuffer(matrix_bytes, dtype=complex).reshape(2**k, 2**k)
    return tuple((labels, c) for labels, c in _coefficients(matrix, k, tol=_LABEL_TOL) if any(labels))


def generator_terms(op: cirq.Operation) -> tuple[tuple[tuple[int, ...], float], ...]:
    """The non-identity local Pauli terms of the slot's generator H per unit exponent, with their
    real coefficients (labels in ``op.qubits`` order)."""
    matrix = generator_matrix(op.gate)
    return _generator_terms_cached(np.ascontiguousarray(matrix, dtype=complex).tobytes(), len(op.qubits))


def generator_labels(op: cirq.Operation) -> tuple[tuple[int, ...], ...]:
    """Non-identity local Pauli terms of the slot's generator H (on ``op.qubits`` order)."""
    return tuple(labels for labels, _ in generator_terms(op))


@dataclasses.dataclass(frozen=True)
class LiveSlots:
    """Which slots may have a non-zero derivative for one Pauli term of an observable.

    Attributes:
        live: indices of slots not proven zero.
        commuting: slots proven zero because their generator commutes with the
            Heisenberg-evolved observable (inside the light cone).
        outside_cone: slots proven zero because they act outside the backward light cone.
        fell_back_at: number of operations walked (from the end) before the exact Pauli
            tracking gave way to the light cone, or None if it never did.
    """

    live: frozenset[int]
    commuting: frozenset[int]
    outside_cone: frozenset[int]
    fell_back_at: int | None


def live_slots(
    canonical: CanonicalCircuit,
    term: PauliString,
    qubit_index: dict,
    max_strings: int = 64,
    prune_commuting: bool = True,
) -> LiveSlots:
    """Walk ``canonical`` backwards from the observable term; see the module docstring."""
    strings: set[PauliString] = {term}
    cone = term.support
    exact = True
    fell_back_at = None
    live, commuting, outside = set(), set(), set()
    operations = canonical.operations
    for step, position in enumerate(range(len(operations) - 1, -1, -1)):
        op = operations[position]
        slot = canonical.slot_of[position]
        positions = [qubit_index[q] for q in op.qubits]
        mask = sum(1 << p for p in positions)
        if exact:
            touching = [r for r in strings if r.support & mask]
            if not touching:
                if slot >= 0:
                    outside.add(slot)
                continue
            if slot >= 0:
                generators = [PauliString(*labels_to_bits(lab, positions)) for lab in generator_labels(op)]
                if prune_commuting and not any(q.anticommutes(r) for q in generators for r in touching):
                    commuting.add(slot)
                    continue
                live.add(slot)
                frontier = list(touching)
                while frontier and len(strings) <= max_strings:
                    r = frontier.pop()
                    for q in generators:
                        if q.anticommutes(r):
                            product = q.times(r)
                            if product.support and product not in strings:
                                strings.add(product)
                                frontier.append(product)
            else:
                new_strings = set(r for r in strings if not r.support & mask)
                for r in touching:
                    image = heisenberg_image(op, bits_to_labels(r, positions))
                    if image is None:
                        exact = False
                        break
                    rest_x, rest_z = r.x & ~mask, r.z & ~mask
                    for labels in image:
                        x, z = labels_to_bits(labels, positions)
                        s = PauliString(rest_x | x, rest_z | z)
                        if s.support:
                            new_strings.add(s)
                if exact:
                    strings = new_strings
            if len(strings) > max_strings or not exact:
                exact = False
                fell_back_at = step
                cone = 0
                for r in strings:
                    cone |= r.support
                cone |= mask
            continue
        # light-cone mode
        if cone & mask:
            if slot >= 0:
                live.add(slot)
            cone |= mask
        elif slot >= 0:
            outside.add(slot)
    return LiveSlots(frozenset(live), frozenset(commuting), frozenset(outside), fell_back_at)


__all__ = [
    "PauliString",
    "LiveSlots",
    "live_slots",
    "pauli_from_cirq",
    "heisenberg_image",
    "heisenberg_coefficients",
    "generator_labels",
    "generator_terms",
    "labels_to_bits",
    "bits_to_labels",
]
