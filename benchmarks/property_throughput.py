r"""Benchmark 4 — Hypothesis property-test throughput (examples per second) per gradient engine.

Workload: ``privqml.verify.runner.verify_ansatz`` on the built-in ``hea(n_qubits=3, n_layers=2,
observable=Z0)`` (small enough for every engine, the SymPy oracle included), with one engine
selected at a time and the properties that engine can check alone:

==============================  =============================================
engine                          properties
==============================  =============================================
adjoint, pshift, fd,            per_weight, total, zero, loss
numeric, oracle (exact)
shots                           shots (estimator bound at a drawn shot count)
noisy                           noisy (trajectory estimates, estimator bound)
all                             every property with the default engines
                                (what ``privqml verify hea`` runs)
==============================  =============================================

``examples`` Hypothesis examples per property, profile ``ci`` (its shot and trajectory
counts), ``seed=0``: every repetition draws the same examples, so the repetitions time the same
work. One repetition runs every engine once, in rotated order (interleaved). The rate is
(examples run, summed over the properties) / (wall seconds of the whole ``verify_ansatz`` call,
its pre-flight included). A warm-up call per engine loads TensorFlow and traces first.
"""

from __future__ import annotations

import sys
import time

from benchmarks import harness

TITLE = "Property-test throughput per engine (Hypothesis examples per second)"
DEFAULT_REPEATS = 3
EXAMPLES = 20
QUICK_EXAMPLES = 4
EXACT_PROPERTIES = ("per_weight", "total", "zero", "loss")
WORKLOADS = {
    "adjoint": (("adjoint",), EXACT_PROPERTIES),
    "pshift": (("pshift",), EXACT_PROPERTIES),
    "fd": (("fd",), EXACT_PROPERTIES),
    "numeric": (("numeric",), EXACT_PROPERTIES),
    "oracle": (("oracle",), EXACT_PROPERTIES),
    "shots": (("shots",), ("shots",)),
    "noisy": (("noisy",), ("noisy",)),
    "all": (None, None),
}


def run(options) -> dict:
    try:
        from privqml.verify import runner
        from privqml.verify.engines import ENGINE_NAMES
    except ImportError as exc:
        return {"title": TITLE, "status": "unavailable", "reason": f"privqml.verify is not ready: {exc}", "targets": []}
    from privqml.theory import hea

    repeats = options.repeats or DEFAULT_REPEATS
    examples = QUICK_EXAMPLES if options.quick else EXAMPLES
    ansatz = hea(n_qubits=3, n_layers=2, observable="Z0")
    reports: dict[str, object] = {}
    variants = {}
    for name, (engines, properties) in WORKLOADS.items():
        if engines is not None and not set(engines) <= set(ENGINE_NAMES):
            continue
        kwargs = {"examples": examples, "seed": 0, "profile": "ci"}
        if engines is not None:
            kwargs.update(engines=engines, properties=properties)

        def call(name=name, kwargs=kwargs):
            reports[name] = runner.verify_ansatz(ansatz, **kwargs)

        variants[name] = call
    started = time.perf_counter()
    timings = harness.interleaved(variants, repeats, warmup=1)
    rows = []
    for name, timing in timings.items():
        report = reports[name]
        n = sum(p.examples for p in report.properties)
        wall = timing.wall
        rate = harness.Stat.of([n / v for v in wall.values])
        rows.append({
            "engine": name,
            "engines": list(report.engines),
            "properties": {p.name: p.examples for p in report.properties if not p.skipped},
            "examples": n,
            "passed": report.passed,
            "timings": timing.as_dict(),
            "examples_per_s": rate.as_dict(),
        })
        print(f"[property] {name}: {n} examples, {rate.median:.2f} examples/s", file=sys.stderr, flush=True)
    return {
        "title": TITLE,
        "status": "ok",
        "ansatz": ansatz.name,
        "examples_per_property": examples,
        "repeats": repeats,
        "rows": rows,
        "elapsed_s": time.perf_counter() - started,
        "targets": [],
    }


def markdown(section: dict) -> str:
    lines = [
        f"`verify_ansatz({section.get('ansatz')})`, {section.get('examples_per_property')} examples per property, "
        f"profile ci, seed 0; {section.get('repeats')} interleaved repetitions; median (min–max).",
        "",
        "| engine | properties (examples) | examples/s | seconds per call | all passed |",
        "|---|---|---|---|---|",
    ]
    for r in section.get("rows", []):
        rate, wall = r["examples_per_s"], r["timings"]["wall_s"]
        props = ", ".join(f"{k} ({v})" for k, v in r["properties"].items())
        lines.append(
            f"| {r['engine']} | {props} | {rate['median']:.3g} ({rate['min']:.3g}–{rate['max']:.3g}) | "
            f"{wall['median']:.3g} ({wall['min']:.3g}–{wall['max']:.3g}) | {'yes' if r['passed'] else 'NO'} |"
        )
    return "\n".join(lines)


def plot(section: dict, out_dir) -> list[str]:
    return []
