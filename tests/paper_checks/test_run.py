"""End to end at CI size: all three claims on the real models and audit, the report, resume, CLI.

The profile is a shrunk ``demo`` (2 seeds, 48 training examples, one epoch, 20-40 audit trials):
verdicts at this size mean little, so the assertions are on the numbers — closed forms of the
exact counterexample, the bound never exceeded, tables equal to the stored runs — and on the
protocol (nothing recomputed on a second run, identical numbers for an identical record).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math

import numpy as np
import pytest
from rich.console import Console

from privqml.cli import main
from privqml.models.training.records import COVERED_STATEMENT, NOT_COVERED_STATEMENT
from privqml.paper_checks import profiles
from privqml.paper_checks import run as run_module
from privqml.paper_checks.executors import SerialExecutor
from privqml.paper_checks.learning_rate import LRRule
from privqml.paper_checks.protocol import load_sweep
from privqml.paper_checks.regimes import Block
from privqml.paper_checks.report import SIMULATION_LABEL
from privqml.paper_checks.run import run_checks, run_task, sweep_tasks
from privqml.paper_checks.stats import VERDICTS
from privqml.paper_checks.sweep import run_sweep
from privqml.paper_checks.training import DIAGNOSTIC_FIELDS

TINY = dataclasses.replace(
    profiles.PROFILES["demo"], name="ci", seeds=2, n_train=48, n_test=32, epochs=1, batch_size=16,
    c1_trials=40, c1_trials_depolarizing=20, c1_counterexample_shots=(1, 10),
    c2_families=("hea",), c2_datasets=("quantum",), c2_clip_ratios=(0.1, 1.0), c2_epochs=1, c2_classical=("mlp",),
    c3_blocks=(Block("quantum", "hea", ("mlp",), 48, (2.0,), ("bound",)),),
    c3_lr_rule=LRRule(grid=(0.05, 0.2), epochs=1, batch_size=16, n_fit=32, n_val=32),
)
_TIMING = ("seconds", "mean_step_seconds")


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    out = tmp_path_factory.mktemp("checks")
    return out, run_checks("all", TINY, executor="serial", out_dir=out)


def test_report_files_and_verdicts(checked):
    out, check = checked
    assert check.tasks_computed == len(sweep_tasks(("c1", "c2", "c3"), TINY)) and not check.failures
    for name in ("report.md", "results.json", "c1_audit.png", "c2_norms_vs_bound.png",
                 "c2_bias_measured_vs_predicted.png", "c3_regime_map.png", "c3_regime_causes.png"):
        assert (out / name).stat().st_size > 1000, name
    payload = json.loads((out / "results.json").read_text())
    assert set(payload["verdicts"]) == {"C1", "C2", "C3"}
    assert all(v in VERDICTS for v in payload["verdicts"].values())
    assert payload["labels"]["C3"].endswith("(indicative)")  # the demo profile's flag carries over
    text = (out / "report.md").read_text()
    for claim, verdict in payload["labels"].items():
        assert f"**Verdict: {verdict}**" in text


def test_c1_numbers(checked):
    _, check = checked
    c1 = next(r for r in check.reports if r.claim == "C1")
    counter = c1.numbers["shot_counterexample"]
    # N = 1: the supports {-1, +1} and {0, 2} of S do not meet, delta_inf = 1.
    assert counter["1"]["delta_infinite"] == 1.0 and not counter["1"]["finite_epsilon_possible"]
    # N = 10: outcomes S > 1 are impossible without the canary; their mass is P[Bin(10, 1/2) > 5] = 386/1024.
    assert counter["10"]["delta_infinite"] == pytest.approx(386 / 1024, abs=1e-12)
    assert c1.numbers["depolarizing_step"]["distance"] > 0
    audits = c1.numbers["audits"]
    assert audits["dpsgd"]["epsilon_accounted_finite"] and audits["dpsgd"]["verdict"] == "consistent"
    assert audits["shots"]["verdict"] == audits["depolarizing"]["verdict"] == "no-guarantee"
    assert c1.verdict.verdict == "supported"


def test_c2_numbers(checked):
    _, check = checked
    c2 = next(r for r in check.reports if r.claim == "C2")
    runs = c2.numbers["quantum_runs"]
    assert len(runs) == 2
    for run in runs:
        assert run["max_per_example_norm"] <= run["grad_norm_bound"] * (1 + 1e-5)
        assert run["clip"] == pytest.approx(run["clip_ratio"] * run["grad_norm_bound"], rel=1e-12)
        if run["clip_ratio"] >= 1:
            assert run["clip_fraction_max"] == 0.0 and run["clip_bias_max"] == 0.0
        assert run["clip_bias_max"] <= run["predicted_bias_max"] + 1e-9
    assert c2.numbers["checks"]["max per-example norm <= G* at every step of every quantum run"] is True
    assert c2.numbers["checks"]["C >= G*: nothing clipped and bias exactly 0"] is True
    assert {r["clip_ratio"] for r in c2.numbers["classical_runs"]} == {0.1, 1.0}
    norms = c2.plots[0].series["max_norm / bound"]
    assert norms[0][1] == pytest.approx(max(r["max_per_example_norm"] for r in runs) / runs[0]["grad_norm_bound"])


def test_c3_table_equals_the_stored_runs(checked):
    out, check = checked
    c3 = next(r for r in check.reports if r.claim == "C3")
    (cell,) = c3.numbers["cells"]
    stored = load_sweep(sweep_tasks(("c3",), TINY), out / "runs")
    acc = {(t["model"], t["epsilon"], t.replicate): r["test_accuracy"] for t, r in stored.items()}
    q = np.array([acc[("hea", 2.0, r)] for r in range(2)])
    c = np.array([acc[("mlp:match=hea", 2.0, r)] for r in range(2)])
    q_ref = np.array([acc[("hea", math.inf, r)] for r in range(2)])
    assert cell["quantum"]["accuracy"]["mean"] == pytest.approx(q.mean(), abs=1e-12)
    assert cell["classical"][0]["accuracy"]["mean"] == pytest.approx(c.mean(), abs=1e-12)
    difference = cell["comparisons"][0]["accuracy"]["difference"]["mean"]
    assert difference == pytest.approx((q - c).mean(), abs=1e-12)
    assert cell["quantum"]["retention"]["mean"] == pytest.approx((q / q_ref).mean(), abs=1e-12)
    assert len(cell["epsilon_pld_spent"]) == 1 and cell["epsilon_pld_spent"][0] <= 2.0  # same budget, both arms
    # each arm's learning rate came from the public rule, and the runs used it
    for task, result in stored.items():
        assert result["lr_choice"]["grid"] == [0.05, 0.2] and result["lr"] == result["lr_choice"]["lr"]
        assert result["lr_choice"]["source"].startswith("public proxy task")
    # the heatmap draws this very number
    heatmap = c3.plots[0]
    ((epsilon, drawn),) = heatmap.series[f"quantum | hea | n=48 vs mlp | C=G* ({cell['clip_value']:.3g})"]
    assert (epsilon, drawn) == (2.0, pytest.approx(difference, abs=1e-12))


def test_result_files_state_what_epsilon_covers_and_plots_say_simulation(checked):
    out, check = checked
    files = sorted((out / "runs").rglob("*.json"))
    assert len(files) == check.tasks_computed
    for path in files:
        payload = json.loads(path.read_text())
        privacy, claim, kind = payload["privacy"], payload["task"]["claim"], payload["task"]["kind"]
        assert privacy["randomness"]["mode"] == ("simulation" if kind in ("train", "audit") else "none"), path.name
        if claim in ("c2", "c3") and privacy["private"]:
            assert privacy["not_covered"] == NOT_COVERED_STATEMENT and privacy["covered"] == COVERED_STATEMENT
            assert privacy["not_covered_fields"] == list(DIAGNOSTIC_FIELDS)  # every diagnostic the result holds
            assert privacy["covered_fields"] == ["test_accuracy", "accuracy_per_epoch"]
            assert set(privacy["not_covered_fields"]) <= set(payload["result"])
    for report in check.reports:  # C1's audits, C2's and C3's runs: all drew seeded noise
        assert report.simulation and report.plots
        for figure in report.plots:
            assert figure.texts[0].splitlines()[-1] == SIMULATION_LABEL, figure.name
    console = Console(file=io.StringIO(), width=400)  # wide: C2's key numbers stay on one line of the table
    run_module.print_verdicts(check, console)
    printed = " ".join(console.file.getvalue().split())
    assert SIMULATION_LABEL in printed and "numbers marked [not covered by ε]" in printed
    assert "(not covered by ε: diagnostics of the private training data)" in printed  # C2's key numbers


def test_second_run_recomputes_nothing_and_gives_the_same_report(checked):
    out, check = checked
    again = run_checks("all", TINY, executor="serial", out_dir=out)
    assert again.tasks_computed == 0 and again.tasks_skipped == check.tasks_computed
    assert again.verdicts == check.verdicts
    assert [r.numbers for r in again.reports] == [r.numbers for r in check.reports]


def _same_numbers(a, b, rel: float = 1e-5) -> bool:
    """Equal structure, strings, booleans and integers; floats equal to ``rel`` (float32 rounding)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_numbers(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_numbers(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def test_identical_record_gives_identical_numbers(checked, tmp_path):
    """The record run alone reproduces the run the sweep computed inside its cell's group: the same
    batches, noise and accuracies; float diagnostics to float32 rounding (a vectorised step over a
    group's rows rounds a row's gradient differently for different row counts, by ~1 ulp)."""
    out, _ = checked
    task = next(t for t in sweep_tasks(("c3",), TINY) if t["model"] == "hea" and t["epsilon"] == 2.0)
    fresh = run_sweep([task], run_task, tmp_path, SerialExecutor()).results[task]
    stored = load_sweep([task], out / "runs")[task]
    fresh, stored = ({k: v for k, v in r.items() if k not in _TIMING} for r in (fresh, stored))
    assert _same_numbers(fresh, stored), (fresh, stored)
    assert fresh["test_accuracy"] == stored["test_accuracy"] and fresh["steps"] == stored["steps"]


def test_cli_check_reuses_finished_runs_and_prints_verdicts(checked, monkeypatch, capsys):
    out, check = checked
    monkeypatch.setitem(profiles.PROFILES, "demo", dataclasses.replace(TINY, name="demo"))
    assert main(["check", "all", "--profile", "demo", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["labels"] == check.verdicts
    assert printed["report"].endswith("report.md")


@pytest.mark.parametrize("argv, message", [
    (["check", "c4"], "claim='c4'"),
    (["check", "all", "--profile", "huge"], "profile='huge'"),
    (["check", "all", "--address", "10.0.0.1:6379"], "address="),
    (["check", "all", "--executor", "dask"], "executor='dask'"),
])
def test_cli_bad_input_is_one_clear_error(argv, message, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_failed_analysis_keeps_the_other_claims_and_makes_check_exit_1(checked, monkeypatch, capsys, tmp_path):
    out, check = checked
    from privqml.paper_checks import c3_accuracy

    def broken(*args, **kwargs):
        raise RuntimeError("boom in the C3 analysis")

    monkeypatch.setattr(c3_accuracy, "summarise", broken)
    again = run_checks("c2,c3", TINY, executor="serial", out_dir=out)  # every run reused
    assert again.tasks_computed == 0 and not again.failures
    assert set(again.summary_failures) == {"c3"} and "boom in the C3 analysis" in again.summary_failures["c3"]
    assert {r.claim: r.verdict.rule for r in again.reports}["C3"] == "the summary of this claim failed"
    assert next(r for r in again.reports if r.claim == "C2").verdict.verdict in VERDICTS  # C2 unaffected
    monkeypatch.setattr(run_module, "run_checks", lambda *a, **k: again)
    assert main(["check", "c2,c3", "--out", str(out)]) == 1
    assert "the analysis of c3 failed" in " ".join(capsys.readouterr().out.split())


def test_cli_exit_status_on_failed_tasks_and_on_interrupt(checked, monkeypatch, capsys):
    out, check = checked
    failed = dataclasses.replace(check, failures={"c3/train/x.json": "Traceback ...\nRuntimeError: boom"})
    monkeypatch.setattr(run_module, "run_checks", lambda *a, **k: failed)
    assert main(["check", "all", "--out", str(out)]) == 1
    assert "1 task(s) failed" in " ".join(capsys.readouterr().out.split())

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "run_checks", interrupted)
    assert main(["check", "all", "--out", str(out)]) == 130
    assert "run the same command again to resume" in " ".join(capsys.readouterr().out.split())  # rich wraps lines
