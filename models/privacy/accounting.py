r"""Privacy accounting for DP-SGD with Poisson subsampling, through dp-accounting 0.4.3.

One DP-SGD step on a Poisson-subsampled batch (every example independently with probability
q) with per-example clipping at C and Gaussian noise N(0, σ²C²) on the sum is the event

    PoissonSampledDpEvent(q, GaussianDpEvent(σ)),     σ = noise_multiplier = stddev / C,

under add-or-remove-one adjacency (Abadi et al., CCS 2016; Mironov, Talwar & Zhang,
arXiv:1908.10530). T steps compose to ``SelfComposedDpEvent(·, T)``. ε at a target δ is computed
by two accountants and both are reported, never mixed up:

- ``rdp``: Rényi DP (Mironov, CSF 2017), ``dp_accounting.rdp.RdpAccountant`` with its default
  orders and its (tighter than the classic) RDP → (ε, δ) conversion;
- ``pld``: privacy loss distributions (Koskela et al. AISTATS 2020; Doroshenko et al. PETS 2022),
  ``dp_accounting.pld.PLDAccountant``; a numerically certified upper bound, tighter than RDP.

Reference figure (Abadi et al., CCS 2016, §3.1): q = 0.01, σ = 4, T = 10 000, δ = 1e-5 gives
ε ≈ 1.26 with the moments accountant of the paper; dp-accounting 0.4.3 gives 1.035 (RDP) and
0.947 (PLD); the tests hold these values.

Traps handled here:

- TF Privacy's ``compute_dp_sgd_privacy_statement`` defaults to ``used_microbatching=True``,
  which *halves σ* (microbatches of size > 1 double the add/remove sensitivity). privqml clips
  every example on its own (microbatch size 1), so :func:`tf_privacy_statement_epsilon` passes
  ``used_microbatching=False``.
- ε "assuming Poisson sampling" is honest only when the trainer really samples Poisson
  batches; privqml's trainer does (:func:`privqml.models.privacy.dpsgd.poisson_batch`). A shuffled
  fixed-size batching would need a different analysis; it is not offered.
- TF Privacy's statement counts ⌈epochs / q⌉ steps; privqml's trainer accounts for the steps it
  actually ran (the ledger of events returned by the Gaussian sum query).
- Outside its numerical range an accountant does not fail cleanly: a NaN σ (the 0/0 of a clip that
  is 0 in float32) loops forever in dp-accounting's fractional-order RDP series, and a per-step
  signal q·√(e^{1/σ²} − 1) below ~2⁻²⁶ gives a negative RDP (a ValueError) or an ε of 0. Every
  function here checks its σ and q at the boundary (:func:`check_accountable`, :func:`check_event`):
  σ finite, q ∈ (0, 1], q·√(e^{1/σ²} − 1) ≥ 2⁻¹⁶ (the derivation is in :mod:`privqml.validation`),
  and σ ≥ :data:`PLD_SIGMA_FLOOR` for the PLD accountant.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from typing import Sequence

import dp_accounting
from dp_accounting import pld, rdp

from privqml import validation
from privqml.errors import ConfigError

ACCOUNTANTS = ("rdp", "pld")
CALIBRATION_PLD_DISCRETIZATION = 1e-3  # coarser grid while searching: larger, still valid ε
PLD_SIGMA_FLOOR = 0.3  # below this the PLD grid of a subsampled Gaussian needs > 1 GB


def max_accountable_noise_multiplier(sampling_probability: float) -> float:
    """The largest σ for which q·√(e^{1/σ²} − 1) ≥ 2⁻¹⁶ (:data:`privqml.validation.ACCOUNTING_MIN_SIGNAL`
    = s): σ_max(q) = 1/√(log(1 + s²/q²)) — 2¹⁶ at q = 1, 0.43 at q = 10⁻⁶."""
    q = validation.probability("sampling_probability", sampling_probability)
    return 1.0 / math.sqrt(math.log1p((validation.ACCOUNTING_MIN_SIGNAL / q) ** 2))


def check_accountable(sampling_probability: float, noise_multiplier: float, accountant: str | None = None) -> float:
    """σ, if a Poisson-subsampled Gaussian step (q, σ) lies where the accountants are exact: q ∈ (0, 1],
    σ = 0 (no noise: ε = ∞) or 0 < σ ≤ :func:`max_accountable_noise_multiplier` (q), and for
    ``accountant="pld"`` σ ≥ :data:`PLD_SIGMA_FLOOR`; else a one-line ConfigError (never a loop)."""
    q = validation.probability("sampling_probability", sampling_probability)
    sigma = validation.non_negative("noise_multiplier", noise_multiplier, hint="sigma = noise stddev / clip")
    if sigma == 0:
        return sigma
    sigma_max = max_accountable_noise_multiplier(q)
    if sigma > sigma_max:
        raise ConfigError(
            f"noise_multiplier={noise_multiplier!r} at sampling_probability={q:.6g}: the per-step privacy loss "
            f"q*sqrt(exp(1/sigma^2) - 1) is below 2^-16, where dp-accounting's RDP loses its precision (a wrong "
            f"or failing epsilon); use a noise multiplier <= {sigma_max:.6g} at this q, or a larger batch"
        )
    if accountant == "pld" and sigma < PLD_SIGMA_FLOOR:
        raise ConfigError(
            f"noise_multiplier={noise_multiplier!r} is below {PLD_SIGMA_FLOOR:g}: the PLD accountant cannot finish "
            f"in bounded memory; use a noise multiplier >= {PLD_SIGMA_FLOOR:g} or the rdp accountant"
        )
    return sigma


def check_event(event: dp_accounting.DpEvent, accountant: str | None = None) -> dp_accounting.DpEvent:
    """``event`` if every Gaussian step in it is accountable (:func:`check_accountable`; a bare
    ``GaussianDpEvent`` is a step with q = 1) and every composition count is an integer ≥ 1."""
    if isinstance(event, dp_accounting.PoissonSampledDpEvent):
        inner = event.event
        if isinstance(inner, dp_accounting.GaussianDpEvent):
            check_accountable(event.sampling_probability, inner.noise_multiplier, accountant)
        else:
            validation.probability("sampling_probability", event.sampling_probability)
            check_event(inner, accountant)
    elif isinstance(event, dp_accounting.GaussianDpEvent):
        check_accountable(1.0, event.noise_multiplier, accountant)
    elif isinstance(event, dp_accounting.SelfComposedDpEvent):
        validation.integer("count", event.count, 1, hint="the number of composed steps")
        check_event(event.event, accountant)
    elif isinstance(event, dp_accounting.ComposedDpEvent):
        for part in event.events:
            check_event(part, accountant)
    return event


def make_accountant(accountant: str, pld_discretization: float = 1e-4) -> dp_accounting.PrivacyAccountant:
    """A fresh accountant by name (``rdp`` or ``pld``; PLD's grid step in units of privacy loss).

    dp-accounting's PLD is pessimistic by construction: a coarser grid gives a larger (still
    valid) ε, never a smaller one.
    """
    validation.choice("accountant", accountant, ACCOUNTANTS)
    if accountant == "rdp":
        return rdp.RdpAccountant()
    return pld.PLDAccountant(value_discretization_interval=pld_discretization)


def dpsgd_event(sampling_probability: float, noise_multiplier: float, steps: int) -> dp_accounting.DpEvent:
    """T Poisson-subsampled Gaussian steps as one DpEvent."""
    return _dpsgd_event(
        validation.probability("sampling_probability", sampling_probability),
        validation.non_negative("noise_multiplier", noise_multiplier),
        validation.integer("steps", steps, 1),
    )


def _dpsgd_event(q: float, sigma: float, steps: int) -> dp_accounting.DpEvent:
    step = dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma))
    return dp_accounting.SelfComposedDpEvent(step, steps)


def compress_ledger(events: Sequence[dp_accounting.DpEvent]) -> dp_accounting.DpEvent:
    """Compose a list of step events, runs of identical events as ``SelfComposedDpEvent``."""
    if not events:
        return dp_accounting.NoOpDpEvent()
    groups: list[list] = []
    for event in events:
        if groups and groups[-1][0] == event:
            groups[-1][1] += 1
        else:
            groups.append([event, 1])
    parts = [e if n == 1 else dp_accounting.SelfComposedDpEvent(e, n) for e, n in groups]
    return parts[0] if len(parts) == 1 else dp_accounting.ComposedDpEvent(parts)


def epsilon_of_event(
    event: dp_accounting.DpEvent, delta: float, accountant: str = "rdp", pld_discretization: float = 1e-4
) -> float:
    """ε(δ) of ``event`` by the named accountant (``inf`` when σ = 0); an event outside the
    accountants' exact range is refused (:func:`check_event`)."""
    delta = validation.delta("delta", delta)
    validation.choice("accountant", accountant, ACCOUNTANTS)
    check_event(event, accountant)
    try:
        return _epsilon_cached(event, delta, accountant, float(pld_discretization))
    except TypeError:  # an unhashable event: no cache
        return _epsilon_cached.__wrapped__(event, delta, accountant, float(pld_discretization))


