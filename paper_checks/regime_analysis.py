r"""The analysis of a regime map (pure): the runs of a :class:`~privqml.paper_checks.regimes.Design`
in, a :class:`RegimeMap` out — cells, Holm-adjusted paired tests, causes, verdicts.

**Per cell** (ε, C, n): test accuracy of every arm (mean, 95% t-interval over replicates), the
non-private reference (ε = ∞: no clipping, no noise) and retention acc(ε)/acc(∞) per replicate;
for each classical arm the paired t-test (and Wilcoxon) of d_r = quantum_r − classical_r;
the causes per arm: mean fraction of examples clipped, mean clip bias
‖mean clip_C(g) − mean g‖ and the noise-to-signal ratio σC/(L‖mean clip_C(g)‖).

**Multiplicity.** The t-test p-values of *all* (cell, classical arm) comparisons of the map form
one Holm family (α = 0.05); retention comparisons form a second one.

**Per-cell verdict** (the claim: quantum keeps higher accuracy than the classical models):

- *supported* when the quantum arm is significantly higher (Holm) than **every** classical arm;
- *not supported* when some classical arm is significantly higher, or equivalent (the 95%
  interval of the mean difference inside ±0.02);
- *inconclusive* otherwise.

**Overall verdict** (the claim is existential — "can retain higher accuracy in regimes …"):
*supported* if at least one cell is supported; *not supported* if every cell is not supported;
*inconclusive* otherwise. Because the Holm family is the whole map, "at least one supported
cell" keeps the family-wise error of that statement ≤ α however many cells are mapped. One
replicate: no tests, outcomes follow the sign of d beyond ±0.02 and the verdict is *indicative*.

**Resolution** (:func:`resolution`): the price of that honesty, stated beside the verdict. With m
comparisons, Holm's first step needs p < α/m, i.e. |t| ≥ t_{1−α/(2m)}(n−1) with n seeds: a mean
difference of at least that t/√n standard deviations of the seed-to-seed differences. The report
gives this threshold, the median interval half-width (equivalence needs ≤ 0.02) and, for the cell
closest to support (the quantum model ahead of every classical arm, with the largest weakest
standardised effect), how many seeds those effect sizes would need for every comparison to clear
the threshold — a planning figure for a rerun, not a test.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import scipy.stats as sps

from privqml.paper_checks import stats
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.regimes import Block, Design, clip_label, task_clip, tasks
from privqml.paper_checks.run_numbers import RunNumbers, finite_mean
from privqml.paper_checks.stats import Interval, PairedComparison, Verdict

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = stats.SUPPORTED, stats.NOT_SUPPORTED, stats.INCONCLUSIVE
#: a non-private accuracy within this of chance (1 / n_classes): the model has not learnt the task
NEAR_CHANCE = 0.05
#: the fields of an arm's cell (:class:`ArmCell`) computed from private per-example gradients
ARM_DIAGNOSTICS = ("clip_fraction", "clip_bias", "noise_to_signal")
DIAGNOSTICS_STATEMENT = (
    "clip_fraction, clip_bias and noise_to_signal of every arm are computed from the per-example gradients of "
    "the private training data: diagnostics, not covered by the (epsilon, delta) guarantee"
)

RULE = (
    "per cell and classical arm: paired t-test of quantum - classical accuracy over seeds, Holm-adjusted over "
    "all (cell, classical arm) comparisons of the map at alpha={alpha}; equivalent if the 95% interval of the "
    "difference lies within +-{margin}. A cell is supported if the quantum model is significantly higher than "
    "every classical arm; not supported if some classical arm is significantly higher or equivalent; "
    "inconclusive otherwise. The claim (existential: 'can retain higher accuracy in regimes') is supported if "
    "at least one cell is supported, not supported if every cell is not supported, inconclusive otherwise."
)


@dataclasses.dataclass(frozen=True)
class ArmCell:
    """One arm in one cell, over the cell's replicates.

    Attributes:
        model: the arm's spec; n_weights: its trainable weights.
        accuracy: private test accuracy (fraction correct), mean and 95% t-interval.
        retention: acc_r(ε)/acc_r(∞) over replicates with a reference, or None.
        clip_fraction: mean over replicates of the run's mean share of examples clipped.
        clip_bias: mean over replicates of the run's mean ‖mean clip_C(g) − mean g‖ (gradient units).
        noise_to_signal: mean over replicates of σC/(L · median‖mean clip_C(g)‖).
            (These three are diagnostics of the private training data, not covered by ε:
            :data:`ARM_DIAGNOSTICS`.)
        lrs: the distinct learning rates the arm's runs used.
    """

    model: str
    n_weights: int | None
    accuracy: Interval
    retention: Interval | None
    clip_fraction: float | None
    clip_bias: float | None
    noise_to_signal: float | None
    lrs: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "n_weights": self.n_weights, "accuracy": self.accuracy.to_json(),
                "retention": self.retention.to_json() if self.retention else None,
                "clip_fraction": self.clip_fraction, "clip_bias": self.clip_bias,
                "noise_to_signal": self.noise_to_signal, "lr": list(self.lrs)}


@dataclasses.dataclass(frozen=True)
class ArmComparison:
    """Quantum vs one classical arm in one cell: paired tests of accuracy and of retention
    (Holm-adjusted over the map's families)."""

    classical: str
    accuracy: PairedComparison
    retention: PairedComparison | None

    def to_json(self) -> dict[str, Any]:
        return {"classical": self.classical, "accuracy": self.accuracy.to_json(),
                "retention": self.retention.to_json() if self.retention else None}


@dataclasses.dataclass(frozen=True)
class RegimeCell:
    """One (task, quantum arm, n_train, C, ε) cell: its arms, comparisons and per-cell verdict.

    ``clip_value`` is C in gradient-norm units as the runs applied it; ``axes`` the blocks' axes
    the cell belongs to; ``noise_multiplier``, ``epsilon_pld_spent`` and ``clip_values`` the distinct
    values over the cell's runs (one each when every arm and replicate ran the same mechanism).
    """

    dataset: str
    quantum_model: str
    n_train: int
    clip: str | float
    clip_value: float | None
    epsilon: float
    axes: tuple[str, ...]
    replicates: tuple[int, ...]
    quantum: ArmCell
    classical: tuple[ArmCell, ...]
    comparisons: tuple[ArmComparison, ...]
    noise_multiplier: tuple[float, ...]
    epsilon_pld_spent: tuple[float, ...]
    clip_values: tuple[float, ...] = ()

    @property
    def block_name(self) -> str:
        return f"{self.dataset} | {self.quantum_model} | n={self.n_train}"

    @property
    def label(self) -> str:
        return f"{self.block_name} C={clip_label(self.clip, self.clip_value)} ε={self.epsilon:g}"

    @property
    def verdict(self) -> str:
        """The per-cell verdict of the module docstring."""
        outcomes = [c.accuracy.outcome for c in self.comparisons]
        if outcomes and all(o == stats.QUANTUM_HIGHER for o in outcomes):
            return SUPPORTED
        if any(o in (stats.CLASSICAL_HIGHER, stats.EQUIVALENT) for o in outcomes):
            return NOT_SUPPORTED
        return INCONCLUSIVE

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "quantum_model": self.quantum_model, "n_train": self.n_train, "clip": self.clip,
            "clip_value": self.clip_value, "epsilon": self.epsilon, "axes": list(self.axes),
            "replicates": list(self.replicates), "verdict": self.verdict, "quantum": self.quantum.to_json(),
            "classical": [a.to_json() for a in self.classical],
            "comparisons": [c.to_json() for c in self.comparisons],
            "noise_multiplier": list(self.noise_multiplier), "epsilon_pld_spent": list(self.epsilon_pld_spent),
            "clip_values": list(self.clip_values),
        }


