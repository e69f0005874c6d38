"""The property suite at CI size: the built-in ansätze and random ansätze hold their bounds, and
the CI-sized search reaches the bounds that only the corners of the domain attain.

CI size: the ``ci`` profile (6 derandomised examples per property, so the same examples every
run); ``PRIVQML_VERIFY_PROFILE=thorough`` runs the thorough profile instead.
"""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privqml.errors import ConfigError, UnsupportedGateError
from privqml.theory import builtin_ansatz, hea, native, reupload
from privqml.verify.engine_base import GradientResult
from privqml.verify.properties import PROPERTIES, check_per_weight
from privqml.verify.runner import PROFILES, SWEPT_PROPERTIES, example_points, verify_ansatz, verify_random_ansatze
from privqml.verify.strategies import ansatze, lattice_values
from tests.verify._cases import EXAMPLES, PROFILE, google_native, shared_weights

BOUND_PROPERTIES = ("per_weight", "total", "loss", "shots", "noisy")


def _examples(ci: int) -> int:
    return EXAMPLES or (PROFILES["thorough"].examples if PROFILE == "thorough" else ci)


@pytest.mark.parametrize("make", [lambda: hea(3, 2), lambda: reupload(2, 2), lambda: native(2, 1),
                                  lambda: hea(3, 1, "Z0,Z1,Z2"), shared_weights, google_native],
                         ids=["hea", "reupload", "native", "hea_softmax", "shared_weights", "google_native"])
def test_builtin_and_table_ansatze_hold_every_property(make):
    ansatz = make()
    report = verify_ansatz(ansatz, examples=_examples(6), profile=PROFILE)
    assert report.passed, report.counterexample
    assert [p.name for p in report.properties] == list(PROPERTIES)
    for p in report.properties:
        assert p.skipped is None and p.examples == _examples(6), p
        assert math.isfinite(p.max_ratio)
    for name in BOUND_PROPERTIES:  # the bounds hold, and the search got close to them
        assert 0.1 < report.property(name).max_ratio <= 1.0 + 1e-4, (name, report.property(name))
    assert report.property("agree").max_ratio <= 1.0
    for name in ("per_weight", "total", "loss"):  # float64 engines: no slack needed at all
        by_engine = dict(report.property(name).max_ratio_by_engine)
        assert {"adjoint", "pshift", "numeric", "oracle"} <= set(by_engine)
        assert by_engine["numeric"] <= 1.0 + 1e-9


def test_random_ansatze_hold_every_property():
    strategy = ansatze(max_qubits=3, max_layers=2, max_observables=2)
    report = verify_random_ansatze(strategy, examples=_examples(8), profile=PROFILE)
    assert report.passed, report.counterexample
    for p in report.properties:
        assert p.examples == _examples(8)
        assert p.max_ratio <= 1.0 + 1e-4


def test_report_as_json_has_the_documented_keys():
    report = verify_ansatz(hea(2, 1), examples=2, engines="adjoint,shots", properties=("per_weight", "shots", "noisy"))
    data = json.loads(json.dumps(report.as_dict()))
    assert data["ansatz"] == hea(2, 1).name and data["passed"] is True and data["counterexample"] is None
    assert set(data["properties"]) == {"per_weight", "shots", "noisy"}
    assert set(data["properties"]["per_weight"]) >= {"passed", "examples", "max_ratio"}
    assert data["properties"]["noisy"]["skipped"] and data["properties"]["noisy"]["examples"] == 0


def test_the_same_seed_gives_the_same_examples_and_ratios():
    runs = [verify_ansatz(reupload(2, 1), examples=5, engines="numeric", properties=("per_weight", "total"), seed=7)
            for _ in range(2)]
    assert [p.max_ratio for p in runs[0].properties] == [p.max_ratio for p in runs[1].properties]


def test_bad_settings_are_privqml_errors():
    with pytest.raises(ConfigError, match="engines"):
        verify_ansatz(hea(2, 1), engines="adjoint,autodiff")
    with pytest.raises(ConfigError, match="properties"):
        verify_ansatz(hea(2, 1), engines="numeric", properties=("per_weight", "tightness"))
    with pytest.raises(ConfigError, match="examples"):
        verify_ansatz(hea(2, 1), engines="numeric", examples=0)


