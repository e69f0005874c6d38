r"""The ``vectorised`` gradient engine: tensorcircuit-ng on TensorFlow, the simulator DP training runs.

It runs :class:`privqml.models.engines.vectorised.VectorisedEngine` at its training precision
(``complex64``, float32 outputs): one compiled call per batch returns every example's outputs
f_c(x_b; θ_b) and its weight Jacobian ∂f_c/∂θ_j by TensorFlow autodiff through the circuit
contraction, so the chain rule through the angle expressions t_k(θ, x) is taken in float32 inside
the engine (unlike the TFQ engines, which differentiate slot values and apply the float64 chain
rule afterwards). Noiseless circuits run as state vectors; circuits with channels as density
matrices, exactly (no trajectories), so for noisy circuits the engine checks the *exact* noisy
gradient against the bound. Per example it simulates one circuit (``circuits_per_example = 1``:
:func:`~privqml.models.engines.base.stacked_jacobian` evaluates that circuit once per observable
in a single forward pass, followed by one backward pass).

*Agreement tolerance* (per Jacobian entry, observable c, weight j, example b). Write
N_c = Σ_t |c_t| (the observable's norm, :func:`~privqml.verify.engine_base.observable_norms`),
Ω_k the spread of slot k and S_j = Σ_k Ω_k |∂t_k/∂θ_j| the weight's chain-rule factor. The float32
accuracy documented by the engine (measured against float64 simulation on the built-in ansätze) is
A·N_c·(1 + S_j) with A = 7e-7. That measurement leaves out one effect that grows with the angles:
the engine receives θ and x rounded to float32 and forms t_k and the phases π·t_k·h in float32, so
it differentiates at t̃_l = t_l + δ_l with, to first order,

    |δ_l| ≤ u·(|t_l| + Σ_v |∂t_l/∂v|·|v|),     u = 2⁻²⁴ (float32 unit roundoff), v over θ and x,

(the second sum: rounding each variable v to float32 moves it by at most (u/2)|v|; the first:
the arithmetic forming t_l and its phase). In each slot value f is a trigonometric polynomial of
frequencies at most Ω_l, so Bernstein's inequality gives |∂²f/∂t_k∂t_l| ≤ Ω_k Ω_l N_c, and the
shift changes ∂f/∂θ_j = Σ_k (∂f/∂t_k)(∂t_k/∂θ_j) by at most N_c·S_j·Σ_l Ω_l |δ_l|. The tolerance
is the sum of the two, with a factor ``SAFETY`` = 2 because A is a measured maximum, not a proof:

    tol_{b,c,j} = 2·N_c·[A·(1 + S_j) + S_j·Σ_l Ω_l·|δ_l|].

Measured against the ``numeric`` engine (float64) on 120 random ansätze of
:func:`privqml.verify.strategies.ansatze` (all gate sets; half of them with depolarising plus
amplitude-damping noise; 16 points each, weights uniform in [−2π, 2π], inputs at corners of their
domains, |t_k| up to 49 half-turns) the largest error was 0.37 of this tolerance, and 0.06 on the
built-in families up to 10 qubits. The documented term alone does not suffice at large angles:
errors reached 4.2·A·N_c·(1 + S_j) at |t_k| ≈ 38, and 2.1·A·N_c·(1 + S_j) on ``native(4, 4)``.

*Unsupported circuits* are handled as the other engines handle them: a gate the engine cannot
simulate (no unitary, Kraus operators or decomposition; a qudit) raises
:class:`~privqml.errors.UnsupportedGateError` naming it (``privqml verify`` stops before any search,
as for a gate TFQ cannot serialize), and a circuit over the engine's size limits
(:data:`~privqml.models.engines.program.MAX_QUBITS_PURE` qubits as a state vector,
:data:`~privqml.models.engines.program.MAX_QUBITS_MIXED` with channels) is *declined* with the
reason, as ``numeric`` declines its large circuits: verify leaves the engine out for that ansatz
and reports any property left without an engine as skipped.
"""

from __future__ import annotations

import functools
from typing import Optional

import numpy as np

