"""The observable range: exact eigenvalues for small support, Σ|coefficients| beyond, and the
range of a term-by-term sample mean."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from privqml.theory.observable_range import observable_range, sample_mean_range

Q = cirq.LineQubit.range(3)


@pytest.mark.parametrize(
    "observable, expected",
    [
        (cirq.Z(Q[0]) * cirq.Z(Q[1]) + 0.5 * cirq.X(Q[0]), None),
        (cirq.Z(Q[0]) + cirq.Z(Q[1]) + 2.0, (0.0, 4.0)),
        (0.3 * cirq.X(Q[0]) * cirq.X(Q[1]) - 0.7 * cirq.Y(Q[0]) * cirq.Y(Q[1]) + cirq.Z(Q[1]), None),
    ],
)
def test_observable_range_is_exact_for_small_support(observable, expected):
    lo, hi, method = observable_range(observable)
    eigenvalues = np.linalg.eigvalsh(observable.matrix(sorted(observable.qubits)))
    assert lo == pytest.approx(eigenvalues.min()) and hi == pytest.approx(eigenvalues.max())
    assert method.startswith("exact")
    if expected:
        assert (lo, hi) == pytest.approx(expected)


def test_observable_range_falls_back_to_coefficient_sum_for_large_support():
    qubits = cirq.LineQubit.range(12)
    observable = cirq.PauliSum.from_pauli_strings([cirq.X(q) * cirq.X(r) for q, r in zip(qubits[:-1], qubits[1:])])
    lo, hi, method = observable_range(observable)
    assert (lo, hi) == (-11.0, 11.0) and method == "Σ|coefficients|"


def test_diagonal_observable_range_is_exact_beyond_the_eigenvalue_limit():
    qubits = cirq.LineQubit.range(14)
    observable = cirq.PauliSum.from_pauli_strings([cirq.Z(q) * cirq.Z(r) for q, r in zip(qubits[:-1], qubits[1:])])
    lo, hi, method = observable_range(observable)
    assert (lo, hi) == (-13.0, 13.0) and method == "exact (diagonal)"  # 13 bonds, all aligned or all alternating


def test_constant_observable_and_sample_mean_range():
    assert observable_range(cirq.PauliSum.from_pauli_strings([cirq.PauliString(2.5)])) == (2.5, 2.5, "constant")
    observable = cirq.Z(Q[0]) * cirq.Z(Q[1]) + 0.5 * cirq.X(Q[0]) + 0.25
    lo, hi, method = sample_mean_range(observable)
    assert (lo, hi) == (-1.25, 1.75) and method.startswith("sample mean")
    exact_lo, exact_hi, _ = observable_range(observable)
    assert lo < exact_lo and exact_hi < hi  # every term at its extreme at once: wider than the spectrum