def test_unsupported_gate_fails_before_any_search():
    import cirq
    import sympy

    from privqml.theory import Ansatz, parse_observables

    qubits = cirq.LineQubit.range(3)
    w = sympy.Symbol("w")
    ansatz = Ansatz(cirq.Circuit(cirq.H.on_each(*qubits), cirq.CCZPowGate(exponent=w).on(*qubits)), (w,), (),
                    parse_observables("X0", qubits))
    with pytest.raises(UnsupportedGateError, match="TFQ cannot simulate CCZPowGate"):
        verify_ansatz(ansatz, engines="adjoint")
    # the exact engines simulate it, so with them alone the bound is still checked
    assert verify_ansatz(ansatz, engines="numeric", examples=3, properties=("per_weight",)).passed


def test_profiles_are_registered_hypothesis_profiles():
    from hypothesis import settings

    from privqml.verify.runner import PROFILES, hypothesis_profile

    for name, profile in PROFILES.items():
        registered = settings.get_profile(hypothesis_profile(name))
        assert registered.max_examples == profile.examples
        assert registered.derandomize is profile.derandomize
        assert registered.deadline is None and registered.database is None
    assert settings.get_profile("privqml-ci").derandomize and not settings.get_profile("privqml-thorough").derandomize


@pytest.mark.parametrize("family,qubits,layers,observable", [
    ("reupload", 2, 1, "Z0"), ("hea", 2, 2, "Z0"), ("hea", 4, 1, "Z0"), ("reupload", 2, 2, "Z0*Z1"),
    ("native", 2, 2, "Z0*Z1"),
])
def test_the_ci_search_reaches_per_weight_bounds_attained_only_at_corners(family, qubits, layers, observable):
    """Configurations whose largest |∂f/∂θ_j| / B_j = 1 is attained only at special points (inputs at
    the ends of the domain, slot angles at multiples of π/2): the CI profile reaches it. Without
    corner points the same search stopped at 0.995, 0.72, 0.86 and 0.94 of it on the last four."""
    ansatz = builtin_ansatz(family, n_qubits=qubits, n_layers=layers, observable=observable)
    report = verify_ansatz(ansatz, engines="numeric", properties=("per_weight",), profile="ci")
    per_weight = report.property("per_weight")
    assert report.passed and per_weight.examples == PROFILES["ci"].examples
    assert per_weight.max_ratio == pytest.approx(1.0, abs=1e-9)


def test_swept_properties_add_corner_rows_and_the_stochastic_ones_do_not():
    ansatz = reupload(2, 1)
    profile = PROFILES["ci"]
    assert profile.corner_rows == 4 and PROFILES["thorough"].corner_rows == 2
    assert set(SWEPT_PROPERTIES) == {"per_weight", "total", "loss"}
    lattice = lattice_values(ansatz)
    sizes = {"per_weight": [], "shots": []}

    @settings(settings.get_profile("privqml-ci"), max_examples=20)
    @given(data=st.data())
    def draw(data):
        for name in sizes:
            weights, inputs = data.draw(example_points(name, ansatz, profile))
            sizes[name].append(weights.shape[0])
            if name == "per_weight":  # the last rows are corner points
                for w, x in zip(weights[-profile.corner_rows:], inputs[-profile.corner_rows:]):
                    assert all(v in values for v, values in zip(w.tolist(), lattice))
                    assert set(np.abs(x).tolist()) == {math.pi}

    draw()
    assert min(sizes["per_weight"]) == 1 + profile.corner_rows and max(sizes["per_weight"]) <= 2 + profile.corner_rows
    assert min(sizes["shots"]) == 1 and max(sizes["shots"]) == profile.max_batch


def test_a_bound_below_the_engine_tolerance_is_measured_against_bound_plus_tolerance():
    """A bound term ∝ a drawn noise strength of 1e-300 is below any engine's resolution: its ratio
    is observed / (bound + tolerance), not 1e-13 / 1e-300 = 1e287; a bound above it stays raw."""
    bound = types.SimpleNamespace(per_weight={"w0": 1e-300, "w1": 1.0})

    def result(jacobian):
        jacobian = np.asarray([[jacobian]], dtype=float)
        return GradientResult("numeric", np.zeros((1, 1)), jacobian, np.full_like(jacobian, 1e-9), 1)

    observation = check_per_weight(bound, result([1e-13, 0.5]))
    assert observation.passed and observation.ratio == pytest.approx(0.5)  # w1's raw ratio
    observation = check_per_weight(bound, result([1e-13, 0.0]))
    assert observation.passed and observation.ratio == pytest.approx(1e-13 / (1e-9 + 1e-300))
    observation = check_per_weight(bound, result([3e-9, 0.0]))
    assert not observation.passed and observation.ratio == pytest.approx(3.0)
