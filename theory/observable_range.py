r"""The range [o_min, o_max] of a Pauli-sum observable O = c_0 + Σ_t c_t P_t.

Every expectation Tr[O ρ] lies in the eigenvalue range of O, and the bounds scale with its
half-range h = (o_max − o_min)/2. Strategies, in order:

1. ``constant``: no Pauli term — the range is the point c_0;
2. ``exact (diagonal)``: every term a product of Z's on at most 22 qubits — the eigenvalues are
   c_0 + Σ_t c_t (−1)^{parity of t on b} over the computational basis states b, computed exactly;
3. ``exact (eigenvalues)``: support of at most 10 qubits — ``numpy.linalg.eigvalsh`` of the matrix;
4. ``Σ|coefficients|``: otherwise c_0 ∓ Σ_t |c_t| (‖P_t‖ = 1 and the triangle inequality).

A *sample mean* of O estimated term by term (each Pauli term measured separately, as in
finite-shot estimation) is not confined to the eigenvalue range: every term can take its extreme
value ±|c_t| at once, so it lies in c_0 ∓ Σ_t |c_t| (:func:`sample_mean_range`).
"""

from __future__ import annotations

import cirq
import numpy as np

_EXACT_RANGE_QUBITS = 10
_DIAGONAL_RANGE_QUBITS = 22


def observable_range(observable: cirq.PauliSum) -> tuple[float, float, str]:
    """(o_min, o_max, method): exact eigenvalues for small support, else c_0 ∓ Σ|c_t|."""
    constant = 0.0
    terms = []
    for term in observable:
        if len(term) == 0:
            constant += float(np.real(term.coefficient))
        else:
            terms.append(term)
    if not terms:
        return constant, constant, "constant"
    support = sorted(set().union(*[set(t.qubits) for t in terms]))
    diagonal = all(p == cirq.Z for t in terms for p in t.values())
    if diagonal and len(support) <= _DIAGONAL_RANGE_QUBITS:
        index = {q: i for i, q in enumerate(support)}
        states = np.arange(2 ** len(support), dtype=np.int64)
        values = np.full(states.shape, constant)
        for term in terms:
            parity = np.zeros(states.shape, dtype=np.int64)
            for qubit in term.qubits:
                parity ^= (states >> index[qubit]) & 1
            values += float(np.real(term.coefficient)) * (1 - 2 * parity)
        return float(values.min()), float(values.max()), "exact (diagonal)"
    if len(support) <= _EXACT_RANGE_QUBITS:
        eigenvalues = np.linalg.eigvalsh(observable.matrix(support))
        return float(eigenvalues.min()), float(eigenvalues.max()), "exact (eigenvalues)"
    spread = sum(abs(float(np.real(t.coefficient))) for t in terms)
    return constant - spread, constant + spread, "Σ|coefficients|"


def sample_mean_range(observable: cirq.PauliSum) -> tuple[float, float, str]:
    """(c_0 − Σ_t|c_t|, c_0 + Σ_t|c_t|, method): the range of a term-by-term sample mean of O."""
    constant = sum(float(np.real(t.coefficient)) for t in observable if len(t) == 0)
    spread = sum(abs(float(np.real(t.coefficient))) for t in observable if len(t) > 0)
    return constant - spread, constant + spread, "sample mean: c_0 ∓ Σ|c_t|"


__all__ = ["observable_range", "sample_mean_range"]
