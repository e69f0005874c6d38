"""The directional form: sign vectors over exact multi-weight rows, relaxed rows entrywise."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.theory import Ansatz, parse_observables, slot_table
from privqml.theory.directional import MAX_SIGN_ROWS, directional_form
from privqml.theory.entries import SlotEntries, per_weight_sums, slot_entries

Q0 = cirq.LineQubit(0)
W0, W1, X = sympy.symbols("w0 w1 x")


def _entries(*angles, inputs=()) -> tuple[SlotEntries, int]:
    ansatz = Ansatz(cirq.Circuit(cirq.rx(a).on(Q0) for a in angles), (W0, W1), inputs, parse_observables("Z0", (Q0,)),
                    input_domain=tuple((0.0, 2.0) for _ in inputs))
    table = slot_table(ansatz)
    return slot_entries(ansatz, table), table.n_slots


def test_rows_with_opposite_signs_cancel_in_the_directional_form():
    """rx(w0 + w1) rx(w0 − w1): rows (1, 1) and (1, −1) per radian. Coordinate form ‖(2, 2)‖ = 2√2;
    directional max_σ ‖|r1 + σ r2|‖ = ‖(2, 0)‖ = 2."""
    entries, n_slots = _entries(W0 + W1, W0 - W1)
    live = np.ones(n_slots, dtype=bool)
    coordinate = np.linalg.norm(per_weight_sums(entries, live, entries.sup, 2))
    assert coordinate == pytest.approx(2 * math.sqrt(2))
    assert directional_form(entries, live, 2) == pytest.approx(2.0)


def test_single_weight_rows_reduce_to_the_coordinate_form():
    entries, n_slots = _entries(W0, 2 * W1, W0)
    live = np.ones(n_slots, dtype=bool)
    assert directional_form(entries, live, 2) == pytest.approx(math.hypot(2.0, 2.0))
    live[0] = False  # a pruned slot contributes nothing
    assert directional_form(entries, live, 2) == pytest.approx(math.hypot(1.0, 2.0))


def test_input_dependent_rows_are_relaxed_entrywise():
    """rx(x·(w0 + w1)) with x ∈ [0, 2]: not constant, so |∂t/∂w_j| ≤ 2 each, ‖(2, 2)‖."""
    entries, n_slots = _entries(X * (W0 + W1), inputs=(X,))
    assert directional_form(entries, np.ones(n_slots, dtype=bool), 2) == pytest.approx(2 * math.sqrt(2))


def test_a_component_with_too_many_rows_is_relaxed():
    angles = [W0 + W1 if k % 2 else W0 - W1 for k in range(MAX_SIGN_ROWS + 2)]
    entries, n_slots = _entries(*angles)
    relaxed = np.linalg.norm(per_weight_sums(entries, np.ones(n_slots, dtype=bool), entries.sup, 2))
    assert directional_form(entries, np.ones(n_slots, dtype=bool), 2) == pytest.approx(relaxed)


def test_an_unbounded_relaxed_row_gives_infinity():
    entries, n_slots = _entries(W0 / X, W1, inputs=(X,))
    assert entries.reasons[0] and math.isinf(entries.sup[0])
    assert math.isinf(directional_form(entries, np.ones(n_slots, dtype=bool), 2))
