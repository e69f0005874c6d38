"""The angle-derivative entries: one per (slot, weight), suprema over the public domain."""

from __future__ import annotations

import math

import cirq
import numpy as np
import sympy

from privqml.theory import Ansatz, parse_observables, slot_table
from privqml.theory.entries import per_weight_sums, slot_entries

Q0, Q1 = cirq.LineQubit.range(2)
B, A, X = sympy.symbols("b a x")  # weight order (b, a): entries come in name order within a slot


def test_entries_in_closed_form():
    circuit = cirq.Circuit(cirq.ry(B + 2 * A).on(Q0), cirq.ry(A * X).on(Q1), cirq.rz(A / X).on(Q1))
    ansatz = Ansatz(circuit, (B, A), (X,), parse_observables("Z0", (Q0, Q1)), input_domain=((-0.5, 2.0),))
    entries = slot_entries(ansatz, slot_table(ansatz))
    assert entries.slot.tolist() == [0, 0, 1, 2] and entries.weight.tolist() == [1, 0, 1, 1]  # a before b
    np.testing.assert_allclose(entries.spread, math.pi)  # rotations: Ω = π per unit exponent (half-turns)
    np.testing.assert_allclose(entries.sup[:3] * math.pi, [2.0, 1.0, 2.0])  # t = angle/π; sup |x| on [-0.5, 2] is 2
    assert entries.constant.tolist() == [True, True, False, False]
    assert math.isinf(entries.sup[3]) and "1/(pi*x)" in entries.reasons[3] and entries.reasons[2] == ""
    sums = per_weight_sums(entries, np.array([True, True, False]), entries.sup, 2)
    np.testing.assert_allclose(sums, [1.0, 4.0])  # [b, a] per radian, the unbounded slot 2 pruned
    assert len(entries) == 4


def test_no_weighted_slot_gives_empty_entries():
    ansatz = Ansatz(cirq.Circuit(cirq.rx(X).on(Q0)), (), (X,), parse_observables("Z0", (Q0,)))
    entries = slot_entries(ansatz, slot_table(ansatz))
    assert len(entries) == 0 and per_weight_sums(entries, np.ones(1, dtype=bool), entries.sup, 0).shape == (0,)
    assert entries.expressions == () and entries.reasons == ()
