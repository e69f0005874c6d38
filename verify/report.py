"""Verification reports: the records a run returns, and how they are printed.

``print_report`` renders a :class:`VerifyReport` as a rich table: per property pass/fail, the
examples tried, the largest observed ``norm / bound`` (``|difference| / tolerance`` for
``agree``), the engines, and on failure the shrunk counterexample. ``as_dict`` gives the records
as Python values (an infinite ratio stays ``inf``); ``VerifyReport.to_json`` gives them in
privqml's JSON convention (:mod:`privqml.jsonio`: ``inf`` written as "inf").
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

from rich.console import Console
from rich.table import Table

from privqml import jsonio


@dataclasses.dataclass(frozen=True)
class PropertyReport:
    """One property's outcome: ``examples`` tried, the largest ratio seen (``max_ratio``, over
    every engine; ``max_ratio_by_engine`` per engine, so float64 engines can be told from float32
    ones), the engines it checked, and ``skipped`` (why it did not run) when it could not run."""

    name: str
    passed: bool
    examples: int
    max_ratio: float
    engines: tuple[str, ...]
    skipped: Optional[str] = None
    max_ratio_by_engine: tuple[tuple[str, float], ...] = ()

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "examples": self.examples,
            "max_ratio": self.max_ratio,
            "max_ratio_by_engine": {engine: v for engine, v in self.max_ratio_by_engine},
            "engines": list(self.engines),
            "skipped": self.skipped,
        }


@dataclasses.dataclass(frozen=True)
class Counterexample:
    """The shrunk failing example: which property and engine, at which weights and inputs."""

    property: str
    engine: str
    ansatz: str
    weights: tuple[float, ...]
    inputs: tuple[float, ...]
    ratio: float
    detail: str
    extra: tuple[tuple[str, str], ...] = ()
    circuit: str = ""

    def as_dict(self) -> dict:
        return {
            "property": self.property,
            "engine": self.engine,
            "ansatz": self.ansatz,
            "weights": list(self.weights),
            "inputs": list(self.inputs),
            "ratio": self.ratio,
            "detail": self.detail,
            **{k: v for k, v in self.extra},
            **({"circuit": self.circuit} if self.circuit else {}),
        }


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_ansatz` (``passed`` iff every property that ran passed)."""

    ansatz: str
    passed: bool
    properties: tuple[PropertyReport, ...]
    counterexample: Optional[Counterexample]
    engines: tuple[str, ...]
    seed: Optional[int]
    seconds: float
    #: where and how the ansatz was run when verified on a device (:meth:`privqml.theory.devices.DeviceAnsatz.summary`)
    device: Optional[dict] = None

    def property(self, name: str) -> PropertyReport:
        return next(p for p in self.properties if p.name == name)

    def as_dict(self) -> dict:
        return {
            "ansatz": self.ansatz,
            "passed": self.passed,
            "properties": {p.name: p.as_dict() for p in self.properties},
            "counterexample": None if self.counterexample is None else self.counterexample.as_dict(),
            "engines": list(self.engines),
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            **({"device": self.device} if self.device is not None else {}),
        }

    def to_json(self) -> dict:
        """:meth:`as_dict` in privqml's JSON convention (non-finite ratios as "inf"/"nan")."""
        return jsonio.to_jsonable(self.as_dict())


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
    if report.device is not None:
        d = report.device
        console.print(f"on device {d['device']} ({d['gateset']}, calibration {d['calibration'].get('file')}): qubits "
                      + ", ".join(f"{a}→{q}" for a, q in d["qubits"].items())
                      + f"; compiled circuit sha256 {d['circuit_sha256'][:16]}; channels "
                      + ", ".join(f"{k} ×{v['count']}" for k, v in d["noise"].items()), highlight=False)
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


def format_failure(report: VerifyReport) -> str:
    failed = [p.name for p in report.properties if not p.passed]
    lines = [f"bound of {report.ansatz} violated: properties {failed}"]
    if report.counterexample is not None:
        c = report.counterexample
        lines.append(f"counterexample ({c.property}, engine {c.engine}): {c.detail}")
        lines.append(f"  weights={list(c.weights)}")
        lines.append(f"  inputs={list(c.inputs)}")
        lines.extend(f"  {k}={v}" for k, v in c.extra)
    return "\n".join(lines)


__all__ = ["Counterexample", "PropertyReport", "RATIO_MEANING", "VerifyReport", "format_failure", "print_report"]
