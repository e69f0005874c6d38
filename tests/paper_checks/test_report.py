"""The report: report.md and results.json written, strict JSON in privqml's convention, verdicts inside."""

from __future__ import annotations

import json
import math
from importlib import metadata

import pytest

from privqml.paper_checks.report import ClaimReport, Figure, Table, write_report
from privqml.paper_checks.stats import Verdict, check_verdict, paired_test


def _claims():
    constant = paired_test([0.9, 0.8], [0.8, 0.7])  # every difference 0.1: t = +inf, p = 0
    return [
        ClaimReport("C1", "quantum noise is no DP mechanism", "shot noise gives no (ε, δ)",
                    Verdict("C1", "supported", "rule one", ("shots: ε_lb = 3.1 > 2",)),
                    {"epsilon_lower_bound": {"shots": 3.1}, "epsilon_accounted": {"shots": math.inf},
                     "nothing": math.nan, "paired": constant.to_json()},
                    (Table("audit", ("mechanism", "ε_lb", "ε"), (("shots", 3.1, math.inf), ("dpsgd", 0.4, 2.0))),),
                    (Figure("c1_audit.png", "audit results"),)),
        ClaimReport("C2", "bounds control clipping bias", "bias 0 when C >= G*",
                    check_verdict("C2", {"max norm <= bound": True, "no clipping at C >= G*": False}), {"runs": 4}),
        ClaimReport("C3", "accuracy retention", "quantum keeps more accuracy",
                    Verdict("C3", "inconclusive", "rule three", ("1 quantum higher (of 4 cells)",), indicative=True),
                    {"cells": []}, notes=("one seed",)),
    ]


def test_report_files_present_with_verdicts_tables_and_figures(tmp_path):
    report_md, results_json = write_report(tmp_path, _claims(), {"profile": "demo", "command": "privqml check all"})
    text = report_md.read_text()
    assert "**Verdict: supported**" in text and "**Verdict: not supported**" in text
    assert "**Verdict: inconclusive (indicative)**" in text
    assert "![audit results](c1_audit.png)" in text and "| shots | 3.1 | ∞ |" in text
    assert "failed: no clipping at C >= G*" in text
    assert "Command: `privqml check all`" in text and "Profile: **demo** — verdicts are *indicative*" in text
    payload = json.loads(results_json.read_text())
    assert payload["verdicts"] == {"C1": "supported", "C2": "not supported", "C3": "inconclusive"}
    assert payload["labels"]["C3"] == "inconclusive (indicative)" and payload["indicative"] is True
    written, record = payload["claims"]["C1"], _claims()[0].to_json()
    for key in ("title", "statement", "headline", "verdict", "plots", "notes"):
        assert written[key] == record[key], key
    assert written["plots"] == ["c1_audit.png"] and written["numbers"]["epsilon_lower_bound"] == {"shots": 3.1}
    assert payload["meta"]["versions"]["numpy"] == metadata.version("numpy")
    assert not list(tmp_path.glob(".*.tmp"))


def test_results_json_is_strict_with_non_finite_numbers_as_strings(tmp_path):
    _, results_json = write_report(tmp_path, _claims(), {"profile": "demo"})
    text = results_json.read_text()
    payload = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    numbers = payload["claims"]["C1"]["numbers"]
    assert numbers["epsilon_accounted"]["shots"] == "inf" and numbers["nothing"] == "nan"
    assert numbers["paired"]["t_statistic"] == "inf" and numbers["paired"]["t_pvalue"] == 0.0
    # undefined statistics (no interval at n = 1, no test) are null, not "nan"
    one = paired_test([0.9], [0.8]).to_json()
    assert one["difference"]["low"] is None and one["t_pvalue"] is None
    assert payload["claims"]["C1"]["tables"][0]["rows"][0] == ["shots", 3.1, "inf"]
    assert text.startswith('{\n "claims"')  # indent 1, keys sorted
