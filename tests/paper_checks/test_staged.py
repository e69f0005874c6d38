"""The two-stage protocol engine on simulated runs: the plan is on disk and hashed before the first
confirmation run, a changed plan is refused, confirmation records are the exploration's records on
fresh replicates (so arms stay paired), the verdict comes from the confirmation runs alone, the
variance components recover a known split, and the report's figure draws the table's numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from privqml.errors import ConfigError
from privqml.paper_checks import confirmation as cf
from privqml.paper_checks import regime_analysis, regimes, staged, staged_report
from privqml.paper_checks.regimes import ConfirmSettings
from privqml.paper_checks.sweep import SweepSummary

DESIGN = regimes.Design("c3", (regimes.Block("quantum", "hea", ("mlp", "logistic"), 200, (0.5, 2.0, 8.0), (0.5,)),),
                        seeds=5, epochs=1, batch_size=8, delta=1e-5, n_test=400, lr_rule=None)


def _simulate(task, gain_of, seed_sd=0.03, n_test=400):
    """A run's result: accuracy = 0.7 + the cell's planted gain (quantum arm) + a replicate effect
    shared by the arms + the run's own noise + binomial test sampling of n_test examples."""
    rng = np.random.default_rng([task.replicate, int(task.key[:8], 16)])
    shared = np.random.default_rng(task.replicate).normal(0, seed_sd)
    p = 0.7 + shared + rng.normal(0, seed_sd) + (gain_of(task) if task["model"] == "hea" else 0.0)
    p = min(max(p, 0.05), 0.95)
    accuracy = rng.binomial(n_test, p) / n_test
    return {"test_accuracy": accuracy, "dataset": {"n_classes": 2, "n_test": n_test}, "model": {"n_weights": 4},
            "clip": task.get("clip"), "clip_fraction_mean": 0.25, "noise_to_signal": 0.5}


def _sweeper(gain_of, calls):
    def sweep(tasks):
        calls.append(list(tasks))
        return SweepSummary(results={t: _simulate(t, gain_of) for t in tasks}, computed=tuple(tasks), skipped=(), wall_seconds=0.0,
                            failures={}, task_seconds=0.0)
    return sweep


def _explore(gain_of):
    results = {t: _simulate(t, gain_of) for t in regimes.tasks(DESIGN)}
    return regime_analysis.analyse(DESIGN, results), results


def _gain_at_8(task):
    return 0.08 if task["epsilon"] == 8.0 else 0.0


def test_the_plan_is_on_disk_and_hashed_before_the_first_confirmation_run(tmp_path):
    regime_map, results = _explore(_gain_at_8)
    stage_dir = tmp_path / staged.STAGE_DIR
    seen = []

    def sweep(tasks):
        plan = cf.Plan.from_json(json.loads((stage_dir / cf.PLAN_FILE).read_text()))
        started = json.loads((stage_dir / cf.STARTED_FILE).read_text())
        seen.append((plan.sha256(), started["plan_sha256"]))
        return _sweeper(_gain_at_8, [])(tasks)

    out = staged.run_stages(regime_map, results, 0, ConfirmSettings(max_cells=2, seed_cap=200), stage_dir, sweep, "C3")
    assert seen == [(out.plan_sha256, out.plan_sha256)]
    # resuming with the same exploration makes the same plan and goes on
    again = staged.run_stages(regime_map, results, 0, ConfirmSettings(max_cells=2, seed_cap=200), stage_dir,
                              _sweeper(_gain_at_8, []), "C3")
    assert again.plan_sha256 == out.plan_sha256
    # any other plan in that directory is refused before a run starts
    calls = []
    with pytest.raises(ConfigError, match="cannot change after confirmation started"):
        staged.run_stages(regime_map, results, 0, ConfirmSettings(max_cells=2, seed_cap=200, effect=0.05), stage_dir,
                          _sweeper(_gain_at_8, calls), "C3")
    assert calls == []


