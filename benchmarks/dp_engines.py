r"""The engine issue's measurements, side by side in one run: DP steps, replicates, memory, classical.

Command (from the repository root)::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m benchmarks.dp_engines [--repeats 7] [--quick]

writes ``benchmarks/results/dp_engines.json``, ``dp_engines.md`` and ``dp_engines.png`` (the ratios).
Wall and process-CPU time per call; every table's variants are interleaved in one process on the same
inputs (:func:`benchmarks.harness.interleaved`), so read the ratios, not the absolute times.

1. **DP step vs a hand-written non-private TFQ step** (hea n × 2, Z0, bce_logits; n = 4, 8, 12;
   B = 32, 64): ``handwritten_tfq`` is what a TFQ user writes — tiled weights into
   ``tfq.layers.Expectation`` (Adjoint), mean loss, one ``GradientTape`` gradient, Keras SGD —
   inside one ``tf.function``; ``privqml_default`` is the trainer's step on the default model
   (``engine="auto"``): :func:`~privqml.models.privacy.dpsgd.dp_step` (per-example gradients, clip,
   Gaussian noise) and the optimizer update; ``privqml_tfq`` the same step with ``engine="tfq"``.
2. **Replicate-steps per second** at 4 qubits, B = 32, K = 1, 4, 16, 64: K runs with their own weights,
   own Poisson batches (q = 32/1000, sizes Binomial) and own noise advanced by one
   :func:`~privqml.models.privacy.dpsgd.dp_steps` call and one optimizer step; against the fast path
   on TFQ, one run per call (``dp_step`` + optimizer; the engine every run used before ``auto``).
3. **Memory per replicate** (a subprocess per point: peak resident set size of K replicates stepping
   at B = 32, less the K = 1 process) at 4, 8 and 12 qubits, and the largest K that fits in 8 GiB by
   the measured slope.
4. **Classical DP step** on the MLP matched to hea 4 × 2 (and a wider one, H = 64): privqml's
   ``dp_step`` + SGD against TF Privacy's ``VectorizedDPKerasSGDOptimizer`` on the same architecture
   (Keras Dense layers, the same squashed readout and loss), ``minimize`` in a ``tf.function``; and
   16 replicates of the MLP in one call (per replicate-step, against TF Privacy's one run per call).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import harness

RESULTS = Path(__file__).parent / "results" / "dp_engines.json"
MODULE_COMMAND = "TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m benchmarks.dp_engines"
CLIP, SIGMA, N_TRAIN = 1.0, 1.0, 1000
GIB = 2.0**30


def _batch(n_features: int, batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-np.pi, np.pi, (batch, n_features)).astype(np.float32), rng.integers(0, 2, batch)


def handwritten_tfq_step(ansatz, initial_weights, batch: int, lr: float = 0.05):
    """A non-private TFQ training step as a TFQ user writes it (module docstring, 1); returns step(x, y)."""
    import cirq
    import tensorflow as tf
    import tensorflow_quantum as tfq

    names = [str(s) for s in ansatz.weights] + [str(s) for s in ansatz.inputs]
    circuits = tfq.convert_to_tensor([cirq.Circuit(ansatz.circuit)] * batch)
    operators = tfq.convert_to_tensor([list(ansatz.observables)] * batch)
    weights = tf.Variable(np.asarray(initial_weights, np.float32))
    layer = tfq.layers.Expectation(differentiator=tfq.differentiators.Adjoint())
    optimizer = tf.keras.optimizers.legacy.SGD(lr)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            values = tf.concat([tf.tile(weights[tf.newaxis], [tf.shape(x)[0], 1]), x], axis=1)
            f = layer(circuits, symbol_names=names, symbol_values=values, operators=operators)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.cast(y, tf.float32), f[:, 0]))
        optimizer.apply_gradients([(tape.gradient(loss, weights), weights)])
        return loss

    return step


def privqml_step(model):
    """The trainer's step on a fixed batch, as ``train`` runs it: a model with a trace key steps on flat
    weights (dp_steps with R = 1 and the run's secret noise generator, then the optimizer); one without
    steps its weights variable (dp_step, optimizer, assign)."""
    from privqml.models.privacy import fused
    from privqml.models.privacy.dpsgd import dp_step, dp_steps
    from privqml.models.training.optimizers import StackedOptimizer

    optimizer = StackedOptimizer("sgd", 0.05, 1)
    rng = fused.secret_generator()
    state = {"weights": model.weights.numpy()[None]}

    def flat(x, y):
        results = dp_steps(model, state["weights"], [x], [y], CLIP, SIGMA, len(x), len(x) / N_TRAIN, [rng])
        state["weights"] = optimizer.step(state["weights"], results[0].gradient[None])

    def variable(x, y):
        result = dp_step(model, x, y, CLIP, SIGMA, len(x), len(x) / N_TRAIN, noise_rng=rng)
        model.weights.assign(optimizer.step(model.weights.numpy()[None], result.gradient[None])[0])

    return flat if model.trace_key() is not None else variable


def step_cell(n_qubits: int, batch: int, repeats: int, min_seconds: float) -> dict:
    import tensorflow as tf

    from privqml.models.quantum import quantum_model

    default = quantum_model("hea", n_qubits=n_qubits)
    on_tfq = quantum_model("hea", n_qubits=n_qubits, engine="tfq")
    x, y = _batch(n_qubits, batch)
    hand = handwritten_tfq_step(default.ansatz, default.weights.numpy(), batch)
    xt, yt = tf.constant(x), tf.constant(y)
    ours, reference = privqml_step(default), privqml_step(on_tfq)
    first = {}
    for name, fn in (("handwritten_tfq", lambda: hand(xt, yt)), ("privqml_default", lambda: ours(x, y)),
                     ("privqml_tfq", lambda: reference(x, y))):
        start = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - start
    timings = harness.interleaved({
        "handwritten_tfq": lambda: hand(xt, yt).numpy(),
        "privqml_default": lambda: ours(x, y),
        "privqml_tfq": lambda: reference(x, y),
    }, repeats, warmup=1, min_seconds=min_seconds)
    return {
        "n_qubits": n_qubits, "batch": batch, "n_weights": default.n_weights,
        "default_engine": default.describe()["engine"],
        "first_call_s": first,
        "timings": {k: v.as_dict() for k, v in timings.items()},
        "default_over_handwritten": harness.ratio(timings, "privqml_default", "handwritten_tfq").as_dict(),
        "default_over_handwritten_cpu": harness.ratio(timings, "privqml_default", "handwritten_tfq", "cpu").as_dict(),
        "tfq_path_over_handwritten": harness.ratio(timings, "privqml_tfq", "handwritten_tfq").as_dict(),
        "default_over_tfq_path": harness.ratio(timings, "privqml_default", "privqml_tfq").as_dict(),
    }


def replicate_runner(model, n_runs: int, batch: int, seed: int = 0):
    """K runs' steps in one call: own weights, own Poisson batches, own noise (module docstring, 2)."""
    from privqml.models.privacy import fused
    from privqml.models.privacy.dpsgd import dp_steps, poisson_batch
    from privqml.models.training.optimizers import StackedOptimizer

    rng = np.random.default_rng(seed)
    x_train = rng.uniform(-np.pi, np.pi, (N_TRAIN, model.n_features)).astype(np.float32)
    y_train = rng.integers(0, 2, N_TRAIN)
    weights = rng.uniform(-np.pi, np.pi, (n_runs, model.n_weights)).astype(np.float32)
    q = batch / N_TRAIN
    batch_rngs = [np.random.default_rng([seed, r]) for r in range(n_runs)]
    noise_rngs = [fused.secret_generator() for _ in range(n_runs)]
    optimizer = StackedOptimizer("sgd", 0.05, n_runs)
    state = {"weights": weights}

    def step():
        batches = [poisson_batch(N_TRAIN, q, g) for g in batch_rngs]
        results = dp_steps(model, state["weights"], [x_train[b] for b in batches], [y_train[b] for b in batches],
                           CLIP, SIGMA, batch, q, noise_rngs)
        state["weights"] = optimizer.step(state["weights"], np.stack([r.gradient for r in results]))

    return step


def single_tfq_runner(model, batch: int, seed: int = 0):
    """One run per call on the TFQ engine: Poisson batch, dp_step, optimizer (the comparison of 2)."""
    from privqml.models.privacy.dpsgd import poisson_batch

    rng = np.random.default_rng(seed)
    x_train = rng.uniform(-np.pi, np.pi, (N_TRAIN, model.n_features)).astype(np.float32)
    y_train = rng.integers(0, 2, N_TRAIN)
    step_fn = privqml_step(model)

    def step():
        b = poisson_batch(N_TRAIN, batch / N_TRAIN, rng)
        step_fn(x_train[b], y_train[b])

    return step


def replicate_cell(n_qubits: int, batch: int, replicates: list[int], repeats: int, min_seconds: float) -> dict:
    from privqml.models.quantum import quantum_model

    default = quantum_model("hea", n_qubits=n_qubits)
    variants = {"tfq_single": single_tfq_runner(quantum_model("hea", n_qubits=n_qubits, engine="tfq"), batch)}
    for k in replicates:
        variants[f"K={k}"] = replicate_runner(default, k, batch)
    timings = harness.interleaved(variants, repeats, warmup=2, min_seconds=min_seconds)
    base = timings["tfq_single"].wall.median
    rows = []
    for k in replicates:
        t = timings[f"K={k}"]
        per_second = [k / w for w in t.wall.values]
        gain = harness.Stat.of([(k / w) / (1 / b) for w, b in zip(t.wall.values, timings["tfq_single"].wall.values)])
        rows.append({"K": k, "replicate_steps_per_s": harness.Stat.of(per_second).as_dict(),
                     "over_tfq_single": gain.as_dict()})
    return {"n_qubits": n_qubits, "batch": batch, "engine": default.describe()["engine"],
            "tfq_single_steps_per_s": 1 / base, "timings": {k: v.as_dict() for k, v in timings.items()}, "rows": rows}


def _rss_bytes(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1]) * 1024.0
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024.0


