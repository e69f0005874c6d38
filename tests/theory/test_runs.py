"""Runs of fixed operations merged for the Heisenberg walk (:mod:`privqml.theory.runs`), the prefix that defers
Z-covariant channels, and what they buy on device circuits: bounds below the noiseless ones that stay above the
exact density-matrix maxima, also under exaggerated calibrations."""

from __future__ import annotations

import itertools

import cirq
import numpy as np
import pytest
import sympy

from privqml.api import as_ansatz
from privqml.theory import gradient_bound
from privqml.theory.builtins import hea
from privqml.theory.devices import noise_properties, on_device
from privqml.theory.exact.tightness import max_gradient_norm
from privqml.theory.noise import KrausGate
from privqml.theory.pauli import best_live_slots, live_slots, pauli_from_cirq
from privqml.theory.refinements.prefix import prefix_structure, z_covariant
from privqml.theory.runs import FixedRun, merge_fixed_runs
from privqml.theory.slots import slot_table
from tests.theory.test_general_channels import over_rotation, random_channel, stinespring

Q = cirq.LineQubit.range(3)
_PAULIS = [cirq.I, cirq.X, cirq.Y, cirq.Z]


def _random_run(rng: np.random.Generator) -> list[cirq.Operation]:
    """Fixed operations on Q[0], Q[1]: √iSWAP, random unitaries, coherent FSim errors and random channels."""
    ops = []
    for _ in range(int(rng.integers(3, 9))):
        kind = int(rng.integers(5))
        if kind == 0:
            ops.append(cirq.SQRT_ISWAP(Q[0], Q[1]) if rng.random() < 0.5 else cirq.SQRT_ISWAP(Q[1], Q[0]))
        elif kind == 1:
            ops.append(cirq.MatrixGate(cirq.testing.random_unitary(2, random_state=int(rng.integers(2**31)))).on(Q[int(rng.integers(2))]))
        elif kind == 2:
            ops.append(cirq.PhasedFSimGate(theta=float(rng.uniform(-0.3, 0.3)), phi=float(rng.uniform(-0.5, 0.5)),
                                           zeta=float(rng.uniform(-0.2, 0.2))).on(Q[1], Q[0]))
        elif kind == 3:
            ops.append(random_channel(rng).on(Q[int(rng.integers(2))]))
        else:
            ops.append(cirq.depolarize(float(rng.uniform(0, 0.2)), n_qubits=2).on(Q[0], Q[1]))
    return ops


@pytest.mark.parametrize("seed", range(6))
def test_a_run_transfer_matrix_is_the_composed_map_simulated_by_cirq(seed):
    """Tr[σ_l E(ρ)] = Σ_s T[s, l] Tr[σ_s ρ] for random input states, E simulated by Cirq's density-matrix simulator."""
    rng = np.random.default_rng(seed)
    ops = _random_run(rng)
    run = FixedRun(tuple(ops), (Q[0], Q[1]))
    simulator = cirq.DensityMatrixSimulator(dtype=np.complex128)
    labels = list(itertools.product(range(4), repeat=2))
    for _ in range(3):
        rho = cirq.testing.random_density_matrix(4, random_state=int(rng.integers(2**31)))
        out = simulator.simulate(cirq.Circuit(ops), initial_state=rho, qubit_order=Q[:2]).final_density_matrix
        before = np.array([np.real(np.trace(cirq.unitary(cirq.DensePauliString([_PAULIS[a], _PAULIS[b]])) @ rho))
                           for a, b in labels])
        for column, (a, b) in enumerate(labels):
            sigma = cirq.unitary(cirq.DensePauliString([_PAULIS[a], _PAULIS[b]]))
            assert np.real(np.trace(sigma @ out)) == pytest.approx(run.transfer[:, column] @ before, abs=1e-10)
    image = dict(run.image((3, 0)))
    assert set(image) == set(labels) and image[(0, 0)] == pytest.approx(run.transfer[0, 12])


def test_merging_keeps_the_slots_in_order_and_every_operation_once():
    device = on_device(hea(3, 2), "rainbow")
    canonical = slot_table(device.ansatz).canonical
    merged = merge_fixed_runs(canonical)
    assert [s for s in merged.slot_of if s >= 0] == [s for s in canonical.slot_of if s >= 0]
    runs = [op.gate for op in merged.operations if isinstance(op.gate, FixedRun)]
    assert runs and all(len(r.run_qubits) <= 2 and len(r.operations) >= 2 for r in runs)
    kept = [op for op, s in zip(merged.operations, merged.slot_of) if s < 0 and not isinstance(op.gate, FixedRun)]
    assert sum(len(r.operations) for r in runs) + len(kept) == sum(1 for s in canonical.slot_of if s < 0)
    assert len(merged.operations) < len(canonical.operations) / 3
    # every operation of a run sits, in the original circuit, between the same slots on its qubits
    for op in merged.operations:
        if isinstance(op.gate, FixedRun):
            assert all(set(member.qubits) <= set(op.qubits) for member in op.gate.operations)


def test_the_merged_walk_restores_the_compiled_cz_and_the_best_walk_takes_the_smallest_factor():
    device = on_device(hea(2, 1), "rainbow")
    ansatz = device.ansatz
    canonical = slot_table(ansatz).canonical
    index = {q: i for i, q in enumerate(ansatz.qubits)}
    term = pauli_from_cirq(next(t for t in ansatz.observables[0] if len(t)), index)
    plain = live_slots(canonical, term, index).factors(len(canonical.slots))
    best = best_live_slots(canonical, term, index).factors(len(canonical.slots))
    assert np.all(best <= plain) and np.sum(best) < np.sum(plain)
    # the slots the noiseless circuit prunes are near zero, not live: the coherent FSim error and the channels
    # make them non-zero, by a small fraction of their Bernstein bound
    # (live: the input slot and ry0_0 of the observable's qubit, as in the logical circuit)
    assert np.count_nonzero(best == 1.0) == 2 and np.all(best[(best > 0) & (best < 1)] < 0.3)


