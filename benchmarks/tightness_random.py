r"""Tightness of the gradient bound on circuits that are not the built-ins: bound / true max per category.

A seeded generator (:func:`circuit`) draws 2–3-qubit circuits aimed at each refinement's assumptions,
one category at a time:

``shared``      weights re-used across gates, with coefficients of both signs (the directional form);
``prefix``      long single-qubit runs before and between the entangling gates (prefix, suffix, blocks);
``terms``       observables with several, overlapping Pauli terms and unequal coefficients (terms, commutation);
``native``      FSim, XX/YY/ZZ powers, PhasedXZ and PhasedISwap gates with weight exponents (spectra);
``encodings``   affine (a·x + b) and nonlinear (x², x·x') input encodings (the sup over the public domain);
``multiclass``  two or three observables read out at once (the bound of every output);
``noisy``       circuits of every kind above with channels — depolarising, amplitude and phase damping, bit and
                phase flip — inserted at random places, not only after every moment (the noise refinement);

and every circuit is also taken through a loss (``bce_logits``, ``mse``, ``hinge`` for one output,
``softmax_ce`` for several): ``through the loss`` reports G*(ℓ) / sup ‖∇ℓ‖.

The *true maximum* sup_{θ, x(, y)} is estimated by multi-start L-BFGS-B with exact adjoint Jacobians
(density matrices for the noisy circuits; :func:`privqml.theory.exact.tightness.max_gradient_norm`): a local
optimum, so a lower estimate of the supremum, and the ratios are upper estimates of the looseness. A ratio
below 1 is a bound below a gradient the optimiser found: the script exits with status 1 and names it.

Circuits 0..n−1 of each category are the *benchmark*; ``--held-out`` draws n more from seeds the benchmark
never used (a separate row of the summary). Estimates are cached per circuit and start count in
``results/tightness_random_truemax.json`` (they do not depend on the bound). Output:
``results/tightness_random.{json,md,png}`` (per category and overall: geometric mean and worst ratio, beside
the built-in grid's; the numbers drawn under ``plotted``).

    python -m benchmarks.tightness_random [--per-category 10] [--starts 12] [--held-out]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import cirq
import numpy as np
import sympy

from benchmarks.tightness_grid import geomean
from privqml import jsonio
from privqml.api import as_ansatz
from privqml.atomic import write_text_atomic
from privqml.theory import gradient_bound
from privqml.theory.exact.tightness import max_gradient_norm
from privqml.theory.loss import loss_gradient_bound

RESULTS = Path(__file__).resolve().parent / "results"
CATEGORIES = ("shared", "prefix", "terms", "native", "encodings", "multiclass", "noisy")
#: a ratio below this is a bound below a gradient found (float rounding allowed)
SOUND_TOLERANCE = 1.0 - 1e-9
#: the seeds of held-out circuits start here (the benchmark uses 0..n−1 of each category)
HELD_OUT_OFFSET = 10_000
#: weak to strong (device-like to badly decohered): a strong channel where the bound ignores it is what makes
#: a noisy bound loose by orders of magnitude
CHANNELS = (lambda r: cirq.depolarize(float(r.uniform(0.01, 0.5))),
            lambda r: cirq.amplitude_damp(float(r.uniform(0.02, 0.9))),
            lambda r: cirq.phase_damp(float(r.uniform(0.02, 0.9))),
            lambda r: cirq.bit_flip(float(r.uniform(0.01, 0.4))),
            lambda r: cirq.phase_flip(float(r.uniform(0.01, 0.4))),
            lambda r: cirq.asymmetric_depolarize(*map(float, r.uniform(0.0, 0.15, 3))))
#: below this a gradient norm is zero (a circuit whose outputs do not depend on the weights)
ZERO = 1e-12


class _Draw:
    """One circuit's draw: qubits, weight symbols (some re-used), input symbols."""

    def __init__(self, rng: np.random.Generator, n_qubits: int, n_inputs: int) -> None:
        self.rng = rng
        self.qubits = cirq.LineQubit.range(n_qubits)
        self.inputs = sympy.symbols(f"x0:{n_inputs}")
        self.weights: list[sympy.Symbol] = []

    def weight(self, reuse: float = 0.0):
        if self.weights and self.rng.random() < reuse:
            w = self.weights[int(self.rng.integers(len(self.weights)))]
            return float(self.rng.choice([-1.0, 1.0, 0.5, -2.0])) * w
        w = sympy.Symbol(f"w{len(self.weights)}")
        self.weights.append(w)
        return w

    def qubit(self):
        return self.qubits[int(self.rng.integers(len(self.qubits)))]

    def pair(self):
        a, b = self.rng.choice(len(self.qubits), size=2, replace=False)
        return self.qubits[int(a)], self.qubits[int(b)]

    def rotation(self, reuse: float = 0.0):
        gate = (cirq.rx, cirq.ry, cirq.rz)[int(self.rng.integers(3))]
        return gate(self.weight(reuse)).on(self.qubit())

    def entangler(self):
        gate = (cirq.CNOT, cirq.CZ)[int(self.rng.integers(2))]
        return gate(*self.pair())

    def native(self):
        kind = int(self.rng.integers(5))
        a, b = self.pair()
        if kind == 0:
            return cirq.FSimGate(self.weight(), self.weight()).on(a, b)
        if kind == 1:
            return (cirq.XX ** self.weight()).on(a, b)
        if kind == 2:
            return (cirq.ZZ ** self.weight()).on(a, b)
        if kind == 3:
            return cirq.PhasedXZGate(x_exponent=self.weight(), z_exponent=self.weight(),
                                     axis_phase_exponent=self.weight()).on(a)
        return cirq.PhasedISwapPowGate(phase_exponent=0.25, exponent=self.weight()).on(a, b)

    def encoding(self, nonlinear: bool = False):
        ops = []
        for i, x in enumerate(self.inputs):
            q = self.qubits[i % len(self.qubits)]
            gate = (cirq.rx, cirq.ry)[int(self.rng.integers(2))]
            if nonlinear:
                angle = [x ** 2, x * self.inputs[(i + 1) % len(self.inputs)], 0.5 * x + 0.3][int(self.rng.integers(3))]
            else:
                angle = x
            ops.append(gate(angle).on(q))
        return ops


