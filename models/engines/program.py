r"""An ansatz as a gate program for a tensor-network simulator: matrices on qubit indices.

The ansatz runs as its canonical circuit (:func:`privqml.theory.slot_table`): every operation
is one of

- a *fixed* unitary V (a constant matrix, ``cirq.unitary``);
- a parameter-free *channel* with Kraus operators {K_m}, ρ ↦ Σ_m K_m ρ K_m†;
- an *angle slot* k, an EigenGate whose unitary at exponent t_k (half-turns) is

      U_k(t_k) = Σ_λ e^{iπ t_k (λ + s)} P_λ,

  with P_λ the eigenprojectors, λ the eigen half-turns and s the global shift (Cirq's
  ``EigenGate._eigen_components``). A simulator builds U_k from t_k with one complex exponential
  per eigenvalue and a weighted sum of constant projectors, so every gate the theory accepts
  (rotations, Pow gates, PhasedXZ and FSim through their decompositions, controlled gates as
  :class:`~privqml.theory.spectra.ControlledEigenGate`, symbolic diagonal gates) runs through
  one rule, with the exponents t_k(θ, x) from the slot table's expressions.

Gate fusion: consecutive unitary steps on the same qubits (the same targets, in the same order,
with no other operation on those qubits in between) form one :class:`Block`, whose matrix is the
product M = S_m ⋯ S_1 (later steps on the left). A simulator then applies one matrix per block;
PhasedXZ, for instance, canonicalises into three slots on one qubit and becomes one 2 × 2 gate
together with the encoding rotation before it.

Observables are kept as Pauli terms (coefficient, ((qubit index, "x"|"y"|"z"), …)); a term with
no factor is the constant c·I. Qubit indices follow ``ansatz.qubits`` (sorted), the first index
being the most significant bit, which is Cirq's ``cirq.unitary`` order and TensorCircuit's.

Limits: a state vector of n qubits holds 2ⁿ complex amplitudes per example, a density matrix
4ⁿ; the program refuses more than :data:`MAX_QUBITS_PURE` (pure) or :data:`MAX_QUBITS_MIXED`
(with channels) qubits and names the engine that runs larger circuits (TFQ: state vectors in
C++, noisy circuits by Monte-Carlo trajectories).
"""

from __future__ import annotations

import dataclasses
import functools

import cirq
import numpy as np

from privqml.errors import ConfigError, UnsupportedGateError
from privqml.theory.ansatz import Ansatz
from privqml.theory.slots import SlotTable, slot_table

MAX_QUBITS_PURE = 20
MAX_QUBITS_MIXED = 10
_PAULI_LETTERS = {cirq.X: "x", cirq.Y: "y", cirq.Z: "z"}
_TFQ_HINT = "use the TFQ engine (privqml.models.tfq_circuit), which runs it"


@dataclasses.dataclass(frozen=True)
class FixedStep:
    """A constant unitary ``matrix`` (2^k × 2^k, complex128) on qubit indices ``targets``."""

    targets: tuple[int, ...]
    matrix: np.ndarray


@dataclasses.dataclass(frozen=True)
class ChannelStep:
    """A channel ρ ↦ Σ_m K_m ρ K_m† with Kraus operators ``kraus`` on qubit indices ``targets``."""

    targets: tuple[int, ...]
    kraus: tuple[np.ndarray, ...]


@dataclasses.dataclass(frozen=True)
class SlotStep:
    """Angle slot ``slot``: U(t) = Σ_c e^{iπ t h_c} P_c on ``targets``.

    Attributes:
        projectors: [n_components, 2^k, 2^k] eigenprojectors P_c (complex128).
        half_turns: [n_components] h_c = λ_c + s, the eigen half-turns plus the global shift.
    """

    targets: tuple[int, ...]
    slot: int
    projectors: np.ndarray
    half_turns: np.ndarray


