r"""What the refined gradient bound buys: DP-SGD test accuracy with C at the new bound vs the old.

DP-SGD clips every per-example gradient at C and adds N(0, σ²C²I) to their sum (Abadi et al.,
"Deep Learning with Differential Privacy", CCS 2016, Alg. 1); σ is fixed by (ε, δ), the sampling
rate q and the number of steps T, so at one ε the noise standard deviation σ·C is proportional
to C. When C is a deterministic bound G* on ‖∇_θ ℓ‖₂ over the public input domain no example is
ever clipped, and a tighter G* lowers the noise at no cost in privacy. This benchmark measures
how much test accuracy that is worth for the quantum models of the paper checks (C3: ``hea`` on
``quantum`` and ``digits:0v1``; C2: ``hea``, ``reupload``, ``native`` on ``quantum``):

- ``new`` arm: ``clip="bound"``, the trainer's G* — the refined model bound
  (``gradient_bound(ansatz)``, refinements on) times the loss derivative in the coupled form where
  it is smaller (``LossGradientBound.value``);
- ``old`` arm: ``clip = G_old``, the base model bound (``gradient_bound(ansatz, refine=False)``) in
  the product form s · sup|∂ℓ/∂z| · G (``LossGradientBound.uncoupled_value``).

The arms are *paired*: for each seed both use the same public seed (data split, initial weights)
and the same ``simulation_seed`` (Gaussian noise draws and Poisson batches), so they differ only
in C. With a simulation seed the runs are a labelled simulation of DP training — the noise is a
function of the seed — which is what a paired comparison needs; the privacy accounting is that of
the real mechanism. Per cell (model, dataset, ε) the summary gives each arm's mean test accuracy
with a 95% Student-t interval over seeds, the paired difference new − old with its t-interval and
the two-sided paired t-test p-value (``privqml.paper_checks.stats.paired_test``), and the noise std σ·C per arm.

Each finished run is stored at once in its cell's cache file (``results/refined_clip_accuracy_cells/``),
keyed by every parameter that determines it (settings and both clips); a rerun skips finished runs.
Outputs: ``results/refined_clip_accuracy.json``, ``.md`` (with the command) and ``.png``.

    python -m benchmarks.refined_clip_accuracy [--seeds 5] [--epsilons 1 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import json
import math
import multiprocessing
import os
import re
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from privqml import jsonio
from privqml.atomic import save_figure_atomic, write_text_atomic
from privqml.paper_checks.stats import mean_ci, paired_test

RESULTS = Path(__file__).resolve().parent / "results"
CELL_CACHE = RESULTS / "refined_clip_accuracy_cells"
ARMS = ("old", "new")
#: (model, dataset) of the paper checks' quantum models: C3 (hea on two tasks) and C2 (three families).
MODEL_DATASETS = (("hea", "quantum"), ("hea", "digits:0v1"), ("reupload", "quantum"), ("native", "quantum"))
CONFIDENCE = 0.95
SIMULATION_NOTE = (
    "Simulation-mode runs (simulation_seed = seed): noise and Poisson batches are a function of the seed, so "
    "the two arms of a seed share them; the (ε, δ) accounting is that of the real mechanism"
)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Training settings shared by every run (those of the paper checks' ``quick`` profile).

    Attributes:
        epochs: passes over the training split; T = epochs · round(n_train / batch_size) steps.
        batch_size: expected Poisson batch size L (q = L / n_train).
        lr, optimizer: a fixed learning rate and optimizer (no learning-rate selection).
        n_train, n_test: sizes of the synthetic task (digits use their own split sizes).
        delta: the δ of every (ε, δ).
    """

    epochs: int = 8
    batch_size: int = 32
    lr: float = 0.05
    optimizer: str = "adam"
    n_train: int = 200
    n_test: int = 200
    delta: float = 1e-5


