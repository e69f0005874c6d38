r"""Two stages for a regime map: explore, then confirm a pre-registered plan on fresh seeds.

The protocol engine of ``privqml check c3`` (profiles with :attr:`Profile.c3_confirm`) and of
``privqml compare --confirm``:

1. **explore** — the design's map on replicates 0..n−1 (:func:`privqml.paper_checks.regimes.tasks`);
   it proposes hypotheses and decides nothing;
2. **plan** — :func:`plan_stage`: the cells and seed counts of
   :func:`privqml.paper_checks.confirmation.make_plan` (its rule, stated in the report), written to
   ``<stage dir>/plan.json`` with its SHA-256 recorded in ``confirmation_started.json`` *before* any
   confirmation run starts; a different plan after that is refused (one-line error, exit 2);
3. **confirm** — :func:`confirmation_tasks`: per planned cell, every arm at the cell's (C, ε) on the
   plan's fresh replicates (from :data:`~privqml.paper_checks.confirmation.CONFIRMATION_SEED_BASE`,
   disjoint from the exploration's), paired by replicate as in the map (same split, Poisson draws and
   noise per replicate); :func:`confirmation_differences` and
   :func:`~privqml.paper_checks.confirmation.confirm` give the verdict from these runs alone.

The exploration is skipped for nothing: with fewer than two exploration seeds (no sd to plan with) or
with failed exploration runs (a plan made from a partial map could change once they are rerun) no plan
is made and the report says why (:class:`Staged` with ``plan=None``).

**Variance components** (:func:`variance_components`). Per confirmed cell and arm, the variance of
test accuracy over the confirmation seeds against the part test sampling explains: a test set of n
examples scored at accuracy p has binomial variance p(1 − p)/n, averaged over seeds; the rest is
the seed-to-seed (training) part. For the paired difference q − c the test-sampling part is bounded
by the sum of the arms' binomial variances (the arms are scored on the same test set, so their errors
are positively correlated and the true part is smaller).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from privqml.errors import ConfigError
from privqml.paper_checks import confirmation, regime_analysis
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.run_numbers import RunNumbers, finite_mean
from privqml.paper_checks.regimes import (Block, ConfirmSettings, Design, bound_ratio, bound_value, clip_params,
                                         run_params)

#: The stage directory's name under a check's or a comparison's output directory.
STAGE_DIR = "confirmation"


@dataclasses.dataclass(frozen=True)
class Staged:
    """The outcome of the plan and confirm stages of one map.

    ``plan`` is None when no plan could be made (``skipped`` says why); ``confirmation`` is None until
    the confirmation runs are in. ``results`` are the confirmation runs (task → result).
    """

    settings: ConfirmSettings
    design: Design
    stage_dir: Path
    plan: confirmation.Plan | None
    confirmation: confirmation.Confirmation | None
    results: Mapping[Task, Mapping[str, Any]]
    skipped: str | None = None
    failures: Mapping[Task, str] = dataclasses.field(default_factory=dict)
    computed: int = 0  # confirmation runs this invocation computed
    reused: int = 0  # and found on disk

    @property
    def plan_sha256(self) -> str | None:
        return None if self.plan is None else self.plan.sha256()


# -- plan -------------------------------------------------------------------------------------
def plan_stage(regime_map: regime_analysis.RegimeMap, results: Mapping[Task, Mapping[str, Any]],
               settings: ConfirmSettings, stage_dir: Path) -> confirmation.Plan:
    """The plan from the exploration map, written to ``stage_dir/plan.json`` and locked (its hash
    recorded) before any confirmation run; refused (ConfigError) if another plan was locked there."""
    design = regime_map.design
    cells = confirmation.explored_cells(regime_map, results)
    plan = confirmation.make_plan(cells, max_cells=settings.max_cells, explore_seeds=range(design.seeds),
                                  effect=settings.effect, margin=settings.margin, power=settings.power,
                                  seed_cap=settings.seed_cap, sd_confidence=settings.sd_confidence,
                                  feasible_only=True)
    stage_dir.mkdir(parents=True, exist_ok=True)
    confirmation.write_plan(stage_dir, plan)
    confirmation.start_confirmation(stage_dir, plan)
    return confirmation.load_locked_plan(stage_dir, plan)


def skip_reason(design: Design, exploration_failures: int) -> str | None:
    """Why no plan can be made from the exploration (None: a plan can be made)."""
    if design.seeds < 2:
        return f"the exploration has {design.seeds} seed: no seed-to-seed sd to size a confirmation with"
    if exploration_failures:
        return (f"{exploration_failures} exploration run(s) failed: a plan made from a partial map could change "
                "once they are rerun, so none is made; rerun the same command to retry them")
    return None


# -- confirm ----------------------------------------------------------------------------------
def _block_of(design: Design, key: Mapping[str, Any]) -> Block:
    for block in design.blocks:
        if (block.dataset == key["dataset"] and block.quantum == key["quantum_model"]
                and block.n_train == key["n_train"] and list(block.classical) == list(key["classical"])):
            return block
    raise ConfigError(f"the plan's cell {confirmation.cell_id(key)} matches no block of the design; a plan belongs "
                      "to the design it was made from")


def confirmation_tasks(design: Design, plan: confirmation.Plan) -> list[Task]:
    """Every confirmation run: per planned cell (with seeds), replicate r of its range and arm, one
    run at the cell's (C, ε) — the exploration's record but for the replicate, so the arms of a
    replicate share its split, Poisson draws and noise. A bound-multiple clip pins the block's G*."""
    out: dict[str, Task] = {}
    g_stars: dict[tuple, float] = {}
    for cell in plan.confirmed_cells:
        block = _block_of(design, cell.key)
        clip, epsilon = cell.key["clip"], float(cell.key["epsilon"])
        g_star = None
        if bound_ratio(clip) is not None:
            pair = (block.quantum, block.dataset)
            if pair not in g_stars:
                g_stars[pair] = bound_value(*pair)
            g_star = g_stars[pair]
        for r in cell.seeds:
            for model in block.arms:
                task = Task.make(design.claim, "train", replicate=r, epsilon=epsilon, **clip_params(clip, g_star),
                                 **run_params(design, block, model))
                out.setdefault(task.key, task)
    return list(out.values())


