r"""Single-qubit channels as the refinements see them: their Pauli-transfer matrix and what kind they are.

The Heisenberg Pauli-transfer matrix of a channel N with Kraus operators K is
R_ab = ½ Tr[σ_a N†(σ_b)], N†(X) = Σ_K K† X K, for a, b ∈ I, X, Y, Z (a run of channels N₁ then N₂
composes as R₁ R₂). A channel is

- *depolarising* when R = diag(1, φ, φ, φ) and it is unital: N(ρ) = φ ρ + (1 − φ) I/2 · Tr ρ, which
  commutes with every single-qubit unitary (φ = 1 − 4p/3 for ``cirq.depolarize(p)``);
- a *Pauli channel* (a mixture of I, X, Y, Z) when it is unital with a diagonal R: bit flip, phase
  flip, phase damping, depolarising. Its Pauli probabilities follow from the diagonal.
"""

from __future__ import annotations

import cirq
import numpy as np

_PAULIS = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
_ATOL = 1e-12


def is_channel(op: cirq.Operation) -> bool:
    """True for a non-unitary operation with a Kraus representation (a parameter-free channel)."""
    return not cirq.has_unitary(op) and cirq.has_kraus(op)


def heisenberg_transfer(op: cirq.Operation) -> np.ndarray:
    """R_ab = ½ Tr[σ_a N†(σ_b)] (4 × 4, a, b over I, X, Y, Z) of a single-qubit channel."""
    kraus = [np.asarray(k, dtype=complex) for k in cirq.kraus(op)]
    return np.array([[0.5 * np.real(np.trace(a @ sum(k.conj().T @ b @ k for k in kraus))) for b in _PAULIS]
                     for a in _PAULIS])


def _unital(op: cirq.Operation) -> bool:
    kraus = [np.asarray(k, dtype=complex) for k in cirq.kraus(op)]
    return bool(np.allclose(sum(k @ k.conj().T for k in kraus), np.eye(2), rtol=0, atol=_ATOL))


def depolarising_factor(op: cirq.Operation) -> float | None:
    """φ when the single-qubit channel ``op`` is ρ ↦ φ ρ + (1 − φ) I/2·Tr ρ, else None."""
    if len(op.qubits) != 1 or not is_channel(op):
        return None
    transfer = heisenberg_transfer(op)[1:, 1:]
    phi = float(transfer[0, 0])
    if np.allclose(transfer, phi * np.eye(3), rtol=0, atol=_ATOL) and _unital(op):
        return phi
    return None


def pauli_support(op: cirq.Operation) -> tuple[int, ...] | None:
    """The Paulis (0..3 = I, X, Y, Z) a single-qubit Pauli channel applies with non-zero probability, or
    None when ``op`` is no mixture of Paulis."""
    if len(op.qubits) != 1 or not is_channel(op):
        return None
    transfer = heisenberg_transfer(op)
    if not (np.allclose(transfer, np.diag(np.diag(transfer)), rtol=0, atol=_ATOL) and _unital(op)):
        return None
    _, lx, ly, lz = np.diag(transfer)
    probabilities = ((1 + lx + ly + lz) / 4, (1 + lx - ly - lz) / 4, (1 - lx + ly - lz) / 4, (1 - lx - ly + lz) / 4)
    return tuple(i for i, p in enumerate(probabilities) if p > 1e-15)


__all__ = ["depolarising_factor", "heisenberg_transfer", "is_channel", "pauli_support"]