@dataclasses.dataclass(frozen=True)
class Cell:
    """One comparison: a quantum model spec, a dataset spec and a target ε."""

    model: str
    dataset: str
    epsilon: float

    @property
    def label(self) -> str:
        return f"{self.model} / {self.dataset} / ε={self.epsilon:g}"

    @property
    def file_name(self) -> str:
        model = re.sub(r"[^A-Za-z0-9_.=-]+", "-", self.model)  # a user's spec names a file: path and ':' out
        return f"{model}__{self.dataset.replace(':', '-')}__eps{self.epsilon:g}.json"


@dataclasses.dataclass(frozen=True)
class ClipBounds:
    """The two loss-gradient bounds of a model (units of ∇_θ ℓ: loss per unit weight).

    Attributes:
        g_old: base model bound (no refinements) × sup|∂ℓ/∂z| × readout scale (product form).
        g_new: the trainer's G*: refined model bound, coupled loss form where smaller.
    """

    g_old: float
    g_new: float

    @property
    def ratio(self) -> float:
        """G_new / G_old (below 1 when the refinement tightens the bound)."""
        return self.g_new / self.g_old


@dataclasses.dataclass(frozen=True)
class RunTask:
    """One training run: a cell, a seed (public seed = simulation seed) and an arm with its clip."""

    cell: Cell
    seed: int
    arm: str
    clip: float | str
    settings: Settings

    @property
    def key(self) -> str:
        return f"seed={self.seed},arm={self.arm}"


@dataclasses.dataclass(frozen=True)
class Interval:
    """A mean over n values with its two-sided Student-t confidence interval (NaN bounds for n < 2)."""

    mean: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class PairedComparison:
    """Paired comparison of two arms over the same seeds.

    Attributes:
        old, new: each arm's mean test accuracy with its t-interval.
        difference: the mean of the per-seed differences new − old with its t-interval.
        p_value: two-sided paired t-test of "mean difference = 0" (NaN with fewer than 2 pairs;
            :func:`privqml.paper_checks.stats.paired_test` for the equal-differences case).
    """

    old: Interval
    new: Interval
    difference: Interval
    p_value: float

    def as_dict(self) -> dict:
        return {"old": self.old.as_dict(), "new": self.new.as_dict(), "difference": self.difference.as_dict(),
                "p_value": self.p_value}


@dataclasses.dataclass(frozen=True)
class CellSummary:
    """The result of one cell.

    Attributes:
        cell: model, dataset, ε.
        bounds: G_old, G_new (loss per unit weight).
        seeds: the seeds, in the order of the per-seed accuracies.
        accuracy_old, accuracy_new: final test accuracy per seed.
        comparison: the paired statistics of those accuracies.
        noise_multiplier: σ (noise std / C), the same in both arms (same ε, q, T).
        noise_std_old, noise_std_new: σ·C, the std of the Gaussian noise added to the clipped sum.
        fraction_clipped_old, fraction_clipped_new: mean over seeds and meter readings of the share
            of per-example gradients with norm above C (a private-data diagnostic).
        n_train, n_test: split sizes as trained.
    """

    cell: Cell
    bounds: ClipBounds
    seeds: tuple[int, ...]
    accuracy_old: tuple[float, ...]
    accuracy_new: tuple[float, ...]
    comparison: PairedComparison
    noise_multiplier: float
    noise_std_old: float
    noise_std_new: float
    fraction_clipped_old: float
    fraction_clipped_new: float
    n_train: int
    n_test: int

    def as_dict(self) -> dict:
        return {
            **dataclasses.asdict(self.cell), "g_old": self.bounds.g_old, "g_new": self.bounds.g_new,
            "g_ratio_new_over_old": self.bounds.ratio, "seeds": list(self.seeds),
            "accuracy_old": list(self.accuracy_old), "accuracy_new": list(self.accuracy_new),
            **self.comparison.as_dict(), "noise_multiplier": self.noise_multiplier,
            "noise_std_old": self.noise_std_old, "noise_std_new": self.noise_std_new,
            "fraction_clipped_old": self.fraction_clipped_old, "fraction_clipped_new": self.fraction_clipped_new,
            "n_train": self.n_train, "n_test": self.n_test,
        }


