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
which TensorFlow's seed does not fix: the noise-only audits reproduce only statistically. The
audits' DP-SGD noise is drawn from the task's seed (a simulation of the mechanism, not a private
release), and the plot and the verdict say so.

:func:`analyse` is the pure part (results -> :class:`C1Analysis`: typed audits and exact
results, the verdict); :func:`render` turns an analysis into the report's tables and the audit
plot; :func:`summarise` is the two in a row.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from privqml.paper_checks import plots, stats
from privqml.paper_checks.profiles import Profile
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.report import SIMULATION_LABEL, ClaimReport, Figure, Table
from privqml.paper_checks.stats import Verdict

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
PLOT_NAME = "c1_audit.png"
PRIVACY_STATEMENT = (
    "no private training data: an exact computation or an audit of a mechanism on synthetic data drawn in the "
    "public domain with a public canary; the audits' DP-SGD noise is drawn from the task's seed (a simulation of "
    "the mechanism, not a private release)"
)


def device_of(profile: Profile) -> str | None:
    """The Google device C1's model is placed on (its spec's ``device=``), or None."""
    from privqml.models.specs import parse_model_spec

    return parse_model_spec(profile.c1_model)[1].get("device")


def tasks(profile: Profile) -> list[Task]:
    """The audits of C1's mechanisms, the shot-noise counterexamples and one exact noisy step. On a device
    model (``device=`` in its spec) the noise-only mechanisms are the device's own: its calibrated channels
    in one exact step (density matrices; TFQ cannot simulate the compiled device circuit, so the sampled
    shot and depolarising audits are not run on it), beside the DP-SGD audit of the device model."""
    device = device_of(profile)
    setting = dict(model=profile.c1_model, dataset="quantum", epsilon=float(profile.c1_epsilon), delta=profile.delta,
                   clip="bound", shots=profile.c1_shots, noise=profile.c1_depolarizing,
                   trajectories=profile.c1_trajectories, batch_size=profile.c1_batch_size, epochs=1,
                   n_train=profile.c1_n_train, confidence=0.95, accountant="pld")
    out = []
    for mechanism in _mechanisms(profile):
        trials = profile.c1_trials_depolarizing if mechanism == "depolarizing" else profile.c1_trials
        out.append(Task.make("c1", "audit", mechanism=mechanism, trials=trials, **setting))
    for shots in profile.c1_counterexample_shots:
        out.append(Task.make("c1", "shot_counterexample", shots=shots))
    if device is None:
        out.append(Task.make("c1", "depolarizing_step", depolarizing=profile.c1_depolarizing))
    else:
        out.append(Task.make("c1", "device_step", device=device))
    return out


def _mechanisms(profile: Profile) -> tuple[str, ...]:
    return ("dpsgd",) if device_of(profile) else profile.c1_mechanisms


def run_task(task: Task, rng: np.random.Generator) -> dict[str, Any]:
    # The exact simulations (Cirq, SymPy) and the audits (TensorFlow, TFQ) are imported only in
    # the process that runs the task, not by the report.
    if task.kind == "shot_counterexample":
        from privqml.verify.audit.quantum import canonical_counterexample

        return canonical_counterexample(int(task["shots"])).as_dict()
    if task.kind == "depolarizing_step":
        from privqml.verify.audit.quantum import depolarizing_step

        return depolarizing_step(float(task["depolarizing"])).as_dict()
    if task.kind == "device_step":
        from privqml.verify.audit.quantum import device_step

        return device_step(task["device"]).as_dict()
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


def result_privacy(task: Task, result: Mapping[str, Any]) -> dict[str, Any]:
    """What a C1 result file says about privacy: nothing in it is about private data; an audit's
    noise is seeded (a simulation), an exact computation draws nothing."""
    mode = "simulation" if task.kind == "audit" else "none"
    return {"private": False, "covered": PRIVACY_STATEMENT, "covered_fields": [], "not_covered": PRIVACY_STATEMENT,
            "not_covered_fields": [], "randomness": {"mode": mode, "statement": PRIVACY_STATEMENT}}


def _eps(value) -> float:
    return math.inf if value is None else float(value)


def _estimate(estimate: Mapping[str, float]) -> tuple[float, float, float]:
    return (estimate["value"], estimate["lower"], estimate["upper"])


