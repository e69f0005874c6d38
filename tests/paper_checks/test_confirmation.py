"""Confirmation on fresh seeds: the power function against G*Power's values, an integral oracle and
Monte Carlo; minimal seed counts; TOST against scipy's one-sided tests; the plan's rule, its seeds,
hash and lock; the confirmation rules; and simulated maps with and without a planted effect."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.stats as sps
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from privqml.errors import ConfigError, DataError
from privqml.paper_checks import confirmation as cf
from privqml.paper_checks import regime_analysis, regimes, stats
from privqml.paper_checks.confirmation import (
    CLASSICAL_AHEAD,
    CONFIRMATION_SEED_BASE,
    QUANTUM_AHEAD,
    ExploredCell,
    Plan,
    confirm,
    load_locked_plan,
    make_plan,
    paired_t_power,
    seeds_for_power,
    start_confirmation,
    tost,
    write_plan,
)

EXPLORE = range(5)


def _cell(name: str, *means: float, sd: float = 0.02, n: int = 5, seed: int = 0) -> ExploredCell:
    """A cell whose arm j has differences with sample mean means[j] and sample sd exactly ``sd``."""
    rng = np.random.default_rng(seed)
    diffs = {}
    for j, mean in enumerate(means):
        z = rng.standard_normal(n)
        z = (z - z.mean()) / z.std(ddof=1)
        diffs[f"arm{j}"] = (mean + sd * z).tolist()
    return ExploredCell({"dataset": "toy", "cell": name}, diffs)


# -- power -------------------------------------------------------------------------------------
def test_power_reproduces_gpower_and_cohen():
    # G*Power 3.1, "t tests - Means: difference from constant (one sample case)", d = 0.5, α = 0.05:
    # two tails n = 34 -> 0.8077775 (Cohen 1988 table 2.4.1: 0.80), one tail n = 27 -> 0.8118316
    assert paired_t_power(0.5, 1.0, 34, 0.05, "two-sided") == pytest.approx(0.8077775, abs=1e-6)
    assert paired_t_power(0.5, 1.0, 27, 0.05, "greater") == pytest.approx(0.8118316, abs=1e-6)
    assert paired_t_power(-0.5, 1.0, 27, 0.05, "less") == pytest.approx(0.8118316, abs=1e-6)
    assert seeds_for_power(0.5, 1.0, 1, 0.05, 0.8, "two-sided") == 34
    assert seeds_for_power(0.5, 1.0, 1, 0.05, 0.8, "greater") == 27
    # units: effect and sd in accuracy; only their ratio matters
    assert paired_t_power(0.015, 0.03, 34, 0.05, "two-sided") == pytest.approx(0.8077775, abs=1e-6)
    # m tests at alpha: the first Holm step, alpha/m
    assert seeds_for_power(0.5, 1.0, 4, 0.2, 0.8, "two-sided") == 34
    assert paired_t_power(0.0, 1.0, 10, 0.05, "two-sided") == pytest.approx(0.05, abs=1e-12)
    # far tails stay numbers (SciPy's nct.cdf gives NaN at df 10, λ 20; 2 pairs at 50 sd: λ 70.7)
    assert paired_t_power(20 / math.sqrt(11), 1.0, 11, 0.05, "two-sided") == pytest.approx(1.0)
    assert paired_t_power(-50.0, 1.0, 2, 0.05, "two-sided") == pytest.approx(1.0, abs=1e-6)
    assert paired_t_power(50.0, 1.0, 2, 0.05, "less") == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("effect,n,alpha,alternative", [
    (0.3, 8, 0.05, "greater"), (0.8, 5, 0.01, "two-sided"), (-0.4, 12, 0.025, "less"), (1.1, 3, 0.00625, "greater"),
])
def test_power_matches_an_integral_over_the_chi_square(effect, n, alpha, alternative):
    """Oracle: T = (Z + λ)/√(V/df), V ~ χ²(df): power = E_V[P(Z + λ beyond ±c·√(V/df))]."""
    df, lam = n - 1, math.sqrt(n) * effect
    c = sps.t.ppf(1 - alpha / (2 if alternative == "two-sided" else 1), df)

    def integrand(v):
        scale = c * math.sqrt(v / df)
        upper, lower = sps.norm.sf(scale - lam), sps.norm.cdf(-scale - lam)
        tail = {"greater": upper, "less": lower, "two-sided": upper + lower}[alternative]
        return tail * sps.chi2.pdf(v, df)

    oracle = integrate.quad(integrand, 0, np.inf, limit=200)[0]
    assert paired_t_power(effect, 1.0, n, alpha, alternative) == pytest.approx(oracle, abs=1e-7)


def test_power_matches_monte_carlo():
    rng = np.random.default_rng(7)
    n, effect, sd, reps = 10, 0.01, 0.02, 40_000
    d = rng.normal(effect, sd, size=(reps, n))
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n))
    for alternative, rejected in (("greater", t > sps.t.ppf(0.95, n - 1)),
                                  ("two-sided", np.abs(t) > sps.t.ppf(0.975, n - 1))):
        exact = paired_t_power(effect, sd, n, 0.05, alternative)
        assert abs(rejected.mean() - exact) < 4 * math.sqrt(exact * (1 - exact) / reps), alternative


@pytest.mark.parametrize("effect,sd,m,alpha,power,alternative", [
    (0.03, 0.03, 8, 0.025, 0.9, "greater"), (0.05, 0.02, 40, 0.05, 0.8, "two-sided"),
    (0.01, 0.03, 3, 0.05, 0.95, "greater"), (0.5, 0.01, 1, 0.05, 0.8, "two-sided"),
])
def test_seeds_for_power_is_the_smallest_n(effect, sd, m, alpha, power, alternative):
    n = seeds_for_power(effect, sd, m, alpha, power, alternative, seed_cap=500)
    assert n is not None and paired_t_power(effect, sd, n, alpha / m, alternative) >= power
    if n > 2:
        assert paired_t_power(effect, sd, n - 1, alpha / m, alternative) < power
    else:
        assert n == 2  # the smallest a t-test allows


def test_seeds_for_power_says_infeasible():
    need = seeds_for_power(0.01, 0.05, 50, 0.05, 0.8, seed_cap=1000)
    assert need is not None and need > cf.SEED_CAP
    assert seeds_for_power(0.01, 0.05, 50, 0.05, 0.8) is None  # the default cap
    assert seeds_for_power(0.01, 0.05, 50, 0.05, 0.8, seed_cap=need - 1) is None
    assert seeds_for_power(0.01, 0.05, 50, 0.05, 0.8, seed_cap=need) == need
    assert seeds_for_power(-0.05, 0.01, 1, 0.05, 0.8, "greater") is None  # wrong direction never gets there
    with pytest.raises(ConfigError, match="n=1 must be whole numbers >= 2"):
        paired_t_power(0.1, 1.0, 1, 0.05)
    with pytest.raises(ConfigError, match="alternative="):
        paired_t_power(0.1, 1.0, 5, 0.05, "bigger")


# -- TOST ----------------------------------------------------------------------------------------
def test_tost_against_scipy_one_sided_tests_and_the_interval():
    rng = np.random.default_rng(3)
    for mean, expect_equivalent in ((0.0, True), (0.004, True), (0.05, False), (-0.03, False)):
        d = rng.normal(mean, 0.01, 30)
        result = tost(d, 0.02)
        assert result.lower_pvalue == pytest.approx(sps.ttest_1samp(d, -0.02, alternative="greater").pvalue, rel=1e-9)
        assert result.upper_pvalue == pytest.approx(sps.ttest_1samp(d, 0.02, alternative="less").pvalue, rel=1e-9)
        assert result.pvalue == max(result.lower_pvalue, result.upper_pvalue)
        assert (result.pvalue < 0.05) is expect_equivalent
        inside = -0.02 < result.low and result.high < 0.02  # the 90% interval inside the margin
        assert inside is expect_equivalent and result.confidence == pytest.approx(0.9)
    assert tost([0.01, 0.01, 0.01], 0.02).pvalue == 0.0  # zero spread inside the margin
    assert tost([0.03, 0.03], 0.02).pvalue == 1.0
    with pytest.raises(DataError):
        tost([0.01], 0.02)


def test_paired_t_is_the_t_test_of_stats_paired_test():
    rng = np.random.default_rng(5)
    q, c = rng.normal(0.7, 0.02, 9), rng.normal(0.69, 0.02, 9)
    mean, t, p = cf.paired_t((q - c).tolist())
    reference = stats.paired_test(q, c)
    assert (mean, t, p) == pytest.approx((reference.difference.mean, reference.t_statistic, reference.t_pvalue))
    assert cf.paired_t([0.02, 0.02, 0.02]) == (0.02, math.inf, 0.0)


# -- the plan ------------------------------------------------------------------------------------
def test_plan_picks_both_directions_with_odd_counts_and_ties_in_key_order():
    cells = [_cell("a", 0.06, 0.04), _cell("b", 0.05, 0.05), _cell("c", 0.00, 0.01),
             _cell("d", -0.04, -0.02), _cell("e", -0.05, 0.03), _cell("f", 0.045, 0.01)]
    plan = make_plan(cells, max_cells=3, explore_seeds=EXPLORE)
    picked = {c.key["cell"]: c.direction for c in plan.cells}
    # min over arms: b 0.05 > a 0.04 > f 0.01; max over arms of the rest: d -0.02 < c 0.01 < e 0.03
    assert picked == {"b": QUANTUM_AHEAD, "a": QUANTUM_AHEAD, "d": CLASSICAL_AHEAD}
    assert [c.key["cell"] for c in make_plan(cells, max_cells=4, explore_seeds=EXPLORE).cells] == ["b", "a", "d", "c"]
    tied = [_cell("z", 0.02, 0.02), _cell("y", 0.02, 0.02), _cell("x", 0.02, 0.02)]
    assert [c.key["cell"] for c in make_plan(tied, max_cells=2, explore_seeds=EXPLORE).cells] == ["x", "y"]
    everything = make_plan(cells[:2], max_cells=8, explore_seeds=EXPLORE)  # fewer cells than max: all
    assert len(everything.cells) == 2 and everything.n_tests == 4
    assert "ceil(3/2)" in plan.rule and "alpha=0.05" in plan.rule and f"{CONFIRMATION_SEED_BASE}" in plan.rule


def test_plan_seeds_follow_the_stated_power_rule():
    cells = [_cell("a", 0.04, 0.05, sd=0.03), _cell("b", 0.0, 0.0, sd=0.0), _cell("c", -0.02, 0.0, sd=0.2)]
    plan = make_plan(cells, max_cells=3, explore_seeds=EXPLORE, effect=0.03, seed_cap=300)
    by_name = {c.key["cell"]: c for c in plan.cells}
    m = plan.n_tests
    assert m == 6
    a = by_name["a"]
    assert a.exploration_sd == pytest.approx(0.03) and a.planning_sd == pytest.approx(0.03)
    n = len(a.seeds)
    per_test = 1 - 0.2 / 2  # union bound over the cell's 2 arms
    assert n == seeds_for_power(0.03, 0.03, m, 0.025, per_test, "greater", seed_cap=300)
    assert paired_t_power(0.03, 0.03, n, 0.05 / (2 * m)) >= per_test > paired_t_power(0.03, 0.03, n - 1, 0.05 / (2 * m))
    assert a.test_power == pytest.approx(paired_t_power(0.03, 0.03, n, 0.05 / (2 * m)))
    assert a.seeds == range(CONFIRMATION_SEED_BASE, CONFIRMATION_SEED_BASE + n)
    assert by_name["b"].exploration_sd == 0.0 and by_name["b"].planning_sd == cf.SD_FLOOR  # the floor
    assert len(by_name["b"].seeds) < n
    assert by_name["c"].seeds is None and by_name["c"].test_power is None  # sd 0.2 needs > 300 seeds
    assert [c.key["cell"] for c in plan.confirmed_cells] == ["a", "b"]
    # an upper 80% bound on sd (Browne 1995): 5 seeds -> sd x sqrt(4 / chi2_0.2(4)) = 1.557
    inflated = make_plan(cells, max_cells=3, explore_seeds=EXPLORE, sd_confidence=0.8, seed_cap=300)
    assert inflated.cells[0].planning_sd == pytest.approx(0.03 * math.sqrt(4 / sps.chi2.ppf(0.2, 4)))
    assert len(inflated.cells[0].seeds) > n
    with pytest.raises(ConfigError, match="explore_seeds"):
        make_plan(cells, max_cells=3, explore_seeds=range(3))  # 5 differences from 3 seeds


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, 2 * CONFIRMATION_SEED_BASE), size=st.integers(2, 3 * CONFIRMATION_SEED_BASE),
       offset=st.integers(0, 1000), max_cells=st.integers(1, 4))
def test_confirmation_seeds_never_meet_exploration_seeds(start, size, offset, max_cells):
    """Refused exactly when some cell's confirmation interval meets the exploration interval."""
    cells = [_cell(f"c{i}", 0.01 * i, -0.01 * i, n=2, seed=i) for i in range(4)]
    # the seed counts do not depend on where the exploration seeds lie: plan once away from them
    reference = make_plan(cells, max_cells=max_cells, explore_seeds=range(2), confirmation_offset=offset)
    assert len(reference.cells) == max_cells
    meets = any(c.seeds.start < start + size and start < c.seeds.stop for c in reference.confirmed_cells)
    explore = range(start, start + size)
    if meets:
        with pytest.raises(ConfigError, match="overlap the exploration seeds"):
            make_plan(cells, max_cells=max_cells, explore_seeds=explore, confirmation_offset=offset)
        return
    plan = make_plan(cells, max_cells=max_cells, explore_seeds=explore, confirmation_offset=offset)
    assert [c.seeds for c in plan.cells] == [c.seeds for c in reference.cells]
    for cell in plan.confirmed_cells:
        assert cell.seeds.start == CONFIRMATION_SEED_BASE + offset and cell.seeds.step == 1
        assert cell.seeds.stop <= start or cell.seeds.start >= start + size


