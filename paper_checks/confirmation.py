r"""Confirmation of a regime map: a pre-registered second stage on fresh seeds.

An exploration map (a few seeds, Holm over every comparison of the map) rarely decides anything;
it is good for choosing *where* to look. This module fixes — before any confirmation run — which
cells are confirmed, with how many fresh seeds and by which tests, and then tests those cells on
those seeds alone:

1. **explore** — per cell and classical arm the exploration differences d_r = quantum_r −
   classical_r (accuracy, per seed r): :class:`ExploredCell`, :func:`explored_cells`;
2. **plan** — :func:`make_plan` (its rule is recorded in :attr:`Plan.rule`);
3. **lock** — :func:`write_plan`, :func:`start_confirmation`, :func:`load_locked_plan`: when
   confirmation starts the plan's SHA-256 is recorded, and no other plan is accepted after that;
4. **confirm** — :func:`confirm`: the plan's tests on the confirmation differences only.

The confirmation seeds are disjoint from the exploration seeds, so the confirmation data are
independent of the choice of cells and choosing cells on the exploration data biases no test
(data splitting: Cox 1975, "A note on data-splitting for the evaluation of significance levels",
Biometrika 62(2):441–444; pre-registration: Nosek et al. 2018, PNAS 115(11):2600–2606).

**Power of the paired t-test.** With d_1..d_n i.i.d. N(δ, σ²), T = d̄/(s/√n) has a noncentral
t distribution with n − 1 degrees of freedom and noncentrality λ = √n·δ/σ. With F its CDF and
t_q the q-quantile of the central t(n − 1) (Cohen 1988, *Statistical Power Analysis*, ch. 2; as
G*Power computes it, Faul et al. 2007, Behav. Res. Methods 39:175–191):

- greater: P(T > t_{1−α}) = 1 − F(t_{1−α}; n−1, λ);
- less: P(T < −t_{1−α}) = F(−t_{1−α}; n−1, λ) = 1 − F(t_{1−α}; n−1, −λ);
- two-sided: 1 − F(t_{1−α/2}; n−1, λ) + 1 − F(t_{1−α/2}; n−1, −λ).

**Holm.** Holm's step-down procedure (Holm 1979) over m tests rejects at its first step when
p ≤ α/m — Bonferroni's threshold — and at step j when p ≤ α/(m − j + 1) ≥ α/m: every test
Bonferroni rejects Holm rejects too, so power computed at level α/m is a lower bound under Holm.

**Equivalence (TOST).** Schuirmann 1987 (J. Pharmacokinet. Biopharm. 15:657–680): H₀: |μ| ≥ δ
against H₁: |μ| < δ by two one-sided t-tests, t_L = (d̄ + δ)/(s/√n) with p_L = P(T_{n−1} ≥ t_L)
and t_U = (d̄ − δ)/(s/√n) with p_U = P(T_{n−1} ≤ t_U); p = max(p_L, p_U). Rejecting at α is the
same as the (1 − 2α) t-interval of μ lying inside (−δ, δ). With s = 0, p = 0 when |d̄| < δ, else 1.

**Confirmation tests** (:func:`confirm`). Per planned cell and classical arm: the two-sided paired
t-test of d against 0 (:func:`paired_t`, the t-test of :func:`privqml.paper_checks.stats.paired_test`).
Two-sided because the plan confirms cells in both directions: the same test must be able to say
"classical higher" (a cell not supported) as well as "quantum higher". The t-test p-values of
*all* planned tests form one Holm family (α); the TOST p-values a second one. An arm is ``quantum
higher`` / ``classical higher`` when its Holm-adjusted t p-value is < α (by the sign of d̄),
else ``equivalent`` when its Holm-adjusted TOST p-value is < α, else ``undecided``. Holm keeps
the family-wise error of the nulls μ = 0 at ≤ α under any dependence; deciding the direction by
the sign of d̄ keeps the directional error ≤ α for independent statistics (Shaffer 1980, Ann.
Statist. 8(6):1342–1347) — the arms of a cell share the quantum runs, so there it is the usual
working assumption (the tests check it by simulation).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import stats as sps

from privqml import jsonio, validation
from privqml.errors import ConfigError, DataError
from privqml.paper_checks import regime_analysis, stats
from privqml.paper_checks.protocol import atomic_write_json
from privqml.paper_checks.stats import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Verdict

#: bumped when the meaning of a plan's fields changes
PLAN_VERSION = 1
#: confirmation replicates start at CONFIRMATION_SEED_BASE + the plan's ``confirmation_offset``
CONFIRMATION_SEED_BASE = 1_000_000
#: the smallest planning sd of a difference d (accuracy): with 5 seeds a sample sd of 0 (or near it)
#: says little about σ; one percentage point keeps such a cell from being planned with 2 seeds
SD_FLOOR = 0.01
#: the largest number of fresh seeds a cell may be planned with
SEED_CAP = 200
QUANTUM_AHEAD = "quantum ahead"
CLASSICAL_AHEAD = "classical ahead or equal"
ALTERNATIVES = ("greater", "less", "two-sided")
PLAN_FILE = "plan.json"
STARTED_FILE = "confirmation_started.json"

RULE = (
    "From the exploration seeds {explore}: per cell and classical arm the differences d = quantum - classical. "
    "Pick at most {max_cells} cells: the ceil({max_cells}/2) with the largest min over arms of mean d (quantum "
    "ahead of its strongest classical arm), then from the rest the floor({max_cells}/2) with the smallest max over "
    "arms of mean d (classical ahead or equal); ties in canonical cell-key order. Per cell, sd = the largest "
    "exploration sd of d over its arms{ucl}, floored at {sd_floor}; fresh seeds n = the smallest n >= 2 whose "
    "two-sided paired t-test at level alpha/m (Holm's first step, m = {m} planned tests) rejects in the "
    "direction of a true difference of {effect} with probability >= 1 - (1 - {power})/k for each of the cell's "
    "k arms (so all k reject with probability >= {power}); a cell needing more than {seed_cap} seeds is not "
    "confirmed. Confirmation replicates start at {start}, disjoint from the exploration seeds. Confirm: per "
    "planned test the two-sided paired t-test, Holm over all planned tests at alpha={alpha}, and TOST within "
    "+-{margin} (Holm as a second family). A cell is supported if quantum is significantly higher than every "
    "classical arm; not supported if some arm is significantly higher or equivalent; inconclusive otherwise. "
    "The claim is supported if some planned cell is supported, not supported if every planned cell is not "
    "supported, inconclusive otherwise; only the confirmation seeds decide."
)


#: The eligibility clause of a ``feasible_only`` plan (appended to :data:`RULE`).
FEASIBLE = (
    "Eligible cells: only those whose n, computed as above but at m_max = {m_max} tests (the most the plan can "
    "hold), is within {seed_cap} seeds ({eligible} of {total} cells); the picks above are made among them."
)


# -- power ------------------------------------------------------------------------------------
def paired_t_power(effect: float, sd: float, n: int | np.ndarray, alpha: float,
                   alternative: str = "greater") -> float | np.ndarray:
    """Exact power of the paired t-test with n pairs at level ``alpha`` when the differences are
    N(effect, sd²) (module docstring; ``n`` may be an array of sizes ≥ 2)."""
    validation.choice("alternative", alternative, ALTERNATIVES)
    validation.positive("sd", sd)
    validation.in_interval("alpha", alpha, 0.0, 1.0, hi_open=True)
    if isinstance(effect, bool) or not isinstance(effect, (int, float)) or not math.isfinite(effect):
        raise ConfigError(f"effect={effect!r} must be a finite number (accuracy units, e.g. 0.03)")
    sizes = np.asarray(n)
    if sizes.size == 0 or np.any(sizes < 2) or not np.all(np.mod(sizes, 1) == 0):
        raise ConfigError(f"n={n!r} must be whole numbers >= 2; a t-test needs two pairs")
    df = sizes - 1
    noncentrality = np.sqrt(sizes) * effect / sd
    # P(T < −c; λ) is computed as P(−T > c) = sf(c; −λ): SciPy's nct.cdf returns NaN far in its
    # lower tail (e.g. df 10, λ 20), its sf stays finite there.
    if alternative == "two-sided":
        critical = sps.t.ppf(1 - alpha / 2, df)
        power = sps.nct.sf(critical, df, noncentrality) + sps.nct.sf(critical, df, -noncentrality)
    else:
        critical = sps.t.ppf(1 - alpha, df)
        power = sps.nct.sf(critical, df, noncentrality if alternative == "greater" else -noncentrality)
    assert np.all(np.isfinite(power)), (effect, sd, n, alpha, alternative)
    return float(power) if np.ndim(n) == 0 else power


def seeds_for_power(effect: float, sd: float, m: int, alpha: float = stats.ALPHA, power: float = 0.8,
                    alternative: str = "greater", seed_cap: int = SEED_CAP) -> int | None:
    """The smallest n in [2, seed_cap] with :func:`paired_t_power` (effect, sd, n, alpha/m) ≥ ``power``,
    or None when even ``seed_cap`` pairs fall short (infeasible).

    Level α/m is Holm's first step over m tests (Bonferroni's) and every later step's level is
    larger, so the power is a lower bound under Holm. Power grows with n for an effect in the
    tested direction; every n up to the cap is evaluated, so the n returned is the smallest
    whatever the shape of the curve.
    """
    validation.integer("m", m, 1)
    validation.in_interval("power", power, 0.0, 1.0, hi_open=True)
    validation.integer("seed_cap", seed_cap, 2)
    sizes = np.arange(2, seed_cap + 1)
    reached = np.flatnonzero(paired_t_power(effect, sd, sizes, alpha / m, alternative) >= power)
    return int(sizes[reached[0]]) if reached.size else None


# -- equivalence ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Equivalence:
    """TOST of the mean difference μ within ±margin (module docstring), accuracy units.

    ``pvalue`` = max(``lower_pvalue``, ``upper_pvalue``); [``low``, ``high``] is the (1 − 2α)
    t-interval of μ (``confidence`` = 1 − 2α), inside (−margin, margin) exactly when p < α.
    """

    mean: float
    sd: float
    n: int
    margin: float
    lower_pvalue: float
    upper_pvalue: float
    pvalue: float
    low: float
    high: float
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def tost(differences: Sequence[float], margin: float = stats.MARGIN, alpha: float = stats.ALPHA) -> Equivalence:
    """Two one-sided paired t-tests for |μ| < ``margin`` on the differences d (n ≥ 2)."""
    validation.positive("margin", margin)
    validation.in_interval("alpha", alpha, 0.0, 0.5, hi_open=True, hint="the interval is at 1 - 2 alpha")
    d = np.round(np.asarray(list(differences), dtype=float), 12)  # as stats.paired_test rounds them
    if d.ndim != 1 or d.size < 2 or not np.all(np.isfinite(d)):
        raise DataError(f"differences={d.tolist()} must be >= 2 finite numbers for a t-test")
    n, mean, sd = d.size, float(d.mean()), float(d.std(ddof=1))
    if sd == 0:
        inside = abs(mean) < margin
        lower = upper = 0.0 if inside else 1.0
        low = high = mean
    else:
        se = sd / math.sqrt(n)
        lower = float(sps.t.sf((mean + margin) / se, n - 1))
        upper = float(sps.t.cdf((mean - margin) / se, n - 1))
        half = float(sps.t.ppf(1 - alpha, n - 1)) * se
        low, high = mean - half, mean + half
    return Equivalence(mean, sd, n, margin, lower, upper, max(lower, upper), low, high, 1 - 2 * alpha)


# -- exploration input ------------------------------------------------------------------------
def cell_id(key: Mapping[str, Any]) -> str:
    """A cell's key as canonical JSON (sorted keys, no spaces): the name of a cell in a plan and in
    the confirmation data, the same whatever order the key was built in."""
    return json.dumps(jsonio.to_jsonable(dict(key)), sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclasses.dataclass(frozen=True)
class ExploredCell:
    """One cell of an exploration map: its key and, per classical arm, the paired differences
    d_r = quantum_r − classical_r (test accuracy) over the exploration seeds r."""

    key: dict
    differences: dict

    def __post_init__(self) -> None:
        diffs = {str(arm): tuple(float(v) for v in values) for arm, values in dict(self.differences).items()}
        if not diffs:
            raise DataError(f"cell {cell_id(self.key)} has no classical arm; give differences per arm")
        for arm, values in diffs.items():
            if len(values) < 2 or not all(math.isfinite(v) for v in values):
                raise DataError(f"cell {cell_id(self.key)} arm {arm}: differences={list(values)} must be >= 2 "
                                "finite numbers (one seed gives no sd to plan with)")
        object.__setattr__(self, "key", dict(self.key))
        object.__setattr__(self, "differences", diffs)

    @property
    def cell_id(self) -> str:
        return cell_id(self.key)


def _accuracies(runs: regime_analysis.Runs, cell: regime_analysis.RegimeCell,
                model: str) -> np.ndarray:
    """Test accuracies of ``model`` in ``cell`` over the cell's replicates, in their order."""
    by_rep = runs.get((cell.dataset, model, cell.n_train, cell.clip, cell.epsilon), {})
    missing = [r for r in cell.replicates if r not in by_rep]
    if missing:
        raise DataError(f"{cell.label}: no run of {model} for replicates {missing}; pass the results the map "
                        "was built from")
    return np.array([by_rep[r].test_accuracy for r in cell.replicates], dtype=float)


