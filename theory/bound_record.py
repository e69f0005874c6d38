r"""The record of a derived gradient bound: :class:`GradientBound`, its views and renderings.

:func:`privqml.theory.bounds.gradient_bound` derives it; this module only holds the result —
the per-weight bounds B_j, the totals ‖∇_θ f_c‖₂ per observable, the pruning statistics and the
coordinate form before the sup over the inputs — and shows it as a dict, as JSON (privqml's
convention, :mod:`privqml.jsonio`) and as LaTeX. Units: per unit of each weight (radians for a
rotation angle), f in the units of the observable's eigenvalues.

Notation: slot k of the ansatz has spread Ω_k (radians per unit exponent) and exponent t_k;
M_kj = sup |∂t_k/∂θ_j| over the public input domain; L is the set of live (not provably zero)
slots, a near-zero one entering B_j with its factor ε_k; h = (o_max − o_min)/2 is the observable's half-range.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
import sympy

from privqml import jsonio


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
        per_weight_by_observable: B_j = h · Σ_{k∈L} Ω_k sup|∂t_k/∂θ_j| (minimised with the
            per-term form), per observable, per unit of the weight.
        per_observable: bound on ‖∇_θ f_c‖₂ per observable (min of directional, per-term
            and coordinate forms).
        coordinate_by_observable / directional_by_observable: the two total forms, for reference.
        naive_by_observable: h · (Σ_j (Σ_k Ω_k M_kj)²)^{1/2} with nothing pruned.
        zero_weights: weights whose derivative is exactly zero for every observable, weight vector
            and input: every slot they enter is pruned by an exact argument — outside the backward
            light cone, or commuting with the Heisenberg-evolved observable, decided in exact
            arithmetic on the gates' matrices (:mod:`privqml.theory.pauli`). A weight whose
            derivative is only shown to be tiny (a near-zero slot) is not listed; its B_j is that
            tiny bound.
        n_slots, n_live_slots, n_pruned_commuting, n_pruned_outside_cone: pruning statistics
            (slots counted for the union over Pauli terms and observables; ``n_live_slots``
            counts every slot not pruned, near-zero ones included).
        expression: the coordinate form before the sup over inputs, as a SymPy expression in
            the input symbols (``Max`` over observables when there are several).
        unbounded_reason: ``None`` when every total bound is finite; otherwise why not — for each
            live slot whose angle derivative has no finite supremum (at most three are named),
            the gate, the derivative ∂t/∂θ_j of its exponent t (half-turns) and the domain. For
            ``cirq.ry(w / x)`` with x ∈ [-1, 1]: "Ry(w/(pi*x)π)(q(0)): ∂t/∂w = 1/(pi*x) is
            unbounded on x ∈ [-1.0, 1.0]; restrict the input domain or change the encoding".
            ``bounded`` is True exactly when it is ``None``.
        n_pruned_whole_observable: slots pruned only because they commute with the whole
            Heisenberg-evolved observable (refinement ``commutation``).
        n_near_zero_slots: slots that are not live for any Pauli term but near zero for some:
            |∂⟨P_t⟩/∂t_k| ≤ Ω_k ε_{t,k} with ε_{t,k} < 1 the norm carried from terms below 10⁻⁹
            in fixed gates' Heisenberg images (:mod:`privqml.theory.pauli`).
        refinements: the refinements switched on (``()`` for the base bound and for bounds on
            sampled estimates); :meth:`refinement_totals` gives the bound after each.
        source: what the bound was derived from (:class:`privqml.theory.derivation.BoundSource`: the ansatz
            and the options — a description, not a calculator); the answers computed on demand
            (:meth:`pointwise`, :meth:`refinement_totals`, :meth:`coupled_bound`, :meth:`explain`) rebuild the
            derivation's calculators from it, cached.
        pointwise_scale: a factor on :meth:`pointwise` (1; a mutation test's weakened bound scales it).
        splits: per observable, None or the split O = c̄·S + B that set its bound (refinement ``split``:
            ``level`` c̄, ``shape_bound`` G(S), ``rest_bound`` G(B), ``total``); ``()`` when none did.
        readout: per observable, the observable with the trailing channels folded in and its bound (refinement
            ``readout``, :mod:`privqml.theory.refinements.readout`); ``()`` when that did not lower a bound.
        contractions: per observable, None or how refinement ``contraction`` set its bound (``factor`` φ, the
            ``inner_bound`` of the circuit without those channels, the ``bound``); ``()`` when none did.
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
    n_pruned_whole_observable: int = 0
    refinements: tuple[str, ...] = ()
    splits: tuple[dict | None, ...] = ()
    readout: tuple[dict, ...] = ()
    contractions: tuple[dict | None, ...] = ()
    n_near_zero_slots: int = 0
    source: object = dataclasses.field(default=None, repr=False, compare=False)
    pointwise_scale: float = dataclasses.field(default=1.0, repr=False, compare=False)

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
        if self.source is None:
            raise ValueError(f"the bound of {self.ansatz_name!r} records no source to evaluate it pointwise")
        value = self._derivation().pointwise(np.asarray(inputs, dtype=float))
        return min(self.grad_norm_bound, self.pointwise_scale * value)

    def _derivation(self):
        """The calculators of :attr:`source`, rebuilt on demand and cached (:func:`privqml.theory.derivation.derive`)."""
        from privqml.theory.derivation import derive  # the record holds a description, never a calculator

        return derive(self.source)

    def refinement_totals(self, observable: int = 0) -> tuple[tuple[str, float], ...]:
        """(stage, bound on ‖∇_θ f_c‖₂) for the base bound (``bernstein``) and after each refinement,
        each stage with every refinement before it switched on (computed on demand)."""
        if self.source is None or not self.refinements:
            return (("bernstein", float(self.per_observable[observable])),)
        totals = tuple((name, float(value)) for name, value in self._derivation().refiner.stage_totals(observable))
        if "split" in self.refinements:
            split = self.splits[observable] if observable < len(self.splits) else None
            totals += (("split", min(totals[-1][1], split["total"]) if split else totals[-1][1]),)
        if "readout" in self.refinements:
            totals += (("readout", min(totals[-1][1], self.readout[observable]["bound"])),)
        if "contraction" in self.refinements:
            found = self.contractions[observable] if observable < len(self.contractions) else None
            totals += (("contraction", min(totals[-1][1], found["bound"]) if found else totals[-1][1]),)
        return totals

    def coupled_bound(self, observable: int = 0) -> float | None:
        """G with ‖∇_θ f_c‖₂ ≤ G · √(1 − ((f_c − c)/h)²) at every θ and x (c the centre, h the half-range
        of the observable's range), or None when that coupling is not proven for this ansatz."""
        if self.source is None or not self.refinements:
            return None
        return self._derivation().refiner.coupled_total(observable, frozenset(self.refinements))

    def explain(self) -> dict:
        """Which slots were pruned or grouped by which refinement, and why (computed on demand)."""
        if self.source is None:
            return {"refinements": []}
        from privqml.theory.refinements.explain import explain  # the record only holds results

        out = explain(self._derivation().refiner,
                      tuple(r for r in self.refinements if r not in ("split", "readout", "contraction")))
        out["refinements"] = list(self.refinements)
        for c, split in enumerate(self.splits):
            if split:
                _append_stage(out["observables"][c], "split", split["total"], {
                    **split, "why": "O = c̄·S + B with S the terms' signed sum: f is linear in O, so "
                                    "‖∇f_O‖ ≤ |c̄|·G(S) + G(B); S commutes with gates O does not"})
        for c, folded in enumerate(self.readout):
            _append_stage(out["observables"][c], "readout", folded["bound"], {
                **folded, "why": "the channels after each qubit's last gate folded into the observable (Heisenberg "
                                 "picture, exact): the measured observable"})
        for c, found in enumerate(self.contractions):
            if found:
                _append_stage(out["observables"][c], "contraction", found["bound"], {
                    **found, "why": "depolarising channels that every string of the Heisenberg-evolved observable "
                                    "crosses scale it by φ: all earlier slots' derivatives shrink by φ"})
        return out

    def as_dict(self) -> dict:
        """The record as a dict of Python values (non-finite bounds stay ``inf`` floats)."""
        return {
            "ansatz": self.ansatz_name,
            "n_qubits": self.n_qubits,
            "n_weights": self.n_weights,
            "input_domain": {n: [lo, hi] for n, lo, hi in self.input_domain},
            "observable_range": list(self.observable_ranges[0]),
            "observable_ranges": [list(r) for r in self.observable_ranges],
            "observable_range_methods": list(self.range_methods),
            "per_weight": self.per_weight,
            "grad_norm_bound": self.grad_norm_bound,
            "per_observable": [float(v) for v in self.per_observable],
            "coordinate_form": [float(v) for v in self.coordinate_by_observable],
            "directional_form": [float(v) for v in self.directional_by_observable],
            "naive_bound": self.naive_bound,
            "zero_weights": list(self.zero_weights),
            "slots": {
                "total": self.n_slots,
                "live": self.n_live_slots,
                "pruned_commuting": self.n_pruned_commuting,
                "pruned_outside_light_cone": self.n_pruned_outside_cone,
                "pruned_whole_observable": self.n_pruned_whole_observable,
                "near_zero": self.n_near_zero_slots,
            },
            "refinements": list(self.refinements),
            "expression": str(self.expression),
            "bounded": self.bounded,
            "unbounded_reason": self.unbounded_reason,
            "units": "per unit of each weight (radians for rotation angles); f in observable eigenvalue units",
        }

    def to_json(self) -> dict:
        """:meth:`as_dict` in privqml's JSON convention (:mod:`privqml.jsonio`: ``inf`` as "inf")."""
        return jsonio.to_jsonable(self.as_dict())

    def to_latex(self) -> str:
        """``‖∇_θ f‖₂ ≤ G ≤ sup_x (coordinate form)``, in that order: the reported bound G (the tightest form, so
        never above the coordinate form) and the coordinate form's expression before the sup over inputs."""
        value = self.grad_norm_bound
        if not math.isfinite(value):
            return r"\|\nabla_\theta f\|_2 \le " + sympy.latex(self.expression) + r" = \infty"
        form = sympy.latex(self.expression)
        if self.expression.free_symbols:
            form = r"\sup_{x} \left(" + form + r"\right)"
        return r"\|\nabla_\theta f\|_2 \le " + f"{value:.6g}" + r" \le " + form


def _append_stage(entry: dict, stage: str, bound: float, detail: dict) -> None:
    """A record-level refinement in an :meth:`GradientBound.explain` entry: its stage, the change when it
    lowered the bound, and what it did."""
    last = entry["stages"][-1]["bound"]
    if bound < last:
        entry["stages"].append({"stage": stage, "bound": bound})
        entry["changed"].append({"stage": stage, "from": last, "to": bound})
    entry[stage] = detail


__all__ = ["GradientBound"]