@dataclasses.dataclass(frozen=True)
class Reference:
    """The non-private run (ε = ∞) of one arm of one block, over replicates; ``chance`` = 1/K;
    ``n_examples`` the training examples the runs had (digits: the size of their split, whatever
    ``n_train`` the record names)."""

    dataset: str
    quantum_model: str
    n_train: int
    model: str
    n_weights: int | None
    accuracy: Interval
    chance: float | None
    lrs: tuple[float, ...]
    n_examples: int | None = None

    @property
    def near_chance(self) -> bool:
        return self.chance is not None and self.accuracy.mean < self.chance + NEAR_CHANCE

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "quantum_model": self.quantum_model, "n_train": self.n_train,
                "model": self.model, "n_weights": self.n_weights, "accuracy": self.accuracy.to_json(),
                "chance": self.chance, "near_chance": self.near_chance, "lr": list(self.lrs),
                "n_examples": self.n_examples}


@dataclasses.dataclass(frozen=True)
class RegimeMap:
    """Everything a comparison concludes: cells, references, learning-rate choices, verdict.

    ``lr_choices`` holds per (task, arm) the distinct public choices (learning rate, grid, the
    validation accuracies, where the public data came from) as recorded in the runs; ``simulation``
    is True when some run drew its noise and Poisson batches from its recorded seed (a simulation of
    DP training, not a private release).
    """

    design: Design
    cells: tuple[RegimeCell, ...]
    references: tuple[Reference, ...]
    lr_choices: tuple[dict, ...]
    runs_expected: int
    runs_found: int
    verdict: Verdict
    simulation: bool = False

    @property
    def supported(self) -> tuple[RegimeCell, ...]:
        return tuple(c for c in self.cells if c.verdict == SUPPORTED)

    @property
    def not_supported(self) -> tuple[RegimeCell, ...]:
        return tuple(c for c in self.cells if c.verdict == NOT_SUPPORTED)

    def to_json(self) -> dict[str, Any]:
        return {
            "design": self.design.to_json(), "runs_expected": self.runs_expected, "runs_found": self.runs_found,
            "verdict": self.verdict.to_json(), "cells": [c.to_json() for c in self.cells],
            "nonprivate": [r.to_json() for r in self.references], "lr_choices": list(self.lr_choices),
            "counts": {v: sum(c.verdict == v for c in self.cells) for v in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)},
            "simulation": self.simulation,
            "not_covered_by_epsilon": {"fields": list(ARM_DIAGNOSTICS), "statement": DIAGNOSTICS_STATEMENT},
        }


