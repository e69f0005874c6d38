"""Provably-zero derivatives: backward Pauli propagation with a light-cone fallback.

For an angle slot k with generator H_k (U_k(t) ∝ exp(i t H_k)) the derivative of
f = Tr[O U_K … U_1 ρ U_1† … U_K†] is

    ∂f/∂t_k = i Tr[[H_k, O_k] ρ_k],      O_k = (channels and gates after k)†(O)  (Heisenberg picture),

so ∂f/∂t_k ≡ 0 whenever H_k commutes with O_k. For one Pauli term P of the observable we track,
walking the circuit backwards, a *superset* S of the Pauli strings that can appear in O_k with a
non-zero coefficient, and a *remainder*: O_k = A_k + E_k with A_k ∈ span(S ∪ {I}) and an operator
E_k of norm ‖E_k‖ ≤ ε_k acting only on the qubits in a tracked set Q_k:

- a fixed gate or channel maps each string R touching it to the Pauli decomposition of its
  Heisenberg image (U†RU, or Σ K†RK for a channel) restricted to the gate's qubits, computed in
  exact rational arithmetic (:mod:`privqml.theory.rational`), so a term is dropped only when its
  coefficient is exactly zero. A term whose coefficient is non-zero but at most ``_CARRY_BELOW``
  is not tracked as a string but moved into the remainder: with a_R the coefficients of A_k and
  d_R the summed magnitudes of the terms moved out of R's image, Cauchy–Schwarz and
  Σ_R |a_R|² ≤ ‖A_k‖² ≤ (1 + ε)² give

      ε ← ε + (1 + ε) · (Σ_R d_R²)^{1/2}

  (the Heisenberg map of a channel is unital and positive, hence a contraction in operator norm
  — Russo–Dye — and ‖P‖ = 1, so the old remainder keeps its bound and ‖O_k‖ ≤ 1);
- a parametrised slot, for *all* values of its angle, maps S into the closure of S under
  R ↦ Q·R for every Pauli term Q of H_k that anticommutes with R (the span of the
  Baker–Campbell–Hausdorff series of e^{-itH} R e^{itH}); it keeps ‖E‖ and may spread it onto its
  qubits. The generator's Pauli terms are exact too: a term is left out only when it is zero.

Slot k is *provably zero* for the term when every Pauli term of H_k commutes with every string of
S and the slot acts outside Q_k (then [H_k, O_k] = 0). When only the remainder is in the way it
is *near zero*: |∂⟨P⟩/∂t_k| = |Tr[[H_k, E_k] ρ_k]| ≤ (λ_max − λ_min)(H_k) ‖E_k‖ = Ω_k ε_k, a
fraction ε_k of its Bernstein bound Ω_k (:attr:`LiveSlots.near`). Coefficient cancellations
between strings are ignored, so S only over-approximates and the rule is sound. When S grows past
``max_strings`` the walk falls back to the backward light cone (the qubit support of S and of
the remainder), where a slot is provably zero iff it acts outside the cone. Both passes are linear
in the number of gates.

:func:`best_live_slots` also walks a noisy circuit with its runs of fixed operations merged
(:mod:`privqml.theory.runs`: a compiled CZ with the channels inside it maps a string to one string and small
terms) at several carry thresholds — how small a term must be to go into the remainder instead of being tracked
is a choice of tightness, not of soundness — and keeps, per slot, the smallest factor any walk proved.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import cirq
import numpy as np

from privqml.theory.rational import heisenberg_pauli_coefficients, magnitude_up, pauli_coefficients
from privqml.theory.runs import FixedRun, merge_fixed_runs
from privqml.theory.spectra import CanonicalCircuit, generator_matrix

# (x bit, z bit) of I, X, Y, Z
_XZ = ((0, 0), (1, 0), (1, 1), (0, 1))
_MAX_EXACT_QUBITS = 3
#: a non-zero term of a fixed gate's Heisenberg image with |coefficient| at most this is carried in
#: the remainder ε instead of being tracked as a string (a choice of tightness, not of soundness:
#: a tracked string makes the slots it meets live, a carried one bounds them by Ω_k ε)
_CARRY_BELOW = Fraction(1, 10**9)
#: relative allowance for the difference between a gate's floating-point matrix and its ideal
#: one (a few units in the last place of each entry), applied to every carried magnitude
_MATRIX_ROUNDING = 1e-12

Coefficients = tuple[tuple[tuple[int, ...], Fraction], ...]


@dataclasses.dataclass(frozen=True)
class PauliString:
    """A Pauli string in symplectic form over the circuit's qubits (phase dropped).

    Bit i of ``x`` / ``z`` belongs to qubit i of the ansatz's sorted qubit list.
    """

    x: int
    z: int

    @property
    def support(self) -> int:
        return self.x | self.z

    def anticommutes(self, other: "PauliString") -> bool:
        return bin((self.x & other.z) ^ (self.z & other.x)).count("1") % 2 == 1

    def times(self, other: "PauliString") -> "PauliString":
        return PauliString(self.x ^ other.x, self.z ^ other.z)


def pauli_from_cirq(string: cirq.PauliString, index: dict) -> PauliString:
    x = z = 0
    for qubit, pauli in string.items():
        bit = 1 << index[qubit]
        if pauli == cirq.X or pauli == cirq.Y:
            x |= bit
        if pauli == cirq.Z or pauli == cirq.Y:
            z |= bit
    return PauliString(x, z)


def labels_to_bits(labels, positions) -> tuple[int, int]:
    x = z = 0
    for label, position in zip(labels, positions):
        xb, zb = _XZ[label]
        x |= xb << position
        z |= zb << position
    return x, z


def bits_to_labels(string: PauliString, positions) -> tuple[int, ...]:
    labels = []
    for position in positions:
        xb, zb = (string.x >> position) & 1, (string.z >> position) & 1
        labels.append({(0, 0): 0, (1, 0): 1, (1, 1): 2, (0, 1): 3}[(xb, zb)])
    return tuple(labels)


def heisenberg_exact(op: cirq.Operation, labels: tuple[int, ...]) -> Coefficients | None:
    """The Heisenberg image Σ_K K† P K of the local Pauli string ``labels`` under a fixed ``op``, as
    (labels, exact coefficient) pairs, every coefficient non-zero (:mod:`privqml.theory.rational`);
    None for more than three qubits or an operation with neither a unitary nor a Kraus
    representation."""
    k = len(op.qubits)
    if k > _MAX_EXACT_QUBITS:
        return None
    if cirq.has_unitary(op):
        kraus = [cirq.unitary(op)]
    elif cirq.has_kraus(op):
        kraus = list(cirq.kraus(op))
    else:
        return None
    return heisenberg_pauli_coefficients(kraus, tuple(labels))


def heisenberg_coefficients(op: cirq.Operation, labels: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], float], ...] | None:
    """:func:`heisenberg_exact` with the coefficients as (correctly rounded) floats."""
    image = heisenberg_exact(op, labels)
    return None if image is None else tuple((term, float(c)) for term, c in image)


def heisenberg_image(op: cirq.Operation, labels: tuple[int, ...]) -> tuple[tuple[int, ...], ...] | None:
    """Local Pauli labels in the Heisenberg image of ``labels`` under a fixed ``op`` (every label whose
    coefficient is not exactly zero); None if unknown."""
    image = heisenberg_exact(op, labels)
    return None if image is None else tuple(term for term, _ in image)


def generator_exact(op: cirq.Operation) -> Coefficients:
    """The non-identity local Pauli terms of the slot's generator H per unit exponent with their exact
    coefficients, every one non-zero (labels in ``op.qubits`` order)."""
    return tuple((labels, c) for labels, c in pauli_coefficients(generator_matrix(op.gate)) if any(labels))


def generator_terms(op: cirq.Operation) -> tuple[tuple[tuple[int, ...], float], ...]:
    """:func:`generator_exact` with the coefficients as floats."""
    return tuple((labels, float(c)) for labels, c in generator_exact(op))


def generator_labels(op: cirq.Operation) -> tuple[tuple[int, ...], ...]:
    """Non-identity local Pauli terms of the slot's generator H (on ``op.qubits`` order)."""
    return tuple(labels for labels, _ in generator_exact(op))


