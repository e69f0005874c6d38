"""The bound's refinements: closed forms, exact factors, soundness against independent simulation."""

from __future__ import annotations

import json
import math

import cirq
import numpy as np
import pytest
import sympy

from benchmarks.tightness_grid import RESULTS, configurations
from privqml.theory import Ansatz, Readout, builtin_ansatz, gradient_bound, hea, loss_gradient_bound, native
from privqml.theory.exact.tightness import max_gradient_norm
from privqml.theory.pauli import PauliString
from privqml.theory.refinements import REFINEMENTS
from privqml.theory.refinements.commutation import commutes
from privqml.theory.refinements.coupling import coupled_factor, loss_derivatives
from privqml.theory.refinements.noise import noise_factors
from privqml.theory.refinements.stages import STAGES
from privqml.theory.slots import slot_table
from privqml.theory.noise import NoiseModel, with_noise
from tests.theory.test_bounds import fd_jacobian

Q = cirq.LineQubit.range(3)
a, b, x = sympy.symbols("a b x")


def _z(*qubits) -> cirq.PauliSum:
    string = cirq.PauliString()
    for q in qubits:
        string = string * cirq.PauliString(cirq.Z(q))
    return cirq.PauliSum.wrap(string)


def test_product_of_cosines_has_gradient_norm_at_most_one():
    # f = cos a · cos b: ‖∇f‖² = sin²a cos²b + cos²a sin²b ≤ 1, attained at (π/2, 0)
    ansatz = Ansatz(cirq.Circuit(cirq.ry(a).on(Q[0]), cirq.ry(b).on(Q[1])), (a, b), (), (_z(Q[0], Q[1]),))
    refined, base = gradient_bound(ansatz), gradient_bound(ansatz, refine=False)
    assert base.grad_norm_bound == pytest.approx(math.sqrt(2))
    assert refined.grad_norm_bound == pytest.approx(1.0)
    assert dict(refined.refinement_totals())["prefix"] == pytest.approx(1.0)
    assert np.linalg.norm(fd_jacobian(ansatz, [math.pi / 2, 0.0], [])) == pytest.approx(1.0, abs=1e-6)


def test_stages_are_named_and_never_increase():
    for ansatz in (hea(3, 2, observable="sumZ"), native(2, 2, observable="sumZ")):
        totals = gradient_bound(ansatz).refinement_totals()
        assert [name for name, _ in totals] == list(STAGES) == ["bernstein", *REFINEMENTS]
        values = [value for _, value in totals]
        assert all(later <= earlier + 1e-12 for earlier, later in zip(values, values[1:]))
        assert gradient_bound(ansatz).grad_norm_bound == pytest.approx(values[-1])


def test_fsim_commutes_with_the_excitation_number_but_not_with_one_z():
    xx, yy = PauliString(0b11, 0), PauliString(0b11, 0b11)
    z0, z1 = PauliString(0, 0b01), PauliString(0, 0b10)
    assert commutes([(xx, 1.0), (yy, 1.0)], {z0: 1.0, z1: 1.0})
    assert not commutes([(xx, 1.0), (yy, 1.0)], {z0: 1.0})
    assert not commutes([(xx, 1.0)], {z0: 1.0, z1: 1.0})
    assert not commutes([(xx, 1.0), (yy, 1.0)], {z0: 1.0, z1: 0.5})  # unequal weights break the symmetry
    # exact, not within a tolerance: weights one unit in the last place apart do not commute either
    assert not commutes([(xx, 1.0), (yy, 1.0)], {z0: 1.0, z1: 1.0 + 2.0**-52})
    assert not commutes([(xx, 1.0), (yy, 1.0 + 2.0**-52)], {z0: 1.0, z1: 1.0})


def test_the_whole_observable_walk_keeps_a_tiny_non_commuting_remainder():
    # ry(π/2) · rz(w) · rx(1e-15), Z measured: |∂f/∂w| reaches sin(1e-15); the exact walk must not
    # prune rz for the whole observable, and the base walk bounds it by the carried remainder
    w = sympy.Symbol("w")
    circuit = cirq.Circuit(cirq.ry(np.pi / 2).on(Q[0]), cirq.rz(w).on(Q[0]), cirq.rx(1e-15).on(Q[0]))
    bound = gradient_bound(Ansatz(circuit, (w,), (), (_z(Q[0]),)))
    assert bound.n_pruned_whole_observable == 0 and bound.zero_weights == ()
    assert math.sin(1e-15) <= bound.grad_norm_bound <= 1.000001e-15
    (row,) = bound.explain()["observables"][0]["near_zero"]
    assert row["slot"] == 0 and row["factor"] == pytest.approx(1e-15, rel=1e-6)