# -- the analysis (pure) --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Audit:
    """A one-step canary audit of one mechanism (ε in nats).

    Attributes:
        mechanism: ``dpsgd``, ``shots`` or ``depolarizing``.
        verdict: the audit's verdict (``consistent``, ``violation``, ``no-guarantee``, ...).
        epsilon_accounted: the mechanism's accounted one-step ε (∞: it has none).
        epsilon_lower_bound: the empirical ε lower bound (Clopper–Pearson at the audit's confidence).
        trials: trials per side; clip_norm: C (None without clipping); noise_multiplier: σ.
        canary_shift, noise_std: (estimate, lower, upper) of the canary's shift and of the noise
            std along the canary gradient (95% intervals).
        accountant: the accountant of ``epsilon_accounted``; failed_checks: the audit's failed checks.
        record: the stored result, reported verbatim in results.json.
    """

    mechanism: str
    verdict: str
    epsilon_accounted: float
    epsilon_lower_bound: float
    trials: int
    clip_norm: float | None
    noise_multiplier: float
    canary_shift: tuple[float, float, float]
    noise_std: tuple[float, float, float]
    accountant: str
    failed_checks: tuple[str, ...]
    record: Mapping[str, Any]

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> "Audit":
        return cls(result["mechanism"], result["verdict"], _eps(result["epsilon_accounted"]),
                   result["epsilon_lower_bound"], result["trials"], result["clip_norm"], result["noise_multiplier"],
                   _estimate(result["canary_shift_estimate"]), _estimate(result["noise_std_estimate"]),
                   result["accountant"], tuple(result["failed_checks"]), result)


@dataclasses.dataclass(frozen=True)
class ShotCounterexample:
    """The exact shot-noise counterexample at N shots: ``finite_epsilon_possible`` False means
    some released sum is possible with the canary and impossible without it (unbounded privacy
    loss); ``delta_infinite`` the probability of such outcomes; the witness S and its probabilities
    without (D) and with (D′) the canary. ``record``: the stored result."""

    shots: int
    finite_epsilon_possible: bool
    max_log_likelihood_ratio: float
    delta_infinite: float
    witness_value: float
    witness_p_without: float
    witness_p_with: float
    record: Mapping[str, Any]

    @classmethod
    def from_result(cls, shots: int, result: Mapping[str, Any]) -> "ShotCounterexample":
        return cls(shots, result["finite_epsilon_possible"], result["max_log_likelihood_ratio"],
                   result["delta_infinite"], result["witness_value"], result["witness_p_without"],
                   result["witness_p_with"], result)

    @property
    def max_log_likelihood_ratio_label(self) -> str:
        return "∞" if not self.finite_epsilon_possible else format(self.max_log_likelihood_ratio, ".3g")


@dataclasses.dataclass(frozen=True)
class C1Analysis:
    """C1's evidence and its verdict.

    Attributes:
        profile: the profile checked; tasks_expected, tasks_found: its task count, and how many
            results there are.
        audits: mechanism -> :class:`Audit`, in the order found.
        counterexamples: the shot-noise counterexamples, by N.
        depolarizing_steps: the stored results of the exact depolarising steps (``distance``
            between the two outputs in weight space, ``delta_infinite``).
        verdict: by the module's rule, with the reasons.
    """

    profile: Profile
    tasks_expected: int
    tasks_found: int
    audits: Mapping[str, Audit]
    counterexamples: tuple[ShotCounterexample, ...]
    depolarizing_steps: tuple[Mapping[str, Any], ...]
    verdict: Verdict

    @property
    def dpsgd(self) -> Audit | None:
        return self.audits.get("dpsgd")

    @property
    def noise_only(self) -> dict[str, Audit | None]:
        """The noise-only mechanisms of the profile (None: not found)."""
        return _noise_only(self.profile, self.audits)

    @property
    def profile_audits(self) -> list[tuple[str, Audit]]:
        """The audits found, in the profile's mechanism order."""
        return [(m, self.audits[m]) for m in _mechanisms(self.profile) if m in self.audits]

    def to_json(self) -> dict[str, Any]:
        """The numbers behind the verdict (``claims.C1.numbers`` of results.json)."""
        return {
            "audits": {m: audit.record for m, audit in self.audits.items()},
            "shot_counterexample": {str(c.shots): c.record for c in self.counterexamples},
            "depolarizing_step": self.depolarizing_steps[0] if self.depolarizing_steps else None,
            "tasks_expected": self.tasks_expected, "tasks_found": self.tasks_found,
        }


def _noise_only(profile: Profile, audits: Mapping[str, Audit]) -> dict[str, Audit | None]:
    return {m: audits.get(m) for m in _mechanisms(profile) if m != "dpsgd"}


