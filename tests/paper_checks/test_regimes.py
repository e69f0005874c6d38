"""Regime maps: the paired task list, pairing in simulation mode, the per-cell and overall verdicts
on constructed accuracies, Holm over the whole map, and the drawn numbers against the table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.errors import ConfigError
from privqml.models.privacy import randomness
from privqml.models.training.trainer import train
from privqml.paper_checks import regime_analysis, regime_report, regimes, stats
from privqml.paper_checks import report as report_module
from privqml.paper_checks.regimes import Block, Design, parse_clip
from privqml.paper_checks.training import compact_run, train_config

BLOCKS = (
    Block("quantum", "hea", ("mlp", "logistic"), 400, (0.5, 2.0), ("0.25xbound", "bound", 0.5)),
    Block("quantum", "hea", ("mlp", "logistic"), 200, (0.5, 2.0), ("bound",), axis="n_train"),
    Block("quantum", "hea", ("mlp", "logistic"), 400, (2.0,), ("bound",), axis="n_train"),  # the centre, again
)
DESIGN = Design("c3", BLOCKS, seeds=5, epochs=2, batch_size=16, delta=1e-5, n_test=40, lr_rule=None, lr=0.05)


def test_parse_clip_forms_and_errors():
    assert parse_clip("bound") == parse_clip("1xbound") == parse_clip("G*") == "bound"
    assert parse_clip("0.25xbound") == parse_clip("0.25*bound") == "0.25xbound"
    assert parse_clip("4xbound") == "4xbound" and parse_clip("0.5") == 0.5 and parse_clip(0.1) == 0.1
    assert regimes.clip_params("4xbound") == {"clip_ratio": 4.0} and regimes.clip_params(0.5) == {"clip": 0.5}
    assert regimes.clip_params("4xbound", 1.25) == {"clip_ratio": 4.0, "g_star": 1.25}
    assert regimes.clip_params(0.5, 1.25) == {"clip": 0.5}  # a number needs no G*
    for bad in ("-1", "0xbound", "boundx", "nan", 0, True):
        with pytest.raises(ConfigError, match="clip="):
            parse_clip(bad)


def test_tasks_pair_every_arm_by_replicate_and_share_the_centre():
    tasks = regimes.tasks(DESIGN)
    # 3 arms x 5 seeds x (reference + 3 clips x 2 eps at n=400 + reference + 2 eps at n=200); block 3 adds nothing
    assert len(tasks) == 3 * 5 * ((1 + 6) + (1 + 2)) and len({t.key for t in tasks}) == len(tasks)
    cells: dict[tuple, dict[str, object]] = {}
    for t in tasks:
        clip = t.get("clip_ratio", t.get("clip"))
        cells.setdefault((t["n_train"], clip, t["epsilon"], t.replicate), {})[t["model"]] = t
    for (n, clip, eps, r), arms in cells.items():
        assert set(arms) == {"hea", "mlp:match=hea", "logistic:match=hea"}
        assert len({a.int_seed("dataset") for a in arms.values()}) == 1  # one split, draw and noise seed
        assert len({(a.get("clip"), a.get("clip_ratio")) for a in arms.values()}) == 1  # the same C
    seeds = {t.int_seed("dataset") for t in tasks}
    assert len(seeds) == DESIGN.seeds  # replicates differ, arms and cells within a replicate do not


def test_records_pin_g_star_so_a_changed_bound_makes_new_runs_not_mixed_cells(monkeypatch):
    g_star = regimes.bound_value("hea", "quantum")
    first = regimes.tasks(DESIGN)
    pinned = [t for t in first if t.get("clip_ratio") is not None]
    assert pinned and {t["g_star"] for t in pinned} == {g_star}  # every arm of a cell: the quantum arm's G*
    task = next(t for t in pinned if t["model"] == "mlp:match=hea" and t["clip_ratio"] == 0.25)
    monkeypatch.setattr("privqml.paper_checks.training.task_bound", lambda t: 99.0)  # the theory moved on
    assert train_config(task).clip == pytest.approx(0.25 * g_star, rel=1e-15)  # the run uses the pinned value
    monkeypatch.setattr(regimes, "bound_value", lambda quantum, dataset: g_star * (1 + 1e-4))
    second = regimes.tasks(DESIGN)
    assert len(second) == len(first)
    old, new = {t.key for t in first}, {t.key for t in second}
    changed = old - new
    assert len(changed) == len(pinned)  # exactly the bound-multiple runs are new (rerun), the rest kept
    assert all(t.get("clip_ratio") is None for t in first if t.key in old & new)


def test_a_model_without_finite_bound_cannot_clip_at_a_bound_multiple(monkeypatch):
    def no_bound(model, n_classes):
        raise ValueError("no finite loss-gradient bound")

    monkeypatch.setattr("privqml.paper_checks.training.reference_bound", no_bound)
    with pytest.raises(ConfigError, match="quantum='hea' on dataset='quantum' has no finite .* give numeric clips"):
        regimes.tasks(DESIGN)
    numeric = Design("c3", (Block("quantum", "hea", ("mlp",), 48, (2.0,), (0.5,)),), seeds=1, epochs=1,
                     batch_size=16, delta=1e-5, n_test=24, lr_rule=None)
    assert all(t.get("g_star") is None for t in regimes.tasks(numeric))  # numbers need no G*


def test_pairing_same_split_poisson_draws_and_noise_in_simulation_mode():
    design = Design("c3", (Block("quantum", "hea", ("mlp",), 48, (2.0,), ("bound",)),), seeds=2, epochs=1,
                    batch_size=16, delta=1e-5, n_test=24, lr_rule=None)
    tasks = [t for t in regimes.tasks(design) if t["epsilon"] == 2.0]
    by = {(t["model"], t.replicate): t for t in tasks}
    assert by[("hea", 0)].int_seed("dataset") != by[("hea", 1)].int_seed("dataset")  # replicates differ
    runs = {}
    for model in ("hea", "mlp:match=hea"):
        config = train_config(by[(model, 0)])
        assert config.simulation_seed == config.seed == by[(model, 0)].int_seed("dataset")
        sizes: list[int] = []
        result = train(config, progress=lambda p: sizes.append(p["batch_size"]) if "batch_size" in p else None)
        runs[model] = (config, result, sizes)
    (cq, rq, bq), (cc, rc, bc) = runs["hea"], runs["mlp:match=hea"]
    assert rq.dataset["fingerprint"] == rc.dataset["fingerprint"]  # same data split
    assert bq == bc and len(bq) == rq.privacy.steps  # same Poisson batches, step by step
    streams = [randomness.epoch_randomness(c.simulation_seed, 0) for c in (cq, cc)]
    assert streams[0].noise_seed == streams[1].noise_seed  # same noise stream
    assert rq.privacy.noise_multiplier == rc.privacy.noise_multiplier and rq.clip == rc.clip
    assert randomness.SIMULATION_WARNING in rq.caveats()  # labelled a simulation
    compact = compact_run(rq)
    expected = rq.privacy.noise_multiplier * rq.clip / 16 / float(np.median(rq.signal_norms))
    assert compact.noise_to_signal == pytest.approx(expected, rel=1e-12)
    assert len(rq.signal_norms) == len(rq.clip_history) == rq.privacy.steps


def _results(gain_of, seed: int = 0):
    """Constructed runs: accuracy = base + gain_of(task) + small noise (quantum arm only gains)."""
    rng = np.random.default_rng(seed)
    out = {}
    for task in regimes.tasks(DESIGN):
        eps = task["epsilon"]
        base = 0.9 if math.isinf(eps) else 0.7 + 0.03 * math.log(eps)
        gain = gain_of(task) if task["model"] == "hea" and math.isfinite(eps) else 0.0
        out[task] = {"test_accuracy": base + gain + 0.005 * rng.standard_normal(), "noise_multiplier": 1.0,
                     "epsilon_pld": min(eps, 1e9), "clip": 1.46 if task.get("clip_ratio") else task.get("clip"),
                     "dataset": {"n_classes": 2}, "model": {"n_weights": 16}, "lr": 0.05,
                     "clip_fraction_mean": 0.1, "clip_bias_mean": 0.01, "noise_to_signal": 2.0}
    return out


def test_one_clearly_better_cell_makes_the_existential_claim_supported():
    target = lambda t: t["n_train"] == 200 and t["epsilon"] == 0.5  # noqa: E731
    regime_map = regime_analysis.analyse(DESIGN, _results(lambda t: 0.2 if target(t) else 0.0))
    assert len(regime_map.cells) == 3 * 2 + 2  # distinct cells; the centre seen from the n axis is not doubled
    verdicts = {(c.n_train, c.clip, c.epsilon): c.verdict for c in regime_map.cells}
    assert verdicts.pop((200, "bound", 0.5)) == regime_analysis.SUPPORTED
    assert set(verdicts.values()) == {regime_analysis.NOT_SUPPORTED}  # equivalent everywhere else
    assert regime_map.verdict.verdict == regime_analysis.SUPPORTED
    assert "quantum | hea | n=200 C=G* (1.46) ε=0.5" in regime_map.verdict.reasons[1]
    centre = next(c for c in regime_map.cells if c.n_train == 400 and c.clip == "bound" and c.epsilon == 2.0)
    assert centre.axes == ("centre", "n_train")


def test_resolution_states_the_holm_threshold_and_the_seeds_the_closest_cell_would_need():
    import scipy.stats as sps

    regime_map = regime_analysis.analyse(DESIGN, _results(lambda t: 0.01 if t["epsilon"] == 2.0 else 0.0, seed=3))
    line = next(r for r in regime_map.verdict.reasons if r.startswith("resolution:"))
    m = 2 * len(regime_map.cells)
    t_first = sps.t.ppf(1 - 0.05 / (2 * m), 4)
    assert f"{m} comparisons at 5 seeds" in line and f"|t| ≥ {t_first:.1f} (df 4)" in line
    assert f"≥ {t_first / math.sqrt(5):.1f} seed-to-seed" in line
    ahead = [(min(comp.accuracy.difference.mean / comp.accuracy.difference.sd for comp in c.comparisons), c)
             for c in regime_map.cells if all(comp.accuracy.difference.mean > 0 for comp in c.comparisons)]
    effect, cell = max(ahead, key=lambda e: e[0])
    assert f"closest to support ({cell.label}: q − c {cell.comparisons[0].accuracy.difference.mean:+.3f} vs mlp" in line
    need = int(line.split("would need ≈ ")[1].split()[0])
    assert effect * math.sqrt(need) >= sps.t.ppf(1 - 0.05 / (2 * m), need - 1)  # enough seeds ...
    assert need == 2 or effect * math.sqrt(need - 1) < sps.t.ppf(1 - 0.05 / (2 * m), need - 2)  # ... and no fewer
    behind = regime_analysis.analyse(DESIGN, _results(lambda t: -0.01, seed=3))
    assert any(r.endswith("no cell has the quantum model ahead of every classical arm") for r in behind.verdict.reasons)
    assert regime_analysis.resolution(()) is None


def test_no_cell_better_is_not_supported_and_holm_spans_the_whole_map():
    regime_map = regime_analysis.analyse(DESIGN, _results(lambda t: 0.0))
    assert regime_map.verdict.verdict == regime_analysis.NOT_SUPPORTED
    assert all(c.clip_values in ((1.46,), (0.5,)) for c in regime_map.cells)
    assert not any("C differs" in r for r in regime_map.verdict.reasons)
    comps = [comp.accuracy for c in regime_map.cells for comp in c.comparisons]
    assert len(comps) == 2 * len(regime_map.cells)
    assert [c.adjusted_pvalue for c in comps] == pytest.approx(stats.holm_adjust([c.t_pvalue for c in comps]))


def test_mixed_cells_are_inconclusive_and_one_seed_is_indicative():
    # quantum higher than mlp only (logistic unchanged): no cell beats every arm
    results = _results(lambda t: 0.0)
    for task, result in results.items():
        if task["model"] == "mlp:match=hea" and task["epsilon"] == 0.5:
            result["test_accuracy"] -= 0.2 + 0.02 * task.replicate
    regime_map = regime_analysis.analyse(DESIGN, results)
    cell = next(c for c in regime_map.cells if c.epsilon == 0.5 and c.n_train == 200)
    assert [c.accuracy.outcome for c in cell.comparisons] == [stats.QUANTUM_HIGHER, stats.EQUIVALENT]
    assert cell.verdict == regime_analysis.NOT_SUPPORTED  # the logistic model does as well
    changed = dict(results)
    moved = next(t for t in changed if t["model"] == "mlp:match=hea" and t.get("clip_ratio") == 1.0 and t.replicate == 3)
    changed[moved] = {**changed[moved], "clip": 0.78}  # G* changed between two runs of one cell
    assert any(r.startswith("C differs between the runs of 1 cell") for r in regime_analysis.analyse(
        DESIGN, changed).verdict.reasons)
    one = Design("c3", BLOCKS[:1], seeds=1, epochs=2, batch_size=16, delta=1e-5, n_test=40, lr_rule=None)
    single = {t: r for t, r in results.items() if t.replicate == 0 and t["n_train"] == 400}
    assert regime_analysis.analyse(one, single).verdict.indicative


def test_heatmap_draws_the_numbers_of_the_table_and_json(tmp_path):
    regime_map = regime_analysis.analyse(DESIGN, _results(lambda t: 0.05 * t.replicate))
    report = regime_report.render(regime_map, tmp_path, "C3", "t", "s", prefix="c3_")
    heatmap, causes = report.plots
    assert (tmp_path / "c3_regime_map.png").stat().st_size > 5000 and (tmp_path / "c3_regime_causes.png").exists()
    table = report.tables[0]
    assert table.columns == regime_report.MAP_COLUMNS
    drawn = {}
    for label, points in heatmap.series.items():
        panel, clip = label.rsplit(" | C=", 1)
        for eps, value in points:
            drawn[(panel, clip, eps)] = value
    from_table = {(f"{row[0]} | {row[1]} | n={row[2]} vs {row[7]}", row[3], row[4]): row[9] for row in table.rows}
    assert drawn.keys() == from_table.keys() and len(drawn) == 2 * len(regime_map.cells)
    for key, value in from_table.items():
        assert drawn[key] == pytest.approx(value, abs=1e-12)
    numbers = report.numbers["cells"]
    assert sorted(c["comparisons"][0]["accuracy"]["difference"]["mean"] for c in numbers) == pytest.approx(
        sorted(v for (panel, _, _), v in from_table.items() if panel.endswith("vs mlp")))
    # the causes plot: the regime panel's q - mlp values are the table's as well
    regime = {k: v for k, v in causes.series.items() if "q − mlp accuracy" in k}
    assert sum(len(v) for v in regime.values()) == len(regime_map.cells)


def test_simulated_runs_put_the_label_on_both_figures_and_diagnostics_are_marked(tmp_path):
    label = report_module.SIMULATION_LABEL
    simulated = {t: {**r, "simulation": True} for t, r in _results(lambda t: 0.0).items()}
    regime_map = regime_analysis.analyse(DESIGN, simulated)
    assert regime_map.simulation and regime_map.to_json()["simulation"] is True
    report = regime_report.render(regime_map, tmp_path, "compare", "t", "s")
    heatmap, causes = report.plots
    assert heatmap.texts[0].splitlines()[-1] == label and causes.texts[0].splitlines()[-1] == label
    assert report.simulation
    # the same runs drawn with secret noise carry no label
    secret = regime_report.render(regime_analysis.analyse(DESIGN, _results(lambda t: 0.0)), tmp_path, "c", "t", "s")
    assert not any(label in text for figure in secret.plots for text in figure.texts) and not secret.simulation
    # the causes table: every column read from private per-example gradients is marked, the others are not
    causes_table = report.tables[2]
    marked = [c for c in causes_table.columns if c.endswith("[not covered by ε]")]
    assert marked == ["fraction clipped [not covered by ε]", "clip bias [not covered by ε]",
                      "noise/signal [not covered by ε]"]
    assert causes_table.rows[0][6:] == (0.1, 0.01, 2.0)  # the marked columns hold the diagnostics
    assert not any("not covered" in c for c in report.tables[0].columns)  # test accuracy is covered
    assert report.numbers["not_covered_by_epsilon"]["fields"] == ["clip_fraction", "clip_bias", "noise_to_signal"]
    report_md, _ = report_module.write_report(tmp_path, [report], {"command": "privqml compare"})
    text = report_md.read_text()
    assert "| fraction clipped [not covered by ε] | clip bias [not covered by ε] | noise/signal [not covered by ε] |" \
        in text
    assert f"**{label}.**" in text and f"**{label}**" in text  # the heading and beside the verdict
