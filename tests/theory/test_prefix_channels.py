"""Refinement ``prefix`` with channels: a state-preparing channel before a qubit's first weighted slot keeps its
prefix, depolarising channels in it scale M by φ_q — and the bound stays above exact density-matrix maxima."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy

from privqml.api import as_ansatz
from privqml.theory import builtin_ansatz, gradient_bound
from privqml.theory.exact.tightness import max_gradient_norm
from privqml.theory.noise import parse_noise, with_noise


def test_the_noisy_native_circuit_is_bounded_below_its_noiseless_bound():
    noiseless = builtin_ansatz("native", n_qubits=2, n_layers=1, observable="Z0")
    noisy = with_noise(noiseless, parse_noise("depolarize:0.05,amplitude_damp:0.1"))
    assert gradient_bound(noisy).grad_norm_bound < gradient_bound(noiseless).grad_norm_bound
    truth = max_gradient_norm(noisy, n_starts=6, seed=0).true_max_estimate
    assert gradient_bound(noisy).grad_norm_bound >= truth * (1 - 1e-9)


def _circuit(rng: np.random.Generator):
    q = cirq.LineQubit.range(2)
    x = sympy.Symbol("x0")
    ws = sympy.symbols("w0:6")
    channel = lambda: (cirq.amplitude_damp(float(rng.uniform(0.05, 0.5))),  # noqa: E731
                       cirq.depolarize(float(rng.uniform(0.02, 0.3))),
                       cirq.phase_damp(float(rng.uniform(0.05, 0.5))))[int(rng.integers(3))]
    ops = [cirq.rx(x).on(q[0]), cirq.ry(x).on(q[1])]
    for i, w in enumerate(ws[:4]):  # prefixes: rotations with channels between, before and after
        target = q[i % 2]
        if rng.random() < 0.6:
            ops.append(channel().on(target))
        ops.append((cirq.rx, cirq.ry, cirq.rz)[int(rng.integers(3))](w).on(target))
    ops += [channel().on(q[0]), cirq.CZ(*q), cirq.ry(ws[4]).on(q[0]), cirq.CNOT(*q), cirq.rx(ws[5]).on(q[1])]
    observable = [cirq.Z(q[0])] if rng.random() < 0.5 else [cirq.Z(q[0]) * cirq.Z(q[1])]
    return as_ansatz(cirq.Circuit(ops), inputs=["x0"], observable=observable)


@pytest.mark.parametrize("seed", range(8))
def test_prefix_bounds_with_channels_hold_against_exact_maxima(seed):
    ansatz = _circuit(np.random.default_rng(seed))
    bound = gradient_bound(ansatz)
    truth = max_gradient_norm(ansatz, n_starts=6, seed=seed).true_max_estimate
    assert bound.grad_norm_bound >= truth * (1 - 1e-9), (seed, bound.grad_norm_bound, truth)
    assert bound.grad_norm_bound <= gradient_bound(ansatz, refine=False).grad_norm_bound