@functools.lru_cache(maxsize=4096)
def _epsilon_cached(event, delta: float, accountant: str, pld_discretization: float) -> float:
    """ε of a (hashable, frozen) DpEvent; cached because RDP orders cost ~0.2-1 s per event."""
    acc = make_accountant(accountant, pld_discretization)
    if not acc.supports(event):
        raise ConfigError(f"the {accountant} accountant cannot account for {event}")
    return float(acc.compose(event).get_epsilon(delta))


def compute_epsilon(
    sampling_probability: float, noise_multiplier: float, steps: int, delta: float, accountant: str = "rdp"
) -> float:
    """ε(δ) of T Poisson-subsampled Gaussian steps (``inf`` for σ = 0)."""
    event = dpsgd_event(sampling_probability, noise_multiplier, steps)
    delta = validation.delta("delta", delta)
    if noise_multiplier == 0:
        return math.inf
    return epsilon_of_event(event, delta, accountant)


@functools.lru_cache(maxsize=1024)
def calibrate_noise_multiplier(
    target_epsilon: float,
    delta: float,
    sampling_probability: float,
    steps: int,
    accountant: str = "rdp",
    tol: float = 1e-4,
) -> float:
    """The smallest σ (within ``tol``) for which T steps are (target ε, δ)-DP by ``accountant``.

    Brent's method through ``dp_accounting.calibrate_dp_mechanism``; the returned σ is then
    *verified* (and nudged up by ``tol`` steps if needed) so that ε(σ) ≤ target ε always holds.
    Results are cached per argument tuple (calibration costs seconds at large q).

    The search stays inside the accountants' exact range: σ above
    :func:`max_accountable_noise_multiplier` (q) is evaluated at that maximum, and a target that
    even the maximum misses is refused (ConfigError) instead of failing inside dp-accounting. The RDP
    calibration may return a σ below :data:`PLD_SIGMA_FLOOR` (callers refuse it); the PLD one refuses
    such a target, since PLD cannot verify it in bounded memory.
    """
    target = validation.epsilon("epsilon", target_epsilon)
    delta = validation.delta("delta", delta)
    validation.choice("accountant", accountant, ACCOUNTANTS)
    if math.isinf(target):
        return 0.0
    q = validation.probability("sampling_probability", sampling_probability)
    steps = validation.integer("steps", steps, 1)
    sigma_max = max_accountable_noise_multiplier(q)

    def event(sigma: float):
        if sigma >= sigma_max:  # reached only for tiny targets; ε(σ_max) is computed once (cached)
            if epsilon_of_event(_dpsgd_event(q, sigma_max, steps), delta, "rdp") > target:
                raise ConfigError(
                    f"epsilon={target_epsilon} at delta={delta} with q={q:.3g}, steps={steps} needs "
                    f"a noise_multiplier above {sigma_max:.6g}, beyond which the accountants are not exact; use a "
                    "larger epsilon, a larger batch or fewer steps"
                )
        return _dpsgd_event(q, min(max(float(sigma), 1e-6), sigma_max), steps)

    def calibrate(name: str, bracket) -> float:
        try:
            return float(dp_accounting.calibrate_dp_mechanism(
                lambda: make_accountant(name, CALIBRATION_PLD_DISCRETIZATION), event, target, delta,
                bracket_interval=bracket, tol=tol,
            ))
        except dp_accounting.mechanism_calibration.NoBracketIntervalFoundError as exc:
            raise ConfigError(
                f"no noise_multiplier reaches epsilon={target_epsilon} at delta={delta} with "
                f"q={sampling_probability}, steps={steps}: {exc}"
            ) from exc

    sigma = calibrate("rdp", dp_accounting.LowerEndpointAndGuess(1e-3, 1.0))
    if accountant == "pld":
        # PLD discretises the privacy loss; at tiny sigma its grid explodes, so search near the
        # RDP answer only, never below PLD_SIGMA_FLOOR. If the lower end of the bracket already
        # meets the target we return it: more noise than needed is still (target, delta)-DP.
        upper = sigma
        if upper < PLD_SIGMA_FLOOR:
            floor_eps = epsilon_of_event(event(PLD_SIGMA_FLOOR), delta, "rdp")
            usable = validation.limit_text(floor_eps, lower=False, digits=3)
            raise ConfigError(
                f"epsilon={target_epsilon} needs noise_multiplier={upper:.3g} < {PLD_SIGMA_FLOOR} (rdp), below "
                f"which the PLD accountant cannot finish in bounded memory; use epsilon <= {usable} for this "
                f"q={q:.3g}, steps={steps}"
            )
        if epsilon_of_event(event(upper), delta, "pld", CALIBRATION_PLD_DISCRETIZATION) > target:  # PLD looser here: search up
            sigma = calibrate("pld", dp_accounting.LowerEndpointAndGuess(upper, 2.0 * upper))
        else:
            floor = max(upper / 2.0, PLD_SIGMA_FLOOR)
            if floor >= upper:
                sigma = upper
            elif epsilon_of_event(event(floor), delta, "pld", CALIBRATION_PLD_DISCRETIZATION) <= target:
                sigma = floor
            else:
                sigma = calibrate("pld", dp_accounting.ExplicitBracketInterval(floor, upper))
    for _ in range(1000):
        if epsilon_of_event(event(sigma), delta, accountant) <= target:
            return sigma
        sigma += tol
    raise AssertionError(f"calibrated sigma={sigma} does not reach epsilon={target}")  # pragma: no cover


