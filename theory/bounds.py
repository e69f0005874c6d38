r"""Deterministic gradient-norm bounds for an ansatz's outputs f_c(x; θ) = ⟨O_c⟩.

Notation: slot k of the canonical circuit (:mod:`privqml.theory.spectra`) has exponent
t_k(x, θ) and spread Ω_k (radians per unit exponent); O = c_0 + Σ_t c_t P_t has range
[o_min, o_max] and half-range h = (o_max − o_min)/2; L is the set of slots that are not
provably zero (:mod:`privqml.theory.pauli`); M_kj = sup_x |∂t_k/∂θ_j| over the public domain
(:mod:`privqml.theory.sup`).

*Per weight* (Bernstein's inequality for functions of exponential type — f is a trigonometric
polynomial of degree Ω_k in t_k — with the chain rule over the slots):

    |∂f/∂θ_j| ≤ B_j := h · Σ_{k∈L} Ω_k M_kj                                        (1)

*Total, coordinate form*: ‖∇_θ f‖₂ ≤ (Σ_j B_j²)^{1/2}.                                 (2)

*Total, directional form* (never looser than (2), tighter when a weight is shared between
slots with different signs): for a unit direction u,
|D_u f| ≤ h Σ_k Ω_k |∇_θ t_k · u|, so

    ‖∇_θ f‖₂ ≤ h · max_{‖u‖=1} Σ_{k∈L} Ω_k |r_k · u|,   r_k = ∇_θ t_k,               (3)

computed exactly as max over sign vectors σ of ‖ |Σ σ_k Ω_k r_k| + m ‖₂ for the rows r_k that
are constant and involve several weights (per connected component, ≤ 12 rows), all other rows
entering entrywise through m_j = Σ Ω_k M_kj (which reduces to (2) when every row is relaxed).

*Per Pauli term*: ∇f = Σ_t c_t ∇⟨P_t⟩ with each ⟨P_t⟩ of half-range 1 and its own live set L_t,
so every bound above also holds with h·(·)(L) replaced by Σ_t |c_t| (·)(L_t); we take the
smaller, per weight and in total.

Units: the bound on ∂f/∂θ_j is per unit of θ_j (radians for a rotation angle, half-turns for
an exponent weight); f is in the units of the observable's eigenvalues.

References: S. N. Bernstein's inequality for entire functions of exponential type (e.g.
Boas, *Entire Functions*, 1954, Thm. 11.1.2); D. Wierichs, J. Izaac, C. Wang, C. Y.-Y. Lin,
"General parameter-shift rules for quantum gradients", Quantum 6, 677 (2022).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Sequence

import cirq
import numpy as np
import sympy

from privqml.theory.ansatz import Ansatz
from privqml.theory.pauli import LiveSlots, live_slots, pauli_from_cirq
from privqml.theory.spectra import CanonicalCircuit, canonicalize
from privqml.theory.sup import sup_abs
from privqml.theory.symbols import real_derivative

_MAX_SIGN_ROWS = 12
_MAX_REASONS = 3
_EXACT_RANGE_QUBITS = 10
_DIAGONAL_RANGE_QUBITS = 22


# ---------------------------------------------------------------------------------------
# observable range
# ---------------------------------------------------------------------------------------
def observable_range(observable: cirq.PauliSum) -> tuple[float, float, str]:
    """(o_min, o_max, method): exact eigenvalues for small support, else c_0 ∓ Σ|c_t|."""
    constant = 0.0
    terms = []
    for term in observable:
        if len(term) == 0:
            constant += float(np.real(term.coefficient))
        else:
            terms.append(term)
    if not terms:
        return constant, constant, "constant"
    support = sorted(set().union(*[set(t.qubits) for t in terms]))
    diagonal = all(p == cirq.Z for t in terms for p in t.values())
    if diagonal and len(support) <= _DIAGONAL_RANGE_QUBITS:
        index = {q: i for i, q in enumerate(support)}
        states = np.arange(2 ** len(support), dtype=np.int64)
        values = np.full(states.shape, constant)
        for term in terms:
            parity = np.zeros(states.shape, dtype=np.int64)
            for qubit in term.qubits:
                parity ^= (states >> index[qubit]) & 1
            values += float(np.real(term.coefficient)) * (1 - 2 * parity)
        return float(values.min()), float(values.max()), "exact (diagonal)"
    if len(support) <= _EXACT_RANGE_QUBITS:
        eigenvalues = np.linalg.eigvalsh(observable.matrix(support))
        return float(eigenvalues.min()), float(eigenvalues.max()), "exact (eigenvalues)"
    spread = sum(abs(float(np.real(t.coefficient))) for t in terms)
    return constant - spread, constant + spread, "Σ|coefficients|"


def _sample_mean_range(observable: cirq.PauliSum) -> tuple[float, float, str]:
    """Range of a term-by-term sample mean of O: c_0 ∓ Σ_t |c_t|."""
    constant = sum(float(np.real(t.coefficient)) for t in observable if len(t) == 0)
    spread = sum(abs(float(np.real(t.coefficient))) for t in observable if len(t) > 0)
    return constant - spread, constant + spread, "sample mean: c_0 ∓ Σ|c_t|"


# ---------------------------------------------------------------------------------------
# the result record
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class GradientBound:
    """Bounds on the gradient of every model output f_c with respect to the weights.

    All values hold for every weight vector θ ∈ ℝ^P and every input x in the declared public
    ``input_domain`` (the sup is over that domain, never over data).

    Attributes:
        ansatz_name, n_qubits, n_weights: what was bounded.
        weight_names: the weights, in the ansatz's order.
        input_domain: (input name, lo, hi) per input.
        observable_ranges: (o_min, o_max) per observable, with ``range_methods`` saying how
            each was obtained (exact eigenvalues, or Σ|coefficients|).
        per_weight_by_observable: B_j of eq. (1) (minimised with the per-term form), per
            observable, per unit of the weight.
        per_observable: bound on ‖∇_θ f_c‖₂ per observable (min of directional, per-term
            and coordinate forms).
        coordinate_by_observable / directional_by_observable: the two total forms, for reference.
        naive_by_observable: h · (Σ_j (Σ_k Ω_k M_kj)²)^{1/2} with nothing pruned.
        zero_weights: weights with a provably zero derivative for every observable.
        n_slots, n_live_slots, n_pruned_commuting, n_pruned_outside_cone: pruning statistics
            (slots counted for the union over Pauli terms and observables).
        expression: the coordinate form before the sup over inputs, as a SymPy expression in
            the input symbols (``Max`` over observables when there are several).
        unbounded_reason: ``None`` when every total bound is finite; otherwise why not — for each
            live slot whose angle derivative has no finite supremum (at most three are named),
            the gate, the derivative ∂t/∂θ_j of its exponent t (half-turns) and the domain. For
            ``cirq.ry(w / x)`` with x ∈ [-1, 1]: "Ry(w/(pi*x)π)(q(0)): ∂t/∂w = 1/(pi*x) is
            unbounded on x ∈ [-1.0, 1.0]; restrict the input domain or change the encoding".
            ``bounded`` is True exactly when it is ``None``.
    """

    ansatz_name: str
    n_qubits: int
    n_weights: int
    weight_names: tuple[str, ...]
    input_domain: tuple[tuple[str, float, float], ...]
    observable_ranges: tuple[tuple[float, float], ...]
    range_methods: tuple[str, ...]
    per_weight_by_observable: tuple[tuple[float, ...], ...]
    per_observable: tuple[float, ...]
    coordinate_by_observable: tuple[float, ...]
    directional_by_observable: tuple[float, ...]
    naive_by_observable: tuple[float, ...]
    zero_weights: tuple[str, ...]
    n_slots: int
    n_live_slots: int
    n_pruned_commuting: int
    n_pruned_outside_cone: int
    expression: sympy.Expr
    unbounded_reason: str | None = None
    _pointwise: object = dataclasses.field(default=None, repr=False, compare=False)

    # -- views -------------------------------------------------------------------------
    @property
    def per_weight(self) -> dict[str, float]:
        """Bound on |∂f_c/∂θ_j| valid for every observable c (max over c)."""
        columns = np.max(np.asarray(self.per_weight_by_observable, dtype=float), axis=0)
        return dict(zip(self.weight_names, (float(v) for v in columns)))

    @property
    def grad_norm_bound(self) -> float:
        """Bound on ‖∇_θ f_c‖₂ valid for every observable c."""
        return float(max(self.per_observable))

    @property
    def naive_bound(self) -> float:
        return float(max(self.naive_by_observable))

    @property
    def bounded(self) -> bool:
        """True when the bound is finite (then ``unbounded_reason`` is None)."""
        return self.unbounded_reason is None

    def pointwise(self, inputs: Sequence[float]) -> float:
        """A bound on ‖∇_θ f_c‖₂ valid at this input vector (coordinate form, ≤ grad_norm_bound)."""
        return min(self.grad_norm_bound, self._pointwise(np.asarray(inputs, dtype=float)))

    def as_dict(self) -> dict:
        def num(v):
            return None if not math.isfinite(v) else float(v)

        return {
            "ansatz": self.ansatz_name,
            "n_qubits": self.n_qubits,
            "n_weights": self.n_weights,
            "input_domain": {n: [lo, hi] for n, lo, hi in self.input_domain},
            "observable_range": list(self.observable_ranges[0]),
            "observable_ranges": [list(r) for r in self.observable_ranges],
            "observable_range_methods": list(self.range_methods),
            "per_weight": {k: num(v) for k, v in self.per_weight.items()},
            "grad_norm_bound": num(self.grad_norm_bound),
            "per_observable": [num(v) for v in self.per_observable],
            "coordinate_form": [num(v) for v in self.coordinate_by_observable],
            "directional_form": [num(v) for v in self.directional_by_observable],
            "naive_bound": num(self.naive_bound),
            "zero_weights": list(self.zero_weights),
            "slots": {
                "total": self.n_slots,
                "live": self.n_live_slots,
                "pruned_commuting": self.n_pruned_commuting,
                "pruned_outside_light_cone": self.n_pruned_outside_cone,
            },
            "expression": str(self.expression),
            "bounded": self.bounded,
            "unbounded_reason": self.unbounded_reason,
            "units": "per unit of each weight (radians for rotation angles); f in observable eigenvalue units",
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def to_latex(self) -> str:
        """The total bound's expression (before the sup) and its value, as LaTeX."""
        value = self.grad_norm_bound
        return (
            r"\|\nabla_\theta f\|_2 \le " + sympy.latex(self.expression)
            + (r" \le " + f"{value:.6g}" if math.isfinite(value) else r" = \infty")
        )