def test_z_covariant_channels_are_recognised_exactly():
    q = Q[0]
    for op in (cirq.amplitude_damp(0.3), cirq.phase_damp(0.2), cirq.depolarize(0.1), cirq.phase_flip(0.2),
               cirq.generalized_amplitude_damp(0.3, 0.4), cirq.ResetChannel(), cirq.Z**0.3, cirq.S):
        assert z_covariant(op.on(q)), op
    for op in (cirq.bit_flip(0.1), cirq.rx(0.3), cirq.asymmetric_depolarize(0.1, 0.0, 0.0),
               KrausGate([cirq.unitary(cirq.rx(0.2)) @ k for k in cirq.kraus(cirq.amplitude_damp(0.2))], "turned")):
        assert not z_covariant(op.on(q)), op
    assert not z_covariant(cirq.CZ(Q[0], Q[1]))


def _prefix_circuit(rng: np.random.Generator, between) -> "as_ansatz":
    w = sympy.symbols("w0:4")
    x = sympy.Symbol("x")
    ops = [cirq.rx(x).on(Q[0]), cirq.rx(x).on(Q[1]), cirq.amplitude_damp(float(rng.uniform(0.05, 0.3))).on(Q[0]),
           cirq.ry(w[0]).on(Q[0]), *[op.on(Q[0]) for op in between], cirq.rz(w[1]).on(Q[0]),
           cirq.ry(w[2]).on(Q[1]), cirq.CZ(Q[0], Q[1]), cirq.ry(w[3]).on(Q[0])]
    observable = cirq.X(Q[0]) if rng.random() < 0.5 else cirq.Y(Q[0]) * cirq.Z(Q[1])
    return as_ansatz(cirq.Circuit(ops), inputs=["x"], observable=[observable])


@pytest.mark.parametrize("seed", range(5))
def test_a_deferred_channel_keeps_the_prefix_and_the_bound_above_the_exact_maximum(seed):
    rng = np.random.default_rng([11, seed])
    between = [cirq.amplitude_damp(float(rng.uniform(0.05, 0.9))), cirq.phase_damp(float(rng.uniform(0, 0.5))),
               cirq.Z ** float(rng.uniform(-1, 1)), cirq.depolarize(float(rng.uniform(0, 0.2)))]
    rng.shuffle(between)
    ansatz = _prefix_circuit(rng, between)
    table = slot_table(ansatz)
    prefix = {p.qubit: p.slots for p in prefix_structure(table, tuple(ansatz.qubits)).qubits}
    rz = next(k for k, row in enumerate(table.rows) if "w1" in str(row.slot.operation))
    assert rz in prefix[0]  # rz joined the prefix across the channels, which commute with it
    bound = gradient_bound(ansatz).grad_norm_bound
    truth = max_gradient_norm(ansatz, n_starts=6, seed=seed).true_max_estimate
    assert bound >= truth * (1 - 1e-9), (seed, bound, truth)


def test_a_channel_that_does_not_commute_with_z_rotations_ends_the_prefix():
    rng = np.random.default_rng(5)
    for between in ([cirq.amplitude_damp(0.2), cirq.bit_flip(0.1)], [cirq.amplitude_damp(0.2), cirq.X**0.5],
                    [KrausGate(stinespring(rng, 2), "stinespring2")]):
        ansatz = _prefix_circuit(rng, between)
        table = slot_table(ansatz)
        prefix = {p.qubit: p.slots for p in prefix_structure(table, tuple(ansatz.qubits)).qubits}
        rz = next(k for k, row in enumerate(table.rows) if "w1" in str(row.slot.operation))
        assert rz not in prefix[0]
        bound = gradient_bound(ansatz).grad_norm_bound
        assert bound >= max_gradient_norm(ansatz, n_starts=4, seed=0).true_max_estimate * (1 - 1e-9)


def _exaggerated():
    """Rainbow with a 5× shorter T1 and Tφ, 20× the gate errors and a large coherent FSim error on every coupler."""
    properties = noise_properties("rainbow")
    return properties.with_params(
        t1_ns={q: t / 5 for q, t in properties.t1_ns.items()},
        tphi_ns={q: t / 5 for q, t in properties.tphi_ns.items()},
        gate_pauli_errors={k: min(0.05, 20 * v) for k, v in properties.gate_pauli_errors.items()},
        fsim_errors=cirq.PhasedFSimGate(theta=0.08, zeta=0.1, chi=0.05, gamma=0.1, phi=0.6))


@pytest.mark.parametrize("device", ["rainbow", "weber", "exaggerated"])
@pytest.mark.parametrize("n_qubits", [2, 3])
def test_device_bounds_are_below_the_noiseless_ones_and_above_the_exact_maximum(device, n_qubits):
    source = hea(n_qubits, 1)
    placed = on_device(source, _exaggerated() if device == "exaggerated" else device)
    bound = gradient_bound(placed.ansatz).grad_norm_bound
    truth = max_gradient_norm(placed.ansatz, n_starts=4, seed=n_qubits, maxiter=80).true_max_estimate
    assert bound >= truth * (1 - 1e-9), (device, bound, truth)
    if device != "exaggerated":
        assert bound < gradient_bound(source).grad_norm_bound
        assert bound <= 1.05 * truth  # tight: within 5 % of the true maximum on the calibrated devices
