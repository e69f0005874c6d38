r"""Tightness of the gradient bound over the built-in grid: bound / true max per refinement.

The grid: every built-in family (``hea``, ``reupload``, ``native``) × 2, 3, 4 qubits × 1, 2
layers × the observables Z0, Z0·Z1 and Σ_q Z_q — 54 configurations. For each:

- the *true maximum* sup_{θ, x} ‖∇_θ f‖₂, estimated by multi-start L-BFGS-B with exact adjoint
  Jacobians (:func:`privqml.theory.exact.tightness.max_gradient_norm`, ``--starts`` starts, 30 by
  default). It is a local optimum, hence a lower estimate of the supremum; cached per
  configuration and start count in ``results/tightness_truemax.json`` (it does not depend on
  the bound, so changing the bound re-uses it);
- the bound after each refinement, in the order the bound record lists them
  (``GradientBound.refinements``): the value after a refinement is the best bound with that
  refinement and every earlier one switched on.

A ratio below 1 would be a bound below a gradient the simulator found: the script then exits
with status 1 and names the configuration. Output: ``results/tightness_grid.json`` and
``results/tightness_grid.md`` (per-configuration table, geometric means per family and overall,
the worst ratio, the command) and ``results/tightness_grid.png`` (base and refined ratio per
configuration; the numbers drawn are kept under ``plotted`` in the JSON).

    python -m benchmarks.tightness_grid [--starts 30] [--only hea]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from privqml import jsonio
from privqml.atomic import write_text_atomic
from privqml.theory import builtin_ansatz, gradient_bound
from privqml.theory.exact.tightness import max_gradient_norm

RESULTS = Path(__file__).resolve().parent / "results"
FAMILIES = ("hea", "reupload", "native")
QUBITS = (2, 3, 4)
LAYERS = (1, 2)
OBSERVABLES = ("Z0", "Z0*Z1", "sumZ")
#: a bound / estimate ratio below this is a bound below a gradient found (float rounding allowed)
SOUND_TOLERANCE = 1.0 - 1e-9


def configurations(only: str | None = None) -> list[tuple[str, int, int, str]]:
    return [(f, q, l, o) for f in FAMILIES if only in (None, f) for q in QUBITS for l in LAYERS for o in OBSERVABLES]


def _key(config, starts: int) -> str:
    family, q, l, o = config
    return f"{family}:q={q},l={l},obs={o},starts={starts}"


def true_maxima(configs, starts: int) -> dict[str, float]:
    """The cached or newly estimated true maximum of every configuration (cache updated atomically)."""
    path = RESULTS / "tightness_truemax.json"
    cache = json.loads(path.read_text()) if path.exists() else {}
    for i, config in enumerate(configs):
        key = _key(config, starts)
        if key in cache:
            continue
        family, q, l, o = config
        ansatz = builtin_ansatz(family, n_qubits=q, n_layers=l, observable=o)
        t0 = time.perf_counter()
        estimate = max_gradient_norm(ansatz, n_starts=starts, seed=np.random.default_rng(1000 + i))
        cache[key] = estimate.true_max_estimate
        print(f"[{i + 1}/{len(configs)}] {key}: true max {estimate.true_max_estimate:.6f} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
        write_text_atomic(path, json.dumps(cache, indent=1, sort_keys=True))
    return {_key(c, starts): cache[_key(c, starts)] for c in configs}


def geomean(values) -> float:
    """The geometric mean of the finite positive values (NaN when there is none)."""
    values = [v for v in values if math.isfinite(v) and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


def measure(configs, starts: int) -> dict:
    maxima = true_maxima(configs, starts)
    rows = []
    for config in configs:
        family, q, l, o = config
        ansatz = builtin_ansatz(family, n_qubits=q, n_layers=l, observable=o)
        bound = gradient_bound(ansatz)
        stages = bound.refinement_totals(0)
        true_max = maxima[_key(config, starts)]
        rows.append({
            "family": family, "qubits": q, "layers": l, "observable": o, "true_max": true_max,
            "bound": bound.per_observable[0],
            "stages": {name: value for name, value in stages},
            "ratios": {name: (value / true_max if true_max > 0 else math.inf) for name, value in stages},
            "ratio": bound.per_observable[0] / true_max if true_max > 0 else math.inf,
        })
    stage_names = [name for name, _ in gradient_bound(builtin_ansatz("hea", n_qubits=2, n_layers=1)).refinement_totals(0)]
    summary = {
        "geomean_by_stage": {s: geomean(r["ratios"][s] for r in rows) for s in stage_names},
        "geomean_by_family": {f: geomean(r["ratio"] for r in rows if r["family"] == f) for f in FAMILIES},
        "geomean": geomean(r["ratio"] for r in rows),
        "worst": max(r["ratio"] for r in rows),
        "n_above_1_5": sum(r["ratio"] > 1.5 for r in rows),
        "n_below_1": sum(r["ratio"] < SOUND_TOLERANCE for r in rows),
        "n_configurations": len(rows),
        "starts": starts,
    }
    return {"rows": rows, "summary": summary, "stages": stage_names}


def render(result: dict, command: str) -> str:
    stages, summary = result["stages"], result["summary"]
    lines = [
        "# Bound / true max over the built-in grid",
        "",
        f"Command: `{command}`. True max: multi-start L-BFGS-B, {summary['starts']} starts per configuration "
        "(a lower estimate of the supremum). Each stage column is the bound / true max with that refinement "
        "and every one to its left switched on; the last column is the bound privqml reports.",
        "",
        "| family | qubits | layers | observable | true max | " + " | ".join(stages) + " |",
        "|---|---|---|---|---|" + "---|" * len(stages),
    ]
    for r in result["rows"]:
        lines.append(f"| {r['family']} | {r['qubits']} | {r['layers']} | {r['observable']} | {r['true_max']:.4f} | "
                     + " | ".join(f"{r['ratios'][s]:.3f}" for s in stages) + " |")
    lines += [
        "",
        "| geometric mean | " + " | ".join(f"{s}: {v:.3f}" for s, v in summary["geomean_by_stage"].items()) + " |",
        "|---|" + "---|" * len(stages),
        "",
        f"Final bound: geometric mean **{summary['geomean']:.3f}** "
        f"({', '.join(f'{f} {v:.3f}' for f, v in summary['geomean_by_family'].items())}), worst "
        f"**{summary['worst']:.3f}**, {summary['n_above_1_5']} of {summary['n_configurations']} above 1.5, "
        f"{summary['n_below_1']} below 1.",
    ]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> dict:
    """Bound / true max per configuration, base bound and final bound side by side, with the targets
    (geometric mean 1.15, worst 1.5); returns the numbers drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from privqml.atomic import save_figure_atomic

    rows = result["rows"]
    labels = [f"{r['family']} {r['qubits']}q{r['layers']}l {r['observable']}" for r in rows]
    base = [r["ratios"]["bernstein"] for r in rows]
    final = [r["ratio"] for r in rows]
    fig, ax = plt.subplots(figsize=(14, 4.5))
    positions = np.arange(len(rows))
    ax.bar(positions - 0.2, base, width=0.4, label="base (Bernstein)", color="#bbbbbb")
    ax.bar(positions + 0.2, final, width=0.4, label="refined (reported)", color="#1f77b4")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(1.5, color="#d62728", linestyle="--", linewidth=0.8, label="worst allowed 1.5")
    ax.axhline(result["summary"]["geomean"], color="#1f77b4", linestyle=":", linewidth=1.0,
               label=f"refined geometric mean {result['summary']['geomean']:.3f}")
    ax.set_xticks(positions, labels, rotation=90, fontsize=6)
    ax.set_ylabel("bound / true max")
    ax.set_title("Gradient bound / true maximum over the built-in grid")
    ax.legend(fontsize=7)
    save_figure_atomic(fig, path)
    return {"labels": labels, "base": base, "final": final, "geomean": result["summary"]["geomean"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--only", choices=FAMILIES)
    args = parser.parse_args(argv)
    command = "python -m benchmarks.tightness_grid" + (f" --starts {args.starts}" if args.starts != 30 else "") + (
        f" --only {args.only}" if args.only else "")
    result = measure(configurations(args.only), args.starts)
    result["command"] = command
    if args.only is None:
        write_text_atomic(RESULTS / "tightness_grid.json", jsonio.dumps(result, indent=1))
        write_text_atomic(RESULTS / "tightness_grid.md", render(result, command))
        result["plotted"] = plot(result, RESULTS / "tightness_grid.png")
        write_text_atomic(RESULTS / "tightness_grid.json", jsonio.dumps(result, indent=1))
    print(render(result, command))
    bad = [r for r in result["rows"] if r["ratio"] < SOUND_TOLERANCE]
    for r in bad:
        print(f"UNSOUND: {r['family']} q={r['qubits']} l={r['layers']} {r['observable']}: bound {r['bound']:.6f} "
              f"< true max {r['true_max']:.6f}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
