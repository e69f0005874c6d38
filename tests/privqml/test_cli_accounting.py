"""``privqml epsilon`` / ``privqml sigma``: accounting without training gives what a training run records."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from privqml.cli import main

SETTINGS = ["--n-train", "24", "--batch-size", "6", "--epochs", "2"]


def _json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_sigma_and_epsilon_are_what_the_trainer_records(capsys):
    planned = _json(capsys, "sigma", "--epsilon", "3", *SETTINGS, "--delta", "1e-3")
    run = _json(capsys, "train", "--model", "mlp", "--dataset", "quantum", *SETTINGS, "--n-test", "8",
                "--epsilon", "3", "--delta", "1e-3", "--simulation-seed", "1")["guarantee"]
    assert planned["noise_multiplier"] == pytest.approx(run["noise_multiplier"], rel=2.0**-22)
    for key in ("epsilon_rdp", "epsilon_pld"):
        assert planned[key] == pytest.approx(run[key], rel=1e-5)
    assert (planned["sampling_probability"], planned["steps"]) == (run["sampling_probability"], run["steps"])
    assert planned["epsilon_rdp"] <= 3.0 and planned["calibrated_with"] == "rdp"
    # and back: ε at that σ is the ε the calibration aimed for
    back = _json(capsys, "epsilon", "--noise-multiplier", repr(planned["noise_multiplier"]), *SETTINGS,
                 "--delta", "1e-3")
    assert back["epsilon_rdp"] == pytest.approx(planned["epsilon_rdp"], rel=1e-9)
    assert back["calibrated_with"] is None


def test_a_known_case_and_the_accountants_order(capsys):
    """σ = 1.1, n = 60000, L = 256, 60 epochs, δ = 1e-5 (Abadi et al.'s MNIST setting): ε ≈ 2.6 by RDP;
    PLD is tighter than RDP."""
    report = _json(capsys, "epsilon", "--noise-multiplier", "1.1", "--n-train", "60000", "--batch-size", "256",
                   "--epochs", "60")
    assert report["steps"] == 60 * 234 and report["epsilon_rdp"] == pytest.approx(2.594, abs=0.01)
    assert report["epsilon_pld"] < report["epsilon_rdp"]


@pytest.mark.parametrize("argv, needle", [
    (["epsilon", "--noise-multiplier", "1", "--n-train", "100", "--batch-size", "256"], "batch_size=256 exceeds"),
    (["epsilon", "--noise-multiplier", "1", "--n-train", "100", "--delta", "0.1"], "delta=0.1 >= 1/n_train"),
    (["sigma", "--epsilon", "-2", "--n-train", "100", "--delta", "1e-4"], "epsilon=-2"),
    (["sigma", "--epsilon", "1", "--n-train", "100", "--delta", "1e-4", "--accountant", "gdp"], "accountant='gdp'"),
])
def test_bad_settings_are_one_line_and_load_no_tensorflow(argv, needle):
    code = ("import sys; from privqml.cli import main; status = main(sys.argv[1:]); "
            "print(status, 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-2:] == ["2", "False"]
    assert needle in done.stderr and len(done.stderr.strip().splitlines()) == 1