Runs = Mapping[tuple, Mapping[int, RunNumbers]]


def group(design: Design, results: Mapping[Task, Mapping[str, Any]]) -> dict[tuple, dict[int, RunNumbers]]:
    """(dataset, model, n_train, clip, ε) -> replicate -> the run's :class:`RunNumbers`, for the design's claim."""
    runs: dict[tuple, dict[int, RunNumbers]] = defaultdict(dict)
    for task, result in results.items():
        if task.claim == design.claim and task.kind == "train":
            key = (task["dataset"], task["model"], task.get("n_train"), task_clip(task), float(task["epsilon"]))
            runs[key][task.replicate] = RunNumbers.from_json(result)
    return runs


def _lrs(runs: Iterable[RunNumbers]) -> tuple[float, ...]:
    return tuple(sorted({float(r.lr) for r in runs if r.lr is not None}))


def _arm(model: str, cell_runs: Mapping[int, RunNumbers], reference: Mapping[int, RunNumbers],
         shared: Sequence[int]) -> ArmCell:
    picked = [cell_runs[r] for r in shared]
    with_ref = [r for r in shared if r in reference and reference[r].test_accuracy > 0]
    retention = (stats.mean_ci([cell_runs[r].test_accuracy / reference[r].test_accuracy for r in with_ref])
                 if with_ref else None)
    return ArmCell(model, picked[0].n_weights,
                   stats.mean_ci([r.test_accuracy for r in picked], bounds=stats.ACCURACY_RANGE), retention,
                   finite_mean(picked, "clip_fraction_mean"), finite_mean(picked, "clip_bias_mean"),
                   finite_mean(picked, "noise_to_signal"), _lrs(picked))


