"""Exact float64 expectations and gradients of an ansatz: a small NumPy simulator with an adjoint pass.

The ansatz is run as its canonical circuit (:func:`privqml.theory.slots.slot_table`): fixed
unitaries, parameter-free noise channels (Kraus operators) and *angle slots*, EigenGates
U_k(t_k) = Σ_λ e^{iπ t_k (λ+s)} P_λ ∝ exp(i t_k H_k) with H_k = π Σ_λ λ P_λ the generator per
unit exponent (:func:`~privqml.theory.spectra.generator_matrix`). The gradient is exact, not a
finite difference. Per slot (Jones & Gacon, arXiv:2009.02823, the adjoint method; for channels
the Heisenberg-picture form)

    ∂f_c/∂t_k = i Tr[O_{c,k} [H_k, ρ_k]] = −2 Im Tr[O_{c,k} H_k ρ_k],

where ρ_k is the state just after slot k and O_{c,k} = Φ_{>k}†(O_c) the observable evolved
backwards through everything after it (for pure states −2 Im ⟨φ_k|H_k|ψ_k⟩ with
φ_k = O_{c,k} ψ_k). The chain rule then gives, for every weight (or input) z_j,

    ∂f_c/∂z_j = Σ_k (∂f_c/∂t_k)(∂t_k/∂z_j),

with t_k and ∂t_k/∂z_j from the ansatz's slot table (:mod:`privqml.theory.slots`: derivatives
over the reals, a jump's ``DiracDelta`` taken as 0 — the derivative almost everywhere — and
evaluated with NumPy). Cost: one forward and one backward pass, whatever the number of weights.

Noiseless circuits run on state vectors (up to ``MAX_QUBITS_PURE`` qubits), circuits with
channels on density matrices (up to ``MAX_QUBITS_MIXED``); the backward pass un-computes
unitaries (ρ ← U†ρU) and restores the state saved before each channel (channels cannot be
undone), so memory is one density matrix per channel.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Optional, Sequence

import cirq
import numpy as np
import sympy

from privqml.errors import ConfigError, DomainError, UnsupportedGateError
from privqml.theory.ansatz import Ansatz
from privqml.theory.slots import SlotTable, slot_table
from privqml.theory.spectra import CanonicalCircuit, generator_matrix

MAX_QUBITS_PURE = 14
MAX_QUBITS_MIXED = 10
_WRT = ("weights", "inputs", "all")


@dataclasses.dataclass(frozen=True)
class _Step:
    """One operation of the program: ``kind`` is "unitary", "channel" or "slot"."""

    kind: str
    targets: tuple[int, ...]
    matrices: tuple[np.ndarray, ...]  # (U,) | Kraus operators | (stacked eigenprojectors P_λ,)
    half_turns: Optional[np.ndarray] = None  # slot: λ + s, one per projector
    generator: Optional[np.ndarray] = None  # slot: H = π Σ λ P_λ
    slot: int = -1


@dataclasses.dataclass(frozen=True)
class NumericProgram:
    """An ansatz compiled for the NumPy simulator (built once per ansatz value and cached).

    Attributes:
        ansatz: the source ansatz.
        slots: its slot table (the canonical circuit, t_k and ∂t_k/∂z_j).
        steps: the operations as matrices on qubit indices (``ansatz.qubits`` order).
        mixed: True when the circuit has noise channels (density-matrix simulation).
    """

    ansatz: Ansatz
    slots: SlotTable
    steps: tuple[_Step, ...]
    mixed: bool
    _observables: tuple  # pure: per observable [(coefficient, ((axis, 2x2), ...)), ...]; mixed: dense

    @property
    def canonical(self) -> CanonicalCircuit:
        return self.slots.canonical

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """Weights then inputs, the order of the columns of ``with_respect_to="all"``."""
        return self.slots.symbols

    @property
    def n_qubits(self) -> int:
        return self.ansatz.n_qubits

    @property
    def n_slots(self) -> int:
        return self.slots.n_slots

    def slot_values(self, values: np.ndarray) -> np.ndarray:
        """Slot exponents t_k(z) for z = [weights, inputs] rows: [B, n_symbols] -> [B, n_slots]."""
        return self.slots.exponent_values(values)

    def slot_jacobian(self, values: np.ndarray) -> np.ndarray:
        """∂t_k/∂z_j: [B, n_symbols] -> [B, n_slots, n_symbols]."""
        return self.slots.jacobian(values)


# -- compilation ------------------------------------------------------------------------------
def _fixed_steps(op: cirq.Operation, index: dict) -> list[_Step]:
    targets = tuple(index[q] for q in op.qubits)
    if any(d != 2 for d in cirq.qid_shape(op)):
        raise UnsupportedGateError(f"operation {op} acts on non-qubit qids; numeric.py simulates qubits only")
    if not targets:
        return []  # a global phase: no effect on expectations
    if cirq.has_unitary(op):
        return [_Step("unitary", targets, (np.asarray(cirq.unitary(op), dtype=np.complex128),))]
    if cirq.has_kraus(op):
        kraus = tuple(np.asarray(k, dtype=np.complex128) for k in cirq.kraus(op))
        return [_Step("channel", targets, kraus)]
    decomposed = cirq.decompose_once(op, default=None)
    if decomposed is None:
        raise UnsupportedGateError(
            f"operation {op} has neither a unitary, Kraus operators nor a decomposition; "
            "numeric.py cannot simulate it"
        )
    return [step for sub in decomposed for step in _fixed_steps(sub, index)]


def _slot_step(op: cirq.Operation, slot: int, index: dict) -> _Step:
    gate = op.gate
    components = gate._eigen_components()  # noqa: SLF001 - the EigenGate protocol
    shift = float(gate._global_shift)  # noqa: SLF001
    half_turns = np.array([float(h) + shift for h, _ in components])
    projectors = np.stack([np.asarray(p, dtype=np.complex128) for _, p in components])
    return _Step(
        "slot",
        tuple(index[q] for q in op.qubits),
        (projectors,),
        half_turns,
        np.asarray(generator_matrix(gate), dtype=np.complex128),
        slot,
    )


def _observable_data(ansatz: Ansatz, mixed: bool, index: dict) -> tuple:
    if mixed:
        return tuple(np.asarray(o.matrix(ansatz.qubits), dtype=np.complex128) for o in ansatz.observables)
    out = []
    for obs in ansatz.observables:
        terms = []
        for term in obs:
            factors = tuple((index[q], np.asarray(cirq.unitary(p), dtype=np.complex128)) for q, p in term.items())
            terms.append((float(complex(term.coefficient).real), factors))
        out.append(tuple(terms))
    return tuple(out)


@functools.lru_cache(maxsize=128)
def compile_numeric(ansatz: Ansatz) -> NumericProgram:
    """The :class:`NumericProgram` of ``ansatz`` (cached per ansatz value).

    Raises:
        ConfigError: when the circuit is too wide for the state-vector (pure) or density-matrix
            (with channels) simulator.
    """
    slots = slot_table(ansatz)
    index = {q: i for i, q in enumerate(ansatz.qubits)}
    steps: list[_Step] = []
    for op, slot in zip(slots.canonical.operations, slots.canonical.slot_of):
        steps.extend(_fixed_steps(op, index) if slot < 0 else [_slot_step(op, slot, index)])
    mixed = any(s.kind == "channel" for s in steps)
    limit = MAX_QUBITS_MIXED if mixed else MAX_QUBITS_PURE
    if ansatz.n_qubits > limit:
        raise ConfigError(
            f"n_qubits={ansatz.n_qubits} is too large for numeric.py's "
            f"{'density-matrix' if mixed else 'state-vector'} simulator (limit {limit}); "
            "use the TFQ engine (privqml.models.tfq_circuit) for larger circuits"
        )
    return NumericProgram(ansatz, slots, tuple(steps), mixed, _observable_data(ansatz, mixed, index))


# -- the simulator ----------------------------------------------------------------------------
def _apply(state: np.ndarray, matrix: np.ndarray, axes: Sequence[int], batched: bool) -> np.ndarray:
    """Contract ``matrix`` (d×d, or B×d×d batched on axis 0 of ``state``) into ``state``'s ``axes``."""
    k = len(axes)
    nd = state.ndim
    fresh = list(range(nd, nd + k))
    tensor = matrix.reshape((matrix.shape[0],) * batched + (2,) * (2 * k))
    matrix_idx = [0] * batched + fresh + list(axes)
    out_idx = list(range(nd))
    for axis, new in zip(axes, fresh):
        out_idx[axis] = new
    return np.einsum(tensor, matrix_idx, state, list(range(nd)), out_idx)


