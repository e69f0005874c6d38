"""The general-channel soundness benchmark: seeded circuits with the channels they promise, no bound below a
gradient found on a small sample, a baseline rule that is switched back, and kept results whose plot draws
the JSON's numbers."""

from __future__ import annotations

import math

import cirq
import pytest

import benchmarks.soundness_kraus as sk
from privqml import jsonio
from privqml.theory import gradient_bound


def test_the_generators_are_seeded_and_carry_their_channels():
    for category in sk.CATEGORIES:
        first, again = sk.circuit(category, 3), sk.circuit(category, 3)
        assert first == again and first != sk.circuit(category, 4) and 2 <= first.n_qubits <= 3
    channels = [op for s in range(10) for op in sk.random_circuit(s).circuit.all_operations()
                if not cirq.is_parameterized(op) and not cirq.has_unitary(op)]
    assert sum(isinstance(op.gate, sk.KrausGate) and str(op.gate).startswith("stinespring") for op in channels) >= 5
    device = list(sk.device_circuit(0).circuit.all_operations())
    assert any(str(op.gate).startswith("thermal") for op in device)
    assert any(isinstance(op.gate, cirq.DepolarizingChannel) and len(op.qubits) == 2 for op in device)
    assert any(isinstance(op.gate, cirq.FSimGate) and not cirq.is_parameterized(op) for op in device)


def test_the_baseline_rule_is_switched_back():
    ansatz = sk.random_circuit(4)  # a circuit whose bound the general factor lowers
    general = gradient_bound(ansatz).per_observable[0]
    with sk.baseline_rule():
        baseline = gradient_bound(ansatz).per_observable[0]
    assert baseline > general * (1 + 1e-6)
    assert gradient_bound(ansatz).per_observable[0] == general


def test_a_small_sample_is_sound_and_its_plot_draws_the_summary(tmp_path):
    cache = {}
    result = sk.measure(4, 1, 3, cache, log=lambda line: None)
    result["command"] = "python -m benchmarks.soundness_kraus --random 4 --device 1 --starts 3"
    assert len(result["rows"]) == 5 and sk.unsound(result) == []
    assert result["summary"]["all"]["general"]["n_below_1"] == 0
    assert all(r["bound"] <= r["baseline_bound"] * (1 + 1e-12) for r in result["rows"])
    plotted = sk.plot(result, tmp_path / "plot.png")
    assert plotted["geomean"] == [result["summary"][c]["general"]["geomean"] for c in sk.CATEGORIES]
    assert (tmp_path / "plot.png").stat().st_size > 0
    assert len(cache) == 5 and result["true_max_cache"] == cache  # a rerun takes the true maxima from here
    assert f"`{result['command']}`" in sk.render(result)


def test_the_kept_results_are_sound_and_plot_their_numbers():
    result = jsonio.loads((sk.RESULTS / "soundness_kraus.json").read_text())
    assert len(result["rows"]) >= 200 + 40 and sk.unsound(result) == []
    for part in result["summary"].values():
        assert part["general"]["n_below_1"] == part["baseline"]["n_below_1"] == 0
    assert result["plotted"] == sk.plotted_numbers(result)
    for c, mean in zip(sk.CATEGORIES, result["plotted"]["geomean"]):
        assert mean == pytest.approx(sk.geomean(r["ratio"] for r in result["rows"] if r["category"] == c))
        assert all(math.isfinite(v) for v in result["plotted"]["ratio"][c])
    assert result["command"].startswith("python -m benchmarks.soundness_kraus")
    text = (sk.RESULTS / "soundness_kraus.md").read_text()
    assert text.splitlines()[2].startswith(f"Command: `{result['command']}`")
