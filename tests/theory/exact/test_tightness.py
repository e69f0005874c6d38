"""The true maximum gradient norm found numerically, against maxima derived by hand.

Derivations used below (rz and CZ commute with Z, so they drop out of Z observables):

- rx(θ) then Z: f = cos θ, |∂f/∂θ| = |sin θ|, max 1 at θ = π/2.
- rx(θ), depolarize(p), Z: f = (1 − 4p/3) cos θ, max 1 − 4p/3.
- hea(2,1): qubit q sees rx(x_q) ry(θ_q), so ⟨Z_q⟩ = cos x_q cos θ_q. For sumZ,
  ∇_θ f = (−cos x0 sin θ0, 0, −cos x1 sin θ1, 0), max √2 (x = 0, θ_q = π/2);
  for Z0*Z1, ‖∇f‖² = c0²c1²(s0²C1² + C0²s1²) ≤ 1, max 1.
- rx(x) ry(θ) with x ∈ [0.5, 1]: |∂f/∂θ| = |cos x sin θ|, max cos 0.5 at the domain edge x = 0.5.
- with a loss and scale s on rx(θ): ‖∇ℓ‖ = |∂ℓ/∂z| s |sin θ| with z = s cos θ — a 1-D maximum.
- softmax_ce on hea(2,1) classes:2: ‖∇ℓ‖ = s (1 − p_y) ‖(g0, g1)‖ with (f_c, g_c) on the unit disc,
  so the max over labels is max_{f0,f1∈[−1,1]} s σ(s(f1 − f0)) √(2 − f0² − f1²).
"""

from __future__ import annotations

import dataclasses
import math
import time

import cirq
import numpy as np
import pytest
import scipy.optimize
import sympy

from privqml.errors import ConfigError
from privqml.theory import Ansatz, Readout, hea
from privqml.theory.exact.tightness import TightnessResult, max_gradient_norm

TH, X = sympy.symbols("th x")
Q0 = cirq.LineQubit(0)


def _single_rx(scale: float = 1.0) -> Ansatz:
    return Ansatz(cirq.Circuit(cirq.rx(TH).on(Q0)), (TH,), (), (cirq.Z(Q0) * 1.0,), readout=Readout(scale=scale))


def _max_1d(function) -> float:
    """max over θ ∈ [0, 2π] of a smooth 1-D function: dense grid, then a bounded refinement."""
    grid = np.linspace(0, 2 * math.pi, 20001)
    best = grid[np.argmax(function(grid))]
    result = scipy.optimize.minimize_scalar(
        lambda t: -function(np.array([t]))[0], bounds=(best - 1e-3, best + 1e-3), method="bounded",
        options={"xatol": 1e-12},
    )
    return float(-result.fun)


def test_single_rx_true_max_is_one():
    result = max_gradient_norm(_single_rx(), n_starts=4, seed=0)
    assert isinstance(result, TightnessResult)
    assert result.true_max_estimate == pytest.approx(1.0, abs=1e-6)
    assert abs(math.sin(result.argmax_weights[0])) == pytest.approx(1.0, abs=1e-6)
    assert result.ratio(2.0) == pytest.approx(2.0, abs=1e-5)
    assert result.loss is None and result.observable == 0 and result.argmax_label is None


def test_noisy_single_rx_true_max():
    p = 0.1
    ansatz = Ansatz(cirq.Circuit(cirq.rx(TH).on(Q0), cirq.depolarize(p).on(Q0)), (TH,), (), (cirq.Z(Q0) * 1.0,))
    result = max_gradient_norm(ansatz, n_starts=3, seed=1)
    assert result.true_max_estimate == pytest.approx(1 - 4 * p / 3, abs=1e-6)


@pytest.mark.parametrize("observable, analytic", [("sumZ", math.sqrt(2)), ("Z0*Z1", 1.0), ("Z0", 1.0)])
def test_hea_2_1_against_analytic_max(observable, analytic):
    result = max_gradient_norm(hea(2, 1, observable), n_starts=6, seed=11)
    assert result.true_max_estimate <= analytic + 1e-9
    assert result.true_max_estimate == pytest.approx(analytic, abs=1e-6)
    assert max(result.start_maxima) == result.true_max_estimate
    assert all(-math.pi <= x <= math.pi for x in result.argmax_inputs)


def test_reproducible_with_the_same_seed():
    first = max_gradient_norm(hea(2, 1, "X0"), n_starts=4, seed=123)
    second = max_gradient_norm(hea(2, 1, "X0"), n_starts=4, seed=np.random.default_rng(123))
    assert first == second
    third = max_gradient_norm(hea(2, 1, "X0"), n_starts=4, seed=124)
    assert third.argmax_weights != first.argmax_weights


def test_inputs_stay_in_the_declared_domain():
    circuit = cirq.Circuit(cirq.rx(X).on(Q0), cirq.ry(TH).on(Q0))
    ansatz = Ansatz(circuit, (TH,), (X,), (cirq.Z(Q0) * 1.0,), input_domain=((0.5, 1.0),))
    result = max_gradient_norm(ansatz, n_starts=4, seed=2)
    assert result.true_max_estimate == pytest.approx(math.cos(0.5), abs=1e-8)
    assert result.argmax_inputs[0] == pytest.approx(0.5, abs=1e-8)