@dataclasses.dataclass(frozen=True)
class Block:
    """Consecutive unitary steps on the same ``targets``: M = S_m ⋯ S_1 for ``steps`` = (S_1, …, S_m).

    Attributes:
        targets: the qubit indices every step acts on, in this order.
        steps: fixed and slot steps, in circuit order.
        matrix: M when every step is fixed (complex128), else None.
    """

    targets: tuple[int, ...]
    steps: tuple[FixedStep | SlotStep, ...]
    matrix: np.ndarray | None

    @property
    def slots(self) -> tuple[int, ...]:
        return tuple(s.slot for s in self.steps if isinstance(s, SlotStep))


def fuse(steps) -> tuple[Block | ChannelStep, ...]:
    """Group ``steps`` into blocks of consecutive unitaries on the same targets (channels stay alone).

    A step joins the block that was last to touch each of its qubits when that block is one and
    the same and has exactly its targets; nothing else touched those qubits since, so moving the
    step into the block keeps the circuit's action.
    """
    groups: list[list] = []  # per group: [targets, steps] (channel groups: [targets, [channel]])
    latest: dict[int, int] = {}  # qubit -> index of the last group that touched it
    for step in steps:
        owners = {latest.get(q) for q in step.targets}
        if not isinstance(step, ChannelStep) and len(owners) == 1:
            (owner,) = owners
            if owner is not None and groups[owner][0] == step.targets and not isinstance(groups[owner][1][0], ChannelStep):
                groups[owner][1].append(step)
                continue
        groups.append([step.targets, [step]])
        for q in step.targets:
            latest[q] = len(groups) - 1
    out: list[Block | ChannelStep] = []
    for targets, members in groups:
        if isinstance(members[0], ChannelStep):
            out.append(members[0])
            continue
        matrix = None
        if all(isinstance(m, FixedStep) for m in members):
            matrix = np.eye(2 ** len(targets), dtype=np.complex128)
            for member in members:
                matrix = member.matrix @ matrix
        out.append(Block(targets, tuple(members), matrix))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class PauliTerm:
    """c · P_1 ⊗ … ⊗ P_m: ``coefficient`` c (real) and ``factors`` ((qubit index, "x"|"y"|"z"), …)."""

    coefficient: float
    factors: tuple[tuple[int, str], ...]

    def letters(self) -> dict[str, list[int]]:
        """{"x": [indices], "y": […], "z": […]}, the keyword form of ``expectation_ps``."""
        out: dict[str, list[int]] = {"x": [], "y": [], "z": []}
        for index, letter in self.factors:
            out[letter].append(index)
        return out


@dataclasses.dataclass(frozen=True)
class Program:
    """An ansatz compiled into steps on qubit indices (see the module docstring).

    Attributes:
        ansatz: the source ansatz.
        slots: its slot table (t_k(θ, x) as SymPy expressions; columns θ then x).
        steps: fixed, channel and slot steps in circuit order.
        blocks: the steps fused (:func:`fuse`): blocks and channels, in an order that keeps the
            circuit's action.
        observables: per observable O_c, its Pauli terms.
        mixed: True if a channel is present (density-matrix simulation).
    """

    ansatz: Ansatz
    slots: SlotTable
    steps: tuple[FixedStep | ChannelStep | SlotStep, ...]
    blocks: tuple[Block | ChannelStep, ...]
    observables: tuple[tuple[PauliTerm, ...], ...]
    mixed: bool

    @property
    def n_qubits(self) -> int:
        return self.ansatz.n_qubits

    @property
    def n_slots(self) -> int:
        return self.slots.n_slots

    @property
    def n_outputs(self) -> int:
        return len(self.observables)

    def coefficient_norms(self) -> np.ndarray:
        """Σ_terms |c| per observable: |f_c| ≤ this, the scale of a float tolerance."""
        return np.asarray([sum(abs(t.coefficient) for t in terms) for terms in self.observables])


