"""The property suite at CI size: the built-in ansätze and random ansätze hold their bounds.

CI size: the ``ci`` profile (6 derandomised examples per property, so the same examples every
run); ``PRIVQML_VERIFY_PROFILE=thorough`` runs the thorough profile instead.
"""

from __future__ import annotations

import json
import math

import pytest

from privqml.errors import ConfigError, UnsupportedGateError
from privqml.theory import hea, native, reupload
from privqml.verify.properties import PROPERTIES
from privqml.verify.runner import PROFILES, verify_ansatz, verify_random_ansatze
from privqml.verify.strategies import ansatze
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
