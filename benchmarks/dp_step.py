r"""Per-step time of the fast DP path vs TF Privacy's stock path vs the non-private step, 8 qubits.

Command (from the repository root)::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m benchmarks.dp_step [--qubits 8] [--batch 32] [--repeats 7]

writes ``benchmarks/results/dp_step.json`` and ``dp_step.md`` and prints the Markdown table
(wall-clock and process-CPU time; CPU time is the steadier figure on a shared machine). The full grid (4/8/12
qubits, two families, classical baselines, prototypes) is :mod:`benchmarks.dp_steps`
(``make bench``); this script is the one side-by-side measurement the models issue asks for.

Model: ``hea:n_qubits=8`` (2 layers, 32 weights, Z0, bce_logits); one fixed batch of B examples
(x uniform in [−π, π]^8, labels uniform); C = 1, σ = 1. Variants, all on the same model and batch:

``fast``        :func:`privqml.models.privacy.dpsgd.dp_step` ``path="fast"``: tiled weights → one batched
                TFQ adjoint pass → per-example gradients, TF Privacy Gaussian sum query;
``stock``       ``dp_step(path="stock")``: TF Privacy ``DPKerasSGDOptimizer``, one microbatch per
                example (Jacobian of the per-example losses);
``nonprivate``  :func:`~privqml.models.privacy.dpsgd.nonprivate_step`: one ordinary batch gradient.

Each repetition runs the three variants back to back (interleaved, same process), so ratios are
formed per repetition on a shared, noisy machine; medians and (min–max) are reported. Before
timing, the σ = 0 clipped sums of ``fast`` and ``stock`` are compared (same computation).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "dp_step.json"
COMMAND = "TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m benchmarks.dp_step --repeats 9"


def measure(qubits: int = 8, batch: int = 32, repeats: int = 7, min_seconds: float = 0.3, seed: int = 0) -> dict:
    from privqml.models.privacy.dpsgd import dp_step, nonprivate_step
    from privqml.models.zoo import build_model

    model = build_model(f"hea:n_qubits={qubits}", seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, (batch, model.n_features)).astype(np.float32)
    y = rng.integers(0, 2, batch)
    q = batch / 1000.0
    fast0 = dp_step(model, x, y, 1.0, 0.0, batch, q, "fast").noised_sum
    stock0 = dp_step(model, x, y, 1.0, 0.0, batch, q, "stock").noised_sum
    variants = {
        "fast": lambda: dp_step(model, x, y, 1.0, 1.0, batch, q, "fast"),
        "stock": lambda: dp_step(model, x, y, 1.0, 1.0, batch, q, "stock"),
        "nonprivate": lambda: nonprivate_step(model, x, y),
    }
    for run in variants.values():  # trace and warm up
        run()
    times = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            n, start, start_cpu = 0, time.perf_counter(), time.process_time()
            while True:
                run()
                n += 1
                elapsed = time.perf_counter() - start
                if elapsed >= min_seconds or name == "stock":
                    break
            times[name].append(1e3 * elapsed / n)
            cpu[name].append(1e3 * (time.process_time() - start_cpu) / n)
    arr = {k: np.array(v) for k, v in times.items()}
    arr_cpu = {k: np.array(v) for k, v in cpu.items()}

    def stat(values):
        return {"median": float(np.median(values)), "min": float(values.min()), "max": float(values.max())}

    return {
        "model": model.name,
        "n_weights": model.n_weights,
        "batch": batch,
        "repeats": repeats,
        "ms_per_step": {k: stat(v) for k, v in arr.items()},
        "ratio_fast_over_nonprivate": stat(arr["fast"] / arr["nonprivate"]),
        "ratio_stock_over_fast": stat(arr["stock"] / arr["fast"]),
        "ratio_stock_over_nonprivate": stat(arr["stock"] / arr["nonprivate"]),
        "cpu_ms_per_step": {k: stat(v) for k, v in arr_cpu.items()},
        "cpu_ratio_fast_over_nonprivate": stat(arr_cpu["fast"] / arr_cpu["nonprivate"]),
        "cpu_ratio_stock_over_fast": stat(arr_cpu["stock"] / arr_cpu["fast"]),
        "sigma0_max_abs_diff_fast_vs_stock": float(np.max(np.abs(fast0.astype(np.float64) - stock0))),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()),
            "python": platform.python_version(),
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def markdown(result: dict) -> str:
    f = lambda s: f"{s['median']:.3g} ({s['min']:.3g}–{s['max']:.3g})"  # noqa: E731
    lines = [
        f"{result['model']}, P = {result['n_weights']}, B = {result['batch']}, {result['repeats']} interleaved "
        f"repetitions, load average at end {result['machine']['load_average_at_end'][0]:.1f} on "
        f"{result['machine']['cpus']} CPUs; median (min–max) per step",
        "",
        "| clock | fast ms | stock ms | non-private ms | fast / non-private | stock / fast | |Δ| at σ=0 |",
        "|---|---|---|---|---|---|---|",
    ]
    for clock, ms, fn, sf in (
        ("wall", result["ms_per_step"], result["ratio_fast_over_nonprivate"], result["ratio_stock_over_fast"]),
        ("process CPU", result["cpu_ms_per_step"], result["cpu_ratio_fast_over_nonprivate"], result["cpu_ratio_stock_over_fast"]),
    ):
        lines.append(
            f"| {clock} | {f(ms['fast'])} | {f(ms['stock'])} | {f(ms['nonprivate'])} | {f(fn)} | {f(sf)} "
            f"| {result['sigma0_max_abs_diff_fast_vs_stock']:.1e} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    result = measure(args.qubits, args.batch, args.repeats)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    os.replace(tmp, RESULTS)
    text = markdown(result)
    tmp_md = RESULTS.with_suffix(".md.tmp")
    tmp_md.write_text(f"Command: `{COMMAND}`\n\n{text}\n")
    os.replace(tmp_md, RESULTS.with_suffix(".md"))
    print(text)


if __name__ == "__main__":
    main()
