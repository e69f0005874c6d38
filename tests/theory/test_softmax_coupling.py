"""The softmax loss bound coupled per class (branch and bound over the outputs): below the product bound,
never below the true maximum."""

from __future__ import annotations

import numpy as np
import pytest

from privqml.theory import builtin_ansatz, gradient_bound, loss_gradient_bound
from privqml.theory.exact.tightness import max_gradient_norm
from privqml.theory.refinements.coupling import coupled_softmax_bound


@pytest.mark.parametrize("qubits,layers,classes", [(3, 1, 3), (2, 2, 2), (4, 1, 4)])
def test_the_coupled_softmax_bound_is_tighter_and_sound(qubits, layers, classes):
    ansatz = builtin_ansatz("hea", n_qubits=qubits, n_layers=layers, observable=f"classes:{classes}")
    bound = loss_gradient_bound(ansatz, "softmax_ce")
    assert bound.value < bound.uncoupled_value and "branch and bound" in bound.formula
    truth = max_gradient_norm(ansatz, n_starts=6, seed=0, loss="softmax_ce").true_max_estimate
    assert truth <= bound.value * (1 + 1e-9)


def test_branch_and_bound_is_an_upper_bound_of_a_brute_force_maximum():
    """Without couplings the maximum over f and y of s Σ_c |p_c − 1[c=y]| G_c, found on a fine grid, is below
    what the branch and bound returns, and within its tolerance."""
    ranges, plain, scale = [(-1.0, 1.0)] * 3, [1.0, 0.7, 0.4], 2.0
    grid = np.linspace(-1, 1, 41)
    best = 0.0
    for f in np.array(np.meshgrid(grid, grid, grid)).reshape(3, -1).T:
        p = np.exp(scale * f) / np.exp(scale * f).sum()
        for y in range(3):
            best = max(best, scale * float(np.sum(np.abs(p - np.eye(3)[y]) * plain)))
    value = coupled_softmax_bound(scale, ranges, plain, [None] * 3, tolerance=1e-3, max_boxes=20000)
    assert best <= value <= best * 1.01


def test_a_coupling_lowers_the_bound_where_it_applies():
    ranges, plain, scale = [(-1.0, 1.0)] * 2, [1.0, 1.0], 1.0
    loose = coupled_softmax_bound(scale, ranges, plain, [None, None])
    coupled = coupled_softmax_bound(scale, ranges, plain, [1.0, 1.0])
    assert coupled < loose
    assert gradient_bound(builtin_ansatz("hea", n_qubits=2, n_layers=1, observable="classes:2")).coupled_bound(0)