def _cell_runs(design: Design, cell: confirmation.PlannedCell, results: Mapping[Task, Mapping[str, Any]]
               ) -> dict[str, dict[int, RunNumbers]]:
    """model → replicate → :class:`RunNumbers` of a planned cell's confirmation runs (the plan's replicates only)."""
    runs = regime_analysis.group(design, results)
    key, seeds = cell.key, set(cell.seeds)
    models = (key["quantum_model"], *cell.arms)
    return {m: {r: res for r, res in runs.get((key["dataset"], m, key["n_train"], key["clip"],
                                                float(key["epsilon"])), {}).items() if r in seeds}
            for m in models}


def confirmation_differences(design: Design, plan: confirmation.Plan, results: Mapping[Task, Mapping[str, Any]]
                             ) -> dict[str, dict[str, list[float]]]:
    """{cell_id: {arm: [quantum_r − arm_r over the plan's replicates both arms finished]}}."""
    out = {}
    for cell in plan.confirmed_cells:
        runs = _cell_runs(design, cell, results)
        quantum = runs[cell.key["quantum_model"]]
        out[cell.cell_id] = {
            arm: [float(np.round(quantum[r].test_accuracy - runs[arm][r].test_accuracy, 12))
                  for r in cell.seeds if r in quantum and r in runs[arm]]
            for arm in cell.arms}
    return out


def run_stages(regime_map: regime_analysis.RegimeMap, exploration: Mapping[Task, Mapping[str, Any]],
               exploration_failures: int, settings: ConfirmSettings, stage_dir: Path,
               sweep: Callable[[list[Task]], Any], claim: str) -> Staged:
    """Plan (locked before any run) and confirm one exploration map.

    ``sweep(tasks)`` runs the confirmation records (resumable; returns a
    :class:`~privqml.paper_checks.sweep.SweepSummary`); ``claim`` labels the verdict.
    """
    design = regime_map.design
    reason = skip_reason(design, exploration_failures)
    if reason is not None:
        return Staged(settings, design, stage_dir, None, None, {}, skipped=reason)
    plan = plan_stage(regime_map, exploration, settings, stage_dir)
    if not plan.confirmed_cells:
        return Staged(settings, design, stage_dir, plan, confirmation.confirm(plan, {}, claim=claim), {},
                      skipped=_infeasible(regime_map, exploration, plan))
    summary = sweep(confirmation_tasks(design, plan))
    data = confirmation_differences(design, plan, summary.results)
    result = confirmation.confirm(plan, data, claim=claim)
    return Staged(settings, design, stage_dir, plan, result, summary.results, failures=dict(summary.failures),
                  computed=len(summary.computed), reused=len(summary.skipped))


