"""C3: the paired design of the task list and the statistics on constructed accuracies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.paper_checks import c3_accuracy as c3
from privqml.paper_checks.profiles import PROFILES
from privqml.paper_checks.stats import NOT_SUPPORTED, QUANTUM_HIGHER, SUPPORTED

PROFILE = PROFILES["quick"]


def test_tasks_pair_quantum_and_classical_by_replicate():
    tasks = c3.tasks(PROFILE)
    finite = [e for e in PROFILE.c3_epsilons if math.isfinite(e)]
    per_arm = PROFILE.seeds * (1 + len(PROFILE.c3_clips) * len(finite))
    assert len(tasks) == 2 * len(PROFILE.c3_datasets) * per_arm
    assert PROFILE.seeds >= 5 and "bound" in PROFILE.c3_clips and math.inf in PROFILE.c3_epsilons
    by_key = {(t["dataset"], t["model"], t["clip"], t["epsilon"], t.replicate): t for t in tasks}
    for (dataset, model, clip, eps, r), task in by_key.items():
        if model == "hea":
            twin = by_key[(dataset, "mlp", clip, eps, r)]
            assert twin.int_seed("dataset") == task.int_seed("dataset")  # same split, draws and noise
            assert twin.key != task.key
    seeds = {by_key[(d, "hea", None, math.inf, r)].int_seed("dataset") for d in PROFILE.c3_datasets for r in range(5)}
    assert len(seeds) == 5 * len(PROFILE.c3_datasets)


def _results(quantum_gain: float, seed: int = 0, quantum_reference: float = 0.80):
    rng = np.random.default_rng(seed)
    out = {}
    for task in c3.tasks(PROFILE):
        base = 0.80 if math.isinf(task["epsilon"]) else 0.65 + 0.02 * math.log(task["epsilon"])
        if math.isinf(task["epsilon"]) and task["model"] == "hea":
            base = quantum_reference
        gain = quantum_gain if task["model"] == "hea" and math.isfinite(task["epsilon"]) else 0.0
        acc = base + gain + 0.01 * rng.standard_normal()
        out[task] = {"test_accuracy": acc, "clip": 1.46 if task["clip"] == "bound" else task["clip"],
                     "epsilon_pld": min(task["epsilon"], 1e9) * 0.9, "noise_multiplier": 1.0,
                     "dataset": {"n_classes": 2}}
    return out


def test_clear_quantum_advantage_is_supported_with_matching_numbers(tmp_path):
    results = _results(quantum_gain=0.10)
    report = c3.summarise(PROFILE, results, tmp_path)
    assert report.verdict.verdict == SUPPORTED and not report.verdict.indicative
    cells = report.numbers["cells"]
    assert len(cells) == len(PROFILE.c3_datasets) * len(PROFILE.c3_clips) * 2
    assert all(c["paired_accuracy"]["outcome"] == QUANTUM_HIGHER for c in cells)
    cell = cells[0]
    acc = {(t["model"], t["clip"], t["epsilon"], t.replicate): r["test_accuracy"]
           for t, r in results.items() if t["dataset"] == cell["dataset"]}
    q = np.array([acc[("hea", cell["clip"], cell["epsilon"], r)] for r in range(5)])
    c = np.array([acc[("mlp", cell["clip"], cell["epsilon"], r)] for r in range(5)])
    q_ref = np.array([acc[("hea", None, math.inf, r)] for r in range(5)])
    assert cell["paired_accuracy"]["difference"]["mean"] == pytest.approx((q - c).mean(), abs=1e-12)
    assert cell["retention_quantum"]["mean"] == pytest.approx((q / q_ref).mean(), abs=1e-12)
    assert cell["accuracy_quantum"]["low"] < q.mean() < cell["accuracy_quantum"]["high"]
    assert cell["clip_value"] == 1.46 or cell["clip"] != "bound"


def test_analysis_cells_carry_estimate_interval_holm_p_and_decision(tmp_path):
    analysis = c3.analyse(PROFILE, _results(quantum_gain=0.10))
    assert not list(tmp_path.iterdir())  # the analysis writes nothing
    pvalues = [cell.comparison.t_pvalue for cell in analysis.cells]
    m = len(pvalues)
    for cell in analysis.cells:
        assert cell.decision == QUANTUM_HIGHER and cell.estimate == cell.comparison.difference.mean
        assert cell.comparison.difference.low < cell.estimate < cell.comparison.difference.high
        # Holm: the adjusted p is at least the raw one and at most m times it
        assert cell.comparison.t_pvalue <= cell.holm_pvalue <= min(1.0, m * cell.comparison.t_pvalue) + 1e-15
    smallest = min(range(m), key=pvalues.__getitem__)
    assert analysis.cells[smallest].holm_pvalue == pytest.approx(m * pvalues[smallest])
    report = c3.render(analysis, tmp_path)
    assert report.verdict == analysis.verdict and report.numbers == analysis.to_json()
    assert [row[6] for row in report.tables[0].rows] == [c.comparison.difference.format() for c in analysis.cells]


def test_plot_carries_the_cells_and_the_references(tmp_path):
    analysis = c3.analyse(PROFILE, _results(quantum_gain=0.10))
    (figure,) = c3.render(analysis, tmp_path).plots
    assert (tmp_path / figure.name).is_file()
    finite = [e for e in PROFILE.c3_epsilons if math.isfinite(e)]
    reference = {(r.dataset, r.model): r.accuracy for r in analysis.references}
    for cell in analysis.cells:
        panel = f"{cell.dataset}, C={c3._clip_label(cell.clip, cell.clip_value)}"
        for arm, model, interval in (("quantum", "hea", cell.quantum), ("classical", "mlp", cell.classical)):
            points = dict(figure.series[f"{panel} | {arm}:{model}"])
            assert points[cell.epsilon] == interval.mean
            assert dict(figure.series[f"{panel} | {arm}:{model} | low"])[cell.epsilon] == interval.low
            assert points[4 * max(finite)] == reference[(cell.dataset, model)].mean  # ε = ∞, at the right edge
    assert len([k for k in figure.series if " | " in k and k.count(" | ") == 1]) == 2 * len(PROFILE.c3_datasets) * len(
        PROFILE.c3_clips)


def test_classical_advantage_is_not_supported(tmp_path):
    verdict = c3.summarise(PROFILE, _results(quantum_gain=-0.10), tmp_path).verdict
    assert verdict.verdict == NOT_SUPPORTED
    assert any(r.startswith("classical higher in: quantum C=bound (1.46) ε=1") for r in verdict.reasons)


def test_missing_runs_are_counted(tmp_path):
    results = _results(quantum_gain=0.10)
    dropped = [t for t in results if t["model"] == "mlp" and t.replicate == 4]
    for task in dropped:
        del results[task]
    report = c3.summarise(PROFILE, results, tmp_path)
    assert report.numbers["runs_found"] == report.numbers["runs_expected"] - len(dropped)
    assert all(len(c["replicates"]) == 4 for c in report.numbers["cells"])


def test_a_model_at_chance_without_privacy_is_flagged(tmp_path):
    """Retention of a model that never learnt the task (non-private accuracy ≈ chance) says nothing
    about what privacy costs; the report says so instead of counting it as retention."""
    flagged = c3.summarise(PROFILE, _results(quantum_gain=0.0, quantum_reference=0.52), tmp_path)
    assert {(c["dataset"], c["model"]) for c in flagged.numbers["near_chance_nonprivate"]} == {
        (d, "hea") for d in PROFILE.c3_datasets}
    assert any(r.startswith("not learnt without privacy") and "hea on quantum (0.5" in r and "chance 0.50" in r
               for r in flagged.verdict.reasons)
    clean = c3.summarise(PROFILE, _results(quantum_gain=0.0), tmp_path)
    assert clean.numbers["near_chance_nonprivate"] == []
    assert not any(r.startswith("not learnt") for r in clean.verdict.reasons)
