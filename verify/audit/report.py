r"""What ``privqml audit`` reports, assembled: the audits it runs, their verdict and their notes.

**A training configuration** (:func:`audit_report`): the setting of a training run with the given
options (:func:`~privqml.verify.audit.setting.build_setting`) and

1. the one-step canary audit (:func:`~privqml.verify.audit.one_step.one_step_audit`) of the
   mechanism asked for — the trainer's own step on its ``path``, a trainer fault of
   :mod:`privqml.verify.audit.broken` injected into it, a broken NumPy variant
   (:mod:`privqml.verify.audit.mechanisms`), or quantum noise alone — with ``trials`` releases per
   side (default :data:`DEFAULT_TRIALS`, ×:data:`THOROUGH_FACTOR` when ``thorough``); the
   trainer's step also gets the finite-release check and a replay of a short run trained with it
   (:func:`~privqml.verify.audit.replay.short_run_replay`);
2. with ``thorough`` (DP-SGD, nothing injected): the same audit with the whole step per trial
   (``real_steps``, trials/100 but at least 50, seed + 1);
3. with ``whole_run``: one training run with 1000 canaries (4000 when ``thorough``)
   (:func:`~privqml.verify.audit.one_run.one_run_training_audit`, its own 50 steps of batch 16 on
   128 examples) of the setting's model on its ``path`` at the given clip and at
   σ = max(the setting's σ, :data:`WHOLE_RUN_MIN_NOISE_MULTIPLIER`); for the quantum-noise
   mechanisms at C = 1, σ = 1.

The verdict (:mod:`privqml.verify.audit.verdicts`) is the one-step audit's, made ``violation``
when the real-step audit finds one; the whole-run audit reports its own verdict beside it.

**A finished run** (:func:`run_audit_report`): :func:`~privqml.verify.audit.trained_run.audit_run`
on the run's own data (checked by its fingerprint) and record, at the run's own configuration,
with the same trial counts (dpsgd) and 1000 canaries (4000 when ``thorough``); ``inject`` may
name a trainer fault or a record fault (:data:`~privqml.verify.audit.trained_run.RUN_FAULTS`).
"""

from __future__ import annotations

import dataclasses
import math

from privqml import jsonio, validation
from privqml.models.privacy import dpsgd
from privqml.verify.audit.broken import FAULTS, broken_trainer
from privqml.verify.audit.mechanisms import BROKEN_MECHANISMS, TrainerStepMechanism
from privqml.verify.audit.one_run import RunAuditResult, one_run_training_audit
from privqml.verify.audit.one_step import StepAuditResult, one_step_audit
from privqml.verify.audit.record import DEFAULT_ALPHA
from privqml.verify.audit.setting import MECHANISMS, AuditSetting, build_setting, setting_mechanism
from privqml.verify.audit.replay import short_run_replay
from privqml.verify.audit.trained_run import RunAudit, audit_run

DEFAULT_TRIALS = {"dpsgd": 20_000, "shots": 50, "depolarizing": 40}
THOROUGH_FACTOR = 10
WHOLE_RUN_CANARIES = 1000
WHOLE_RUN_MIN_NOISE_MULTIPLIER = 1.0
#: What ``inject`` may name: a trainer fault, or a NumPy mechanism built on the trainer's gradients.
INJECTABLE = FAULTS + ("reference",) + BROKEN_MECHANISMS


def default_trials(mechanism: str, thorough: bool = False) -> int:
    """Trials per side of the one-step audit of ``mechanism`` when none are given."""
    return DEFAULT_TRIALS[mechanism] * (THOROUGH_FACTOR if thorough else 1)


def _canaries(thorough: bool) -> int:
    return WHOLE_RUN_CANARIES * (4 if thorough else 1)


