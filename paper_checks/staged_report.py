"""The report of a two-stage comparison (:mod:`privqml.paper_checks.staged`): the plan, the
confirmation, its causes and variance components, then the exploration map that proposed the cells.

The verdict is the confirmation's alone (:func:`privqml.paper_checks.confirmation.confirm`); the
exploration map's tables and figures follow as the record of how the cells were chosen.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from privqml.paper_checks import plots, regime_report, stats
from privqml.paper_checks.confirmation import PlannedCell
from privqml.paper_checks.regime_analysis import RegimeMap
from privqml.paper_checks.regimes import clip_label
from privqml.paper_checks.report import ClaimReport, Figure, Table
from privqml.paper_checks.staged import Staged, cell_causes, confirmation_differences, variance_components
from privqml.paper_checks.stats import Verdict

CONFIRMATION_NAME = "confirmation.png"


def cell_label(cell: PlannedCell) -> str:
    key = cell.key
    return (f"{key['dataset']} | {key['quantum_model']} | n={key['n_train']} C={clip_label(key['clip'])} "
            f"ε={float(key['epsilon']):g}")


def _short(model: str) -> str:
    return model.split(":", 1)[0]


def _range_text(seeds: range | None) -> str:
    return "– (over the seed cap)" if seeds is None else f"{seeds.start}–{seeds.stop - 1} ({len(seeds)})"


def plan_table(staged: Staged) -> Table:
    plan = staged.plan
    rows = tuple(
        (cell_label(c), c.direction, ", ".join(f"{_short(a)} {m:+.3f}" for a, m in zip(c.arms, c.exploration_means)),
         c.exploration_sd, c.planning_sd, _range_text(c.seeds), c.test_power)
        for c in plan.cells)
    return Table(f"Plan (sha256 {plan.sha256()[:16]}…, written before any confirmation run): {len(plan.cells)} cells, "
                 f"m = {plan.n_tests} tests, effect {plan.effect:g}, power {plan.power:g} per cell",
                 ("cell", "picked as", "exploration mean q − c per arm", "exploration sd", "planning sd",
                  "confirmation seeds", "power per test"), rows)


def confirmation_rows(staged: Staged) -> list[dict[str, Any]]:
    """Per planned test: the cell, arm, exploration mean, and the confirmation's n, mean, 95 % interval,
    t, p, Holm p, TOST interval and Holm p, and outcome."""
    plan, result = staged.plan, staged.confirmation
    data = confirmation_differences(staged.design, plan, staged.results)
    rows = []
    for cell_result in result.cells:
        cell = cell_result.cell
        for test in cell_result.arms:
            d = data.get(cell.cell_id, {}).get(test.arm, [])
            interval = stats.mean_ci(d, bounds=stats.DIFFERENCE_RANGE) if d else None
            rows.append({
                "cell": cell_label(cell), "cell_id": cell.cell_id, "arm": test.arm,
                "exploration_mean": cell.exploration_means[cell.arms.index(test.arm)],
                "n": test.n, "mean": test.mean,
                "low": None if interval is None or interval.n < 2 else interval.low,
                "high": None if interval is None or interval.n < 2 else interval.high,
                "t": test.t_statistic, "p": test.t_pvalue, "holm_p": test.holm_pvalue,
                "tost_low": None if test.tost is None else test.tost.low,
                "tost_high": None if test.tost is None else test.tost.high,
                "tost_holm_p": test.tost_holm_pvalue, "outcome": test.outcome, "cell_outcome": cell_result.outcome,
            })
    return rows


def confirmation_table(rows: list[dict[str, Any]], staged: Staged) -> Table:
    plan = staged.plan
    return Table(
        f"Confirmation on fresh seeds only (Holm over the {staged.confirmation.n_tests} planned t-tests at α = {plan.alpha:g}; TOST within "
        f"±{plan.margin:g} as a second Holm family; 90 % interval = the TOST's)",
        ("cell", "arm", "n", "mean q − c [95 % CI]", "t", "p", "Holm p", "TOST 90 % interval", "TOST Holm p",
         "arm outcome", "cell outcome"),
        tuple((r["cell"], _short(r["arm"]), r["n"],
               f"{r['mean']:+.4f}" + ("" if r["low"] is None else f" [{r['low']:+.4f}, {r['high']:+.4f}]"),
               r["t"], r["p"], r["holm_p"],
               "–" if r["tost_low"] is None else f"[{r['tost_low']:+.4f}, {r['tost_high']:+.4f}]",
               r["tost_holm_p"], r["outcome"], r["cell_outcome"]) for r in rows))


def causes_table(staged: Staged, regime_map: RegimeMap) -> Table:
    rows = cell_causes(staged.design, staged.plan, staged.results, regime_map)
    by_id = {c.cell_id: c for c in staged.plan.cells}
    return Table(
        "Causes per confirmed cell (confirmation seeds; fraction clipped and noise-to-signal are diagnostics of the "
        "private training data, not covered by ε; ceiling = the arm's ε = ∞ accuracy in the exploration)",
        ("cell", "arm", "runs", "private accuracy", "fraction clipped", "noise/signal", "parameters",
         "non-private ceiling"),
        tuple((cell_label(by_id[r["cell_id"]]), _short(r["model"]), r["n"], r["accuracy"], r["clip_fraction"],
               r["noise_to_signal"], r["n_weights"], r["ceiling"]) for r in rows))


def variance_table(staged: Staged) -> tuple[Table, list[dict[str, Any]]]:
    rows = variance_components(staged.design, staged.plan, staged.results)
    by_id = {c.cell_id: c for c in staged.plan.cells}
    table = Table(
        "Variance components over the confirmation seeds (test sampling = binomial p(1 − p)/n_test; for q − c its "
        "bound assumes independent errors of the arms; seed = the rest)",
        ("cell", "arm", "n", "n_test", "var q − c", "test part (bound)", "seed part", "test share (≤)"),
        tuple((cell_label(by_id[r["cell_id"]]), _short(r["arm"]), r["n"], r["n_test"], r["var_difference"],
               r["test_var_difference_bound"], r["seed_var_difference"], r["test_share_bound"]) for r in rows))
    return table, rows


def plot_confirmation(rows: list[dict[str, Any]], staged: Staged, out_dir: Path, name: str, title: str) -> Figure:
    points = [(f"{r['cell'].split(' | ')[0]} {r['cell'].split(' C=')[-1]} vs {_short(r['arm'])}", r["exploration_mean"],
               r["mean"], math.nan if r["low"] is None else r["low"], math.nan if r["high"] is None else r["high"])
              for r in rows]
    drawn = plots.plot_confirmation(Path(out_dir) / name, points, staged.plan.margin, title=title)
    return Figure(name, "Per planned test: the exploration mean that chose the cell (open) beside the confirmation "
                  "mean on fresh seeds with its 95 % interval; grey band: the equivalence margin", drawn.series,
                  drawn.texts)


def headline(staged: Staged) -> str:
    if staged.plan is None:
        return f"no confirmation: {staged.skipped}"
    outcomes = [c.outcome for c in staged.confirmation.cells]
    counts = ", ".join(f"{label} {outcomes.count(label)}" for label in ("supported", "not supported", "inconclusive"))
    runs = len(staged.results)
    return (f"confirmation of {len(staged.plan.cells)} pre-registered cells on {runs} fresh runs: {counts}; plan "
            f"sha256 {staged.plan.sha256()[:12]}")


def render(regime_map: RegimeMap, staged: Staged, out_dir: Path, claim: str, title: str, statement: str,
           prefix: str = "") -> ClaimReport:
    """The two-stage report as a :class:`ClaimReport` (module docstring); its verdict is the
    confirmation's, or — without a plan — the exploration map's, with the reason no plan was made."""
    explored = regime_report.render(regime_map, out_dir, claim, title, statement, prefix=prefix)
    numbers: dict[str, Any] = {"exploration": dict(explored.numbers), "confirm_settings": staged.settings.to_json()}
    if staged.plan is None:
        verdict = dataclasses.replace(regime_map.verdict,
                                      reasons=(*regime_map.verdict.reasons, f"no confirmation stage: {staged.skipped}"))
        numbers["confirmation"] = {"skipped": staged.skipped}
        return dataclasses.replace(explored, verdict=verdict, numbers=numbers, headline=headline(staged))
    tables: list[Table] = [plan_table(staged)]
    figures = list(explored.plots)
    numbers["plan"] = staged.plan.to_json()
    numbers["plan_sha256"] = staged.plan.sha256()
    numbers["seed_ranges"] = {"exploration": [0, regime_map.design.seeds - 1],
                              "confirmation": sorted({(c.seeds.start, c.seeds.stop - 1) for c in staged.plan.confirmed_cells})}
    where = tuple(f"{outcome} where: " + "; ".join(f"{cell_label(c.cell)} (q − c {', '.join(f'{_short(a.arm)} {a.mean:+.3f}' for a in c.arms)})"
                                                   for c in staged.confirmation.cells if c.outcome == outcome)
                  for outcome in ("supported", "not supported", "inconclusive")
                  if any(c.outcome == outcome for c in staged.confirmation.cells))
    verdict = Verdict(claim, staged.confirmation.verdict.verdict, staged.plan.rule,
                      staged.confirmation.verdict.reasons + where
                      + ((f"no cell was confirmed: {staged.skipped}",) if staged.skipped else ()))
    if staged.plan.confirmed_cells:
        rows = confirmation_rows(staged)
        variance, variance_rows = variance_table(staged)
        tables += [confirmation_table(rows, staged), causes_table(staged, regime_map), variance]
        figures.insert(0, plot_confirmation(rows, staged, out_dir, prefix + CONFIRMATION_NAME,
                                            regime_report.figure_title(regime_map, f"{claim}: confirmation on fresh seeds")))
        numbers["confirmation"] = staged.confirmation.to_json()
        numbers["confirmation_tests"] = rows
        numbers["variance_components"] = variance_rows
        numbers["confirmation_failures"] = len(staged.failures)
        shares = [r["test_share_bound"] for r in variance_rows if r["test_share_bound"] is not None
                  and math.isfinite(r["test_share_bound"])]
        if shares:
            numbers["test_share_bound_median"] = float(np.median(shares))
    notes = (f"Two stages: the exploration map (seeds 0–{regime_map.design.seeds - 1}) only proposed the cells; the "
             "plan (rule below, written and hashed before any confirmation run) fixed the cells, seeds and tests; the "
             "verdict comes from the confirmation seeds alone.", f"Plan rule: {staged.plan.rule}",
             *explored.notes)
    return ClaimReport(claim=claim, title=title, statement=statement, verdict=verdict, numbers=numbers,
                       tables=(*tables, *explored.tables), headline=headline(staged), plots=tuple(figures), notes=notes,
                       simulation=explored.simulation)


__all__ = ["CONFIRMATION_NAME", "cell_label", "causes_table", "confirmation_rows", "confirmation_table", "headline",
           "plan_table", "plot_confirmation", "render", "variance_table"]
