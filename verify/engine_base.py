r"""The gradient-engine interface and the helpers every engine shares.

An *engine* computes, for a batch of (weights θ_b, inputs x_b), the model outputs and their
Jacobian with respect to the weights,

    values[b, c]      = f_c(x_b; θ_b)                      (observable eigenvalue units)
    jacobian[b, c, j] = ∂f_c/∂θ_j (x_b; θ_b)               (per unit of θ_j)

as a :class:`GradientResult` (float64 arrays). Engines are pure functions
``engine(ansatz, weights, inputs, options) -> GradientResult`` wrapped in an :class:`Engine`
record; the registry of the built-in engines, with their tolerances, is
:mod:`privqml.verify.engines`.

Shared here: validation of a batch at the boundary (:func:`validate_batch`), the slot table
evaluated on a batch (:func:`angle_map`: t_k(θ_b, x_b) and ∂t_k/∂θ_j from
:mod:`privqml.theory.slots`), and the propagation of a per-slot tolerance through the chain rule
∂f/∂θ_j = Σ_k (∂f/∂t_k)(∂t_k/∂θ_j) (:func:`propagate_slot_tolerance`).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np

from privqml.errors import ConfigError, DomainError
from privqml.theory.ansatz import Ansatz
from privqml.theory.slots import SlotTable, slot_table
from privqml.theory.noise import has_noise

HOEFFDING_DELTA = 1e-9


@dataclasses.dataclass(frozen=True)
class EngineOptions:
    """Settings of the stochastic and finite-difference engines.

    Attributes:
        repetitions: shots per circuit and per Pauli term (``shots`` engine).
        trajectories: Monte-Carlo trajectories per circuit (``noisy`` engine).
        fd_grid: finite-difference step, in units of a slot exponent (half-turns).
        delta: failure probability of the Hoeffding tolerance, per Jacobian entry.
    """

    repetitions: int = 1000
    trajectories: int = 200
    fd_grid: float = 1e-3
    delta: float = HOEFFDING_DELTA

    def __post_init__(self) -> None:
        for name in ("repetitions", "trajectories"):
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ConfigError(f"{name}={value!r} must be an integer >= 1")
        if not (0 < self.fd_grid < 0.1):
            raise ConfigError(f"fd_grid={self.fd_grid!r} must lie in (0, 0.1) exponent units")
        if not (0 < self.delta < 1):
            raise ConfigError(f"delta={self.delta!r} must lie in (0, 1)")


@dataclasses.dataclass(frozen=True)
class GradientResult:
    """Outputs and weight Jacobian of one engine on a batch.

    Attributes:
        engine: the engine's name.
        values: [batch, n_observables] f_c(x_b; θ_b) (estimates for shots/noisy).
        jacobian: [batch, n_observables, n_weights] ∂f_c/∂θ_j, per unit of θ_j.
        tolerance: [batch, n_observables, n_weights] absolute agreement tolerance of each
            entry (see the module table), so |jacobian − exact| ≤ tolerance.
        circuits_per_example: distinct circuits run per example for the gradient
            (0 for the symbolic oracle; 1 for adjoint).
        shots_per_circuit: shots (or trajectories) per circuit, ``None`` when exact.
        estimate_bound: for stochastic engines, [batch, n_observables, n_weights] the largest
            |estimate| the estimator can return at this point (shift-rule weights × the range
            of the sample means); ``None`` for exact engines.
    """

    engine: str
    values: np.ndarray
    jacobian: np.ndarray
    tolerance: np.ndarray
    circuits_per_example: int
    shots_per_circuit: Optional[int] = None
    estimate_bound: Optional[np.ndarray] = None

    @property
    def stochastic(self) -> bool:
        return self.shots_per_circuit is not None

    def grad_norms(self) -> np.ndarray:
        """[batch, n_observables] ‖∇_θ f_c‖₂."""
        return np.linalg.norm(self.jacobian, axis=-1)


EngineFunction = Callable[[Ansatz, np.ndarray, np.ndarray, EngineOptions], GradientResult]


@dataclasses.dataclass(frozen=True)
class Engine:
    """A named gradient engine.

    Attributes:
        name: registry key (``adjoint``, ``pshift``, ``fd``, ``shots``, ``noisy``, ``numeric``, ``oracle``).
        compute: the pure function ``(ansatz, weights[B,P], inputs[B,I], options) -> GradientResult``.
        exact: True when the result is the exact gradient up to floating-point error
            (the bound must then hold for every output, pruning included).
        stochastic: True for finite-shot or trajectory estimates.
        max_qubits: the largest circuit the engine accepts (``None``: no limit).
        description: one line for reports.
        supports_noise: whether circuits with noise channels are accepted.
        max_slots: the largest number of angle slots accepted (``None``: no limit).
        admits: optional ``ansatz -> reason | None`` for limits that need the ansatz (the
            oracle's time budget).
    """

    name: str
    compute: EngineFunction
    exact: bool
    stochastic: bool
    max_qubits: Optional[int]
    description: str
    supports_noise: bool = False
    max_slots: Optional[int] = None
    admits: Optional[Callable[[Ansatz], Optional[str]]] = None

    def declines(self, ansatz: Ansatz) -> Optional[str]:
        """Why this engine cannot run ``ansatz``, or ``None`` when it can."""
        if self.max_qubits is not None and ansatz.n_qubits > self.max_qubits:
            return f"engine {self.name!r} handles at most {self.max_qubits} qubits; the ansatz has {ansatz.n_qubits}"
        if self.max_slots is not None and slot_table(ansatz).n_slots > self.max_slots:
            return (f"engine {self.name!r} handles at most {self.max_slots} angle slots; the ansatz has "
                    f"{slot_table(ansatz).n_slots}")
        if not self.supports_noise and has_noise(ansatz):
            return f"engine {self.name!r} simulates pure states; the ansatz has noise channels"
        return None if self.admits is None else self.admits(ansatz)

    def gradients(self, ansatz: Ansatz, weights, inputs=None, options: EngineOptions | None = None) -> GradientResult:
        """Validate the batch at the boundary and run the engine."""
        weights, inputs = validate_batch(ansatz, weights, inputs)
        reason = self.declines(ansatz)
        if reason is not None:
            raise ConfigError(f"{reason} ({ansatz.name!r}); choose another engine (numeric runs any size it can hold)")
        return self.compute(ansatz, weights, inputs, options or EngineOptions())


# ---------------------------------------------------------------------------------------
# boundary validation and the chain rule shared by the engines
# ---------------------------------------------------------------------------------------
def validate_batch(ansatz: Ansatz, weights, inputs) -> tuple[np.ndarray, np.ndarray]:
    """Weights as [batch, P] and inputs as [batch, I] float64, inputs inside the public domain.

    ``weights`` may be [P] (shared by the batch); ``inputs`` may be [I] (one example), or
    omitted when the ansatz takes no inputs.

    Raises:
        DomainError: a shape mismatch, a non-finite value, or an input outside its declared domain.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim not in (1, 2) or w.shape[-1] != ansatz.n_weights:
        raise DomainError(
            f"weights have shape {w.shape}; the ansatz {ansatz.name!r} has {ansatz.n_weights} "
            f"weights: pass [{ansatz.n_weights}] or [batch, {ansatz.n_weights}]"
        )
    if not np.all(np.isfinite(w)):
        raise DomainError("weights contain NaN or infinite values; pass finite weights")
    if inputs is None:
        if ansatz.n_inputs:
            raise DomainError(f"inputs are missing; the ansatz {ansatz.name!r} takes {ansatz.n_inputs} inputs")
        x = np.zeros((w.shape[0] if w.ndim == 2 else 1, 0))
    else:
        x = np.asarray(inputs, dtype=np.float64)
        if x.ndim == 1 and (ansatz.n_inputs or x.size == 0):
            x = x.reshape(1, ansatz.n_inputs) if x.size == ansatz.n_inputs else x[None, :]
        if x.ndim != 2:
            raise DomainError(f"inputs have shape {x.shape}; pass [batch, {ansatz.n_inputs}]")
        x = ansatz.check_inputs(x) if ansatz.n_inputs else np.zeros((x.shape[0], 0))
    if w.ndim == 1:
        w = np.tile(w[None, :], (x.shape[0], 1))
    if w.shape[0] != x.shape[0]:
        raise DomainError(f"weights batch={w.shape[0]} and inputs batch={x.shape[0]} differ; give one row each")
    return w, x


@dataclasses.dataclass(frozen=True)
class AngleMap:
    """An ansatz's slot table evaluated on engine batches (weights [batch, P], inputs [batch, I]).

    ``values(w, x)`` is the [batch, n_slots] array of slot exponents t_k(θ_b, x_b) (half-turns);
    ``derivatives(w, x)`` the [batch, n_slots, P] array ∂t_k/∂θ_j (float64, exact almost
    everywhere); ``spreads`` the Ω_k; ``weight_slots`` the slots whose exponent involves a weight.
    """

    table: SlotTable

    @property
    def spreads(self) -> np.ndarray:
        return self.table.spreads

    @property
    def weight_slots(self) -> tuple[int, ...]:
        return self.table.weight_slots

    @property
    def n_weights(self) -> int:
        return len(self.table.weights)

    def values(self, weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        return self.table.exponent_values(np.concatenate([weights, inputs], axis=1))

    def derivatives(self, weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        return self.table.jacobian(np.concatenate([weights, inputs], axis=1))[:, :, : self.n_weights]


def angle_map(ansatz: Ansatz) -> AngleMap:
    """The :class:`AngleMap` of ``ansatz`` (its slot table is built once per ansatz value)."""
    return AngleMap(slot_table(ansatz))


def observable_norms(ansatz: Ansatz) -> np.ndarray:
    """[n_observables] Σ_t |c_t| over the non-identity Pauli terms (observable norm units)."""
    return np.asarray(
        [sum(abs(float(np.real(t.coefficient))) for t in obs if len(t) > 0) for obs in ansatz.observables]
    )


def propagate_slot_tolerance(
    ansatz: Ansatz, derivatives: np.ndarray, slot_values: np.ndarray, atol: float, per_half_turn: float = 0.0
) -> np.ndarray:
    """[batch, n_obs, P] per-weight tolerance from a per-slot one.

    The slot tolerance is (atol + per_half_turn·|t_k|)·Σ_t|c_t| (float32 rounding of the slot
    value grows with |t_k|); through the chain rule it becomes Σ_k |∂t_k/∂θ_j|·tol_k.
    """
    slot_tol = atol + per_half_turn * np.abs(slot_values)  # [B, K]
    per_weight = np.einsum("bk,bkp->bp", slot_tol, np.abs(derivatives))
    norms = np.maximum(observable_norms(ansatz), 1e-12)
    return norms[None, :, None] * per_weight[:, None, :] + 1e-12


__all__ = [
    "AngleMap",
    "Engine",
    "EngineFunction",
    "EngineOptions",
    "GradientResult",
    "HOEFFDING_DELTA",
    "angle_map",
    "observable_norms",
    "propagate_slot_tolerance",
    "validate_batch",
]
