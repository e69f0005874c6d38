r"""Refinement ``noise``: channels after a slot scale that slot's derivative, slot by slot.

Write ∂f/∂t_k = Tr[Õ · M(Δ_k)]: Δ_k = −i[H_k, ρ_k] is the derivative of the state at slot k (ρ_k the
state just after it, H_k its generator), M every operation after the slot (Schrödinger picture), Õ the
observable, whose expectations lie in [o_min, o_max] for every state; h = (o_max − o_min)/2. A single-qubit
channel or fixed unitary N has the Heisenberg Pauli-transfer matrix R_ab = ½ Tr[σ_a N†(σ_b)], a, b ∈ I, X, Y,
Z (:mod:`.channels`; a run N₁ then N₂ composes as R₁ R₂). N is trace preserving, so ½ Tr[N(σ_a)] = 0 for
a ∈ {X, Y, Z} and N(σ_a ⊗ A) = Σ_{b ∈ XYZ} R_ab σ_b ⊗ A: on traceless operators N acts by the XYZ block of
Rᵀ — the non-unital translation R_{I,b} never meets Δ_k.

*Single-qubit slot, Pauli axis.* Let H_k = c P + c₀ I on qubit q (rx, ry, rz, the X and Z slots of PhasedXZ;
Ω_k = 2|c|), Q and R the other two Paulis. Then Δ_k = σ_Q ⊗ A + σ_R ⊗ B (A, B on the other qubits). Let C
be the *first block*: the fixed operations on q after the slot — channels and fixed unitaries — up to q's
next parametrised gate, multi-qubit operation or operation without a transfer matrix. Operations on other
qubits commute with C, so M = M′ ∘ C with M′ a quantum operation, and

    C(Δ_k) = Σ_{b ∈ XYZ} σ_b ⊗ (L_bQ A + L_bR B),    L = (R_C restricted to rows Q, R and columns X, Y, Z)ᵀ,

a real 3 × 2 matrix. Its singular value decomposition L = s₁ U diag(1, r) Vᵀ (s₁ ≥ s₂ ≥ 0, r = s₂/s₁,
U with orthonormal columns, V orthogonal) and diag(1, r) = ((1 + r)/2) I + ((1 − r)/2) diag(1, −1) give
L = s₁ [((1 + r)/2) J₁ + ((1 − r)/2) J₂] with J₁ = U Vᵀ and J₂ = U diag(1, −1) Vᵀ isometries of the
QR-plane into R³. An isometry of a plane extends to a rotation O ∈ SO(3) (send e_P to ±J e_Q × J e_R, the
sign that makes det O = +1), and every rotation is W(·)W† for a single-qubit unitary W. Hence

    C(Δ_k) = s₁ [((1 + r)/2) W₁ Δ_k W₁† + ((1 − r)/2) W₂ Δ_k W₂†],

and W_i Δ_k W_i† is the derivative in t_k of the state of the circuit with W_i in place of C: each term is
g_i′(t_k) for g_i, the output of that circuit, a trigonometric polynomial of spread Ω_k with values in
[o_min, o_max]. Bernstein's inequality gives |g_i′| ≤ Ω_k h, and the weights add up to 1:

    |∂f/∂t_k| ≤ σ_max(L) · Ω_k h.

For a Pauli channel L holds λ_Q and λ_R on its diagonal (factor max(|λ_Q|, |λ_R|); 1 − 4p/3 for a
depolarising channel of strength p), for amplitude damping after rz it is √(1 − γ) on X and Y, after a reset
it is 0; a fixed unitary inside the block turns the plane before the channels see it (a small coherent
over-rotation before a dephasing channel lets part of Δ_k through, and the factor says how much).

*Further blocks.* After the first block, until q's next multi-qubit operation, the operations on q alternate
parametrised single-qubit gates — rotations O_j of the Bloch sphere for every value of their angles, which
∂/∂t_k holds fixed — and blocks C_j of fixed operations with XYZ blocks M_j. The XYZ block of a composite is
the product of the blocks (every column of I is (1, 0, 0, 0)), so the whole run acts on the QR-plane by
L_tot = M_m O_m ⋯ M_2 O_2 L, and the argument above with L_tot gives the factor
σ_max(L_tot) ≤ σ_max(L) Π_j σ_max(M_j). A block without a channel (a rotation) contributes 1. The walk stops
at q's next multi-qubit operation: from there on everything belongs to M′.

*Single-qubit slot, other generators* (HPowGate: H_k ∝ n·σ with n no Pauli axis): Δ_k has Bloch components
in the plane n⊥ only, so L is M_1 restricted to that plane, and σ_max(L) ≤ σ_max(M_1): the first block enters
through its whole 3 × 3 block.

*Multi-qubit slot*: with a depolarising channel of factor φ_q on every qubit q of the slot (after only
single-qubit gates and other depolarising channels), ⊗_q (φ_q id + (1 − φ_q) T_q) — T_q replaces qubit q by
I/2 — is a mixture (for 0 ≤ φ_q ≤ 1) whose all-T term commutes with the slot's generator; every other term
is a unital positive map of Õ, hence a function of t_k with values in [o_min, o_max]. The factor is
1 − Π_q (1 − φ_q). (The smaller "largest φ_q" does not follow from this argument: the map that keeps
one-qubit components and scales the others is not positive.)

*Numbers.* The transfer matrices, L and the M_j are exact rationals (of the operations' floats,
:mod:`.channels`); each σ_max is rounded *up* (:func:`singular_value_up`: the Gram matrix exactly, its
largest eigenvalue in closed form for 2 × 2 and verified by Sylvester's criterion for 3 × 3), the product of
the blocks is rounded up, a factor is capped at 1 (the bound without any channel argument) and a factor
within 10⁻¹² of 1 is 1. The factors multiply the slot's spread Ω_k in every slot-by-slot bound; they are
never applied to h as a whole (a channel after the last gate does not shrink the derivative of a slot on
another qubit).

``general=False`` is the rule this one replaced, kept as the baseline benchmarks compare with: a run of
channels right after a Pauli-axis slot whose transfer matrix has exactly the structure of a Pauli channel on
Q and R (max(|λ_Q|, |λ_R|)), then depolarising channels further on; factor 1 otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from fractions import Fraction
from typing import Sequence

import cirq
import numpy as np

from privqml.theory.pauli import generator_terms
from privqml.theory.refinements.channels import depolarising_factor, is_channel, run_transfer, transfer_exact
from privqml.theory.slots import SlotTable

#: a factor within this of 1 is 1
_NEAR_ONE = 1e-12
#: the relative margin a float eigenvalue estimate is raised by before its exact check (3 × 3 Gram matrices)
_MARGIN = 1e-12
_XYZ = (1, 2, 3)


@dataclasses.dataclass(frozen=True)
class NoiseFactors:
    """Per slot, the factor its derivative bound is multiplied by, and why (for slots with a factor < 1).

    Attributes:
        factors: [n_slots] in [0, 1]: |∂f/∂t_k| ≤ factors[k] · Ω_k h (dimensionless).
        reasons: slot -> the operations that produced its factor, in words. Single-qubit slots: each block of
            fixed operations with a channel (its channels and the fixed unitaries between them), the
            parametrised gate that starts a later block, and the block's σ_max; the factor is their product
            (module docstring). Multi-qubit slots: the depolarising channels on each qubit.
    """

    factors: np.ndarray
    reasons: dict

    @property
    def any(self) -> bool:
        return bool(np.any(self.factors < 1.0))


# -- exact linear algebra, rounded up ------------------------------------------------------------------------

def _float_up(value: Fraction) -> float:
    """The smallest float ≥ ``value`` (≥ 0)."""
    out = float(value)
    return float(np.nextafter(out, np.inf)) if Fraction(out) < value else out


def _sqrt_up(value: Fraction) -> float:
    """The smallest float s with s² ≥ ``value`` (≥ 0)."""
    if value <= 0:
        return 0.0
    s = math.sqrt(float(value))
    while Fraction(s) ** 2 < value:
        s = float(np.nextafter(s, np.inf))
    while s > 0 and Fraction(below := float(np.nextafter(s, -np.inf))) ** 2 >= value:
        s = below
    return s


def _positive_definite(matrix: np.ndarray) -> bool:
    """Sylvester's criterion on an exact symmetric matrix: every leading principal minor > 0."""
    n = matrix.shape[0]
    for m in range(1, n + 1):
        if _determinant([list(row[:m]) for row in matrix[:m]]) <= 0:
            return False
    return True


