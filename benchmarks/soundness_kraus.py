r"""Soundness of the noise factor for general single-qubit channels: bound / true maximum on noisy circuits.

Two seeded families of circuits (:func:`circuit`):

``random``  2–3 qubits: input encodings, rx/ry/rz rotations (some weights shared), CNOT/CZ entanglers, and 1–4
            random single-qubit channels at random places — Kraus operators from a random Stinespring isometry
            (1–4 operators) most of the time, else amplitude damping, generalised amplitude damping, reset,
            thermal relaxation, an asymmetric Pauli channel, or amplitude damping with a coherent
            over-rotation folded in — each with a small fixed rotation beside it half of the time;
``device``  what a Google-device noise model inserts (``cirq_google``'s noise properties build on
            ``cirq.devices.ThermalNoiseModel`` and depolarising errors): layers of PhasedXZ gates with weight
            exponents and fixed FSim (√iSWAP-like) or CZ entanglers, each followed by a small coherent
            over-rotation as a fixed gate (FSim(δθ, δφ) after a two-qubit gate, PhasedXZ with small exponents
            after single-qubit ones), depolarising channels after the gates (one- and two-qubit), and a
            thermal-relaxation Kraus channel on every qubit after every moment (T1, Tφ and the gate lengths of
            a Sycamore-class device, the error rates scaled by a factor drawn log-uniformly in [1, 30]).

For each circuit, the bound of :func:`privqml.theory.gradient_bound` with the general noise factor
(:mod:`privqml.theory.refinements.noise`) and with the rule it replaced (``noise_factors(general=False)``:
Pauli-structured channels right after a slot, depolarising ones further on, factor 1 for every other
channel) — the *baseline* — are set against the *true maximum* sup_{θ, x} ‖∇_θ f‖, estimated by multi-start
L-BFGS-B with exact density-matrix Jacobians (:func:`privqml.theory.exact.tightness.max_gradient_norm`). The
estimate is a local optimum, a lower estimate of the supremum: a ratio below 1 is a bound below a gradient
the optimiser reached, a privacy bug — the script then exits with status 1 and names the circuit.

Channels are given to the circuits as :class:`KrausGate` (Kraus operators, hashable by value) rather than
``cirq.KrausChannel``: the readout refinement keeps operations in a set, and ``cirq.KrausChannel`` cannot be
hashed. True maxima are cached inside ``results/soundness_kraus.json`` by circuit fingerprint and start count,
so a rerun only simulates what changed. Output: ``results/soundness_kraus.{json,md,png}``.

    python -m benchmarks.soundness_kraus [--random 200] [--device 40] [--starts 6]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import functools
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
from privqml.theory import derivation, gradient_bound
from privqml.theory.exact.tightness import max_gradient_norm
from privqml.theory.noise import KrausGate
from privqml.theory.refinements import stages
from privqml.theory.refinements.noise import noise_factors

RESULTS = Path(__file__).resolve().parent / "results"
CATEGORIES = ("random", "device")
#: a ratio below this is a bound below a gradient found (float rounding allowed)
SOUND_TOLERANCE = 1.0 - 1e-9
#: below this a gradient norm is zero
ZERO = 1e-12
#: a Sycamore-class qubit: T1, Tφ (µs), gate lengths (ns), depolarising errors per gate
T1_US, TPHI_US = 20.0, 30.0
SINGLE_NS, TWO_NS = 25.0, 32.0
P_SINGLE, P_TWO = 1e-3, 5e-3


# -- channels ---------------------------------------------------------------------------------------------------

def stinespring(rng: np.random.Generator, n_kraus: int) -> KrausGate:
    """A random channel: the 2 × 2 blocks of a random isometry C² → C^(2 n_kraus) (QR of a complex Gaussian)."""
    z = rng.normal(size=(2 * n_kraus, 2)) + 1j * rng.normal(size=(2 * n_kraus, 2))
    isometry, _ = np.linalg.qr(z)
    return KrausGate([isometry[2 * i: 2 * i + 2, :] for i in range(n_kraus)], f"stinespring{n_kraus}")


@functools.lru_cache(maxsize=64)
def thermal(duration_ns: float, scale: float = 1.0, heat_ghz: float = 0.0) -> KrausGate:
    """The thermal-relaxation channel ``cirq.devices.ThermalNoiseModel`` inserts after a gate of ``duration_ns``,
    with the rates 1/T1 and 1/Tφ multiplied by ``scale``."""
    q = cirq.LineQubit(0)
    model = cirq.devices.ThermalNoiseModel(qubits={q}, gate_durations_ns={cirq.XPowGate: duration_ns},
                                           heat_rate_GHz=heat_ghz, cool_rate_GHz=scale / (T1_US * 1e3),
                                           dephase_rate_GHz=scale / (TPHI_US * 1e3), require_physical_tag=False)
    channel = next(op for moment in model.noisy_moment(cirq.Moment(cirq.X(q)), [q]) for op in moment
                   if isinstance(op.gate, cirq.KrausChannel))
    return KrausGate(cirq.kraus(channel), f"thermal({duration_ns:g}ns×{scale:.3g})")


def random_channel(rng: np.random.Generator) -> cirq.Gate:
    """A Stinespring channel 60% of the time, else one of six structured kinds (module docstring)."""
    if rng.random() < 0.6:
        return stinespring(rng, int(rng.integers(1, 5)))
    kind = int(rng.integers(6))
    if kind == 0:
        return cirq.amplitude_damp(float(rng.uniform(0.05, 0.9)))
    if kind == 1:
        return cirq.generalized_amplitude_damp(float(rng.uniform(0, 1)), float(rng.uniform(0.05, 0.9)))
    if kind == 2:
        return cirq.ResetChannel()
    if kind == 3:
        return thermal(float(rng.uniform(20, 200)), float(rng.uniform(1, 300)), float(rng.uniform(0, 2e-3)))
    if kind == 4:
        return cirq.asymmetric_depolarize(*map(float, rng.uniform(0, 0.3, 3)))
    turn = cirq.unitary(cirq.PhasedXZGate(x_exponent=float(rng.uniform(-0.1, 0.1)),
                                          z_exponent=float(rng.uniform(-0.1, 0.1)),
                                          axis_phase_exponent=float(rng.uniform(-1, 1))))
    return KrausGate([turn @ k for k in cirq.kraus(cirq.amplitude_damp(float(rng.uniform(0.1, 0.9))))],
                     "coherent+amplitude_damp")


def over_rotation(rng: np.random.Generator) -> cirq.Gate:
    """A small fixed single-qubit error: rx/ry/rz by up to 0.2 rad, or a PhasedXZ with exponents up to 0.06."""
    kind = int(rng.integers(4))
    if kind < 3:
        return (cirq.rx, cirq.ry, cirq.rz)[kind](float(np.round(rng.uniform(-0.2, 0.2), 4)))
    return cirq.PhasedXZGate(x_exponent=float(np.round(rng.uniform(-0.06, 0.06), 4)),
                             z_exponent=float(np.round(rng.uniform(-0.06, 0.06), 4)),
                             axis_phase_exponent=float(np.round(rng.uniform(-1, 1), 4)))


# -- circuits ---------------------------------------------------------------------------------------------------

class _Symbols:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self.weights = rng, []

    def weight(self, reuse: float = 0.0):
        if self.weights and self.rng.random() < reuse:
            return float(self.rng.choice([-1.0, 0.5, 2.0])) * self.weights[int(self.rng.integers(len(self.weights)))]
        self.weights.append(sympy.Symbol(f"w{len(self.weights)}"))
        return self.weights[-1]


def _observable(rng: np.random.Generator, qubits):
    kind = int(rng.integers(3))
    if kind == 0:
        return cirq.Z(qubits[0])
    if kind == 1:
        return cirq.Z(qubits[0]) * cirq.Z(qubits[1])
    return cirq.PauliSum.wrap(cirq.X(qubits[0])) + 0.5 * cirq.Z(qubits[-1]) * cirq.Y(qubits[0])


def random_circuit(seed: int):
    """The ``seed``-th circuit of ``random`` (module docstring)."""
    rng = np.random.default_rng([CATEGORIES.index("random"), seed])
    qubits = cirq.LineQubit.range(int(rng.integers(2, 4)))
    inputs = sympy.symbols(f"x0:{int(rng.integers(1, 3))}")
    symbols = _Symbols(rng)
    ops = [(cirq.rx, cirq.ry)[int(rng.integers(2))](inputs[i % len(inputs)]).on(q) for i, q in enumerate(qubits)]
    for _ in range(int(rng.integers(1, 3))):
        ops += [(cirq.rx, cirq.ry, cirq.rz)[int(rng.integers(3))](symbols.weight(0.25)).on(q) for q in qubits]
        a, b = rng.choice(len(qubits), size=2, replace=False)
        ops.append((cirq.CNOT, cirq.CZ)[int(rng.integers(2))](qubits[int(a)], qubits[int(b)]))
    ops += [(cirq.rx, cirq.ry, cirq.rz)[int(rng.integers(3))](symbols.weight()).on(qubits[int(rng.integers(len(qubits)))])]
    for _ in range(int(rng.integers(1, 5))):
        q = qubits[int(rng.integers(len(qubits)))]
        inserted = [random_channel(rng).on(q)]
        if rng.random() < 0.5:
            turn = over_rotation(rng).on(q)
            inserted = [turn] + inserted if rng.random() < 0.5 else inserted + [turn]
        position = int(rng.integers(0, len(ops) + 1))
        ops[position:position] = inserted
    return as_ansatz(cirq.Circuit(ops), inputs=[x.name for x in inputs], weights=[w.name for w in symbols.weights],
                     observable=[_observable(rng, qubits)], name=f"random#{seed}")


def device_circuit(seed: int):
    """The ``seed``-th circuit of ``device`` (module docstring): moments of gates, then the noise a device model
    puts after them."""
    rng = np.random.default_rng([CATEGORIES.index("device"), seed])
    qubits = cirq.LineQubit.range(int(rng.integers(2, 4)))
    x = sympy.Symbol("x0")
    symbols = _Symbols(rng)
    scale = float(np.exp(rng.uniform(0, math.log(30))))
    moments = [[cirq.rx(x).on(q) for q in qubits]]
    for _ in range(int(rng.integers(1, 3))):
        moments.append([cirq.PhasedXZGate(x_exponent=symbols.weight(), z_exponent=symbols.weight(),
                                          axis_phase_exponent=float(np.round(rng.uniform(-1, 1), 3))).on(q)
                        for q in qubits])
        a, b = rng.choice(len(qubits), size=2, replace=False)
        pair = (qubits[int(a)], qubits[int(b)])
        moments.append([cirq.FSimGate(math.pi / 4, 0.0).on(*pair) if rng.random() < 0.5 else cirq.CZ(*pair)])
    moments.append([cirq.PhasedXZGate(x_exponent=symbols.weight(), z_exponent=0.0, axis_phase_exponent=0.0).on(q)
                    for q in qubits])
    ops = []
    for moment in moments:
        ops += moment
        for op in moment:
            if len(op.qubits) == 2:
                ops.append(cirq.FSimGate(float(np.round(rng.normal(0, 0.02), 4)),
                                         float(np.round(rng.normal(0, 0.03), 4))).on(*op.qubits))
                ops.append(cirq.depolarize(min(0.5, P_TWO * scale), n_qubits=2).on(*op.qubits))
            else:
                ops.append(cirq.PhasedXZGate(x_exponent=float(np.round(rng.normal(0, 0.01), 4)),
                                             z_exponent=float(np.round(rng.normal(0, 0.01), 4)),
                                             axis_phase_exponent=float(np.round(rng.uniform(-1, 1), 3))).on(op.qubits[0]))
                ops.append(cirq.depolarize(min(0.5, P_SINGLE * scale)).on(op.qubits[0]))
        duration = TWO_NS if any(len(op.qubits) == 2 for op in moment) else SINGLE_NS
        ops += [thermal(duration, round(scale, 3)).on(q) for q in qubits]
    return as_ansatz(cirq.Circuit(ops), inputs=["x0"], weights=[w.name for w in symbols.weights],
                     observable=[_observable(rng, qubits)], name=f"device#{seed}")


def circuit(category: str, seed: int):
    """The ``seed``-th circuit of ``category``."""
    return random_circuit(seed) if category == "random" else device_circuit(seed)


# -- measurement ------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def baseline_rule():
    """Bounds derived inside use the noise rule the general one replaced (``noise_factors(general=False)``): the
    refinement stages read ``noise_factors`` from :mod:`privqml.theory.refinements.stages`, and the derivation
    cache is emptied on the way in and out so that no bound of one rule is served for the other."""
    original = stages.noise_factors
    derivation.derive.cache_clear()
    stages.noise_factors = functools.partial(noise_factors, general=False)
    try:
        yield
    finally:
        stages.noise_factors = original
        derivation.derive.cache_clear()


def fingerprint(ansatz) -> str:
    text = repr(ansatz.circuit) + "|" + "|".join(map(str, ansatz.observables)) + "|" + repr(ansatz.input_domain)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ratio(bound: float, truth: float) -> float:
    """bound / true max; 1 when both are zero (no weight moves the output)."""
    if truth <= ZERO:
        return 1.0 if bound <= ZERO else math.inf
    return bound / truth


@dataclasses.dataclass(frozen=True)
class Row:
    """One circuit: its bound with the general noise factor and with the baseline rule, the true maximum (a
    multi-start lower estimate of sup ‖∇_θ f‖, output units per unit weight) and the two ratios."""

    name: str
    category: str
    qubits: int
    weights: int
    channels: int
    bound: float
    baseline_bound: float
    true_max: float

    @property
    def ratio(self) -> float:
        return ratio(self.bound, self.true_max)

    @property
    def baseline_ratio(self) -> float:
        return ratio(self.baseline_bound, self.true_max)

    def sound(self) -> bool:
        return (self.bound >= self.true_max * SOUND_TOLERANCE - ZERO
                and self.baseline_bound >= self.true_max * SOUND_TOLERANCE - ZERO)

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "ratio": self.ratio, "baseline_ratio": self.baseline_ratio}


def measure_one(ansatz, category: str, starts: int, cache: dict) -> Row:
    """Both bounds of ``ansatz`` and its true maximum (from ``cache`` when there, which is updated)."""
    bound = gradient_bound(ansatz).per_observable[0]
    with baseline_rule():
        baseline = gradient_bound(ansatz).per_observable[0]
    key = f"{ansatz.name}:starts={starts}:{fingerprint(ansatz)}"
    if key not in cache:
        cache[key] = max_gradient_norm(ansatz, n_starts=starts, seed=sum(map(ord, ansatz.name))).true_max_estimate
    channels = sum(1 for op in ansatz.circuit.all_operations()
                   if not cirq.is_parameterized(op) and not cirq.has_unitary(op))
    return Row(ansatz.name, category, ansatz.n_qubits, ansatz.n_weights, channels, float(bound), float(baseline),
               float(cache[key]))


def stats(values: list[float]) -> dict:
    return {"n": len(values), "geomean": geomean(values), "worst": max(values) if values else math.nan,
            "n_below_1": sum(v < SOUND_TOLERANCE for v in values)}


def summarise(rows: list[Row]) -> dict:
    """Per category and overall: geometric mean, worst and count below 1 of bound / true max, general and
    baseline, and how many bounds the general factor lowered."""
    out = {}
    for name, picked in [*((c, [r for r in rows if r.category == c]) for c in CATEGORIES), ("all", rows)]:
        out[name] = {"general": stats([r.ratio for r in picked]), "baseline": stats([r.baseline_ratio for r in picked]),
                     "n_lowered": sum(r.bound < r.baseline_bound * (1 - 1e-9) for r in picked)}
    return out


def measure(n_random: int, n_device: int, starts: int, cache: dict | None = None, log=print) -> dict:
    """Every circuit's row and the summary; ``cache`` (key → true max) is read and extended."""
    cache = {} if cache is None else cache
    plan = [("random", s) for s in range(n_random)] + [("device", s) for s in range(n_device)]
    rows = []
    for i, (category, seed) in enumerate(plan):
        t0 = time.perf_counter()
        row = measure_one(circuit(category, seed), category, starts, cache)
        rows.append(row)
        log(f"[{i + 1}/{len(plan)}] {row.name}: bound/true {row.ratio:.3f} (baseline {row.baseline_ratio:.3f}) "
            f"({time.perf_counter() - t0:.1f} s)")
    return {"rows": [r.to_json() for r in rows], "summary": summarise(rows), "starts": starts,
            "n_random": n_random, "n_device": n_device, "true_max_cache": dict(sorted(cache.items()))}