def _pauli_sum(rng: np.random.Generator, qubits, n_terms: int) -> cirq.PauliSum:
    out = cirq.PauliSum()
    for _ in range(n_terms):
        support = rng.choice(len(qubits), size=int(rng.integers(1, 3)), replace=False)
        paulis = {qubits[int(i)]: (cirq.X, cirq.Y, cirq.Z)[int(rng.integers(3))] for i in support}
        out += float(np.round(rng.uniform(0.3, 1.5), 2)) * cirq.PauliString(paulis)
    return out


def circuit(category: str, seed: int):
    """The ``seed``-th circuit of ``category`` as an :class:`~privqml.theory.Ansatz` (module docstring)."""
    rng = np.random.default_rng([CATEGORIES.index(category), seed])
    base = category if category != "noisy" else CATEGORIES[int(rng.integers(len(CATEGORIES) - 1))]
    d = _Draw(rng, int(rng.integers(2, 4)), int(rng.integers(1, 3)))
    ops = list(d.encoding(nonlinear=base == "encodings"))
    layers = int(rng.integers(2, 4))
    for _ in range(layers):
        if base == "prefix":
            ops += [d.rotation() for _ in range(int(rng.integers(2, 5)))]
        elif base == "native":
            ops += [d.native() for _ in range(2)]
        else:
            ops += [d.rotation(reuse=0.5 if base == "shared" else 0.0) for _ in range(len(d.qubits))]
        ops.append(d.entangler())
    ops += [d.rotation() for _ in range(int(rng.integers(1, 3)))]
    if category == "noisy":  # channels at random places, on random qubits
        for _ in range(int(rng.integers(2, 6))):
            position = int(rng.integers(len(d.inputs), len(ops) + 1))
            ops.insert(position, CHANNELS[int(rng.integers(len(CHANNELS)))](rng).on(d.qubit()))
    if base == "terms":
        observables = [_pauli_sum(rng, d.qubits, int(rng.integers(2, 4)))]
    elif base == "multiclass":
        observables = [cirq.Z(q) for q in d.qubits[: int(rng.integers(2, len(d.qubits) + 1))]]
    else:
        observables = [cirq.Z(d.qubits[0]) if rng.random() < 0.6 else cirq.Z(d.qubits[0]) * cirq.Z(d.qubits[1])]
    c = cirq.Circuit(ops)
    return as_ansatz(c, inputs=[x.name for x in d.inputs], weights=[w.name for w in d.weights],
                     observable=observables, name=f"{category}#{seed}")


def loss_of(ansatz) -> str:
    """The loss a circuit is taken through: softmax_ce for several outputs, else one of three by its seed."""
    if ansatz.n_outputs > 1:
        return "softmax_ce"
    return ("bce_logits", "mse", "hinge")[sum(map(ord, ansatz.name)) % 3]