# ---------------------------------------------------------------- pure analysis


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """mean ± t_{(1+confidence)/2, n−1} · s/√n (s the sample standard deviation): the paper checks'
    :func:`privqml.paper_checks.stats.mean_ci`, kept in this table's four fields."""
    interval = mean_ci(values, confidence)
    return Interval(interval.mean, interval.low, interval.high, interval.n)


def paired_comparison(old: Sequence[float], new: Sequence[float]) -> PairedComparison:
    """Per-arm intervals, and the paired test of new − old by the paper checks' own statistics
    (:func:`privqml.paper_checks.stats.paired_test`: per-seed differences rounded to 1e-12, the paired
    t-test; a constant non-zero difference has p = 0, no difference at all p = 1)."""
    old, new = np.asarray(old, dtype=float), np.asarray(new, dtype=float)
    assert old.shape == new.shape, (old.shape, new.shape)
    test = paired_test(new, old)
    d = test.difference
    return PairedComparison(t_interval(old), t_interval(new), Interval(d.mean, d.low, d.high, d.n), test.t_pvalue)


def summarise_cell(cell: Cell, bounds: ClipBounds, runs: dict[str, dict]) -> CellSummary:
    """The :class:`CellSummary` of a cell from its finished runs, keyed ``seed=S,arm=A``; only the
    seeds finished in both arms are used (the comparison is paired)."""
    seeds = sorted({r["seed"] for r in runs.values()})
    seeds = [s for s in seeds if all(f"seed={s},arm={a}" in runs for a in ARMS)]
    assert seeds, f"no seed of {cell.label} finished in both arms"
    arm = {a: [runs[f"seed={s},arm={a}"] for s in seeds] for a in ARMS}
    accuracy = {a: tuple(float(r["test_accuracy"]) for r in arm[a]) for a in ARMS}
    sigmas = {float(r["noise_multiplier"]) for a in ARMS for r in arm[a]}
    assert len(sigmas) == 1, f"{cell.label}: the arms' σ differ: {sigmas}"
    sigma = sigmas.pop()
    return CellSummary(
        cell, bounds, tuple(seeds), accuracy["old"], accuracy["new"],
        paired_comparison(accuracy["old"], accuracy["new"]), sigma,
        sigma * bounds.g_old, sigma * bounds.g_new,
        float(np.mean([r["fraction_clipped"] for r in arm["old"]])),
        float(np.mean([r["fraction_clipped"] for r in arm["new"]])),
        int(arm["new"][0]["n_train"]), int(arm["new"][0]["n_test"]),
    )


def _ci(interval: Interval) -> str:
    if math.isnan(interval.low):
        return f"{interval.mean:.3f}"
    return f"{interval.mean:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def _signed_ci(interval: Interval) -> str:
    if math.isnan(interval.low):
        return f"{interval.mean:+.3f}"
    return f"{interval.mean:+.3f} [{interval.low:+.3f}, {interval.high:+.3f}]"