@pytest.mark.parametrize("loss", ["bce_logits", "mse", "hinge"])
def test_binary_losses_on_single_rx(loss):
    s = 2.0

    def norm(theta):
        z = s * np.cos(theta)
        if loss == "bce_logits":
            dloss = np.maximum(1 / (1 + np.exp(-z)), 1 - 1 / (1 + np.exp(-z)))  # max over y ∈ {0, 1}
        elif loss == "mse":
            dloss = 2 * (np.abs(z) + 1)  # max over y ∈ {−1, +1} of 2|z − y|
        else:
            dloss = np.ones_like(z)  # y = −sign(z) keeps the hinge active
        return dloss * s * np.abs(np.sin(theta))

    result = max_gradient_norm(_single_rx(scale=s), n_starts=6, seed=3, loss=loss)
    assert result.true_max_estimate == pytest.approx(_max_1d(norm), abs=1e-7)
    assert result.loss == loss and result.argmax_label in ((0, 1) if loss == "bce_logits" else (-1, 1))


def test_softmax_ce_on_two_classes():
    s = 1.5
    ansatz = hea(2, 1, "classes:2", scale=s)

    def reduced(f):
        return s / (1 + np.exp(-s * (f[..., 1] - f[..., 0]))) * np.sqrt(np.maximum(2 - f[..., 0] ** 2 - f[..., 1] ** 2, 0))

    grid = np.linspace(-1, 1, 401)
    mesh = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1)
    start = mesh.reshape(-1, 2)[np.argmax(reduced(mesh))]
    refined = scipy.optimize.minimize(lambda f: -reduced(f), start, bounds=[(-1, 1)] * 2, method="L-BFGS-B")
    analytic = -refined.fun
    result = max_gradient_norm(ansatz, n_starts=6, seed=4, loss="softmax_ce")
    assert result.true_max_estimate == pytest.approx(analytic, abs=1e-6)
    assert result.observable is None and result.argmax_label in (0, 1)


def test_hea_4_2_is_fast_and_between_simple_bounds():
    start = time.perf_counter()
    result = max_gradient_norm(hea(4, 2), n_starts=4, seed=0)
    elapsed = time.perf_counter() - start
    # lower: zero second-layer weights reduce f to cos x0 cos θ0 (norm 1 reachable);
    # upper: the naive bound half-range · sqrt(Σ_j spread_j²) = 1 · sqrt(16) = 4.
    assert 1.0 - 1e-9 <= result.true_max_estimate <= 4.0
    assert elapsed < 30.0, f"took {elapsed:.1f}s"
    assert result.n_starts == 4 and len(result.start_maxima) == 4 and result.n_evaluations > 4


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(loss="cross_entropy"), ["loss='cross_entropy'", "bce_logits"]),
        (dict(loss="bce_prob"), ["needs a probability clamp", "unbounded"]),
        (dict(loss="bce_prob", clamp=0.5), ["clamp=0.5"]),
        (dict(loss="softmax_ce"), ["needs >= 2 observables"]),
        (dict(observable=1), ["observable=1", "[0, 1)"]),
        (dict(n_starts=0), ["n_starts=0"]),
    ],
)
def test_errors(kwargs, words):
    with pytest.raises(ConfigError) as info:
        max_gradient_norm(_single_rx(), **kwargs)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_trainable_scale_is_refused_for_losses():
    ansatz = dataclasses.replace(_single_rx(), readout=Readout(scale=1.0, trainable_scale=True))
    with pytest.raises(ConfigError, match="trainable: the loss gradient has no finite maximum"):
        max_gradient_norm(ansatz, loss="mse")
    assert max_gradient_norm(ansatz, n_starts=1).true_max_estimate == pytest.approx(1.0, abs=1e-6)


def test_bce_prob_with_a_clamp_is_estimated_and_its_bound_holds():
    """sup ‖∇ℓ‖ of clamped-probability BCE: found near the clamp, below the bound, above the product of parts."""
    from privqml.theory import builtin_ansatz, loss_gradient_bound

    ansatz = builtin_ansatz("reupload", n_qubits=2, n_layers=1)
    clamp = 0.05
    estimate = max_gradient_norm(ansatz, n_starts=6, seed=0, loss="bce_prob", clamp=clamp)
    bound = loss_gradient_bound(ansatz, "bce_prob", clamp=clamp)
    assert estimate.true_max_estimate <= bound.value * (1 + 1e-9)
    assert estimate.argmax_label in (0, 1)
    # 1/(c·w)·‖∇f‖ is approached at p → c: the estimate beats the gradient at p = 1/2 (|∂ℓ/∂p| = 2) by far
    circuit_max = max_gradient_norm(ansatz, n_starts=6, seed=0).true_max_estimate
    assert estimate.true_max_estimate > 2.0 * circuit_max / 2.0