def _infeasible(regime_map: regime_analysis.RegimeMap, exploration: Mapping[Task, Mapping[str, Any]],
                plan: confirmation.Plan) -> str:
    """Why no cell was confirmed, with the figures: the fewest fresh seeds any cell would need."""
    cells = confirmation.explored_cells(regime_map, exploration)
    m_max = plan.max_cells * max(len(c.differences) for c in cells)
    needs = []
    for cell in cells:
        sd = confirmation.planning_sd(cell.differences, plan.sd_floor, plan.sd_confidence)[1]
        n = confirmation.seeds_for_power(plan.effect, sd, m_max, plan.alpha / 2,
                                         1 - (1 - plan.power) / len(cell.differences), "greater", 100_000)
        needs.append((n if n is not None else math.inf, sd))
    fewest, sd = min(needs)
    return (f"no exploration cell can be confirmed within {plan.seed_cap} fresh seeds at effect {plan.effect:g} and "
            f"power {plan.power:g} (Holm over up to {m_max} tests): the least variable cell (planning sd {sd:.3f}) "
            f"would need {fewest if math.isfinite(fewest) else 'more than 100000'} seeds")


# -- what the report shows --------------------------------------------------------------------
def _sample_var(values: Sequence[float]) -> float:
    return float(np.var(values, ddof=1)) if len(values) >= 2 else math.nan


def _binomial_var(runs: Sequence[RunNumbers]) -> float:
    """Mean over runs of p(1 − p)/n_test: the variance test sampling alone gives an accuracy."""
    parts = []
    for run in runs:
        n = run.n_test
        if n:
            p = float(run.test_accuracy)
            parts.append(p * (1 - p) / float(n))
    return float(np.mean(parts)) if parts else math.nan


def variance_components(design: Design, plan: confirmation.Plan, results: Mapping[Task, Mapping[str, Any]]
                        ) -> list[dict[str, Any]]:
    """Per confirmed cell and classical arm: the variance over the confirmation seeds of the quantum
    arm's accuracy, the classical arm's and their difference, each with its test-sampling part and
    the seed part (the rest); module docstring."""
    rows = []
    for cell in plan.confirmed_cells:
        runs = _cell_runs(design, cell, results)
        quantum = runs[cell.key["quantum_model"]]
        for arm in cell.arms:
            shared = [r for r in cell.seeds if r in quantum and r in runs[arm]]
            if len(shared) < 2:
                continue
            q_runs, c_runs = [quantum[r] for r in shared], [runs[arm][r] for r in shared]
            total_d = _sample_var([q.test_accuracy - c.test_accuracy for q, c in zip(q_runs, c_runs)])
            test_q, test_c = _binomial_var(q_runs), _binomial_var(c_runs)
            test_d = test_q + test_c
            rows.append({
                "cell_id": cell.cell_id, "arm": arm, "n": len(shared),
                "n_test": q_runs[0].n_test,
                "var_quantum": _sample_var([q.test_accuracy for q in q_runs]), "test_var_quantum": test_q,
                "var_classical": _sample_var([c.test_accuracy for c in c_runs]), "test_var_classical": test_c,
                "var_difference": total_d, "test_var_difference_bound": test_d,
                "seed_var_difference": max(total_d - test_d, 0.0) if math.isfinite(total_d) else math.nan,
                "test_share_bound": (min(test_d / total_d, 1.0) if total_d > 0 else math.nan),
            })
    return rows


def cell_causes(design: Design, plan: confirmation.Plan, results: Mapping[Task, Mapping[str, Any]],
                regime_map: regime_analysis.RegimeMap) -> list[dict[str, Any]]:
    """Per confirmed cell and arm (quantum first): the mean over the confirmation seeds of the fraction
    clipped and the noise-to-signal ratio, the parameter count, and the arm's non-private ceiling (its
    ε = ∞ accuracy in the exploration map)."""
    ceilings = {(ref.dataset, ref.quantum_model, ref.n_train, ref.model): ref.accuracy.mean
                for ref in regime_map.references}
    rows = []
    for cell in plan.confirmed_cells:
        runs = _cell_runs(design, cell, results)
        key = cell.key
        for model in (key["quantum_model"], *cell.arms):
            picked = list(runs[model].values())
            rows.append({
                "cell_id": cell.cell_id, "model": model, "n": len(picked),
                "accuracy": finite_mean(picked, "test_accuracy"),
                "clip_fraction": finite_mean(picked, "clip_fraction_mean"),
                "noise_to_signal": finite_mean(picked, "noise_to_signal"),
                "n_weights": picked[0].n_weights if picked else None,
                "ceiling": ceilings.get((key["dataset"], key["quantum_model"], key["n_train"], model)),
            })
    return rows


__all__ = ["STAGE_DIR", "ConfirmSettings", "Staged", "cell_causes", "confirmation_differences", "confirmation_tasks",
           "plan_stage", "run_stages", "skip_reason", "variance_components"]