def table_rows(summaries: Sequence[CellSummary]) -> list[str]:
    """The markdown table of the summaries, header first (one row per cell)."""
    rows = [
        "| model | dataset | ε | n_train / n_test | G_old | G_new | G_new/G_old | σ | σ·C old | σ·C new "
        "| acc old (95% CI) | acc new (95% CI) | new − old (95% CI) | p (paired t) | clipped old / new |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        c = s.comparison
        p = "n/a" if math.isnan(c.p_value) else f"{c.p_value:.3g}"
        rows.append(
            f"| {s.cell.model} | {s.cell.dataset} | {s.cell.epsilon:g} | {s.n_train} / {s.n_test} "
            f"| {s.bounds.g_old:.4f} | {s.bounds.g_new:.4f} | {s.bounds.ratio:.3f} | {s.noise_multiplier:.3f} "
            f"| {s.noise_std_old:.3f} | {s.noise_std_new:.3f} | {_ci(c.old)} | {_ci(c.new)} | {_signed_ci(c.difference)} "
            f"| {p} | {s.fraction_clipped_old:.2f} / {s.fraction_clipped_new:.2f} |"
        )
    return rows


def render_markdown(summaries: Sequence[CellSummary], settings: Settings, command: str, meta: dict) -> str:
    """The .md report: what was compared, how, the table and the command."""
    n_seeds = sorted({len(s.seeds) for s in summaries})
    lines = [
        "# Refined vs old clipping bound: DP-SGD test accuracy",
        "",
        f"Command: `{command}` (wall time {meta['wall_seconds']:.0f} s for {meta['runs_trained']} runs trained, "
        f"{meta['runs_cached']} taken from the cell cache; the {sum(len(s.seeds) for s in summaries) * 2} runs "
        f"summarised took {meta['run_seconds_total']:.0f} s of worker time in all; {meta['date']}).",
        "",
        f"{SIMULATION_NOTE}. Arms per seed: `old` clips at G_old (base model bound, product loss form), "
        "`new` at the trainer's G* (`clip=\"bound\"`: refined model bound, coupled loss form); same public seed "
        "(split, initial weights) and simulation seed in both arms, so they differ only in C.",
        "",
        f"Settings: epochs {settings.epochs}, expected batch {settings.batch_size}, {settings.optimizer} at a fixed "
        f"lr {settings.lr}, n_train {settings.n_train} / n_test {settings.n_test} (digits: their own split), "
        f"δ = {settings.delta:g}, seeds per cell: {', '.join(map(str, n_seeds))}. Accuracy is the final test accuracy; "
        f"intervals are {CONFIDENCE:.0%} Student-t over seeds; p is the two-sided paired t-test of new − old; "
        "σ·C is the noise std on the clipped gradient sum; \"clipped\" is the mean share of per-example "
        "gradients above C at the meter's readings (a diagnostic of the private data).",
        "",
        *table_rows(summaries),
        "",
    ]
    return "\n".join(lines)


def plot_points(summaries: Sequence[CellSummary]) -> list[dict]:
    """The numbers :func:`plot_accuracy` draws, one dict per cell in table order."""
    return [{
        "label": s.cell.label, "old": s.comparison.old.mean, "old_ci": (s.comparison.old.low, s.comparison.old.high),
        "new": s.comparison.new.mean, "new_ci": (s.comparison.new.low, s.comparison.new.high),
        "difference": s.comparison.difference.mean,
        "difference_ci": (s.comparison.difference.low, s.comparison.difference.high),
    } for s in summaries]


def plot_accuracy(summaries: Sequence[CellSummary], path: str | Path) -> list[dict]:
    """Draw mean test accuracy of both arms per cell (left) and the paired difference new − old
    (right), each with its 95% interval, save the PNG at ``path`` atomically and return the
    numbers drawn (:func:`plot_points`)."""
    import matplotlib  # lazy: only the plot needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = plot_points(summaries)
    y = np.arange(len(points))[::-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.55 * len(points) + 1.6), sharey=True)
    for arm, offset, color in (("old", 0.12, "tab:gray"), ("new", -0.12, "tab:blue")):
        means = np.array([p[arm] for p in points])
        err = _error_bars(means, [p[f"{arm}_ci"] for p in points])
        left.errorbar(means, y + offset, xerr=err, fmt="o", color=color, capsize=3, label=f"C = G_{arm}")
    diffs = np.array([p["difference"] for p in points])
    right.errorbar(diffs, y, xerr=_error_bars(diffs, [p["difference_ci"] for p in points]), fmt="s",
                   color="tab:green", capsize=3)
    right.axvline(0.0, color="black", lw=0.8)
    left.set_yticks(y, [p["label"] for p in points])
    left.set_xlabel("test accuracy (mean, 95% t-interval)")
    right.set_xlabel("paired difference new − old")
    left.legend(loc="lower left", fontsize=8)
    fig.suptitle("DP-SGD at the refined vs the old clipping bound (simulation mode, paired seeds)", fontsize=10)
    save_figure_atomic(fig, path)
    return points


def _error_bars(means: np.ndarray, intervals) -> np.ndarray:
    low = np.array([m - lo if not math.isnan(lo) else 0.0 for m, (lo, _) in zip(means, intervals)])
    high = np.array([hi - m if not math.isnan(hi) else 0.0 for m, (_, hi) in zip(means, intervals)])
    return np.vstack([low, high])


