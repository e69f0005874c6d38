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

:func:`analyse` is the pure part (runs -> :class:`C2Analysis`: the runs as typed records, the
checks, the verdict); :func:`render` turns an analysis into the report's tables and two plots;
:func:`summarise` is the two in a row.

What the (ε, δ) of these runs covers: the released weights and updates, and the test accuracy. The
checks themselves read the clipping meter — per-example gradient norms, fractions clipped, clip
bias of the private training data — so every such column, field, headline and reason is marked
"not covered by ε" (:data:`DIAGNOSTIC_FIELDS`). The runs are simulations (noise and batches derived
from the task's seed): the plots and the verdict say so.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from privqml.paper_checks import plots, stats
from privqml.paper_checks.profiles import Profile
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.report import NOT_COVERED_LABEL, SIMULATION_LABEL, ClaimReport, Figure, Table, diagnostic
from privqml.paper_checks.stats import Verdict

CLAIM = "C2"
TITLE = "bounds control clipping bias"
STATEMENT = (
    "For a wide class of variational quantum models the per-example gradient norm has a deterministic bound; "
    "with it the clipping bias of DP-SGD is explicitly controlled (zero when the clipping threshold is at or "
    "above the bound)."
)
CLASSICAL_FAMILIES = ("mlp", "linear")
NORMS_PLOT, BIAS_PLOT = "c2_norms_vs_bound.png", "c2_bias_measured_vs_predicted.png"
CHECK_NORM = "max per-example norm <= G* at every step of every quantum run"
CHECK_ABOVE = "C >= G*: nothing clipped and bias exactly 0"
CHECK_BELOW = "C < G*: measured bias <= (G* - C)+ at every step"
CHECK_COVERAGE = "coverage: every family x task kind ran"
#: the fields of a quantum / classical run in the report's tables and in results.json
QUANTUM_COLUMNS = ("model", "dataset", "clip_ratio", "clip", "grad_norm_bound", "max_per_example_norm",
                   "clip_fraction_max", "clip_bias_max", "predicted_bias_max", "steps_over_bound",
                   "steps_bias_over_prediction", "test_accuracy")
CLASSICAL_COLUMNS = ("model", "dataset", "clip_ratio", "clip", "max_per_example_norm", "clip_fraction_max",
                     "clip_bias_max", "test_accuracy")
#: the fields of those rows computed from private per-example gradients (not covered by ε)
DIAGNOSTIC_FIELDS = ("max_per_example_norm", "clip_fraction_max", "clip_bias_max", "steps_over_bound",
                     "steps_bias_over_prediction")
DIAGNOSTICS_STATEMENT = (
    "max_per_example_norm, clip_fraction_max, clip_bias_max, steps_over_bound and steps_bias_over_prediction are "
    "read from the per-example gradients of the private training data: diagnostics, not covered by the "
    "(epsilon, delta) guarantee"
)
_LABEL = f"({NOT_COVERED_LABEL}: diagnostics of the private training data)"


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
    # TensorFlow and TFQ: imported only in the process that trains (not by the report).
    from privqml.paper_checks.training import run_training_task

    return run_training_task(task)


def result_privacy(task: Task, result: Mapping[str, Any]) -> dict[str, Any]:
    """What a run's result file says ε covers (:func:`privqml.paper_checks.training.result_privacy`)."""
    # TensorFlow comes with the training module: loaded once, by the driver that stores the results.
    from privqml.paper_checks.training import result_privacy as training_privacy

    return training_privacy(task, dict(result))


def _family(spec: str) -> str:
    return spec.split(":")[0]


# -- the analysis (pure) --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BiasRun:
    """One DP-SGD run of the grid as the clipping meter saw it (maxima and counts over every step).

    Norms and biases are in gradient-norm units (loss per unit weight): ``clip`` is C,
    ``grad_norm_bound`` the model's G* (None for a classical model), ``reference_grad_norm_bound``
    the G* C/G* refers to (a classical model's: that of its matched quantum model),
    ``max_per_example_norm`` max_t max_i ‖∇ℓ_i‖, ``clip_bias_max`` max_t ‖mean clip(g) − mean g‖,
    ``predicted_bias_max`` (G* − C)₊ (None for a classical run, which has no G*);
    ``clip_fraction_max`` the largest fraction of a batch clipped; the ``steps_*`` count steps
    (over G*, with bias over the prediction, with anything clipped); ``meter_readings`` the steps
    the meter read; ``test_accuracy`` a fraction.
    """

    model: str
    dataset: str
    clip_ratio: float
    replicate: int
    clip: float
    grad_norm_bound: float | None
    reference_grad_norm_bound: float | None
    max_per_example_norm: float | None
    clip_fraction_max: float | None
    clip_bias_max: float | None
    predicted_bias_max: float | None
    steps_over_bound: int
    steps_bias_over_prediction: int
    steps_clipped: int
    meter_readings: int
    test_accuracy: float

    @classmethod
    def from_result(cls, task: Task, result: Mapping[str, Any]) -> "BiasRun":
        """From a task record and its stored result (:func:`privqml.paper_checks.training.compact_run`)."""
        from_task = {"model": task["model"], "dataset": task["dataset"], "clip_ratio": task["clip_ratio"],
                     "replicate": task.replicate}
        from_result = {f.name: result[f.name] for f in dataclasses.fields(cls) if f.name not in from_task}
        return cls(**from_task, **from_result)

    @property
    def at_or_above(self) -> bool:
        """C ≥ G* (C/G* ≥ 1)."""
        return self.clip_ratio >= 1

    @property
    def clipped_anything(self) -> bool:
        return self.steps_clipped > 0 or (self.clip_bias_max or 0.0) != 0.0

    @property
    def norm_over_bound(self) -> float | None:
        """max‖g_i‖ / G* of a measured quantum run."""
        if self.max_per_example_norm is None:
            return None
        return self.max_per_example_norm / self.grad_norm_bound


@dataclasses.dataclass(frozen=True)
class ModelOnTask:
    """The runs of one model on one task kind, by (C/G*, replicate); ``bound`` is G* (for a
    classical model: the G* of the quantum model it is matched to), as its first run reported it."""

    model: str
    dataset: str
    quantum: bool
    bound: float
    runs: tuple[BiasRun, ...]

    @property
    def label(self) -> str:
        return f"{self.model}/{self.dataset}" + ("" if self.quantum else " (classical)")

    @property
    def max_norm(self) -> float:
        """The largest per-example norm over all its runs (0.0 where nothing was measured)."""
        return max(run.max_per_example_norm or 0.0 for run in self.runs)


@dataclasses.dataclass(frozen=True)
class C2Analysis:
    """The checks of C2 over its runs, and the verdict.

    ``checks`` maps each check to True (holds), False (fails) or None (could not be made);
    ``tightness`` is max over quantum runs of max‖g_i‖ / G* (None without a measured run); it and
    the checks rest on private per-example gradients (not covered by ε). ``simulation``: some run
    drew its noise from its recorded seed.
    """

    profile: Profile
    runs_expected: int
    runs_found: int
    quantum: tuple[ModelOnTask, ...]
    classical: tuple[ModelOnTask, ...]
    checks: Mapping[str, bool | None]
    tightness: float | None
    verdict: Verdict
    simulation: bool = False

    @property
    def quantum_runs(self) -> tuple[BiasRun, ...]:
        return tuple(run for group in self.quantum for run in group.runs)

    def to_json(self) -> dict[str, Any]:
        """The numbers behind the verdict (``claims.C2.numbers`` of results.json)."""
        return {
            "checks": dict(self.checks),
            "runs_expected": self.runs_expected, "runs_found": self.runs_found,
            "max_norm_over_bound": self.tightness,
            "quantum_runs": [dict(zip(QUANTUM_COLUMNS, row)) for row in _quantum_rows(self)],
            "classical_runs": [dict(zip(CLASSICAL_COLUMNS, row)) for row in _classical_rows(self)],
            "not_covered_by_epsilon": {"fields": [*DIAGNOSTIC_FIELDS, "max_norm_over_bound", "checks"],
                                       "statement": DIAGNOSTICS_STATEMENT},
            "simulation": self.simulation,
        }


def _quantum_rows(analysis: C2Analysis) -> list[tuple]:
    return [(run.model, run.dataset, run.clip_ratio, run.clip, group.bound, run.max_per_example_norm,
             run.clip_fraction_max, run.clip_bias_max, run.predicted_bias_max, run.steps_over_bound,
             run.steps_bias_over_prediction, run.test_accuracy)
            for group in analysis.quantum for run in group.runs]


def _classical_rows(analysis: C2Analysis) -> list[tuple]:
    return [(run.model, run.dataset, run.clip_ratio, run.clip, run.max_per_example_norm, run.clip_fraction_max,
             run.clip_bias_max, run.test_accuracy)
            for group in analysis.classical for run in group.runs]


def _groups(results: Mapping[Task, Mapping[str, Any]], quantum: bool) -> tuple[ModelOnTask, ...]:
    """C2's runs of quantum (or classical) models, per (model, task) in sorted order."""
    grouped: dict[tuple[str, str], list[BiasRun]] = defaultdict(list)
    for task, result in results.items():
        if task.claim == "c2" and (_family(task["model"]) not in CLASSICAL_FAMILIES) == quantum:
            grouped[(task["model"], task["dataset"])].append(BiasRun.from_result(task, result))
    return tuple(
        ModelOnTask(model, dataset, quantum,
                    runs[0].grad_norm_bound if quantum else runs[0].reference_grad_norm_bound,
                    tuple(sorted(runs, key=lambda run: (run.clip_ratio, run.replicate))))
        for (model, dataset), runs in sorted(grouped.items())
    )


def _checks(profile: Profile, quantum: tuple[ModelOnTask, ...]) -> dict[str, bool | None]:
    runs = [run for group in quantum for run in group.runs]
    above = [run for run in runs if run.at_or_above]
    below = [run for run in runs if not run.at_or_above]
    ran = {(group.model, group.dataset): len(group.runs) for group in quantum}
    combos = {(m, d) for m in profile.c2_families for d in profile.c2_datasets}
    coverage = combos <= set(ran) and all(
        ran[c] == len(profile.c2_clip_ratios) * profile.c2_seeds for c in combos if c in ran)
    return {
        CHECK_NORM: (not any(r.steps_over_bound > 0 or r.meter_readings == 0 for r in runs)) if runs else None,
        CHECK_ABOVE: (not any(r.clipped_anything for r in above)) if above else None,
        CHECK_BELOW: (not any(r.steps_bias_over_prediction > 0 for r in below)) if below else None,
        CHECK_COVERAGE: True if coverage else None,
    }


def _reasons(verdict: Verdict, quantum_runs: tuple[BiasRun, ...], classical: tuple[ModelOnTask, ...],
             tightness: float | None, expected: int, found: int) -> tuple[str, ...]:
    """The checks' outcomes, then the bound's tightness, whether clipping below it was active, the
    classical contrast and missing runs."""
    reasons = list(verdict.reasons)
    reasons.append(f"the checks read the clipping meter's per-example gradient norms {_LABEL}")
    if tightness is not None:
        reasons.append(f"largest observed max‖g_i‖ / G* over all quantum runs: {tightness:.3f} [{NOT_COVERED_LABEL}]")
    below = [run for run in quantum_runs if not run.at_or_above]
    active = [run for run in below if run.steps_clipped > 0]
    reasons.append(f"{len(active)} of {len(below)} quantum runs below the bound clipped at least one example"
                   + (" — check 3 is vacuous on these runs" if below and not active else "") + f" [{NOT_COVERED_LABEL}]")
    classical_above = [run for group in classical for run in group.runs if run.at_or_above]
    if classical_above:
        clipped = sum(run.steps_clipped > 0 for run in classical_above)
        reasons.append(f"contrast: classical baseline clipped examples in {clipped} of {len(classical_above)} runs "
                       f"at C >= the quantum G* (it has no such bound) [{NOT_COVERED_LABEL}]")
    if found < expected:
        reasons.append(f"{expected - found} of {expected} runs missing (failed or not run)")
    return tuple(reasons)


def analyse(profile: Profile, results: Mapping[Task, Mapping[str, Any]]) -> C2Analysis:
    """The checks and the verdict from C2's runs (no files)."""
    quantum, classical = _groups(results, quantum=True), _groups(results, quantum=False)
    expected = len(tasks(profile))
    found = sum(len(group.runs) for group in (*quantum, *classical))
    runs = tuple(run for group in quantum for run in group.runs)
    tightness = max((run.norm_over_bound for run in runs if run.norm_over_bound is not None), default=None)
    checks = _checks(profile, quantum)
    verdict = stats.check_verdict(CLAIM, checks, indicative=profile.indicative)
    reasons = _reasons(verdict, runs, classical, tightness, expected, found)
    simulation = any(bool(r.get("simulation")) for t, r in results.items() if t.claim == "c2")
    return C2Analysis(profile, expected, found, quantum, classical, checks, tightness,
                      Verdict(CLAIM, verdict.verdict, verdict.rule, reasons, verdict.indicative), simulation)


# -- the report (tables, plots) -------------------------------------------------------------
def _headline(analysis: C2Analysis) -> str:
    runs = analysis.quantum_runs
    above = [run for run in runs if run.at_or_above]
    below = [run for run in runs if not run.at_or_above]
    tightness = analysis.tightness
    return (
        (f"max‖g_i‖/G* = {tightness:.3g} over {len(runs)} quantum runs" if tightness is not None
         else "no quantum runs")
        + f"; steps over G*: {sum(run.steps_over_bound for run in runs)}"
        + f"; C ≥ G*: {sum(run.clipped_anything for run in above)} of {len(above)} runs clipped anything"
        + f"; C < G*: bias above (G*−C)+ in {sum(run.steps_bias_over_prediction > 0 for run in below)} of "
          f"{len(below)} runs ({sum(run.steps_clipped > 0 for run in below)} clipped) {_LABEL}"
    )


def plot_runs(analysis: C2Analysis, out_dir: Path) -> tuple[Figure, Figure]:
    """The norms-vs-bound bars and the bias plot, written to ``out_dir``."""
    groups = (*analysis.quantum, *analysis.classical)
    simulation = f"\n{SIMULATION_LABEL}" if analysis.simulation else ""
    norms = plots.plot_norms_vs_bound(Path(out_dir) / NORMS_PLOT,
                                      [(g.label, g.max_norm, g.bound, g.quantum) for g in groups],
                                      title=f"Largest per-example gradient norm / bound ({NOT_COVERED_LABEL}){simulation}")
    points = [(f"{g.model}/{g.dataset}" if g.quantum else f"classical:{g.model}/{g.dataset}", run.clip_ratio,
               run.clip_bias_max or 0.0, run.predicted_bias_max if g.quantum else None)
              for g in groups for run in g.runs]
    bias = plots.plot_bias(Path(out_dir) / BIAS_PLOT, points,
                           title=f"Clipping bias: measured vs predicted (measured: {NOT_COVERED_LABEL}){simulation}")
    return (
        Figure(NORMS_PLOT, "C2: largest per-example gradient norm over whole runs / G* (quantum ≤ 1 required)",
               norms.series, norms.texts),
        Figure(BIAS_PLOT, "C2: measured clipping bias vs the prediction (G* − C)+; right: against C/G*", bias.series,
               bias.texts),
    )


def render(analysis: C2Analysis, out_dir: Path) -> ClaimReport:
    """The claim's report: tables, headline and notes from ``analysis``; the plots into ``out_dir``."""
    profile = analysis.profile
    return ClaimReport(
        claim=CLAIM, title=TITLE, statement=STATEMENT, verdict=analysis.verdict, numbers=analysis.to_json(),
        tables=(
            Table("Quantum runs: per-example norms and clipping bias over whole runs (maxima over steps; the "
                  "meter's columns are diagnostics of the private training data, not covered by ε)",
                  ("model", "task", "C/G*", "C", "G*", diagnostic("max‖g_i‖"), diagnostic("clipped frac"),
                   diagnostic("bias"), "(G*−C)+", diagnostic("steps >G*"), diagnostic("steps bias>pred"), "test acc"),
                  tuple(_quantum_rows(analysis))),
            Table("Classical baseline at the same C (ratios of the matched quantum model's G*; the meter's columns "
                  "are diagnostics of the private training data, not covered by ε)",
                  ("model", "task", "C/G*", "C", diagnostic("max‖g_i‖"), diagnostic("clipped frac"),
                   diagnostic("bias"), "test acc"),
                  tuple(_classical_rows(analysis))),
        ),
        headline=_headline(analysis),
        plots=plot_runs(analysis, out_dir),
        notes=(
            f"DP-SGD at ε={profile.c2_epsilon:g}, δ={profile.delta:g}, {profile.c2_epochs} epoch(s), expected batch "
            f"{profile.batch_size}; the meter reads every step (the meter's per-example norms are a diagnostic, "
            "not covered by the run's (ε, δ)).",
            "Float32 tolerance: a step counts as over the bound if max‖g_i‖ > G*(1 + 1e-5).",
        ) + tuple(f"Not run on the device (noiseless only): {why}." for why in profile.device_skipped
                  if not why.startswith("C3 ")) + (
            (f"{SIMULATION_LABEL}: every run derives its noise and Poisson batches from the task's recorded seed.",)
             if analysis.simulation else ()),
        simulation=analysis.simulation,
    )


def summarise(profile: Profile, results: Mapping[Task, Mapping[str, Any]], out_dir: Path) -> ClaimReport:
    """:func:`render` of :func:`analyse`: checks, verdict, tables and the two plots."""
    return render(analyse(profile, results), out_dir)