def memory_probe(n_qubits: int, n_runs: int, batch: int) -> float:
    """Memory (bytes) a K-replicate step adds: the peak RSS over 3 steps of K replicates, less the RSS
    after the same process ran (and traced) a 1-replicate step. Peaks reached before (imports,
    tracing) are reset first (``/proc/self/clear_refs``), so the difference is the step's own."""
    from privqml.models.quantum import quantum_model

    model = quantum_model("hea", n_qubits=n_qubits)
    replicate_runner(model, 1, batch)()  # trace and warm up
    step = replicate_runner(model, n_runs, batch)
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _rss_bytes("VmRSS")
    for _ in range(3):
        step()
    return _rss_bytes("VmHWM") - before


def memory_cell(n_qubits: int, replicates: list[int], batch: int) -> dict:
    points = []
    for k in replicates:
        out = subprocess.run([sys.executable, "-m", "benchmarks.dp_engines", "--memory-probe", f"{n_qubits},{k},{batch}"],
                             capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True)
        points.append({"K": k, "peak_rss_bytes": float(out.stdout.strip().splitlines()[-1])})
    ks = np.array([p["K"] for p in points], float)
    rss = np.array([p["peak_rss_bytes"] for p in points])
    slope, intercept = np.polyfit(ks, rss, 1)
    slope = max(float(slope), 1.0)
    # the process itself (TensorFlow, the traced model) is not the step's: its RSS is the base
    return {"n_qubits": n_qubits, "batch": batch, "points": points, "bytes_per_replicate": slope,
            "intercept_bytes": float(intercept), "largest_K_in_8GiB": int(max(0.0, 8 * GIB / slope))}


