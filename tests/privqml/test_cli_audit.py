"""``privqml audit``: JSON keys, verdicts, refusal of a non-public clip; ``--run``: refusal of other data,
record faults."""

from __future__ import annotations

import json
import re

import numpy as np

from privqml.cli import main
from privqml.models.training.trainer import TrainConfig, train

BASE = ["audit", "--model", "mlp:match=hea,n_qubits=2,n_layers=1", "--dataset", "circle", "--clip", "0.2",
        "--trials", "4000", "--json"]


def _run(capsys, *extra):
    status = main(BASE + list(extra))
    out = capsys.readouterr()
    return status, out


def test_audit_json_consistent(capsys):
    status, out = _run(capsys)
    assert status == 0
    report = json.loads(out.out)
    for key in ("epsilon_accounted", "epsilon_lower_bound", "noise_std_estimate", "canary_shift_estimate", "verdict"):
        assert key in report
    assert report["verdict"] == "consistent"
    assert report["epsilon_lower_bound"] < report["epsilon_accounted"]
    assert report["setting"]["clip_norm"] == 0.2
    sigma_c = report["setting"]["noise_multiplier"] * 0.2
    assert report["noise_std_estimate"]["lower"] <= sigma_c <= report["noise_std_estimate"]["upper"]


def test_audit_json_flags_injected_bug(capsys):
    status, out = _run(capsys, "--inject", "noise-omitted")
    report = json.loads(out.out)
    assert status == 0 and report["verdict"] == "violation"
    assert "noise-scale" in report["failed_checks"]


def test_audit_refuses_a_data_derived_clip(capsys):
    status = main(["audit", "--clip", "median"])
    err = capsys.readouterr().err
    assert status == 2 and "clip='median'" in err and "refused" in err


def _npz(path, rng, changed_row=False):
    """data.npz: 6 raw features in [0, 1] with public rows; ``changed_row`` alters x_train[0]."""
    x = rng.uniform(0, 1, size=(96, 6))
    y = (x[:, 0] + x[:, 1] > 1).astype(int)
    if changed_row:
        x[0] = 1.0 - x[0]
    np.savez(path, x_train=x[:64], y_train=y[:64], x_test=x[64:80], y_test=y[64:80], x_public=x[80:], y_public=y[80:])


def test_audit_run_refuses_other_data_under_the_same_name(tmp_path, monkeypatch, capsys):
    """A run trained on ./data.npz, audited where ./data.npz is another file (one row changed) or is
    missing: exit 2 and one line, before any audit work; in the run's own folder the data passes."""
    for folder in ("a", "b", "c"):
        (tmp_path / folder).mkdir()
    _npz(tmp_path / "a" / "data.npz", np.random.default_rng(0))
    _npz(tmp_path / "b" / "data.npz", np.random.default_rng(0), changed_row=True)
    monkeypatch.chdir(tmp_path / "a")
    run_dir = tmp_path / "a" / "run"
    train(TrainConfig(model="hea:n_qubits=2,n_layers=1", dataset="data.npz", batch_size=8, epochs=1, epsilon=4.0,
                      delta=1e-3, seed=2, preprocessing="public-split"), out_dir=run_dir)
    recorded = json.loads((run_dir / "run.json").read_text())["not_covered"]["data_fingerprint"]
    audit = ["audit", "--run", str(run_dir), "--trials", "200", "--json"]

    monkeypatch.chdir(tmp_path / "b")
    assert main(audit) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: dataset='data.npz' as loaded here has fingerprint ")
    assert f"recorded {recorded[:12]}" in err and "with the same file" in err
    other = err.split("has fingerprint ")[1][:12]
    assert other != recorded[:12] and len(other) == 12

    monkeypatch.chdir(tmp_path / "c")
    assert main(audit) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "dataset='data.npz' recorded by the run is not found from the current directory" in err

    monkeypatch.chdir(tmp_path / "a")  # the record fault shows the same refusal, as a verdict
    assert main([*audit, "--inject", "wrong-data"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "violation" and report["verdicts"] == {"data": "violation"}
    [check] = report["sub_audits"]["data"]["checks"]
    assert check["name"] == "data-fingerprint" and not check["passed"]
    assert f"recorded {recorded[:12]}" in check["detail"]


def test_audit_run_flags_a_record_with_shrunk_noise(tmp_path, capsys):
    run_dir = tmp_path / "run"
    train(TrainConfig(model="hea:n_qubits=2,n_layers=1", n_train=64, n_test=16, batch_size=8, epochs=1, epsilon=4.0,
                      delta=1e-3, seed=1, simulation_seed=1), out_dir=run_dir)
    assert main(["audit", "--run", str(run_dir), "--trials", "200", "--inject", "noise-shrunk-in-record"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert re.search(r"sub-audit record\W+violation\W+noise p=\d", out) and "failed: noise-present" in out
    assert re.search(r"sub-audit one_run\W+consistent", out) and re.search(r"verdict\W+violation", out)
    assert "noise-present: at least chi2 if noise sigma*C" in out
    assert "the recorded noise is smaller than accounted" in out