@dataclasses.dataclass(frozen=True)
class LiveSlots:
    """Which slots may have a non-zero derivative for one Pauli term P of an observable.

    Attributes:
        live: indices of slots not proven zero (Bernstein bound Ω_k for ⟨P⟩).
        commuting: slots proven zero because their generator commutes with the
            Heisenberg-evolved observable (inside the light cone).
        outside_cone: slots proven zero because they act outside the backward light cone.
        fell_back_at: number of operations walked (from the end) before the exact Pauli
            tracking gave way to the light cone, or None if it never did.
        near: (slot, ε_k) for the slots that would be proven zero but for the remainder E_k of
            the module docstring: |∂⟨P⟩/∂t_k| ≤ Ω_k ε_k with 0 < ε_k < 1. Neither live nor zero.
    """

    live: frozenset[int]
    commuting: frozenset[int]
    outside_cone: frozenset[int]
    fell_back_at: int | None
    near: tuple[tuple[int, float], ...] = ()

    def factors(self, n_slots: int) -> np.ndarray:
        """[n_slots] the fraction of each slot's Bernstein bound that holds: 1 live, ε_k near zero, 0 zero."""
        out = np.zeros(n_slots)
        out[list(self.live)] = 1.0
        for slot, epsilon in self.near:
            out[slot] = epsilon
        return out