def test_the_last_fsim_drops_out_of_sum_z_exactly():
    ansatz = native(2, 1, observable="sumZ")
    bound = gradient_bound(ansatz)
    totals = dict(bound.refinement_totals())
    assert totals["commutation"] < 0.6 * totals["bernstein"]
    pruned = [row for row in bound.explain()["observables"][0]["pruned"] if row["refinement"] == "commutation"]
    assert any("XX" in row["gate"] for row in pruned) and any("YY" in row["gate"] for row in pruned)
    # and the refined bound is the true maximum there (4.443 = π√2, found by the optimiser)
    true_max = max_gradient_norm(ansatz, n_starts=6, seed=1).true_max_estimate
    assert true_max <= bound.grad_norm_bound + 1e-9
    assert bound.grad_norm_bound == pytest.approx(math.pi * math.sqrt(2), rel=1e-9)


def _single_qubit(gate, channel) -> Ansatz:
    ops = [cirq.rx(x).on(Q[0]), gate(a).on(Q[0])] + ([channel.on(Q[0])] if channel is not None else [])
    observable = cirq.PauliSum.wrap(cirq.Z(Q[0]) if gate is not cirq.rz else cirq.X(Q[0]))
    return Ansatz(cirq.Circuit(ops), (a,), (x,), (observable,))


@pytest.mark.parametrize(
    "gate, channel, factor",
    [
        (cirq.ry, cirq.depolarize(0.1), 1 - 4 * 0.1 / 3),
        (cirq.rz, cirq.amplitude_damp(0.2), math.sqrt(0.8)),
        (cirq.rx, cirq.amplitude_damp(0.2), math.sqrt(0.8)),
        (cirq.rz, cirq.phase_flip(0.1), 0.8),
        (cirq.rz, cirq.bit_flip(0.1), 1.0),  # X components untouched: no gain for a Z generator
        (cirq.ry, cirq.phase_damp(0.3), 1.0),  # Z untouched: no gain for a Y generator
        (cirq.rx, cirq.bit_flip(0.1), 0.8),  # Y and Z both scaled by 1 - 2p
    ],
)
def test_a_channel_after_a_slot_scales_it_by_the_largest_pauli_factor(gate, channel, factor):
    noisy = _single_qubit(gate, channel)
    slot = [row.index for row in slot_table(noisy).rows if row.weight_derivatives][0]
    assert noise_factors(slot_table(noisy)).factors[slot] == pytest.approx(factor, abs=1e-12)
    bound = gradient_bound(noisy, readout=False).grad_norm_bound  # the noise stage alone
    assert bound == pytest.approx(factor * gradient_bound(_single_qubit(gate, None)).grad_norm_bound, abs=1e-12)
    final = gradient_bound(noisy).grad_norm_bound  # with the channel folded into the observable where it trails
    true_max = max_gradient_norm(noisy, n_starts=4, seed=0).true_max_estimate
    assert true_max <= final + 1e-9 and final <= bound + 1e-12


def test_depolarising_factor_is_attained():
    noisy = _single_qubit(cirq.ry, cirq.depolarize(0.3))
    true_max = max_gradient_norm(noisy, n_starts=4, seed=0).true_max_estimate
    assert true_max == pytest.approx(1 - 0.4, rel=1e-6) and gradient_bound(noisy).grad_norm_bound == pytest.approx(0.6)


def test_a_multi_qubit_slot_needs_a_channel_on_every_qubit():
    p = 0.15
    phi = 1 - 4 * p / 3
    both = Ansatz(cirq.Circuit(cirq.XXPowGate(exponent=a).on(Q[0], Q[1]), cirq.depolarize(p).on_each(Q[0], Q[1])),
                  (a,), (), (_z(Q[0]),))
    one = Ansatz(cirq.Circuit(cirq.XXPowGate(exponent=a).on(Q[0], Q[1]), cirq.depolarize(p).on(Q[1])),
                 (a,), (), (_z(Q[0]),))
    assert noise_factors(slot_table(both)).factors[0] == pytest.approx(1 - (1 - phi) ** 2)
    assert noise_factors(slot_table(one)).factors[0] == 1.0
    for ansatz in (both, one):
        assert max_gradient_norm(ansatz, n_starts=4, seed=0).true_max_estimate <= gradient_bound(ansatz).grad_norm_bound + 1e-9


