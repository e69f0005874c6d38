"""Refinement ``split``: O = c̄·S + B makes the bound continuous in the observable's coefficients, and stays sound."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy

from privqml.api import as_ansatz
from privqml.theory import gradient_bound
from privqml.theory.exact.tightness import max_gradient_norm

Q = cirq.LineQubit.range(2)
W, V, X = sympy.symbols("w v x")
# XX^w·YY^w conserves Z0 + Z1: the whole-observable commutation prunes w for S = Z0 + Z1 only
CIRCUIT = cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(V).on(Q[0]), cirq.ry(0.3).on(Q[1]), (cirq.XX ** W).on(*Q),
                       (cirq.YY ** W).on(*Q))


def _ansatz(delta: float):
    return as_ansatz(CIRCUIT, inputs=["x"], observable=[cirq.Z(Q[0]) + (1 + delta) * cirq.Z(Q[1])])


@pytest.mark.parametrize("delta", [1e-7, -1e-7, 1e-4])
def test_the_bound_is_continuous_at_a_commuting_observable(delta):
    at_zero = gradient_bound(_ansatz(0.0)).grad_norm_bound
    near = gradient_bound(_ansatz(delta))
    assert at_zero > 0 and near.grad_norm_bound <= 1.1 * at_zero
    assert near.refinements[-1] == "split" and near.splits[0]["level"] == pytest.approx(1.0, abs=abs(delta))
    assert near.refinement_totals()[-1] == ("split", pytest.approx(near.grad_norm_bound))
    without = gradient_bound(_ansatz(delta), split=False).grad_norm_bound
    assert without > 5 * near.grad_norm_bound  # the jump it removes


@pytest.mark.parametrize("delta", [0.3, -0.6, 2.0])
def test_the_split_bound_is_never_below_the_true_maximum(delta):
    ansatz = _ansatz(delta)
    bound = gradient_bound(ansatz)
    truth = max_gradient_norm(ansatz, n_starts=8, seed=1).true_max_estimate
    assert bound.grad_norm_bound >= truth * (1 - 1e-9)
    per_weight = np.asarray(bound.per_weight_by_observable[0])
    assert np.all(per_weight >= 0) and np.linalg.norm(per_weight) >= truth * (1 - 1e-9)


def test_a_single_term_or_unhelpful_split_changes_nothing():
    single = as_ansatz(CIRCUIT, inputs=["x"], observable=[cirq.Z(Q[0])])
    assert gradient_bound(single).splits == () and "split" not in gradient_bound(single).refinements
    other = as_ansatz(CIRCUIT, inputs=["x"], observable=[cirq.X(Q[0]) + 0.5 * cirq.Z(Q[1])])
    assert gradient_bound(other).splits == ()


def test_explain_names_every_refinement_that_lowered_the_bound():
    near = gradient_bound(_ansatz(1e-7)).explain()["observables"][0]
    assert [row["stage"] for row in near["changed"]][-1] == "split" and near["split"]["level"] == pytest.approx(1.0)
    assert near["stages"][-1] == {"stage": "split", "bound": pytest.approx(near["split"]["total"])}
    from privqml.theory import builtin_ansatz

    entry = gradient_bound(builtin_ansatz("hea", n_qubits=3, n_layers=2, observable="sumZ")).explain()["observables"][0]
    changed = [row["stage"] for row in entry["changed"]]
    # the prefix block beside the per-weight bounds of the rest already reaches what the term quadrature gave
    assert changed == ["prefix"] and all(row["to"] < row["from"] for row in entry["changed"])
    assert entry["stages"][-1]["bound"] == pytest.approx(2 * 3**0.5)
    assert len(entry["terms"]) == 3 and all(row["weights"] for row in entry["terms"])
    assert entry["blocks"] and all(row["weights"] for row in entry["blocks"])
