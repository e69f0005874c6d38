"""Exact Pauli coefficients of floating-point matrices: zero exactly when zero, never when small."""

from fractions import Fraction

import cirq
import numpy as np
import pytest

from privqml.theory.rational import heisenberg_pauli_coefficients, magnitude_up, pauli_coefficients


def test_a_cancellation_that_floating_point_loses_is_kept():
    # the II coefficient of diag(1e16, 1, -1e16, 0) is (1e16 + 1 - 1e16 + 0)/4 = 1/4 exactly;
    # in floating point 1e16 + 1 rounds to 1e16 and the sum to 0.0
    matrix = np.diag([1e16, 1.0, -1e16, 0.0]).astype(complex)
    assert np.trace(matrix).real / 4 == 0.0
    coefficients = dict(pauli_coefficients(matrix))
    assert coefficients[(0, 0)] == Fraction(1, 4)
    assert coefficients[(0, 3)] == Fraction(-1, 4)  # (1e16 - 1 - 1e16 - 0)/4
    assert coefficients[(3, 0)] == Fraction(2 * 10**16 + 1, 4) and coefficients[(3, 3)] == Fraction(2 * 10**16 - 1, 4)
    assert set(coefficients) == {(0, 0), (0, 3), (3, 0), (3, 3)}


def test_pauli_matrices_and_exact_gates():
    assert pauli_coefficients(np.diag([1.0, -1.0])) == (((3,), Fraction(1)),)
    assert heisenberg_pauli_coefficients([cirq.unitary(cirq.CZ)], (1, 0)) == (((1, 3), Fraction(1)),)
    # H as floats is s·[[1, 1], [1, -1]] with s² a little above 1/2: the image of Z is 2s²·X, no Z term
    hadamard = cirq.unitary(cirq.H)
    ((labels, value),) = heisenberg_pauli_coefficients([hadamard], (3,))
    assert labels == (1,) and value == 2 * Fraction(float(hadamard[0, 0].real)) ** 2 != 1


def test_tiny_terms_are_exact_and_not_zero():
    for epsilon in (1e-9, 1e-15, 1e-150):
        image = dict(heisenberg_pauli_coefficients([cirq.unitary(cirq.rx(epsilon))], (3,)))
        assert float(abs(image[(2,)])) == pytest.approx(np.sin(epsilon), rel=1e-12)
    # Kraus operators: the depolarising channel keeps exactly X (no rounding term on Y or Z)
    image = heisenberg_pauli_coefficients(cirq.kraus(cirq.depolarize(0.1)), (1,))
    assert [labels for labels, _ in image] == [(1,)] and float(image[0][1]) == pytest.approx(1 - 0.4 / 3)


def test_magnitude_up_is_never_below_the_exact_value():
    for value in (Fraction(1, 3), Fraction(-2, 7), Fraction(1, 10**400)):
        assert magnitude_up(value) >= abs(value) and magnitude_up(value) > 0
    assert magnitude_up(Fraction(0)) == 0.0