def unsound(result: dict) -> list[dict]:
    """The rows whose bound (general or baseline) is below the true maximum found."""
    return [r for r in result["rows"] if r["bound"] < r["true_max"] * SOUND_TOLERANCE - ZERO
            or r["baseline_bound"] < r["true_max"] * SOUND_TOLERANCE - ZERO]


# -- rendering --------------------------------------------------------------------------------------------------

def render(result: dict) -> str:
    lines = ["# Noise factor for general channels: bound / true maximum", "",
             f"Command: `{result['command']}` ({result['starts']} L-BFGS-B starts per maximum). The true maximum is "
             "a multi-start local optimum — a lower estimate — so a ratio is an upper estimate of the looseness, and "
             "a ratio below 1 would be a bound below a reachable gradient. *general*: the noise factor σ_max of "
             "every channel block after a slot; *baseline*: the rule it replaced (Pauli channels right after a "
             "slot, depolarising further on, factor 1 otherwise).", "",
             "| set | circuits | GM general | worst general | below 1 | GM baseline | worst baseline | below 1 "
             "(baseline) | bounds lowered |", "|---|---|---|---|---|---|---|---|---|"]
    for name, s in result["summary"].items():
        g, b = s["general"], s["baseline"]
        lines.append(f"| {name} | {g['n']} | {g['geomean']:.3f} | {g['worst']:.3f} | {g['n_below_1']} "
                     f"| {b['geomean']:.3f} | {b['worst']:.3f} | {b['n_below_1']} | {s['n_lowered']} |")
    lines += ["", "## Per circuit", "", "| circuit | qubits | weights | channels | bound | baseline | true max "
              "| ratio | baseline ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['name']} | {r['qubits']} | {r['weights']} | {r['channels']} | {r['bound']:.4f} "
                     f"| {r['baseline_bound']:.4f} | {r['true_max']:.4f} | {r['ratio']:.3f} | {r['baseline_ratio']:.3f} |")
    return "\n".join(lines) + "\n"


