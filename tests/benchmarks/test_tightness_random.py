"""The random-circuit tightness benchmark: a seeded generator aimed at each refinement, sound ratios, and kept
results whose plot draws the summary's numbers."""

from __future__ import annotations

import json
import math

import cirq
import pytest

import benchmarks.tightness_random as tr
from privqml import jsonio


def test_the_generator_is_seeded_and_each_category_has_its_feature():
    for category in tr.CATEGORIES:
        first, again = tr.circuit(category, 3), tr.circuit(category, 3)
        assert first == again and first != tr.circuit(category, 4)
    assert all(tr.circuit("multiclass", s).n_outputs >= 2 for s in range(5))
    assert all(len(list(tr.circuit("terms", s).observables[0])) >= 2 for s in range(5))
    channels = [op for s in range(5) for op in tr.circuit("noisy", s).circuit.all_operations()
                if not cirq.is_parameterized(op) and not cirq.has_unitary(op)]
    assert len(channels) >= 5
    shared = [tr.circuit("shared", s) for s in range(5)]
    assert any(sum(1 for op in a.circuit.all_operations() if cirq.is_parameterized(op)) > a.n_weights + a.n_inputs
               for a in shared)  # some weight drives several gates


def test_ratio_of_zero_gradients_is_one_and_a_zero_bound_of_a_moving_circuit_is_infinite():
    assert tr.ratio(0.0, 0.0) == 1.0 and tr.ratio(1e-17, 1e-16) == 1.0
    assert tr.ratio(1.0, 0.0) == math.inf and tr.ratio(3.0, 2.0) == 1.5


def test_a_small_run_is_sound_and_its_plot_draws_the_summary(tmp_path, monkeypatch):
    monkeypatch.setattr(tr, "RESULTS", tmp_path)
    result = tr.measure(1, 3, held_out=False)
    assert len(result["rows"]) == len(tr.CATEGORIES)
    for row in result["rows"]:
        assert row["bound"] >= row["true_max"] * tr.SOUND_TOLERANCE - tr.ZERO
        assert row["loss_bound"] >= row["loss_true_max"] * tr.SOUND_TOLERANCE - tr.ZERO
    plotted = tr.plot(result, tmp_path / "plot.png")
    summary = result["summary"]["benchmark"]["by_category"]
    assert plotted["circuit_geomean"] == [summary[c]["geomean"] for c in tr.CATEGORIES]
    assert (tmp_path / "plot.png").stat().st_size > 0
    cached = json.loads((tmp_path / "tightness_random_truemax.json").read_text())
    assert len(cached) == len(tr.CATEGORIES)  # a rerun takes the true maxima from here


def test_the_kept_results_are_sound_and_plot_their_summary():
    result = jsonio.loads((tr.RESULTS / "tightness_random.json").read_text())
    rows = [r for r in result["rows"] if not r["held_out"]]
    summary = result["summary"]["benchmark"]
    assert result["plotted"]["circuit_geomean"] == pytest.approx([summary["by_category"][c]["geomean"]
                                                                   for c in tr.CATEGORIES])
    assert result["plotted"]["loss_geomean"] == pytest.approx(
        [tr.geomean(r["loss_ratio"] for r in rows if r["category"] == c) for c in tr.CATEGORIES])
    for part in result["summary"].values():
        assert part["noiseless"]["n_below_1"] == part["noisy"]["n_below_1"] == 0
        assert part["through_the_loss"]["n_below_1"] == 0
    assert "python -m benchmarks.tightness_random" in result["command"]
    assert f"`{result['command']}`" in (tr.RESULTS / "tightness_random.md").read_text()
