r"""Per-example value + gradient: TFQ adjoint (the DP fast path) vs the vectorised engine, side by side.

Command (from the repository root)::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m benchmarks.engine_speed [--qubits 4,8,12] [--batch 32,64] [--repeats 7] [--no-xla]

writes ``benchmarks/results/engine_speed.json`` and ``engine_speed.md`` and prints the Markdown table.

Workload: ``hea`` with n qubits and 2 layers (P = 4n weights, Z0 readout, ``bce_logits``), one fixed
batch of B examples (x uniform in [−π, π]^n, labels uniform), the model's weights. Every variant runs
the project's fast path :func:`privqml.models.privacy.dpsgd.per_example_gradients` (weights tiled to
[B, P], one gradient of Σ_i ℓ_i with respect to that tensor: per-example loss values and gradients);
only ``Model.outputs`` differs:

``tfq``           TFQ ``Expectation`` with the ``Adjoint`` differentiator (:class:`QuantumModel`);
``vectorised``    :class:`privqml.models.engines.VectorisedEngine` ``values`` (tensorcircuit-ng on
                  TensorFlow: vmap over rows, ``tf.function``);
``vectorised_xla`` the same compiled with XLA (``jit_compile=True``).

Per (n, B) the variants are timed in interleaved, rotated repetitions (:mod:`benchmarks.harness`);
ratios t_tfq / t_variant are formed per repetition and summarised as median (min–max). Before timing,
the per-example gradients of every variant are compared with TFQ's (max |Δ|), and the first call of
each variant (tracing, XLA compilation) is timed on its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from benchmarks import harness

RESULTS = harness.RESULTS_DIR / "engine_speed.json"
MODULE_COMMAND = "TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m benchmarks.engine_speed"


@dataclasses.dataclass(frozen=True)
class Task:
    """One cell: ``hea`` with ``n_qubits`` qubits and 2 layers, a batch of ``batch`` examples."""

    n_qubits: int
    batch: int
    n_layers: int = 2


def _engine_model(model, engine):
    """``model`` with ``outputs`` computed by ``engine`` (the same weights, loss and readout)."""
    from privqml.models.quantum import QuantumModel

    class EngineModel(QuantumModel):
        def outputs(self, weights, x):
            return engine.values(weights, x)

    out = EngineModel(model.ansatz, loss=model.loss, seed=0)
    out.weights.assign(model.weights)
    return out


def _variants(task: Task, xla: bool, seed: int):
    """(name → model, x, labels) for one task; the engines' models share the TFQ model's weights."""
    from privqml.models.engines.vectorised import VectorisedEngine
    from privqml.models.quantum import quantum_model

    model = quantum_model("hea", n_qubits=task.n_qubits, n_layers=task.n_layers, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, (task.batch, model.n_features)).astype(np.float32)
    labels = rng.integers(0, 2, task.batch)
    models = {"tfq": model, "vectorised": _engine_model(model, VectorisedEngine(model.ansatz))}
    if xla:
        models["vectorised_xla"] = _engine_model(model, VectorisedEngine(model.ansatz, jit_compile=True))
    return models, x, labels


def measure(task: Task, repeats: int, min_seconds: float, xla: bool = True, seed: int = 0) -> dict:
    """Timings, ratios and agreement of the variants on one task (see the module docstring)."""
    from privqml.models.privacy.dpsgd import per_example_gradients

    models, x, labels = _variants(task, xla, seed)
    first_call_s, grads = {}, {}
    for name, model in models.items():
        start = time.perf_counter()
        grads[name], _ = per_example_gradients(model, x, labels)
        first_call_s[name] = time.perf_counter() - start
    reference = grads["tfq"].astype(np.float64)
    runs = {name: (lambda model=model: per_example_gradients(model, x, labels)) for name, model in models.items()}
    timings = harness.interleaved(runs, repeats, warmup=1, min_seconds=min_seconds)
    engines = [name for name in models if name != "tfq"]
    return {
        "task": dataclasses.asdict(task),
        "n_weights": models["tfq"].n_weights,
        "first_call_s": first_call_s,
        "timings": {name: t.as_dict() for name, t in timings.items()},
        "speedup_over_tfq": {name: harness.ratio(timings, "tfq", name).as_dict() for name in engines},
        "cpu_speedup_over_tfq": {name: harness.ratio(timings, "tfq", name, "cpu").as_dict() for name in engines},
        "max_abs_grad_diff_vs_tfq": {name: float(np.max(np.abs(grads[name] - reference))) for name in engines},
        "max_abs_grad": float(np.max(np.abs(reference))),
    }


def markdown(result: dict) -> str:
    def stat(s: dict, unit: float = 1.0) -> str:
        return f"{s['median'] * unit:.3g} ({s['min'] * unit:.3g}–{s['max'] * unit:.3g})"

    lines = [
        f"Command: `{result['command']}`",
        "",
        f"{harness.machine_line(result['machine'])}, tensorcircuit-ng {result['tensorcircuit_ng']}; "
        f"load average {result['machine']['load_average_1_5_15']} at start, {result['load_average_at_end']} at "
        f"end (a shared machine: read the ratios, not the absolute times); {result['repeats']} interleaved "
        "repetitions; median (min–max). Per call: per-example loss values and gradients of a batch "
        "(dpsgd.per_example_gradients), hea n×2, Z0, bce_logits.",
        "",
        "| n | B | P | engine | ms per batch | speed-up over TFQ (wall) | (CPU) | first call s | max abs Δ grad vs TFQ |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in result["cells"]:
        task = cell["task"]
        for name, timing in cell["timings"].items():
            speedup = cpu = diff = "—"
            if name != "tfq":
                speedup = stat(cell["speedup_over_tfq"][name])
                cpu = stat(cell["cpu_speedup_over_tfq"][name])
                diff = f"{cell['max_abs_grad_diff_vs_tfq'][name]:.1e}"
            lines.append(
                f"| {task['n_qubits']} | {task['batch']} | {cell['n_weights']} | {name} | "
                f"{stat(timing['wall_s'], 1e3)} | {speedup} | {cpu} | {cell['first_call_s'][name]:.2g} | {diff} |"
            )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", default="4,8,12", help="comma-separated qubit counts")
    parser.add_argument("--batch", default="32,64", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-seconds", type=float, default=0.2, help="minimum duration of one measurement")
    parser.add_argument("--no-xla", action="store_true", help="skip the XLA-compiled variant")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import tensorcircuit as tc  # heavy (imports TensorFlow): loaded when the benchmark runs

    machine = harness.machine_info()
    tasks = [Task(int(n), int(b)) for n in args.qubits.split(",") for b in args.batch.split(",")]
    cells = [measure(task, args.repeats, args.min_seconds, xla=not args.no_xla) for task in tasks]
    flags = [f"--qubits {args.qubits}", f"--batch {args.batch}", f"--repeats {args.repeats}",
             f"--min-seconds {args.min_seconds:g}"] + (["--no-xla"] if args.no_xla else [])
    result = {
        "command": " ".join([MODULE_COMMAND, *flags]),
        "measured_at": harness.now_iso(),
        "machine": machine,
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        "tensorcircuit_ng": tc.__version__,
        "repeats": args.repeats,
        "cells": cells,
    }
    harness.atomic_write_json(args.out, result)
    text = markdown(result)
    harness.atomic_write_text(args.out.with_suffix(".md"), text + "\n")
    print(text)


if __name__ == "__main__":
    main()
