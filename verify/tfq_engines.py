r"""TensorFlow Quantum gradient engines: adjoint, parameter shift, finite differences, shots, noisy.

All five run the ansatz's canonical circuit (:func:`privqml.models.tfq_circuit.compile_ansatz`,
one TFQ symbol per angle slot k, value t_k(θ, x) in half-turns) and turn slot derivatives into
weight derivatives with the exact float64 chain rule ∂f/∂θ_j = Σ_k (∂f/∂t_k)(∂t_k/∂θ_j).

*Plans* (pshift, fd, shots, noisy). TFQ's differentiators expose the circuits they would run,
``get_gradient_circuits`` → (programs, symbol values, combination weights w_km, mapper). For
``ParameterShift`` TFQ first decomposes every gate into gates with two eigenvalues
(``tfq_ps_decompose``: ISwapPow**t → XX**(−t/2)·YY**(−t/2), …) and then, for each piece with
exponent coefficient c, uses

    ∂f/∂t_k = Σ_pieces (π c / 2) [ f(t_k + 1/(2c)) − f(t_k − 1/(2c)) ]   (Crooks, arXiv:1905.13311),

so Σ_m |w_km| = π Σ_pieces |c| = Ω_k, the slot's spread (checked in the tests for every gate
TFQ supports). A plan is executed by one of three *executors*: analytic expectations
(``pshift``, ``fd``), sampled expectations with R shots per circuit and Pauli term (``shots``,
TFQ ``SampledExpectation``), or noisy Monte-Carlo trajectories (``noisy``, TFQ
``backend='noisy'``: each trajectory is a pure state whose exact expectation is averaged).

*What a single stochastic estimate can be.* With ĝ_j = Σ_m a_jm Ê_m, a_jm = Σ_k (∂t_k/∂θ_j) w_km
and Σ_m a_jm = 0, every estimate obeys |ĝ_j| ≤ ((e_max − e_min)/2) Σ_m |a_jm| deterministically,
where [e_min, e_max] is the range of one sample mean Ê_m: c_0 ∓ Σ_t |c_t| for shots (each Pauli
term is sampled separately), the observable's eigenvalue range for trajectories. This is the
un-pruned bound (no light cone, no commutation): the two shifted circuits of a slot outside the
light cone are sampled independently, so their difference is not zero. Its agreement tolerance
is Hoeffding's: P(|ĝ_j − g_j| ≥ ε) ≤ δ for ε² = ln(2/δ)/2 · Σ_m a_jm² Σ (range of one sample)²/R.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import cirq
import numpy as np
import tensorflow as tf
import tensorflow_quantum as tfq

from privqml.errors import AnsatzError, ConfigError, UnsupportedGateError
from privqml.models.tfq_circuit import CompiledAnsatz, compile_ansatz, parameter_shift_problem
from privqml.theory.ansatz import Ansatz
from privqml.theory.observable_range import observable_range
from privqml.theory.slots import slot_table
from privqml.verify.engine_base import (
    Engine,
    EngineOptions,
    GradientResult,
    angle_map,
    observable_norms,
    propagate_slot_tolerance,
)

# (atol, per half-turn of |t_k|) per unit observable norm: see the table in privqml.verify.engines
ADJOINT_SLOT_TOLERANCE = (2e-4, 4e-5)
PSHIFT_SLOT_TOLERANCE = (2e-5, 1e-6)
FD_SLOT_TOLERANCE = (2e-3, 5e-4)


# ---------------------------------------------------------------------------------------
# compilation (errors become PrivqmlErrors here, never TFQ tracebacks later)
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TFQProgram:
    """A compiled ansatz with its TFQ observables tensor."""

    compiled: CompiledAnsatz
    operators: tf.Tensor  # [1, n_observables] serialized PauliSums
    n_observables: int


@functools.lru_cache(maxsize=64)
def tfq_program(ansatz: Ansatz) -> TFQProgram:
    """Compile ``ansatz`` for TFQ, raising a :class:`PrivqmlError` for anything TFQ cannot run."""
    bad_qubits = sorted({type(q).__name__ for q in ansatz.qubits} - {"LineQubit", "GridQubit"})
    if bad_qubits:
        raise AnsatzError(
            f"ansatz {ansatz.name!r} uses {bad_qubits} qubits; TFQ simulates cirq.LineQubit and "
            "cirq.GridQubit only: rebuild the circuit on cirq.LineQubit.range(n)"
        )
    compiled = compile_ansatz(ansatz)
    try:
        with tf.init_scope():
            operators = tfq.convert_to_tensor([list(ansatz.observables)])
            _ = compiled.circuit_tensor
    except (ValueError, TypeError) as exc:
        raise UnsupportedGateError(f"TFQ cannot serialize ansatz {ansatz.name!r}: {exc}") from exc
    return TFQProgram(compiled, operators, ansatz.n_outputs)


def _slot_values(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    return angle_map(ansatz).values(weights, inputs)


# ---------------------------------------------------------------------------------------
# adjoint
# ---------------------------------------------------------------------------------------
def adjoint_gradients(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, options: EngineOptions) -> GradientResult:
    """TFQ ``Adjoint``: one forward and one backward state-vector sweep per example (float32)."""
    _require_pure("adjoint", ansatz)
    program = tfq_program(ansatz)
    compiled = program.compiled
    batch = weights.shape[0]
    op = _adjoint_op()
    values = tf.constant(_slot_values(ansatz, weights, inputs), dtype=tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(values)
        outputs = op(
            compiled.circuits(batch),
            tf.constant(compiled.slot_names, dtype=tf.string),
            values,
            tf.repeat(program.operators, batch, axis=0),
        )
        columns = [outputs[:, c] for c in range(program.n_observables)]
    slot_jacobian = np.stack(
        [_dense(tape.gradient(col, values), values.shape) for col in columns], axis=1
    ).astype(np.float64)
    del tape
    return _finish("adjoint", ansatz, weights, inputs, outputs.numpy(), slot_jacobian, 1, ADJOINT_SLOT_TOLERANCE)


def _dense(gradient, shape) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32) if gradient is None else gradient.numpy()


def _finish(name, ansatz, weights, inputs, values, slot_jacobian, circuits, slot_tolerance) -> GradientResult:
    amap = angle_map(ansatz)
    derivatives = amap.derivatives(weights, inputs)  # [B, K, P]
    jacobian = np.einsum("bck,bkp->bcp", slot_jacobian, derivatives)
    tolerance = propagate_slot_tolerance(ansatz, derivatives, amap.values(weights, inputs), *slot_tolerance)
    return GradientResult(name, np.asarray(values, dtype=np.float64), jacobian, tolerance, circuits)


# ---------------------------------------------------------------------------------------
# plans: the circuits a differentiator runs and how to combine them
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class GradientPlan:
    """The circuits of a gradient and how to combine them (a plan, as PennyLane's gradient transforms).

    Attributes:
        programs: [batch, M] serialized circuits to run.
        symbol_names: [S] names resolved in every program.
        symbol_values: [batch, M, S] their values.
        combination: [batch, n_slots, M] float64: ∂f/∂t_k ≈ Σ_m combination[b, k, m] E[b, m].
    """

    programs: tf.Tensor
    symbol_names: tf.Tensor
    symbol_values: tf.Tensor
    combination: np.ndarray

    @property
    def circuits_per_example(self) -> int:
        return int(self.combination.shape[-1])


_SIGNATURE_COUNTS: dict = {}
_TRACE_AFTER = 5


@functools.lru_cache(maxsize=None)
def _differentiator(kind: str, grid_spacing: float = 0.0):
    """One differentiator instance per kind: TFQ's tf.function traces are cached per instance."""
    if kind == "pshift":
        return tfq.differentiators.ParameterShift()
    return tfq.differentiators.CentralDifference(error_order=2, grid_spacing=grid_spacing)


@functools.lru_cache(maxsize=None)
def _adjoint_op():
    return tfq.differentiators.Adjoint().generate_differentiable_op(analytic_op=tfq.get_expectation_op())


def _gradient_circuits(differentiator, programs, names, values):
    """``differentiator.get_gradient_circuits``, eagerly for a shape seen fewer than
    ``_TRACE_AFTER`` times (tracing TFQ's tf.function costs ~0.2 s per new shape, an eager call
    ~0.05 s, a traced one ~0.015 s): random ansätze rarely repeat a shape, a fixed one always does."""
    signature = (id(differentiator), tuple(values.shape))
    _SIGNATURE_COUNTS[signature] = _SIGNATURE_COUNTS.get(signature, 0) + 1
    if _SIGNATURE_COUNTS[signature] > _TRACE_AFTER:
        return differentiator.get_gradient_circuits(programs, names, values)
    previous = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    try:
        return differentiator.get_gradient_circuits(programs, names, values)
    finally:
        tf.config.run_functions_eagerly(previous)


def gradient_plan(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, differentiator) -> GradientPlan:
    """The circuits ``differentiator`` runs for the weight-dependent slots of ``ansatz``."""
    compiled = tfq_program(ansatz).compiled
    amap = angle_map(ansatz)
    batch, n_slots = weights.shape[0], compiled.n_slots
    values = tf.constant(_slot_values(ansatz, weights, inputs), dtype=tf.float32)
    programs, names, plan_values, plan_weights, mapper = _gradient_circuits(
        differentiator, compiled.circuits(batch), tf.constant(compiled.slot_names, dtype=tf.string), values
    )
    plan_weights, mapper = plan_weights.numpy().astype(np.float64), mapper.numpy()
    n_programs = int(programs.shape[1])
    combination = np.zeros((batch, n_slots, n_programs))
    rows = np.arange(batch)[:, None]
    for k in amap.weight_slots:
        for g in range(plan_weights.shape[2]):
            np.add.at(combination, (rows[:, 0], k, mapper[:, k, g]), plan_weights[:, k, g])
    used = np.nonzero(np.any(combination != 0.0, axis=(0, 1)))[0]
    return GradientPlan(
        programs=tf.gather(programs, used, axis=1),
        symbol_names=names,
        symbol_values=tf.gather(plan_values, used, axis=1),
        combination=combination[:, :, used],
    )


def _run(programs, names, values, operators, executor: str, shots: int | None) -> np.ndarray:
    """Expectations [n, n_observables] of ``programs`` [n] by the executor."""
    n = int(programs.shape[0])
    pauli = tf.repeat(operators, n, axis=0)
    if executor == "analytic":
        out = tfq.get_expectation_op()(programs, names, values, pauli)
    elif executor == "sampled":
        out = tfq.get_sampled_expectation_op()(programs, names, values, pauli, tf.fill(tf.shape(pauli), shots))
    elif executor == "sampled_noisy":
        out = tfq.noise.sampled_expectation(programs, names, values, pauli, tf.fill(tf.shape(pauli), shots))
    elif executor == "trajectories":
        out = tfq.noise.expectation(programs, names, values, pauli, tf.fill(tf.shape(pauli), shots))
    else:  # pragma: no cover - internal
        raise AssertionError(executor)
    return out.numpy().astype(np.float64)


def execute_plan(plan: GradientPlan, operators: tf.Tensor, executor: str, shots: int | None = None) -> np.ndarray:
    """[batch, n_observables, n_slots] slot derivatives from running ``plan``."""
    batch, m = plan.combination.shape[0], plan.circuits_per_example
    if m == 0:
        return np.zeros((batch, int(operators.shape[1]), plan.combination.shape[1]))
    flat_values = tf.reshape(plan.symbol_values, [batch * m, -1])
    expectations = _run(tf.reshape(plan.programs, [-1]), plan.symbol_names, flat_values, operators, executor, shots)
    expectations = expectations.reshape(batch, m, -1)
    return np.einsum("bkm,bmc->bck", plan.combination, expectations)


def _forward(ansatz, weights, inputs, executor, shots) -> np.ndarray:
    program = tfq_program(ansatz)
    compiled = program.compiled
    values = tf.constant(_slot_values(ansatz, weights, inputs), dtype=tf.float32)
    return _run(compiled.circuits(weights.shape[0]), tf.constant(compiled.slot_names, dtype=tf.string), values,
                program.operators, executor, shots)


def _require_pure(name: str, ansatz: Ansatz) -> None:
    if tfq_program(ansatz).compiled.noisy:
        raise ConfigError(
            f"engine {name!r} simulates pure states but the ansatz {ansatz.name!r} has noise channels; "
            "use 'noisy' (TFQ trajectories), 'shots' (noisy sampling) or 'numeric' (exact density matrix)"
        )


def _plan_engine(name, ansatz, weights, inputs, differentiator, executor, slot_tolerance=None, shots=None, delta=None):
    program = tfq_program(ansatz)
    if executor == "analytic":
        _require_pure(name, ansatz)
    if executor == "sampled" and program.compiled.noisy:
        executor = "sampled_noisy"
    plan = gradient_plan(ansatz, weights, inputs, differentiator)
    slot_jacobian = execute_plan(plan, program.operators, executor, shots)
    values = _forward(ansatz, weights, inputs, executor, shots)
    circuits = plan.circuits_per_example + 1
    if slot_tolerance is not None:
        return _finish(name, ansatz, weights, inputs, values, slot_jacobian, circuits, slot_tolerance)
    derivatives = angle_map(ansatz).derivatives(weights, inputs)
    jacobian = np.einsum("bck,bkp->bcp", slot_jacobian, derivatives)
    a = np.einsum("bkp,bkm->bpm", derivatives, plan.combination)  # ĝ_j = Σ_m a_jm Ê_m
    sample_width, mean_width = _widths(ansatz, executor)  # [C] one-sample range, [C] range of Ê
    hoeffding = np.sqrt(math.log(2.0 / delta) / 2.0 * np.sum(a**2, axis=-1)[:, None, :]
                        * (sample_width**2)[None, :, None] / shots)
    estimate_bound = np.sum(np.abs(a), axis=-1)[:, None, :] * (mean_width / 2.0)[None, :, None]
    return GradientResult(name, values, jacobian, hoeffding + 1e-6 * estimate_bound + 1e-12, circuits,
                          shots_per_circuit=shots, estimate_bound=estimate_bound)


def _widths(ansatz: Ansatz, executor: str) -> tuple[np.ndarray, np.ndarray]:
    """(Σ-of-squares width of one sample, width of a sample mean) per observable.

    Shots: each term t is an independent ±c_t sample, so one shot of the whole sum has squared
    width Σ_t (2|c_t|)² (for Hoeffding) and the mean lies in c_0 ∓ Σ_t|c_t| (width 2Σ|c_t|).
    Trajectories: one trajectory's value lies in the eigenvalue range [λ_min, λ_max].
    """
    if executor in ("sampled", "sampled_noisy"):
        squares = np.asarray([sum((2 * abs(float(np.real(t.coefficient)))) ** 2 for t in o if len(t)) for o in ansatz.observables])
        return np.sqrt(squares), 2.0 * observable_norms(ansatz)
    widths = np.asarray([observable_range(o)[1] - observable_range(o)[0] for o in ansatz.observables])
    return widths, widths


# ---------------------------------------------------------------------------------------
# the engines
# ---------------------------------------------------------------------------------------
def pshift_gradients(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, options: EngineOptions) -> GradientResult:
    """TFQ ``ParameterShift`` circuits with analytic expectations (float32)."""
    return _plan_engine("pshift", ansatz, weights, inputs, _differentiator("pshift"), "analytic",
                        slot_tolerance=PSHIFT_SLOT_TOLERANCE)


def fd_gradients(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, options: EngineOptions) -> GradientResult:
    """TFQ ``CentralDifference`` (second order, step ``options.fd_grid`` half-turns), analytic (float32)."""
    differentiator = _differentiator("fd", float(options.fd_grid))
    return _plan_engine("fd", ansatz, weights, inputs, differentiator, "analytic", slot_tolerance=FD_SLOT_TOLERANCE)


def shots_gradients(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, options: EngineOptions) -> GradientResult:
    """ParameterShift circuits estimated from ``options.repetitions`` shots per circuit and term."""
    return _plan_engine("shots", ansatz, weights, inputs, _differentiator("pshift"), "sampled",
                        shots=options.repetitions, delta=options.delta)


def noisy_gradients(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, options: EngineOptions) -> GradientResult:
    """ParameterShift circuits on TFQ's noisy backend, ``options.trajectories`` trajectories each."""
    return _plan_engine("noisy", ansatz, weights, inputs, _differentiator("pshift"), "trajectories",
                        shots=options.trajectories, delta=options.delta)


@functools.lru_cache(maxsize=256)
def _two_term_rule_exact(ansatz: Ansatz):
    """Why TFQ's ParameterShift is not exact for ``ansatz`` (see
    :func:`privqml.models.tfq_circuit.parameter_shift_problem`), or None. Cached per ansatz
    value: ``Engine.declines`` asks it for every example of every property."""
    problem = parameter_shift_problem(slot_table(ansatz).canonical)
    return f"{problem}; use adjoint, fd or numeric for this ansatz" if problem else None


TFQ_ENGINES: dict[str, Engine] = {
    "adjoint": Engine("adjoint", adjoint_gradients, exact=True, stochastic=False, max_qubits=None,
                      description="TFQ Adjoint (float32)"),
    "pshift": Engine("pshift", pshift_gradients, exact=True, stochastic=False, max_qubits=None,
                     description="TFQ ParameterShift, analytic expectations (float32)", admits=_two_term_rule_exact),
    "fd": Engine("fd", fd_gradients, exact=True, stochastic=False, max_qubits=None,
                 description="TFQ CentralDifference, h = 1e-3 half-turns (float32)"),
    "shots": Engine("shots", shots_gradients, exact=False, stochastic=True, max_qubits=None,
                    description="TFQ ParameterShift on SampledExpectation (finite shots)", supports_noise=True,
                    admits=_two_term_rule_exact),
    "noisy": Engine("noisy", noisy_gradients, exact=False, stochastic=True, max_qubits=None,
                    description="TFQ ParameterShift on backend='noisy' (Monte-Carlo trajectories)", supports_noise=True,
                    admits=_two_term_rule_exact),
}

__all__ = [
    "ADJOINT_SLOT_TOLERANCE",
    "FD_SLOT_TOLERANCE",
    "PSHIFT_SLOT_TOLERANCE",
    "GradientPlan",
    "TFQ_ENGINES",
    "TFQProgram",
    "adjoint_gradients",
    "execute_plan",
    "fd_gradients",
    "gradient_plan",
    "noisy_gradients",
    "pshift_gradients",
    "shots_gradients",
    "tfq_program",
]