def _raw_cell(design: Design, block: Block, clip, epsilon: float, runs: Runs) -> RegimeCell | None:
    """A cell's arms and (not yet Holm-adjusted) paired tests; None without a replicate shared by all arms."""
    arm_runs = [runs.get((block.dataset, m, block.n_train, clip, epsilon), {}) for m in block.arms]
    refs = [runs.get((block.dataset, m, block.n_train, None, math.inf), {}) for m in block.arms]
    shared = sorted(set.intersection(*(set(r) for r in arm_runs)))
    if not shared:
        return None
    arms = [_arm(m, r, ref, shared) for m, r, ref in zip(block.arms, arm_runs, refs)]
    comparisons = []
    q_acc = [arm_runs[0][r].test_accuracy for r in shared]
    for model, c_runs, c_ref in zip(block.classical, arm_runs[1:], refs[1:]):
        c_acc = [c_runs[r].test_accuracy for r in shared]
        both = [r for r in shared if r in refs[0] and r in c_ref and refs[0][r].test_accuracy > 0
                and c_ref[r].test_accuracy > 0]
        retention = stats.paired_test([arm_runs[0][r].test_accuracy / refs[0][r].test_accuracy for r in both],
                                      [c_runs[r].test_accuracy / c_ref[r].test_accuracy for r in both]) if both else None
        comparisons.append(ArmComparison(model, stats.paired_test(q_acc, c_acc), retention))
    every = [run for r in arm_runs for run in r.values()]
    return RegimeCell(
        dataset=block.dataset, quantum_model=block.quantum, n_train=block.n_train, clip=clip,
        clip_value=arm_runs[0][shared[0]].clip, epsilon=epsilon, axes=(block.axis,), replicates=tuple(shared),
        quantum=arms[0], classical=tuple(arms[1:]), comparisons=tuple(comparisons),
        noise_multiplier=tuple(sorted({round(r.noise_multiplier, 6) for r in every if r.noise_multiplier is not None})),
        clip_values=tuple(sorted({round(float(r.clip), 9) for r in every if r.clip is not None})),
        epsilon_pld_spent=tuple(sorted({round(r.epsilon_pld, 6) for r in every if r.epsilon_pld is not None})),
    )


def _cells(design: Design, runs: Runs) -> list[RegimeCell]:
    """Every distinct cell of the design, in block order (a cell shared by blocks lists their axes)."""
    cells: dict[tuple, RegimeCell] = {}
    for block in design.blocks:
        for clip in block.clips:
            for epsilon in block.epsilons:
                key = (block.dataset, block.quantum, block.classical, block.n_train, clip, epsilon)
                if key in cells:
                    if block.axis not in cells[key].axes:
                        cells[key] = dataclasses.replace(cells[key], axes=cells[key].axes + (block.axis,))
                    continue
                cell = _raw_cell(design, block, clip, epsilon, runs)
                if cell is not None:
                    cells[key] = cell
    return list(cells.values())


def _classify(cells: list[RegimeCell]) -> tuple[RegimeCell, ...]:
    """Holm over every (cell, classical arm) accuracy comparison; retention as a second family."""
    flat = [(i, j) for i, cell in enumerate(cells) for j in range(len(cell.comparisons))]
    accuracy = dict(zip(flat, stats.classify([cells[i].comparisons[j].accuracy for i, j in flat])))
    with_ret = [(i, j) for i, j in flat if cells[i].comparisons[j].retention is not None]
    retention = dict(zip(with_ret, stats.classify([cells[i].comparisons[j].retention for i, j in with_ret])))
    return tuple(
        dataclasses.replace(cell, comparisons=tuple(
            dataclasses.replace(comp, accuracy=accuracy[(i, j)], retention=retention.get((i, j)))
            for j, comp in enumerate(cell.comparisons)))
        for i, cell in enumerate(cells))


