"""The printed report and the demo that ``make demo`` runs."""

from __future__ import annotations

import json
import math

from rich.console import Console

from privqml import jsonio
from privqml.theory import gradient_bound, hea
from privqml.verify.mutations import scaled_bound
from privqml.verify.report import Counterexample, PropertyReport, VerifyReport, print_report
from privqml.verify.runner import demo_verify, verify_ansatz


def test_demo_verify_property_tests_the_default_ansatz():
    console = Console(record=True, width=120)
    report = demo_verify(examples=1, console=console)
    text = console.export_text()
    assert report.passed and report.ansatz == hea(4, 2, "Z0").name
    assert "all properties hold" in text
    for name in ("per_weight", "total", "loss", "shots", "noisy", "agree", "zero"):
        assert name in text


def test_a_failure_prints_the_counterexample():
    ansatz = hea(1, 1)
    weakened = scaled_bound(gradient_bound(ansatz), 0.5)
    report = verify_ansatz(ansatz, engines="numeric", properties=("per_weight",), examples=20,
                           bound_fn=lambda a: weakened)
    console = Console(record=True, width=120)
    print_report(report, console)
    text = console.export_text()
    assert "FAIL" in text and "counterexample (per_weight, engine numeric)" in text
    assert "weights = [" in text and "inputs  = [" in text


def test_json_view_writes_an_infinite_ratio_as_inf():
    counterexample = Counterexample("per_weight", "numeric", "a", (0.1,), (), math.inf, "engine crashed")
    prop = PropertyReport("per_weight", False, 3, math.inf, ("numeric",), max_ratio_by_engine=(("numeric", math.inf),))
    report = VerifyReport("a", False, (prop,), counterexample, ("numeric",), 0, 1.23456)
    assert math.isinf(report.as_dict()["properties"]["per_weight"]["max_ratio"])  # Python values
    data = json.loads(jsonio.dumps(report))  # privqml's JSON: strict, inf as "inf"
    assert data["properties"]["per_weight"]["max_ratio"] == "inf"
    assert data["properties"]["per_weight"]["max_ratio_by_engine"] == {"numeric": "inf"}
    assert data["counterexample"]["ratio"] == "inf" and data["seconds"] == 1.235
    assert report.to_json() == data
