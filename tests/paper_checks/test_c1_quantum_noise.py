"""C1: the task list and the verdict rule on constructed audit results (no TensorFlow)."""

from __future__ import annotations

import copy
import math

import pytest

from privqml.paper_checks import c1_quantum_noise as c1
from privqml.paper_checks.profiles import PROFILES
from privqml.paper_checks.stats import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED

PROFILE = PROFILES["quick"]


def _audit(mechanism, eps_acc, eps_lb, verdict):
    est = {"value": 0.5, "lower": 0.4, "upper": 0.6}
    return {"mechanism": mechanism, "verdict": verdict, "epsilon_accounted": eps_acc, "epsilon_lower_bound": eps_lb,
            "trials": 500, "clip_norm": 0.73 if eps_acc else None, "noise_multiplier": 1.4 if eps_acc else 0.0,
            "accountant": "pld", "canary_shift_estimate": est, "noise_std_estimate": est,
            "failed_checks": [] if verdict != "violation" else ["epsilon"], "setting": {"model": "hea"}}


def _results(profile=PROFILE):
    out = {}
    for task in c1.tasks(profile):
        if task.kind == "audit":
            m = task["mechanism"]
            out[task] = _audit(m, 2.98, 0.3, "consistent") if m == "dpsgd" else _audit(m, None, 3.9, "no-guarantee")
        elif task.kind == "shot_counterexample":
            out[task] = {"finite_epsilon_possible": False, "max_log_likelihood_ratio": math.inf, "delta_infinite": 0.4,
                         "witness_value": 1.2, "witness_p_without": 0.0, "witness_p_with": 0.2}
        else:
            out[task] = {"distance": 0.018, "delta_infinite": 1.0}
    return out


def test_tasks_share_the_audit_setting_across_mechanisms():
    tasks = c1.tasks(PROFILE)
    audits = [t for t in tasks if t.kind == "audit"]
    assert [t["mechanism"] for t in audits] == ["dpsgd", "shots", "depolarizing"]
    # Same model, data, batch, canary seed: the records differ only in mechanism and trials.
    assert len({t.int_seed("dataset") for t in audits}) == 1
    assert {t["trials"] for t in audits} == {PROFILE.c1_trials, PROFILE.c1_trials_depolarizing}
    assert sorted(t["shots"] for t in tasks if t.kind == "shot_counterexample") == list(PROFILE.c1_counterexample_shots)


def test_supported_when_counterexamples_hold_and_dpsgd_audit_is_consistent(tmp_path):
    analysis = c1.analyse(PROFILE, _results())
    assert analysis.verdict.verdict == SUPPORTED and not analysis.verdict.indicative
    assert any("empirical ε lower bound 3.9 (above DP-SGD's accounted ε)" in r for r in analysis.verdict.reasons)
    assert analysis.audits["shots"].epsilon_accounted == math.inf and analysis.dpsgd.epsilon_accounted == 2.98
    assert [c.shots for c in analysis.counterexamples] == sorted(PROFILE.c1_counterexample_shots)
    assert not list(tmp_path.iterdir())  # the analysis writes nothing
    report = c1.render(analysis, tmp_path)
    assert report.verdict == analysis.verdict and report.numbers == analysis.to_json()


def test_audit_plot_carries_the_audit_table(tmp_path):
    report = c1.summarise(PROFILE, _results(), tmp_path)
    (figure,) = report.plots
    assert (tmp_path / figure.name).is_file()
    rows = report.tables[0].rows
    assert [row[0] for row in rows] == ["dpsgd", "shots", "depolarizing"]
    assert [y for _, y in figure.series["empirical ε lower bound"]] == [row[5] for row in rows] == [0.3, 3.9, 3.9]
    top = 3.9 * 1.5 + 0.1  # no accounted ε (∞) is drawn at the top of the axis
    assert [y for _, y in figure.series["accounted ε"]] == pytest.approx([2.98, top, top])
    assert [row[4] for row in rows] == [2.98, math.inf, math.inf]
    assert [y for _, y in figure.series["reference ε"]] == [2.98] * 3  # DP-SGD's accounted ε beside each


def _mutate(fn):
    results = copy.deepcopy(_results())
    for task, result in results.items():
        fn(task, result)
    return results


@pytest.mark.parametrize("mutation, expected", [
    (lambda t, r: r.update(finite_epsilon_possible=True, max_log_likelihood_ratio=3.0)
     if t.kind == "shot_counterexample" and t["shots"] == 100 else None, NOT_SUPPORTED),
    (lambda t, r: r.update(distance=0.0, delta_infinite=0.0) if t.kind == "depolarizing_step" else None, NOT_SUPPORTED),
    (lambda t, r: r.update(verdict="violation") if t.kind == "audit" and t["mechanism"] == "dpsgd" else None,
     INCONCLUSIVE),
    (lambda t, r: r.update(verdict="consistent", epsilon_accounted=5.0)
     if t.kind == "audit" and t["mechanism"] == "shots" else None, INCONCLUSIVE),
])
def test_verdict_rule_branches(mutation, expected, tmp_path):
    assert c1.summarise(PROFILE, _mutate(mutation), tmp_path).verdict.verdict == expected


def test_missing_audit_is_inconclusive(tmp_path):
    results = {t: r for t, r in _results().items() if not (t.kind == "audit" and t["mechanism"] == "depolarizing")}
    report = c1.summarise(PROFILE, results, tmp_path)
    assert report.verdict.verdict == INCONCLUSIVE and "missing results (1 of" in report.verdict.reasons[0]


def test_on_a_device_model_the_noise_only_evidence_is_the_exact_device_step():
    """--device: C1's audited model is the device model; its noise-only evidence is one exact step under the
    calibrated channels (no TFQ-sampled shot or depolarising audit of a circuit TFQ cannot simulate)."""
    profile = PROFILE.with_model("hea:device=rainbow")
    tasks = c1.tasks(profile)
    assert c1.device_of(profile) == "rainbow" and c1.device_of(PROFILE) is None
    assert [t["mechanism"] for t in tasks if t.kind == "audit"] == ["dpsgd"]
    assert [t["device"] for t in tasks if t.kind == "device_step"] == ["rainbow"]
    assert not any(t.kind == "depolarizing_step" for t in tasks)
    results = _results(profile)
    for task in results:
        if task.kind == "device_step":
            results[task] = {"distance": 0.021, "delta_infinite": 1.0, "noise": "rainbow calibrated noise"}
    analysis = c1.analyse(profile, results)
    assert analysis.verdict.verdict == SUPPORTED
    assert any("rainbow calibrated noise" in reason for reason in analysis.verdict.reasons)
    broken = {t: ({**r, "distance": 0.0, "delta_infinite": 0.0} if t.kind == "device_step" else r)
              for t, r in results.items()}
    assert c1.analyse(profile, broken).verdict.verdict == NOT_SUPPORTED