def test_noise_is_never_a_global_rescaling_of_h():
    # a channel on another qubit after the last gate leaves the live slot's factor at 1
    ansatz = Ansatz(cirq.Circuit(cirq.ry(a).on(Q[0]), cirq.depolarize(0.5).on(Q[1])), (a,), (), (_z(Q[0]),))
    assert gradient_bound(ansatz).grad_norm_bound == pytest.approx(1.0)


def test_depolarised_hea_is_strictly_below_the_noiseless_bound_and_sound():
    clean = hea(2, 2)
    noisy = with_noise(clean, NoiseModel((("depolarize", 0.01),)))
    assert gradient_bound(noisy).grad_norm_bound < gradient_bound(clean).grad_norm_bound
    assert max_gradient_norm(noisy, n_starts=3, seed=2).true_max_estimate <= gradient_bound(noisy).grad_norm_bound


def test_loss_coupling_figures():
    mse = coupled_factor(loss_derivatives("mse", 1.0, -1.0, 1.0, None), -1.0, 1.0)
    assert 3 * math.sqrt(3) / 2 <= mse <= 3 * math.sqrt(3) / 2 * (1 + 1e-3)  # 2.598, not 4
    scaled = hea(2, 1, scale=2.0)
    bce = loss_gradient_bound(scaled, "bce_logits")
    assert bce.uncoupled_value == pytest.approx(2 * (1 / (1 + math.exp(-2))))  # 1.76
    assert bce.value == pytest.approx(1.270, abs=2e-3)


@pytest.mark.parametrize("loss", ["mse", "bce_logits"])
@pytest.mark.parametrize("spec", ["hea:2:1", "reupload:2:1", "hea:2:2"])
def test_coupled_loss_bound_holds_against_the_optimiser(loss, spec):
    family, qubits, layers = spec.split(":")
    ansatz = builtin_ansatz(family, n_qubits=int(qubits), n_layers=int(layers), scale=2.0)
    bound = loss_gradient_bound(ansatz, loss)
    assert bound.value < bound.uncoupled_value
    true_max = max_gradient_norm(ansatz, n_starts=6, seed=3, loss=loss).true_max_estimate
    assert true_max <= bound.value + 1e-9


def test_no_coupling_for_weights_entering_nonlinearly():
    ansatz = Ansatz(cirq.Circuit(cirq.ry(a * a / 4).on(Q[0])), (a,), (), (_z(Q[0]),),
                    input_domain=(), readout=Readout(scale=1.0))
    assert gradient_bound(ansatz).coupled_bound() is None


@pytest.mark.parametrize("family", ["hea", "reupload"])
@pytest.mark.parametrize("observable", ["Z0", "Z0*Z1", "sumZ"])
def test_two_qubit_grid_is_sound_against_a_fresh_optimiser_run(family, observable):
    ansatz = builtin_ansatz(family, n_qubits=2, n_layers=2, observable=observable)
    bound = gradient_bound(ansatz).grad_norm_bound
    true_max = max_gradient_norm(ansatz, n_starts=6, seed=5).true_max_estimate
    assert true_max <= bound + 1e-9
    assert bound / true_max <= 1.5


def test_the_54_configuration_grid_meets_its_targets():
    """Against the true maxima kept with the tightness benchmark (30 optimiser starts each)."""
    maxima = json.loads((RESULTS / "tightness_truemax.json").read_text())
    ratios = []
    for family, q, l, o in configurations():
        true_max = maxima[f"{family}:q={q},l={l},obs={o},starts=30"]
        bound = gradient_bound(builtin_ansatz(family, n_qubits=q, n_layers=l, observable=o)).grad_norm_bound
        assert bound >= true_max * (1 - 1e-9), (family, q, l, o, bound, true_max)
        ratios.append(bound / true_max)
    assert len(ratios) == 54
    assert math.exp(np.mean(np.log(ratios))) <= 1.15
    assert max(ratios) <= 1.5


def test_explain_names_the_prefix_and_suffix_weights():
    explained = gradient_bound(native(2, 2, observable="sumZ")).explain()["observables"][0]
    prefix_weights = {w for group in explained["prefix"] for w in group["weights"]}
    suffix_weights = {w for row in explained["suffix"] for w in row["weights"]}
    assert {"px0_0", "px0_1"} <= prefix_weights
    assert {"px1_0", "px1_1"} <= suffix_weights and not prefix_weights & suffix_weights


def test_sampled_bounds_take_no_refinement():
    ansatz = hea(3, 2)
    sampled = gradient_bound(ansatz, sampled=True)
    assert sampled.refinements == () and sampled.coupled_bound() is None
    assert sampled.grad_norm_bound >= gradient_bound(ansatz, refine=False).grad_norm_bound
