"""C2: the task grid and the verdict checks on constructed runs (no TensorFlow)."""

from __future__ import annotations

import copy

import pytest

from privqml.paper_checks import c2_clipping_bias as c2
from privqml.paper_checks.profiles import PROFILES
from privqml.paper_checks.report import SIMULATION_LABEL
from privqml.paper_checks.stats import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED

PROFILE = PROFILES["quick"]


def _run(task):
    classical = task["model"] == "mlp"
    g_star, ratio = 1.5, task["clip_ratio"]
    clip = ratio * g_star
    max_norm = 2.0 if classical else 0.5
    clipped = max_norm > clip
    return {
        "grad_norm_bound": None if classical else g_star, "reference_grad_norm_bound": g_star, "clip": clip,
        "max_per_example_norm": max_norm, "clip_fraction_max": 0.3 if clipped else 0.0,
        "clip_bias_max": 0.05 if clipped else 0.0, "predicted_bias_max": None if classical else max(0.0, g_star - clip),
        "steps_over_bound": 0, "steps_bias_over_prediction": 0, "steps_clipped": 3 if clipped else 0,
        "meter_readings": 12, "test_accuracy": 0.7,
    }


def _results():
    return {t: _run(t) for t in c2.tasks(PROFILE)}


def test_grid_covers_every_family_kind_and_ratio():
    tasks = c2.tasks(PROFILE)
    assert len(tasks) == (len(PROFILE.c2_families) + len(PROFILE.c2_classical)) * len(PROFILE.c2_datasets) \
        * len(PROFILE.c2_clip_ratios) * PROFILE.c2_seeds
    assert {t["model"] for t in tasks} == {"hea", "reupload", "native", "mlp"}
    assert any(r >= 1 for r in PROFILE.c2_clip_ratios) and any(r < 1 for r in PROFILE.c2_clip_ratios)


def test_supported_with_tightness_and_activity_reported(tmp_path):
    analysis = c2.analyse(PROFILE, _results())
    assert analysis.verdict.verdict == SUPPORTED and analysis.tightness == pytest.approx(0.5 / 1.5)
    assert "largest observed max‖g_i‖ / G* over all quantum runs: 0.333 [not covered by ε]" in analysis.verdict.reasons
    # 0.03 * 1.5 = 0.045 and 0.1 * 1.5 = 0.15 < 0.5 clip; 0.3 * 1.5 = 0.45 < 0.5 clips too.
    assert any(r.startswith("18 of 18 quantum runs below the bound clipped") for r in analysis.verdict.reasons)
    assert [(g.model, g.dataset) for g in analysis.quantum] == sorted(
        (m, d) for m in PROFILE.c2_families for d in PROFILE.c2_datasets)
    assert all(len(g.runs) == len(PROFILE.c2_clip_ratios) for g in analysis.quantum)
    assert not list(tmp_path.iterdir())  # the analysis writes nothing
    assert c2.render(analysis, tmp_path).numbers == analysis.to_json()


def test_plots_carry_the_run_tables(tmp_path):
    report = c2.summarise(PROFILE, _results(), tmp_path)
    norms, bias = report.plots
    assert all((tmp_path / figure.name).is_file() for figure in report.plots)
    quantum, classical = report.numbers["quantum_runs"], report.numbers["classical_runs"]
    groups = sorted({(r["model"], r["dataset"]) for r in quantum})
    expected = [max(r["max_per_example_norm"] for r in quantum if (r["model"], r["dataset"]) == g)
                / next(r["grad_norm_bound"] for r in quantum if (r["model"], r["dataset"]) == g) for g in groups]
    expected += [2.0 / 1.5] * len(PROFILE.c2_datasets)  # the MLP against the matched quantum G*
    assert [y for _, y in norms.series["max_norm / bound"]] == pytest.approx(expected)
    assert expected[:len(groups)] == pytest.approx([0.5 / 1.5] * len(groups))  # every quantum run: 0.5 against 1.5
    assert bias.series["quantum runs"] == tuple((r["predicted_bias_max"], r["clip_bias_max"]) for r in quantum)
    assert bias.series["classical:mlp/quantum"] == tuple(
        (r["clip_ratio"], r["clip_bias_max"]) for r in classical if r["dataset"] == "quantum")
    assert [row[7] for row in report.tables[0].rows] == [r["clip_bias_max"] for r in quantum]


def _mutated(model, ratio, **changes):
    results = copy.deepcopy(_results())
    for task, result in results.items():
        if task["model"] == model and task["clip_ratio"] == ratio and task["dataset"] == "quantum":
            result.update(changes)
    return results


@pytest.mark.parametrize("results_fn, failed", [
    (lambda: _mutated("reupload", 0.3, steps_over_bound=1), "max per-example norm <= G*"),
    (lambda: _mutated("hea", 1.0, steps_clipped=1, clip_fraction_max=0.03), "C >= G*: nothing clipped"),
    (lambda: _mutated("native", 1.0, clip_bias_max=1e-9), "C >= G*: nothing clipped"),
    (lambda: _mutated("hea", 0.1, steps_bias_over_prediction=2), "C < G*: measured bias"),
])
def test_each_violation_makes_the_claim_not_supported(results_fn, failed, tmp_path):
    verdict = c2.summarise(PROFILE, results_fn(), tmp_path).verdict
    assert verdict.verdict == NOT_SUPPORTED
    assert any(r.startswith("failed: " + failed) for r in verdict.reasons)


def test_a_missing_family_is_inconclusive(tmp_path):
    results = {t: r for t, r in _results().items() if t["model"] != "native"}
    verdict = c2.summarise(PROFILE, results, tmp_path).verdict
    assert verdict.verdict == INCONCLUSIVE and "not made: coverage: every family x task kind ran" in verdict.reasons


def test_simulated_runs_are_labelled_on_both_plots_and_the_meter_columns_are_marked(tmp_path):
    results = {t: {**r, "simulation": True} for t, r in _results().items()}
    report = c2.summarise(PROFILE, results, tmp_path)
    assert report.simulation and report.numbers["simulation"] is True
    for figure in report.plots:  # the titles as drawn, read back from the figure
        assert figure.texts[0].splitlines()[-1] == SIMULATION_LABEL, figure.name
    quantum, classical = report.tables
    marked = [i for i, c in enumerate(quantum.columns) if c.endswith(" [not covered by ε]")]
    assert [quantum.columns[i] for i in marked] == [
        "max‖g_i‖ [not covered by ε]", "clipped frac [not covered by ε]", "bias [not covered by ε]",
        "steps >G* [not covered by ε]", "steps bias>pred [not covered by ε]"]
    assert [quantum.rows[0][i] for i in marked] == [0.5, 0.3, 0.05, 0, 0]  # the meter's numbers (C = 0.03 G*)
    assert sum(c.endswith(" [not covered by ε]") for c in classical.columns) == 3
    assert report.headline.endswith("(not covered by ε: diagnostics of the private training data)")
    assert set(report.numbers["not_covered_by_epsilon"]["fields"]) >= set(c2.DIAGNOSTIC_FIELDS)
    # runs with secret noise: no label on the plots
    plain = c2.summarise(PROFILE, _results(), tmp_path)
    assert not plain.simulation and not any(SIMULATION_LABEL in t for f in plain.plots for t in f.texts)