def _determinant(rows: list[list[Fraction]]) -> Fraction:
    if len(rows) == 1:
        return rows[0][0]
    return sum((-1) ** j * rows[0][j] * _determinant([row[:j] + row[j + 1:] for row in rows[1:]])
               for j in range(len(rows)) if rows[0][j])


def singular_value_up(matrix: np.ndarray) -> float:
    """A float ≥ the largest singular value of the exact (:class:`~fractions.Fraction`) m × n ``matrix``, n ≤ 3:
    the square root of the largest eigenvalue of G = MᵀM, each step rounded up — the largest diagonal entry
    when G is diagonal, the closed form (a + c)/2 + √(((a − c)/2)² + b²) for 2 × 2, and for 3 × 3 a float
    estimate raised by a relative 10⁻¹² and accepted only when it makes λI − G positive definite exactly
    (else tr G, which is ≥ the largest eigenvalue of a positive semidefinite G)."""
    m = np.asarray(matrix, dtype=object)
    gram = m.T @ m
    n = gram.shape[0]
    if not any(gram[i, j] for i in range(n) for j in range(n) if i != j):
        return _sqrt_up(max(gram[i, i] for i in range(n)))
    if n == 2:
        a, b, c = gram[0, 0], gram[0, 1], gram[1, 1]
        return _sqrt_up((a + c) / 2 + Fraction(_sqrt_up(((a - c) / 2) ** 2 + b * b)))
    estimate = float(np.linalg.eigvalsh(np.array(gram, dtype=float))[-1])
    for margin in (_MARGIN, 1e-9, 1e-6):
        candidate = Fraction(estimate) * (1 + Fraction(margin)) + Fraction(margin) * Fraction(1, 2 ** 30)
        if _positive_definite(candidate * np.eye(n, dtype=int).astype(object) - gram):
            return _sqrt_up(candidate)
    return _sqrt_up(sum(gram[i, i] for i in range(n)))


