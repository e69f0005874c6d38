r"""Single-qubit channels as the refinements see them: their Pauli-transfer matrix and what kind they are.

The Heisenberg Pauli-transfer matrix of a channel N with Kraus operators K is
R_ab = ½ Tr[σ_a N†(σ_b)], N†(X) = Σ_K K† X K, for a, b ∈ I, X, Y, Z (a run of channels N₁ then N₂
composes as R₁ R₂). A channel is

- *depolarising* when R = diag(1, φ, φ, φ): N(ρ) = φ ρ + (1 − φ) I/2 · Tr ρ, which commutes with
  every single-qubit unitary (φ = 1 − 4p/3 for ``cirq.depolarize(p)``);
- a *Pauli channel* (a mixture of I, X, Y, Z) when R is diagonal: bit flip, phase flip, phase
  damping, depolarising. Its Pauli probabilities follow from the diagonal.

The kind is decided exactly, never within a tolerance (a channel that is only close to
depolarising is not depolarising, and an argument that assumes it would be off by that much).
R is computed in exact rational arithmetic (:mod:`privqml.theory.rational`) from what defines the
channel:

- a channel given as a mixture of unitaries (``cirq.mixture``) that are all Paulis up to a phase
  is the Pauli channel of those probabilities: R = diag(1, λ_X, λ_Y, λ_Z) with
  λ_a = Σ_P p_P s_{Pa} / Σ_P p_P, s_{Pa} = ±1 as P commutes or anticommutes with σ_a;
- phase damping with parameter γ is, by its definition, the Pauli channel with
  λ = (1, √(1−γ), √(1−γ), 1) (a phase flip of probability (1 − √(1−γ))/2);
- any other channel from its Kraus operators as floats, with the column of I set to N†(I) = I: a
  quantum channel is trace preserving, and the floats' Σ K†K = I holds only to rounding (√γ and
  √(1−γ) are rounded separately). Amplitude damping keeps its exact structure this way. A channel
  given only by Kraus operators (``cirq.KrausChannel``, generalised amplitude damping, reset, the
  thermal-relaxation channels of ``cirq.devices.ThermalNoiseModel``) takes this path, and so does a
  fixed single-qubit unitary U (one Kraus operator; R is then a rotation of the Bloch sphere).

A run of fixed single-qubit operations — channels and unitaries in time order — has the transfer
matrix :func:`run_transfer`. Since every column of I is (1, 0, 0, 0), the block of X, Y, Z
(rows and columns 1..3) of a product is the product of the blocks: what a run does to traceless
operators (the Bloch vector's linear part) composes without the non-unital translation R_{I,b}.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Sequence

import cirq
import numpy as np

from privqml.theory.rational import heisenberg_pauli_coefficients

_PAULIS = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
#: s_{Pa} = +1 when σ_P and σ_a commute, −1 when they anticommute (P, a over I, X, Y, Z)
_SIGNS = tuple(tuple(1 if p == 0 or a == 0 or p == a else -1 for a in range(4)) for p in range(4))


def is_channel(op: cirq.Operation) -> bool:
    """True for a non-unitary operation with a Kraus representation (a parameter-free channel)."""
    return not cirq.has_unitary(op) and cirq.has_kraus(op)


def _pauli_of(unitary: np.ndarray) -> int | None:
    """P when ``unitary`` is exactly a phase (±1, ±i) times σ_P, else None."""
    for p, sigma in enumerate(_PAULIS):
        if any(np.array_equal(unitary, phase * sigma) for phase in (1, -1, 1j, -1j)):
            return p
    return None


def _mixture_transfer(op: cirq.Operation) -> np.ndarray | None:
    """R of a mixture of Paulis, exactly from its probabilities; None for anything else."""
    if len(op.qubits) != 1 or not cirq.has_mixture(op):
        return None
    mixture = cirq.mixture(op)
    paulis = [_pauli_of(np.asarray(u, dtype=complex)) for _, u in mixture]
    if any(p is None for p in paulis):
        return None
    probabilities = [Fraction(float(p)) for p, _ in mixture]
    total = sum(probabilities)
    transfer = np.array([[Fraction(0)] * 4 for _ in range(4)], dtype=object)
    for a in range(4):
        transfer[a, a] = sum(p * _SIGNS[pauli][a] for p, pauli in zip(probabilities, paulis)) / total
    return transfer


@functools.lru_cache(maxsize=256)
def _transfer_cached(op: cirq.Operation) -> np.ndarray:
    transfer = _mixture_transfer(op)
    if transfer is not None:
        return transfer
    transfer = np.array([[Fraction(0)] * 4 for _ in range(4)], dtype=object)
    transfer[0, 0] = Fraction(1)  # trace preserving: N†(I) = I
    if isinstance(op.gate, cirq.PhaseDampingChannel):
        lam = Fraction(math.sqrt(1.0 - float(op.gate.gamma)))
        transfer[1, 1], transfer[2, 2], transfer[3, 3] = lam, lam, Fraction(1)
        return transfer
    kraus = [np.asarray(k, dtype=complex) for k in cirq.kraus(op)]
    for b in range(1, 4):
        for (a,), coefficient in heisenberg_pauli_coefficients(kraus, (b,)):
            transfer[a, b] = coefficient
    return transfer


def transfer_exact(op: cirq.Operation) -> np.ndarray:
    """R_ab = ½ Tr[σ_a N†(σ_b)] (4 × 4 :class:`fractions.Fraction`, a, b over I, X, Y, Z) of a single-qubit
    channel or fixed unitary, exactly (see the module docstring)."""
    try:
        return _transfer_cached(op)
    except TypeError:  # an operation that cannot be hashed is computed afresh
        return _transfer_cached.__wrapped__(op)


def run_transfer(ops: Sequence[cirq.Operation]) -> np.ndarray:
    """R = R_1 R_2 … R_n of the single-qubit operations ``ops`` in time order (channels and fixed unitaries,
    each by :func:`transfer_exact`), exactly (rational products); the identity for no operation."""
    transfer = np.array([[Fraction(int(a == b)) for b in range(4)] for a in range(4)], dtype=object)
    for op in ops:
        transfer = transfer @ transfer_exact(op)
    return transfer


def heisenberg_transfer(op: cirq.Operation) -> np.ndarray:
    """:func:`transfer_exact` as floats (4 × 4)."""
    return np.array(transfer_exact(op), dtype=float)


def _off_diagonal(transfer: np.ndarray) -> bool:
    return any(transfer[a, b] for a in range(4) for b in range(4) if a != b)


def depolarising_factor(op: cirq.Operation) -> float | None:
    """φ when the single-qubit channel ``op`` is ρ ↦ φ ρ + (1 − φ) I/2·Tr ρ exactly, else None."""
    if len(op.qubits) != 1 or not is_channel(op):
        return None
    transfer = transfer_exact(op)
    if _off_diagonal(transfer) or not transfer[1, 1] == transfer[2, 2] == transfer[3, 3]:
        return None
    return float(transfer[1, 1])


def pauli_support(op: cirq.Operation) -> tuple[int, ...] | None:
    """The Paulis (0..3 = I, X, Y, Z) a single-qubit Pauli channel applies with non-zero probability, or
    None when ``op`` is no mixture of Paulis (exactly)."""
    if len(op.qubits) != 1 or not is_channel(op):
        return None
    transfer = transfer_exact(op)
    if _off_diagonal(transfer):
        return None
    _, lx, ly, lz = (transfer[a, a] for a in range(4))
    probabilities = ((1 + lx + ly + lz) / 4, (1 + lx - ly - lz) / 4, (1 - lx + ly - lz) / 4, (1 - lx - ly + lz) / 4)
    if any(p < 0 for p in probabilities):
        return None
    return tuple(i for i, p in enumerate(probabilities) if p > 0)


__all__ = ["depolarising_factor", "heisenberg_transfer", "is_channel", "pauli_support", "run_transfer",
           "transfer_exact"]
