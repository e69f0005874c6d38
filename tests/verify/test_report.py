"""The printed report and the demo that ``make demo`` runs."""

from __future__ import annotations

from rich.console import Console

from privqml.theory import hea
from privqml.verify.mutations import scaled_bound
from privqml.theory import gradient_bound
from privqml.verify.report import print_report
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
