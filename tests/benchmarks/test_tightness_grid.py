"""The kept tightness-grid results: the plot draws the table's numbers, and the targets hold."""

from __future__ import annotations

import json
import math

from benchmarks.tightness_grid import RESULTS, render


def test_the_plotted_ratios_are_the_tables_and_meet_the_targets():
    result = json.loads((RESULTS / "tightness_grid.json").read_text())
    plotted = result["plotted"]
    assert plotted["final"] == [row["ratio"] for row in result["rows"]]
    assert plotted["base"] == [row["ratios"]["bernstein"] for row in result["rows"]]
    table = render(result, result["command"])
    for row in result["rows"]:
        assert f"| {row['family']} | {row['qubits']} | {row['layers']} | {row['observable']} |" in table
        assert f"{row['ratio']:.3f} |" in table
    summary = result["summary"]
    assert summary["n_configurations"] == 54 and summary["n_below_1"] == 0
    assert summary["geomean"] <= 1.15 and summary["worst"] <= 1.5
    assert math.isclose(summary["geomean"], math.exp(sum(math.log(r) for r in plotted["final"]) / 54), rel_tol=1e-12)
