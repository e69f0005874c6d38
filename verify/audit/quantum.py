"""Quantum noise is no DP mechanism: exact counterexamples (claim C1 of arXiv:2606.29293).

What is and what is not a randomised mechanism here, stated precisely:

* **Shot noise** *is* randomness: measuring a ±1-valued Pauli observable O on the state of
  example x gives +1 with probability p(x) = (1 + f(x))/2, f(x) = ⟨O⟩, so a mean over N shots
  is 2·Binomial(N, p(x))/N − 1. But its distribution depends on the data *through* f(x): the
  per-shot variance 1 − f(x)² vanishes as f(x) → ±1, and nothing ties its scale to any
  sensitivity. Where one example can drive f to exactly ±1 its outcomes are deterministic, and a
  pair of neighbouring datasets exists whose output distributions give some outcome
  probability 0 under one and > 0 under the other: the privacy loss log P(o|D′)/P(o|D) is
  unbounded, so no finite ε holds for any δ below the mass of such outcomes — whatever the
  number of shots (:func:`shot_noise_privacy_loss`, :func:`canonical_counterexample`).
* **Depolarising noise simulated exactly** (density matrices, as TFQ's analytic and Cirq's
  density-matrix backends do) is no randomness at all: the channel is a fixed linear map that
  contracts expectations, f ↦ (1 − 4p/3)^k f on a single qubit after k channels, and the
  trained weights are a *deterministic* function of the data. Two neighbouring datasets with
  different outputs give point masses on different points: the likelihood ratio is infinite
  and (ε, δ)-DP fails for every ε and every δ < 1 (:func:`depolarizing_step`).
* **Depolarising noise sampled** (a device, or shots on a noisy circuit) randomises only
  through the shots; the contraction keeps |f| ≤ λ < 1, which bounds the per-shot likelihood
  ratio by (1 + λ)/(1 − λ) when one example is *replaced* — a figure that grows linearly with
  the number of shots N (ε ≤ N·log((1 + λ)/(1 − λ)) for one released count), is not what any
  accountant of privqml computes, and is not calibrated to anything. Under the add/remove
  neighbouring relation of DP-SGD's accountant the sum over examples even changes its support
  (an extra example adds an extra term), so the loss is unbounded again.

None of this is an accounted guarantee: privqml reports ε = ∞ ("no finite accounted ε") for
training whose only randomness is quantum noise, with the empirical lower bound from
:mod:`privqml.verify.audit.one_step`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import cirq
import numpy as np
import sympy
from scipy import stats

from privqml import validation
from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.theory.exact.numeric import batch_expectations_and_jacobians


# -- exact expectations with Cirq ----------------------------------------------------------
def _single_pauli_observable(ansatz: Ansatz) -> tuple[cirq.PauliString, float]:
    if ansatz.n_outputs != 1 or len(ansatz.observables[0]) != 1:
        raise ConfigError(
            f"ansatz {ansatz.name!r} has observables {ansatz.observables}: the shot model needs one "
            "Pauli string (e.g. Z0), whose single-shot outcomes are ±coefficient"
        )
    (term,) = list(ansatz.observables[0])
    coefficient = float(np.real(complex(term.coefficient)))
    if coefficient == 0.0:
        raise ConfigError("the observable's coefficient is 0; its outcomes carry no information")
    return term.with_coefficient(1.0), coefficient


def exact_expectations(ansatz: Ansatz, weights: Sequence[float], inputs) -> np.ndarray:
    """f(x_b; θ) for each row of ``inputs`` [B, n_inputs], exact (Cirq density matrix, complex128).

    Noise channels in the circuit are applied as channels (not sampled)."""
    inputs = ansatz.check_inputs(np.atleast_2d(np.asarray(inputs, dtype=np.float64)))
    simulator = cirq.DensityMatrixSimulator(dtype=np.complex128)
    qubits = ansatz.qubits
    index = {q: i for i, q in enumerate(qubits)}
    observable = ansatz.observables[0] if ansatz.n_outputs == 1 else None
    if observable is None:
        raise ConfigError(f"ansatz {ansatz.name!r} has {ansatz.n_outputs} observables; pass a one-output model")
    out = []
    for x in inputs:
        resolved = cirq.resolve_parameters(ansatz.circuit, ansatz.resolver(weights, x))
        rho = simulator.simulate(resolved, qubit_order=qubits).final_density_matrix
        out.append(float(np.real(observable.expectation_from_density_matrix(rho, index))))
    return np.asarray(out)


def shot_noise_variance(expectation, shots: int):
    """Variance of the N-shot mean of a ±1 observable with mean f: (1 − f²)/N (0 at f = ±1)."""
    f = np.asarray(expectation, dtype=np.float64)
    return (1.0 - f**2) / shots


# -- the released statistic and its exact distribution ----------------------------------------
def _sum_pmf(p_plus: Sequence[float], shots: int, n_max: int) -> np.ndarray:
    """pmf of U = Σ_i (2 K_i − N), K_i ~ Bin(N, p_i), on the grid u = −n_max·N … n_max·N."""
    size = 2 * n_max * shots + 1
    pmf = np.zeros(size)
    pmf[n_max * shots] = 1.0  # U = 0 for the empty sum
    k = np.arange(shots + 1)
    for p in p_plus:
        step = np.zeros(2 * shots + 1)  # u_i = 2k − N, indices 0..2N
        step[2 * k] = stats.binom.pmf(k, shots, min(max(p, 0.0), 1.0))
        pmf = np.convolve(pmf, step)[shots : shots + size]
    return pmf


@dataclasses.dataclass(frozen=True)
class ShotNoisePrivacyLoss:
    """Exact output distributions of a shot-noise "mechanism" on two neighbouring datasets.

    The released statistic is S = Σ_i f̂(x_i), the sum over the dataset of the N-shot estimates
    of f (what a shot-based loss or gradient aggregates), in units of the observable.
    D′ = D ∪ {canary} (add/remove adjacency, as DP-SGD's accountant uses).

    Attributes:
        shots: N, shots per example.
        expectations_without: exact f(x_i) for the examples of D.
        canary_expectation: exact f(canary).
        values: the support grid of S.
        pmf_without, pmf_with: P[S = value | D] and P[S = value | D′].
        max_log_likelihood_ratio: sup_o |log P(o|D′) − log P(o|D)| over outcomes with positive
            probability under either dataset (nats); ∞ when the supports differ.
        delta_infinite: max over the two directions of the probability mass on outcomes that
            are impossible under the other dataset — no finite ε satisfies (ε, δ)-DP for any
            δ below it.
        witness_value, witness_p_without, witness_p_with: one outcome with probability 0
            under one dataset and > 0 under the other (NaN if none).
    """

    description: str
    shots: int
    expectations_without: tuple[float, ...]
    canary_expectation: float
    values: tuple[float, ...]
    pmf_without: tuple[float, ...]
    pmf_with: tuple[float, ...]
    max_log_likelihood_ratio: float
    delta_infinite: float
    witness_value: float
    witness_p_without: float
    witness_p_with: float

    @property
    def finite_epsilon_possible(self) -> bool:
        return math.isfinite(self.max_log_likelihood_ratio)

    def hockey_stick(self, epsilon: float) -> float:
        """The smallest δ with which the pair satisfies (ε, δ)-DP: max over both directions of
        Σ_o max(0, P(o|A) − e^ε P(o|B))."""
        a, b = np.asarray(self.pmf_with), np.asarray(self.pmf_without)
        e = math.exp(epsilon) if epsilon < 700 else math.inf
        with np.errstate(invalid="ignore"):
            d1 = np.sum(np.maximum(0.0, a - np.where(b > 0, e * b, 0.0)))
            d2 = np.sum(np.maximum(0.0, b - np.where(a > 0, e * a, 0.0)))
        return float(max(d1, d2))

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        for key in ("values", "pmf_without", "pmf_with"):
            out.pop(key)
        out["finite_epsilon_possible"] = self.finite_epsilon_possible
        return out


_TINY = 0.0  # exact zeros only: binomial pmfs at p ∈ {0, 1} are exactly 0 off the support


def shot_noise_privacy_loss(
    ansatz: Ansatz,
    weights: Sequence[float],
    inputs,
    canary: Sequence[float],
    shots: int,
    description: str = "",
) -> ShotNoisePrivacyLoss:
    """Exact privacy loss of releasing S = Σ_i f̂(x_i) with N shots per example, D vs D ∪ {canary}.

    Expectations are computed exactly with Cirq; the pmfs are exact convolutions of binomials.
    """
    validation.integer("shots", shots, 1, hint="the shots per example's expectation")
    _, coefficient = _single_pauli_observable(ansatz)
    inputs = np.atleast_2d(np.asarray(inputs, dtype=np.float64))
    f_rest = exact_expectations(ansatz, weights, inputs) if inputs.size else np.zeros(0)
    f_canary = float(exact_expectations(ansatz, weights, np.atleast_2d(canary))[0])
    # p(+coefficient outcome); round to the exact end points a deterministic outcome has
    to_p = lambda f: float(np.clip(np.round((1.0 + f / coefficient) / 2.0, 12), 0.0, 1.0))  # noqa: E731
    p_rest = [to_p(f) for f in f_rest]
    n_max = len(p_rest) + 1
    pmf_without = _sum_pmf(p_rest, shots, n_max)
    pmf_with = _sum_pmf(p_rest + [to_p(f_canary)], shots, n_max)
    u = np.arange(-n_max * shots, n_max * shots + 1)
    values = coefficient * u / shots
    keep = (pmf_without > _TINY) | (pmf_with > _TINY)
    a, b = pmf_with[keep], pmf_without[keep]
    only_with = (a > _TINY) & (b <= _TINY)
    only_without = (b > _TINY) & (a <= _TINY)
    both = (a > _TINY) & (b > _TINY)
    if np.any(only_with) or np.any(only_without):
        llr = math.inf
    else:
        llr = float(np.max(np.abs(np.log(a[both]) - np.log(b[both]))))
    delta_inf = float(max(a[only_with].sum(), b[only_without].sum()))
    witness = (math.nan, math.nan, math.nan)
    if np.any(only_with):
        i = int(np.argmax(np.where(only_with, a, -1.0)))
        witness = (float(values[keep][i]), float(b[i]), float(a[i]))
    elif np.any(only_without):
        i = int(np.argmax(np.where(only_without, b, -1.0)))
        witness = (float(values[keep][i]), float(b[i]), float(a[i]))
    return ShotNoisePrivacyLoss(
        description=description or f"{ansatz.name}, {len(p_rest)} example(s) + canary, {shots} shots",
        shots=int(shots),
        expectations_without=tuple(float(f) for f in f_rest),
        canary_expectation=f_canary,
        values=tuple(float(v) for v in values[keep]),
        pmf_without=tuple(float(p) for p in b),
        pmf_with=tuple(float(p) for p in a),
        max_log_likelihood_ratio=llr,
        delta_infinite=delta_inf,
        witness_value=witness[0],
        witness_p_without=witness[1],
        witness_p_with=witness[2],
    )


def one_qubit_model(depolarizing: float = 0.0) -> Ansatz:
    """f(x; θ) = ⟨Z⟩ after rx(x) then ry(θ) on |0⟩: f = cos x · cos θ (noiseless).

    With ``depolarizing`` = p a depolarising channel follows each gate, so
    f = (1 − 4p/3)² cos x cos θ."""
    q = cirq.LineQubit(0)
    x, theta = sympy.Symbol("x"), sympy.Symbol("theta")
    ops = [cirq.rx(x).on(q)]
    if depolarizing:
        ops.append(cirq.depolarize(depolarizing).on(q))
    ops.append(cirq.ry(theta).on(q))
    if depolarizing:
        ops.append(cirq.depolarize(depolarizing).on(q))
    return Ansatz(
        circuit=cirq.Circuit(ops),
        weights=(theta,),
        inputs=(x,),
        observables=(cirq.PauliSum.from_pauli_strings([cirq.Z(q)]),),
        name=f"one_qubit(rx(x) ry(theta), Z{', depolarize(%g)' % depolarizing if depolarizing else ''})",
    )


def canonical_counterexample(shots: int) -> ShotNoisePrivacyLoss:
    """D = {x = π/2} (f = 0: a fair coin per shot), canary x = 0 (f = 1: every shot reads +1), θ = 0.

    S_D = 2K/N − 1 ∈ [−1, 1] and S_D′ = S_D + 1 ∈ [0, 2]: the outcomes S > 1 are impossible
    under D and S < 0 impossible under D′, each with probability P[K > N/2] under the other:
    δ_∞ = 1 for odd N (the grids of S_D and S_D′ do not even meet), P[K > N/2] ≥ 1/4 for even N
    (→ 1/2 as N grows). No finite ε, for any number of shots.
    """
    return shot_noise_privacy_loss(
        one_qubit_model(),
        weights=[0.0],
        inputs=[[math.pi / 2]],
        canary=[0.0],
        shots=shots,
        description="one qubit rx(x) ry(0), Z; D = {x = pi/2} (f = 0), canary x = 0 (f = 1)",
    )


# -- depolarising noise alone: a deterministic map ----------------------------------------------
@dataclasses.dataclass(frozen=True)
class DeterministicStep:
    """One exact gradient step of an MSE model on D and on D′ = D ∪ {canary}, noise applied
    as channels (no sampling): both outputs are point masses.

    Attributes:
        noise: the channel description.
        contraction: f_noisy / f_noiseless for each example of D′ (the channel's contraction).
        weights_without, weights_with: θ − η·(1/n)Σ∇ℓ for D and for D′ (exact, float64).
        distance: ‖weights_with − weights_without‖₂.
        max_log_likelihood_ratio: ∞ when the two point masses differ (0 otherwise).
        delta_infinite: 1 when they differ: (ε, δ)-DP fails for every ε and every δ < 1.
    """

    noise: str
    contraction: tuple[float, ...]
    weights_without: tuple[float, ...]
    weights_with: tuple[float, ...]
    distance: float
    max_log_likelihood_ratio: float
    delta_infinite: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class CanaryStep:
    """The one exact step of :func:`depolarizing_step` and :func:`device_step`: dataset D = (``inputs``,
    ``labels``) against D ∪ {(``canary``, ``canary_label``)}, from ``weights`` at ``learning_rate``."""

    weights: Sequence[float] = (0.3,)
    inputs: Sequence[Sequence[float]] = ((math.pi / 2,), (0.5,))
    labels: Sequence[float] = (1.0, -1.0)
    canary: Sequence[float] = (0.0,)
    canary_label: float = -1.0
    learning_rate: float = 0.1


def depolarizing_step(depolarizing: float, step: CanaryStep = CanaryStep()) -> DeterministicStep:
    """Exact one-step update of :func:`one_qubit_model` under depolarising channels (MSE loss
    ℓ = (f − y)², y ∈ {−1, +1}); gradients from :mod:`privqml.theory.exact.numeric` (exact adjoint,
    density matrices), expectations cross-checked against Cirq."""
    validation.probability("depolarizing", depolarizing, hint="the depolarising probability after each gate")
    return _exact_step(one_qubit_model(depolarizing), one_qubit_model(),
                       f"depolarize({depolarizing:g}) after each gate, applied as a channel", step)


def device_step(device: str, step: CanaryStep = CanaryStep()) -> DeterministicStep:
    """:func:`depolarizing_step` with the calibrated noise of a Google device instead: :func:`one_qubit_model`
    placed on ``device``, compiled to its gates, with its depolarising, thermal-relaxation and readout errors
    applied as channels (:func:`privqml.theory.devices.on_device`); the noiseless reference is the same compiled
    circuit without them."""
    from privqml.theory.devices import on_device

    placed = on_device(one_qubit_model(), device)
    channels = ", ".join(f"{kind} ×{stats['count']}" for kind, stats in placed.summary()["noise"].items())
    return _exact_step(placed.ansatz, placed.noiseless,
                       f"{device} calibrated noise on {placed.qubits[0][1]} ({channels}), applied as channels", step)


def _exact_step(noisy: Ansatz, clean: Ansatz, noise: str, step: CanaryStep) -> DeterministicStep:
    """One exact MSE step of ``noisy`` on D and on D ∪ {canary} (see :class:`DeterministicStep`)."""
    weights, learning_rate = np.asarray(step.weights, dtype=np.float64), step.learning_rate

    def update(x, y):
        f, jac = batch_expectations_and_jacobians(noisy, weights, x)
        grads = 2.0 * (f[:, 0] - y)[:, None] * jac[:, 0, :]
        return weights - learning_rate * grads.mean(axis=0), f[:, 0]

    x = np.asarray(step.inputs, dtype=np.float64)
    y = np.asarray(step.labels, dtype=np.float64)
    x_all = np.vstack([x, np.atleast_2d(step.canary)])
    y_all = np.append(y, step.canary_label)
    w_without, _ = update(x, y)
    w_with, f_noisy = update(x_all, y_all)
    f_cirq = exact_expectations(noisy, weights, x_all)
    if not np.allclose(f_cirq, f_noisy, atol=1e-9):
        raise AssertionError(f"numeric and Cirq expectations disagree: {f_noisy} vs {f_cirq}")
    f_clean = exact_expectations(clean, weights, x_all)
    with np.errstate(divide="ignore", invalid="ignore"):
        contraction = np.where(np.abs(f_clean) > 1e-12, f_noisy / f_clean, np.nan)
    distance = float(np.linalg.norm(w_with - w_without))
    differ = distance > 0.0
    return DeterministicStep(
        noise=noise,
        contraction=tuple(float(c) for c in contraction),
        weights_without=tuple(float(w) for w in w_without),
        weights_with=tuple(float(w) for w in w_with),
        distance=distance,
        max_log_likelihood_ratio=math.inf if differ else 0.0,
        delta_infinite=1.0 if differ else 0.0,
    )


def replace_one_shot_epsilon(max_abs_expectation: float, shots: int) -> float:
    """Pure-ε of releasing one example's N-shot count when |f| ≤ λ < 1 everywhere (e.g. under
    depolarising contraction) and one example is *replaced*: N·log((1 + λ)/(1 − λ)); ∞ at λ = 1.
    Grows linearly with N: more shots, less "privacy" — the opposite of a calibrated mechanism."""
    lam = validation.in_interval("max_abs_expectation", max_abs_expectation, 0.0, 1.0, lo_open=False,
                                 hint="a bound on |f| in units of the observable norm")
    if lam == 1.0:
        return math.inf
    return float(shots * math.log((1.0 + lam) / (1.0 - lam)))


__all__ = [
    "CanaryStep",
    "DeterministicStep",
    "device_step",
    "ShotNoisePrivacyLoss",
    "canonical_counterexample",
    "depolarizing_step",
    "exact_expectations",
    "one_qubit_model",
    "replace_one_shot_epsilon",
    "shot_noise_privacy_loss",
    "shot_noise_variance",
]