@dataclasses.dataclass(frozen=True)
class PrivacyReport:
    """What a DP-SGD run spent, by both accountants (add-or-remove-one adjacency).

    Attributes:
        epsilon_rdp: ε at ``delta`` from the RDP accountant (``inf`` if not private).
        epsilon_pld: ε at ``delta`` from the PLD accountant (``inf`` if not private).
        delta: δ.
        noise_multiplier: σ = noise stddev / clip norm (dimensionless), as applied per step.
        sampling_probability: q = expected batch size / n_train (Poisson, each example
            independently per step).
        steps: T, the number of noised steps accounted for.
        sampling: always ``"poisson"`` (the trainer samples exactly what is accounted).
        calibrated_with: the accountant σ was calibrated with (``None`` if σ was given).
        target_epsilon: the budget asked for (``None`` if σ was given).
        private: False for a non-private reference run (no clipping, no noise).
    """

    epsilon_rdp: float
    epsilon_pld: float
    delta: float
    noise_multiplier: float
    sampling_probability: float
    steps: int
    sampling: str = "poisson"
    calibrated_with: str | None = None
    target_epsilon: float | None = None
    private: bool = True
    adjacency: str = "add_or_remove_one_example"

    def as_dict(self) -> dict:
        """The report as a dict; an infinite ε stays ``inf`` (written as ``"inf"`` by
        :mod:`privqml.jsonio`)."""
        return {
            "epsilon_rdp": float(self.epsilon_rdp),
            "epsilon_pld": float(self.epsilon_pld),
            "delta": self.delta,
            "noise_multiplier": self.noise_multiplier,
            "sampling_probability": self.sampling_probability,
            "steps": self.steps,
            "sampling": self.sampling,
            "calibrated_with": self.calibrated_with,
            "target_epsilon": None if self.target_epsilon is None else float(self.target_epsilon),
            "private": self.private,
            "adjacency": self.adjacency,
            "accountants": "epsilon_rdp: dp_accounting.rdp.RdpAccountant; epsilon_pld: dp_accounting.pld.PLDAccountant",
        }


