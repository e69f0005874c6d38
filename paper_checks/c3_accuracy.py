"""C3 — accuracy retention at a fixed clip and a fixed privacy budget (arXiv:2606.29293).

Claim: *under a fixed clipping threshold C and a fixed budget (ε, δ), quantum models keep
higher accuracy than equivalent classical models, on synthetic and image tasks.*

Protocol (the paper's, as we read it):

- tasks: a synthetic task (``quantum``: labels from a random circuit) and digits (8×8 images,
  PCA-reduced to the circuit's inputs), more in the ``full`` profile;
- models: the quantum model (``hea``) and the classical baseline matched to it (``mlp``: same
  inputs, loss, readout and at most as many weights — :mod:`privqml.models.classical`);
- C fixed per cell and *the same for both arms*: ``bound`` (the quantum model's loss-gradient
  bound G*, data-free) and fixed numbers; ε from a grid, and ε = ∞ (no clipping, no noise) as
  the reference of the retention ratio;
- replicates r = 0..n−1: both arms of replicate r share the data split, the Poisson draws and
  the noise stream (``seed = task.int_seed("dataset")``), so the comparison is paired;
- per cell (task, C, ε): test accuracy mean and 95% t-interval per arm; retention
  acc(ε)/acc(∞) per replicate with its interval; paired t-test and Wilcoxon test of
  quantum − classical accuracy, Holm-adjusted over the cells.

Verdict: the comparative rule of :mod:`privqml.paper_checks.stats` on the *private test
accuracy* cells (what the claim states); retention is reported beside it with its own paired
test. The noise σ of both arms is the same (same q, steps, ε, δ), so the two arms spend the
same budget — reported per cell from the runs' accountants.

:func:`analyse` is the pure part (runs -> :class:`C3Analysis`: cells, references, curves,
verdict); :func:`render` turns an analysis into the report's tables and the accuracy-vs-ε plot;
:func:`summarise` is the two in a row.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from privqml.paper_checks import plots, stats
from privqml.paper_checks.profiles import Profile
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.report import ClaimReport, Figure, Table
from privqml.paper_checks.stats import Interval, PairedComparison, Verdict

CLAIM = "C3"
#: a model whose non-private accuracy is within this of chance (1 / n_classes) has not learnt the
#: task: its retention (private / non-private) is then no measure of what privacy costs it
NEAR_CHANCE = 0.05
TITLE = "accuracy retention at fixed clip and budget"
STATEMENT = (
    "Under a fixed clipping threshold and a fixed privacy budget, quantum models keep higher accuracy "
    "than equivalent classical models, on synthetic and on image-classification tasks."
)
PLOT_NAME = "c3_accuracy_vs_epsilon.png"

#: (dataset, model, clip, epsilon) -> replicate -> the run's stored result
Runs = Mapping[tuple, Mapping[int, Mapping[str, Any]]]


def tasks(profile: Profile) -> list[Task]:
    """Every training run of the comparison (private cells and the ε = ∞ references)."""
    out = []
    finite = [e for e in profile.c3_epsilons if math.isfinite(e)]
    for dataset in profile.c3_datasets:
        for model in (profile.c3_quantum, profile.c3_classical):
            common = dict(model=model, dataset=dataset, delta=profile.delta, epochs=profile.epochs,
                          batch_size=profile.batch_size, lr=profile.learning_rate, optimizer="adam",
                          n_train=profile.n_train, n_test=profile.n_test)
            for r in range(profile.seeds):
                out.append(Task.make("c3", "train", replicate=r, epsilon=math.inf, clip=None, **common))
                for clip in profile.c3_clips:
                    for epsilon in finite:
                        out.append(Task.make("c3", "train", replicate=r, epsilon=float(epsilon), clip=clip, **common))
    return out


def run_task(task: Task, rng: np.random.Generator) -> dict[str, Any]:
    # TensorFlow and TFQ: imported only in the process that trains (not by the report).
    from privqml.paper_checks.training import run_training_task

    return run_training_task(task)


def _clip_label(clip: str | float, value: float | None) -> str:
    if clip == "bound":
        return f"bound ({value:.4g})" if value is not None else "bound"
    return f"{float(clip):g}"


# -- the analysis (pure) --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Retention:
    """Retention R_r = acc_r(ε) / acc_r(∞) of each arm over the replicates that have both arms and
    both references, and the paired comparison of R (quantum − classical; Holm-adjusted over
    the cells that have retention)."""

    quantum: Interval
    classical: Interval
    comparison: PairedComparison


@dataclasses.dataclass(frozen=True)
class Cell:
    """One cell (task, C, ε) of the comparison: private test accuracy of both arms, paired by seed.

    Attributes:
        dataset: the task (dataset spec).
        clip: C as the task records give it: ``"bound"`` or a number.
        clip_value: C of the runs (for ``"bound"``: the quantum model's G*), in gradient-norm units.
        epsilon: the target ε of both arms (δ is the profile's).
        replicates: the seeds both arms ran, ascending.
        quantum, classical: mean test accuracy with its 95% t-interval (fraction correct).
        comparison: the paired test of d_r = quantum_r − classical_r: the estimate (mean d) with
            its interval, the t-test p-value, the Holm-adjusted p-value (over all cells of the
            claim) and the decision (``quantum higher`` / ``classical higher`` / ``equivalent`` /
            ``undecided``).
        retention: :class:`Retention`, or None when no replicate has both references.
        epsilon_pld_spent: the distinct PLD ε (6 decimals) the runs of both arms spent.
        noise_multiplier: the distinct σ (6 decimals) of the runs of both arms.
    """

    dataset: str
    clip: str | float
    clip_value: float | None
    epsilon: float
    replicates: tuple[int, ...]
    quantum: Interval
    classical: Interval
    comparison: PairedComparison
    retention: Retention | None
    epsilon_pld_spent: tuple[float, ...]
    noise_multiplier: tuple[float, ...]

    @property
    def estimate(self) -> float:
        """Mean over seeds of quantum − classical accuracy."""
        return self.comparison.difference.mean

    @property
    def holm_pvalue(self) -> float:
        return self.comparison.adjusted_pvalue

    @property
    def decision(self) -> str:
        return self.comparison.outcome

    @property
    def label(self) -> str:
        return f"{self.dataset} C={_clip_label(self.clip, self.clip_value)} ε={self.epsilon:g}"

    def to_json(self) -> dict[str, Any]:
        retention = self.retention
        return {
            "dataset": self.dataset, "clip": self.clip, "clip_value": self.clip_value, "epsilon": self.epsilon,
            "replicates": list(self.replicates), "accuracy_quantum": self.quantum.to_json(),
            "accuracy_classical": self.classical.to_json(), "paired_accuracy": self.comparison.to_json(),
            "retention_quantum": retention.quantum.to_json() if retention else None,
            "retention_classical": retention.classical.to_json() if retention else None,
            "paired_retention": retention.comparison.to_json() if retention else None,
            "epsilon_pld_spent": list(self.epsilon_pld_spent), "noise_multiplier": list(self.noise_multiplier),
        }


@dataclasses.dataclass(frozen=True)
class Reference:
    """The non-private run (ε = ∞: no clipping, no noise) of one model on one task, over seeds.

    ``chance`` is 1 / n_classes (None when the runs do not say); the model is *near chance* when
    its mean accuracy is below chance + :data:`NEAR_CHANCE`: it has not learnt the task.
    """

    dataset: str
    model: str
    accuracy: Interval
    chance: float | None

    @property
    def near_chance(self) -> bool:
        return self.chance is not None and self.accuracy.mean < self.chance + NEAR_CHANCE


@dataclasses.dataclass(frozen=True)
class Curve:
    """Test accuracy of one arm against ε in one (task, C) panel: ``points`` are (ε, accuracy
    interval) pairs over the ε grid where the arm has runs, ε = ∞ (the reference) last."""

    dataset: str
    clip: str | float
    clip_value: float | None
    arm: str
    model: str
    points: tuple[tuple[float, Interval], ...]

    @property
    def panel(self) -> str:
        return f"{self.dataset}, C={_clip_label(self.clip, self.clip_value)}"


@dataclasses.dataclass(frozen=True)
class C3Analysis:
    """Everything C3 concludes from its runs: the cells, the references, the curves and the verdicts.

    ``verdict`` is the comparative rule on the accuracy cells, with the reasons (where quantum or
    classical is higher, retention's verdict, missing runs, models at chance);
    ``retention_verdict`` the same rule on the retention cells.
    """

    profile: Profile
    runs_expected: int
    runs_found: int
    cells: tuple[Cell, ...]
    references: tuple[Reference, ...]
    curves: tuple[Curve, ...]
    verdict: Verdict
    retention_verdict: Verdict

    def to_json(self) -> dict[str, Any]:
        """The numbers behind the verdict (``claims.C3.numbers`` of results.json)."""
        return {
            "models": {"quantum": self.profile.c3_quantum, "classical": self.profile.c3_classical},
            "runs_expected": self.runs_expected, "runs_found": self.runs_found,
            "cells": [cell.to_json() for cell in self.cells],
            "nonprivate": [{"dataset": r.dataset, "model": r.model, "n": r.accuracy.n, "accuracy": r.accuracy.format()}
                           for r in self.references],
            "retention_verdict": self.retention_verdict.to_json(),
            "near_chance_nonprivate": [{"dataset": r.dataset, "model": r.model, "accuracy": r.accuracy.mean,
                                        "chance": r.chance} for r in self.references if r.near_chance],
        }


def _group(results: Mapping[Task, Mapping[str, Any]]) -> dict[tuple, dict[int, Mapping[str, Any]]]:
    runs: dict[tuple, dict[int, Mapping[str, Any]]] = defaultdict(dict)
    for task, result in results.items():
        if task.claim == "c3":
            runs[(task["dataset"], task["model"], task["clip"], task["epsilon"])][task.replicate] = result
    return runs


def _accuracies(runs: Mapping[int, Mapping[str, Any]], replicates) -> list[float]:
    return [runs[r]["test_accuracy"] for r in replicates]


def _cell(dataset: str, clip, epsilon: float, q_runs, c_runs, ref_q, ref_c) -> Cell | None:
    """The cell's intervals and (not yet Holm-adjusted) paired tests; None without shared seeds."""
    shared = sorted(set(q_runs) & set(c_runs))
    if not shared:
        return None
    acc_q, acc_c = _accuracies(q_runs, shared), _accuracies(c_runs, shared)
    with_ref = [r for r in shared if r in ref_q and r in ref_c]
    retention = None
    if with_ref:
        ret_q = [q_runs[r]["test_accuracy"] / ref_q[r]["test_accuracy"] for r in with_ref]
        ret_c = [c_runs[r]["test_accuracy"] / ref_c[r]["test_accuracy"] for r in with_ref]
        retention = Retention(stats.mean_ci(ret_q), stats.mean_ci(ret_c), stats.paired_test(ret_q, ret_c))
    both = (*q_runs.values(), *c_runs.values())
    return Cell(
        dataset=dataset, clip=clip, clip_value=q_runs[shared[0]]["clip"], epsilon=epsilon, replicates=tuple(shared),
        quantum=stats.mean_ci(acc_q), classical=stats.mean_ci(acc_c), comparison=stats.paired_test(acc_q, acc_c),
        retention=retention,
        epsilon_pld_spent=tuple(sorted({round(r["epsilon_pld"], 6) for r in both})),
        noise_multiplier=tuple(sorted({round(r["noise_multiplier"], 6) for r in both})),
    )


def _classify(cells: list[Cell]) -> tuple[Cell, ...]:
    """Holm-adjust and decide the accuracy comparisons over all cells, and the retention
    comparisons over the cells with retention (two families)."""
    accuracy = stats.classify([cell.comparison for cell in cells])
    with_retention = [i for i, cell in enumerate(cells) if cell.retention]
    retention = dict(zip(with_retention, stats.classify([cells[i].retention.comparison for i in with_retention])))
    return tuple(
        dataclasses.replace(
            cell, comparison=comparison,
            retention=dataclasses.replace(cell.retention, comparison=retention[i]) if cell.retention else None,
        )
        for i, (cell, comparison) in enumerate(zip(cells, accuracy))
    )


def _curve(runs: Runs, dataset: str, clip, clip_value: float | None, arm: str, model: str,
           finite: list[float]) -> Curve:
    points = []
    for epsilon in [*finite, math.inf]:
        key = (dataset, model, None, math.inf) if math.isinf(epsilon) else (dataset, model, clip, epsilon)
        accs = [r["test_accuracy"] for r in runs.get(key, {}).values()]
        if accs:
            points.append((epsilon, stats.mean_ci(accs)))
    return Curve(dataset, clip, clip_value, arm, model, tuple(points))


def _cells_and_curves(profile: Profile, runs: Runs) -> tuple[list[Cell], list[Curve]]:
    """Per task and C: a cell per finite ε with shared seeds, and one curve per arm (its panel
    labelled with the C of the last cell of that task and C)."""
    arms = (("quantum", profile.c3_quantum), ("classical", profile.c3_classical))
    finite = [e for e in profile.c3_epsilons if math.isfinite(e)]
    cells: list[Cell] = []
    curves: list[Curve] = []
    for dataset in profile.c3_datasets:
        ref_q = runs.get((dataset, profile.c3_quantum, None, math.inf), {})
        ref_c = runs.get((dataset, profile.c3_classical, None, math.inf), {})
        for clip in profile.c3_clips:
            panel_cells = []
            for epsilon in finite:
                q_runs = runs.get((dataset, profile.c3_quantum, clip, epsilon), {})
                c_runs = runs.get((dataset, profile.c3_classical, clip, epsilon), {})
                cell = _cell(dataset, clip, epsilon, q_runs, c_runs, ref_q, ref_c)
                if cell is not None:
                    panel_cells.append(cell)
            clip_value = panel_cells[-1].clip_value if panel_cells else None
            cells += panel_cells
            curves += [_curve(runs, dataset, clip, clip_value, arm, model, finite) for arm, model in arms]
    return cells, curves


def _references(profile: Profile, runs: Runs) -> tuple[Reference, ...]:
    out = []
    for dataset in profile.c3_datasets:
        for model in (profile.c3_quantum, profile.c3_classical):
            ref_runs = list(runs.get((dataset, model, None, math.inf), {}).values())
            if ref_runs:
                n_classes = ref_runs[0].get("dataset", {}).get("n_classes")
                out.append(Reference(dataset, model, stats.mean_ci([r["test_accuracy"] for r in ref_runs]),
                                     1.0 / n_classes if n_classes else None))
    return tuple(out)


def _verdicts(profile: Profile, cells: tuple[Cell, ...], references: tuple[Reference, ...], expected: int,
              found: int) -> tuple[Verdict, Verdict]:
    """(the claim's verdict with its reasons, the same rule on retention)."""
    verdict = stats.comparative_verdict(CLAIM, [cell.comparison for cell in cells])
    retention = stats.comparative_verdict(CLAIM, [cell.retention.comparison for cell in cells if cell.retention])
    holds = [cell.label for cell in cells if cell.decision == stats.QUANTUM_HIGHER]
    fails = [cell.label for cell in cells if cell.decision == stats.CLASSICAL_HIGHER]
    reasons = [
        *verdict.reasons,
        "quantum higher in: " + (", ".join(holds) or "no cell"),
        "classical higher in: " + (", ".join(fails) or "no cell"),
        f"on retention (private/non-private accuracy) the same rule gives: {retention.verdict} "
        f"({retention.reasons[0] if retention.reasons else 'no cells'})",
    ]
    if found < expected:
        reasons.append(f"{expected - found} of {expected} runs missing (failed or not run): "
                       "cells use the replicates present")
    near_chance = [r for r in references if r.near_chance]
    if near_chance:
        reasons.append(f"not learnt without privacy (mean accuracy within {NEAR_CHANCE:.2f} of chance), so retention "
                       "there is uninformative: " + ", ".join(
                           f"{r.model} on {r.dataset} ({r.accuracy.mean:.3f}, chance {r.chance:.2f})"
                           for r in near_chance))
    indicative = verdict.indicative or profile.indicative
    return Verdict(CLAIM, verdict.verdict, verdict.rule, tuple(reasons), indicative), retention


def analyse(profile: Profile, results: Mapping[Task, Mapping[str, Any]]) -> C3Analysis:
    """Cells, Holm-adjusted paired tests, references and the verdict from C3's runs (no files)."""
    runs = _group(results)
    expected, found = len(tasks(profile)), sum(len(v) for v in runs.values())
    raw_cells, curves = _cells_and_curves(profile, runs)
    cells = _classify(raw_cells)
    references = _references(profile, runs)
    verdict, retention_verdict = _verdicts(profile, cells, references, expected, found)
    return C3Analysis(profile, expected, found, cells, references, tuple(curves), verdict, retention_verdict)


# -- the report (tables, plot) --------------------------------------------------------------
def _tables(analysis: C3Analysis) -> tuple[Table, ...]:
    quantum, classical = analysis.profile.c3_quantum, analysis.profile.c3_classical
    accuracy = tuple(
        (c.dataset, _clip_label(c.clip, c.clip_value), c.epsilon, len(c.replicates), c.quantum.format(),
         c.classical.format(), c.comparison.difference.format(), c.holm_pvalue, c.comparison.wilcoxon_pvalue,
         c.decision)
        for c in analysis.cells)
    retention = tuple(
        (c.dataset, _clip_label(c.clip, c.clip_value), c.epsilon, c.retention.quantum.format(),
         c.retention.classical.format(), c.retention.comparison.difference.format(),
         c.retention.comparison.adjusted_pvalue, c.retention.comparison.outcome)
        for c in analysis.cells if c.retention)
    references = tuple((r.dataset, r.model, r.accuracy.n, r.accuracy.format()) for r in analysis.references)
    return (
        Table("Private test accuracy, quantum vs classical (mean [95% CI]; p: paired t-test, Holm-adjusted; "
              "Wilcoxon unadjusted)",
              ("task", "C", "ε", "seeds", f"quantum {quantum}", f"classical {classical}", "q − c",
               "p (t, Holm)", "p (Wilcoxon)", "outcome"), accuracy),
        Table("Retention = accuracy(ε) / accuracy(ε = ∞), per seed", ("task", "C", "ε", "quantum", "classical",
              "q − c", "p (t, Holm)", "outcome"), retention),
        Table("Non-private reference (ε = ∞: no clipping, no noise)", ("task", "model", "seeds", "test accuracy"),
              references),
    )


def _headline(cells: tuple[Cell, ...]) -> str:
    if not cells:
        return "no cells"
    diffs = [c.estimate for c in cells]
    higher = {o: sum(c.decision == o for c in cells) for o in (stats.QUANTUM_HIGHER, stats.CLASSICAL_HIGHER)}
    return (f"private accuracy, quantum − classical over {len(cells)} cells: mean {np.mean(diffs):+.3f} "
            f"(range {min(diffs):+.3f} to {max(diffs):+.3f}); quantum higher in {higher[stats.QUANTUM_HIGHER]}, "
            f"classical higher in {higher[stats.CLASSICAL_HIGHER]}")


def _notes(profile: Profile) -> tuple[str, ...]:
    return (
        f"{profile.epochs} epochs, expected batch {profile.batch_size} (Poisson), Adam lr={profile.learning_rate}, "
        f"δ={profile.delta:g}; σ calibrated per run from the target ε with the RDP accountant; the ε column "
        "is the target, 'epsilon_pld_spent' in results.json the PLD ε of the spent ledger.",
        "Both arms of a cell have the same C, ε, δ, sampling rate and steps, hence the same σ.",
        "Digits features: PCA + scaling fitted on the training split, not covered by the DP guarantee "
        "(as in most DP-ML benchmarks).",
    ) + (("One seed: no intervals and no tests; outcomes follow the sign of the difference (indicative).",)
         if profile.seeds < 2 else ())


def plot_curves(analysis: C3Analysis, out_dir: Path) -> Figure:
    """The accuracy-vs-ε plot (one panel per task and C, one line per arm) written to ``out_dir``."""
    panels: dict[str, dict[str, list[tuple[float, float, float, float]]]] = {}
    for curve in analysis.curves:
        panels.setdefault(curve.panel, {})[f"{curve.arm}:{curve.model}"] = [
            (epsilon, iv.mean, iv.low, iv.high) for epsilon, iv in curve.points]
    drawn = plots.plot_accuracy_vs_epsilon(
        Path(out_dir) / PLOT_NAME, panels,
        title=f"C3: test accuracy vs ε (mean, 95% CI over {analysis.profile.seeds} seed(s))")
    return Figure(PLOT_NAME, "C3: test accuracy vs ε per task and clip, quantum and classical, 95% intervals",
                  drawn.series)


def render(analysis: C3Analysis, out_dir: Path) -> ClaimReport:
    """The claim's report: tables, headline and notes from ``analysis``; the plot into ``out_dir``."""
    return ClaimReport(
        claim=CLAIM, title=TITLE, statement=STATEMENT, verdict=analysis.verdict, numbers=analysis.to_json(),
        tables=_tables(analysis), headline=_headline(analysis.cells), plots=(plot_curves(analysis, out_dir),),
        notes=_notes(analysis.profile),
    )


def summarise(profile: Profile, results: Mapping[Task, Mapping[str, Any]], out_dir: Path) -> ClaimReport:
    """:func:`render` of :func:`analyse`: cells, tests, verdict, tables and the accuracy-vs-ε plot."""
    return render(analyse(profile, results), out_dir)