def test_a_plan_with_overlapping_seeds_is_refused_when_read():
    plan = make_plan([_cell("a", 0.05, 0.04)], max_cells=1, explore_seeds=EXPLORE)
    payload = plan.to_json()
    payload["explore_seeds"] = [0, CONFIRMATION_SEED_BASE + 3, 1]
    with pytest.raises(ConfigError, match="overlap the exploration seeds"):
        Plan.from_json(payload)


def test_plan_round_trips_and_its_hash_is_stable_under_key_order():
    cells = [_cell("a", 0.05, 0.04), _cell("b", -0.03, 0.0), _cell("c", 0.01, 0.02)]
    plan = make_plan(cells, max_cells=2, explore_seeds=EXPLORE)
    reordered = [ExploredCell(dict(reversed(list(c.key.items()))), dict(reversed(list(c.differences.items()))))
                 for c in reversed(cells)]
    assert make_plan(reordered, max_cells=2, explore_seeds=EXPLORE).sha256() == plan.sha256()
    again = Plan.from_json(json.loads(json.dumps(plan.to_json())))
    assert again == plan and again.sha256() == plan.sha256()
    shuffled = json.loads(json.dumps(dict(reversed(list(plan.to_json().items())))))
    assert Plan.from_json(shuffled).sha256() == plan.sha256()
    assert make_plan(cells, max_cells=2, explore_seeds=EXPLORE, effect=0.031).sha256() != plan.sha256()