def _references(design: Design, runs: Runs) -> tuple[Reference, ...]:
    out, seen = [], set()
    for block in design.blocks:
        for model in block.arms:
            key = (block.dataset, model, block.n_train)
            ref = runs.get((*key, None, math.inf), {})
            if key in seen or not ref:
                continue
            seen.add(key)
            first = next(iter(ref.values()))
            n_classes = first.dataset.get("n_classes")
            out.append(Reference(block.dataset, block.quantum, block.n_train, model, first.n_weights,
                                 stats.mean_ci([r.test_accuracy for r in ref.values()],
                                               bounds=stats.ACCURACY_RANGE),
                                 1.0 / n_classes if n_classes else None, _lrs(ref.values()),
                                 first.dataset.get("n_train")))
    return tuple(out)


def _lr_choices(runs: Runs) -> tuple[dict, ...]:
    """Per (task, arm): the distinct public learning-rate choices recorded in its runs."""
    found: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for (dataset, model, *_), by_rep in runs.items():
        for result in by_rep.values():
            choice = result.lr_choice
            if choice is not None:
                found[(dataset, model)][choice["public_fingerprint"]] = choice
    return tuple({"dataset": d, "model": m, "choices": [found[(d, m)][k] for k in sorted(found[(d, m)])]}
                 for d, m in sorted(found))


def regime_verdict(claim: str, cells: Sequence[RegimeCell], indicative: bool = False,
                   alpha: float = stats.ALPHA, margin: float = stats.MARGIN) -> Verdict:
    """The overall verdict of the module docstring, with the cells behind it named."""
    rule = RULE.format(alpha=alpha, margin=margin)
    if not cells:
        return Verdict(claim, INCONCLUSIVE, rule, ("no cells were measured",), indicative)
    counts = {v: [c for c in cells if c.verdict == v] for v in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)}
    if counts[SUPPORTED]:
        verdict = SUPPORTED
    elif len(counts[NOT_SUPPORTED]) == len(cells):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    m = sum(len(c.comparisons) for c in cells)
    reasons = (
        f"{len(cells)} cells, {m} Holm-adjusted comparisons: supported in {len(counts[SUPPORTED])}, "
        f"not supported in {len(counts[NOT_SUPPORTED])}, inconclusive in {len(counts[INCONCLUSIVE])}",
        "supported where: " + (", ".join(c.label for c in counts[SUPPORTED]) or "no cell"),
        "not supported where: " + (_summarise_cells(counts[NOT_SUPPORTED]) or "no cell"),
        "inconclusive elsewhere" + (f" ({len(counts[INCONCLUSIVE])} cells)" if counts[INCONCLUSIVE] else " (no cell)"),
    )
    return Verdict(claim, verdict, rule, reasons, indicative or any(
        comp.accuracy.indicative for c in cells for comp in c.comparisons))


def resolution(cells: Sequence[RegimeCell], alpha: float = stats.ALPHA, margin: float = stats.MARGIN,
               max_seeds: int = 1000) -> str | None:
    """What the map's design can resolve (module docstring), in one line; None without tests."""
    tested = [(cell, comp) for cell in cells for comp in cell.comparisons if comp.accuracy.difference.n >= 2]
    if not tested:
        return None
    m = len(tested)
    n = int(np.median([comp.accuracy.difference.n for _, comp in tested]))
    t_first = float(sps.t.ppf(1 - alpha / (2 * m), n - 1))
    half = float(np.median([comp.accuracy.difference.half_width for _, comp in tested]))
    text = (f"resolution: {m} comparisons at {n} seeds — Holm's first step needs p < {alpha / m:.2g}, |t| ≥ "
            f"{t_first:.1f} (df {n - 1}), a mean q − c of ≥ {t_first / math.sqrt(n):.1f} seed-to-seed standard "
            f"deviations; median 95% half-width of q − c {half:.3f} (equivalence needs ≤ {margin:g})")
    # A cell is supported only when every classical arm is beaten: its weakest effect is what counts.
    closest = []
    for cell in cells:
        diffs = [comp.accuracy.difference for comp in cell.comparisons]
        if diffs and all(d.n >= 2 and d.mean > 0 and d.sd > 0 for d in diffs):
            closest.append((min(d.mean / d.sd for d in diffs), cell))
    if closest:
        effect, cell = max(closest, key=lambda e: e[0])
        need = next((k for k in range(2, max_seeds + 1)
                     if effect * math.sqrt(k) >= sps.t.ppf(1 - alpha / (2 * m), k - 1)), None)
        gaps = ", ".join(f"{comp.accuracy.difference.mean:+.3f} vs {comp.classical.split(':')[0]}"
                         for comp in cell.comparisons)
        text += (f"; the cell closest to support ({cell.label}: q − c {gaps}; weakest effect {effect:.2f} sd) "
                 f"would need {'more than ' + str(max_seeds) if need is None else f'≈ {need}'} seeds for every "
                 "comparison to pass that step at these effect sizes (a planning figure, not a test)")
    else:
        text += "; no cell has the quantum model ahead of every classical arm"
    return text