def explored_cells(regime_map: regime_analysis.RegimeMap, results: Mapping[Any, Mapping[str, Any]]
                   ) -> tuple[ExploredCell, ...]:
    """The map's cells as :class:`ExploredCell`; ``results`` are the runs the map was built from
    (task → result). A :class:`~privqml.paper_checks.regime_analysis.RegimeCell` keeps only means
    and intervals, so the per-seed accuracies are taken from the runs
    (:func:`~privqml.paper_checks.regime_analysis.group`), paired by replicate over the cell's
    replicates and rounded to 1e-12 as the map's paired tests round them. Key: dataset,
    quantum_model, n_train, clip, epsilon and the classical arms (two blocks may share a quantum
    arm with different classical arms)."""
    runs = regime_analysis.group(regime_map.design, results)
    out = []
    for cell in regime_map.cells:
        quantum = _accuracies(runs, cell, cell.quantum_model)
        diffs = {comp.classical: np.round(quantum - _accuracies(runs, cell, comp.classical), 12).tolist()
                 for comp in cell.comparisons}
        for comp in cell.comparisons:  # the map's own difference, recomputed from the same runs
            assert math.isclose(float(np.mean(diffs[comp.classical])), comp.accuracy.difference.mean, abs_tol=1e-9)
        key = {"dataset": cell.dataset, "quantum_model": cell.quantum_model, "n_train": cell.n_train,
               "clip": cell.clip, "epsilon": cell.epsilon, "classical": [c.classical for c in cell.comparisons]}
        out.append(ExploredCell(key, diffs))
    return tuple(out)


