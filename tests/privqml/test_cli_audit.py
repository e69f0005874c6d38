"""``privqml audit``: JSON keys, verdicts, refusal of a non-public clip."""

from __future__ import annotations

import json

from privqml.cli import main

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