def _slot_unitaries(step: _Step, t: np.ndarray) -> np.ndarray:
    phases = np.exp(1j * np.pi * t[:, None] * step.half_turns[None, :])
    return np.einsum("bc,cij->bij", phases, step.matrices[0])


def _dagger(matrix: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(matrix, -1, -2))


def _run_pure(program: NumericProgram, t: np.ndarray, want_grad: bool):
    n, batch = program.n_qubits, t.shape[0]
    psi = np.zeros((batch,) + (2,) * n, dtype=np.complex128)
    psi[(slice(None),) + (0,) * n] = 1.0
    unitaries = []
    for step in program.steps:
        axes = [1 + q for q in step.targets]
        if step.kind == "slot":
            u = _slot_unitaries(step, t[:, step.slot])
            psi = _apply(psi, u, axes, True)
        else:
            u = step.matrices[0]
            psi = _apply(psi, u, axes, False)
        unitaries.append(u)
    phis = []
    for terms in program._observables:
        phi = np.zeros_like(psi)
        for coefficient, factors in terms:
            piece = psi
            for q, pauli in factors:
                piece = _apply(piece, pauli, [1 + q], False)
            phi = phi + coefficient * piece
        phis.append(phi)
    phi = np.stack(phis, axis=1)  # [B, n_obs, 2, ..., 2]
    flat_psi = psi.reshape(batch, 1, -1)
    f = np.real(np.sum(np.conj(flat_psi) * phi.reshape(batch, len(phis), -1), axis=-1))
    if not want_grad:
        return f, None
    df_dt = np.zeros((batch, len(phis), program.n_slots))
    for step, u in zip(reversed(program.steps), reversed(unitaries)):
        axes = [1 + q for q in step.targets]
        if step.kind == "slot":
            h_psi = _apply(psi, step.generator, axes, False).reshape(batch, 1, -1)
            overlap = np.sum(np.conj(phi.reshape(batch, len(phis), -1)) * h_psi, axis=-1)
            df_dt[:, :, step.slot] = -2.0 * np.imag(overlap)
        u_dag = _dagger(u)
        batched = step.kind == "slot"
        psi = _apply(psi, u_dag, axes, batched)
        phi = _apply(phi, u_dag, [a + 1 for a in axes], batched)
    return f, df_dt