def _cache_path() -> Path:
    return RESULTS / "tightness_random_truemax.json"


def measure(per_category: int, starts: int, held_out: bool) -> dict:
    """Bound and true maximum (of the circuit and through its loss) of every circuit; cache updated atomically."""
    path = _cache_path()
    cache = json.loads(path.read_text()) if path.exists() else {}
    rows = []
    seeds = [(s, False) for s in range(per_category)]
    if held_out:
        seeds += [(HELD_OUT_OFFSET + s, True) for s in range(per_category)]
    total = len(CATEGORIES) * len(seeds)
    for category in CATEGORIES:
        for seed, is_held_out in seeds:
            ansatz = circuit(category, seed)
            loss = loss_of(ansatz)
            bound = gradient_bound(ansatz)
            through = loss_gradient_bound(ansatz, loss, bound=bound)
            key = f"{category}#{seed}:starts={starts}"
            t0 = time.perf_counter()
            if key not in cache:
                circuit_max = max(max_gradient_norm(ansatz, observable=c, n_starts=starts, seed=seed).true_max_estimate
                                  for c in range(ansatz.n_outputs))
                loss_max = max_gradient_norm(ansatz, n_starts=starts, seed=seed, loss=loss).true_max_estimate
                cache[key] = {"circuit": circuit_max, "loss": loss_max}
                write_text_atomic(path, json.dumps(cache, indent=1, sort_keys=True))
            truth = cache[key]
            row = {"category": category, "seed": seed, "held_out": is_held_out, "qubits": ansatz.n_qubits,
                   "weights": ansatz.n_weights, "outputs": ansatz.n_outputs, "loss": loss,
                   "bound": bound.grad_norm_bound, "true_max": truth["circuit"],
                   "ratio": ratio(bound.grad_norm_bound, truth["circuit"]),
                   "loss_bound": through.value if through.value is not None else math.inf, "loss_true_max": truth["loss"]}
            row["loss_ratio"] = ratio(row["loss_bound"], truth["loss"])
            rows.append(row)
            print(f"[{len(rows)}/{total}] {category}#{seed}: bound/true {row['ratio']:.3f}, through {loss} "
                  f"{row['loss_ratio']:.3f} ({time.perf_counter() - t0:.1f} s)", flush=True)
    return {"rows": rows, "summary": summarise(rows), "starts": starts, "per_category": per_category}


def ratio(bound: float, truth: float) -> float:
    """bound / true max; 1 when both are zero (a circuit whose outputs do not depend on the weights)."""
    if truth <= ZERO:
        return 1.0 if bound <= ZERO else math.inf
    return bound / truth


def summarise(rows: list[dict]) -> dict:
    """Geometric mean and worst ratio per category (benchmark and held-out apart), noiseless / noisy / loss."""
    def stats(picked, field):
        values = [r[field] for r in picked]
        return {"geomean": geomean(values), "worst": max(values) if values else math.nan, "n": len(values),
                "n_below_1": sum(v < SOUND_TOLERANCE for v in values)}  # ratio() is 1 for an exact zero

    out = {}
    for part, held in (("benchmark", False), ("held_out", True)):
        picked = [r for r in rows if r["held_out"] == held]
        if not picked:
            continue
        out[part] = {
            "by_category": {c: stats([r for r in picked if r["category"] == c], "ratio") for c in CATEGORIES},
            "noiseless": stats([r for r in picked if r["category"] != "noisy"], "ratio"),
            "noisy": stats([r for r in picked if r["category"] == "noisy"], "ratio"),
            "through_the_loss": stats(picked, "loss_ratio"),
        }
    return out


def _grid_reference() -> dict | None:
    path = RESULTS / "tightness_grid.json"
    if not path.exists():
        return None
    summary = jsonio.loads(path.read_text())["summary"]
    return {"geomean": summary["geomean"], "worst": summary["worst"], "n": summary["n_configurations"]}