# -- the plan -------------------------------------------------------------------------------
def _range_json(seeds: range | None) -> list[int] | None:
    return None if seeds is None else [seeds.start, seeds.stop, seeds.step]


def _range(value: Sequence[int] | None) -> range | None:
    return None if value is None else range(*(int(v) for v in value))


@dataclasses.dataclass(frozen=True)
class PlannedCell:
    """One cell of a plan.

    Attributes:
        cell_id: :func:`cell_id` of ``key``; arms: the classical arms (sorted), one test each.
        direction: :data:`QUANTUM_AHEAD` or :data:`CLASSICAL_AHEAD` — which half picked it.
        exploration_means: mean d per arm (accuracy) over the exploration seeds (a record; no
            confirmation decision uses it).
        exploration_sd: the largest sample sd of d over the arms (ddof 1); planning_sd: the sd
            the seeds were planned with (upper confidence bound if asked for, then the floor).
        seeds: the confirmation replicates, or None when more than the seed cap were needed.
        test_power: each arm's power at the plan's effect with ``len(seeds)`` seeds (None if
            infeasible); the cell's power to be supported is ≥ 1 − k(1 − test_power).
    """

    cell_id: str
    key: dict
    direction: str
    arms: tuple[str, ...]
    exploration_means: tuple[float, ...]
    exploration_sd: float
    planning_sd: float
    seeds: range | None
    test_power: float | None

    def to_json(self) -> dict[str, Any]:
        return {"cell_id": self.cell_id, "key": jsonio.to_jsonable(self.key), "direction": self.direction,
                "arms": list(self.arms), "exploration_means": list(self.exploration_means),
                "exploration_sd": self.exploration_sd, "planning_sd": self.planning_sd,
                "seeds": _range_json(self.seeds), "test_power": self.test_power}

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> "PlannedCell":
        return cls(payload["cell_id"], dict(payload["key"]), payload["direction"], tuple(payload["arms"]),
                   tuple(float(v) for v in payload["exploration_means"]), float(payload["exploration_sd"]),
                   float(payload["planning_sd"]), _range(payload["seeds"]),
                   None if payload["test_power"] is None else float(payload["test_power"]))


