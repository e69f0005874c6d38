"""Single-qubit channels: exact transfer matrices and an exact decision of their kind."""

import math

import cirq
import numpy as np
import pytest

from privqml.theory.refinements.channels import depolarising_factor, heisenberg_transfer, pauli_support, transfer_exact

Q = cirq.LineQubit(0)


def test_transfer_matrices_of_cirq_channels():
    np.testing.assert_allclose(heisenberg_transfer(cirq.depolarize(0.3).on(Q)), np.diag([1, 0.6, 0.6, 0.6]), atol=1e-15)
    np.testing.assert_allclose(heisenberg_transfer(cirq.bit_flip(0.1).on(Q)), np.diag([1, 1, 0.8, 0.8]), atol=1e-15)
    s = math.sqrt(0.7)
    np.testing.assert_allclose(heisenberg_transfer(cirq.phase_damp(0.3).on(Q)), np.diag([1, s, s, 1]), atol=1e-15)
    damping = heisenberg_transfer(cirq.amplitude_damp(0.2).on(Q))
    expected = np.diag([1, math.sqrt(0.8), math.sqrt(0.8), 0.8])
    expected[0, 3] = 0.2  # N†(Z) = (1 − γ) Z + γ I
    np.testing.assert_allclose(damping, expected, atol=1e-15)
    # the structural zeros are exact zeros, and N†(I) = I exactly (a channel preserves the trace)
    assert all(transfer_exact(cirq.amplitude_damp(0.2).on(Q))[a, b] == 0
               for a in range(4) for b in range(4) if (a, b) not in {(0, 0), (1, 1), (2, 2), (3, 3), (0, 3)})


def test_kinds_are_decided_exactly():
    assert depolarising_factor(cirq.depolarize(0.1).on(Q)) == pytest.approx(1 - 0.4 / 3, abs=1e-15)
    assert depolarising_factor(cirq.bit_flip(0.1).on(Q)) is None
    assert pauli_support(cirq.bit_flip(0.1).on(Q)) == (0, 1)
    assert pauli_support(cirq.phase_damp(0.3).on(Q)) == (0, 3)
    assert pauli_support(cirq.asymmetric_depolarize(0.1, 0.0, 0.02).on(Q)) == (0, 1, 3)
    assert pauli_support(cirq.amplitude_damp(0.2).on(Q)) is None
    assert depolarising_factor(cirq.rx(0.3).on(Q)) is None  # a unitary is no channel here


def test_a_channel_that_is_only_close_to_depolarising_is_not_depolarising():
    # the Kraus operators of depolarize(0.1), each followed by rx(1e-13): off-diagonal transfer entries
    # of order 1e-13 — below a tolerance of 1e-12, but not zero
    turn = cirq.unitary(cirq.rx(1e-13))
    near = cirq.KrausChannel([turn @ k for k in cirq.kraus(cirq.depolarize(0.1))]).on(Q)
    transfer = heisenberg_transfer(near)
    off = transfer - np.diag(np.diag(transfer))
    assert 0 < np.abs(off).max() < 1e-12
    assert depolarising_factor(near) is None and pauli_support(near) is None
