"""Generator spectra of parametrised Cirq gates, and the canonical circuit of angle slots.

Every parametrised gate is brought to a product of *EigenGates*, U(t) = Σ_λ e^{iπ t (λ + s)} P_λ,
where t is the gate's exponent (a SymPy expression in weights and inputs, in half-turns), λ its
eigen half-turns, P_λ the eigenprojectors and s the global shift. As a function of t, an
expectation value Tr[O U(t) ρ U(t)†] is a trigonometric polynomial whose frequencies are
π|λ_i − λ_j| (Wierichs et al., "General parameter-shift rules for quantum gradients",
Quantum 6, 677 (2022)). Its largest frequency, the *spread*

    Ω = π · (max λ − min λ)   [radians of phase per unit exponent],

is the type of the entire function t ↦ f(t), so Bernstein's inequality gives
|∂f/∂t| ≤ Ω · (o_max − o_min)/2. ``cirq.rx(θ)`` has exponent θ/π and Ω = π per unit
exponent, i.e. 1 per radian; ``cirq.X**t`` has Ω = π per unit t.

Strategies, tried in this order for each operation (the first that accepts it wins):

0. an operation on no qubits (a global phase, symbolic or not) changes no expectation and is
   left out;
1. ``fixed``: the operation has no parameter (including parameter-free noise channels, and
   operations whose only parameters are constant SymPy numbers, which are evaluated);
2. ``eigengate``: an ``EigenGate`` whose exponent is the only parameter — generic, from
   ``_eigen_components()``;
3. ``controlled``: a ``cirq.ControlledGate`` of an exponent-only EigenGate U(t) is itself an
   EigenGate (:class:`ControlledEigenGate`): half-turn 0 on inactive control states and
   λ + s on active ones, so its spread is π·(max(λ+s, 0) − min(λ+s, 0)) — e.g. 1 per radian for
   a controlled rz, where splitting off the controlled phase would give a looser 1.5;
4. ``diagonal``: a symbolic ``cirq.DiagonalGate`` is an exact product of one diagonal EigenGate
   per symbolic term of its angles (:mod:`privqml.theory.diagonal`), each with the spread of
   its own generator — tighter than Cirq's rz/CNOT decomposition;
5. ``decompose``: ``cirq.decompose_once`` into operations that the strategies accept
   (PhasedXPow, PhasedXZ, FSim, PhasedFSim, controlled gates of those, circuit operations…).

An operation that none accepts raises :class:`~privqml.errors.UnsupportedGateError` naming the
gate, the operation and why each strategy declined.

Every slot exponent is an expression in the ansatz's own weight and input symbols (the same
objects: :mod:`privqml.theory.symbols`), so consumers may match symbols as objects. The slot
exponents and their derivatives, for every consumer, come from :mod:`privqml.theory.slots`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Optional

import cirq
import numpy as np
import sympy

from privqml.errors import UnsupportedGateError
from privqml.theory.ansatz import Ansatz, parameter_names
from privqml.theory.diagonal import diagonal_factors
from privqml.theory.symbols import canonical_operation


@dataclasses.dataclass(frozen=True)
class EigenSpectrum:
    """Eigen half-turns of an EigenGate and the spread they imply.

    Attributes:
        half_turns: the distinct eigen half-turns λ (global shift excluded; rounded to 12 decimals
            to merge duplicates).
        spread: Ω = π (max λ − min λ), radians per unit exponent, from the unrounded λ.
        frequencies: distinct positive differences π|λ_i − λ_j|, the frequencies of an
            expectation value as a function of the exponent, in radians per unit exponent.
    """

    half_turns: tuple[float, ...]
    spread: float
    frequencies: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class AngleSlot:
    """One parametrised EigenGate occurrence of the canonical circuit.

    Attributes:
        index: position among the slots, in circuit order.
        operation: the canonical operation (an EigenGate with a symbolic exponent).
        exponent: its exponent, a SymPy expression in the ansatz's weights and inputs
            (half-turns).
        spectrum: the gate's eigen spectrum; ``spectrum.spread`` is Ω per unit exponent.
        source: the user's operation this slot comes from (itself, or the one decomposed).
        strategy: ``"eigengate"``, ``"controlled"``, ``"diagonal"`` or ``"decompose"``.
    """

    index: int
    operation: cirq.Operation
    exponent: sympy.Expr
    spectrum: EigenSpectrum
    source: cirq.Operation
    strategy: str

    @property
    def spread(self) -> float:
        return self.spectrum.spread

    @property
    def qubits(self) -> tuple[cirq.Qid, ...]:
        return tuple(self.operation.qubits)


@dataclasses.dataclass(frozen=True)
class CanonicalCircuit:
    """The ansatz circuit rewritten so that every parametrised operation is an angle slot.

    Attributes:
        operations: the canonical operations in circuit order (fixed ones and slots).
        slot_of: for each entry of ``operations``, the index of its slot, or -1 if fixed.
        slots: the angle slots, in circuit order.
    """

    operations: tuple[cirq.Operation, ...]
    slot_of: tuple[int, ...]
    slots: tuple[AngleSlot, ...]

    def circuit(self) -> cirq.Circuit:
        return cirq.Circuit(self.operations)


@functools.lru_cache(maxsize=4096)
def _spectrum_from_half_turns(half_turns: tuple[float, ...]) -> EigenSpectrum:
    values = sorted(set(round(h, 12) for h in half_turns))
    # the spread from the half-turns as given: rounding them first could shrink it
    spread = math.pi * (max(half_turns) - min(half_turns)) if half_turns else 0.0
    freqs = sorted(
        {round(math.pi * abs(a - b), 12) for a in values for b in values if abs(a - b) > 1e-12}
    )
    return EigenSpectrum(tuple(values), spread, tuple(freqs))


def eigen_spectrum(gate: cirq.EigenGate) -> EigenSpectrum:
    """Spectrum of an EigenGate from its eigen-components (independent of the exponent)."""
    components = gate._eigen_components()  # noqa: SLF001 - the documented EigenGate protocol
    return _spectrum_from_half_turns(tuple(float(h) for h, _ in components))


def generator_matrix(gate: cirq.EigenGate) -> np.ndarray:
    """H = π Σ_λ λ P_λ, the generator per unit exponent: U(t) ∝ exp(iπ t Σ λ P_λ) = exp(i t H)."""
    components = gate._eigen_components()  # noqa: SLF001
    return math.pi * sum(float(h) * np.asarray(p, dtype=complex) for h, p in components)


class ControlledEigenGate(cirq.EigenGate):
    """C-U(t): a ``cirq.ControlledGate`` of an exponent-only EigenGate U(t), as an EigenGate.

    With P_on the projector onto the active control states and U(t) = Σ_λ e^{iπt(λ+s)} P_λ,
    C-U(t) = P_off ⊗ I + Σ_λ e^{iπt(λ+s)} P_on ⊗ P_λ: eigen half-turns {0} ∪ {λ + s}, global
    shift 0. The sub-gate's global shift s becomes a relative phase and counts in the spread.
    """

    def __init__(self, controlled: cirq.ControlledGate, exponent=None) -> None:
        self._controlled = controlled
        sub = controlled.sub_gate
        super().__init__(exponent=sub.exponent if exponent is None else exponent)

    def _with_exponent(self, exponent) -> "ControlledEigenGate":
        return ControlledEigenGate(self._controlled, exponent)

    def _qid_shape_(self) -> tuple[int, ...]:
        return cirq.qid_shape(self._controlled)

    def as_controlled_gate(self) -> cirq.ControlledGate:
        """The same gate as a ``cirq.ControlledGate`` whose sub-gate carries this exponent (what
        simulators without this class, e.g. TFQ, take)."""
        controlled = self._controlled
        return cirq.ControlledGate(
            controlled.sub_gate._with_exponent(self.exponent),  # noqa: SLF001 - EigenGate protocol
            num_controls=controlled.num_controls(),
            control_values=controlled.control_values,
            control_qid_shape=controlled.control_qid_shape,
        )

    def _eigen_components(self):
        controlled, sub = self._controlled, self._controlled.sub_gate
        sub_dim = int(np.prod(cirq.qid_shape(sub)))
        marker = cirq.ControlledGate(
            cirq.MatrixGate(-np.eye(sub_dim)),
            control_values=controlled.control_values,
            control_qid_shape=controlled.control_qid_shape,
        )
        marker_unitary = cirq.unitary(marker)  # -1 on active control states, +1 elsewhere
        on = (np.eye(marker_unitary.shape[0]) - marker_unitary) / 2
        ctrl_dim = on.shape[0] // sub_dim
        components = [(0.0, np.eye(on.shape[0]) - on)]
        for half_turn, projector in sub._eigen_components():  # noqa: SLF001
            lifted = on @ np.kron(np.eye(ctrl_dim), projector)
            components.append((float(half_turn) + float(sub._global_shift), lifted))  # noqa: SLF001
        return components

    def _control_key(self) -> tuple:
        sub = self._controlled.sub_gate
        return (
            repr(self._controlled.control_values),
            tuple(self._controlled.control_qid_shape),
            type(sub).__name__,
            float(sub._global_shift),  # noqa: SLF001
        )

    def _value_equality_values_(self):
        return self._control_key(), self._canonical_exponent

    def _value_equality_approximate_values_(self):
        return self._control_key(), super()._value_equality_approximate_values_()

    def __repr__(self) -> str:
        return f"privqml.ControlledEigenGate({self._controlled!r}, exponent={self.exponent!r})"

    def __str__(self) -> str:
        return f"C[{self._controlled}]**{self.exponent}"


def _controlled_eigengate(op: cirq.Operation) -> tuple[Optional[cirq.Operation], str]:
    """(C-U as an EigenGate op, "") for a ControlledGate of an exponent-only EigenGate, else (None, why)."""
    gate = op.gate
    if not isinstance(gate, cirq.ControlledGate):
        return None, "not a cirq.ControlledGate"
    sub_op = gate.sub_gate.on(*op.qubits[gate.num_controls():])
    why = _exponent_only_eigengate(sub_op)
    if why is not None:
        return None, f"its sub-gate {gate.sub_gate} is not an exponent-only EigenGate ({why})"
    return ControlledEigenGate(gate).on(*op.qubits), ""


def _exponent_only_eigengate(op: cirq.Operation) -> Optional[str]:
    """None if ``op`` is an EigenGate parametrised only through its exponent, else why not."""
    gate = op.gate
    if not isinstance(gate, cirq.EigenGate):
        return f"{type(gate).__name__ if gate is not None else type(op).__name__} is not an EigenGate"
    if cirq.is_parameterized(gate._global_shift):  # noqa: SLF001
        return "its global shift is symbolic"
    if not cirq.is_parameterized(gate.exponent):
        return "its exponent is not symbolic but the gate is"
    # Gates with extra symbolic attributes (e.g. PhasedISwapPow's phase_exponent) are EigenGates
    # whose eigen-components depend on those attributes: they are not exponent-only.
    try:
        gate._eigen_components()  # noqa: SLF001
        others = parameter_names(gate) - parameter_names(gate.exponent)
        if others:
            return f"attributes other than the exponent are symbolic ({sorted(others)})"
    except Exception as exc:  # noqa: BLE001 - reported as a declined strategy
        return f"its eigen-components cannot be computed symbolically ({exc})"
    return None


def _as_expr(value) -> sympy.Expr:
    return value if isinstance(value, sympy.Basic) else sympy.Float(value)


def _canonical_ops(op: cirq.Operation, depth: int = 0) -> list[tuple[cirq.Operation, str]]:
    """Rewrite one operation into (operation, strategy) pairs accepted by the strategies."""
    untagged = op.untagged
    if not untagged.qubits:
        return []  # a global phase: no effect on any expectation, whatever its parameters
    if not cirq.is_parameterized(untagged):
        return [(untagged, "fixed")]
    if not parameter_names(untagged):  # parametrised by constant SymPy numbers only
        untagged = canonical_operation(untagged)
        if not cirq.is_parameterized(untagged):
            return [(untagged, "fixed")]
    resolved = cirq.resolve_parameters(untagged, {n: 0.1 for n in parameter_names(untagged)})
    if cirq.has_kraus(resolved) and not cirq.has_unitary(resolved):
        raise UnsupportedGateError(
            f"noise channel {untagged} has symbolic parameters {sorted(cirq.parameter_names(untagged))}; "
            "noise channels must be parameter-free (fix the noise strength to a number)"
        )
    why_not_eigen = _exponent_only_eigengate(untagged)
    if why_not_eigen is None:
        return [(untagged, "eigengate" if depth == 0 else "decompose")]
    controlled, why_not_controlled = _controlled_eigengate(untagged)
    if controlled is not None:
        return [(controlled, "controlled" if depth == 0 else "decompose")]
    factors, why_not_diagonal = diagonal_factors(untagged)
    if factors is not None:
        strategy = "diagonal" if depth == 0 else "decompose"
        return [(f, "fixed" if not cirq.is_parameterized(f) else strategy) for f in factors]
    decomposed = cirq.decompose_once(untagged, default=None)
    why_not_decompose = "cirq.decompose_once gives no decomposition"
    culprit = None
    if decomposed is not None and depth < 8:
        out: list[tuple[cirq.Operation, str]] = []
        try:
            for sub in decomposed:
                for sub_op, strategy in _canonical_ops(sub, depth + 1):
                    out.append((sub_op, "decompose" if strategy != "fixed" else "fixed"))
            return out
        except UnsupportedGateError as exc:
            # name the innermost operation at fault, not its whole message (no repeated advice)
            culprit = getattr(exc, "culprit", None)
            why_not_decompose = f"its decomposition contains {culprit or 'an operation'}, which no strategy accepts"
    gate_name = type(untagged.gate).__name__ if untagged.gate is not None else type(untagged).__name__
    error = UnsupportedGateError(
        f"unsupported gate {gate_name} in operation {untagged}: no strategy gives its generator "
        f"spectrum. Tried: eigengate — {why_not_eigen}; controlled — {why_not_controlled}; "
        f"diagonal — {why_not_diagonal}; decompose — {why_not_decompose}. "
        "Rewrite it with EigenGates (rx/ry/rz, XPow, CZPow, ZZPow, ISwapPow, ...), PhasedXZ, "
        "PhasedXPow or FSim, or give the gate a symbolic cirq decomposition"
    )
    error.culprit = culprit or f"{gate_name} ({untagged})"
    raise error


def _in_declared_symbols(slot_op: cirq.Operation, source: cirq.Operation, declared: dict) -> cirq.Operation:
    """The slot operation with its exponent's symbols replaced by the declared ones of their names."""
    exponent = _as_expr(slot_op.gate.exponent)
    free = exponent.free_symbols
    if all(declared.get(s.name) == s for s in free):
        return slot_op
    undeclared = sorted(s.name for s in free if s.name not in declared)
    if undeclared:
        raise UnsupportedGateError(
            f"operation {source} gives the angle {exponent} in symbols {undeclared} that the ansatz "
            "does not declare; declare them as weights or inputs, or rewrite the gate"
        )
    renamed = exponent.xreplace({s: declared[s.name] for s in free})
    return slot_op.gate._with_exponent(renamed).on(*slot_op.qubits)  # noqa: SLF001 - EigenGate protocol


