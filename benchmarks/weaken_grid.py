r"""Mutation check over the built-in grid: does the CI-sized search catch a bound weakened by 10 %?

``privqml verify NAME --weaken F`` multiplies every bound the properties check by F
(:func:`privqml.verify.mutations.scaled_bound`: B_j → F·B_j, G_c → F·G_c, the pointwise and loss
bounds with them). Where a bound is attained, sup |∂f/∂θ_j| = B_j, the weakened bound is exceeded
by the factor 1/F, and a search that reaches the maximum must exit 1. This benchmark runs that
check on every configuration of the grid of :mod:`benchmarks.tightness_grid` — ``hea``,
``reupload``, ``native`` × 2, 3, 4 qubits × 1, 2 layers × the observables Z0, Z0·Z1 and Σ_q Z_q,
54 configurations — through the same Python API as the command (:func:`privqml.cli.verify.run_verify`,
default engines, seed 0, the ``ci`` profile), twice per configuration:

- *weakened* (``weaken=F``, F = 0.9 by default): the run must find a counterexample;
- *honest* (no weakening): the run must pass.

Per configuration the table gives whether a counterexample was found, by which property, the
largest ratio reached against the weakened bound over the bound properties (``per_weight``,
``total``, ``loss``, ``noisy``; > 1 is a violation, 1/F where the bound is attained), the largest
per-weight ratio of the honest run (1 where a per-weight bound is attained), and the wall time of
each run (wall time of the search, without loading the ansatz; and the process CPU time of the
whole call, steadier on a shared machine).

Every row of ``results/weaken_grid.json`` carries a key made of its settings and a fingerprint
of the code that decides it (the sources of ``privqml.verify``, ``privqml.theory`` and the
command, and the Hypothesis version, which fixes the draws); the file is rewritten after each
configuration, and a rerun skips the rows whose key is there (a code change re-runs them).
Outputs: ``results/weaken_grid.json`` and ``results/weaken_grid.md`` (with the command). Exit
status 1 if a weakened run passed or an honest run failed.

    python -m benchmarks.weaken_grid [--factor 0.9] [--only reupload]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import hypothesis

from privqml import jsonio
from privqml.atomic import write_text_atomic
from privqml.cli.verify import run_verify

RESULTS = Path(__file__).resolve().parent / "results"
OUTPUT = RESULTS / "weaken_grid.json"
REPO_ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ("hea", "reupload", "native")
QUBITS = (2, 3, 4)
LAYERS = (1, 2)
OBSERVABLES = ("Z0", "Z0*Z1", "sumZ")
BOUND_PROPERTIES = ("per_weight", "total", "loss", "noisy")
SEED = 0
PROFILE = "ci"


@dataclasses.dataclass(frozen=True)
class Task:
    """One configuration of the grid, checked with its bound multiplied by ``factor``."""

    family: str
    qubits: int
    layers: int
    observable: str
    factor: float

    @property
    def label(self) -> str:
        return f"{self.family} {self.qubits}q{self.layers}l {self.observable}"

    def key(self, fingerprint: str) -> str:
        return (f"{self.family}:q={self.qubits},l={self.layers},obs={self.observable},factor={self.factor},"
                f"seed={SEED},profile={PROFILE},code={fingerprint}")


def tasks(factor: float, only: Optional[str] = None) -> list[Task]:
    """The grid in the order of :func:`benchmarks.tightness_grid.configurations`."""
    return [Task(f, q, l, o, factor) for f in FAMILIES if only in (None, f)
            for q in QUBITS for l in LAYERS for o in OBSERVABLES]


def code_fingerprint() -> str:
    """sha256 (first 16 hex digits) of every Python source of ``verify/`` and ``theory/``, of
    ``privqml/cli/verify.py`` and of the Hypothesis version."""
    digest = hashlib.sha256(hypothesis.__version__.encode())
    sources = [p for directory in ("verify", "theory") for p in sorted((REPO_ROOT / directory).rglob("*.py"))]
    for path in sources + [REPO_ROOT / "privqml" / "cli" / "verify.py"]:
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _bound_ratio(report) -> float:
    """The largest ratio over the bound properties (the failing example's ratio included)."""
    ratios = [p.max_ratio for p in report.properties if p.name in BOUND_PROPERTIES]
    if report.counterexample is not None and report.counterexample.property in BOUND_PROPERTIES:
        ratios.append(report.counterexample.ratio)
    return max(ratios, default=0.0)


def run_task(task: Task) -> dict:
    """Run the weakened and the honest check of one configuration (the command's code path)."""
    options = dict(seed=SEED, qubits=task.qubits, layers=task.layers, observable=task.observable, profile=PROFILE)
    cpu = time.process_time()
    weakened = run_verify(task.family, weaken=task.factor, **options)
    weakened_cpu, cpu = time.process_time() - cpu, time.process_time()
    honest = run_verify(task.family, **options)
    honest_cpu = time.process_time() - cpu
    counterexample = weakened.counterexample
    return {
        "family": task.family, "qubits": task.qubits, "layers": task.layers, "observable": task.observable,
        "factor": task.factor,
        "found": not weakened.passed,
        "failed_property": counterexample.property if counterexample else None,
        "failed_engine": counterexample.engine if counterexample else None,
        "weakened_ratio": _bound_ratio(weakened),
        "weakened_seconds": weakened.seconds,
        "weakened_cpu_seconds": weakened_cpu,
        "honest_passed": honest.passed,
        "honest_per_weight_ratio": honest.property("per_weight").max_ratio,
        "honest_bound_ratio": _bound_ratio(honest),
        "honest_seconds": honest.seconds,
        "honest_cpu_seconds": honest_cpu,
    }


def _stored_rows() -> dict[str, dict]:
    """The rows of the last output, by key."""
    if not OUTPUT.exists():
        return {}
    return {row["key"]: row for row in jsonio.loads(OUTPUT.read_text()).get("rows", []) if "key" in row}


def measure(grid: Sequence[Task], command: str, store: bool = True) -> list[dict]:
    """Every task's row; with ``store``, rows already in the output under the same key (settings and
    code fingerprint) are reused, and the output is rewritten after each new row."""
    fingerprint = code_fingerprint()
    stored = _stored_rows() if store else {}
    rows = []
    for i, task in enumerate(grid):
        key = task.key(fingerprint)
        if key not in stored:
            start = time.perf_counter()
            stored[key] = {"key": key, **jsonio.to_jsonable(run_task(task))}
            row = stored[key]
            print(f"[{i + 1}/{len(grid)}] {task.label}: found={row['found']} ratio={jsonio.number(row['weakened_ratio']):.4f} "
                  f"honest_passed={row['honest_passed']} ({time.perf_counter() - start:.1f} s)", flush=True)
            if store:
                done = rows + [row]
                write_text_atomic(OUTPUT, jsonio.dumps({"command": command, "rows": done, "summary": summarise(done)},
                                                       indent=1))
        rows.append(stored[key])
    return rows


def summarise(rows: Sequence[dict]) -> dict:
    weakened_seconds = [r["weakened_seconds"] for r in rows]
    honest_seconds = [r["honest_seconds"] for r in rows]
    return {
        "n_configurations": len(rows),
        "n_found": sum(bool(r["found"]) for r in rows),
        "n_honest_passed": sum(bool(r["honest_passed"]) for r in rows),
        "missed": [f"{r['family']} {r['qubits']}q{r['layers']}l {r['observable']}" for r in rows if not r["found"]],
        "honest_failed": [f"{r['family']} {r['qubits']}q{r['layers']}l {r['observable']}"
                          for r in rows if not r["honest_passed"]],
        "min_weakened_ratio": min((jsonio.number(r["weakened_ratio"]) for r in rows), default=0.0),
        "weakened_seconds_total": sum(weakened_seconds),
        "weakened_seconds_max": max(weakened_seconds, default=0.0),
        "honest_seconds_total": sum(honest_seconds),
        "weakened_cpu_seconds_total": sum(r["weakened_cpu_seconds"] for r in rows),
        "honest_cpu_seconds_total": sum(r["honest_cpu_seconds"] for r in rows),
    }


def render(rows: Sequence[dict], summary: dict, command: str, factor: float) -> str:
    lines = [
        f"# Mutation check over the built-in grid: bound × {factor:g}, `ci` profile",
        "",
        f"Command: `{command}`. Each configuration runs `privqml verify NAME --qubits Q --layers L "
        f"--observable O --weaken {factor:g}` (seed {SEED}, default engines, `ci` profile: "
        "6 examples per property) and the same without `--weaken`, through "
        "`privqml.cli.verify.run_verify`. *ratio vs weakened* is the largest observed / weakened bound "
        "over per_weight, total, loss and noisy (> 1 is a counterexample; "
        f"{1 / factor:.4f} where a bound is attained); *honest per-weight* is the largest "
        "|∂f/∂θ_j| / B_j of the honest run. Seconds: wall time of the search (without loading the ansatz) "
        "/ process CPU time of the whole call (all threads; the honest run reuses what the weakened one "
        "cached), on a shared 2-core machine.",
        "",
        "| family | qubits | layers | observable | counterexample | property | ratio vs weakened | "
        "honest passes | honest per-weight | seconds weakened (wall / CPU) | seconds honest (wall / CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['family']} | {r['qubits']} | {r['layers']} | {r['observable']} | {'yes' if r['found'] else 'NO'} | "
            f"{r['failed_property'] or '-'} | {jsonio.number(r['weakened_ratio']):.4f} | "
            f"{'yes' if r['honest_passed'] else 'NO'} | {jsonio.number(r['honest_per_weight_ratio']):.4f} | "
            f"{r['weakened_seconds']:.1f} / {r['weakened_cpu_seconds']:.1f} | "
            f"{r['honest_seconds']:.1f} / {r['honest_cpu_seconds']:.1f} |")
    lines += [
        "",
        f"Counterexample found in **{summary['n_found']} of {summary['n_configurations']}** configurations "
        f"(smallest ratio vs the weakened bound {summary['min_weakened_ratio']:.4f}); the honest bound passes in "
        f"**{summary['n_honest_passed']} of {summary['n_configurations']}**. Search time: "
        f"{summary['weakened_seconds_total']:.0f} s wall / {summary['weakened_cpu_seconds_total']:.0f} s CPU weakened "
        f"(longest search {summary['weakened_seconds_max']:.1f} s), {summary['honest_seconds_total']:.0f} s wall / "
        f"{summary['honest_cpu_seconds_total']:.0f} s CPU honest.",
    ]
    if summary["missed"]:
        lines.append(f"Missed: {', '.join(summary['missed'])}.")
    if summary["honest_failed"]:
        lines.append(f"Honest bound failed: {', '.join(summary['honest_failed'])}.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factor", type=float, default=0.9, help="the --weaken factor, in [0, 1)")
    parser.add_argument("--only", choices=FAMILIES, help="one family (results are then printed, not written)")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.weaken_grid" + (f" --factor {args.factor:g}" if args.factor != 0.9 else "") + (
        f" --only {args.only}" if args.only else "")
    full = args.only is None
    rows = measure(tasks(args.factor, args.only), command, store=full)
    summary = summarise(rows)
    text = render(rows, summary, command, args.factor)
    if full:
        write_text_atomic(OUTPUT, jsonio.dumps({"command": command, "rows": rows, "summary": summary}, indent=1))
        write_text_atomic(RESULTS / "weaken_grid.md", text)
    print(text)
    return 0 if not summary["missed"] and not summary["honest_failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