def test_the_plan_is_fixed_once_confirmation_started(tmp_path):
    cells = [_cell("a", 0.05, 0.04), _cell("b", -0.03, 0.0)]
    first = make_plan(cells, max_cells=2, explore_seeds=EXPLORE)
    second = make_plan(cells, max_cells=2, explore_seeds=EXPLORE, effect=0.04)
    with pytest.raises(ConfigError, match="write_plan"):
        start_confirmation(tmp_path, first)  # no plan written yet
    write_plan(tmp_path, first)
    write_plan(tmp_path, second)  # before confirmation a new plan replaces the old one
    assert load_locked_plan(tmp_path) == second and load_locked_plan(tmp_path, first) == first
    with pytest.raises(ConfigError, match="plan.json sha256="):
        start_confirmation(tmp_path, first)  # plan.json holds the second plan
    start_confirmation(tmp_path, second)
    start_confirmation(tmp_path, second)  # idempotent
    assert load_locked_plan(tmp_path, second) == second and load_locked_plan(tmp_path) == second
    for attempt in (lambda: load_locked_plan(tmp_path, first), lambda: write_plan(tmp_path, first),
                    lambda: start_confirmation(tmp_path, first)):
        with pytest.raises(ConfigError) as error:
            attempt()
        message = str(error.value)
        assert "\n" not in message and second.sha256() in message and first.sha256() in message
    write_plan(tmp_path, second)  # the same plan again is accepted
    (tmp_path / cf.PLAN_FILE).write_text(json.dumps(first.to_json()))  # edited behind the lock's back
    with pytest.raises(ConfigError, match=first.sha256()):
        load_locked_plan(tmp_path, second)