# ---------------------------------------------------------------- training (TensorFlow)


def clip_bounds(model: str, dataset: str) -> ClipBounds:
    """G_old and G_new of ``model`` for the classes of ``dataset`` (module docstring)."""
    # lazy: building a quantum model loads TensorFlow; the analysis above and its test stay light
    from privqml.models.data import dataset_classes
    from privqml.models.zoo import build_model
    from privqml.theory import gradient_bound, loss_gradient_bound

    quantum = build_model(model, dataset_classes(dataset), 0)
    new = quantum.loss_gradient_bound()
    old = loss_gradient_bound(quantum.ansatz, quantum.loss, clamp=quantum.clamp,
                              bound=gradient_bound(quantum.ansatz, refine=False))
    assert new.value is not None and old.uncoupled_value is not None, (model, new, old)
    return ClipBounds(g_old=float(old.uncoupled_value), g_new=float(new.value))


def train_run(task: RunTask) -> dict:
    """Train one run and return what the summary needs (runs in a worker process)."""
    # lazy: TensorFlow is imported in the worker, after the parent set its thread count
    from privqml.models.training.records import TrainConfig
    from privqml.models.training.trainer import train

    s, started = task.settings, time.perf_counter()
    config = TrainConfig(
        model=task.cell.model, dataset=task.cell.dataset, epsilon=task.cell.epsilon, delta=s.delta, clip=task.clip,
        epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, optimizer=s.optimizer, seed=task.seed,
        n_train=s.n_train, n_test=s.n_test, simulation_seed=task.seed,
    )
    result = train(config)
    fractions = [r.fraction_clipped for r in result.clip_history]
    return {
        "seed": task.seed, "arm": task.arm, "test_accuracy": result.test_accuracy, "clip": result.clip,
        "clip_source": result.clip_source, "grad_norm_bound": result.grad_norm_bound,
        "noise_multiplier": result.privacy.noise_multiplier, "epsilon_rdp": result.privacy.epsilon_rdp,
        "fraction_clipped": float(np.mean(fractions)) if fractions else 0.0,
        "n_train": result.dataset["n_train"], "n_test": result.dataset["n_test"],
        "seconds": time.perf_counter() - started,
    }


def _cell_identity(cell: Cell, bounds: ClipBounds, settings: Settings) -> dict:
    return jsonio.to_jsonable({"cell": dataclasses.asdict(cell), "bounds": dataclasses.asdict(bounds),
                               "settings": dataclasses.asdict(settings)})


def load_cell_runs(cell: Cell, bounds: ClipBounds, settings: Settings) -> dict[str, dict]:
    """The cached finished runs of a cell whose identity (cell, bounds, settings) matches; else {}."""
    path = CELL_CACHE / cell.file_name
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    return saved["runs"] if saved.get("identity") == _cell_identity(cell, bounds, settings) else {}


def store_cell_runs(cell: Cell, bounds: ClipBounds, settings: Settings, runs: dict[str, dict]) -> None:
    write_text_atomic(CELL_CACHE / cell.file_name,
                      jsonio.dumps({"identity": _cell_identity(cell, bounds, settings), "runs": runs}, indent=1))


def _set_worker_threads() -> None:
    """One TF/BLAS thread per process (inherited by spawned workers): ``workers`` runs on as many cores."""
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _train_in_pool(tasks: Sequence[RunTask], workers: int):
    """Yield (task, :func:`train_run` result) as each finishes, on ``workers`` spawned processes."""
    if not tasks:
        return
    context = multiprocessing.get_context("spawn")  # TensorFlow is not fork-safe
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        futures = {pool.submit(train_run, t): t for t in tasks}
        for future in cf.as_completed(futures):
            yield futures[future], future.result()