def keras_mlp_step(model, batch: int, lr: float = 0.05):
    """TF Privacy's vectorised DP-SGD on the same MLP as Keras layers (module docstring, 4)."""
    import tensorflow as tf
    from tensorflow_privacy import VectorizedDPKerasSGDOptimizer

    f, h, c = model.n_features, model.hidden, model.n_outputs
    w = model.weights.numpy()
    w1, b1, w2, b2 = np.split(w, np.cumsum([f * h, h, h * c]))
    dense1 = tf.keras.layers.Dense(h, activation="tanh")
    dense2 = tf.keras.layers.Dense(c)
    net = tf.keras.Sequential([tf.keras.Input((f,)), dense1, dense2])
    dense1.set_weights([w1.reshape(f, h), b1])
    dense2.set_weights([w2.reshape(h, c), b2])
    lo, hi = model.output_ranges[0]
    optimizer = VectorizedDPKerasSGDOptimizer(l2_norm_clip=CLIP, noise_multiplier=SIGMA, num_microbatches=None,
                                              learning_rate=lr)

    @tf.function
    def step(x, y):
        def loss():
            out = (lo + hi) / 2 + (hi - lo) / 2 * tf.tanh(net(x))
            return tf.nn.sigmoid_cross_entropy_with_logits(tf.cast(y, tf.float32), model.scale * out[:, 0])

        optimizer.minimize(loss, net.trainable_variables)

    return step