def canonicalize(ansatz: Ansatz) -> CanonicalCircuit:
    """Rewrite ``ansatz.circuit`` so that every parametrised operation is an angle slot.

    Every slot exponent is written in the ansatz's own symbol objects (matched by name).

    Raises:
        UnsupportedGateError: naming the first gate that no strategy accepts, or a decomposition
            that brings in a symbol the ansatz does not declare.
    """
    declared = {s.name: s for s in ansatz.weights + ansatz.inputs}
    operations: list[cirq.Operation] = []
    slot_of: list[int] = []
    slots: list[AngleSlot] = []
    for op in ansatz.circuit.all_operations():
        for canon, strategy in _canonical_ops(op):
            if strategy != "fixed":
                canon = _in_declared_symbols(canon, op, declared)
            operations.append(canon)
            if strategy == "fixed":
                slot_of.append(-1)
                continue
            slot = AngleSlot(
                index=len(slots),
                operation=canon,
                exponent=_as_expr(canon.gate.exponent),
                spectrum=eigen_spectrum(canon.gate),
                source=op,
                strategy=strategy,
            )
            slot_of.append(slot.index)
            slots.append(slot)
    return CanonicalCircuit(tuple(operations), tuple(slot_of), tuple(slots))


__all__ = [
    "AngleSlot",
    "CanonicalCircuit",
    "ControlledEigenGate",
    "EigenSpectrum",
    "canonicalize",
    "eigen_spectrum",
    "generator_matrix",
]
