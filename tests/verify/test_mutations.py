"""The mutation check: with the bound deliberately weakened, the properties find a counterexample.

Each test weakens the bound without touching the theory code (a rewritten record, or the real
derivation handed a slot table with scaled spreads) and asserts that the property run FAILS with a
shrunk counterexample of the expected property — the tests have teeth. ``privqml verify NAME
--weaken 0.9`` must fail in the CI profile wherever a bound is attained; on a sample of the built-in
grid it is run here through the command's own code path (``benchmarks/weaken_grid.py`` runs all 54).
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from privqml.cli.verify import run_verify
from privqml.theory import gradient_bound, hea, reupload, slot_table
from privqml.verify.mutations import pruned_bound, scaled_bound, scaled_spreads, spreads_scaled
from privqml.verify.runner import verify_ansatz, verify_random_ansatze
from privqml.verify.strategies import ansatze

ENGINES = ("adjoint", "numeric")


def _only(ansatz, weakened):
    """bound_fn: the weakened bound for ``ansatz``, the real one for anything else (noisy variants)."""
    return lambda a: weakened if a is ansatz else gradient_bound(a)


def test_halving_the_ry_spread_in_the_derivation_is_caught():
    ansatz = hea(2, 1)
    table = slot_table(ansatz)
    weakened_table = scaled_spreads(table, 0.5, cirq.YPowGate)
    halved = [k for k, (a, b) in enumerate(zip(table.rows, weakened_table.rows)) if b.spread != a.spread]
    assert len(halved) == 2 and all(isinstance(table.rows[k].slot.operation.gate, cirq.YPowGate) for k in halved)
    np.testing.assert_allclose(weakened_table.spreads[halved], 0.5 * table.spreads[halved])
    weakened = spreads_scaled(0.5, cirq.YPowGate)(ansatz)
    honest = gradient_bound(ansatz)
    assert weakened.per_weight["ry0_0"] == pytest.approx(0.5 * honest.per_weight["ry0_0"])
    assert weakened.per_weight["rz0_0"] == pytest.approx(honest.per_weight["rz0_0"])
    assert slot_table(ansatz) is table and table.spreads[halved[0]] == pytest.approx(np.pi)  # the real table untouched
    report = verify_ansatz(ansatz, engines=ENGINES, properties=("per_weight", "total"), examples=30,
                           bound_fn=_only(ansatz, weakened))
    assert not report.passed
    counterexample = report.counterexample
    assert counterexample.property == "per_weight" and counterexample.engine in ENGINES
    assert counterexample.ratio > 1.0 and "ry0_0" in counterexample.detail
    assert len(counterexample.weights) == ansatz.n_weights and len(counterexample.inputs) == ansatz.n_inputs
    # and the honest bound passes on the same search
    assert verify_ansatz(ansatz, engines=ENGINES, properties=("per_weight", "total"), examples=30).passed


def test_pruning_a_live_weight_is_caught_by_the_zero_property():
    ansatz = hea(2, 2)
    honest = gradient_bound(ansatz)
    assert "ry0_0" not in honest.zero_weights
    weakened = pruned_bound(honest, ["ry0_0"])
    assert "ry0_0" in weakened.zero_weights and weakened.per_weight["ry0_0"] == 0.0
    report = verify_ansatz(ansatz, engines=ENGINES, properties=("zero",), examples=20, bound_fn=_only(ansatz, weakened))
    assert not report.passed and report.counterexample.property == "zero"
    assert "ry0_0" in report.counterexample.detail


def test_commutation_rule_applied_where_it_does_not_hold_is_caught():
    """The rz of layer 0 is followed by an ry, so it does not commute with the measured Z:
    pruning it as if it did (as the last layer's rz rightly is) must be caught."""
    ansatz = hea(2, 2)
    honest = gradient_bound(ansatz)
    assert "rz1_0" in honest.zero_weights and "rz0_0" not in honest.zero_weights
    report = verify_ansatz(ansatz, engines=ENGINES, properties=("per_weight", "zero"), examples=20,
                           bound_fn=_only(ansatz, pruned_bound(honest, ["rz0_0"])))
    assert not report.passed and report.counterexample.property in ("per_weight", "zero")


def test_a_ten_percent_weaker_bound_is_caught_where_the_bound_is_tight():
    ansatz = reupload(1, 1)  # ry(w·x + b) then rz: |∂f/∂b| reaches its bound 1 at b = π/2
    weakened = scaled_bound(gradient_bound(ansatz), 0.9)
    report = verify_ansatz(ansatz, engines=ENGINES, properties=("per_weight",), examples=40,
                           bound_fn=_only(ansatz, weakened))
    assert not report.passed and report.counterexample.ratio > 1.0


def test_halved_spreads_are_caught_on_random_ansatze():
    report = verify_random_ansatze(ansatze(max_qubits=2, max_layers=1), engines=ENGINES,
                                   properties=("per_weight",), examples=30, bound_fn=spreads_scaled(0.5))
    assert not report.passed
    assert report.counterexample.property == "per_weight" and report.counterexample.circuit


def test_the_loss_bound_inherits_the_weakening():
    ansatz = hea(1, 1)
    weakened = scaled_bound(gradient_bound(ansatz), 0.5)
    report = verify_ansatz(ansatz, engines=ENGINES, properties=("loss",), examples=40, bound_fn=_only(ansatz, weakened))
    assert not report.passed and report.counterexample.property == "loss"
    assert dict(report.counterexample.extra)["loss"] in ("bce_logits", "mse", "hinge", "bce_prob")


def test_scaled_bound_rescales_totals_consistently():
    bound = gradient_bound(hea(3, 2))
    weakened = scaled_bound(bound, 0.5)
    np.testing.assert_allclose(weakened.per_observable, np.asarray(bound.per_observable) * 0.5)
    assert weakened.pointwise(np.zeros(3)) == pytest.approx(0.5 * bound.pointwise(np.zeros(3)))


#: reupload 2q1l Z0 (its bound is attained only at |x| = π), one configuration of each family, and
#: ones the CI search missed before it probed corners
WEAKEN_SAMPLE = [("reupload", 2, 1, "Z0"), ("reupload", 2, 2, "Z0*Z1"), ("hea", 2, 2, "Z0"), ("hea", 3, 1, "Z0*Z1"),
                 ("hea", 4, 1, "Z0"), ("native", 2, 1, "sumZ")]


@pytest.mark.parametrize("family,qubits,layers,observable", WEAKEN_SAMPLE,
                         ids=[f"{f}-{q}q{l}l-{o}" for f, q, l, o in WEAKEN_SAMPLE])
def test_weaken_0_9_fails_in_the_ci_profile_and_the_honest_bound_passes(family, qubits, layers, observable):
    options = dict(qubits=qubits, layers=layers, observable=observable, profile="ci", seed=0)  # the CLI's defaults
    weakened = run_verify(family, weaken=0.9, **options)
    assert not weakened.passed  # the command exits 1
    counterexample = weakened.counterexample
    assert counterexample.property in ("per_weight", "total", "loss") and counterexample.ratio > 1.0
    # a per-weight bound is attained at a corner: observed / (0.9 B_j) = 1/0.9 (float32 adjoint within 1e-5)
    assert weakened.property("per_weight").max_ratio == pytest.approx(1 / 0.9, rel=1e-5)
    honest = run_verify(family, **options)
    assert honest.passed and honest.counterexample is None
    assert honest.property("per_weight").max_ratio == pytest.approx(1.0, rel=1e-5)