@dataclasses.dataclass
class _Remainder:
    """‖E‖ ≤ ``norm`` with E acting on the qubits of the bit mask ``support`` (the module docstring)."""

    norm: float = 0.0
    support: int = 0

    def spread_onto(self, mask: int) -> bool:
        """An operation on ``mask`` may move E onto its qubits; True when it touches E."""
        if self.support & mask:
            self.support |= mask
            return True
        return False

    def carry(self, dropped: list[float], support: int) -> None:
        """ε ← ε + (1 + ε)(Σ_R d_R²)^{1/2} for the magnitudes d_R moved out of the touched strings' images."""
        moved = math.sqrt(sum(d * d for d in dropped)) * (1.0 + _MATRIX_ROUNDING)
        self.norm = float(np.nextafter(self.norm + (1.0 + self.norm) * moved, np.inf))
        self.support |= support


def _image(op: cirq.Operation, labels: tuple[int, ...]) -> tuple[list, float] | None:
    """(the Heisenberg image of ``labels`` as (labels, coefficient) pairs, the allowance to add to each carried
    magnitude): exact for one operation, in floating point with its rounding allowance for a merged run."""
    if isinstance(op.gate, FixedRun):
        return op.gate.image(labels), op.gate.allowance
    image = heisenberg_exact(op, labels)
    return None if image is None else (image, 0.0)


def _fixed_image(op: cirq.Operation, touching: list[PauliString], positions: list[int], mask: int,
                 remainder: _Remainder, carry_below=_CARRY_BELOW) -> set[PauliString] | None:
    """The strings the images of ``touching`` keep; the terms of magnitude at most ``carry_below`` go to
    ``remainder``. None if unknown."""
    kept: set[PauliString] = set()
    dropped: list[float] = []
    moved_support = 0
    for r in touching:
        found = _image(op, bits_to_labels(r, positions))
        if found is None:
            return None
        image, allowance = found
        rest_x, rest_z = r.x & ~mask, r.z & ~mask
        moved = 0.0
        for labels, c in image:
            x, z = labels_to_bits(labels, positions)
            s = PauliString(rest_x | x, rest_z | z)
            if not s.support:
                continue  # the identity commutes with every generator
            if abs(c) > carry_below:
                kept.add(s)
            else:
                moved += float(np.nextafter(abs(c) + allowance, np.inf)) if allowance else magnitude_up(c)
                moved_support |= s.support
        if moved:
            dropped.append(moved)
    if dropped:
        remainder.carry(dropped, moved_support)
    return kept


def _close_under(strings: set[PauliString], touching: list[PauliString], generators: list[PauliString],
                 max_strings: int) -> None:
    """Add to ``strings`` the closure of ``touching`` under R ↦ Q·R for the generator terms Q that anticommute
    with R (what a parametrised slot can make of them for some angle), until more than ``max_strings``."""
    frontier = list(touching)
    while frontier and len(strings) <= max_strings:
        r = frontier.pop()
        for q in generators:
            if q.anticommutes(r):
                product = q.times(r)
                if product.support and product not in strings:
                    strings.add(product)
                    frontier.append(product)


