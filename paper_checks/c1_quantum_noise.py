"""C1 — quantum noise is no DP mechanism (arXiv:2606.29293).

Claim: *the native randomness of a quantum device (shot noise, depolarising noise) does not
replace the calibrated Gaussian noise of DP-SGD: it gives no formal (ε, δ) guarantee.*

Evidence, two kinds (both from :mod:`privqml.verify`):

- **analytic** (exact, :mod:`privqml.verify.audit.quantum`): the canonical shot-noise
  counterexample — one qubit, D = {x = π/2} (f = 0) and the canary x = 0 (f = 1, every shot
  reads +1) — whose released sums have outcomes impossible under one dataset and possible
  under the other, for every number of shots N: the privacy loss is unbounded, no finite ε for
  any δ below that mass (δ_∞); and one exact gradient step under depolarising channels applied
  as channels, a deterministic map whose outputs on neighbouring datasets are different point
  masses (δ_∞ = 1);
- **empirical** (:func:`privqml.verify.audit.one_step_audit` on
  :func:`privqml.verify.audit.setting.build_setting`): the same model, batch and public canary
  audited three ways at the same settings — DP-SGD (the trainer's fast path, σ calibrated
  from the target ε), shot-noise-only and depolarising-only (trajectory) training steps. The
  audit's ε lower bound (Clopper–Pearson, threshold chosen on separate trials) is set beside
  the accounted ε: finite for DP-SGD, none for the noise-only mechanisms.

Verdict rule:

- **not supported** if an analytic counterexample fails (a finite privacy loss is found: some
  N with a bounded likelihood ratio, or a depolarising step whose two outputs coincide);
- **inconclusive** if a piece is missing, if the DP-SGD audit is not ``consistent`` (then the
  audit itself is in doubt), or if a noise-only mechanism reports a finite accounted ε;
- **supported** otherwise: the counterexamples hold, DP-SGD's audit is consistent with its
  accounted ε, and the noise-only mechanisms have no accounted ε (``no-guarantee``). Their
  empirical ε lower bounds are reported, with whether they exceed DP-SGD's accounted ε.

Caveat: TFQ's sampled expectations and noisy trajectories draw from TFQ's own generator,
which TensorFlow's seed does not fix: the noise-only audits reproduce only statistically.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from privqml.paper_checks import plots, stats
from privqml.paper_checks.profiles import Profile
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.report import ClaimReport, Table

CLAIM = "C1"
TITLE = "quantum noise is no DP mechanism"
STATEMENT = (
    "The native randomness of a quantum device (shot noise, depolarising noise) does not replace the "
    "calibrated Gaussian noise of DP-SGD: it gives no formal (ε, δ) guarantee for the training data."
)
RULE = (
    "not supported if an exact counterexample fails (finite privacy loss found); inconclusive if a piece is "
    "missing, the DP-SGD audit is not 'consistent', or a noise-only mechanism has a finite accounted ε; "
    "supported otherwise (counterexamples hold, DP-SGD audit consistent, noise-only mechanisms 'no-guarantee')"
)


def tasks(profile: Profile) -> list[Task]:
    setting = dict(model=profile.c1_model, dataset="quantum", epsilon=float(profile.c1_epsilon), delta=profile.delta,
                   clip="bound", shots=profile.c1_shots, noise=profile.c1_depolarizing,
                   trajectories=profile.c1_trajectories, batch_size=profile.c1_batch_size, epochs=1,
                   n_train=profile.c1_n_train, confidence=0.95, accountant="pld")
    out = []
    for mechanism in profile.c1_mechanisms:
        trials = profile.c1_trials_depolarizing if mechanism == "depolarizing" else profile.c1_trials
        out.append(Task.make("c1", "audit", mechanism=mechanism, trials=trials, **setting))
    for shots in profile.c1_counterexample_shots:
        out.append(Task.make("c1", "shot_counterexample", shots=shots))
    out.append(Task.make("c1", "depolarizing_step", depolarizing=profile.c1_depolarizing))
    return out


def run_task(task: Task, rng: np.random.Generator) -> dict[str, Any]:
    if task.kind == "shot_counterexample":
        from privqml.verify.audit.quantum import canonical_counterexample

        return canonical_counterexample(int(task["shots"])).as_dict()
    if task.kind == "depolarizing_step":
        from privqml.verify.audit.quantum import depolarizing_step

        return depolarizing_step(float(task["depolarizing"])).as_dict()
    if task.kind == "audit":
        from privqml.verify.audit.one_step import one_step_audit
        from privqml.verify.audit.setting import build_setting, setting_mechanism

        mechanism = task["mechanism"]
        setting = build_setting(
            task["model"], task["dataset"], epsilon=float(task["epsilon"]), delta=float(task["delta"]),
            clip=task["clip"], mechanism=mechanism, shots=int(task["shots"]), noise=float(task["noise"]),
            trajectories=int(task["trajectories"]), batch_size=int(task["batch_size"]), epochs=int(task["epochs"]),
            n_train=int(task["n_train"]), seed=task.int_seed("dataset"),
        )
        result = one_step_audit(
            setting_mechanism(setting, mechanism), trials=int(task["trials"]), delta=float(task["delta"]),
            confidence=float(task["confidence"]), accountant=task["accountant"], seed=task.int_seed(),
        )
        return {**result.as_dict(), "setting": setting.describe()}
    raise ValueError(f"C1 has no task kind {task.kind!r}")


def _eps(value) -> float:
    return math.inf if value is None else float(value)


def summarise(profile: Profile, results: Mapping[Task, Mapping[str, Any]], out_dir: Path) -> ClaimReport:
    audits = {t["mechanism"]: r for t, r in results.items() if t.claim == "c1" and t.kind == "audit"}
    counter = sorted(((t["shots"], r) for t, r in results.items() if t.claim == "c1" and t.kind == "shot_counterexample"),
                     key=lambda e: e[0])
    depol = [r for t, r in results.items() if t.claim == "c1" and t.kind == "depolarizing_step"]
    expected = len(tasks(profile))
    found = len(audits) + len(counter) + len(depol)

    reasons: list[str] = []
    shots_hold = all(not r["finite_epsilon_possible"] for _, r in counter) if counter else None
    depol_hold = all(r["delta_infinite"] >= 1.0 and r["distance"] > 0 for r in depol) if depol else None
    dpsgd = audits.get("dpsgd")
    noise_only = {m: audits.get(m) for m in profile.c1_mechanisms if m != "dpsgd"}
    if counter:
        reasons.append("shot-noise counterexample: " + "; ".join(
            f"N={n}: max log-likelihood ratio {'∞' if not r['finite_epsilon_possible'] else format(r['max_log_likelihood_ratio'], '.3g')}, "
            f"δ_∞={r['delta_infinite']:.3g}" for n, r in counter))
    if depol:
        reasons.append(f"exact depolarising step (p={profile.c1_depolarizing:g}): outputs differ by "
                       f"{depol[0]['distance']:.3g} in weight space, δ_∞={depol[0]['delta_infinite']:.3g}")
    if shots_hold is False or depol_hold is False:
        verdict = stats.NOT_SUPPORTED
        reasons.insert(0, "an exact counterexample did not hold: a finite privacy loss was found")
    elif shots_hold is None or depol_hold is None or dpsgd is None or any(v is None for v in noise_only.values()):
        verdict = stats.INCONCLUSIVE
        reasons.insert(0, f"missing results ({expected - found} of {expected} tasks)")
    elif dpsgd["verdict"] != "consistent":
        verdict = stats.INCONCLUSIVE
        reasons.insert(0, f"the DP-SGD audit reports {dpsgd['verdict']!r} (failed: {dpsgd['failed_checks']}): "
                          "the audit machinery is in doubt")
    elif any(r["verdict"] != "no-guarantee" for r in noise_only.values()):
        verdict = stats.INCONCLUSIVE
        reasons.insert(0, "a noise-only mechanism reported a finite accounted ε")
    else:
        verdict = stats.SUPPORTED
    if dpsgd is not None:
        eps_acc = _eps(dpsgd["epsilon_accounted"])
        reasons.append(f"DP-SGD at the same settings: accounted ε={eps_acc:.3g} (one step, {dpsgd['accountant']}), "
                       f"empirical lower bound {dpsgd['epsilon_lower_bound']:.3g}, audit {dpsgd['verdict']}")
        for name, r in noise_only.items():
            if r is not None:
                above = r["epsilon_lower_bound"] > eps_acc
                reasons.append(f"{name}-only: no accounted ε; empirical ε lower bound {r['epsilon_lower_bound']:.3g}"
                               f" ({'above' if above else 'not above'} DP-SGD's accounted ε) from {r['trials']} trials/side")
    verdict_record = stats.Verdict(CLAIM, verdict, RULE, tuple(reasons), profile.indicative)

    audit_rows, plot_rows = [], []
    reference_eps = _eps(dpsgd["epsilon_accounted"]) if dpsgd else math.nan
    for name in profile.c1_mechanisms:
        r = audits.get(name)
        if r is None:
            continue
        shift, noise = r["canary_shift_estimate"], r["noise_std_estimate"]
        audit_rows.append((name, r["trials"], r["clip_norm"], r["noise_multiplier"], _eps(r["epsilon_accounted"]),
                           r["epsilon_lower_bound"], f"{shift['value']:.4g} [{shift['lower']:.4g}, {shift['upper']:.4g}]",
                           f"{noise['value']:.4g} [{noise['lower']:.4g}, {noise['upper']:.4g}]", r["verdict"]))
        plot_rows.append((name, r["epsilon_lower_bound"], _eps(r["epsilon_accounted"]), reference_eps))
    counter_rows = tuple((n, "∞" if not r["finite_epsilon_possible"] else r["max_log_likelihood_ratio"],
                          r["delta_infinite"], r["witness_value"], r["witness_p_without"], r["witness_p_with"])
                         for n, r in counter)
    plots_out = []
    if plot_rows:
        name = "c1_audit.png"
        plots.plot_audit(Path(out_dir) / name, plot_rows,
                         title="C1: empirical ε lower bound vs accounted ε (dotted: DP-SGD's accounted ε)")
        plots_out.append((name, "C1: audit of one training step, DP-SGD vs quantum noise alone, same model and canary"))
    setting = (dpsgd or next((r for r in audits.values()), {})).get("setting", {})
    headline = []
    if counter:
        headline.append(f"exact: unbounded privacy loss from shot noise at N={','.join(str(n) for n, _ in counter)} shots")
    if depol:
        headline.append(f"exact depolarising step δ_∞={depol[0]['delta_infinite']:.3g}")
    if dpsgd is not None:
        headline.append(f"audit: DP-SGD ε={_eps(dpsgd['epsilon_accounted']):.3g} (lower bound "
                        f"{dpsgd['epsilon_lower_bound']:.3g}, {dpsgd['verdict']})")
    headline += [f"{m}-only ε lower bound {r['epsilon_lower_bound']:.3g}, no accounted ε"
                 for m, r in noise_only.items() if r is not None]
    numbers = {
        "audits": {m: r for m, r in audits.items()},
        "shot_counterexample": {str(n): r for n, r in counter},
        "depolarizing_step": depol[0] if depol else None,
        "tasks_expected": expected, "tasks_found": found,
    }
    return ClaimReport(
        claim=CLAIM, title=TITLE, statement=STATEMENT, verdict=verdict_record, numbers=numbers,
        tables=(
            Table("One-step canary audits at the same settings (ε in nats; shift and noise std along the canary "
                  "gradient, 95% intervals)",
                  ("mechanism", "trials/side", "C", "σ", "accounted ε", "ε lower bound", "canary shift", "noise std",
                   "audit"), tuple(audit_rows)),
            Table("Exact shot-noise counterexample (one qubit; D = {x = π/2}, canary x = 0)",
                  ("shots N", "max |log LR|", "δ_∞", "witness S", "P(S | D)", "P(S | D′)"), counter_rows),
        ),
        plots=tuple(plots_out),
        headline="; ".join(headline),
        notes=(
            f"Audit setting: {setting.get('model', profile.c1_model)} on the synthetic 'quantum' task, "
            f"expected batch {profile.c1_batch_size}, canary chosen from the public domain; DP-SGD σ calibrated for "
            f"ε={profile.c1_epsilon:g} over one epoch of Poisson steps (RDP), the one-step accounted ε by PLD "
            "(no subsampling: the audit forces the canary into the batch).",
            f"Shot noise: {profile.c1_shots} shots per expectation; depolarising: p={profile.c1_depolarizing:g} after "
            f"every moment, {profile.c1_trajectories} trajectories.",
            "An empirical lower bound can only show leakage, never privacy; the 'no guarantee' is the analytic part.",
            "TFQ's shot and trajectory sampling is not seeded by TensorFlow: the noise-only audits reproduce "
            "statistically, not bit for bit.",
        ),
    )
