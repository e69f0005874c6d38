r"""Gradient engines behind one interface.

An *engine* computes, for a batch of (weights θ_b, inputs x_b), the model outputs and their
Jacobian with respect to the weights,

    values[b, c]      = f_c(x_b; θ_b)                      (observable eigenvalue units)
    jacobian[b, c, j] = ∂f_c/∂θ_j (x_b; θ_b)               (per unit of θ_j)

as a :class:`GradientResult` (float64 arrays). Engines are pure functions
``engine(ansatz, weights, inputs, options) -> GradientResult``; the ones that run circuits
report how many distinct circuits they ran per example, which the contract tests check
(PennyLane's gradient transforms do the same; STYLE.md rule 6).

=========  ======================================================  ====================
name       how                                                      agreement tolerance
=========  ======================================================  ====================
adjoint    TFQ ``Adjoint`` (one forward and one backward sweep)      2e-4 + 4e-5·|t_k|
pshift     TFQ ``ParameterShift`` circuits, analytic expectations    2e-5 + 1e-6·|t_k|
fd         TFQ ``CentralDifference`` (h = 1e-3 exponent units)       2e-3 + 5e-4·|t_k|
shots      ParameterShift circuits, TFQ ``SampledExpectation``       Hoeffding, δ = 1e-9
noisy      ParameterShift circuits, TFQ ``backend='noisy'``          Hoeffding, δ = 1e-9
           Monte-Carlo trajectories
numeric    exact float64 state/density-matrix simulation             1e-9 (float64)
           (:mod:`privqml.theory.exact.numeric`)
oracle     exact symbolic gradient (:mod:`privqml.theory.exact.oracle`,    1e-9 (float64)
           ≤ 4 qubits)
=========  ======================================================  ====================

The TFQ tolerances are absolute errors of ∂f/∂t_k per unit of observable norm (Σ|c_t|), for a
slot value t_k in half-turns; all TFQ engines run in float32 and the error grows with |t_k|
(measured against float64 Cirq: TFQ's Adjoint errs by ~1e-4 at |t| < 6 and 6e-4 at |t| = 31;
ParameterShift by ~1e-6; central differences by ~2e-4, the float32 rounding of t ± h divided
by 2h). The per-weight tolerance is propagated through the chain rule
∂f/∂θ_j = Σ_k (∂f/∂t_k)(∂t_k/∂θ_j), i.e. Σ_k |∂t_k/∂θ_j|·tol_k. For the stochastic
engines (shots, noisy) the tolerance is a per-entry Hoeffding half-width at confidence
1 − δ, computed from the combination weights of the circuits actually run.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Optional

import numpy as np
import sympy

from privqml.errors import ConfigError, DomainError
from privqml.theory.ansatz import Ansatz
from privqml.theory.spectra import canonicalize

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
        if self.max_slots is not None and len(angle_map(ansatz).spreads) > self.max_slots:
            return (f"engine {self.name!r} handles at most {self.max_slots} angle slots; the ansatz has "
                    f"{len(angle_map(ansatz).spreads)}")
        if not self.supports_noise and _has_channels(ansatz):
            return f"engine {self.name!r} simulates pure states; the ansatz has noise channels"
        return None if self.admits is None else self.admits(ansatz)

    def gradients(self, ansatz: Ansatz, weights, inputs=None, options: EngineOptions | None = None) -> GradientResult:
        """Validate the batch at the boundary and run the engine."""
        weights, inputs = validate_batch(ansatz, weights, inputs)
        reason = self.declines(ansatz)
        if reason is not None:
            raise ConfigError(f"{reason} ({ansatz.name!r}); choose another engine (numeric runs any size it can hold)")
        return self.compute(ansatz, weights, inputs, options or EngineOptions())

    def loss_gradients(self, ansatz: Ansatz, weights, inputs, loss: str, labels, clamp: float | None = None,
                       options: EngineOptions | None = None) -> np.ndarray:
        """Per-example ∇_θ ℓ(f(x_b; θ_b), y_b), a [batch, n_weights] array (chain rule on the Jacobian)."""
        from privqml.verify.losses import loss_gradients

        result = self.gradients(ansatz, weights, inputs, options)
        return loss_gradients(result, ansatz, loss, labels, clamp=clamp)


def _has_channels(ansatz: Ansatz) -> bool:
    import cirq

    return any(not cirq.is_parameterized(op) and not cirq.has_unitary(op) for op in ansatz.circuit.all_operations())


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


def cache_by_identity(maxsize: int = 64):
    """Memoise a one-argument function on the *identity* of its argument (an Ansatz holds a
    mutable cirq.Circuit, so it is not hashable); keeps the last ``maxsize`` arguments alive."""

    def decorator(function):
        store: dict[int, tuple[object, object]] = {}

        @functools.wraps(function)
        def wrapper(argument):
            key = id(argument)
            hit = store.get(key)
            if hit is not None and hit[0] is argument:
                return hit[1]
            value = function(argument)
            if len(store) >= maxsize:
                store.pop(next(iter(store)))
            store[key] = (argument, value)
            return value

        wrapper.cache_clear = store.clear
        return wrapper

    return decorator


@dataclasses.dataclass(frozen=True)
class AngleMap:
    """The slot exponents t_k(θ, x) of the canonical circuit and their weight derivatives.

    ``derivatives(w, x)`` is the [batch, n_slots, P] array ∂t_k/∂θ_j (float64, exact);
    ``weight_slots`` are the slots whose exponent involves at least one weight.
    """

    spreads: np.ndarray
    weight_slots: tuple[int, ...]
    _values: Callable = dataclasses.field(repr=False)
    _derivatives: Callable = dataclasses.field(repr=False)
    n_weights: int = 0

    def values(self, weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        return self._values(weights, inputs)

    def derivatives(self, weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        return self._derivatives(weights, inputs)


def _lambdify_table(symbols, table, batch_shape_of):
    function = sympy.lambdify(symbols, table, modules="numpy")

    def evaluate(weights, inputs):
        columns = [weights[:, j] for j in range(weights.shape[1])] + [inputs[:, i] for i in range(inputs.shape[1])]
        raw = function(*columns)
        batch = weights.shape[0]
        return batch_shape_of(raw, batch)

    return evaluate


@cache_by_identity(maxsize=256)
def angle_map(ansatz: Ansatz) -> AngleMap:
    """Build the :class:`AngleMap` of ``ansatz`` (cached per ansatz object)."""
    canonical = canonicalize(ansatz)
    symbols = list(ansatz.weights) + list(ansatz.inputs)
    exponents = [slot.exponent for slot in canonical.slots]
    derivative_rows = [[sympy.diff(e, w) for w in ansatz.weights] for e in exponents]
    weight_slots = tuple(k for k, e in enumerate(exponents) if e.free_symbols & set(ansatz.weights))
    n_slots, n_weights = len(exponents), ansatz.n_weights

    def as_vector(raw, batch):
        out = np.zeros((batch, n_slots))
        for k, value in enumerate(raw):
            out[:, k] = np.broadcast_to(np.asarray(value, dtype=np.float64), (batch,))
        return out

    def as_matrix(raw, batch):
        out = np.zeros((batch, n_slots, n_weights))
        for k, row in enumerate(raw):
            for j, value in enumerate(row):
                out[:, k, j] = np.broadcast_to(np.asarray(value, dtype=np.float64), (batch,))
        return out

    return AngleMap(
        spreads=np.asarray([slot.spread for slot in canonical.slots], dtype=np.float64),
        weight_slots=weight_slots,
        _values=_lambdify_table(symbols, exponents or [0], lambda r, b: as_vector(r if exponents else [], b)),
        _derivatives=_lambdify_table(symbols, derivative_rows or [[0]], lambda r, b: as_matrix(r if exponents else [], b)),
        n_weights=n_weights,
    )


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


# ---------------------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------------------
ENGINE_NAMES = ("adjoint", "pshift", "fd", "shots", "noisy", "numeric", "oracle")


@functools.lru_cache(maxsize=None)
def get_engine(name: str) -> Engine:
    """The engine called ``name`` (TensorFlow is imported only for the TFQ engines)."""
    if name in ("adjoint", "pshift", "fd", "shots", "noisy"):
        from privqml.verify import tfq_engines

        return tfq_engines.TFQ_ENGINES[name]
    if name in ("numeric", "oracle"):
        from privqml.verify import exact_engines

        return exact_engines.EXACT_ENGINES[name]
    raise ConfigError(f"engine={name!r} is not known; choose from {', '.join(ENGINE_NAMES)}")


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
    "angle_map",
    "cache_by_identity",
    "get_engine",
    "gradients",
    "observable_norms",
    "parse_engines",
    "propagate_slot_tolerance",
    "validate_batch",
]