def render(result: dict, command: str) -> str:
    lines = ["# Gradient bound / true maximum on random circuits, per category", "",
             f"Command: `{command}` ({result['starts']} L-BFGS-B starts per maximum; {result['per_category']} "
             "circuits per category). The true maximum is a multi-start local optimum — a lower estimate — so "
             "each ratio is an upper estimate of the looseness.", ""]
    grid = result.get("grid")
    for part, summary in result["summary"].items():
        lines += [f"## {part.replace('_', ' ')}", "", "| set | circuits | geometric mean | worst | below 1 |",
                  "|---|---|---|---|---|"]
        if grid and part == "benchmark":
            lines.append(f"| the built-in grid (benchmarks/tightness_grid.md) | {grid['n']} | {grid['geomean']:.3f} "
                         f"| {grid['worst']:.3f} | 0 |")
        for name, s in [*((f"category `{c}`", v) for c, v in summary["by_category"].items()),
                        ("all noiseless", summary["noiseless"]), ("all noisy", summary["noisy"]),
                        ("through the loss (all)", summary["through_the_loss"])]:
            lines.append(f"| {name} | {s['n']} | {s['geomean']:.3f} | {s['worst']:.3f} | {s['n_below_1']} |")
        lines.append("")
    lines += ["## Per circuit", "", "| circuit | held out | qubits | weights | outputs | bound | true max | ratio "
              "| loss | G*(ℓ) | true max ℓ | ratio ℓ |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['category']}#{r['seed']} | {'yes' if r['held_out'] else ''} | {r['qubits']} | {r['weights']} "
                     f"| {r['outputs']} | {r['bound']:.4f} | {r['true_max']:.4f} | {r['ratio']:.3f} | {r['loss']} "
                     f"| {r['loss_bound']:.4f} | {r['loss_true_max']:.4f} | {r['loss_ratio']:.3f} |")
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> dict:
    """Per category: the ratio of every benchmark circuit (dots) and the geometric mean (bar), circuit and loss;
    returns the numbers drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from privqml.atomic import save_figure_atomic

    rows = [r for r in result["rows"] if not r["held_out"]]
    summary = result["summary"]["benchmark"]["by_category"]
    means = [summary[c]["geomean"] for c in CATEGORIES]
    loss_means = [geomean(r["loss_ratio"] for r in rows if r["category"] == c) for c in CATEGORIES]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    positions = np.arange(len(CATEGORIES))
    ax.bar(positions - 0.2, means, width=0.4, color="#1f77b4", alpha=0.6, label="circuit: geometric mean")
    ax.bar(positions + 0.2, loss_means, width=0.4, color="#ff7f0e", alpha=0.6, label="through the loss: geometric mean")
    for i, c in enumerate(CATEGORIES):
        ax.scatter(np.full(sum(r["category"] == c for r in rows), i - 0.2),
                   [r["ratio"] for r in rows if r["category"] == c], s=8, color="#1f77b4")
        ax.scatter(np.full(sum(r["category"] == c for r in rows), i + 0.2),
                   [r["loss_ratio"] for r in rows if r["category"] == c], s=8, color="#ff7f0e")
    ax.axhline(1.0, color="black", linewidth=0.8)
    grid = result.get("grid")
    if grid:
        ax.axhline(grid["geomean"], color="#2ca02c", linestyle=":", label=f"built-in grid: {grid['geomean']:.3f}")
    ax.set_yscale("log")
    ax.set_xticks(positions, CATEGORIES)
    ax.set_ylabel("bound / true max (log)")
    ax.set_title("Gradient bound / true maximum on random circuits")
    ax.legend(fontsize=7)
    save_figure_atomic(fig, path)
    return {"categories": list(CATEGORIES), "circuit_geomean": means, "loss_geomean": loss_means}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-category", type=int, default=10)
    parser.add_argument("--starts", type=int, default=12)
    parser.add_argument("--held-out", action="store_true", help="also n circuits per category from unused seeds")
    args = parser.parse_args(argv)
    command = (f"python -m benchmarks.tightness_random --per-category {args.per_category} --starts {args.starts}"
               + (" --held-out" if args.held_out else ""))
    result = measure(args.per_category, args.starts, args.held_out)
    result["command"] = command
    result["grid"] = _grid_reference()
    result["plotted"] = plot(result, RESULTS / "tightness_random.png")
    write_text_atomic(RESULTS / "tightness_random.json", jsonio.dumps(result, indent=1))
    write_text_atomic(RESULTS / "tightness_random.md", render(result, command))
    print(render(result, command).split("## Per circuit")[0])
    bad = [r for r in result["rows"] if r["bound"] < r["true_max"] * SOUND_TOLERANCE - ZERO
           or r["loss_bound"] < r["loss_true_max"] * SOUND_TOLERANCE - ZERO]
    for r in bad:
        print(f"UNSOUND: {r['category']}#{r['seed']}: bound {r['bound']:.6f} vs true max {r['true_max']:.6f}; "
              f"through {r['loss']} {r['loss_bound']:.6f} vs {r['loss_true_max']:.6f}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