def run_all(cells: Sequence[Cell], seeds: Sequence[int], settings: Settings, workers: int) -> tuple[list, dict]:
    """Train every unfinished run (cache first), storing each as it finishes; returns the
    summaries in cell order, the counts of runs trained and cached, and the summed wall time of
    the runs summarised (each timed in its worker)."""
    bounds = {(c.model, c.dataset): None for c in cells}
    for model, dataset in bounds:
        bounds[model, dataset] = clip_bounds(model, dataset)
    runs = {c: load_cell_runs(c, bounds[c.model, c.dataset], settings) for c in cells}
    tasks = [RunTask(c, seed, arm, "bound" if arm == "new" else bounds[c.model, c.dataset].g_old, settings)
             for c in cells for seed in seeds for arm in ARMS]
    todo = [t for t in tasks if t.key not in runs[t.cell]]
    print(f"{len(tasks)} runs, {len(tasks) - len(todo)} cached, {len(todo)} to train on {workers} worker(s)", flush=True)
    for done, (task, run) in enumerate(_train_in_pool(todo, workers), 1):
        g = bounds[task.cell.model, task.cell.dataset]
        expected = g.g_new if task.arm == "new" else g.g_old
        assert math.isclose(run["clip"], expected, rel_tol=1e-12), (task, run["clip"], expected)
        runs[task.cell][task.key] = run
        store_cell_runs(task.cell, g, settings, runs[task.cell])
        print(f"[{done}/{len(todo)}] {task.cell.label} seed={task.seed} arm={task.arm} C={run['clip']:.4f} "
              f"σ={run['noise_multiplier']:.3f}: test acc {run['test_accuracy']:.3f} ({run['seconds']:.1f} s)",
              flush=True)
    used = [{k: r for k, r in runs[c].items() if r["seed"] in seeds} for c in cells]
    summaries = [summarise_cell(c, bounds[c.model, c.dataset], u) for c, u in zip(cells, used)]
    return summaries, {"runs_trained": len(todo), "runs_cached": len(tasks) - len(todo),
                       "run_seconds_total": sum(r["seconds"] for u in used for r in u.values())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per cell (default 5)")
    parser.add_argument("--epsilons", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--workers", type=int, default=2, help="training processes (at most 2 on a shared machine)")
    parser.add_argument("--models", nargs="+", metavar="SPEC@DATASET",
                        help="quantum models to compare instead of the paper checks' (e.g. a user's ansatz: "
                             "examples/my_ansatz.py:my_ansatz@circle)")
    parser.add_argument("--name", default="refined_clip_accuracy", help="basename of the results files")
    args = parser.parse_args(argv)
    if args.seeds < 2 or args.workers < 1:
        parser.error(f"--seeds={args.seeds} must be >= 2 (paired intervals) and --workers={args.workers} >= 1")
    _set_worker_threads()
    command = (f"python -m benchmarks.refined_clip_accuracy --seeds {args.seeds} "
               f"--epsilons {' '.join(f'{e:g}' for e in args.epsilons)} --workers {args.workers}"
               + (f" --models {' '.join(args.models)}" if args.models else "")
               + (f" --name {args.name}" if args.name != "refined_clip_accuracy" else ""))
    settings = Settings()
    pairs = MODEL_DATASETS if not args.models else [tuple(m.rsplit("@", 1)) for m in args.models]
    if any(len(p) != 2 for p in pairs):
        parser.error(f"--models {args.models}: give SPEC@DATASET pairs, e.g. examples/my_ansatz.py:my_ansatz@circle")
    cells = [Cell(m, d, float(e)) for m, d in pairs for e in args.epsilons]
    started = time.perf_counter()
    summaries, counts = run_all(cells, list(range(args.seeds)), settings, args.workers)
    meta = {"command": command, "wall_seconds": time.perf_counter() - started,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **counts}
    plotted = plot_accuracy(summaries, RESULTS / f"{args.name}.png")
    write_text_atomic(RESULTS / f"{args.name}.json", jsonio.dumps({
        **meta, "simulation": SIMULATION_NOTE, "settings": dataclasses.asdict(settings),
        "cells": [s.as_dict() for s in summaries], "plotted": plotted,
    }, indent=1))
    markdown = render_markdown(summaries, settings, command, meta)
    write_text_atomic(RESULTS / f"{args.name}.md", markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
