"""The bound record: its dict, JSON (privqml's convention) and LaTeX views, and the pointwise bound."""

from __future__ import annotations

import json
import math

import cirq
import numpy as np
import pytest
import sympy

from privqml import jsonio
from privqml.theory import Ansatz, gradient_bound, parse_observables, reupload
from privqml.theory.bound_record import GradientBound


def test_json_and_latex_views():
    bound = gradient_bound(reupload(2, 1))
    data = bound.as_dict()
    for key in ("ansatz", "n_qubits", "n_weights", "observable_range", "per_weight", "grad_norm_bound", "naive_bound", "expression"):
        assert key in data
    assert data["grad_norm_bound"] == pytest.approx(bound.grad_norm_bound)
    assert "x0" in data["expression"]
    assert bound.to_json() == json.loads(json.dumps(bound.to_json()))  # a dict of plain JSON values
    assert bound.to_latex().startswith(r"\|\nabla_\theta f\|_2 \le " + f"{bound.grad_norm_bound:.6g}" + r" \le \sup_{x}")


def test_latex_states_the_chain_in_its_true_order():
    """Regression: it printed ‖∇f‖ ≤ 9.0 ≤ 3.4641 (the coordinate form, then the smaller reported bound)."""
    from privqml.theory import hea

    bound = gradient_bound(hea(3, 2, observable="sumZ"))
    left, middle, right = bound.to_latex().split(r" \le ")
    assert float(middle) == pytest.approx(bound.grad_norm_bound, rel=1e-5) and float(middle) <= float(right)


def test_an_unbounded_record_writes_inf_and_says_why():
    q = cirq.LineQubit(0)
    w, x = sympy.symbols("w x")
    ansatz = Ansatz(cirq.Circuit(cirq.ry(w / x).on(q)), (w,), (x,), parse_observables("Z0", (q,)),
                    input_domain=((-1.0, 1.0),))
    bound = gradient_bound(ansatz)
    assert isinstance(bound, GradientBound) and not bound.bounded
    assert math.isinf(bound.as_dict()["grad_norm_bound"])  # Python values: an infinite float
    text = jsonio.dumps(bound.to_json())  # strict JSON: no Infinity token
    data = json.loads(text)
    assert data["grad_norm_bound"] == "inf" and data["per_weight"] == {"w": "inf"} and data["bounded"] is False
    assert bound.to_latex().endswith(r"= \infty")


def test_pointwise_bound_never_exceeds_the_total():
    bound = gradient_bound(reupload(2, 1))
    for x in np.linspace(-math.pi, math.pi, 7):
        value = bound.pointwise(np.array([x, -x]))
        assert 0.0 <= value <= bound.grad_norm_bound + 1e-12
    with pytest.raises(ValueError, match="expected"):
        bound.pointwise(np.zeros(3))


def test_the_record_holds_numbers_and_a_description_not_calculators():
    """No live calculator inside the frozen record: its on-demand answers are rebuilt from its source."""
    import dataclasses as dc

    from privqml.theory import builtin_ansatz, gradient_bound
    from privqml.theory.derivation import BoundSource, Derivation, PointwiseBound, derive
    from privqml.theory.refinements.stages import Refiner

    bound = gradient_bound(builtin_ansatz("reupload", n_qubits=2, n_layers=2, observable="Z0"))
    assert isinstance(bound.source, BoundSource)
    for field in dc.fields(bound):
        assert not isinstance(getattr(bound, field.name), (Refiner, PointwiseBound, Derivation)), field.name
    answers = (bound.refinement_totals(), bound.coupled_bound(), bound.pointwise([0.3, -1.2]), bound.explain())
    derive.cache_clear()  # evicted: the same numbers, derived again
    assert (bound.refinement_totals(), bound.coupled_bound(), bound.pointwise([0.3, -1.2]), bound.explain()) == answers