def _evidence_reasons(profile: Profile, counter: tuple[ShotCounterexample, ...], steps: tuple[Mapping[str, Any], ...],
                      audits: Mapping[str, Audit]) -> list[str]:
    """What the exact results and the audits show, in words."""
    reasons = []
    if counter:
        reasons.append("shot-noise counterexample: " + "; ".join(
            f"N={c.shots}: max log-likelihood ratio {c.max_log_likelihood_ratio_label}, δ_∞={c.delta_infinite:.3g}"
            for c in counter))
    if steps:
        what = (f"depolarising step (p={profile.c1_depolarizing:g})" if device_of(profile) is None
                else f"step under {steps[0]['noise']}")
        reasons.append(f"exact {what}: outputs differ by "
                       f"{steps[0]['distance']:.3g} in weight space, δ_∞={steps[0]['delta_infinite']:.3g}")
    dpsgd = audits.get("dpsgd")
    if dpsgd is not None:
        reasons.append(f"DP-SGD at the same settings: accounted ε={dpsgd.epsilon_accounted:.3g} (one step, "
                       f"{dpsgd.accountant}), empirical lower bound {dpsgd.epsilon_lower_bound:.3g}, "
                       f"audit {dpsgd.verdict}")
        for name, audit in _noise_only(profile, audits).items():
            if audit is not None:
                above = audit.epsilon_lower_bound > dpsgd.epsilon_accounted
                reasons.append(f"{name}-only: no accounted ε; empirical ε lower bound {audit.epsilon_lower_bound:.3g}"
                               f" ({'above' if above else 'not above'} DP-SGD's accounted ε) from {audit.trials} "
                               "trials/side")
    return reasons


def _decide(profile: Profile, counter: tuple[ShotCounterexample, ...], steps: tuple[Mapping[str, Any], ...],
            audits: Mapping[str, Audit], expected: int, found: int) -> tuple[str, str | None]:
    """(verdict, the reason that decided it; None when supported) by the module's rule."""
    shots_hold = all(not c.finite_epsilon_possible for c in counter) if counter else None
    depol_hold = all(s["delta_infinite"] >= 1.0 and s["distance"] > 0 for s in steps) if steps else None
    dpsgd, noise_only = audits.get("dpsgd"), _noise_only(profile, audits)
    if shots_hold is False or depol_hold is False:
        return stats.NOT_SUPPORTED, "an exact counterexample did not hold: a finite privacy loss was found"
    if shots_hold is None or depol_hold is None or dpsgd is None or any(v is None for v in noise_only.values()):
        return stats.INCONCLUSIVE, f"missing results ({expected - found} of {expected} tasks)"
    if dpsgd.verdict != "consistent":
        failed = list(dpsgd.failed_checks)
        return stats.INCONCLUSIVE, (f"the DP-SGD audit reports {dpsgd.verdict!r} (failed: {failed}): "
                                    "the audit machinery is in doubt")
    if any(audit.verdict != "no-guarantee" for audit in noise_only.values()):
        return stats.INCONCLUSIVE, "a noise-only mechanism reported a finite accounted ε"
    return stats.SUPPORTED, None


def analyse(profile: Profile, results: Mapping[Task, Mapping[str, Any]]) -> C1Analysis:
    """The evidence and the verdict from C1's results (no files)."""
    own = [(task, result) for task, result in results.items() if task.claim == "c1"]
    audits = {t["mechanism"]: Audit.from_result(r) for t, r in own if t.kind == "audit"}
    counter = tuple(sorted((ShotCounterexample.from_result(t["shots"], r) for t, r in own
                            if t.kind == "shot_counterexample"), key=lambda c: c.shots))
    steps = tuple(r for t, r in own if t.kind in ("depolarizing_step", "device_step"))
    expected, found = len(tasks(profile)), len(audits) + len(counter) + len(steps)
    verdict, decisive = _decide(profile, counter, steps, audits, expected, found)
    reasons = ([decisive] if decisive else []) + _evidence_reasons(profile, counter, steps, audits)
    return C1Analysis(profile, expected, found, audits, counter, steps,
                      Verdict(CLAIM, verdict, RULE, tuple(reasons), profile.indicative))


# -- the report (tables, plot) --------------------------------------------------------------
def _headline(analysis: C1Analysis) -> str:
    parts = []
    if analysis.counterexamples:
        shots = ",".join(str(c.shots) for c in analysis.counterexamples)
        parts.append(f"exact: unbounded privacy loss from shot noise at N={shots} shots")
    if analysis.depolarizing_steps:
        kind = "depolarising" if device_of(analysis.profile) is None else f"{device_of(analysis.profile)} device"
        parts.append(f"exact {kind} step δ_∞={analysis.depolarizing_steps[0]['delta_infinite']:.3g}")
    dpsgd = analysis.dpsgd
    if dpsgd is not None:
        parts.append(f"audit: DP-SGD ε={dpsgd.epsilon_accounted:.3g} (lower bound {dpsgd.epsilon_lower_bound:.3g}, "
                     f"{dpsgd.verdict})")
    parts += [f"{m}-only ε lower bound {audit.epsilon_lower_bound:.3g}, no accounted ε"
              for m, audit in analysis.noise_only.items() if audit is not None]
    return "; ".join(parts)


