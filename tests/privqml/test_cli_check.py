"""``privqml check`` and ``privqml demo``: budgets, clips and --out refused in one line before any work."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from privqml.cli import demo as demo_module
from privqml.cli import main
from privqml.paper_checks import profiles
from privqml.paper_checks import run as run_module
from privqml.paper_checks.regimes import Block

DEMO = profiles.PROFILES["demo"]


def _refuse(*args, **kwargs):
    raise AssertionError("work started")


@pytest.fixture
def no_runs(monkeypatch):
    """The sweep runner, the task function and every demo stage refuse to run."""
    monkeypatch.setattr(run_module, "run_sweep", _refuse)
    monkeypatch.setattr(run_module, "run_task", _refuse)
    for stage in ("stage_bounds", "stage_verify", "stage_train", "stage_checks"):
        monkeypatch.setattr(demo_module, stage, _refuse)


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# profiles whose budgets cannot be met: δ >= 1/n, an unreachable ε, a bound multiple whose C leaves the exact range
BAD_PROFILES = [
    (dataclasses.replace(DEMO, delta=0.5), "error: dataset='quantum' (n_train=64), epsilon=2: "),  # C1's audit first
    (dataclasses.replace(DEMO, c3_blocks=(Block("quantum", "hea", ("mlp",), 200, (1000.0,), ("bound",)),)),
     "error: dataset='quantum' (n_train=200), epsilon=1000: "),
    # C2's digits train on the 300 examples their split gives, not on n_train = 100: 0.005 >= 1/300 is refused
    # (at n = 100 it would pass: 0.005 < 1/100)
    (dataclasses.replace(DEMO, delta=0.005, n_train=100),
     "error: dataset='digits:0,1,2' (n_train=300), epsilon=2: "),
]


@pytest.mark.parametrize("profile, start", BAD_PROFILES)
@pytest.mark.parametrize("command", ["check", "demo"])
def test_a_profile_budget_that_cannot_be_met_is_one_line_before_any_work(command, profile, start, monkeypatch,
                                                                         tmp_path, capsys, no_runs):
    monkeypatch.setitem(profiles.PROFILES, "demo", profile)
    out = tmp_path / "out"
    assert main([command, "--out", str(out)]) == 2
    assert _one_error_line(capsys).startswith(start)
    assert _files(tmp_path) == set()


def test_check_refuses_a_bound_multiple_outside_the_exact_range_once_g_star_is_pinned(monkeypatch, tmp_path, capsys,
                                                                                     no_runs):
    tiny = Block("quantum", "hea", ("mlp",), 200, (1.0,), ("1e-46xbound",))
    monkeypatch.setitem(profiles.PROFILES, "demo", dataclasses.replace(DEMO, c3_blocks=(tiny,)))
    assert main(["check", "c3", "--out", str(tmp_path / "out")]) == 2
    assert _one_error_line(capsys).startswith(
        "error: clip=1e-46xbound of model='hea' on dataset='quantum' is C = 1e-46·G* = ")
    assert _files(tmp_path) == set()


@pytest.mark.parametrize("command", ["check", "demo"])
def test_an_out_that_is_a_file_or_cannot_be_created_is_refused_before_any_work(command, tmp_path, capsys, no_runs):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    for out, start in ((taken, f"error: out='{taken}' is a file; "),
                       (taken / "sub", f"error: out='{taken / 'sub'}' cannot be created: '{taken}' is a file")):
        assert main([command, "--out", str(out)]) == 2
        assert _one_error_line(capsys).startswith(start)
        assert _files(tmp_path) == {taken} and taken.read_text() == "keep me"


def test_demo_refuses_a_stage_3_budget_that_cannot_be_met(monkeypatch, tmp_path, capsys, no_runs):
    monkeypatch.setitem(demo_module.TRAIN_SETTINGS, "delta", 0.01)  # 0.01 >= 1/400
    assert main(["demo", "--out", str(tmp_path / "out")]) == 2
    assert _one_error_line(capsys).startswith("error: dataset='quantum' (n_train=400), epsilon=1: ")
    assert _files(tmp_path) == set()


@pytest.mark.parametrize("argv, needle", [
    (["--qubits", "3"], "--qubits/--layers/--observable apply to --model"),
    (["--model", "mlp"], "--model mlp: the claims are about a quantum model"),
    (["--model", "hea", "--observable", "Z1"], "--observable Z1 applies to a user's ansatz"),
    (["--model", "examples/my_ansatz.py:my_ansatz", "--qubits", "3"], "my_ansatz.py:my_ansatz does not take n_qubits"),
    (["--model", "examples/nope.py:f"], "model file 'examples/nope.py' not found"),
])
def test_check_on_another_model_refuses_bad_model_options_before_any_work(argv, needle, tmp_path, capsys, no_runs,
                                                                          monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert main(["check", "c3", "--out", str(tmp_path / "out"), *argv]) == 2
    assert needle in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()