def test_confirmation_records_are_the_exploration_records_on_fresh_replicates(tmp_path):
    regime_map, results = _explore(_gain_at_8)
    calls = []
    out = staged.run_stages(regime_map, results, 0, ConfirmSettings(max_cells=2, seed_cap=200), tmp_path,
                            _sweeper(_gain_at_8, calls), "C3")
    (records,) = calls
    explored = {(t.as_dict() | {}).__repr__() for t in regimes.tasks(DESIGN)}
    assert records
    for task in records:
        assert task.replicate >= cf.CONFIRMATION_SEED_BASE and task.replicate not in range(DESIGN.seeds)
        assert repr(task.as_dict()) in explored  # same parameters: only the replicate differs
    # every planned cell: each of its seeds for each arm, nothing else
    expected = sum(len(c.seeds) * 3 for c in out.plan.confirmed_cells)
    assert len(records) == expected
    # arms of one replicate share the data/noise seed (pairing), different replicates do not
    by_rep = {}
    for task in records:
        by_rep.setdefault(task.replicate, set()).add(task.int_seed("dataset"))
    assert all(len(v) == 1 for v in by_rep.values())
    assert len({next(iter(v)) for v in by_rep.values()}) == len(by_rep)


def test_a_planted_effect_is_confirmed_and_none_is_not(tmp_path):
    supported = staged.run_stages(*_explore(_gain_at_8), 0, ConfirmSettings(max_cells=2, seed_cap=1000),
                                  tmp_path / "a", _sweeper(_gain_at_8, []), "C3")
    assert supported.confirmation.verdict.verdict == "supported"
    planted = next(c for c in supported.confirmation.cells if c.cell.key["epsilon"] == 8.0)
    assert planted.outcome == "supported"
    assert all(a.mean == pytest.approx(0.08, abs=0.03) for a in planted.arms)

    def nothing(task):
        return 0.0

    none = staged.run_stages(*_explore(nothing), 0, ConfirmSettings(max_cells=2, seed_cap=1000), tmp_path / "b",
                             _sweeper(nothing, []), "C3")
    assert none.confirmation.verdict.verdict != "supported"


def test_the_verdict_comes_from_the_confirmation_runs_alone(tmp_path):
    # the exploration plants a large gain at ε = 8; the confirmation runs have none there
    regime_map, results = _explore(lambda t: 0.2 if t["epsilon"] == 8.0 else 0.0)
    out = staged.run_stages(regime_map, results, 0, ConfirmSettings(max_cells=2, seed_cap=200), tmp_path,
                            _sweeper(lambda t: 0.0, []), "C3")
    assert out.confirmation.verdict.verdict != "supported"
    data = staged.confirmation_differences(DESIGN, out.plan, out.results)
    for cell in out.plan.confirmed_cells:
        for arm in cell.arms:
            assert len(data[cell.cell_id][arm]) == len(cell.seeds)


def test_no_plan_without_two_seeds_or_with_failed_exploration_runs(tmp_path):
    regime_map, results = _explore(_gain_at_8)
    calls = []
    failed = staged.run_stages(regime_map, results, 3, ConfirmSettings(), tmp_path, _sweeper(_gain_at_8, calls), "C3")
    assert failed.plan is None and "3 exploration run(s) failed" in failed.skipped and calls == []
    one_seed = regimes.Design("c3", DESIGN.blocks, 1, 1, 8, 1e-5, 400, None)
    assert "1 seed" in staged.skip_reason(one_seed, 0)


def test_variance_components_recover_the_test_sampling_part(tmp_path):
    out = staged.run_stages(*_explore(_gain_at_8), 0, ConfirmSettings(max_cells=2, seed_cap=200), tmp_path,
                            _sweeper(_gain_at_8, []), "C3")
    rows = staged.variance_components(DESIGN, out.plan, out.results)
    assert rows
    for row in rows:
        # planted: seed sd 0.03 per arm on top of the shared part, binomial at n_test = 400 and p ≈ 0.7-0.8
        assert row["test_var_quantum"] == pytest.approx(0.75 * 0.25 / 400, rel=0.25)
        expected_seed = 2 * 0.03**2
        assert row["seed_var_difference"] == pytest.approx(expected_seed, rel=0.6)
        assert row["var_difference"] == pytest.approx(expected_seed + row["test_var_difference_bound"], rel=0.6)
        assert 0 < row["test_share_bound"] < 1


