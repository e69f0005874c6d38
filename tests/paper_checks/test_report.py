"""The report: report.md and results.json present, non-empty, strict JSON, verdicts inside; PNGs."""

from __future__ import annotations

import json
import math

import matplotlib.image as mpimg
import pytest

from privqml.paper_checks import plots
from privqml.paper_checks.report import ClaimReport, Table, strict_json, write_report
from privqml.paper_checks.stats import Verdict, check_verdict


def _png_ok(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    image = mpimg.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 300
    assert image[..., :3].std() > 0.01  # not a blank canvas


def test_plots_write_pngs(tmp_path):
    inf = float("inf")
    _png_ok(plots.plot_accuracy_vs_epsilon(tmp_path / "acc.png", {
        "synthetic, C=bound": {"quantum:hea": [(1.0, 0.7, 0.65, 0.75), (8.0, 0.8, 0.75, 0.85), (inf, 0.9, 0.88, 0.92)],
                               "classical:mlp": [(1.0, 0.6, 0.5, 0.7), (8.0, 0.7, 0.6, 0.8), (inf, 0.92, 0.9, 0.94)]},
        "digits, C=1": {"quantum:hea": [(1.0, 0.7, math.nan, math.nan), (inf, 0.9, math.nan, math.nan)]},
    }))
    _png_ok(plots.plot_norms_vs_bound(tmp_path / "norms.png", [("hea/binary", 0.8, 1.2, True), ("mlp/binary", 3.0, 1.2, False)]))
    _png_ok(plots.plot_bias(tmp_path / "bias.png", [("hea", 0.5, 0.1, 0.6), ("hea", 1.0, 0.0, 0.0),
                                                   ("classical:mlp", 0.5, 0.4, None), ("classical:mlp", 1.0, 0.3, None)]))
    _png_ok(plots.plot_audit(tmp_path / "audit.png", [("dpsgd", 0.4, 2.0, 2.0), ("shots", 3.1, inf, 2.0)]))


def test_strict_json_replaces_non_finite_numbers():
    assert strict_json({"e": (math.inf, -math.inf, math.nan, 1.5)}) == {"e": ["inf", "-inf", "nan", 1.5]}


def test_report_files_present_non_empty_with_verdicts(tmp_path):
    plots.plot_audit(tmp_path / "c1_audit.png", [("dpsgd", 0.4, 2.0, 2.0), ("shots", 3.1, math.inf, 2.0)])
    claims = [
        ClaimReport("C1", "quantum noise is no DP mechanism", "shot noise gives no (ε, δ)",
                    Verdict("C1", "supported", "rule one", ("shots: ε_lb = 3.1 > 2",)),
                    {"epsilon_lower_bound": {"shots": 3.1}, "epsilon_accounted": {"shots": math.inf}},
                    (Table("audit", ("mechanism", "ε_lb", "ε"), (("shots", 3.1, math.inf), ("dpsgd", 0.4, 2.0))),),
                    (("c1_audit.png", "audit results"),)),
        ClaimReport("C2", "bounds control clipping bias", "bias 0 when C >= G*",
                    check_verdict("C2", {"max norm <= bound": True, "no clipping at C >= G*": False}), {"runs": 4}),
        ClaimReport("C3", "accuracy retention", "quantum keeps more accuracy",
                    Verdict("C3", "inconclusive", "rule three", ("1 quantum higher (of 4 cells)",), indicative=True),
                    {"cells": []}, notes=("one seed",)),
    ]
    report_md, results_json = write_report(tmp_path, claims, {"profile": "demo", "command": "privqml check all"})
    text = report_md.read_text()
    assert report_md.stat().st_size > 500 and results_json.stat().st_size > 500
    assert "**Verdict: supported**" in text and "**Verdict: not supported**" in text
    assert "**Verdict: inconclusive (indicative)**" in text
    assert "![audit results](c1_audit.png)" in text and "| shots | 3.1 | ∞ |" in text
    assert "failed: no clipping at C >= G*" in text
    payload = json.loads(results_json.read_text(), parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert payload["verdicts"] == {"C1": "supported", "C2": "not supported", "C3": "inconclusive"}
    assert payload["labels"]["C3"] == "inconclusive (indicative)" and payload["indicative"] is True
    assert payload["claims"]["C1"]["numbers"]["epsilon_accounted"]["shots"] == "inf"
    assert payload["meta"]["versions"]["numpy"].startswith("1.26")
    assert not list(tmp_path.glob(".*.tmp"))
