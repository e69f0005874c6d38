"""The benchmark harness: summaries, per-repetition ratios, interleaving, the fit, the CLI (no TF)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmarks import harness, report, run
from benchmarks.bound_scaling import fit_power_law, summarise


def test_stat_median_min_max_odd_and_even():
    s = harness.Stat.of([3.0, 1.0, 2.0])
    assert (s.median, s.min, s.max, s.n) == (2.0, 1.0, 3.0, 3)
    s = harness.Stat.of([4.0, 1.0, 2.0, 10.0])
    assert (s.median, s.min, s.max) == (3.0, 1.0, 10.0)
    assert s.scaled(2.0).median == 6.0
    assert math.isnan(harness.Stat.of([]).median)


def test_interleaved_rotates_order_and_pairs_ratios_by_repetition():
    calls = []
    variants = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    timings = harness.interleaved(variants, repeats=3, warmup=0)
    # repetition r starts with the r-th variant: a b c | b c a | c a b
    assert calls == list("abcbcacab")
    assert all(t.wall.n == 3 and t.inner == 1 for t in timings.values())


def test_ratio_is_formed_per_repetition_not_from_medians():
    timings = {
        "x": harness.Timing(harness.Stat.of([1.0, 10.0, 2.0]), harness.Stat.of([1.0, 1.0, 1.0]), 1),
        "y": harness.Timing(harness.Stat.of([1.0, 10.0, 4.0]), harness.Stat.of([1.0, 1.0, 1.0]), 1),
    }
    r = harness.ratio(timings, "x", "y")
    assert sorted(r.values) == [0.5, 1.0, 1.0]
    assert r.median == 1.0  # the ratio of the medians would be 2/4 = 0.5


def test_inner_loop_calibration_reaches_min_seconds(monkeypatch):
    """A fake clock that advances 2 ms per call: inner = ceil(0.02 / 0.002) = 10, per-call time 2 ms
    (deterministic: the machine's load cannot change it)."""
    clock = {"t": 0.0}
    monkeypatch.setattr(harness.time, "perf_counter", lambda: clock["t"])
    monkeypatch.setattr(harness.time, "process_time", lambda: clock["t"])

    def call():
        clock["t"] += 0.002

    timing = harness.interleaved({"call": call}, repeats=2, warmup=1, min_seconds=0.02, gc_collect=False)["call"]
    assert timing.inner == 10
    assert timing.wall.median == pytest.approx(0.002)  # per call, not per measurement


def test_fit_power_law_recovers_exponent_and_interval():
    x = np.array([10, 30, 100, 300, 1000, 3000], dtype=float)
    y = 2e-4 * x**1.5 * np.exp(np.array([0.01, -0.02, 0.0, 0.02, -0.01, 0.0]))
    fit = fit_power_law(x, y)
    assert fit["exponent"] == pytest.approx(1.5, abs=0.02)
    assert fit["ci95"][0] < 1.5 < fit["ci95"][1]
    assert fit["prefactor_s"] == pytest.approx(2e-4, rel=0.1)
    assert fit["r2"] > 0.999


def _row(q, layers, gates, bound, adjoint):
    stat = lambda v: harness.Stat.of([v]).as_dict()  # noqa: E731
    return {
        "n_qubits": q, "n_layers": layers, "n_gates": gates,
        "timings": {"bound": {"cpu_s": stat(bound), "wall_s": stat(bound)},
                    "adjoint": {"cpu_s": stat(adjoint), "wall_s": stat(adjoint)},
                    "adjoint_op": {"cpu_s": stat(adjoint), "wall_s": stat(adjoint)}},
        "ratios": {f"bound/{ref}_{c}": stat(bound / adjoint) for ref in ("adjoint", "adjoint_op") for c in ("cpu", "wall")},
    }


def test_summarise_judges_the_three_targets():
    rows = [_row(4, 2, 26, 0.01, 0.05), _row(12, 10, 362, 0.1, 0.05), _row(20, 100, 5920, 2.0, 30.0)]
    out = {t["target"]: t for t in summarise(rows)["targets"]}
    assert out["bound linear in gates"]["met"] is True  # k ≈ 1.0 over all points and at 20 qubits
    assert out["20x100 hea bound on one core"]["met"] is True
    missed = out["bound cheaper than one adjoint gradient via expectation(), n >= 12"]
    assert missed["met"] is False and "12x10" in missed["measured"]


def test_cli_defaults_exclude_the_long_check_and_validate_names():
    assert "check" not in run.parse_args([]).selected
    assert run.parse_args(["--only", "check"]).selected == ["check"]
    assert run.parse_args(["--quick"]).repeats == 2
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "nonsense"])


def test_report_renders_targets_command_and_machine(tmp_path):
    machine = harness.machine_info()
    payload = {"schema": run.SCHEMA, "sections": {"check": {
        "title": "t", "status": "unavailable", "reason": "not yet", "command": "python -m benchmarks.run --only check",
        "machine": machine, "targets": [harness.target("quick profile", "< 15 min", "not measured", None)],
    }}}
    text = report.render(payload, {n: (lambda s: "") for n in run.ORDER}, run.ORDER)
    assert "| check | quick profile | < 15 min | not measured | not measured |  |" in text
    assert "`python -m benchmarks.run --only check` → check" in text
    assert machine["cpu_model"] in text
    harness.atomic_write_json(tmp_path / "x.json", payload)
    assert json.loads((tmp_path / "x.json").read_text())["sections"]["check"]["reason"] == "not yet"


def test_summarise_finds_superlinear_growth_along_the_widest_row():
    gates = [138, 1495, 5920]
    rows = [_row(20, layers, g, 1e-4 * g**1.3, 100.0) for layers, g in zip((2, 25, 100), gates)]
    rows += [_row(4, 2, 26, 1e-4 * 26**1.0, 1.0)]
    target = {t["target"]: t for t in summarise(rows)["targets"]}["bound linear in gates"]
    assert target["met"] is False
    assert "20 qubits, layers varied: k = 1.30" in target["measured"]
