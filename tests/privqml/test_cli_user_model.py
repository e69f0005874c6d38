"""A user's ansatz (``--model path.py:function``) through train, compare and audit: the same run record and
guarantee as a built-in, ``--qubits/--layers/--observable`` passed or refused, errors in the file framed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from privqml.cli import main
from privqml.models.specs import source_sha256
from privqml.paper_checks import compare as compare_module

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "my_ansatz.py"
TINY = ["--dataset", "circle", "--n-train", "24", "--n-test", "8", "--batch-size", "6", "--epochs", "1",
        "--simulation-seed", "3"]


@pytest.fixture()
def user_file(tmp_path):
    path = tmp_path / "my_ansatz.py"
    shutil.copy(EXAMPLE, path)
    path.write_text(path.read_text() + "\n\ndef broken(n_layers=2):\n    return _helper(n_layers)\n\n\n"
                    "def _helper(n):\n    raise ValueError(f'no circuit for n={n}')\n")
    return path


def _train_json(capsys, *argv):
    assert main(["train", *TINY, *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_user_ansatz_trains_with_the_same_record_and_guarantee_as_a_built_in(user_file, tmp_path, capsys):
    spec = f"{user_file}:my_ansatz"
    user = _train_json(capsys, "--model", spec, "--layers", "1", "--out", str(tmp_path / "user"))
    builtin = _train_json(capsys, "--model", "hea", "--out", str(tmp_path / "hea"))
    assert set(user) == set(builtin) and set(user["guarantee"]) == set(builtin["guarantee"])
    assert user["guarantee"]["private"] and user["guarantee"]["accountants"] == builtin["guarantee"]["accountants"]
    digest = source_sha256(spec)
    assert user["config"]["model"] == f"{spec}:n_layers=1,sha256={digest}"
    assert user["model"]["source"] == {"function": spec, "sha256": digest}
    assert user["model"]["name"] == "my_ansatz(n_layers=1)" and user["model"]["n_weights"] == 7
    covered = user["covered"]
    assert covered["clip_source"].startswith("bound") and covered["clip"] == pytest.approx(covered["grad_norm_bound"])
    record = json.loads((tmp_path / "user" / "run.json").read_text())
    assert record["config"]["model"] == user["config"]["model"]


@pytest.mark.parametrize("argv, message", [
    (["--qubits", "5"], r"my_ansatz.py:my_ansatz does not take n_qubits \(its parameters: \['n_layers', "
                        r"'observable', 'n_classes'\]\); omit --qubits or add the parameter to the function"),
    (["--observable", "Z9"], "observable"),
    (["--layers", "2", "--model", "{file}:my_ansatz:n_layers=1"], "sets n_layers=1 and the command line 2"),
])
def test_options_the_function_cannot_take_are_refused_in_one_line(user_file, capsys, argv, message):
    argv = [a.replace("{file}", str(user_file)) for a in argv]
    model = [] if "--model" in argv else ["--model", f"{user_file}:my_ansatz"]
    assert main(["train", *TINY, *model, *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert __import__("re").search(message, err), err


def test_an_error_inside_the_users_file_is_one_framed_line_and_the_traceback_only_with_debug(user_file, capsys):
    argv = ["train", *TINY, "--model", f"{user_file}:broken"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error while building my_ansatz.py:broken: ValueError: no circuit for n=2 "
                   "(run with --debug for the traceback)")
    assert main([*argv, "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "in _helper" in err and f'File "{user_file}"' in err


def test_a_refused_user_model_costs_no_tensorflow_import(user_file):
    code = ("import sys; from privqml.cli import main; "
            f"status = main(['train', '--model', {str(user_file) + ':my_ansatz'!r}, '--qubits', '5']); "
            "print(status, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-2:] == ["2", "False"]


def _fake_sweep(tasks, fn, out_dir, executor=None, progress=None, raise_on_failure=True, privacy=None, **grouping):
    from privqml.paper_checks.sweep import SweepSummary

    results = {task: {"test_accuracy": 0.7, "noise_multiplier": 1.0, "epsilon_pld": 1.9, "clip": 1.45,
                      "dataset": {"n_classes": 2, "n_train": 24, "n_test": 8}, "model": {"n_weights": 7},
                      "lr": 0.05, "simulation": True} for task in tasks}
    return SweepSummary(results, (), tuple(tasks), 0.0)


def test_compare_takes_a_user_ansatz_and_matches_the_classical_arms_to_it(user_file, tmp_path, capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(compare_module, "run_sweep",
                        lambda tasks, *a, **k: (seen.extend(tasks), _fake_sweep(tasks, *a, **k))[1])
    out = tmp_path / "cmp"
    argv = ["compare", "--quantum", f"{user_file}:my_ansatz", "--layers", "1", "--classical", "mlp",
            "--dataset", "circle", "--n-train", "48", "--epsilons", "2", "--seeds", "2", "--epochs", "1",
            "--lr", "0.05", "--out", str(out), "--executor", "serial"]
    assert main(argv) == 0
    capsys.readouterr()
    digest = source_sha256(f"{user_file}:my_ansatz")
    models = {task["model"] for task in seen}
    assert f"{user_file}:my_ansatz:n_layers=1,sha256={digest}" in models
    assert any(m.startswith("mlp:match=") and m.endswith(f"n_layers=1,sha256={digest}") for m in models)
    assert main([*argv[:3], "--qubits", "3", *argv[5:]]) == 2
    assert "does not take n_qubits" in capsys.readouterr().err


def test_audit_takes_a_user_ansatz(user_file, capsys):
    argv = ["audit", "--model", f"{user_file}:my_ansatz", "--layers", "1", "--dataset", "circle", "--trials", "400",
            "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["setting"]["model"] == "my_ansatz(n_layers=1)"
    assert report["verdict"] in ("consistent", "inconclusive")
    steps = report["setting"]["steps"]
    assert f"the whole run's target epsilon is 1 (δ = 1e-05, over its T = {steps} subsampled steps)" in \
        report["epsilon_accounted_note"]  # the value, not the literal attribute name it once printed
