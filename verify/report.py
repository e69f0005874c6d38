"""Printing verification reports, and the demo that property-tests the default ansatz.

``print_report`` renders a :class:`~privqml.verify.runner.VerifyReport` as a rich table: per
property pass/fail, the examples tried, the largest observed ``norm / bound`` (``|difference| /
tolerance`` for ``agree``), the engines, and on failure the shrunk counterexample.
"""

from __future__ import annotations

import math
import time

from rich.console import Console
from rich.table import Table

from privqml.verify.runner import VerifyReport, verify_ansatz

RATIO_MEANING = {
    "per_weight": "max |∂f/∂θ_j| / B_j",
    "total": "max ‖∇f‖ / bound",
    "loss": "max ‖∇ℓ‖ / loss bound",
    "shots": "max |estimate| / estimator bound",
    "noisy": "max noisy norm / bound",
    "agree": "max |Δ| / tolerance",
    "zero": "max |∂f/∂θ_j| / tol (provably 0)",
}


def _ratio(value: float) -> str:
    return "∞" if not math.isfinite(value) else f"{value:.4f}"


def print_report(report: VerifyReport, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"privqml verify — {report.ansatz}")
    for column, justify in (("property", "left"), ("result", "left"), ("examples", "right"),
                            ("max ratio", "right"), ("engines", "left")):
        table.add_column(column, justify=justify)
    for p in report.properties:
        if p.skipped:
            result = "[yellow]skipped[/]"
        else:
            result = "[green]pass[/]" if p.passed else "[bold red]FAIL[/]"
        table.add_row(p.name, result, str(p.examples), _ratio(p.max_ratio) if not p.skipped else "-",
                      " ".join(p.engines) if not p.skipped else p.skipped)
    console.print(table)
    legend = "; ".join(f"{p.name}: {RATIO_MEANING[p.name]}" for p in report.properties if p.name in RATIO_MEANING)
    console.print(f"[dim]ratio = {legend}[/]", highlight=False)
    verdict = "[green]all properties hold[/]" if report.passed else "[bold red]a property failed[/]"
    console.print(f"{verdict} (engines {', '.join(report.engines)}; seed {report.seed}; {report.seconds:.1f} s)")
    c = report.counterexample
    if c is not None:
        console.print(f"[bold]counterexample[/] ({c.property}, engine {c.engine}): {c.detail}", highlight=False)
        console.print(f"  weights = {list(c.weights)}", highlight=False)
        console.print(f"  inputs  = {list(c.inputs)}", highlight=False)
        for key, value in c.extra:
            console.print(f"  {key} = {value}", highlight=False)
        if c.circuit:
            console.print(c.circuit, highlight=False)


def demo_verify(examples: int = 4, seed: int = 0, console: Console | None = None) -> VerifyReport:
    """Property-test the default ansatz (hea, 4 qubits, 2 layers, Z0) with every engine and print
    a summary (~30 s on one core). Returns the report."""
    from privqml.theory import hea

    console = console or Console()
    ansatz = hea(4, 2, "Z0")
    console.print(f"[bold]verify[/]: property-testing the bound of {ansatz.name} against TFQ and Cirq gradients")
    start = time.perf_counter()
    report = verify_ansatz(ansatz, examples=examples, seed=seed,
                           engines=("adjoint", "pshift", "fd", "shots", "noisy", "numeric", "oracle"),
                           progress=lambda name: console.print(f"  checking {name} …", highlight=False))
    print_report(report, console)
    console.print(f"verify demo took {time.perf_counter() - start:.1f} s")
    return report


__all__ = ["RATIO_MEANING", "demo_verify", "print_report"]