@dataclasses.dataclass(frozen=True)
class AuditReport:
    """The audits of one training configuration (module docstring) and what they say together.

    Attributes:
        setting: the audited configuration (model, data, C, σ, q, T, batch, canary).
        step: the one-step canary audit.
        canary_gradient_norm: ‖g_canary‖₂ before clipping, in the units of C.
        real_step: the audit with the whole step per trial (``thorough``), or None.
        whole_run: the one-run, many-canary audit (``whole_run``), or None.
    """

    setting: AuditSetting
    step: StepAuditResult
    canary_gradient_norm: float
    real_step: StepAuditResult | None = None
    whole_run: RunAuditResult | None = None

    @property
    def verdict(self) -> str:
        """The one-step audit's verdict, ``violation`` when the real-step audit finds one."""
        if self.real_step is not None and self.real_step.verdict == "violation":
            return "violation"
        return self.step.verdict

    @property
    def power_note(self) -> str | None:
        """Why the lower bound cannot approach the accounted ε, when the canary is not clipped."""
        clip = self.step.clip_norm
        if clip is None or self.canary_gradient_norm >= clip:
            return None
        return (
            f"the canary's gradient norm {self.canary_gradient_norm:.4g} is below the clip C={clip:.4g}: "
            "its shift is smaller than the sensitivity the accountant assumes, so the lower bound cannot "
            "approach the accounted epsilon (a smaller --clip makes the audit sharper)"
        )

    @property
    def epsilon_accounted_note(self) -> str:
        """What the accounted ε of the one-step audit is."""
        if math.isfinite(self.step.epsilon_accounted):
            return ("one DP-SGD step with the canary in the batch (GaussianDpEvent(noise_multiplier), no sampling "
                    f"amplification); the whole run's target epsilon is {self.setting.target_epsilon:g} (δ = "
                    f"{self.setting.delta:g}, over its T = {self.setting.steps} subsampled steps)")
        return "no finite epsilon is accounted: no DP noise is added, the only randomness is quantum noise"

    def as_dict(self) -> dict:
        """Everything ``privqml audit --json`` prints: the one-step audit's fields, then the setting,
        the notes, the optional audits and the verdict, as privqml JSON values."""
        report = self.step.as_dict()
        report["setting"] = self.setting.describe()
        report["canary_gradient_norm"] = self.canary_gradient_norm
        if self.power_note is not None:
            report["power_note"] = self.power_note
        report["epsilon_accounted_note"] = self.epsilon_accounted_note
        if self.real_step is not None:
            report["real_step_audit"] = self.real_step.as_dict()
        if self.whole_run is not None:
            report["whole_run_audit"] = self.whole_run.as_dict()
        report["verdict"] = self.verdict
        return jsonio.to_jsonable(report)


def audit_report(
    model: str = "hea",
    dataset: str = "quantum",
    *,
    epsilon: float = 1.0,
    delta: float = 1e-5,
    clip: float | str = "bound",
    mechanism: str = "dpsgd",
    path: str = "fast",
    inject: str | None = None,
    trials: int | None = None,
    thorough: bool = False,
    whole_run: bool = False,
    shots: int = 100,
    noise: float = 0.05,
    seed: int = 0,
) -> AuditReport:
    """Audit the training configuration given by the options (module docstring)."""
    validation.choice("mechanism", mechanism, MECHANISMS)
    clip = validation.clip("clip", clip)
    if inject is not None:
        validation.choice("inject", inject, INJECTABLE, what="trainer fault or broken mechanism")
    if trials is None:
        trials = default_trials(mechanism, thorough)
    validation.integer("trials", trials, 20, hint="trials per side; use thousands for power")
    trainer_fault = inject if inject in FAULTS else None
    trainer = broken_trainer(trainer_fault) if trainer_fault else dpsgd.GAUSSIAN
    setting = build_setting(model, dataset, epsilon=epsilon, delta=delta, clip=clip, mechanism=mechanism,
                            shots=shots, noise=noise, path=path, seed=seed)
    mech = setting_mechanism(setting, mechanism, path=path, inject=None if trainer_fault else inject, trainer=trainer)
    extra = ()
    if isinstance(mech, TrainerStepMechanism):
        extra = (mech.nonfinite_canary_check(), short_run_replay(setting, path=path, mechanism=trainer))
    step = one_step_audit(mech, trials=trials, delta=delta, seed=seed, extra_checks=extra)
    real_step = None
    if thorough and mechanism == "dpsgd" and not inject:
        real = setting_mechanism(setting, mechanism, path=path, real_steps=True)
        real_step = one_step_audit(real, trials=max(50, trials // 100), delta=delta, seed=seed + 1)
    whole = None
    if whole_run:
        private_step = mechanism == "dpsgd"
        whole = one_run_training_audit(
            setting.model_spec, dataset, clip=clip if private_step else 1.0,
            noise_multiplier=max(setting.noise_multiplier, WHOLE_RUN_MIN_NOISE_MULTIPLIER) if private_step else 1.0,
            delta=delta, n_canaries=_canaries(thorough), seed=seed, path=path,
            mechanism="noise-omitted" if inject == "noise-omitted" else "correct",
        )
    return AuditReport(setting, step, float(mech.canary_norm), real_step, whole)


def run_audit_report(run_dir, *, inject: str | None = None, trials: int | None = None, thorough: bool = False,
                     seed: int = 0, alpha: float = DEFAULT_ALPHA) -> RunAudit:
    """Audit the finished run in ``run_dir`` at its own configuration (module docstring); ``alpha``
    is the false-alarm probability of each record check."""
    if trials is None:
        trials = default_trials("dpsgd", thorough)
    return audit_run(run_dir, trials=trials, n_canaries=_canaries(thorough), inject=inject, seed=seed, alpha=alpha)


__all__ = ["AuditReport", "DEFAULT_TRIALS", "INJECTABLE", "THOROUGH_FACTOR", "WHOLE_RUN_CANARIES",
           "WHOLE_RUN_MIN_NOISE_MULTIPLIER", "audit_report", "default_trials", "run_audit_report"]