def live_slots(
    canonical: CanonicalCircuit,
    term: PauliString,
    qubit_index: dict,
    max_strings: int = 64,
    prune_commuting: bool = True,
    carry_below=_CARRY_BELOW,
) -> LiveSlots:
    """Walk ``canonical`` backwards from the observable term; see the module docstring. A fixed image's term of
    magnitude at most ``carry_below`` is carried in the remainder (a choice of tightness: any value is sound)."""
    strings: set[PauliString] = {term}
    cone = term.support
    exact = True
    fell_back_at = None
    live, commuting, outside = set(), set(), set()
    near: dict[int, float] = {}
    remainder = _Remainder()
    operations = canonical.operations
    for step, position in enumerate(range(len(operations) - 1, -1, -1)):
        op = operations[position]
        slot = canonical.slot_of[position]
        positions = [qubit_index[q] for q in op.qubits]
        mask = sum(1 << p for p in positions)
        if exact:
            touching = [r for r in strings if r.support & mask]
            meets_remainder = remainder.spread_onto(mask)
            if slot >= 0:
                generators = [PauliString(*labels_to_bits(lab, positions)) for lab in generator_labels(op)]
                zero_on_s = not touching or (prune_commuting and
                                             not any(q.anticommutes(r) for q in generators for r in touching))
                if zero_on_s and meets_remainder and remainder.norm < 1.0:
                    near[slot] = remainder.norm
                    continue
                if zero_on_s and not meets_remainder:
                    (commuting if touching else outside).add(slot)
                    continue
                live.add(slot)
                _close_under(strings, touching, generators, max_strings)
            elif touching:
                kept = _fixed_image(op, touching, positions, mask, remainder, carry_below)
                if kept is None:
                    exact = False
                else:
                    strings = set(r for r in strings if not r.support & mask) | kept
            if len(strings) > max_strings or not exact:
                exact = False
                fell_back_at = step
                cone = remainder.support | mask
                for r in strings:
                    cone |= r.support
            continue
        # light-cone mode
        if cone & mask:
            if slot >= 0:
                live.add(slot)
            cone |= mask
        elif slot >= 0:
            outside.add(slot)
    return LiveSlots(frozenset(live), frozenset(commuting), frozenset(outside), fell_back_at,
                     tuple(sorted(near.items())))


def heisenberg_supports(canonical: CanonicalCircuit, term: PauliString, qubit_index: dict,
                        max_strings: int = 64) -> list[frozenset[PauliString] | None]:
    """For every position p of ``canonical``: the set S_p of Pauli strings that can appear (for any angles) in
    the term's Heisenberg image just after operation p — the backward walk of :func:`live_slots` without the
    slot verdicts — or None where the walk is no longer exact (a remainder carried, or more than
    ``max_strings`` strings). Identity strings are left out (constants).

    A non-unital channel (amplitude damping) can map a string to one with an identity component, whose
    coefficient depends on the slots after it: it is no constant for those slots' derivatives, and no channel
    earlier in time scales it. The walk stops there (None at every earlier position): the sets S_p are only
    given where every operator term they leave out is a true constant."""
    out: list[frozenset[PauliString] | None] = [None] * len(canonical.operations)
    remainder = _Remainder()

    def image(op, touching, positions, mask):
        if remainder.norm > 0 or (not cirq.has_unitary(op) and _makes_identity(op, touching, positions)):
            return None
        return _fixed_image(op, touching, positions, mask, remainder)

    for position, strings in _walk_back(canonical, {term}, len(canonical.operations) - 1, qubit_index, max_strings,
                                        image):
        if position < 0 or remainder.norm > 0:
            break
        out[position] = frozenset(strings)
    return out


def vanish_on_input(canonical: CanonicalCircuit, strings: frozenset[PauliString], position: int, qubit_index: dict,
                    max_strings: int = 64) -> bool:
    r"""True when every string of ``strings``, placed just before operation ``position``, has zero expectation in
    the state the operations before it prepare from |0…0⟩ — for every angle of their slots and every input.

    The strings are walked back to the start as :func:`heisenberg_supports` does (closure under each slot's
    generator terms for any angle, exact images under fixed operations), keeping every term with a non-zero
    coefficient. At the start a string with an X or Y on some qubit has ⟨0…0|P|0…0⟩ = 0. False (nothing is
    claimed) when a term becomes the identity (a non-unital channel), an image is unknown, or more than
    ``max_strings`` strings are met."""
    for at, found in _walk_back(canonical, set(strings), position - 1, qubit_index, max_strings, _exact_image):
        if at < 0:
            return all(r.x for r in found)
    return False