def _two_sided(rho: np.ndarray, left: np.ndarray, right_t: np.ndarray, targets, n: int, lead: int, batched: bool):
    """ρ ← A ρ B on row axes and column axes, given A and Bᵀ."""
    rows = [lead + q for q in targets]
    cols = [lead + n + q for q in targets]
    return _apply(_apply(rho, left, rows, batched), right_t, cols, batched)


def _trace_product(obs: np.ndarray, rho: np.ndarray, n: int) -> np.ndarray:
    """Tr[O_c X] for O [B, C, D, D] (or [C, D, D]) and X [B, D, D] -> [B, C]."""
    dim = 2**n
    x = rho.reshape(rho.shape[0], dim, dim)
    if obs.ndim == 3:
        return np.einsum("crs,bsr->bc", obs, x)
    return np.einsum("bcrs,bsr->bc", obs.reshape(obs.shape[0], obs.shape[1], dim, dim), x)


def _run_mixed(program: NumericProgram, t: np.ndarray, want_grad: bool):
    n, batch = program.n_qubits, t.shape[0]
    rho = np.zeros((batch,) + (2,) * (2 * n), dtype=np.complex128)
    rho[(slice(None),) + (0,) * (2 * n)] = 1.0
    saved, unitaries = [], []
    for step in program.steps:
        if step.kind == "channel":
            saved.append(rho)
            rho = sum(_two_sided(rho, k, np.conj(k), step.targets, n, 1, False) for k in step.matrices)
            unitaries.append(None)
            continue
        batched = step.kind == "slot"
        u = _slot_unitaries(step, t[:, step.slot]) if batched else step.matrices[0]
        rho = _two_sided(rho, u, np.conj(u), step.targets, n, 1, batched)
        unitaries.append(u)
    observables = np.stack(program._observables)  # [C, D, D]
    f = np.real(_trace_product(observables, rho, n))
    if not want_grad:
        return f, None
    n_obs = observables.shape[0]
    obs = np.broadcast_to(observables.reshape((1, n_obs) + (2,) * (2 * n)), (batch, n_obs) + (2,) * (2 * n))
    obs = np.ascontiguousarray(obs)
    df_dt = np.zeros((batch, n_obs, program.n_slots))
    for step, u in zip(reversed(program.steps), reversed(unitaries)):
        if step.kind == "channel":
            rho = saved.pop()
            obs = sum(_two_sided(obs, _dagger(k), k.T, step.targets, n, 2, False) for k in step.matrices)
            continue
        batched = step.kind == "slot"
        if batched:
            h_rho = _apply(rho, step.generator, [1 + q for q in step.targets], False)
            df_dt[:, :, step.slot] = -2.0 * np.imag(_trace_product(obs, h_rho, n))
        u_dag, u_t = _dagger(u), np.swapaxes(u, -1, -2)
        rho = _two_sided(rho, u_dag, u_t, step.targets, n, 1, batched)
        obs = _two_sided(obs, u_dag, u_t, step.targets, n, 2, batched)
    return f, df_dt


