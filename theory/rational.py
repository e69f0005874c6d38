r"""Pauli coefficients of floating-point matrices, computed exactly (rational arithmetic).

A float is a dyadic rational m · 2^e, so sums and products of floats have exact rational
values. For a k-qubit Hermitian matrix A given in floating point, and for the Heisenberg image
of a Pauli string under an operation given by its unitary or Kraus operators K as floats (what
``cirq.unitary`` / ``cirq.kraus`` return),

    c_s = Tr[σ_s A] / 2^k,        A = Σ_K K† σ_l K,        σ_s = σ_{s_1} ⊗ … ⊗ σ_{s_k},

is computed here without rounding: the real and imaginary parts of every entry are scaled by a
common power of two to Python integers, and the products and traces are integer arithmetic. A
coefficient is therefore zero here exactly when it is zero for the matrices given — never because
it is small, or because floating-point cancellation happened to give 0.0 — and a non-zero one is
returned as a :class:`fractions.Fraction`, however small.

What "exactly" refers to: the matrices as floats. A gate whose ideal matrix has irrational entries
(``cirq.ry(π/2)``: cos(π/4) and sin(π/4) are two different floats) can give a coefficient of order
10⁻¹⁶ where the ideal one is 0; callers treat such a coefficient as non-zero (and may carry it as
a small remainder, :mod:`privqml.theory.pauli`), which is conservative. Zeros that come from the
structure of the matrix (a diagonal gate, a permutation, Pauli Kraus operators) are exact zeros of
the ideal matrix too.
"""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction
from typing import Sequence

import numpy as np

Labels = tuple[int, ...]
#: I, X, Y, Z with integer entries (0, ±1, ±i)
_PAULI = (
    np.array([[1, 0], [0, 1]], dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)

_ComplexInt = tuple[np.ndarray, np.ndarray]  # (real part, imaginary part) as object arrays of Python ints


def _integers(matrices: Sequence[np.ndarray]) -> tuple[list[_ComplexInt], int]:
    """The matrices as (real, imaginary) integer arrays over a common denominator 2^shift."""
    parts = [(np.real(m).astype(float), np.imag(m).astype(float)) for m in matrices]
    if not all(np.all(np.isfinite(part)) for pair in parts for part in pair):
        raise ValueError("matrix entries must be finite")
    ratios = [[float(v).as_integer_ratio() for v in part.ravel()] for pair in parts for part in pair]
    shift = max((d.bit_length() - 1 for part in ratios for _, d in part), default=0)
    out = []
    for i, (re, im) in enumerate(parts):
        arrays = []
        for part, ratio in ((re, ratios[2 * i]), (im, ratios[2 * i + 1])):
            values = [n << (shift - (d.bit_length() - 1)) for n, d in ratio]
            arrays.append(np.array(values, dtype=object).reshape(part.shape))
        out.append((arrays[0], arrays[1]))
    return out, shift


def _product(a: _ComplexInt, b: _ComplexInt) -> _ComplexInt:
    return a[0] @ b[0] - a[1] @ b[1], a[0] @ b[1] + a[1] @ b[0]


def _dagger(a: _ComplexInt) -> _ComplexInt:
    return a[0].T, -a[1].T


@functools.lru_cache(maxsize=8)
def _pauli_integers(k: int) -> tuple[tuple[Labels, _ComplexInt], ...]:
    """σ_s for every s ∈ {0..3}^k, as integer (real, imaginary) arrays."""
    out = []
    for labels in itertools.product(range(4), repeat=k):
        matrix = np.ones((1, 1), dtype=complex)
        for label in labels:
            matrix = np.kron(matrix, _PAULI[label])
        out.append((labels, (np.real(matrix).astype(int).astype(object), np.imag(matrix).astype(int).astype(object))))
    return tuple(out)


def _decompose(matrix: _ComplexInt, k: int, denominator: int) -> tuple[tuple[Labels, Fraction], ...]:
    """Re Tr[σ_s A] / (2^k · denominator) for every s where it is non-zero (A = ``matrix`` as integers)."""
    re_t, im_t = matrix[0].T, matrix[1].T
    out = []
    for labels, (p_re, p_im) in _pauli_integers(k):
        trace = int(np.sum(p_re * re_t - p_im * im_t))  # Re Tr[σ A] = Σ_ij Re(σ_ij A_ji)
        if trace:
            out.append((labels, Fraction(trace, denominator << k)))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _hermitian_cached(matrix_bytes: bytes, k: int) -> tuple[tuple[Labels, Fraction], ...]:
    matrix = np.frombuffer(matrix_bytes, dtype=complex).reshape(2**k, 2**k)
    (integer,), shift = _integers([matrix])
    return _decompose(integer, k, 1 << shift)


def pauli_coefficients(matrix: np.ndarray) -> tuple[tuple[Labels, Fraction], ...]:
    """The exactly non-zero real Pauli coefficients Re Tr[σ_s A]/2^k of a k-qubit matrix A (those of its
    Hermitian part (A + A†)/2), with their labels s in the matrix's qubit order."""
    matrix = np.ascontiguousarray(matrix, dtype=complex)
    k = int(matrix.shape[0]).bit_length() - 1
    assert matrix.shape == (2**k, 2**k), f"not a qubit operator: shape {matrix.shape}"
    return _hermitian_cached(matrix.tobytes(), k)


@functools.lru_cache(maxsize=8192)
def _heisenberg_cached(labels: Labels, kraus_bytes: bytes, k: int, n_kraus: int) -> tuple[tuple[Labels, Fraction], ...]:
    kraus = np.frombuffer(kraus_bytes, dtype=complex).reshape(n_kraus, 2**k, 2**k)
    integers, shift = _integers(list(kraus))
    pauli = dict(_pauli_integers(k))[labels]
    total = None
    for K in integers:
        term = _product(_dagger(K), _product(pauli, K))
        total = term if total is None else (total[0] + term[0], total[1] + term[1])
    return _decompose(total, k, 1 << (2 * shift))


def heisenberg_pauli_coefficients(kraus: Sequence[np.ndarray], labels: Labels) -> tuple[tuple[Labels, Fraction], ...]:
    """The exactly non-zero Pauli coefficients of Σ_K K† σ_labels K (a Hermitian matrix, so its
    coefficients are real), for unitary (one K) or Kraus operators given as floats."""
    kraus = np.ascontiguousarray(np.asarray(kraus, dtype=complex))
    k = int(kraus.shape[1]).bit_length() - 1
    assert kraus.shape[1:] == (2**k, 2**k) and len(labels) == k, "labels and operators disagree on the qubits"
    return _heisenberg_cached(tuple(labels), kraus.tobytes(), k, kraus.shape[0])


def magnitude_up(value: Fraction) -> float:
    """A float ≥ |value|: the correctly rounded |value| moved up by one unit in the last place (and
    positive for every non-zero value, even one that would round to 0.0)."""
    return float(np.nextafter(float(abs(value)), np.inf)) if value else 0.0


__all__ = ["heisenberg_pauli_coefficients", "magnitude_up", "pauli_coefficients"]