def _walk_back(canonical: CanonicalCircuit, strings: set[PauliString], start: int, qubit_index: dict,
               max_strings: int, image_of):
    """Yield (p, the strings just after operation p) for p = ``start`` … 0, then (−1, the strings at the start),
    applying each operation's Heisenberg map on the way: the closure under a slot's generator terms, and
    ``image_of(op, touching, positions, mask)`` (the kept images, or None to stop) for a fixed operation. Stops
    early past ``max_strings`` strings."""
    operations = canonical.operations
    for position in range(start, -1, -1):
        if len(strings) > max_strings:
            return
        yield position, strings
        op = operations[position]
        positions = [qubit_index[q] for q in op.qubits]
        mask = sum(1 << p for p in positions)
        touching = [r for r in strings if r.support & mask]
        if not touching:
            continue
        if canonical.slot_of[position] >= 0:
            generators = [PauliString(*labels_to_bits(lab, positions)) for lab in generator_labels(op)]
            _close_under(strings, touching, generators, max_strings)
        else:
            kept = image_of(op, touching, positions, mask)
            if kept is None:
                return
            strings = set(r for r in strings if not r.support & mask) | kept
    if len(strings) <= max_strings:
        yield -1, strings


def _exact_image(op: cirq.Operation, touching: list[PauliString], positions: list[int], mask: int):
    """Every string of the images of ``touching`` under the fixed ``op`` with a non-zero coefficient; None when an
    image is unknown or holds the identity."""
    images = set()
    for r in touching:
        image = heisenberg_exact(op, bits_to_labels(r, positions))
        if image is None:
            return None
        for labels, _ in image:
            x, z = labels_to_bits(labels, positions)
            s = PauliString((r.x & ~mask) | x, (r.z & ~mask) | z)
            if not s.support:
                return None
            images.add(s)
    return images


def _makes_identity(op: cirq.Operation, touching: list[PauliString], positions: list[int]) -> bool:
    """True when the channel ``op`` maps one of ``touching`` to an operator with an identity part on its qubits
    (or its image is unknown)."""
    for r in touching:
        image = heisenberg_exact(op, bits_to_labels(r, positions))
        if image is None or any(not any(labels) and c != 0 for labels, c in image):
            return True
    return False




#: carry thresholds tried on the merged circuit of a noisy ansatz (:func:`best_live_slots`)
MERGED_CARRIES = (1e-9, 1e-3, 1e-2, 5e-2, 1e-1)


def best_live_slots(
    canonical: CanonicalCircuit,
    term: PauliString,
    qubit_index: dict,
    max_strings: int = 64,
    prune_commuting: bool = True,
) -> LiveSlots:
    """:func:`live_slots` on ``canonical``, and — when it holds a channel — also on its merged form
    (:func:`~privqml.theory.runs.merge_fixed_runs`) with each carry threshold of :data:`MERGED_CARRIES`:
    every walk bounds each slot's derivative soundly, so the smallest factor per slot is kept (a slot
    provably zero in one walk is zero; near zero with ε in one and live in another is near zero)."""
    first = live_slots(canonical, term, qubit_index, max_strings, prune_commuting)
    if all(slot >= 0 or cirq.has_unitary(op) for op, slot in zip(canonical.operations, canonical.slot_of)):
        return first
    merged = merge_fixed_runs(canonical)
    walks = [first] + [live_slots(merged, term, qubit_index, max_strings, prune_commuting, carry)
                       for carry in MERGED_CARRIES]
    n_slots = len(canonical.slots)
    factors = np.min([w.factors(n_slots) for w in walks], axis=0)
    commuting = frozenset().union(*(w.commuting for w in walks))
    zero = {k for k in range(n_slots) if factors[k] == 0}
    return LiveSlots(
        live=frozenset(int(k) for k in np.nonzero(factors >= 1.0)[0]),
        commuting=frozenset(zero & commuting),
        outside_cone=frozenset(zero - commuting),
        fell_back_at=first.fell_back_at,
        near=tuple((int(k), float(factors[k])) for k in range(n_slots) if 0 < factors[k] < 1.0),
    )

__all__ = [
    "PauliString",
    "heisenberg_supports",
    "vanish_on_input",
    "LiveSlots",
    "best_live_slots",
    "live_slots",
    "pauli_from_cirq",
    "heisenberg_exact",
    "heisenberg_image",
    "heisenberg_coefficients",
    "generator_exact",
    "generator_labels",
    "generator_terms",
    "labels_to_bits",
    "bits_to_labels",
]
