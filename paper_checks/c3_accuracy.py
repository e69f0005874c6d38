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
same budget — checked per cell from the runs' accountants.
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
from privqml.paper_checks.report import ClaimReport, Table

CLAIM = "C3"
#: a model whose non-private accuracy is within this of chance (1 / n_classes) has not learnt the
#: task: its retention (private / non-private) is then no measure of what privacy costs it
NEAR_CHANCE = 0.05
TITLE = "accuracy retention at fixed clip and budget"
STATEMENT = (
    "Under a fixed clipping threshold and a fixed privacy budget, quantum models keep higher accuracy "
    "than equivalent classical models, on synthetic and on image-classification tasks."
)


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
    from privqml.paper_checks.training import run_training_task

    return run_training_task(task)


def _clip_label(clip, value) -> str:
    if clip == "bound":
        return f"bound ({value:.4g})" if value is not None else "bound"
    return f"{float(clip):g}"


def summarise(profile: Profile, results: Mapping[Task, Mapping[str, Any]], out_dir: Path) -> ClaimReport:
    """Cells, tests, verdict, tables and the accuracy-vs-ε plot."""
    runs: dict[tuple, dict[int, Mapping[str, Any]]] = defaultdict(dict)
    for task, result in results.items():
        if task.claim != "c3":
            continue
        key = (task["dataset"], task["model"], task["clip"], task["epsilon"])
        runs[key][task.replicate] = result
    quantum, classical = profile.c3_quantum, profile.c3_classical
    finite = [e for e in profile.c3_epsilons if math.isfinite(e)]
    expected = len(tasks(profile))
    found = sum(len(v) for v in runs.values())
    comparisons, cells, retention_cells, panels = [], [], [], {}
    for dataset in profile.c3_datasets:
        ref_q = runs.get((dataset, quantum, None, math.inf), {})
        ref_c = runs.get((dataset, classical, None, math.inf), {})
        for clip in profile.c3_clips:
            clip_value = None
            series: dict[str, list] = {f"quantum:{quantum}": [], f"classical:{classical}": []}
            for model, arm, ref in ((quantum, "quantum", ref_q), (classical, "classical", ref_c)):
                for epsilon in [*finite, math.inf]:
                    cell_runs = ref if math.isinf(epsilon) else runs.get((dataset, model, clip, epsilon), {})
                    accs = [r["test_accuracy"] for r in cell_runs.values()]
                    if accs:
                        iv = stats.mean_ci(accs)
                        series[f"{arm}:{model}"].append((epsilon, iv.mean, iv.low, iv.high))
            for epsilon in finite:
                q_runs = runs.get((dataset, quantum, clip, epsilon), {})
                c_runs = runs.get((dataset, classical, clip, epsilon), {})
                shared = sorted(set(q_runs) & set(c_runs))
                if not shared:
                    continue
                clip_value = q_runs[shared[0]]["clip"]
                acc_q = [q_runs[r]["test_accuracy"] for r in shared]
                acc_c = [c_runs[r]["test_accuracy"] for r in shared]
                comparisons.append(stats.paired_test(acc_q, acc_c))
                with_ref = [r for r in shared if r in ref_q and r in ref_c]
                ret = None
                if with_ref:
                    ret_q = [q_runs[r]["test_accuracy"] / ref_q[r]["test_accuracy"] for r in with_ref]
                    ret_c = [c_runs[r]["test_accuracy"] / ref_c[r]["test_accuracy"] for r in with_ref]
                    ret = {
                        "quantum": stats.mean_ci(ret_q), "classical": stats.mean_ci(ret_c),
                        "test": stats.paired_test(ret_q, ret_c),
                    }
                budgets = sorted({round(r["epsilon_pld"], 6) for r in (*q_runs.values(), *c_runs.values())})
                cells.append({
                    "dataset": dataset, "clip": clip, "clip_value": clip_value, "epsilon": epsilon,
                    "replicates": shared, "quantum": stats.mean_ci(acc_q), "classical": stats.mean_ci(acc_c),
                    "retention": ret, "epsilon_pld": budgets,
                    "noise_multiplier": sorted({round(r["noise_multiplier"], 6) for r in (*q_runs.values(), *c_runs.values())}),
                })
            panels[f"{dataset}, C={_clip_label(clip, clip_value)}"] = series
    classified = stats.classify(comparisons)
    for cell, comp in zip(cells, classified):
        cell["comparison"] = comp
    retention_comps = stats.classify([c["retention"]["test"] for c in cells if c["retention"]])
    for cell, comp in zip([c for c in cells if c["retention"]], retention_comps):
        cell["retention"]["test"] = comp
        retention_cells.append(comp)
    verdict = stats.comparative_verdict(CLAIM, classified)
    retention_verdict = stats.comparative_verdict(CLAIM, retention_cells)
    reasons = list(verdict.reasons)
    holds = [f"{c['dataset']} C={_clip_label(c['clip'], c['clip_value'])} ε={c['epsilon']:g}"
             for c in cells if c["comparison"].outcome == stats.QUANTUM_HIGHER]
    fails = [f"{c['dataset']} C={_clip_label(c['clip'], c['clip_value'])} ε={c['epsilon']:g}"
             for c in cells if c["comparison"].outcome == stats.CLASSICAL_HIGHER]
    reasons.append("quantum higher in: " + (", ".join(holds) or "no cell"))
    reasons.append("classical higher in: " + (", ".join(fails) or "no cell"))
    reasons.append(f"on retention (private/non-private accuracy) the same rule gives: {retention_verdict.verdict} "
                   f"({retention_verdict.reasons[0] if retention_verdict.reasons else 'no cells'})")
    if found < expected:
        reasons.append(f"{expected - found} of {expected} runs missing (failed or not run): cells use the replicates present")
    verdict = stats.Verdict(CLAIM, verdict.verdict, verdict.rule, tuple(reasons), verdict.indicative or profile.indicative)

    acc_rows, ret_rows = [], []
    for cell in cells:
        comp = cell["comparison"]
        acc_rows.append((
            cell["dataset"], _clip_label(cell["clip"], cell["clip_value"]), cell["epsilon"], len(cell["replicates"]),
            cell["quantum"].format(), cell["classical"].format(), comp.difference.format(),
            comp.adjusted_pvalue, comp.wilcoxon_pvalue, comp.outcome,
        ))
        if cell["retention"]:
            ret = cell["retention"]
            ret_rows.append((
                cell["dataset"], _clip_label(cell["clip"], cell["clip_value"]), cell["epsilon"],
                ret["quantum"].format(), ret["classical"].format(), ret["test"].difference.format(),
                ret["test"].adjusted_pvalue, ret["test"].outcome,
            ))
    ref_rows, near_chance = [], []
    for dataset in profile.c3_datasets:
        for model in (quantum, classical):
            ref_runs = list(runs.get((dataset, model, None, math.inf), {}).values())
            accs = [r["test_accuracy"] for r in ref_runs]
            if accs:
                ref_rows.append((dataset, model, len(accs), stats.mean_ci(accs).format()))
                n_classes = ref_runs[0].get("dataset", {}).get("n_classes")
                chance = 1.0 / n_classes if n_classes else None
                if chance is not None and float(np.mean(accs)) < chance + NEAR_CHANCE:
                    near_chance.append({"dataset": dataset, "model": model, "accuracy": float(np.mean(accs)),
                                        "chance": chance})
    if near_chance:
        reasons.append("not learnt without privacy (mean accuracy within {:.2f} of chance), so retention there is "
                       "uninformative: ".format(NEAR_CHANCE) + ", ".join(
                           f"{c['model']} on {c['dataset']} ({c['accuracy']:.3f}, chance {c['chance']:.2f})"
                           for c in near_chance))
        verdict = dataclasses.replace(verdict, reasons=tuple(reasons))
    counts = {o: sum(c["comparison"].outcome == o for c in cells) for o in (stats.QUANTUM_HIGHER, stats.CLASSICAL_HIGHER)}
    diffs = [c["comparison"].difference.mean for c in cells]
    headline = (f"private accuracy, quantum − classical over {len(cells)} cells: mean {np.mean(diffs):+.3f} "
                f"(range {min(diffs):+.3f} to {max(diffs):+.3f}); quantum higher in {counts[stats.QUANTUM_HIGHER]}, "
                f"classical higher in {counts[stats.CLASSICAL_HIGHER]}") if cells else "no cells"
    plot_name = "c3_accuracy_vs_epsilon.png"
    plots.plot_accuracy_vs_epsilon(Path(out_dir) / plot_name, panels,
                                   title=f"C3: test accuracy vs ε (mean, 95% CI over {profile.seeds} seed(s))")
    numbers = {
        "models": {"quantum": quantum, "classical": classical},
        "runs_expected": expected, "runs_found": found,
        "cells": [
            {
                "dataset": c["dataset"], "clip": c["clip"], "clip_value": c["clip_value"], "epsilon": c["epsilon"],
                "replicates": c["replicates"], "accuracy_quantum": c["quantum"].to_json(),
                "accuracy_classical": c["classical"].to_json(), "paired_accuracy": c["comparison"].to_json(),
                "retention_quantum": c["retention"]["quantum"].to_json() if c["retention"] else None,
                "retention_classical": c["retention"]["classical"].to_json() if c["retention"] else None,
                "paired_retention": c["retention"]["test"].to_json() if c["retention"] else None,
                "epsilon_pld_spent": c["epsilon_pld"], "noise_multiplier": c["noise_multiplier"],
            }
            for c in cells
        ],
        "nonprivate": [{"dataset": d, "model": m, "n": n, "accuracy": a} for d, m, n, a in ref_rows],
        "retention_verdict": retention_verdict.to_json(),
        "near_chance_nonprivate": near_chance,
    }
    return ClaimReport(
        claim=CLAIM, title=TITLE, statement=STATEMENT, verdict=verdict, numbers=numbers,
        tables=(
            Table("Private test accuracy, quantum vs classical (mean [95% CI]; p: paired t-test, Holm-adjusted; "
                  "Wilcoxon unadjusted)",
                  ("task", "C", "ε", "seeds", f"quantum {quantum}", f"classical {classical}", "q − c",
                   "p (t, Holm)", "p (Wilcoxon)", "outcome"), tuple(acc_rows)),
            Table("Retention = accuracy(ε) / accuracy(ε = ∞), per seed", ("task", "C", "ε", "quantum", "classical",
                  "q − c", "p (t, Holm)", "outcome"), tuple(ret_rows)),
            Table("Non-private reference (ε = ∞: no clipping, no noise)", ("task", "model", "seeds", "test accuracy"),
                  tuple(ref_rows)),
        ),
        headline=headline,
        plots=((plot_name, "C3: test accuracy vs ε per task and clip, quantum and classical, 95% intervals"),),
        notes=(
            f"{profile.epochs} epochs, expected batch {profile.batch_size} (Poisson), Adam lr={profile.learning_rate}, "
            f"δ={profile.delta:g}; σ calibrated per run from the target ε with the RDP accountant; the ε column "
            "is the target, 'epsilon_pld_spent' in results.json the PLD ε of the spent ledger.",
            "Both arms of a cell have the same C, ε, δ, sampling rate and steps, hence the same σ.",
            "Digits features: PCA + scaling fitted on the training split, not covered by the DP guarantee "
            "(as in most DP-ML benchmarks).",
        ) + (("One seed: no intervals and no tests; outcomes follow the sign of the difference (indicative).",)
             if profile.seeds < 2 else ()),
    )