# ---------------------------------------------------------------------------------------
# derivation
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Entries:
    """Sparse table of angle derivatives d_kj = ∂t_k/∂θ_j (one row per non-zero pair)."""

    slot: np.ndarray          # [E] slot index k
    weight: np.ndarray        # [E] weight index j
    spread: np.ndarray        # [E] Ω_k
    sup: np.ndarray           # [E] sup over the domain of |d_kj|
    constant: np.ndarray      # [E] True when d_kj is a number
    value: np.ndarray         # [E] d_kj when constant (signed), else nan
    expressions: tuple        # [E] SymPy d_kj
    reasons: tuple            # [E] why sup is infinite ("" if finite)


def _derivative(exponent: sympy.Expr, weight: sympy.Symbol) -> sympy.Expr:
    """∂t/∂θ over the reals; the common t = c·θ (a rotation angle θ/π) without ``sympy.diff``."""
    if exponent == weight:
        return sympy.Integer(1)
    if isinstance(exponent, sympy.Mul):
        coefficient, rest = exponent.as_independent(weight, as_Add=False)
        if rest == weight:
            return coefficient
    return real_derivative(exponent, weight)


def _entries(ansatz: Ansatz, canonical: CanonicalCircuit) -> _Entries:
    weight_index = {w: j for j, w in enumerate(ansatz.weights)}
    weight_set = set(ansatz.weights)  # built once: per slot it made the loop O(gates²)
    domain = tuple((s, lo, hi) for s, (lo, hi) in zip(ansatz.inputs, ansatz.input_domain))
    rows = []
    for slot in canonical.slots:
        for weight in sorted(slot.exponent.free_symbols & weight_set, key=lambda s: s.name):
            derivative = _derivative(slot.exponent, weight)
            if derivative == 0:
                continue
            free = derivative.free_symbols
            relevant = tuple(d for d in domain if d[0] in free) if free else ()
            supremum = sup_abs(derivative, relevant)
            constant = not free and math.isfinite(supremum.value)
            reason = f"{slot.source}: ∂t/∂{weight.name} = {supremum.reason}" if supremum.reason else ""
            rows.append(
                (
                    slot.index,
                    weight_index[weight],
                    slot.spread,
                    supremum.value,
                    constant,
                    float(derivative) if constant else math.nan,
                    derivative,
                    reason,
                )
            )
    if not rows:
        empty = np.zeros(0)
        return _Entries(empty.astype(int), empty.astype(int), empty, empty, empty.astype(bool), empty, (), ())
    columns = list(zip(*rows))
    return _Entries(
        np.asarray(columns[0], dtype=int),
        np.asarray(columns[1], dtype=int),
        np.asarray(columns[2], dtype=float),
        np.asarray(columns[3], dtype=float),
        np.asarray(columns[4], dtype=bool),
        np.asarray(columns[5], dtype=float),
        tuple(columns[6]),
        tuple(columns[7]),
    )