# -- the walk after a slot ----------------------------------------------------------------------------------

def _pauli_axis(op: cirq.Operation) -> int | None:
    terms = generator_terms(op)
    if len(terms) == 1 and len(terms[0][0]) == 1:
        return terms[0][0][0]
    return None


def _has_transfer(op: cirq.Operation) -> bool:
    """A fixed single-qubit operation :func:`~.channels.transfer_exact` can describe."""
    return len(op.qubits) == 1 and not cirq.is_parameterized(op) and (cirq.has_unitary(op) or is_channel(op))


def _label(op: cirq.Operation) -> str:
    """``str(op)``, or for an operation that prints its matrices (``cirq.KrausChannel``) a one-line name."""
    text = str(op)
    if "\n" not in text and len(text) <= 80:
        return text
    kind = f"{len(cirq.kraus(op))} Kraus operators" if is_channel(op) else "unitary"
    return f"{type(op.gate).__name__ if op.gate is not None else type(op).__name__}[{kind}]({op.qubits[0]})"


@dataclasses.dataclass(frozen=True)
class _Block:
    """Fixed single-qubit operations between two parametrised gates on one qubit (``before``: the gate that
    starts the block, None for the first block, right after the slot)."""

    operations: tuple[cirq.Operation, ...]
    before: cirq.Operation | None

    @property
    def noisy(self) -> bool:
        return any(is_channel(op) for op in self.operations)


def _blocks(after: Sequence[tuple[cirq.Operation, bool]]) -> list[_Block]:
    """The blocks of the operations that follow a slot on its qubit, (operation, is a slot) in circuit order,
    up to the first multi-qubit operation or operation without a transfer matrix."""
    blocks, current, before = [], [], None
    for op, is_slot in after:
        if len(op.qubits) > 1:
            break
        if is_slot:
            blocks.append(_Block(tuple(current), before))
            current, before = [], op
        elif _has_transfer(op):
            current.append(op)
        else:
            break
    blocks.append(_Block(tuple(current), before))
    return blocks


def _general_single_qubit_factor(op: cirq.Operation, after: Sequence[tuple[cirq.Operation, bool]]
                                 ) -> tuple[float, str]:
    """σ_max(L) Π_j σ_max(M_j), rounded up, and the blocks that produced it (module docstring)."""
    axis = _pauli_axis(op)
    plane = [a for a in _XYZ if a != axis] if axis is not None else list(_XYZ)
    product, parts = Fraction(1), []
    for i, block in enumerate(_blocks(after)):
        if not block.noisy:
            continue
        transfer = run_transfer(block.operations)
        rows = plane if i == 0 else list(_XYZ)
        sigma = min(1.0, singular_value_up(transfer[np.ix_(rows, list(_XYZ))].T))
        product *= Fraction(sigma)
        where = "" if block.before is None else f"after {block.before}: "
        parts.append(f"{where}{', '.join(_label(o) for o in block.operations)} (σ_max {sigma:.6g})")
    return min(1.0, _float_up(product)), "; ".join(parts)