def classical_cell(hidden: int | None, batch: int, repeats: int, min_seconds: float) -> dict:
    import tensorflow as tf

    from privqml.models.classical import MLPModel, matched_classical
    from privqml.models.quantum import quantum_model

    reference = quantum_model("hea", n_qubits=4)
    model = (matched_classical("mlp", reference) if hidden is None else
             MLPModel(4, 1, hidden, reference.output_ranges, reference.scale, reference.input_domain, reference.loss))
    x, y = _batch(model.n_features, batch)
    ours, theirs = privqml_step(model), keras_mlp_step(model, batch)
    replicated = replicate_runner(model, 16, batch)
    xt, yt = tf.constant(x), tf.constant(y)
    timings = harness.interleaved({"privqml": lambda: ours(x, y), "tf_privacy_vectorized": lambda: theirs(xt, yt),
                                   "privqml_K16": replicated}, repeats, warmup=2, min_seconds=min_seconds)
    per_replicate = [w / 16 for w in timings["privqml_K16"].wall.values]
    return {"hidden": model.hidden, "n_weights": model.n_weights, "batch": batch,
            "timings": {k: v.as_dict() for k, v in timings.items()},
            # replicate-steps per second of 16 runs in one call over TF Privacy's steps per second
            "K16_speed_over_tf_privacy": harness.Stat.of(
                [t / r for t, r in zip(timings["tf_privacy_vectorized"].wall.values, per_replicate)]).as_dict(),
            # > 1: privqml's step is faster
            "speed_over_tf_privacy": harness.ratio(timings, "tf_privacy_vectorized", "privqml").as_dict(),
            "speed_over_tf_privacy_cpu": harness.ratio(timings, "tf_privacy_vectorized", "privqml", "cpu").as_dict()}


def markdown(result: dict) -> str:
    def stat(s: dict, unit: float = 1.0, fmt: str = ".3g") -> str:
        return f"{s['median'] * unit:{fmt}} ({s['min'] * unit:{fmt}}–{s['max'] * unit:{fmt}})"

    lines = [f"Command: `{result['command']}`", "", harness.machine_line(result["machine"]) +
             f"; load average {result['machine']['load_average_1_5_15']} at start, {result['load_average_at_end']} at end;"
             f" {result['repeats']} interleaved repetitions, median (min–max). Read the ratios, not the absolute times.",
             "", "## 1. DP step vs a hand-written non-private TFQ Adjoint step (hea n×2, Z0)", "",
             "| n | B | default engine | hand-written TFQ ms | privqml default DP step ms | ratio (wall) | ratio (CPU) | "
             "privqml on TFQ ms | first call s (default) |", "|---|---|---|---|---|---|---|---|---|"]
    for c in result["steps"]:
        t = c["timings"]
        lines.append(
            f"| {c['n_qubits']} | {c['batch']} | {c['default_engine']['engine']} | {stat(t['handwritten_tfq']['wall_s'], 1e3)} | "
            f"{stat(t['privqml_default']['wall_s'], 1e3)} | {stat(c['default_over_handwritten'], fmt='.2f')} | "
            f"{stat(c['default_over_handwritten_cpu'], fmt='.2f')} | {stat(t['privqml_tfq']['wall_s'], 1e3)} | "
            f"{c['first_call_s']['privqml_default']:.1f} |")
    for cell in result["replicates"]:
        lines += ["", f"## 2. Replicate-steps per second ({cell['n_qubits']} qubits, B = {cell['batch']}, own Poisson "
                  "batches and noise per replicate)", "",
                  f"One run per call on TFQ (the fast path before `auto`): {cell['tfq_single_steps_per_s']:.0f} steps/s.", "",
                  "| K | replicate-steps/s | × the one-run TFQ path |", "|---|---|---|"]
        for row in cell["rows"]:
            lines.append(f"| {row['K']} | {stat(row['replicate_steps_per_s'], fmt='.0f')} | "
                         f"{stat(row['over_tfq_single'], fmt='.1f')} |")
    if result.get("memory"):
        lines += ["", "## 3. Memory per replicate (B = 32; a subprocess per point: peak RSS during 3 K-replicate "
                  "steps less the RSS before them, after a traced 1-replicate step; slope over K)", "",
                  "| n | points (K: MiB the steps added) | MiB per replicate | largest K in 8 GiB |", "|---|---|---|---|"]
        for m in result["memory"]:
            pts = ", ".join(f"{p['K']}: {p['peak_rss_bytes'] / 2**20:.1f}" for p in m["points"])
            lines.append(f"| {m['n_qubits']} | {pts} | {m['bytes_per_replicate'] / 2**20:.2f} | {m['largest_K_in_8GiB']} |")
    lines += ["", "## 4. Classical DP step: privqml vs TF Privacy's VectorizedDPKerasSGDOptimizer (same MLP)", "",
              "| hidden | P | B | privqml ms | TF Privacy vectorised ms | privqml speed × (wall) | (CPU) | "
              "16 replicates in one call: replicate-steps/s × TF Privacy's steps/s |",
              "|---|---|---|---|---|---|---|---|"]
    for c in result["classical"]:
        t = c["timings"]
        lines.append(f"| {c['hidden']} | {c['n_weights']} | {c['batch']} | {stat(t['privqml']['wall_s'], 1e3)} | "
                     f"{stat(t['tf_privacy_vectorized']['wall_s'], 1e3)} | {stat(c['speed_over_tf_privacy'], fmt='.2f')} | "
                     f"{stat(c['speed_over_tf_privacy_cpu'], fmt='.2f')} | {stat(c['K16_speed_over_tf_privacy'], fmt='.1f')} |")
    return "\n".join(lines)