def _fixed_steps(op: cirq.Operation, index: dict) -> list[FixedStep | ChannelStep]:
    targets = tuple(index[q] for q in op.qubits)
    if not targets:
        return []  # a global phase: no effect on an expectation
    if cirq.has_unitary(op):
        return [FixedStep(targets, np.asarray(cirq.unitary(op), dtype=np.complex128))]
    if cirq.has_kraus(op):
        return [ChannelStep(targets, tuple(np.asarray(k, dtype=np.complex128) for k in cirq.kraus(op)))]
    pieces = cirq.decompose_once(op, default=None)
    if pieces is None:
        raise UnsupportedGateError(
            f"the vectorised engine cannot simulate {type(op.gate).__name__ if op.gate else type(op).__name__} "
            f"in {op}: it has no unitary, Kraus operators or decomposition; {_TFQ_HINT}"
        )
    return [step for piece in pieces for step in _fixed_steps(piece, index)]


def _slot_step(op: cirq.Operation, slot: int, index: dict) -> SlotStep:
    gate = op.gate
    components = gate._eigen_components()  # noqa: SLF001 - the EigenGate protocol
    shift = float(gate._global_shift)  # noqa: SLF001
    return SlotStep(
        targets=tuple(index[q] for q in op.qubits),
        slot=slot,
        projectors=np.stack([np.asarray(p, dtype=np.complex128) for _, p in components]),
        half_turns=np.asarray([float(h) + shift for h, _ in components]),
    )


def _pauli_terms(observable: cirq.PauliSum, index: dict) -> tuple[PauliTerm, ...]:
    return tuple(
        PauliTerm(
            float(complex(term.coefficient).real),
            tuple(sorted((index[q], _PAULI_LETTERS[p]) for q, p in term.items())),
        )
        for term in observable
    )


@functools.lru_cache(maxsize=128)
def compile_program(ansatz: Ansatz) -> Program:
    """The :class:`Program` of ``ansatz`` (cached per ansatz value).

    Raises:
        UnsupportedGateError: a gate the theory cannot canonicalise (from the slot table), a
            non-qubit operation, or a fixed operation with neither unitary, Kraus operators nor
            decomposition — each named, with the engine that runs it.
        ConfigError: too many qubits for the state-vector or density-matrix simulation.
    """
    slots = slot_table(ansatz)
    wide = [q for q in ansatz.qubits if q.dimension != 2]
    if wide:
        raise UnsupportedGateError(
            f"the vectorised engine simulates qubits only; {wide[0]!r} has dimension "
            f"{wide[0].dimension}; rewrite the ansatz on qubits"
        )
    index = {q: i for i, q in enumerate(ansatz.qubits)}
    steps: list = []
    for op, slot in zip(slots.canonical.operations, slots.canonical.slot_of):
        steps.extend(_fixed_steps(op, index) if slot < 0 else [_slot_step(op, slot, index)])
    mixed = any(isinstance(s, ChannelStep) for s in steps)
    limit = MAX_QUBITS_MIXED if mixed else MAX_QUBITS_PURE
    if ansatz.n_qubits > limit:
        kind = "density-matrix (the circuit has noise channels)" if mixed else "state-vector"
        raise ConfigError(
            f"n_qubits={ansatz.n_qubits} exceeds the vectorised engine's {kind} limit of {limit} qubits; "
            + ("use the TFQ engine, whose noisy backend samples Monte-Carlo trajectories" if mixed else _TFQ_HINT)
        )
    observables = tuple(_pauli_terms(o, index) for o in ansatz.observables)
    return Program(ansatz, slots, tuple(steps), fuse(steps), observables, mixed)


__all__ = [
    "Block",
    "ChannelStep",
    "FixedStep",
    "MAX_QUBITS_MIXED",
    "MAX_QUBITS_PURE",
    "PauliTerm",
    "Program",
    "SlotStep",
    "compile_program",
    "fuse",
]