def _pauli_factor(transfer: np.ndarray, axis: int) -> float | None:
    """max(|λ_Q|, |λ_R|) when the exact transfer matrix has the structure of a Pauli channel on Q and R (the
    entries that would mix Q, R with I, P or with each other are exactly zero), else None."""
    q, r = [a for a in _XYZ if a != axis]
    off = [transfer[q, 0], transfer[q, axis], transfer[r, 0], transfer[r, axis], transfer[q, r], transfer[r, q]]
    if any(v != 0 for v in off):
        return None
    return float(max(abs(transfer[q, q]), abs(transfer[r, r])))


def _depolarising_after(ops: Sequence[cirq.Operation]) -> tuple[float, list[str]]:
    """The product of the depolarising factors among ``ops`` (what follows on one qubit), up to its next
    multi-qubit operation or other channel."""
    phi, names = 1.0, []
    for op in ops:
        if len(op.qubits) > 1:
            break
        if is_channel(op):
            factor = depolarising_factor(op)
            if factor is None or not 0.0 <= factor <= 1.0:
                break
            phi *= factor
            names.append(str(op))
    return phi, names


def _pauli_single_qubit_factor(op: cirq.Operation, after: Sequence[tuple[cirq.Operation, bool]]
                               ) -> tuple[float, str]:
    """The rule before general channels (``general=False``, module docstring)."""
    ops = [o for o, _ in after]
    axis = _pauli_axis(op)
    run = []
    for o in ops:
        if len(o.qubits) == 1 and is_channel(o):
            run.append(o)
        else:
            break
    if axis is not None and run:
        factor = _pauli_factor(run_transfer(run), axis)
        if factor is not None:
            phi, names = _depolarising_after(ops[len(run):])
            return factor * phi, ", ".join([str(o) for o in run] + names)
    phi, names = _depolarising_after(ops)
    return phi, ", ".join(names)


@functools.lru_cache(maxsize=256)
def noise_factors(table: SlotTable, *, general: bool = True) -> NoiseFactors:
    """The factor of every slot of ``table`` (1 without noise); see the module docstring. ``general=False``
    gives the previous, Pauli-channel rule (a baseline for comparisons)."""
    canonical = table.canonical
    operations, slot_of = canonical.operations, canonical.slot_of
    factors = np.ones(table.n_slots)
    channel = [slot < 0 and is_channel(op) for op, slot in zip(operations, slot_of)]
    if not any(channel):
        return NoiseFactors(factors, {})
    on_qubit: dict = {}
    for position, op in enumerate(operations):
        for q in op.qubits:
            on_qubit.setdefault(q, []).append(position)
    rank = {(q, position): i for q, positions in on_qubit.items() for i, position in enumerate(positions)}
    reasons = {}
    for position, (op, slot) in enumerate(zip(operations, slot_of)):
        if slot < 0:
            continue
        after = {}  # per qubit: the positions after the slot, up to and with its next multi-qubit operation
        for q in op.qubits:
            run = []
            for p in on_qubit[q][rank[(q, position)] + 1:]:
                run.append(p)
                if len(operations[p].qubits) > 1:
                    break
            after[q] = run
        if not any(channel[p] for run in after.values() for p in run):
            continue
        if len(op.qubits) == 1:
            following = [(operations[p], slot_of[p] >= 0) for p in after[op.qubits[0]]]
            rule = _general_single_qubit_factor if general else _pauli_single_qubit_factor
            factor, why = rule(op, following)
        else:
            parts = [_depolarising_after([operations[p] for p in after[q]]) for q in op.qubits]
            factor = 1.0 - float(np.prod([1.0 - phi for phi, _ in parts]))
            why = "; ".join(", ".join(names) for _, names in parts if names)
        if factor < 1.0 - _NEAR_ONE:  # a factor within rounding of 1 is 1
            factors[slot] = factor
            reasons[slot] = why
    return NoiseFactors(factors, reasons)


__all__ = ["NoiseFactors", "noise_factors", "singular_value_up"]
