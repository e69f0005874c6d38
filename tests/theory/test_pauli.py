"""Backward Pauli propagation: exact cases, the light-cone fallback, soundness of the superset."""

import cirq
import sympy

from privqml.theory import Ansatz, canonicalize, hea
from privqml.theory.pauli import PauliString, heisenberg_image, live_slots, pauli_from_cirq

q = cirq.LineQubit.range(3)
a, b, c = sympy.symbols("a b c")


def _live(circuit, observable, **kwargs):
    ansatz = Ansatz(circuit, tuple(sorted(cirq.parameter_symbols(circuit), key=str)), (), (cirq.PauliSum.wrap(observable),))
    index = {qq: i for i, qq in enumerate(ansatz.qubits)}
    canonical = canonicalize(ansatz)
    return live_slots(canonical, pauli_from_cirq(observable, index), index, **kwargs), canonical


def test_symplectic_algebra():
    x0, z0, y0 = PauliString(1, 0), PauliString(0, 1), PauliString(1, 1)
    assert x0.anticommutes(z0) and not x0.anticommutes(x0)
    assert x0.times(z0) == y0
    assert not PauliString(0b11, 0).anticommutes(PauliString(0, 0b11))  # XX commutes with ZZ


def test_heisenberg_image_of_fixed_gates_and_channels():
    # H^dag Z H = X ; CNOT^dag (Z0) CNOT = Z0 ; depolarising keeps the string (scaled)
    assert heisenberg_image(cirq.H(q[0]), (3,)) == ((1,),)
    assert heisenberg_image(cirq.CNOT(q[0], q[1]), (3, 0)) == ((3, 0),)
    assert heisenberg_image(cirq.CNOT(q[0], q[1]), (0, 3)) == ((3, 3),)
    assert heisenberg_image(cirq.depolarize(0.1).on(q[0]), (1,)) == ((1,),)
    # amplitude damping maps Z to a combination of I and Z
    assert set(heisenberg_image(cirq.amplitude_damp(0.3).on(q[0]), (3,))) == {(0,), (3,)}


def test_commuting_slot_after_the_last_noncommuting_gate_is_pruned():
    circuit = cirq.Circuit(cirq.ry(a).on(q[0]), cirq.rz(b).on(q[0]))
    result, _ = _live(circuit, cirq.Z(q[0]))
    assert result.live == {0} and result.commuting == {1}


def test_rz_before_ry_is_live():
    circuit = cirq.Circuit(cirq.rx(c).on(q[0]), cirq.rz(b).on(q[0]), cirq.ry(a).on(q[0]))
    result, _ = _live(circuit, cirq.Z(q[0]))
    assert result.live == {0, 1, 2}


def test_fallback_to_light_cone_is_sound_and_reported():
    ansatz = hea(3, 3)
    index = {qq: i for i, qq in enumerate(ansatz.qubits)}
    canonical = canonicalize(ansatz)
    term = pauli_from_cirq(next(iter(ansatz.observables[0])), index)
    exact = live_slots(canonical, term, index, max_strings=10_000)
    cone = live_slots(canonical, term, index, max_strings=1)
    assert cone.fell_back_at is not None
    assert exact.live <= cone.live  # the fallback only ever keeps more slots