def _per_weight(entries: _Entries, live_mask: np.ndarray, magnitudes: np.ndarray, n_weights: int) -> np.ndarray:
    """Σ_{k∈L} Ω_k |d_kj| per weight, for given entry magnitudes."""
    mask = live_mask[entries.slot]
    with np.errstate(invalid="ignore"):
        contributions = np.where(mask, entries.spread * magnitudes, 0.0)
    return np.bincount(entries.weight, weights=contributions, minlength=n_weights)


def _directional(entries: _Entries, live_mask: np.ndarray, n_weights: int) -> float:
    """max_{‖u‖=1} Σ_{k∈L} Ω_k |r_k·u| with x-dependent rows relaxed entrywise (eq. 3)."""
    mask = live_mask[entries.slot]
    m = np.zeros(n_weights)
    multi_rows: list[tuple[np.ndarray, np.ndarray]] = []
    live_rows = np.nonzero(mask)[0]
    # group the live entries by slot once (a per-slot scan over all entries is O(gates²))
    order = live_rows[np.argsort(entries.slot[live_rows], kind="stable")]
    boundaries = np.flatnonzero(np.diff(entries.slot[order])) + 1
    for rows in np.split(order, boundaries) if len(order) else []:
        exact = entries.constant[rows].all() and len(rows) >= 2
        if exact:
            multi_rows.append((entries.weight[rows], entries.spread[rows] * entries.value[rows]))
        else:
            np.add.at(m, entries.weight[rows], entries.spread[rows] * entries.sup[rows])
    if not np.all(np.isfinite(m)):
        return math.inf
    # connected components of multi-weight rows (by shared weights)
    parent = list(range(len(multi_rows)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}
    for i, (weights, _) in enumerate(multi_rows):
        for j in weights:
            if j in owner:
                parent[find(i)] = find(owner[j])
            else:
                owner[j] = i
    components: dict[int, list[int]] = {}
    for i in range(len(multi_rows)):
        components.setdefault(find(i), []).append(i)
    total_sq = float(np.sum(m**2))
    for members in components.values():
        support = sorted({int(j) for i in members for j in multi_rows[i][0]})
        local = {j: n for n, j in enumerate(support)}
        dense = np.zeros((len(members), len(support)))
        for r, i in enumerate(members):
            for j, value in zip(*multi_rows[i]):
                dense[r, local[int(j)]] += value
        m_local = m[support]
        base_sq = float(np.sum(m_local**2))
        if len(members) > _MAX_SIGN_ROWS:
            relaxed = m_local + np.abs(dense).sum(axis=0)
            best_sq = float(np.sum(relaxed**2))
        else:
            signs = np.array(
                [[1.0] + [1.0 if (s >> b) & 1 else -1.0 for b in range(len(members) - 1)] for s in range(2 ** (len(members) - 1))]
            )
            combos = np.abs(signs @ dense) + m_local[None, :]
            best_sq = float(np.max(np.sum(combos**2, axis=1)))
        total_sq += best_sq - base_sq
    return math.sqrt(max(total_sq, 0.0))


def gradient_bound(
    ansatz: Ansatz,
    *,
    prune: bool = True,
    prune_commuting: bool = True,
    per_term: bool = True,
    directional: bool = True,
    max_strings: int = 64,
    sampled: bool = False,
) -> GradientBound:
    """Derive the gradient-norm bounds of every output of ``ansatz`` (see the module docstring).

    Args:
        sampled: bound *single finite-sample estimates* (finite shots, or noise trajectories)
            of the gradient by the parameter-shift rule rather than the exact gradient. A shift
            estimate of ∂f/∂t_k is Ω_k/2 times a difference of two sample means, so it obeys
            the same per-slot coefficient Ω_k·h — but (i) sampling noise does not cancel where
            the exact derivative does, so nothing is pruned, and (ii) Pauli terms are sampled
            separately, so a sample mean of O lies in c_0 ∓ Σ_t|c_t|, not in the eigenvalue
            range. Both are applied when ``sampled`` is True.
        prune: remove provably-zero slots (light cone and commutation). ``False`` keeps all.
        prune_commuting: also use commutation with the Heisenberg-evolved observable.
        per_term: also bound PauliSum observables term by term and keep the smaller.
        directional: also compute the directional form (3).
        max_strings: Pauli strings tracked exactly before falling back to the light cone.

    Raises:
        UnsupportedGateError: for a gate with no spectrum rule (named in the message).
    """
    if sampled:
        prune = False
    canonical = canonicalize(ansatz)
    entries = _entries(ansatz, canonical)
    n_weights, n_slots = ansatz.n_weights, len(canonical.slots)
    qubit_index = {q: i for i, q in enumerate(ansatz.qubits)}
    all_mask = np.ones(n_slots, dtype=bool)

    per_weight_rows, per_obs, coord_rows, dir_rows, naive_rows, ranges, methods = [], [], [], [], [], [], []
    union_live = np.zeros(n_slots, dtype=bool)
    commuting_all, outside_all = set(), set()
    live_sets_by_obs = []
    for observable in ansatz.observables:
        lo, hi, method = observable_range(observable) if not sampled else _sample_mean_range(observable)
        ranges.append((lo, hi))
        methods.append(method)
        half_range = (hi - lo) / 2.0
        term_sets: list[tuple[float, np.ndarray]] = []
        obs_union = np.zeros(n_slots, dtype=bool)
        for term in observable:
            if len(term) == 0:
                continue
            if prune:
                result: LiveSlots = live_slots(
                    canonical, pauli_from_cirq(term, qubit_index), qubit_index, max_strings, prune_commuting
                )
                mask = np.zeros(n_slots, dtype=bool)
                mask[list(result.live)] = True
                commuting_all |= result.commuting
                outside_all |= result.outside_cone
            else:
                mask = all_mask.copy()
            term_sets.append((abs(float(np.real(term.coefficient))), mask))
            obs_union |= mask
        union_live |= obs_union
        live_sets_by_obs.append((half_range, obs_union, term_sets))

        naive = half_range * np.linalg.norm(_per_weight(entries, all_mask, entries.sup, n_weights))
        b_union = half_range * _per_weight(entries, obs_union, entries.sup, n_weights)
        b_terms = sum(
            (c * _per_weight(entries, mask, entries.sup, n_weights) for c, mask in term_sets),
            np.zeros(n_weights),
        )
        b = np.minimum(b_union, b_terms) if per_term and term_sets else b_union
        coordinate = float(np.linalg.norm(b))
        candidates = [coordinate]
        directional_value = coordinate
        if directional:
            d_union = half_range * _directional(entries, obs_union, n_weights)
            candidates.append(d_union)
            directional_value = d_union
            if per_term and term_sets:
                d_terms = sum(c * _directional(entries, mask, n_weights) for c, mask in term_sets)
                candidates.append(d_terms)
                directional_value = min(d_union, d_terms)
        elif per_term and term_sets:
            candidates.append(float(np.linalg.norm(b_terms)))
        per_weight_rows.append(tuple(float(v) for v in b))
        per_obs.append(float(min(candidates)))
        coord_rows.append(coordinate)
        dir_rows.append(float(directional_value))
        naive_rows.append(float(naive))

    live_weight_mask = union_live[entries.slot] if len(entries.slot) else np.zeros(0, dtype=bool)
    touched = set(entries.weight[live_weight_mask].tolist())
    zero_weights = tuple(w.name for j, w in enumerate(ansatz.weights) if j not in touched)
    reasons = _unbounded_reason(entries, live_weight_mask, per_obs)
    expression = _expression(entries, live_sets_by_obs, n_weights)
    pointwise = _PointwiseBound(ansatz, entries, live_sets_by_obs, n_weights)
    live_count = int(union_live.sum())
    return GradientBound(
        ansatz_name=ansatz.name,
        n_qubits=ansatz.n_qubits,
        n_weights=n_weights,
        weight_names=tuple(w.name for w in ansatz.weights),
        input_domain=tuple((s.name, lo, hi) for s, (lo, hi) in zip(ansatz.inputs, ansatz.input_domain)),
        observable_ranges=tuple(ranges),
        range_methods=tuple(methods),
        per_weight_by_observable=tuple(per_weight_rows),
        per_observable=tuple(per_obs),
        coordinate_by_observable=tuple(coord_rows),
        directional_by_observable=tuple(dir_rows),
        naive_by_observable=tuple(naive_rows),
        zero_weights=zero_weights,
        n_slots=n_slots,
        n_live_slots=live_count,
        n_pruned_commuting=len(commuting_all - set(np.nonzero(union_live)[0].tolist())),
        n_pruned_outside_cone=len(outside_all - commuting_all - set(np.nonzero(union_live)[0].tolist())),
        expression=expression,
        unbounded_reason=reasons,
        _pointwise=pointwise,
    )


def _unbounded_reason(entries: _Entries, live_mask: np.ndarray, per_observable: list[float]) -> str | None:
    """None when every total bound is finite, else the reasons of the live infinite entries."""
    if all(math.isfinite(v) for v in per_observable):
        return None
    reasons = list(dict.fromkeys(r for r, live in zip(entries.reasons, live_mask) if r and live))
    if not reasons:  # an infinite total always comes from a live infinite entry
        return "the bound is not finite: a live slot's angle derivative has no finite supremum"
    shown = "; ".join(reasons[:_MAX_REASONS])
    more = len(reasons) - _MAX_REASONS
    return shown + (f" (and {more} more slot(s) alike)" if more > 0 else "")


def _expression(entries: _Entries, live_sets_by_obs, n_weights: int) -> sympy.Expr:
    """h_c · sqrt(Σ_j (Σ_{k∈L_c} Ω_k |d_kj(x)|)²), the coordinate form before the sup."""
    per_observable = []
    for half_range, union_mask, _ in live_sets_by_obs:
        constant_part = np.zeros(n_weights)
        symbolic: dict[int, list] = {}
        for e in range(len(entries.slot)):
            if not union_mask[entries.slot[e]]:
                continue
            j = int(entries.weight[e])
            if entries.constant[e]:
                constant_part[j] += entries.spread[e] * abs(entries.value[e])
            else:
                symbolic.setdefault(j, []).append(
                    sympy.Float(entries.spread[e], 12) * sympy.Abs(entries.expressions[e])
                )
        squares = [sympy.Float(float(np.sum(constant_part[[j for j in range(n_weights) if j not in symbolic]] ** 2)), 12)]
        for j, parts in symbolic.items():
            squares.append((sympy.Float(constant_part[j], 12) + sympy.Add(*parts)) ** 2)
        per_observable.append(sympy.Float(half_range, 12) * sympy.sqrt(sympy.Add(*squares)))
    return per_observable[0] if len(per_observable) == 1 else sympy.Max(*per_observable)


class _PointwiseBound:
    """Evaluates the coordinate form at one input vector: derivatives that depend only on the
    inputs are evaluated at x; those that depend on weights keep their sup over all weights."""

    def __init__(self, ansatz: Ansatz, entries: _Entries, live_sets_by_obs, n_weights: int):
        self._entries = entries
        self._sets = live_sets_by_obs
        self._n_weights = n_weights
        self._n_inputs = ansatz.n_inputs
        inputs = set(ansatz.inputs)
        self._at_x = [
            (e, sympy.lambdify(list(ansatz.inputs), entries.expressions[e], "numpy"))
            for e in range(len(entries.slot))
            if not entries.constant[e] and entries.expressions[e].free_symbols <= inputs
        ]

    def __call__(self, x: np.ndarray) -> float:
        entries = self._entries
        if x.shape != (self._n_inputs,):
            raise ValueError(f"inputs have shape {x.shape}; expected ({self._n_inputs},)")
        magnitudes = np.where(entries.constant, np.abs(entries.value), entries.sup)
        for e, function in self._at_x:
            magnitudes[e] = abs(float(function(*x)))
        best = 0.0
        for half_range, union_mask, term_sets in self._sets:
            b_union = half_range * _per_weight(entries, union_mask, magnitudes, self._n_weights)
            if term_sets:
                b_terms = sum(c * _per_weight(entries, m, magnitudes, self._n_weights) for c, m in term_sets)
                b_union = np.minimum(b_union, b_terms)
            best = max(best, float(np.linalg.norm(b_union)))
        return best


__all__ = ["GradientBound", "gradient_bound", "observable_range"]