def plot(result: dict, path: Path) -> dict:
    """Two panels: DP step / hand-written TFQ step per (n, B); replicate gain per K. Returns the plotted numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{c['n_qubits']}q B{c['batch']}" for c in result["steps"]]
    ratios = [c["default_over_handwritten"]["median"] for c in result["steps"]]
    ks = [row["K"] for row in result["replicates"][0]["rows"]] if result["replicates"] else []
    gains = [row["over_tfq_single"]["median"] for row in result["replicates"][0]["rows"]] if ks else []
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    a.bar(labels, ratios, color="tab:blue")
    a.axhline(0.4, color="tab:red", ls="--", label="0.4× target (4, 8 qubits)")
    a.axhline(1.0, color="grey", ls=":", label="hand-written TFQ step")
    a.set_ylabel("privqml DP step / non-private TFQ step")
    a.legend(fontsize=8)
    a.tick_params(axis="x", rotation=30)
    b.plot(ks, gains, "o-")
    b.axhline(10, color="tab:red", ls="--", label="10× target (K ≥ 16)")
    b.set_xscale("log", base=2)
    b.set_xlabel("replicates K per call")
    b.set_ylabel("replicate-steps/s ÷ one-run TFQ path")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"step_labels": labels, "step_ratios": ratios, "replicates": ks, "replicate_gains": gains}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-seconds", type=float, default=0.2)
    parser.add_argument("--quick", action="store_true", help="4 and 8 qubits, B = 32, K ≤ 16, no memory probes")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        n, k, b = (int(v) for v in args.memory_probe.split(","))
        print(memory_probe(n, k, b))
        return
    machine = harness.machine_info()
    qubits, batches = ((4, 8), (32,)) if args.quick else ((4, 8, 12), (32, 64))
    replicates = [1, 4, 16] if args.quick else [1, 4, 16, 64]
    steps = []
    for n in qubits:
        for b in batches:
            steps.append(step_cell(n, b, args.repeats, args.min_seconds))
            print(f"step {n} qubits B={b}: {steps[-1]['default_over_handwritten']['median']:.2f}× the hand-written step",
                  flush=True)
    reps = [replicate_cell(4, 32, replicates, args.repeats, args.min_seconds)]
    print("replicates:", [(r["K"], round(r["over_tfq_single"]["median"], 1)) for r in reps[0]["rows"]], flush=True)
    memory = [] if args.quick else [memory_cell(n, ks, 32) for n, ks in
                                    ((4, [16, 256, 1024]), (8, [16, 128, 512]), (12, [4, 16, 64]))]
    classical = [classical_cell(h, b, args.repeats, args.min_seconds) for h in (None, 64) for b in (32, 64)]
    result = {
        "command": MODULE_COMMAND + (" --quick" if args.quick else "") + f" --repeats {args.repeats}",
        "measured_at": harness.now_iso(), "machine": machine,
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()], "repeats": args.repeats,
        "steps": steps, "replicates": reps, "memory": memory, "classical": classical,
    }
    result["plotted"] = plot(result, args.out.with_suffix(".png"))
    harness.atomic_write_json(args.out, result)
    text = markdown(result)
    harness.atomic_write_text(args.out.with_suffix(".md"), text + "\n")
    print(text)


if __name__ == "__main__":
    main()