from privqml.errors import ConfigError
from privqml.models.engines.program import compile_program
from privqml.models.engines.vectorised import vectorised_engine
from privqml.theory.ansatz import Ansatz
from privqml.verify.engine_base import Engine, EngineOptions, GradientResult, angle_map, observable_norms

#: the engine's documented float32 accuracy per unit of observable norm and of (1 + S_j)
DOCUMENTED_ACCURACY = 7e-7
#: float32 unit roundoff 2⁻²⁴ (half the spacing of float32 numbers at 1)
FLOAT32_ROUNDOFF = 2.0**-24
#: margin over the measured maxima that the documented accuracy and the rounding term rest on
SAFETY = 2.0
PRECISION = "complex64"


def float32_tolerance(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """[batch, n_observables, P] tol_{b,c,j} = 2·N_c·[A·(1 + S_j) + S_j·Σ_l Ω_l|δ_l|] (module docstring).

    Args:
        ansatz: the ansatz (its slot table gives t_k, ∂t_k/∂(θ, x) and the spreads Ω_k).
        weights: [batch, P] float64 weights θ_b.
        inputs: [batch, I] float64 inputs x_b.
    """
    table = angle_map(ansatz).table
    variables = np.concatenate([weights, inputs], axis=1)  # [B, P + I]
    slot_values = np.abs(table.exponent_values(variables))  # [B, K], half-turns
    slot_jacobian = np.abs(table.jacobian(variables))  # [B, K, P + I]
    spreads = table.spreads  # [K]
    shift = FLOAT32_ROUNDOFF * (slot_values + np.einsum("bkv,bv->bk", slot_jacobian, np.abs(variables)))
    rounding = np.einsum("k,bk->b", spreads, shift)  # Σ_l Ω_l |δ_l|
    chain = np.einsum("k,bkp->bp", spreads, slot_jacobian[:, :, : ansatz.n_weights])  # S_j
    per_unit_norm = DOCUMENTED_ACCURACY * (1.0 + chain) + chain * rounding[:, None]  # [B, P]
    norms = np.maximum(observable_norms(ansatz), 1e-12)
    return SAFETY * norms[None, :, None] * per_unit_norm[:, None, :] + 1e-12


@functools.lru_cache(maxsize=128)
def vectorised_admits(ansatz: Ansatz) -> Optional[str]:
    """None if the engine holds ``ansatz``, else why not (over its state-vector or density-matrix
    qubit limit).

    Raises:
        UnsupportedGateError: a gate the engine cannot simulate (from
            :func:`~privqml.models.engines.program.compile_program`), so that verify stops on it
            instead of leaving the engine out.
    """
    try:
        compile_program(ansatz)
    except ConfigError as exc:
        return f"engine 'vectorised' declined {ansatz.name!r}: {exc}"
    return None


def vectorised_gradients(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, options: EngineOptions) -> GradientResult:
    """Outputs and per-example weight Jacobians from the vectorised engine in float32.

    ``options`` is unused: the engine is exact up to float32 rounding (no shots, no trajectories).
    """
    engine = vectorised_engine(ansatz, dtype=PRECISION)
    values, jacobian = engine.per_example_value_and_jacobian(weights.astype(np.float32), inputs.astype(np.float32))
    batch = weights.shape[0]
    return GradientResult(
        engine="vectorised",
        values=np.asarray(values, dtype=np.float64).reshape(batch, ansatz.n_outputs),
        jacobian=np.asarray(jacobian, dtype=np.float64).reshape(batch, ansatz.n_outputs, ansatz.n_weights),
        tolerance=float32_tolerance(ansatz, weights, inputs),
        circuits_per_example=1,
    )


VECTORISED_ENGINE = Engine(
    "vectorised", vectorised_gradients, exact=True, stochastic=False, max_qubits=None,
    description="tensorcircuit-ng on TensorFlow, vmapped autodiff (float32; density matrices with noise)",
    supports_noise=True, admits=vectorised_admits,
)

__all__ = [
    "DOCUMENTED_ACCURACY",
    "FLOAT32_ROUNDOFF",
    "SAFETY",
    "VECTORISED_ENGINE",
    "float32_tolerance",
    "vectorised_admits",
    "vectorised_gradients",
]
