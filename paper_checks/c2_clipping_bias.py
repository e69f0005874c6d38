"""C2 — the gradient bound controls the clipping bias of DP-SGD (arXiv:2606.29293).

Claim: *for a wide class of variational quantum models the per-example gradient norm has a
deterministic bound G*; with it the clipping bias of DP-SGD is explicitly controlled — zero when
the clipping threshold C is at or above the bound.*

Protocol: every quantum family of the profile (``hea``, ``reupload``, ``native``) on both task
kinds (a binary task with one observable, a multi-class task with one observable per class and
softmax cross-entropy), trained by DP-SGD for whole runs at C = ρ·G* for a grid of ratios ρ
(some ≥ 1, some < 1), with the clipping meter reading every step. G* is the theory's
loss-gradient bound over the public input domain; for the classical baseline (``mlp`` matched
to ``hea``) C uses the same numbers (ρ times the matched quantum model's G*), for contrast.

Checks (all over every meter reading of every quantum run; float32 tolerance 1e-5 relative):

1. ``max per-example norm <= G*`` — no step of any run has max_i ‖∇ℓ_i‖ > G*;
2. ``C >= G*: nothing clipped, bias exactly 0`` — in the runs with ρ ≥ 1 no example is ever
   clipped and ‖mean clip(g) − mean g‖ is 0.0 (the meter keeps unclipped gradients bit for bit);
3. ``C < G*: bias <= (G* - C)+`` — at every step the measured bias is at most the prediction,
   by ‖mean_i (clip(g_i) − g_i)‖ ≤ mean_i (‖g_i‖ − C)₊ ≤ (G* − C)₊;
4. ``coverage`` — every family × task kind has its runs (None: missing, the verdict is then
   inconclusive).

Verdict: :func:`privqml.paper_checks.stats.check_verdict` (supported iff all hold). The report
also says whether the grid below the bound actually clipped anything (if not, check 3 is
vacuous on these runs) and how tight the bound was (max observed norm / G*).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from privqml.paper_checks import plots, stats
from privqml.paper_checks.profiles import Profile
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.report import ClaimReport, Table

CLAIM = "C2"
TITLE = "bounds control clipping bias"
STATEMENT = (
    "For a wide class of variational quantum models the per-example gradient norm has a deterministic bound; "
    "with it the clipping bias of DP-SGD is explicitly controlled (zero when the clipping threshold is at or "
    "above the bound)."
)
CLASSICAL_FAMILIES = ("mlp", "linear")


def tasks(profile: Profile) -> list[Task]:
    out = []
    for model in (*profile.c2_families, *profile.c2_classical):
        for dataset in profile.c2_datasets:
            for ratio in profile.c2_clip_ratios:
                for r in range(profile.c2_seeds):
                    out.append(Task.make(
                        "c2", "train", replicate=r, model=model, dataset=dataset, epsilon=float(profile.c2_epsilon),
                        clip_ratio=float(ratio), delta=profile.delta, epochs=profile.c2_epochs,
                        batch_size=profile.batch_size, lr=profile.learning_rate, optimizer="adam",
                        n_train=profile.n_train, n_test=profile.n_test,
                    ))
    return out


def run_task(task: Task, rng: np.random.Generator) -> dict[str, Any]:
    from privqml.paper_checks.training import run_training_task

    return run_training_task(task)


def _family(spec: str) -> str:
    return spec.split(":")[0]


def summarise(profile: Profile, results: Mapping[Task, Mapping[str, Any]], out_dir: Path) -> ClaimReport:
    quantum: dict[tuple, list] = defaultdict(list)
    classical: dict[tuple, list] = defaultdict(list)
    for task, result in results.items():
        if task.claim != "c2":
            continue
        target = classical if _family(task["model"]) in CLASSICAL_FAMILIES else quantum
        target[(task["model"], task["dataset"])].append((task["clip_ratio"], task.replicate, result))
    expected = len(tasks(profile))
    found = sum(len(v) for v in quantum.values()) + sum(len(v) for v in classical.values())

    all_q = [(key, ratio, res) for key, rows in quantum.items() for ratio, _, res in rows]
    over_bound = [(key, ratio, res) for key, ratio, res in all_q if res["steps_over_bound"] > 0]
    at_or_above = [(key, ratio, res) for key, ratio, res in all_q if ratio >= 1]
    clipped_above = [(key, ratio, res) for key, ratio, res in at_or_above
                     if res["steps_clipped"] > 0 or (res["clip_bias_max"] or 0.0) != 0.0]
    below = [(key, ratio, res) for key, ratio, res in all_q if ratio < 1]
    bias_over = [(key, ratio, res) for key, ratio, res in below if res["steps_bias_over_prediction"] > 0]
    below_active = [(key, ratio, res) for key, ratio, res in below if res["steps_clipped"] > 0]
    combos = {(m, d) for m in profile.c2_families for d in profile.c2_datasets}
    coverage = combos <= set(quantum) and all(
        len(quantum[c]) == len(profile.c2_clip_ratios) * profile.c2_seeds for c in combos if c in quantum)
    unmeasured = [res for _, _, res in all_q if res["meter_readings"] == 0]
    checks = {
        "max per-example norm <= G* at every step of every quantum run": (not over_bound and not unmeasured) if all_q else None,
        "C >= G*: nothing clipped and bias exactly 0": (not clipped_above) if at_or_above else None,
        "C < G*: measured bias <= (G* - C)+ at every step": (not bias_over) if below else None,
        "coverage: every family x task kind ran": True if coverage else None,
    }
    verdict = stats.check_verdict(CLAIM, checks, indicative=profile.indicative)
    reasons = list(verdict.reasons)
    tightness = max((res["max_per_example_norm"] / res["grad_norm_bound"] for _, _, res in all_q
                     if res["max_per_example_norm"] is not None), default=None)
    if tightness is not None:
        reasons.append(f"largest observed max‖g_i‖ / G* over all quantum runs: {tightness:.3f}")
    reasons.append(f"{len(below_active)} of {len(below)} quantum runs below the bound clipped at least one example"
                   + (" — check 3 is vacuous on these runs" if below and not below_active else ""))
    cl_active = [(key, ratio, res) for key, rows in classical.items() for ratio, _, res in rows
                 if ratio >= 1 and res["steps_clipped"] > 0]
    cl_above = [1 for rows in classical.values() for ratio, _, _ in rows if ratio >= 1]
    if cl_above:
        reasons.append(f"contrast: classical baseline clipped examples in {len(cl_active)} of {len(cl_above)} runs "
                       "at C >= the quantum G* (it has no such bound)")
    if found < expected:
        reasons.append(f"{expected - found} of {expected} runs missing (failed or not run)")
    verdict = stats.Verdict(CLAIM, verdict.verdict, verdict.rule, tuple(reasons), verdict.indicative)

    rows, norm_rows, bias_points = [], [], []
    for (model, dataset), entries in sorted(quantum.items()):
        g_star = entries[0][2]["grad_norm_bound"]
        norm_rows.append((f"{model}/{dataset}", max(e[2]["max_per_example_norm"] or 0.0 for e in entries), g_star))
        for ratio, replicate, res in sorted(entries, key=lambda e: (e[0], e[1])):
            rows.append((model, dataset, ratio, res["clip"], g_star, res["max_per_example_norm"], res["clip_fraction_max"],
                         res["clip_bias_max"], res["predicted_bias_max"], res["steps_over_bound"],
                         res["steps_bias_over_prediction"], res["test_accuracy"]))
            bias_points.append((f"{model}/{dataset}", ratio, res["clip_bias_max"] or 0.0, res["predicted_bias_max"]))
    cl_rows = []
    for (model, dataset), entries in sorted(classical.items()):
        g_ref = entries[0][2]["reference_grad_norm_bound"]
        norm_rows.append((f"{model}/{dataset} (classical)", max(e[2]["max_per_example_norm"] or 0.0 for e in entries), g_ref))
        for ratio, replicate, res in sorted(entries, key=lambda e: (e[0], e[1])):
            cl_rows.append((model, dataset, ratio, res["clip"], res["max_per_example_norm"], res["clip_fraction_max"],
                            res["clip_bias_max"], res["test_accuracy"]))
            bias_points.append((f"classical:{model}/{dataset}", ratio, res["clip_bias_max"] or 0.0, None))
    norms_png, bias_png = "c2_norms_vs_bound.png", "c2_bias_measured_vs_predicted.png"
    plots.plot_norms_vs_bound(Path(out_dir) / norms_png,
                              [(label, norm, bound, "classical" not in label) for label, norm, bound in norm_rows])
    plots.plot_bias(Path(out_dir) / bias_png, bias_points)
    headline = (
        (f"max‖g_i‖/G* = {tightness:.3g} over {len(all_q)} quantum runs" if tightness is not None else "no quantum runs")
        + f"; steps over G*: {sum(r['steps_over_bound'] for _, _, r in all_q)}"
        + f"; C ≥ G*: {len(clipped_above)} of {len(at_or_above)} runs clipped anything"
        + f"; C < G*: bias above (G*−C)+ in {len(bias_over)} of {len(below)} runs ({len(below_active)} clipped)"
    )
    numbers = {
        "checks": {name: ok for name, ok in checks.items()},
        "runs_expected": expected, "runs_found": found,
        "max_norm_over_bound": tightness,
        "quantum_runs": [dict(zip(("model", "dataset", "clip_ratio", "clip", "grad_norm_bound", "max_per_example_norm",
                                   "clip_fraction_max", "clip_bias_max", "predicted_bias_max", "steps_over_bound",
                                   "steps_bias_over_prediction", "test_accuracy"), row)) for row in rows],
        "classical_runs": [dict(zip(("model", "dataset", "clip_ratio", "clip", "max_per_example_norm",
                                     "clip_fraction_max", "clip_bias_max", "test_accuracy"), row)) for row in cl_rows],
    }
    return ClaimReport(
        claim=CLAIM, title=TITLE, statement=STATEMENT, verdict=verdict, numbers=numbers,
        tables=(
            Table("Quantum runs: per-example norms and clipping bias over whole runs (maxima over steps)",
                  ("model", "task", "C/G*", "C", "G*", "max‖g_i‖", "clipped frac", "bias", "(G*−C)+",
                   "steps >G*", "steps bias>pred", "test acc"), tuple(rows)),
            Table("Classical baseline at the same C (ratios of the matched quantum model's G*)",
                  ("model", "task", "C/G*", "C", "max‖g_i‖", "clipped frac", "bias", "test acc"), tuple(cl_rows)),
        ),
        headline=headline,
        plots=(
            (norms_png, "C2: largest per-example gradient norm over whole runs / G* (quantum ≤ 1 required)"),
            (bias_png, "C2: measured clipping bias vs the prediction (G* − C)+; right: against C/G*"),
        ),
        notes=(
            f"DP-SGD at ε={profile.c2_epsilon:g}, δ={profile.delta:g}, {profile.c2_epochs} epoch(s), expected batch "
            f"{profile.batch_size}; the meter reads every step (the meter's per-example norms are a diagnostic, "
            "not covered by the run's (ε, δ)).",
            "Float32 tolerance: a step counts as over the bound if max‖g_i‖ > G*(1 + 1e-5).",
        ),
    )
