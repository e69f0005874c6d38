"""Refinement ``readout``: channels after a qubit's last gate folded into the observable compute the same f, and
the bound of the folded circuit holds against exact density-matrix maxima."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy

from privqml.api import as_ansatz
from privqml.theory import gradient_bound
from privqml.theory.exact.numeric import compile_numeric, evaluate
from privqml.theory.exact.tightness import max_gradient_norm
from privqml.theory.refinements.readout import fold_trailing_channels, trailing_channels

Q = cirq.LineQubit.range(2)
W, V, X = sympy.symbols("w v x")
CHANNELS = [cirq.amplitude_damp(0.9), cirq.depolarize(0.5), cirq.phase_flip(0.3), cirq.bit_flip(0.2),
            cirq.phase_damp(0.6), cirq.asymmetric_depolarize(0.1, 0.2, 0.05)]


def _ansatz(channel, observable):
    circuit = cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[0]), cirq.CNOT(*Q), cirq.ry(V).on(Q[1]),
                           channel.on(Q[1]), cirq.depolarize(0.1).on(Q[0]), channel.on(Q[0]))
    return as_ansatz(circuit, inputs=["x"], observable=[observable])


@pytest.mark.parametrize("channel", CHANNELS, ids=str)
@pytest.mark.parametrize("observable", [cirq.Z(Q[0]) * cirq.Z(Q[1]), cirq.X(Q[1]) + 0.5 * cirq.Z(Q[0])], ids=str)
def test_folding_the_trailing_channels_keeps_f_and_the_bound_holds(channel, observable):
    ansatz = _ansatz(channel, observable)
    folded = fold_trailing_channels(ansatz)
    assert folded is not None and trailing_channels(folded.circuit)[1] == {}
    points = np.random.default_rng(0).uniform(-3, 3, (5, 3))
    f, _ = evaluate(compile_numeric(ansatz), points, None)
    g, _ = evaluate(compile_numeric(folded), points, None)
    np.testing.assert_allclose(f, g, atol=1e-12)  # the same function of (θ, x)
    bound = gradient_bound(ansatz)
    truth = max_gradient_norm(ansatz, n_starts=6, seed=0).true_max_estimate
    assert truth <= bound.grad_norm_bound * (1 + 1e-9) + 1e-12
    assert bound.grad_norm_bound <= gradient_bound(ansatz, readout=False).grad_norm_bound


def test_a_channel_before_a_later_gate_is_not_trailing():
    circuit = cirq.Circuit(cirq.ry(W).on(Q[0]), cirq.amplitude_damp(0.3).on(Q[0]), cirq.CNOT(*Q),
                           cirq.depolarize(0.2).on(Q[1]))
    kept, trailing = trailing_channels(circuit)
    assert list(trailing) == [Q[1]] and len(list(kept.all_operations())) == 3


def test_explain_names_the_readout_refinement():
    ansatz = _ansatz(cirq.amplitude_damp(0.9), cirq.Z(Q[0]) * cirq.Z(Q[1]))
    bound = gradient_bound(ansatz)
    assert bound.refinements[-1] == "readout"
    entry = bound.explain()["observables"][0]
    assert entry["changed"][-1]["stage"] == "readout" and entry["readout"]["bound"] == pytest.approx(bound.grad_norm_bound)


def test_a_depolarising_channel_every_string_crosses_scales_every_earlier_slot():
    """Z0·Z1 after the CNOT acts on both qubits for every angle: a depolarising channel on either qubit there
    multiplies the whole gradient by φ (refinement contraction); sound against the exact maximum."""
    circuit = cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[0]), cirq.ry(V).on(Q[1]), cirq.CNOT(*Q),
                           cirq.depolarize(0.3).on(Q[1]), cirq.CZ(*Q), cirq.rz(0.4).on(Q[0]))
    ansatz = as_ansatz(circuit, inputs=["x"], observable=[cirq.Z(Q[0]) * cirq.Z(Q[1])])
    bound = gradient_bound(ansatz)
    without = gradient_bound(ansatz, contraction=False).grad_norm_bound
    phi = 1 - 4 * 0.3 / 3
    assert bound.refinements[-1] == "contraction" and bound.contractions[0]["factor"] == pytest.approx(phi)
    assert bound.grad_norm_bound <= phi * without + 1e-12
    truth = max_gradient_norm(ansatz, n_starts=6, seed=0).true_max_estimate
    assert truth <= bound.grad_norm_bound * (1 + 1e-9)
    assert bound.explain()["observables"][0]["changed"][-1]["stage"] == "contraction"


def test_a_channel_some_string_does_not_cross_is_not_a_contraction():
    """Z0 alone: a channel on qubit 1 after the CNOT is crossed by no string of Z0's image (it stays on q0)."""
    circuit = cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[0]), cirq.ry(V).on(Q[1]), cirq.CNOT(*Q),
                           cirq.depolarize(0.3).on(Q[1]), cirq.ry(0.2).on(Q[1]))
    ansatz = as_ansatz(circuit, inputs=["x"], observable=[cirq.Z(Q[0])])
    assert gradient_bound(ansatz).contractions == ()


@pytest.mark.parametrize("channel,observable,factor", [
    (cirq.amplitude_damp(0.5), cirq.X(Q[0]), np.sqrt(0.5)),      # X0's image shows X/Y on q0: √(1 − γ)
    (cirq.bit_flip(0.2), cirq.Z(Q[0]) * cirq.Z(Q[1]), 1 - 2 * 0.2),  # ZZ's image shows Z on q0: 1 − 2p
], ids=["amplitude-damping-on-X", "bit-flip-on-Z"])
def test_a_channel_with_one_factor_on_the_paulis_crossing_it_scales_the_gradient(channel, observable, factor):
    circuit = cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[0]), cirq.ry(V).on(Q[1]), channel.on(Q[0]),
                           cirq.CZ(*Q), cirq.rz(0.3).on(Q[1]))
    ansatz = as_ansatz(circuit, inputs=["x"], observable=[observable])
    bound = gradient_bound(ansatz)
    assert bound.contractions and bound.contractions[0]["factor"] == pytest.approx(factor)
    assert bound.grad_norm_bound <= factor * gradient_bound(ansatz, contraction=False).grad_norm_bound + 1e-12
    truth = max_gradient_norm(ansatz, n_starts=6, seed=0).true_max_estimate
    assert truth <= bound.grad_norm_bound * (1 + 1e-9)