def plotted_numbers(result: dict) -> dict:
    """What :func:`plot` draws: per category the geometric means and every circuit's two ratios."""
    summary = result["summary"]
    return {"categories": list(CATEGORIES),
            "geomean": [summary[c]["general"]["geomean"] for c in CATEGORIES],
            "baseline_geomean": [summary[c]["baseline"]["geomean"] for c in CATEGORIES],
            "ratio": {c: [r["ratio"] for r in result["rows"] if r["category"] == c] for c in CATEGORIES},
            "baseline_ratio": {c: [r["baseline_ratio"] for r in result["rows"] if r["category"] == c]
                               for c in CATEGORIES}}


def plot(result: dict, path: Path) -> dict:
    """Left: every circuit's ratio, baseline against general (log-log, the diagonal and 1 marked); right: the
    geometric means per category. Returns the numbers drawn."""
    import matplotlib  # plotting is only needed here

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from privqml.atomic import save_figure_atomic

    numbers = plotted_numbers(result)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    colours = {"random": "#1f77b4", "device": "#d62728"}
    every = []
    for c in CATEGORIES:
        pairs = [(b, g) for b, g in zip(numbers["baseline_ratio"][c], numbers["ratio"][c])
                 if math.isfinite(b) and math.isfinite(g) and b > 0 and g > 0]
        every += [v for pair in pairs for v in pair]
        if pairs:
            left.scatter(*zip(*pairs), s=9, color=colours[c], alpha=0.7, label=c)
    if every:
        low, high = min(every + [1.0]) / 1.1, max(every) * 1.1
        left.plot([low, high], [low, high], color="grey", linewidth=0.8, label="no change")
        left.axhline(1.0, color="black", linewidth=0.8)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("baseline rule: bound / true max")
    left.set_ylabel("general factor: bound / true max")
    left.legend(fontsize=7)
    positions = np.arange(len(CATEGORIES))
    right.bar(positions - 0.2, numbers["baseline_geomean"], width=0.4, color="#7f7f7f", label="baseline rule")
    right.bar(positions + 0.2, numbers["geomean"], width=0.4, color="#2ca02c", label="general factor")
    right.axhline(1.0, color="black", linewidth=0.8)
    right.set_xticks(positions, CATEGORIES)
    right.set_ylabel("geometric mean of bound / true max")
    right.legend(fontsize=7)
    fig.suptitle("Gradient bound / true maximum on circuits with general channels")
    save_figure_atomic(fig, path)
    return numbers


def _cache(path: Path) -> dict:
    return dict(jsonio.loads(path.read_text()).get("true_max_cache", {})) if path.exists() else {}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--random", type=int, default=200, help="circuits of the random family")
    parser.add_argument("--device", type=int, default=40, help="circuits of the device family")
    parser.add_argument("--starts", type=int, default=6, help="L-BFGS-B starts per true maximum")
    args = parser.parse_args(argv)
    command = f"python -m benchmarks.soundness_kraus --random {args.random} --device {args.device} --starts {args.starts}"
    path = RESULTS / "soundness_kraus.json"
    result = measure(args.random, args.device, args.starts, _cache(path), log=lambda line: print(line, flush=True))
    result["command"] = command
    result["plotted"] = plot(result, RESULTS / "soundness_kraus.png")
    write_text_atomic(path, jsonio.dumps(result, indent=1))
    write_text_atomic(RESULTS / "soundness_kraus.md", render(result))
    print(render(result).split("## Per circuit")[0])
    bad = unsound(result)
    for r in bad:
        print(f"UNSOUND: {r['name']}: bound {r['bound']:.6f}, baseline {r['baseline_bound']:.6f}, true max "
              f"{r['true_max']:.6f}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