def evaluate(program: NumericProgram, values: np.ndarray, with_respect_to: Optional[str] = "weights"):
    """Core entry, no validation: ``values`` [B, n_weights + n_inputs] (weights then inputs).

    Returns (f [B, n_obs], jac [B, n_obs, n_cols] or None when ``with_respect_to`` is None).
    """
    t = program.slot_values(values)
    run = _run_mixed if program.mixed else _run_pure
    f, df_dt = run(program, t, with_respect_to is not None)
    if with_respect_to is None:
        return f, None
    dt_dz = program.slot_jacobian(values)
    n_w = program.ansatz.n_weights
    if with_respect_to == "weights":
        dt_dz = dt_dz[:, :, :n_w]
    elif with_respect_to == "inputs":
        dt_dz = dt_dz[:, :, n_w:]
    return f, np.einsum("bck,bkj->bcj", df_dt, dt_dz)


# -- public API -------------------------------------------------------------------------------
def _stack_values(ansatz: Ansatz, weights, inputs, check_domain: bool) -> tuple[np.ndarray, bool]:
    weights = np.asarray(weights, dtype=np.float64)
    inputs = np.asarray(inputs, dtype=np.float64)
    single = weights.ndim <= 1 and inputs.ndim <= 1
    if weights.size == 0 and ansatz.n_weights == 0:
        weights = np.zeros((1, 0))
    if inputs.size == 0 and ansatz.n_inputs == 0:
        inputs = np.zeros((1, 0))
    weights, inputs = np.atleast_2d(weights), np.atleast_2d(inputs)
    if weights.ndim != 2 or inputs.ndim != 2:
        raise DomainError(f"weights shape {weights.shape} / inputs shape {inputs.shape}: pass [P] or [B, P]")
    if weights.shape[-1] != ansatz.n_weights or inputs.shape[-1] != ansatz.n_inputs:
        raise DomainError(
            f"weights shape {weights.shape} / inputs shape {inputs.shape} do not match the ansatz "
            f"{ansatz.name!r}: need [..., {ansatz.n_weights}] weights and [..., {ansatz.n_inputs}] inputs"
        )
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(inputs))):
        raise DomainError("weights or inputs contain NaN or infinite values")
    if check_domain:
        inputs = ansatz.check_inputs(inputs)  # values within rounding of the domain come back on it
    batch = max(weights.shape[0], inputs.shape[0])
    if weights.shape[0] not in (1, batch) or inputs.shape[0] not in (1, batch):
        raise DomainError(f"batch sizes differ: weights {weights.shape}, inputs {inputs.shape}")
    weights = np.broadcast_to(weights, (batch, ansatz.n_weights))
    inputs = np.broadcast_to(inputs, (batch, ansatz.n_inputs))
    return np.concatenate([weights, inputs], axis=1), single


def batch_expectations_and_jacobians(
    ansatz: Ansatz, weights, inputs=(), *, with_respect_to: str = "weights", check_domain: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """f_c(x_b; θ_b) and ∂f_c/∂z_j for a batch: weights [P] or [B, P], inputs [n_x] or [B, n_x].

    Returns (f [B, n_obs], jac [B, n_obs, n_cols]); the columns are the weights, the inputs, or
    both (weights first) for ``with_respect_to`` = "weights", "inputs", "all".
    """
    if with_respect_to not in _WRT:
        raise ConfigError(f"with_respect_to={with_respect_to!r}; choose one of {_WRT}")
    values, _ = _stack_values(ansatz, weights, inputs, check_domain)
    return evaluate(compile_numeric(ansatz), values, with_respect_to)


def expectations_and_jacobian(
    ansatz: Ansatz, weights, inputs=(), *, with_respect_to: str = "weights", check_domain: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(f [n_obs], jac [n_obs, n_cols]) at one point; exact (adjoint method), float64."""
    f, jac = batch_expectations_and_jacobians(
        ansatz, weights, inputs, with_respect_to=with_respect_to, check_domain=check_domain
    )
    if f.shape[0] != 1:
        raise DomainError(f"expected one example, got a batch of {f.shape[0]}; use batch_expectations_and_jacobians")
    return f[0], jac[0]


def expectations(ansatz: Ansatz, weights, inputs=(), *, check_domain: bool = True) -> np.ndarray:
    """f_c(x; θ) = Tr[O_c Φ_{x,θ}(|0⟩⟨0|)] for every observable: [n_obs] (or [B, n_obs] for a batch)."""
    values, single = _stack_values(ansatz, weights, inputs, check_domain)
    f, _ = evaluate(compile_numeric(ansatz), values, None)
    return f[0] if single else f


__all__ = [
    "MAX_QUBITS_MIXED",
    "MAX_QUBITS_PURE",
    "NumericProgram",
    "batch_expectations_and_jacobians",
    "compile_numeric",
    "evaluate",
    "expectations",
    "expectations_and_jacobian",
]