@dataclasses.dataclass(frozen=True)
class Plan:
    """A confirmation plan, fixed before any confirmation run (:func:`make_plan`).

    ``n_tests`` is m, the number of (cell, arm) tests the seeds were planned for (every picked cell);
    the Holm family of :func:`confirm` is the tests of the feasible cells, never larger. ``rule`` is
    the rule's text as recorded (hashed with everything else). Construction refuses a plan whose
    confirmation seeds meet the exploration seeds.
    """

    cells: tuple[PlannedCell, ...]
    explore_seeds: range
    max_cells: int
    effect: float
    margin: float
    alpha: float
    power: float
    sd_floor: float
    sd_confidence: float | None
    seed_cap: int
    confirmation_offset: int
    n_tests: int
    rule: str
    version: int = PLAN_VERSION

    def __post_init__(self) -> None:
        for cell in self.cells:
            if cell.seeds is not None and any(seed in self.explore_seeds for seed in cell.seeds):
                raise ConfigError(
                    f"plan cell {cell.cell_id}: confirmation seeds {cell.seeds} overlap the exploration seeds "
                    f"{self.explore_seeds}; confirm on fresh seeds (raise confirmation_offset)")

    @property
    def confirmed_cells(self) -> tuple[PlannedCell, ...]:
        """The cells with seeds (feasible within the seed cap): what :func:`confirm` tests."""
        return tuple(c for c in self.cells if c.seeds is not None)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "rule": self.rule, "cells": [c.to_json() for c in self.cells],
                "explore_seeds": _range_json(self.explore_seeds), "max_cells": self.max_cells,
                "effect": self.effect, "margin": self.margin, "alpha": self.alpha, "power": self.power,
                "sd_floor": self.sd_floor, "sd_confidence": self.sd_confidence, "seed_cap": self.seed_cap,
                "confirmation_offset": self.confirmation_offset, "n_tests": self.n_tests}

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> "Plan":
        if payload.get("version") != PLAN_VERSION:
            raise ConfigError(f"plan version={payload.get('version')!r} is not {PLAN_VERSION}; make the plan again")
        return cls(tuple(PlannedCell.from_json(c) for c in payload["cells"]), _range(payload["explore_seeds"]),
                   int(payload["max_cells"]), float(payload["effect"]), float(payload["margin"]),
                   float(payload["alpha"]), float(payload["power"]), float(payload["sd_floor"]),
                   None if payload["sd_confidence"] is None else float(payload["sd_confidence"]),
                   int(payload["seed_cap"]), int(payload["confirmation_offset"]), int(payload["n_tests"]),
                   payload["rule"], int(payload["version"]))

    def sha256(self) -> str:
        """SHA-256 (hex) of the plan's canonical JSON (sorted keys, no spaces)."""
        text = json.dumps(jsonio.to_jsonable(self.to_json()), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()


def _pick(cells: Sequence[ExploredCell], max_cells: int) -> list[tuple[ExploredCell, str]]:
    """The two halves of the rule: ⌈M/2⌉ by largest min-over-arms mean d, then ⌊M/2⌋ of the rest by
    smallest max-over-arms mean d; ties in :func:`cell_id` order (data-free)."""
    means = {c.cell_id: [float(np.mean(v)) for v in c.differences.values()] for c in cells}
    ahead = sorted(cells, key=lambda c: (-min(means[c.cell_id]), c.cell_id))[:math.ceil(max_cells / 2)]
    taken = {c.cell_id for c in ahead}
    rest = [c for c in cells if c.cell_id not in taken]
    behind = sorted(rest, key=lambda c: (max(means[c.cell_id]), c.cell_id))[:max_cells // 2]
    return [(c, QUANTUM_AHEAD) for c in ahead] + [(c, CLASSICAL_AHEAD) for c in behind]


def planning_sd(differences: Mapping[str, Sequence[float]], sd_floor: float = SD_FLOOR,
                sd_confidence: float | None = None) -> tuple[float, float]:
    """(largest sample sd over the arms, the sd to plan with). With ``sd_confidence`` γ each arm's sd
    is replaced by its upper γ confidence bound s·√((n−1)/χ²_{1−γ}(n−1)) (a pilot's sd is often too
    small; Browne 1995, Stat. Med. 14:1933–1940, recommends γ = 0.8); then the floor applies."""
    sds = {arm: float(np.std(v, ddof=1)) for arm, v in differences.items()}
    largest = max(sds.values())
    if sd_confidence is None:
        planned = largest
    else:
        df = {arm: len(v) - 1 for arm, v in differences.items()}
        planned = max(sd * math.sqrt(df[arm] / sps.chi2.ppf(1 - sd_confidence, df[arm])) for arm, sd in sds.items())
    return largest, max(planned, sd_floor)


def make_plan(exploration_cells: Sequence[ExploredCell], *, max_cells: int, explore_seeds: range,
              effect: float = 0.03, margin: float = stats.MARGIN, alpha: float = stats.ALPHA, power: float = 0.8,
              seed_cap: int = SEED_CAP, sd_floor: float = SD_FLOOR, sd_confidence: float | None = None,
              confirmation_offset: int = 0, feasible_only: bool = False) -> Plan:
    """The plan of :data:`RULE` (filled in as :attr:`Plan.rule`) from the exploration cells.

    ``feasible_only``: pick among the cells that could be confirmed within the seed cap — those whose
    n at m_max = ``max_cells`` × (the most arms of a cell) tests is ≤ ``seed_cap`` (:data:`FEASIBLE`,
    added to the rule). Seeds shrink as m does, so every picked cell stays within the cap at the
    plan's own m. Without it a picked cell may need more than the cap and is then not confirmed.

    Each cell's n is :func:`seeds_for_power` with the test run two-sided at α/m and counted in the
    effect's direction only — one-sided level α/(2m) — at per-arm power 1 − (1 − power)/k, so by
    the union bound all k arms of a cell reject with probability ≥ ``power`` when every arm's true
    difference is ``effect``. All cells start at replicate CONFIRMATION_SEED_BASE +
    ``confirmation_offset`` (cells share replicates, as in the map, so arms stay paired); a later
    plan should take a new offset so that no confirmation seed is reused.
    """
    validation.integer("max_cells", max_cells, 1)
    validation.positive("effect", effect, hint="the smallest accuracy gain worth confirming, e.g. 0.03")
    validation.in_interval("power", power, 0.0, 1.0, hi_open=True)
    validation.in_interval("alpha", alpha, 0.0, 0.5, hi_open=True)
    validation.positive("margin", margin)
    validation.positive("sd_floor", sd_floor)
    validation.integer("seed_cap", seed_cap, 2)
    validation.integer("confirmation_offset", confirmation_offset, 0)
    if sd_confidence is not None:
        validation.confidence("sd_confidence", sd_confidence)
    if not isinstance(explore_seeds, range) or len(explore_seeds) < 2:
        raise ConfigError(f"explore_seeds={explore_seeds!r} must be a range of >= 2 seeds, e.g. range(5)")
    cells = list(exploration_cells)
    ids = [c.cell_id for c in cells]
    if len(set(ids)) != len(ids) or not cells:
        raise ConfigError(f"exploration_cells must be non-empty with distinct keys; got {len(ids)} cells, "
                          f"{len(set(ids))} distinct")
    for cell in cells:
        longest = max(len(v) for v in cell.differences.values())
        if longest > len(explore_seeds):
            raise ConfigError(f"cell {cell.cell_id} has {longest} differences but explore_seeds={explore_seeds} "
                              "has fewer seeds; pass the seeds the map was run on")
    eligible = cells
    if feasible_only:
        m_max = max_cells * max(len(c.differences) for c in cells)
        eligible = [c for c in cells if seeds_for_power(
            effect, planning_sd(c.differences, sd_floor, sd_confidence)[1], m_max, alpha / 2,
            1 - (1 - power) / len(c.differences), "greater", seed_cap) is not None]
    picked = _pick(eligible, max_cells)
    m = max(1, sum(len(c.differences) for c, _ in picked))
    start = CONFIRMATION_SEED_BASE + confirmation_offset
    planned = []
    for cell, direction in picked:
        arms = tuple(sorted(cell.differences))
        largest, sd = planning_sd(cell.differences, sd_floor, sd_confidence)
        per_test = 1 - (1 - power) / len(arms)
        n = seeds_for_power(effect, sd, m, alpha / 2, per_test, "greater", seed_cap)
        achieved = None if n is None else paired_t_power(effect, sd, n, alpha / (2 * m), "greater")
        planned.append(PlannedCell(cell.cell_id, cell.key, direction, arms,
                                   tuple(float(np.mean(cell.differences[a])) for a in arms), largest, sd,
                                   None if n is None else range(start, start + n), achieved))
    rule = RULE.format(explore=repr(explore_seeds), max_cells=max_cells, sd_floor=sd_floor, m=m, effect=effect, power=power,
                       seed_cap=seed_cap, start=start, alpha=alpha, margin=margin,
                       ucl="" if sd_confidence is None else f" (each arm's upper {sd_confidence:g} confidence bound)")
    if feasible_only:
        rule += " " + FEASIBLE.format(m_max=m_max, eligible=len(eligible), total=len(cells), seed_cap=seed_cap)
    return Plan(tuple(planned), explore_seeds, max_cells, float(effect), float(margin), float(alpha), float(power),
                float(sd_floor), None if sd_confidence is None else float(sd_confidence), seed_cap,
                confirmation_offset, m, rule)


# -- locking --------------------------------------------------------------------------------
def _read_plan(out_dir: Path) -> Plan | None:
    path = out_dir / PLAN_FILE
    return Plan.from_json(jsonio.loads(path.read_text())) if path.exists() else None


def _started_hash(out_dir: Path) -> str | None:
    path = out_dir / STARTED_FILE
    return jsonio.loads(path.read_text())["plan_sha256"] if path.exists() else None


def _refuse_change(started: str, presented: str, what: str) -> ConfigError:
    return ConfigError(f"confirmation started under plan sha256={started}; {what} sha256={presented} differs — a "
                       "plan cannot change after confirmation started (a new plan needs a new out_dir and fresh seeds)")


def write_plan(out_dir: Path | str, plan: Plan) -> Path:
    """Write ``plan.json`` atomically; a different plan may replace it only until confirmation starts."""
    out_dir = Path(out_dir)
    started = _started_hash(out_dir)
    if started is not None and started != plan.sha256():
        raise _refuse_change(started, plan.sha256(), "the plan presented has")
    path = out_dir / PLAN_FILE
    atomic_write_json(path, plan.to_json())
    return path


def start_confirmation(out_dir: Path | str, plan: Plan) -> Path:
    """Record that confirmation starts under ``plan`` (its SHA-256 in ``confirmation_started.json``);
    ``plan`` must be the one in ``plan.json``. Starting again under the same plan changes nothing."""
    out_dir = Path(out_dir)
    on_disk = _read_plan(out_dir)
    if on_disk is None or on_disk.sha256() != plan.sha256():
        found = "no plan.json" if on_disk is None else f"plan.json sha256={on_disk.sha256()}"
        raise ConfigError(f"cannot start confirmation under plan sha256={plan.sha256()}: {found} in {out_dir}; "
                          "write_plan(out_dir, plan) first")
    started = _started_hash(out_dir)
    path = out_dir / STARTED_FILE
    if started is None:
        atomic_write_json(path, {"plan_sha256": plan.sha256(), "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    elif started != plan.sha256():
        raise _refuse_change(started, plan.sha256(), "the plan presented has")
    return path


def load_locked_plan(out_dir: Path | str, plan: Plan | None = None) -> Plan:
    """The plan to confirm with. Before confirmation started: ``plan`` (or ``plan.json`` when None).
    After: the plan of ``plan.json``, which must hash to the recorded SHA-256, and ``plan``, when
    given, must equal it — otherwise a one-line :class:`ConfigError` naming both hashes."""
    out_dir = Path(out_dir)
    started = _started_hash(out_dir)
    on_disk = _read_plan(out_dir)
    if started is None:
        if plan is None and on_disk is None:
            raise ConfigError(f"no plan.json in {out_dir}; make_plan and write_plan first")
        return plan if plan is not None else on_disk
    if on_disk is None or on_disk.sha256() != started:
        raise _refuse_change(started, "missing" if on_disk is None else on_disk.sha256(), f"{out_dir / PLAN_FILE} has")
    if plan is not None and plan.sha256() != started:
        raise _refuse_change(started, plan.sha256(), "the plan presented has")
    return on_disk


# -- confirmation ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ArmTest:
    """One planned test on the confirmation seeds: d = quantum − classical (accuracy) for ``arm``.

    ``t_pvalue`` is the two-sided paired t-test's (NaN with fewer than 2 differences: no test, and
    1 in the Holm family so the family stays the planned one); ``holm_pvalue`` and
    ``tost_holm_pvalue`` are Holm-adjusted over all planned tests; ``outcome`` is ``quantum higher``,
    ``classical higher``, ``equivalent`` or ``undecided`` (module docstring).
    """

    arm: str
    n: int
    mean: float
    t_statistic: float
    t_pvalue: float
    holm_pvalue: float
    tost: Equivalence | None
    tost_holm_pvalue: float
    outcome: str

    def to_json(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "tost"},
                "tost": None if self.tost is None else self.tost.to_json()}


@dataclasses.dataclass(frozen=True)
class CellConfirmation:
    """A planned cell's tests and outcome; ``complete`` is False when some arm has fewer
    differences than the plan's seeds (failed or missing runs: less power, same error control)."""

    cell: PlannedCell
    arms: tuple[ArmTest, ...]
    outcome: str
    complete: bool

    def to_json(self) -> dict[str, Any]:
        return {"cell_id": self.cell.cell_id, "direction": self.cell.direction, "outcome": self.outcome,
                "complete": self.complete, "planned_seeds": _range_json(self.cell.seeds),
                "arms": [a.to_json() for a in self.arms]}


@dataclasses.dataclass(frozen=True)
class Confirmation:
    """The confirmation of a plan (its SHA-256): per cell the tests and outcome, and the claim's
    verdict (``verdict.rule`` is the plan's rule)."""

    plan_sha256: str
    n_tests: int
    cells: tuple[CellConfirmation, ...]
    verdict: Verdict

    def to_json(self) -> dict[str, Any]:
        return {"plan_sha256": self.plan_sha256, "n_tests": self.n_tests, "verdict": self.verdict.to_json(),
                "cells": [c.to_json() for c in self.cells]}


def _checked_data(plan: Plan, data: Mapping[str, Mapping[str, Sequence[float]]]) -> dict[tuple[str, str], list[float]]:
    """The confirmation differences per (cell_id, arm); refuses cells, arms or seeds the plan does not have."""
    planned = {c.cell_id: c for c in plan.confirmed_cells}
    out = {}
    for cid, arms in data.items():
        if cid not in planned:
            raise ConfigError(f"confirmation data for cell {cid}, which the plan does not confirm; drop it")
        for arm, values in arms.items():
            if arm not in planned[cid].arms:
                raise ConfigError(f"cell {cid}: arm {arm!r} is not planned (planned: {list(planned[cid].arms)})")
            if len(values) > len(planned[cid].seeds):
                raise ConfigError(f"cell {cid} arm {arm}: {len(values)} differences but the plan fixed "
                                  f"{len(planned[cid].seeds)} seeds; extra seeds are not part of the plan")
            values = [float(v) for v in values]
            if not all(math.isfinite(v) for v in values):
                raise DataError(f"cell {cid} arm {arm}: differences={values} contain NaN or infinity; drop failed runs")
            out[(cid, arm)] = values
    return out


def paired_t(differences: Sequence[float]) -> tuple[float, float, float]:
    """(mean d, t, two-sided p) of the paired t-test on the differences (n ≥ 2): the t-test of
    :func:`privqml.paper_checks.stats.paired_test` — d rounded to 1e-12, and with zero spread t = ±∞
    and p = 0 for a non-zero constant d, t = 0 and p = 1 for d ≡ 0 — without its Wilcoxon test."""
    d = np.round(np.asarray(differences, dtype=float), 12)
    assert d.size >= 2 and np.all(np.isfinite(d)), d
    if np.all(d == d[0]):
        return float(d[0]), (0.0 if d[0] == 0 else math.copysign(math.inf, d[0])), (1.0 if d[0] == 0 else 0.0)
    result = sps.ttest_1samp(d, 0.0)
    return float(d.mean()), float(result.statistic), float(result.pvalue)


def _arm_outcome(mean: float, holm_p: float, tost_holm_p: float, alpha: float) -> str:
    if holm_p < alpha and mean != 0:
        return stats.QUANTUM_HIGHER if mean > 0 else stats.CLASSICAL_HIGHER
    return stats.EQUIVALENT if tost_holm_p < alpha else stats.UNDECIDED


def _cell_outcome(outcomes: Sequence[str]) -> str:
    if outcomes and all(o == stats.QUANTUM_HIGHER for o in outcomes):
        return SUPPORTED
    if any(o in (stats.CLASSICAL_HIGHER, stats.EQUIVALENT) for o in outcomes):
        return NOT_SUPPORTED
    return INCONCLUSIVE


def confirm(plan: Plan, confirmation_differences: Mapping[str, Mapping[str, Sequence[float]]],
            alpha: float | None = None, margin: float | None = None, claim: str = "C3 (confirmation)") -> Confirmation:
    """Test the plan's cells on ``confirmation_differences`` ({cell_id: {arm: [d_r over the plan's
    seeds]}}) alone (module docstring). ``alpha`` and ``margin`` default to the plan's; other values
    are refused (the plan fixed them before the data were seen)."""
    for name, value in (("alpha", alpha), ("margin", margin)):
        if value is not None and value != getattr(plan, name):
            raise ConfigError(f"{name}={value!r} differs from the plan's {name}={getattr(plan, name)!r}; the plan "
                              "fixed it before confirmation")
    data = _checked_data(plan, confirmation_differences)
    tests = [(cell, arm) for cell in plan.confirmed_cells for arm in cell.arms]
    raw = {}
    for cell, arm in tests:
        d = data.get((cell.cell_id, arm), [])
        if len(d) >= 2:
            raw[(cell.cell_id, arm)] = (len(d), *paired_t(d), tost(d, plan.margin, plan.alpha))
        else:
            raw[(cell.cell_id, arm)] = (len(d), float(np.mean(d)) if d else math.nan, math.nan, math.nan, None)
    keys = [(cell.cell_id, arm) for cell, arm in tests]
    holm_t = stats.holm_adjust([1.0 if math.isnan(raw[k][3]) else raw[k][3] for k in keys])
    holm_e = stats.holm_adjust([1.0 if raw[k][4] is None else raw[k][4].pvalue for k in keys])
    adjusted = dict(zip(keys, zip(holm_t, holm_e)))
    cells = []
    for cell in plan.confirmed_cells:
        arm_tests = []
        for arm in cell.arms:
            n, mean, t_stat, t_p, equivalence = raw[(cell.cell_id, arm)]
            p_t, p_e = adjusted[(cell.cell_id, arm)]
            arm_tests.append(ArmTest(arm, n, mean, t_stat, t_p, p_t, equivalence, p_e,
                                     _arm_outcome(mean, p_t, p_e, plan.alpha)))
        complete = all(a.n == len(cell.seeds) for a in arm_tests)
        cells.append(CellConfirmation(cell, tuple(arm_tests), _cell_outcome([a.outcome for a in arm_tests]), complete))
    return Confirmation(plan.sha256(), len(tests), tuple(cells), _claim_verdict(claim, plan, cells))


def _claim_verdict(claim: str, plan: Plan, cells: Sequence[CellConfirmation]) -> Verdict:
    """Supported if some planned cell is supported; not supported if every planned cell is (a cell
    beyond the seed cap was not tested, so it is not); inconclusive otherwise."""
    outcome = {c.cell.cell_id: c.outcome for c in cells}
    counts = {v: sum(o == v for o in outcome.values()) for v in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)}
    if counts[SUPPORTED]:
        verdict = SUPPORTED
    elif cells and counts[NOT_SUPPORTED] == len(plan.cells):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    reasons = [f"{len(plan.cells)} planned cells, {len(cells)} confirmed on fresh seeds with "
               f"{sum(len(c.arms) for c in cells)} Holm-adjusted tests: supported in {counts[SUPPORTED]}, not "
               f"supported in {counts[NOT_SUPPORTED]}, inconclusive in {counts[INCONCLUSIVE]}"]
    skipped = len(plan.cells) - len(cells)
    if skipped:
        reasons.append(f"{skipped} planned cell(s) needed more than {plan.seed_cap} seeds and were not confirmed")
    short = [c.cell.cell_id for c in cells if not c.complete]
    if short:
        reasons.append(f"fewer differences than planned seeds in {len(short)} cell(s): " + "; ".join(short[:5]))
    return Verdict(claim, verdict, plan.rule, tuple(reasons))


__all__ = [
    "ALTERNATIVES", "ArmTest", "CLASSICAL_AHEAD", "CONFIRMATION_SEED_BASE", "CellConfirmation", "Confirmation", "FEASIBLE",
    "Equivalence", "ExploredCell", "PLAN_FILE", "PLAN_VERSION", "Plan", "PlannedCell", "QUANTUM_AHEAD", "RULE",
    "SD_FLOOR", "SEED_CAP", "STARTED_FILE", "cell_id", "confirm", "explored_cells", "load_locked_plan", "make_plan",
    "paired_t", "paired_t_power", "planning_sd", "seeds_for_power", "start_confirmation", "tost", "write_plan",
]