# -- confirmation --------------------------------------------------------------------------------
def _plan_for(names: list[str], n_arms: int = 2) -> Plan:
    cells = [_cell(name, *([0.05 - 0.02 * i] * n_arms), seed=i) for i, name in enumerate(names)]
    return make_plan(cells, max_cells=len(names), explore_seeds=EXPLORE)


def test_confirm_cell_outcomes_claim_and_holm_over_all_planned_tests():
    plan = _plan_for(["up", "down", "same", "noisy"])
    ids = {c.key["cell"]: c.cell_id for c in plan.cells}
    n = {c.key["cell"]: len(c.seeds) for c in plan.cells}
    rng = np.random.default_rng(11)
    data = {
        ids["up"]: {"arm0": rng.normal(0.06, 0.01, n["up"]).tolist(), "arm1": rng.normal(0.05, 0.01, n["up"]).tolist()},
        ids["down"]: {"arm0": rng.normal(0.06, 0.01, n["down"]).tolist(),
                      "arm1": rng.normal(-0.05, 0.01, n["down"]).tolist()},
        ids["same"]: {"arm0": rng.normal(0.0, 0.005, n["same"]).tolist(),
                      "arm1": rng.normal(0.0, 0.005, n["same"]).tolist()},
        ids["noisy"]: {"arm0": rng.normal(0.0, 0.2, n["noisy"]).tolist()},  # arm1 missing: no test
    }
    result = confirm(plan, data)
    outcomes = {c.cell.key["cell"]: c.outcome for c in result.cells}
    assert outcomes == {"up": cf.SUPPORTED, "down": cf.NOT_SUPPORTED, "same": cf.NOT_SUPPORTED,
                        "noisy": cf.INCONCLUSIVE}
    assert result.verdict.verdict == cf.SUPPORTED and result.n_tests == 8
    arms = {(c.cell.key["cell"], a.arm): a for c in result.cells for a in c.arms}
    assert arms[("down", "arm1")].outcome == stats.CLASSICAL_HIGHER
    assert arms[("same", "arm0")].outcome == stats.EQUIVALENT
    missing = arms[("noisy", "arm1")]
    assert missing.n == 0 and math.isnan(missing.t_pvalue) and missing.holm_pvalue == 1.0
    raw = [1.0 if math.isnan(arms[k].t_pvalue) else arms[k].t_pvalue for k in arms]
    assert [arms[k].holm_pvalue for k in arms] == pytest.approx(stats.holm_adjust(raw))
    assert not next(c for c in result.cells if c.cell.key["cell"] == "noisy").complete
    assert result.verdict.rule == plan.rule and result.plan_sha256 == plan.sha256()
    json.dumps(cf.jsonio.to_jsonable(result.to_json()), allow_nan=False)
    # without the supported cell and with the noisy one equivalent, every planned cell is not supported
    data[ids["up"]] = data[ids["down"]]
    data[ids["noisy"]] = {"arm0": [0.001, -0.001] * (n["noisy"] // 2), "arm1": [0.0, 0.001] * (n["noisy"] // 2)}
    assert confirm(plan, data).verdict.verdict == cf.NOT_SUPPORTED


def test_confirm_refuses_what_the_plan_did_not_fix():
    plan = _plan_for(["a"])
    cid, n = plan.cells[0].cell_id, len(plan.cells[0].seeds)
    with pytest.raises(ConfigError, match="does not confirm"):
        confirm(plan, {"other": {"arm0": [0.1, 0.2]}})
    with pytest.raises(ConfigError, match="extra seeds"):
        confirm(plan, {cid: {"arm0": [0.01] * (n + 1)}})
    with pytest.raises(ConfigError, match="is not planned"):
        confirm(plan, {cid: {"arm9": [0.01, 0.02]}})
    with pytest.raises(ConfigError, match="alpha=0.1 differs"):
        confirm(plan, {}, alpha=0.1)
    assert confirm(plan, {}).verdict.verdict == cf.INCONCLUSIVE  # nothing measured decides nothing


def test_decisions_come_from_the_confirmation_data_alone():
    plan = _plan_for(["a", "b"])
    rng = np.random.default_rng(2)
    data = {c.cell_id: {arm: rng.normal(0.02, 0.03, len(c.seeds)).tolist() for arm in c.arms} for c in plan.cells}
    other_exploration = dataclasses.replace(plan, cells=tuple(
        dataclasses.replace(c, exploration_means=(-0.5, 0.5), exploration_sd=0.9) for c in plan.cells))
    one, two = confirm(plan, data), confirm(other_exploration, data)
    assert [(c.outcome, [a.holm_pvalue for a in c.arms]) for c in one.cells] == \
           [(c.outcome, [a.holm_pvalue for a in c.arms]) for c in two.cells]


# -- simulated maps --------------------------------------------------------------------------------
def _simulated_differences(rng, gains: np.ndarray, n: int, tau: float) -> np.ndarray:
    """d[arm, r] = gain[arm] + e_q,r − e_arm,r with e ~ N(0, τ²): arms share the quantum run."""
    quantum = rng.normal(0, tau, n)
    return gains[:, None] + quantum[None, :] - rng.normal(0, tau, (gains.size, n))


def _simulate(rng, planted: float, n_cells: int = 10, n_planted: int = 3, max_cells: int = 4, tau: float = 0.02):
    gains = np.array([[planted if i < n_planted else 0.0] * 2 for i in range(n_cells)])
    explored = [ExploredCell({"cell": i}, dict(zip(("mlp", "logistic"), _simulated_differences(
        rng, gains[i], len(EXPLORE), tau).tolist()))) for i in range(n_cells)]
    plan = make_plan(explored, max_cells=max_cells, explore_seeds=EXPLORE)
    data = {}
    for cell in plan.confirmed_cells:
        d = _simulated_differences(rng, gains[cell.key["cell"]], len(cell.seeds), tau)
        data[cell.cell_id] = dict(zip(("mlp", "logistic"), d.tolist()))  # arms in the order they were drawn
    return confirm(plan, data)


def test_simulated_maps_with_a_planted_effect_are_confirmed():
    rng, reps = np.random.default_rng(2024), 200
    supported = sum(_simulate(rng, planted=0.05).verdict.verdict == cf.SUPPORTED for _ in range(reps))
    assert supported / reps >= 0.8


def test_simulated_maps_without_effect_are_not_falsely_supported_and_holm_holds():
    rng, reps, alpha = np.random.default_rng(99), 300, 0.05
    results = [_simulate(rng, planted=0.0) for _ in range(reps)]
    slack = 3 * math.sqrt(alpha * (1 - alpha) / reps)
    supported = sum(r.verdict.verdict == cf.SUPPORTED for r in results) / reps
    any_rejection = sum(any(a.outcome in (stats.QUANTUM_HIGHER, stats.CLASSICAL_HIGHER)
                            for c in r.cells for a in c.arms) for r in results) / reps
    assert supported <= alpha + slack
    assert any_rejection <= alpha + slack  # family-wise error over the 8 planned tests (unadjusted: ~0.3)


def test_a_cell_at_the_planned_effect_is_supported_with_the_planned_power():
    """The plan's n at sd σ known: all arms' true gain = effect -> the cell is supported with
    probability >= 0.8 (union bound over arms; Monte Carlo slack 3 SE)."""
    rng, reps, tau = np.random.default_rng(8), 300, 0.02
    sigma = tau * math.sqrt(2)  # sd of d = e_q − e_arm
    plan = make_plan([_cell("x", 0.05, 0.05, sd=sigma), _cell("y", 0.0, 0.0, sd=sigma, seed=1)], max_cells=2,
                     explore_seeds=EXPLORE, effect=0.03)
    target = plan.cells[0]
    assert target.key["cell"] == "x" and target.planning_sd == pytest.approx(sigma)
    hits = 0
    for _ in range(reps):
        data = {c.cell_id: dict(zip(c.arms, _simulated_differences(
            rng, np.full(2, 0.03 if c is target else 0.0), len(c.seeds), tau).tolist())) for c in plan.cells}
        hits += confirm(plan, data).cells[0].outcome == cf.SUPPORTED
    assert hits / reps >= 0.8 - 3 * math.sqrt(0.8 * 0.2 / reps)


# -- from a regime map -----------------------------------------------------------------------------
def test_explored_cells_pair_the_runs_of_a_regime_map():
    design = regimes.Design("c3", (regimes.Block("quantum", "hea", ("mlp", "logistic"), 200, (0.5, 2.0), (0.5,)),),
                            seeds=4, epochs=1, batch_size=8, delta=1e-5, n_test=40, lr_rule=None)
    rng = np.random.default_rng(1)
    results = {}
    for task in regimes.tasks(design):
        gain = 0.1 if task["model"] == "hea" and task["epsilon"] == 2.0 else 0.0
        results[task] = {"test_accuracy": 0.7 + gain + 0.01 * rng.standard_normal(), "dataset": {"n_classes": 2},
                         "model": {"n_weights": 4}, "clip": task.get("clip")}
    regime_map = regime_analysis.analyse(design, results)
    explored = cf.explored_cells(regime_map, results)
    assert len(explored) == len(regime_map.cells) == 2
    cell = next(e for e in explored if e.key["epsilon"] == 2.0)
    by_rep = regime_analysis.group(design, results)
    q = by_rep[("quantum", "hea", 200, 0.5, 2.0)]
    arm = "mlp:match=hea"
    c = by_rep[("quantum", arm, 200, 0.5, 2.0)]
    assert cell.differences[arm] == pytest.approx([q[r].test_accuracy - c[r].test_accuracy for r in range(4)])
    assert set(cell.differences) == {"mlp:match=hea", "logistic:match=hea"}
    plan = make_plan(explored, max_cells=2, explore_seeds=range(design.seeds))
    assert plan.cells[0].cell_id == cell.cell_id and plan.cells[0].direction == QUANTUM_AHEAD
    with pytest.raises(DataError, match="no run of"):
        cf.explored_cells(regime_map, {t: r for t, r in results.items() if t.replicate != 3})


def test_the_module_does_not_import_tensorflow():
    code = ("import sys; import privqml.paper_checks.confirmation; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_quantum')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