def test_the_report_states_plan_tests_and_causes_and_plots_the_table(tmp_path):
    regime_map, results = _explore(_gain_at_8)
    out = staged.run_stages(regime_map, results, 0, ConfirmSettings(max_cells=2, seed_cap=200), tmp_path / "s",
                            _sweeper(_gain_at_8, []), "C3")
    report = staged_report.render(regime_map, out, tmp_path, "C3", "title", "statement", prefix="c3_")
    assert report.verdict.verdict == out.confirmation.verdict.verdict and report.verdict.rule == out.plan.rule
    titles = [t.title for t in report.tables]
    assert titles[0].startswith("Plan (sha256 " + out.plan_sha256[:16])
    assert any(t.startswith("Confirmation on fresh seeds only") for t in titles)
    assert any(t.startswith("Causes per confirmed cell") for t in titles)
    assert any(t.startswith("Variance components") for t in titles)
    rows = report.numbers["confirmation_tests"]
    figure = next(f for f in report.plots if f.name == "c3_" + staged_report.CONFIRMATION_NAME)
    assert (tmp_path / figure.name).exists()
    assert [y for _, y in figure.series["confirmation"]] == pytest.approx([r["mean"] for r in rows])
    assert [y for _, y in figure.series["exploration"]] == pytest.approx([r["exploration_mean"] for r in rows])
    assert [y for _, y in figure.series["interval low"]] == pytest.approx([r["low"] for r in rows])
    assert report.numbers["seed_ranges"]["exploration"] == [0, DESIGN.seeds - 1]
    assert all(lo >= cf.CONFIRMATION_SEED_BASE for lo, _ in report.numbers["seed_ranges"]["confirmation"])
    md = report.markdown()
    assert out.plan.rule in md and "TOST" in md
    assert math.isfinite(report.numbers["test_share_bound_median"])


def test_a_feasible_only_plan_skips_cells_no_cap_could_confirm():
    rng = np.random.default_rng(3)

    def cell(name, mean, sd):
        z = rng.standard_normal(5)
        z = (z - z.mean()) / z.std(ddof=1)
        return cf.ExploredCell({"cell": name}, {"a": (mean + sd * z).tolist()})

    cells = [cell("wild", 0.30, 0.40), cell("calm", 0.05, 0.02), cell("low", -0.05, 0.02)]
    plain = cf.make_plan(cells, max_cells=2, explore_seeds=range(5), seed_cap=100)
    assert [c.key["cell"] for c in plain.cells] == ["wild", "low"] and plain.cells[0].seeds is None
    feasible = cf.make_plan(cells, max_cells=2, explore_seeds=range(5), seed_cap=100, feasible_only=True)
    assert [c.key["cell"] for c in feasible.cells] == ["calm", "low"]
    assert all(c.seeds is not None and len(c.seeds) <= 100 for c in feasible.cells)
    assert "Eligible cells: only those whose n, computed as above but at m_max = 2 tests" in feasible.rule
    assert "(2 of 3 cells)" in feasible.rule


def test_when_no_cell_is_feasible_the_report_says_how_many_seeds_it_would_take(tmp_path):
    regime_map, results = _explore(_gain_at_8)
    calls = []
    out = staged.run_stages(regime_map, results, 0, ConfirmSettings(max_cells=2, seed_cap=2, effect=0.01), tmp_path,
                            _sweeper(_gain_at_8, calls), "C3")
    assert calls == [] and out.plan is not None and not out.plan.cells
    assert out.skipped.startswith("no exploration cell can be confirmed within 2 fresh seeds at effect 0.01")
    needed = int(out.skipped.rsplit("would need ", 1)[1].split()[0])
    assert needed > 2
    assert out.confirmation.verdict.verdict == "inconclusive"
    report = staged_report.render(regime_map, out, tmp_path, "C3", "title", "statement")
    assert report.verdict.verdict == "inconclusive" and any(out.skipped in r for r in report.verdict.reasons)
