"""``privqml compare``: input errors before any work, and resume after the sweep was killed mid-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from privqml.cli import main
from privqml.paper_checks import compare as compare_module
from privqml.paper_checks.report import SIMULATION_LABEL
from privqml.paper_checks.sweep import SweepSummary

SMALL = ["compare", "--quantum", "hea", "--classical", "mlp", "--dataset", "quantum", "--epsilons", "2",
         "--clips", "bound", "--n-train", "48", "--n-test", "24", "--seeds", "2", "--epochs", "1",
         "--batch-size", "16", "--lr", "0.05", "--executor", "serial"]
TOTAL = 2 * 2 * (1 + 1)  # arms x seeds x (reference + 1 clip x 1 ε)


@pytest.mark.parametrize("args, message", [
    (["--clips", "-1"], "clip=-1.0 must be"),
    (["--clips", "2xboundish"], "clip='2xboundish'"),
    (["--epsilons", "abc"], "epsilons: 'abc' is not a number"),
    (["--epsilons", "inf"], "has no finite value"),
    (["--quantum", "mlp"], "quantum='mlp'"),
    (["--classical", "mlp,hea"], "classical='hea'"),
    (["--dataset", "nowhere.npz"], "nowhere.npz"),
    (["--n-train", "0"], "n_train=0"),
    (["--seeds", "0"], "seeds=0"),
    (["--dataset", "digits:3v5", "--n-train", "200,400"], "n_train='200,400': dataset='digits:3v5' trains on the size"),
    (["--dataset", "digits:3v5", "--n-train", "100"], "n_train='100': dataset='digits:3v5' trains on the size its split gives (204 examples); omit --n-train"),
    (["--lr", "fast"], "lr='fast'"),
    (["--executor", "cloud"], "executor='cloud'"),
    (["--effect", "0.05"], "--effect given without --confirm"),
    (["--confirm", "--seeds", "1"], "--confirm with --seeds 1"),
    (["--confirm", "--power", "1"], "power=1"),
    (["--confirm", "--confirm-cells", "0"], "max_cells=0"),
    (["--confirm", "--seed-cap", "1"], "seed_cap=1"),
])
def test_bad_input_is_one_line_and_status_2_before_any_run(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compare", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1  # one line at any width
    assert not out.exists()  # nothing started


@pytest.mark.parametrize("argv, needles", [
    (["compare", "--seeds", "x"], ("'--seeds'", "see 'privqml compare --help'")),
    (["compare", "--no-such-option", "1"], ("--no-such-option", "see 'privqml compare --help'")),
    (["no-such-command"], ("'no-such-command'", "see 'privqml --help'")),
])
def test_usage_errors_are_one_line_naming_the_option_and_where_to_look(argv, needles, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and not captured.out
    assert all(n in err for n in needles)


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


@pytest.fixture
def no_runs(monkeypatch):
    """The sweep runner and the task function refuse to run: a test passes only if nothing started."""
    def refuse(*args, **kwargs):
        raise AssertionError("a training run started")

    monkeypatch.setattr(compare_module, "run_sweep", refuse)
    monkeypatch.setattr(compare_module, "run_task", refuse)


@pytest.mark.parametrize("args, start", [
    # an ε no noise multiplier inside the accountants' range reaches (the calibrated σ is below the PLD floor)
    (["--epsilons", "1000"], "error: dataset='quantum' (n_train=48), epsilon=1000: "),
    # δ >= 1/n: a mechanism that publishes one example outright meets it
    (["--delta", "0.5"], "error: dataset='quantum' (n_train=48), epsilon=2: "),
    # digits train on the 204 examples their split gives: δ = 0.006 >= 1/204 is refused
    (["--dataset", "digits:3v5", "--delta", "0.006"],
     "error: dataset='digits:3v5' (n_train=204), epsilon=2: "),
    (["--clips", "1e-46"], "error: clip=1e-46 "),
    (["--clips", "1e39"], "error: clip=1e+39 "),
    # a bound multiple whose value k·G* leaves the exact range: refused once the records pin G*, before any file
    (["--clips", "1e-46xbound"], "error: clip=1e-46xbound of model='hea' on dataset='quantum' is C = 1e-46·G* = "),
])
def test_budget_and_clip_outside_the_exact_range_are_refused_before_any_run(args, start, tmp_path, capsys, no_runs):
    out = tmp_path / "out"
    base = SMALL if "--dataset" not in args else [a for a in SMALL if a not in ("--n-train", "48")]
    assert main([*base, "--out", str(out), *args]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith(start) and len(err.splitlines()) == 1, err
    assert not captured.out and _files(tmp_path) == set()  # nothing created


def test_an_out_that_is_a_file_or_cannot_be_created_is_refused_before_any_run(tmp_path, capsys, no_runs):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    for out, start in ((taken, f"error: out='{taken}' is a file; "),
                       (taken / "sub" / "dir", f"error: out='{taken / 'sub' / 'dir'}' cannot be created: '{taken}' is a file")):
        assert main([*SMALL, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(start) and len(err.splitlines()) == 1, err
        assert _files(tmp_path) == {taken} and taken.read_text() == "keep me"


def _fake_sweep(tasks, fn, out_dir, executor=None, progress=None, raise_on_failure=True, privacy=None, **grouping):
    """Constructed simulated runs for every record (no training): accuracies by arm and replicate."""
    results = {}
    for task in tasks:
        gain = 0.02 * task.replicate + (0.05 if task["model"] == "hea" else 0.0)
        results[task] = {"test_accuracy": 0.7 + gain, "noise_multiplier": 1.0, "epsilon_pld": 1.9, "clip": 1.46,
                         "dataset": {"n_classes": 2, "n_train": 48}, "model": {"n_weights": 16}, "lr": 0.05,
                         "clip_fraction_mean": 0.25, "clip_bias_mean": 0.01, "noise_to_signal": 2.0, "simulation": True}
    return SweepSummary(results, (), tuple(tasks), 0.0)


def test_console_json_and_report_carry_the_simulation_label_and_mark_the_diagnostics(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(compare_module, "run_sweep", _fake_sweep)
    out = tmp_path / "out"
    assert main([*SMALL, "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps lines
    assert printed.startswith(f"{SIMULATION_LABEL} (paired arms share the seeded noise and batches)")
    report = (out / "report.md").read_text()
    assert "| fraction clipped [not covered by ε] | clip bias [not covered by ε] | noise/signal [not covered by ε] |" \
        in report
    assert "| 0.25 | 0.01 | 2 |" in report  # the marked columns hold the runs' diagnostics
    assert f"**{SIMULATION_LABEL}.**" in report
    assert main([*SMALL, "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["simulation"] == SIMULATION_LABEL and "not covered" in printed["not_covered"]
    assert json.loads((out / "results.json").read_text())["randomness"]["label"] == SIMULATION_LABEL


def _results(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (out / "runs" / "compare" / "train").glob("*.json")}


def test_killed_comparison_resumes_without_recomputing_finished_runs(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = [*SMALL, "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from privqml.cli import main; sys.exit(main(sys.argv[1:]))",
                             *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(_results(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-way: some runs stored, others not
    finally:
        proc.wait()
    finished = _results(out)
    assert 2 <= len(finished) < TOTAL, len(finished)
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    after = _results(out)
    assert len(after) == TOTAL
    assert {name: after[name] for name in finished} == finished  # finished runs were neither redone nor rewritten
    meta = json.loads((out / "results.json").read_text())["meta"]
    assert meta["tasks_skipped"] == len(finished) and meta["tasks_computed"] == TOTAL - len(finished)
    assert printed["verdict"] in ("supported", "not supported", "inconclusive")
    assert printed["simulation"] == SIMULATION_LABEL
    for name, text in after.items():  # every result file says what ε covers, beside the result
        privacy = json.loads(text)["privacy"]
        assert privacy["randomness"]["mode"] == "simulation", name
        if privacy["private"]:
            assert {"train_accuracy", "clip_fraction_max", "noise_to_signal"} <= set(privacy["not_covered_fields"])
            assert privacy["covered_fields"] == ["test_accuracy", "accuracy_per_epoch"]
    for name in ("report.md", "regime_map.png", "regime_causes.png"):
        assert (out / name).stat().st_size > 1000


def _noisy_sweep(tasks, fn, out_dir, executor=None, progress=None, raise_on_failure=True, privacy=None, **grouping):
    """Simulated runs with seed-to-seed spread (a plan needs an sd): quantum 0.1 ahead at ε = 8."""
    results = {}
    for task in tasks:
        rng = np.random.default_rng([task.replicate, int(task.key[:8], 16)])
        gain = 0.1 if task["model"] == "hea" and task["epsilon"] == 8.0 else 0.0
        results[task] = {"test_accuracy": 0.7 + gain + 0.02 * rng.standard_normal(), "noise_multiplier": 1.0,
                         "epsilon_pld": 1.9, "clip": 1.46, "dataset": {"n_classes": 2, "n_train": 48, "n_test": 24},
                         "model": {"n_weights": 16}, "lr": 0.05, "clip_fraction_mean": 0.25, "clip_bias_mean": 0.01,
                         "noise_to_signal": 2.0, "simulation": True}
    return SweepSummary(results, (), tuple(tasks), 0.0)


def test_confirm_runs_a_locked_plan_on_fresh_seeds_and_refuses_a_changed_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(compare_module, "run_sweep", _noisy_sweep)
    out = tmp_path / "out"
    argv = [*SMALL, "--seeds", "4", "--epsilons", "1,8", "--out", str(out), "--confirm", "--confirm-cells", "2",
            "--effect", "0.05"]
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["verdict"] == "supported"
    plan = json.loads((out / "confirmation" / "plan.json").read_text())
    started = json.loads((out / "confirmation" / "confirmation_started.json").read_text())
    results = json.loads((out / "results.json").read_text())
    numbers = results["claims"]["compare"]["numbers"]
    assert numbers["plan_sha256"] == started["plan_sha256"]
    assert numbers["seed_ranges"]["exploration"] == [0, 3]
    assert all(start >= 1_000_000 for start, _ in numbers["seed_ranges"]["confirmation"])
    assert len(plan["cells"]) == 2 and (out / "confirmation.png").stat().st_size > 1000
    assert "--confirm --confirm-cells 2 --effect 0.05" in results["meta"]["command"]
    # the same command again: same plan, nothing refused; another effect: a different plan, refused
    assert main(argv) == 0
    capsys.readouterr()
    assert main([*argv[:-1], "0.08"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: confirmation started under plan sha256=" + started["plan_sha256"])
    assert len(err.splitlines()) == 1


def test_a_confirmation_killed_mid_way_resumes_under_the_same_plan_without_touching_finished_runs(tmp_path, capsys):
    out = tmp_path / "cmp"
    # a feasible plan (4 exploration seeds, 120 test points): two cells, two groups of fresh runs (a group's
    # runs train together and are stored together), so a kill can land between them
    argv = [*SMALL, "--seeds", "4", "--n-test", "120", "--epsilons", "2,8", "--out", str(out), "--confirm",
            "--confirm-cells", "2", "--effect", "0.6", "--seed-cap", "8"]

    def confirmation_runs():
        return {n: t for n, t in _results(out).items() if "_r1000" in n}

    proc = subprocess.Popen([sys.executable, "-c", "import sys; from privqml.cli import main; sys.exit(main(sys.argv[1:]))",
                             *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(confirmation_runs()) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, f"the comparison ended (status {proc.returncode}) before the kill"
        os.killpg(proc.pid, signal.SIGKILL)  # inside the confirmation stage: the plan is locked, some runs stored
    finally:
        proc.wait()
    plan = (out / "confirmation" / "plan.json").read_text()
    started = (out / "confirmation" / "confirmation_started.json").read_text()
    finished = _results(out)
    at_kill = len(confirmation_runs())
    assert main([*argv, "--json"]) == 0
    capsys.readouterr()
    after = _results(out)
    assert {name: after[name] for name in finished} == finished  # finished runs neither redone nor rewritten
    assert (out / "confirmation" / "plan.json").read_text() == plan
    assert (out / "confirmation" / "confirmation_started.json").read_text() == started
    numbers = json.loads((out / "results.json").read_text())["claims"]["compare"]["numbers"]
    planned = sum(len(range(*c["seeds"])) for c in json.loads(plan)["cells"] if c["seeds"]) * 2
    assert len(json.loads(plan)["cells"]) == 2
    assert len([n for n in after if "_r1000" in n]) == planned
    assert 1 <= at_kill < planned  # the kill did land inside the confirmation stage
    assert numbers["plan_sha256"] == json.loads(started)["plan_sha256"]
