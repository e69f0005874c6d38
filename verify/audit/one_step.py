r"""The one-step canary audit of a DP-SGD step.

A *step mechanism* releases the (noised) gradient sum of one batch, with or without a canary
example in it (:class:`StepMechanism`; adapters for privqml's trainer, its stock TF Privacy path,
broken variants and quantum-noise-only training are in :mod:`privqml.verify.audit.mechanisms`).
For DP-SGD with clip C and noise multiplier σ the release is

    R = Σ_{i∈B} clip_C(g_i) [+ clip_C(g_canary)] + N(0, σ²C² I),

so the white-box score s = ⟨R, u⟩ along the canary's gradient direction u is Gaussian with
standard deviation σC and shifted by ⟨clip_C(g_canary), u⟩ = min(C, ‖g_canary‖) ≤ C when the
canary is present: one step with the canary in the batch is the Gaussian mechanism with
μ = 1/σ, accounted by dp-accounting as ``GaussianDpEvent(σ)`` (no subsampling amplification:
the audit fixes the batch and forces the canary in, so the fair comparison is the unamplified
step; Jagielski et al. NeurIPS 2020; Nasr et al. USENIX Security 2023).

From ``trials`` releases on each side the audit estimates, with confidence intervals,

* the canary's shift (Welch interval) — must not exceed C (sensitivity);
* the noise standard deviation along u (χ² interval) — must reach σC;
* the empirical ε lower bound of the best threshold test on s (Clopper–Pearson, threshold
  chosen on separate trials; :func:`privqml.verify.audit.distinguishing.audit_distinguishing_test`) —
  must not exceed the accounted ε of the step;

* the noise's freshness: the with- and without-canary sides are run with different seeds, so
  the paired differences s_with,i − s_without,i have standard deviation √2·σC; noise replayed
  from a reset generator (the same draws whatever the seed) makes them ≈ 0 — then consecutive
  epochs of a run share their noise and the noise cancels in differences of updates;

and checks that the clip the mechanism applied is the same with and without the canary (a clip
computed from the training data changes when the data change: privacy leak). The four
statistical checks share the error budget 1 − confidence (Bonferroni: a quarter each).

Verdicts (:mod:`privqml.verify.audit.verdicts`): ``violation`` when a check fails;
``no-guarantee`` when no finite ε is accounted (no DP noise: quantum shot/trajectory noise alone,
or a non-private run); else ``consistent``. ``consistent`` means "no bug found at this power",
not a proof of privacy.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol

import dp_accounting
import numpy as np

from privqml import jsonio, validation
from privqml.errors import ConfigError
from privqml.models.privacy import accounting
from privqml.verify.audit.distinguishing import DistinguishingAudit, audit_distinguishing_test
from privqml.verify.audit.estimates import Estimate, mean_difference, standard_deviation
from privqml.verify.audit.verdicts import Check, verdict_of


class StepMechanism(Protocol):
    """What the one-step audit needs from a mechanism.

    Attributes:
        name: short label (``fast``, ``stock``, ``noise-omitted``, ``shots`` …).
        description: one line for reports.
        clip_norm: the public clip C the accountant is told (None: no clipping claimed).
        noise_multiplier: the σ the accountant is told (0: no DP noise claimed).
        canary_direction: unit vector u [P] along the canary's gradient (computed by the
            auditor from the model, independently of the trials).
        canary_norm: ‖g_canary‖₂ before clipping.
    """

    name: str
    description: str
    clip_norm: float | None
    noise_multiplier: float
    canary_direction: np.ndarray
    canary_norm: float

    def releases(self, with_canary: bool, n: int, seed: int) -> np.ndarray:
        """``n`` independent releases [n, P] of the step on the batch (+ canary)."""

    def clip_applied(self, with_canary: bool) -> float | None:
        """The clip the mechanism actually applied on the batch with / without the canary."""


@dataclasses.dataclass(frozen=True)
class StepAuditResult:
    """A one-step canary audit (units: ε in nats; shift and noise in gradient units, i.e. loss
    per unit weight, the units of the clip C).

    Attributes:
        mechanism, description: what was audited.
        trials: releases per side (with / without the canary).
        delta, confidence: the δ of the bound and the overall confidence of the checks.
        clip_norm, noise_multiplier: the claimed C and σ.
        epsilon_accounted: ε(δ) of one Gaussian step with σ (``accountant``); ∞ when σ = 0.
        epsilon_lower_bound: the empirical bound (``distinguishing``) at confidence 1 − α/4.
        canary_shift_estimate / canary_shift_expected: measured vs min(C, ‖g_canary‖).
        noise_std_estimate / noise_std_expected: measured along u vs σC.
        checks: every check with its numbers; verdict: see the module docstring.
    """

    mechanism: str
    description: str
    trials: int
    delta: float
    confidence: float
    clip_norm: float | None
    noise_multiplier: float
    accountant: str
    epsilon_accounted: float
    epsilon_lower_bound: float
    distinguishing: DistinguishingAudit
    canary_shift_estimate: Estimate
    canary_shift_expected: float | None
    noise_std_estimate: Estimate
    noise_std_expected: float
    checks: tuple[Check, ...]
    verdict: str

    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if not c.passed)

    def as_dict(self) -> dict:
        """The audit as privqml JSON values (:func:`privqml.jsonio.to_jsonable`): an infinite ε is
        ``"inf"``, and ``epsilon_accounted_finite`` says whether one was accounted."""
        return jsonio.to_jsonable({
            "mechanism": self.mechanism,
            "description": self.description,
            "verdict": self.verdict,
            "epsilon_accounted": self.epsilon_accounted,
            "epsilon_accounted_finite": math.isfinite(self.epsilon_accounted),
            "accountant": self.accountant,
            "epsilon_lower_bound": self.epsilon_lower_bound,
            "delta": self.delta,
            "confidence": self.confidence,
            "trials": self.trials,
            "clip_norm": self.clip_norm,
            "noise_multiplier": self.noise_multiplier,
            "canary_shift_estimate": self.canary_shift_estimate.as_dict(),
            "canary_shift_expected": self.canary_shift_expected,
            "noise_std_estimate": self.noise_std_estimate.as_dict(),
            "noise_std_expected": self.noise_std_expected,
            "distinguishing_test": self.distinguishing.as_dict(),
            "checks": [c.as_dict() for c in self.checks],
            "failed_checks": list(self.failed()),
        })


def step_epsilon(noise_multiplier: float, delta: float, accountant: str = "pld") -> float:
    """ε(δ) of one Gaussian step with noise multiplier σ (canary in the batch: no sampling), by
    the accountant named (:func:`privqml.models.privacy.accounting.epsilon_of_event` of
    ``GaussianDpEvent(σ)``); ∞ for σ = 0."""
    validation.choice("accountant", accountant, accounting.ACCOUNTANTS)
    if validation.non_negative("noise_multiplier", noise_multiplier) == 0:
        return math.inf
    return accounting.epsilon_of_event(dp_accounting.GaussianDpEvent(float(noise_multiplier)), delta, accountant)


def one_step_audit(
    mechanism: StepMechanism,
    *,
    trials: int,
    delta: float = 1e-5,
    confidence: float = 0.95,
    accountant: str = "pld",
    seed: int = 0,
    extra_checks: tuple = (),
) -> StepAuditResult:
    """Audit one step of ``mechanism`` with ``trials`` releases per side (see module docstring).

    ``extra_checks`` (already evaluated :class:`Check` records, e.g. the trainer's finite-release
    check) join the statistical ones and the verdict.
    """
    validation.integer("trials", trials, 20, hint="trials per side; use thousands for power")
    validation.delta("delta", delta)
    validation.confidence("confidence", confidence)
    validation.choice("accountant", accountant, accounting.ACCOUNTANTS)
    u = np.asarray(mechanism.canary_direction, dtype=np.float64)
    if not math.isclose(float(np.linalg.norm(u)), 1.0, rel_tol=1e-6):
        raise ConfigError(
            f"the canary direction has norm {np.linalg.norm(u):.3g}; it must be a unit vector "
            "(the canary's gradient is zero? choose a canary with a nonzero gradient)"
        )
    per_check = 1.0 - (1.0 - confidence) / 4.0
    with_scores = mechanism.releases(True, int(trials), seed) @ u
    without_scores = mechanism.releases(False, int(trials), seed + 1_000_003) @ u
    shift = mean_difference(with_scores, without_scores, per_check)
    noise = standard_deviation(without_scores, per_check)
    test = audit_distinguishing_test(with_scores, without_scores, delta=delta, confidence=per_check, seed=seed)
    sigma = float(mechanism.noise_multiplier)
    eps_acc = step_epsilon(sigma, delta, accountant)
    clip = mechanism.clip_norm
    checks = []
    applied = (mechanism.clip_applied(False), mechanism.clip_applied(True))
    if clip is not None:
        same = applied[0] == applied[1] == clip
        checks.append(Check(
            "clip-is-public", same,
            f"clip claimed C={clip:.6g}; applied {applied[0]!r} without the canary, {applied[1]!r} with it"
            + ("" if same else " — the clip depends on the training data (a privacy leak: count or refuse it)"),
        ))
        checks.append(Check(
            "sensitivity", shift.lower <= clip * (1 + 1e-6),
            f"canary shift {shift.value:.6g} [{shift.lower:.6g}, {shift.upper:.6g}] vs clip C={clip:.6g}",
        ))
        expected_noise = sigma * clip
        checks.append(Check(
            "noise-scale", noise.upper >= expected_noise * (1 - 1e-6),
            f"noise std along the canary {noise.value:.6g} [{noise.lower:.6g}, {noise.upper:.6g}] "
            f"vs sigma*C={expected_noise:.6g}",
        ))
        if expected_noise > 0:
            paired = standard_deviation(with_scores - without_scores, per_check)
            checks.append(Check(
                "noise-fresh", paired.upper >= expected_noise,
                f"std of paired differences across seeds {paired.value:.6g} [{paired.lower:.6g}, "
                f"{paired.upper:.6g}] vs sqrt(2)*sigma*C={math.sqrt(2) * expected_noise:.6g} for fresh noise"
                + ("" if paired.upper >= expected_noise else " — the noise replays whatever the seed"),
            ))
    else:
        expected_noise = 0.0
    checks.append(Check(
        "epsilon", test.epsilon_lower_bound <= eps_acc,
        f"empirical epsilon lower bound {test.epsilon_lower_bound:.4g} vs accounted {eps_acc:.4g} "
        f"({accountant}, one step, delta={delta:g})",
    ))
    checks.extend(extra_checks)
    expected_shift = None if clip is None else min(clip, float(mechanism.canary_norm))
    return StepAuditResult(
        mechanism=mechanism.name,
        description=mechanism.description,
        trials=int(trials),
        delta=float(delta),
        confidence=float(confidence),
        clip_norm=clip,
        noise_multiplier=sigma,
        accountant=accountant,
        epsilon_accounted=eps_acc,
        epsilon_lower_bound=float(test.epsilon_lower_bound),
        distinguishing=test,
        canary_shift_estimate=shift,
        canary_shift_expected=expected_shift,
        noise_std_estimate=noise,
        noise_std_expected=float(expected_noise),
        checks=tuple(checks),
        verdict=verdict_of(eps_acc, checks),
    )


__all__ = ["StepAuditResult", "StepMechanism", "one_step_audit", "step_epsilon"]