def _summarise_cells(cells: Sequence[RegimeCell], limit: int = 40) -> str:
    """Cell labels grouped by block: ``block: C=…, ε=…; …`` (at most ``limit`` cells named)."""
    by_block: dict[str, list[str]] = defaultdict(list)
    for cell in cells[:limit]:
        by_block[cell.block_name].append(f"C={clip_label(cell.clip)} ε={cell.epsilon:g}")
    text = "; ".join(f"{name}: {', '.join(items)}" for name, items in by_block.items())
    return text + (f"; … and {len(cells) - limit} more" if len(cells) > limit else "")


def analyse(design: Design, results: Mapping[Task, Mapping[str, Any]], indicative: bool = False,
            verdict_claim: str | None = None) -> RegimeMap:
    """The :class:`RegimeMap` of ``design`` from its runs' results (no files)."""
    runs = group(design, results)
    expected = len(tasks(design))
    found = sum(len(v) for v in runs.values())
    cells = _classify(_cells(design, runs))
    verdict = regime_verdict(verdict_claim or design.claim.upper(), cells, indicative or design.seeds < 2)
    if found < expected:
        verdict = dataclasses.replace(verdict, reasons=verdict.reasons + (
            f"{expected - found} of {expected} runs missing (failed or not run): cells use the replicates present",))
    mixed = [c for c in cells if len(c.clip_values) > 1]
    if mixed:  # a record names C as k·G*; G* comes from the code that ran it, so check it is one number
        verdict = dataclasses.replace(verdict, reasons=verdict.reasons + (
            f"C differs between the runs of {len(mixed)} cell(s) (the bound G* changed between runs?): "
            + "; ".join(f"{c.label}: {list(c.clip_values)}" for c in mixed[:5]),))
    limits = resolution(cells)
    if limits is not None:
        verdict = dataclasses.replace(verdict, reasons=verdict.reasons + (limits,))
    near = [r for r in _references(design, runs) if r.near_chance]
    if near:
        verdict = dataclasses.replace(verdict, reasons=verdict.reasons + (
            "not learnt without privacy (within {:.2f} of chance), so retention there measures nothing: ".format(NEAR_CHANCE)
            + ", ".join(f"{r.model} on {r.dataset} n={r.n_train} ({r.accuracy.mean:.3f})" for r in near),))
    simulation = any(r.simulation for by_rep in runs.values() for r in by_rep.values())
    return RegimeMap(design, cells, _references(design, runs), _lr_choices(runs), expected, found, verdict,
                     simulation)


__all__ = [
    "ARM_DIAGNOSTICS", "ArmCell", "ArmComparison", "DIAGNOSTICS_STATEMENT", "INCONCLUSIVE", "NEAR_CHANCE", "NOT_SUPPORTED", "RULE", "Reference", "RegimeCell",
    "RegimeMap", "SUPPORTED", "analyse", "group", "regime_verdict", "resolution",
]
