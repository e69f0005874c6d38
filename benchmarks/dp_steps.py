r"""Benchmarks 1 and 2 — one DP-SGD step: fast per-example path vs TF Privacy's stock optimizer
vs the non-private step, on the quantum models and on the matched classical baselines.

A *step* is what :mod:`privqml.models.privacy.dpsgd` computes for one batch at the current weights
(the weights are not updated, identically for all variants):

``fast``        ``dp_step(path="fast")``: θ tiled to [B, P], one backward pass gives every
                per-example gradient (quantum: one batched TFQ adjoint pass; classical: batched
                matmuls — the vectorised path), then TF Privacy's Gaussian sum query (clip +
                noise);
``stock``       ``dp_step(path="stock")``: TF Privacy's ``DPKerasSGDOptimizer`` with one
                microbatch per example;
``nonprivate``  ``nonprivate_step``: the ordinary mean batch gradient, no clipping, no noise.

Each configuration uses one fixed batch of exactly B examples (x uniform in the public input
domain, labels uniform) — a Poisson batch of expected size B would add batch-size noise to the
timings, not information. σ = 1 and C = 1 (neither changes the work done). Before timing, the
two DP paths are run once with σ = 0 and their clipped sums compared (they must agree to float
tolerance: we time equivalent computations). Each variant is traced/warmed once, then the
variants are interleaved in every repetition; short calls are looped to last ≥ 0.3 s.

Targets: at 8 qubits the fast step costs at most 1.3× the non-private step and is at
least 8× faster than the stock step.
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import harness
from privqml.atomic import save_figure_atomic

TITLES = {
    "dp_quantum": "DP step on quantum models: fast path vs TF Privacy stock vs non-private",
    "dp_classical": "DP step on the matched classical baselines: vectorised path vs stock vs non-private",
}
TITLE = TITLES["dp_quantum"]
DEFAULT_REPEATS = 9
MIN_SECONDS = 0.3
FULL = {"families": ("hea", "reupload"), "qubits": (4, 8, 12), "batches": (32, 64)}
QUICK = {"families": ("hea", "reupload"), "qubits": (4,), "batches": (16,)}
CLASSICAL = ("mlp", "linear")
TARGET_QUBITS = 8
FAST_OVER_NONPRIVATE_MAX = 1.3
STOCK_OVER_FAST_MIN = 8.0
VARIANTS = ("fast", "stock", "nonprivate")


def _batch(model, batch: int, seed: int):
    rng = np.random.default_rng([seed, batch, model.n_weights])
    lo, hi = np.asarray(model.input_domain, dtype=float).T
    x = rng.uniform(lo, hi, size=(batch, model.n_features)).astype(np.float32)
    labels = rng.integers(0, 2, size=batch)
    return x, labels


def _max_abs_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def measure(model, batch: int, repeats: int, seed: int = 0, prototypes: bool = False) -> dict:
    """Time the step variants of ``model`` on one batch of size ``batch``, interleaved.

    With ``prototypes``, also the out-of-tree fused fast step (:mod:`benchmarks.prototypes`),
    after checking at σ = 0 that it releases the tree's clipped sum.
    """
    from privqml.models.privacy.dpsgd import dp_step, nonprivate_step

    from benchmarks import prototypes as proto

    x, labels = _batch(model, batch, seed)
    clip, sigma, q = 1.0, 1.0, batch / 1000.0
    fast0 = dp_step(model, x, labels, clip, 0.0, batch, q, path="fast").noised_sum
    stock0 = dp_step(model, x, labels, clip, 0.0, batch, q, path="stock").noised_sum
    row = {
        "model": model.name,
        "n_weights": model.n_weights,
        "n_features": model.n_features,
        "batch": batch,
        "sigma0_max_abs_diff_fast_vs_stock": _max_abs_diff(fast0, stock0),
    }
    variants = {
        "fast": lambda: dp_step(model, x, labels, clip, sigma, batch, q, path="fast"),
        "stock": lambda: dp_step(model, x, labels, clip, sigma, batch, q, path="stock"),
        "nonprivate": lambda: nonprivate_step(model, x, labels),
    }
    if prototypes and proto.fused_available()[0]:
        for name, closed in (("fast_fused", False), ("fast_fused_closed", True)):
            zero = proto.fused_fast_step(model, clip, 0.0, batch, closed_form=closed)(x, labels)[0]
            row[f"sigma0_max_abs_diff_{name}_vs_fast"] = _max_abs_diff(zero, fast0)
            variants[name] = functools.partial(proto.fused_fast_step(model, clip, sigma, batch, closed_form=closed),
                                               x, labels)
    timings = harness.interleaved(variants, repeats, warmup=1, min_seconds=MIN_SECONDS)
    ratios = {}
    for clock in ("wall", "cpu"):
        ratios[f"fast/nonprivate_{clock}"] = harness.ratio(timings, "fast", "nonprivate", clock).as_dict()
        ratios[f"stock/fast_{clock}"] = harness.ratio(timings, "stock", "fast", clock).as_dict()
        ratios[f"stock/nonprivate_{clock}"] = harness.ratio(timings, "stock", "nonprivate", clock).as_dict()
        for name in ("fast_fused", "fast_fused_closed"):
            if name in timings:
                ratios[f"{name}/nonprivate_{clock}"] = harness.ratio(timings, name, "nonprivate", clock).as_dict()
                ratios[f"stock/{name}_{clock}"] = harness.ratio(timings, "stock", name, clock).as_dict()
                ratios[f"fast/{name}_{clock}"] = harness.ratio(timings, "fast", name, clock).as_dict()
    row["timings"] = {n: t.as_dict() for n, t in timings.items()}
    row["ratios"] = ratios
    return row


def _configs(name: str, quick: bool):
    grid = QUICK if quick else FULL
    for family in grid["families"]:
        for n_qubits in grid["qubits"]:
            for batch in grid["batches"]:
                if name == "dp_quantum":
                    yield {"family": family, "n_qubits": n_qubits, "batch": batch}
                else:
                    for classical in CLASSICAL:
                        yield {"family": classical, "matched_to": family, "n_qubits": n_qubits, "batch": batch}


def _build(config: dict):
    from privqml.models.classical import matched_classical
    from privqml.models.quantum import quantum_model

    if "matched_to" in config:
        reference = quantum_model(config["matched_to"], n_qubits=config["n_qubits"])
        return matched_classical(config["family"], reference)
    return quantum_model(config["family"], n_qubits=config["n_qubits"])


def run_named(name: str, options) -> dict:
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    repeats = options.repeats or DEFAULT_REPEATS
    configs = list(_configs(name, options.quick))
    rows = []
    started = time.perf_counter()
    for i, config in enumerate(configs):
        t0 = time.perf_counter()
        model = _build(config)
        row = {**config, **measure(model, config["batch"], repeats, prototypes=options.prototypes)}
        rows.append(row)
        t = row["timings"]
        print(
            f"[{name} {i + 1}/{len(configs)}] {row['model']} B={config['batch']}: "
            f"fast {t['fast']['wall_s']['median'] * 1e3:.1f} ms, stock {t['stock']['wall_s']['median'] * 1e3:.1f} ms, "
            f"nonprivate {t['nonprivate']['wall_s']['median'] * 1e3:.1f} ms "
            f"({time.perf_counter() - t0:.0f}s)",
            file=sys.stderr, flush=True,
        )
    section = {
        "title": TITLES[name],
        "status": "ok",
        "repeats": repeats,
        "min_seconds_per_measurement": MIN_SECONDS,
        "rows": rows,
        "elapsed_s": time.perf_counter() - started,
        "targets": _targets(name, rows),
    }
    return section


def resummarise(name: str, section: dict) -> None:
    """Re-judge stored rows (``run.py --render-only``)."""
    section["targets"] = _targets(name, section.get("rows", []))


def _span(rows: list[dict], key: str) -> str:
    values = [r["ratios"][key]["median"] for r in rows if key in r["ratios"]]
    return f"{min(values):.2f}–{max(values):.2f}" if values else "—"


def _targets(name: str, rows: list[dict]) -> list[dict]:
    if name != "dp_quantum":
        if not rows:
            return []
        proposed = any("stock/fast_fused_closed_wall" in r["ratios"] for r in rows)
        return [harness.target(
            "vectorised vs stock on the classical baselines", "(no numeric target)",
            f"stock/fast medians {_span(rows, 'stock/fast_wall')} over {len(rows)} configurations",
            None,
            (f"prototype fused + closed-form clip: stock/closed {_span(rows, 'stock/fast_fused_closed_wall')}, "
             f"fast/closed {_span(rows, 'fast/fast_fused_closed_wall')}") if proposed else "",
            info=True,
        )]
    at = [r for r in rows if r["n_qubits"] == TARGET_QUBITS]
    if not at:
        return [
            harness.target(f"fast ≤ {FAST_OVER_NONPRIVATE_MAX}× non-private at {TARGET_QUBITS} qubits",
                           f"fast/nonprivate ≤ {FAST_OVER_NONPRIVATE_MAX}", "not measured (quick grid)", None),
            harness.target(f"fast ≥ {STOCK_OVER_FAST_MIN:g}× faster than stock at {TARGET_QUBITS} qubits",
                           f"stock/fast ≥ {STOCK_OVER_FAST_MIN:g}", "not measured (quick grid)", None),
        ]
    out = []
    worst = max(at, key=lambda r: r["ratios"]["fast/nonprivate_wall"]["median"])
    cells = "; ".join(f"{r['family']} B={r['batch']}: {_ratio_text(r['ratios']['fast/nonprivate_wall'])}" for r in at)
    out.append(harness.target(
        f"fast ≤ {FAST_OVER_NONPRIVATE_MAX}× non-private at {TARGET_QUBITS} qubits",
        f"fast/nonprivate ≤ {FAST_OVER_NONPRIVATE_MAX} (wall, per-repetition ratio, every family and batch)",
        cells, all(r["ratios"]["fast/nonprivate_wall"]["median"] <= FAST_OVER_NONPRIVATE_MAX for r in at),
        f"worst: {worst['family']} B={worst['batch']}; process-CPU ratios: "
        + ", ".join(f"{r['ratios']['fast/nonprivate_cpu']['median']:.2f}" for r in at),
    ))
    worst = min(at, key=lambda r: r["ratios"]["stock/fast_wall"]["median"])
    cells = "; ".join(f"{r['family']} B={r['batch']}: {_ratio_text(r['ratios']['stock/fast_wall'])}" for r in at)
    out.append(harness.target(
        f"fast ≥ {STOCK_OVER_FAST_MIN:g}× faster than stock at {TARGET_QUBITS} qubits",
        f"stock/fast ≥ {STOCK_OVER_FAST_MIN:g} (wall, per-repetition ratio, every family and batch)",
        cells, all(r["ratios"]["stock/fast_wall"]["median"] >= STOCK_OVER_FAST_MIN for r in at),
        f"worst: {worst['family']} B={worst['batch']}; process-CPU ratios: "
        + ", ".join(f"{r['ratios']['stock/fast_cpu']['median']:.1f}" for r in at),
    ))
    return out


def _ratio_text(stat: dict) -> str:
    return f"{stat['median']:.2f} ({stat['min']:.2f}–{stat['max']:.2f})"


def _ms(stat: dict) -> str:
    return f"{stat['median'] * 1e3:.3g} ({stat['min'] * 1e3:.3g}–{stat['max'] * 1e3:.3g})"


def _row_label(row: dict) -> str:
    """The model of a row; a classical baseline also names the quantum model it is matched to."""
    return row["model"] if "matched_to" not in row else f"{row['model']} ≈ {row['matched_to']}({row['n_qubits']}q)"


def markdown_for(name: str, section: dict) -> str:
    lines = [
        f"{section.get('repeats')} interleaved repetitions; wall-clock milliseconds per step, median (min–max); "
        "ratios formed per repetition. `fast` = tiled-weights per-example path + TF Privacy Gaussian sum query; "
        "`stock` = TF Privacy `DPKerasSGDOptimizer`, one microbatch per example; `nonprivate` = mean batch gradient. "
        "`|Δ|σ=0` = max |fast − stock| of the clipped sums at σ = 0 (same computation check).",
        "",
        "| model | P | B | fast ms | stock ms | non-private ms | fast / non-private | stock / fast | |Δ|σ=0 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in section.get("rows", []):
        t, q = r["timings"], r["ratios"]
        label = _row_label(r)
        lines.append(
            f"| {label} | {r['n_weights']} | {r['batch']} | {_ms(t['fast']['wall_s'])} | {_ms(t['stock']['wall_s'])} | "
            f"{_ms(t['nonprivate']['wall_s'])} | {_ratio_text(q['fast/nonprivate_wall'])} | "
            f"{_ratio_text(q['stock/fast_wall'])} | {r['sigma0_max_abs_diff_fast_vs_stock']:.1e} |"
        )
    proto_rows = [r for r in section.get("rows", []) if "fast_fused" in r["timings"]]
    if proto_rows:
        lines += [
            "",
            "Proposed (out-of-tree prototype `benchmarks/prototypes.py: fused_fast_step`, timed in the same "
            "repetitions): `fused` = the fast path's three TF stages in one `tf.function` (same TF Privacy query; "
            "clipped sum at σ = 0 bit-identical, `|Δ|` column); `closed` = fused with the closed-form clip "
            "g·C/max(‖g‖, C) instead of `vectorized_map(preprocess_record)`.",
            "",
            "| model | B | fast ms | fused ms | closed ms | fast / fused | fused / non-private | "
            "closed / non-private | stock / closed | |Δ|σ=0 fused, closed |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in proto_rows:
            t, q = r["timings"], r["ratios"]
            label = _row_label(r)
            lines.append(
                f"| {label} | {r['batch']} | {_ms(t['fast']['wall_s'])} | {_ms(t['fast_fused']['wall_s'])} | "
                f"{_ms(t['fast_fused_closed']['wall_s'])} | {_ratio_text(q['fast/fast_fused_wall'])} | "
                f"{_ratio_text(q['fast_fused/nonprivate_wall'])} | {_ratio_text(q['fast_fused_closed/nonprivate_wall'])} | "
                f"{_ratio_text(q['stock/fast_fused_closed_wall'])} | "
                f"{r['sigma0_max_abs_diff_fast_fused_vs_fast']:.1e}, {r['sigma0_max_abs_diff_fast_fused_closed_vs_fast']:.1e} |"
            )
    return "\n".join(lines)


def plot_for(name: str, section: dict, out_dir: Path) -> list[str]:
    rows = section.get("rows", [])
    if name != "dp_quantum" or not rows:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = sorted({r["family"] for r in rows})
    batches = sorted({r["batch"] for r in rows})
    fig, axes = plt.subplots(1, len(families), figsize=(5.5 * len(families), 4.2), squeeze=False)
    styles = {"fast": ("o", "-"), "stock": ("s", "--"), "nonprivate": ("^", ":")}
    for ax, family in zip(axes[0], families):
        for batch, shade in zip(batches, (0.45, 1.0)):
            for variant, (marker, line) in styles.items():
                pts = sorted((r["n_qubits"], r["timings"][variant]["wall_s"]) for r in rows
                             if r["family"] == family and r["batch"] == batch)
                if not pts:
                    continue
                xs = [p[0] for p in pts]
                med = np.array([p[1]["median"] for p in pts]) * 1e3
                err = np.array([[p[1]["median"] - p[1]["min"], p[1]["max"] - p[1]["median"]] for p in pts]).T * 1e3
                ax.errorbar(xs, med, yerr=err, marker=marker, ls=line, capsize=2, alpha=shade,
                            label=f"{variant}, B={batch}")
        ax.set(yscale="log", xlabel="qubits", ylabel="ms per step (wall)", title=family)
        ax.set_xticks(sorted({r["n_qubits"] for r in rows}))
        ax.legend(fontsize=7)
    return [save_figure_atomic(fig, out_dir / "dp_quantum.png", dpi=120).name]


def markdown(section: dict) -> str:  # pragma: no cover - run.py uses markdown_for
    return markdown_for("dp_quantum", section)


__all__ = ["measure", "run_named", "markdown_for", "plot_for"]
