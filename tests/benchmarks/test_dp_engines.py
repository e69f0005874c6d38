"""The engine benchmarks' plotted numbers and the C3 agreement figures are the measured ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import c3_engine_agreement, dp_engines


def _stat(v):
    return {"median": v, "min": v, "max": v, "n": 1, "values": [v]}


def test_the_plot_shows_the_measured_ratios_and_gains(tmp_path):
    result = {
        "steps": [{"n_qubits": n, "batch": 32, "default_over_handwritten": _stat(r)} for n, r in ((4, 0.33), (8, 0.31))],
        "replicates": [{"rows": [{"K": k, "over_tfq_single": _stat(g)} for k, g in ((1, 4.0), (16, 17.5))]}],
    }
    plotted = dp_engines.plot(result, tmp_path / "p.png")
    assert plotted["step_ratios"] == [0.33, 0.31] and plotted["step_labels"] == ["4q B32", "8q B32"]
    assert plotted["replicates"] == [1, 16] and plotted["replicate_gains"] == [4.0, 17.5]
    assert (tmp_path / "p.png").stat().st_size > 1000


def _results(path, shift=0.0, sd=0.05):
    cells = []
    for eps in (0.5, 2.0):
        arm = lambda m, mean: {"model": m, "accuracy": {"mean": mean + shift, "sd": sd, "n": 5}}  # noqa: E731
        cells.append({"dataset": "quantum", "quantum_model": "hea", "n_train": 400, "clip": "bound", "epsilon": eps,
                      "quantum": arm("hea", 0.8), "classical": [arm("mlp", 0.7)]})
    path.write_text(json.dumps({"claims": {"C3": {"numbers": {"cells": cells}}}}))
    return path


def test_agreement_figures_are_zero_for_equal_maps_and_see_a_shift(tmp_path):
    before = _results(tmp_path / "a.json")
    same = c3_engine_agreement.compare(before, _results(tmp_path / "b.json"))
    assert same["pairs"] == 4 and same["mean_difference"] == 0 and same["fraction_abs_z_over_t8_975"] == 0
    shifted = c3_engine_agreement.compare(before, _results(tmp_path / "c.json", shift=0.2))
    assert shifted["mean_difference"] == pytest.approx(0.2)
    z = 0.2 / np.sqrt(2 * 0.05**2 / 5)
    assert all(r["z"] == pytest.approx(z) for r in shifted["rows"]) and shifted["fraction_abs_z_over_t8_975"] == 1
    plotted = c3_engine_agreement.plot(shifted, tmp_path / "z.png")
    assert plotted["z"] == pytest.approx([z] * 4) and plotted["after"] == pytest.approx([1.0, 0.9, 1.0, 0.9])
