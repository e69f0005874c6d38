"""C3: what the profiles' regime maps cover, and the claim's report on constructed accuracies."""

from __future__ import annotations

import math

import numpy as np

from privqml.paper_checks import c3_accuracy as c3
from privqml.paper_checks.profiles import PROFILES
from privqml.paper_checks.stats import NOT_SUPPORTED, SUPPORTED


def test_full_profile_covers_every_required_axis():
    blocks = PROFILES["full"].c3_blocks
    epsilons = {e for b in blocks for e in b.epsilons}
    assert {0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0} <= epsilons
    assert {"0.25xbound", "bound", "4xbound", 0.5, 0.1} <= {c for b in blocks for c in b.clips}
    assert {200, 400, 1600} <= {b.n_train for b in blocks}
    assert {"hea", "reupload", "hea:n_qubits=8", "reupload:n_qubits=8"} <= {b.quantum for b in blocks}
    assert {"quantum", "circle", "digits:3v5"} <= {b.dataset for b in blocks}
    assert ("digits:3v5", "hea") in {(b.dataset, b.quantum) for b in blocks}  # digits at 4 features
    assert ("digits:3v5", "hea:n_qubits=8") in {(b.dataset, b.quantum) for b in blocks}  # and at 8
    planes = [b for b in blocks if b.axis == "centre"]
    assert {b.dataset for b in planes} == {"quantum", "circle", "digits:3v5"}
    assert all(len(b.epsilons) == 7 and len(b.clips) == 5 for b in planes)  # the whole ε x C plane
    for block in blocks:
        assert {c.split(":")[0] for c in block.classical} == {"mlp", "logistic"}


def test_quick_profile_maps_the_trend_along_epsilon():
    quick = PROFILES["quick"]
    assert quick.seeds >= 5 and all(len(b.epsilons) >= 4 and len(b.clips) >= 2 for b in quick.c3_blocks)
    assert max(e for b in quick.c3_blocks for e in b.epsilons) / min(e for b in quick.c3_blocks for e in b.epsilons) >= 50


def _results(profile, gain: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = {}
    for task in c3.tasks(profile):
        eps = task["epsilon"]
        base = 0.85 if math.isinf(eps) else 0.7 + 0.02 * math.log(eps)
        extra = gain if task["model"] == "hea" and math.isfinite(eps) else 0.0
        out[task] = {"test_accuracy": base + extra + 0.01 * rng.standard_normal(), "noise_multiplier": 1.0,
                     "epsilon_pld": min(eps, 1e9), "clip": 1.46, "dataset": {"n_classes": 2},
                     "model": {"n_weights": 16}, "lr": 0.05}
    return out


def test_summarise_gives_the_regime_verdict_and_its_plots(tmp_path):
    profile = PROFILES["quick"]
    report = c3.summarise(profile, _results(profile, 0.15), tmp_path)
    assert report.claim == "C3" and report.verdict.verdict == SUPPORTED and not report.verdict.indicative
    assert report.numbers["counts"]["supported"] == len(report.numbers["cells"]) == 2 * 4 * 2
    assert [f.name for f in report.plots] == ["c3_regime_map.png", "c3_regime_causes.png"]
    assert all((tmp_path / f.name).stat().st_size > 5000 for f in report.plots)
    against = c3.analyse(profile, _results(profile, -0.15)).verdict
    assert against.verdict == NOT_SUPPORTED
    assert "not supported where: quantum | hea | n=200: C=G* ε=0.1" in against.reasons[2]
