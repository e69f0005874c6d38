r"""Gradient engines behind one interface: the registry of the built-in engines.

An *engine* computes, for a batch of (weights θ_b, inputs x_b), the model outputs and their
Jacobian with respect to the weights,

    values[b, c]      = f_c(x_b; θ_b)                      (observable eigenvalue units)
    jacobian[b, c, j] = ∂f_c/∂θ_j (x_b; θ_b)               (per unit of θ_j)

as a :class:`GradientResult` (float64 arrays). Engines are pure functions
``engine(ansatz, weights, inputs, options) -> GradientResult`` (the interface and the helpers
they share: :mod:`privqml.verify.engine_base`); the ones that run circuits report how many
distinct circuits they ran per example, which the contract tests check (as PennyLane's gradient
transforms do). The engines are :mod:`privqml.verify.tfq_engines` (TensorFlow Quantum),
:mod:`privqml.verify.vectorised_engine` (tensorcircuit-ng on TensorFlow, the simulator DP training
runs) — both imported only when one of their engines is asked for — and
:mod:`privqml.verify.exact_engines`.

==========  ========================================================  ====================
name        how                                                       agreement tolerance
==========  ========================================================  ====================
adjoint     TFQ ``Adjoint`` (one forward and one backward sweep)      2e-4 + 4e-5·|t_k|
pshift      TFQ ``ParameterShift`` circuits, analytic expectations    2e-5 + 1e-6·|t_k|
fd          TFQ ``CentralDifference`` (h = 1e-3 exponent units)       2e-3 + 5e-4·|t_k|
shots       ParameterShift circuits, TFQ ``SampledExpectation``       Hoeffding, δ = 1e-9
noisy       ParameterShift circuits, TFQ ``backend='noisy'``          Hoeffding, δ = 1e-9
            Monte-Carlo trajectories
numeric     exact float64 state/density-matrix simulation             1e-9 (float64)
            (:mod:`privqml.theory.exact.numeric`)
oracle      exact symbolic gradient (≤ 4 qubits,                      1e-9 (float64)
            :mod:`privqml.theory.exact.oracle`)
vectorised  tensorcircuit-ng on TensorFlow, autodiff vmapped over     float32 rounding
            the batch; density matrices (exact) for noisy circuits    bound, see below
            (:mod:`privqml.verify.vectorised_engine`)
==========  ========================================================  ====================

The TFQ tolerances are absolute errors of ∂f/∂t_k per unit of observable norm (Σ|c_t|), for a
slot value t_k in half-turns; all TFQ engines run in float32 and the error grows with |t_k|
(measured against float64 Cirq: TFQ's Adjoint errs by ~1e-4 at |t| < 6 and 6e-4 at |t| = 31;
ParameterShift by ~1e-6; central differences by ~2e-4, the float32 rounding of t ± h divided
by 2h). The per-weight tolerance is propagated through the chain rule
∂f/∂θ_j = Σ_k (∂f/∂t_k)(∂t_k/∂θ_j), i.e. Σ_k |∂t_k/∂θ_j|·tol_k. For the stochastic
engines (shots, noisy) the tolerance is a per-entry Hoeffding half-width at confidence
1 − δ, computed from the combination weights of the circuits actually run. The vectorised
engine differentiates through the angle expressions itself (in float32); its per-entry tolerance
2·N_c·[7e-7·(1 + S_j) + S_j·Σ_l Ω_l|δ_l|], N_c = Σ|c_t|, S_j = Σ_k Ω_k|∂t_k/∂θ_j|, |δ_l| the
float32 rounding of slot value t_l, is derived in :mod:`privqml.verify.vectorised_engine`. It
declines circuits over 20 qubits (10 with noise channels) and raises
:class:`~privqml.errors.UnsupportedGateError` for a gate it cannot simulate.
"""

from __future__ import annotations

import functools

from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.verify.engine_base import (
    HOEFFDING_DELTA,
    AngleMap,
    Engine,
    EngineOptions,
    GradientResult,
    angle_map,
    observable_norms,
    propagate_slot_tolerance,
    validate_batch,
)
from privqml.verify.exact_engines import EXACT_ENGINES

# ---------------------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------------------
TFQ_ENGINE_NAMES = ("adjoint", "pshift", "fd", "shots", "noisy")
VECTORISED_ENGINE_NAMES = ("vectorised",)
ENGINE_NAMES = TFQ_ENGINE_NAMES + tuple(EXACT_ENGINES) + VECTORISED_ENGINE_NAMES


@functools.lru_cache(maxsize=None)
def get_engine(name: str) -> Engine:
    """The engine called ``name`` (TensorFlow is imported only for the TFQ and vectorised engines)."""
    if name in TFQ_ENGINE_NAMES:
        # lazy: TensorFlow and TFQ load only when a TFQ engine is asked for
        from privqml.verify import tfq_engines

        return tfq_engines.TFQ_ENGINES[name]
    if name in VECTORISED_ENGINE_NAMES:
        # lazy: TensorFlow and tensorcircuit load only when the vectorised engine is asked for
        from privqml.verify import vectorised_engine

        return vectorised_engine.VECTORISED_ENGINE
    if name in EXACT_ENGINES:
        return EXACT_ENGINES[name]
    raise ConfigError(f"engine={name!r} is not known; choose from {', '.join(ENGINE_NAMES)}")


#: the engines ``privqml verify`` runs by default
DEFAULT_ENGINES = "adjoint,pshift,shots,noisy,numeric,oracle"


def parse_engines(spec: str | None) -> tuple[str, ...]:
    """'adjoint,pshift' -> ('adjoint', 'pshift'); validates every name."""
    if spec is None or not spec.strip():
        raise ConfigError(f"engines={spec!r} is empty; give a comma-separated list of {', '.join(ENGINE_NAMES)}")
    names = tuple(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    unknown = [n for n in names if n not in ENGINE_NAMES]
    if unknown:
        raise ConfigError(f"engines={spec!r}: unknown {unknown}; choose from {', '.join(ENGINE_NAMES)}")
    return names


def gradients(engine: str, ansatz: Ansatz, weights, inputs=None, options: EngineOptions | None = None) -> GradientResult:
    """Run engine ``engine`` (a name) on a batch: the one-call form of :meth:`Engine.gradients`."""
    return get_engine(engine).gradients(ansatz, weights, inputs, options)


__all__ = [
    "AngleMap",
    "ENGINE_NAMES",
    "Engine",
    "EngineOptions",
    "GradientResult",
    "HOEFFDING_DELTA",
    "TFQ_ENGINE_NAMES",
    "VECTORISED_ENGINE_NAMES",
    "angle_map",
    "get_engine",
    "gradients",
    "observable_norms",
    "parse_engines",
    "propagate_slot_tolerance",
    "validate_batch",
]