def privacy_report(
    event: dp_accounting.DpEvent,
    delta: float,
    noise_multiplier: float,
    sampling_probability: float,
    steps: int,
    calibrated_with: str | None = None,
    target_epsilon: float | None = None,
    private: bool = True,
) -> PrivacyReport:
    """ε by both accountants of the composed ``event`` (the ledger the trainer spent)."""
    delta = validation.delta("delta", delta)
    if not private or noise_multiplier == 0:
        eps_rdp = eps_pld = math.inf
    else:
        eps_rdp = epsilon_of_event(event, delta, "rdp")
        eps_pld = epsilon_of_event(event, delta, "pld")
    return PrivacyReport(
        eps_rdp, eps_pld, delta, float(noise_multiplier), float(sampling_probability), int(steps),
        calibrated_with=calibrated_with, target_epsilon=target_epsilon, private=private,
    )


_POISSON_LINE = re.compile(r"Epsilon assuming Poisson sampling \(\*\):\s+([0-9.]+|inf)")


def tf_privacy_statement_epsilon(
    n_examples: int, batch_size: int, epochs: float, noise_multiplier: float, delta: float,
    used_microbatching: bool = False,
) -> float:
    """ε "assuming Poisson sampling" from TF Privacy's ``compute_dp_sgd_privacy_statement`` (RDP).

    A cross-check only. ``used_microbatching`` defaults to False here (TF Privacy's default,
    True, halves σ); TF Privacy counts ⌈epochs · n / batch_size⌉ steps.
    """
    # deliberately lazy: this cross-check is the only use of TF Privacy (and TensorFlow) here
    from tensorflow_privacy.privacy.analysis.compute_dp_sgd_privacy_lib import (
        compute_dp_sgd_privacy_statement,
    )

    text = compute_dp_sgd_privacy_statement(
        number_of_examples=n_examples, batch_size=batch_size, num_epochs=epochs,
        noise_multiplier=noise_multiplier, delta=delta, used_microbatching=used_microbatching,
    )
    match = _POISSON_LINE.search(text)
    assert match is not None, f"unexpected TF Privacy statement format:\n{text}"
    return float(match.group(1))


__all__ = [
    "ACCOUNTANTS",
    "PLD_SIGMA_FLOOR",
    "PrivacyReport",
    "calibrate_noise_multiplier",
    "check_accountable",
    "check_event",
    "compress_ledger",
    "compute_epsilon",
    "dpsgd_event",
    "epsilon_of_event",
    "make_accountant",
    "max_accountable_noise_multiplier",
    "privacy_report",
    "tf_privacy_statement_epsilon",
]