def _tables(analysis: C1Analysis) -> tuple[Table, ...]:
    def interval(estimate: tuple[float, float, float]) -> str:
        return f"{estimate[0]:.4g} [{estimate[1]:.4g}, {estimate[2]:.4g}]"

    audit_rows = tuple((name, a.trials, a.clip_norm, a.noise_multiplier, a.epsilon_accounted, a.epsilon_lower_bound,
                        interval(a.canary_shift), interval(a.noise_std), a.verdict)
                       for name, a in analysis.profile_audits)
    counter_rows = tuple((c.shots, "∞" if not c.finite_epsilon_possible else c.max_log_likelihood_ratio,
                          c.delta_infinite, c.witness_value, c.witness_p_without, c.witness_p_with)
                         for c in analysis.counterexamples)
    return (
        Table("One-step canary audits at the same settings (ε in nats; shift and noise std along the canary "
              "gradient, 95% intervals)",
              ("mechanism", "trials/side", "C", "σ", "accounted ε", "ε lower bound", "canary shift", "noise std",
               "audit"), audit_rows),
        Table("Exact shot-noise counterexample (one qubit; D = {x = π/2}, canary x = 0)",
              ("shots N", "max |log LR|", "δ_∞", "witness S", "P(S | D)", "P(S | D′)"), counter_rows),
    )


def plot_audits(analysis: C1Analysis, out_dir: Path) -> tuple[Figure, ...]:
    """The audit bars (written to ``out_dir``), or nothing when no audit was found."""
    reference = analysis.dpsgd.epsilon_accounted if analysis.dpsgd else math.nan
    rows = [(name, audit.epsilon_lower_bound, audit.epsilon_accounted, reference)
            for name, audit in analysis.profile_audits]
    if not rows:
        return ()
    drawn = plots.plot_audit(Path(out_dir) / PLOT_NAME, rows,
                             title="C1: empirical ε lower bound vs accounted ε (dotted: DP-SGD's accounted ε)\n"
                                   + SIMULATION_LABEL)
    return (Figure(PLOT_NAME, "C1: audit of one training step, DP-SGD vs quantum noise alone, same model and canary",
                   drawn.series, drawn.texts),)


def _notes(analysis: C1Analysis) -> tuple[str, ...]:
    profile = analysis.profile
    first = analysis.dpsgd or next(iter(analysis.audits.values()), None)
    setting = first.record.get("setting", {}) if first is not None else {}
    return (
        f"Audit setting: {setting.get('model', profile.c1_model)} on the synthetic 'quantum' task, "
        f"expected batch {profile.c1_batch_size}, canary chosen from the public domain; DP-SGD σ calibrated for "
        f"ε={profile.c1_epsilon:g} over one epoch of Poisson steps (RDP), the one-step accounted ε by PLD "
        "(no subsampling: the audit forces the canary into the batch).",
        f"Shot noise: {profile.c1_shots} shots per expectation; depolarising: p={profile.c1_depolarizing:g} after "
        f"every moment, {profile.c1_trajectories} trajectories.",
        "An empirical lower bound can only show leakage, never privacy; the 'no guarantee' is the analytic part.",
        "TFQ's shot and trajectory sampling is not seeded by TensorFlow: the noise-only audits reproduce "
        "statistically, not bit for bit.",
    ) + (() if device_of(profile) is None else (
        f"On the {device_of(profile)} device model the noise-only evidence is the exact step under its calibrated "
        "channels (a deterministic map: different point masses on neighbouring datasets); the sampled shot and "
        "depolarising audits are not run on it (TFQ cannot simulate the compiled device circuit).",))


def render(analysis: C1Analysis, out_dir: Path) -> ClaimReport:
    """The claim's report: tables, headline and notes from ``analysis``; the plot into ``out_dir``."""
    return ClaimReport(
        claim=CLAIM, title=TITLE, statement=STATEMENT, verdict=analysis.verdict, numbers=analysis.to_json(),
        tables=_tables(analysis), plots=plot_audits(analysis, out_dir), headline=_headline(analysis),
        notes=_notes(analysis), simulation=bool(analysis.audits),  # the audits draw their noise from the task's seed
    )


def summarise(profile: Profile, results: Mapping[Task, Mapping[str, Any]], out_dir: Path) -> ClaimReport:
    """:func:`render` of :func:`analyse`: evidence, verdict, tables and the audit plot."""
    return render(analyse(profile, results), out_dir)
