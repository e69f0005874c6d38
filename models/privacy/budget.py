r"""The privacy budget of a DP-SGD run, checked before any work: one function for every command.

:func:`check_budget` takes what a user sets — (ε, δ) or σ, n, the expected batch size L, the epochs,
the accountant, C — and returns the :class:`Budget` the trainer will spend, or refuses with one
:class:`~privqml.errors.ConfigError` line saying what to do. ``privqml train`` (through
:func:`privqml.models.training.setup.run_setup`), ``privqml compare`` and ``privqml check`` (every
cell of a sweep, before the first run) call it, so every command refuses the same settings.

The run it describes: Poisson sampling with q = L/n (every example in a step's batch independently
with probability q), T = epochs · max(1, round(n/L)) steps, each the event
PoissonSampled(q, Gaussian(σ)) under add-or-remove-one adjacency (Abadi et al., CCS 2016; Mironov,
Talwar & Zhang, arXiv:1908.10530). Refused, in this order:

1. a malformed value (:mod:`privqml.validation`), C or σ outside the range where float32 arithmetic
   and the accountants are exact (C ∈ [2⁻⁶⁴, 2³²], σ ∈ {0} ∪ [0.3, 2¹⁶]; the derivation is in
   :mod:`privqml.validation`), and L > n;
2. δ ≥ 1/n (unless ``allow_large_delta``): the mechanism that publishes one uniformly chosen example
   outright is (0, 1/n)-DP, so such a δ promises nothing;
3. for a given σ: q·√(e^{1/σ²} − 1) < 2⁻¹⁶, where dp-accounting's RDP is not exact
   (:func:`~privqml.models.privacy.accounting.check_accountable`);
4. for a target ε: an ε no σ ≥ :data:`~privqml.models.privacy.accounting.PLD_SIGMA_FLOOR` = 0.3
   reaches. ε(σ) decreases in σ, so the calibrated σ is below the floor exactly when
   ε_RDP(q, 0.3, T, δ) < ε: this one RDP evaluation (a fraction of a second) refuses such an ε, and
   names the largest usable one, before any calibration (``privqml compare --epsilons 1000`` is
   refused at once). Otherwise σ is calibrated
   (:func:`~privqml.models.privacy.accounting.calibrate_noise_multiplier`, memoised per process) and
   raised by :data:`SIGMA_MARGIN`; an ε so small that σ would exceed the accountants' range
   (q·√(e^{1/σ²} − 1) < 2⁻¹⁶) is refused by the calibration.

Why the margin: TF Privacy applies the noise stddev float32(σ·C) to a float32 C, so the σ it applies,
f32(σC)/f32(C), may lie up to 2⁻²³ (relative) below σ; σ·(1 + 2⁻²⁰) is applied at or above the
calibrated σ, so the run spends at most the target ε.

This module imports no TensorFlow (dp-accounting and NumPy only): a sweep can check all its cells in
a process that has not loaded TensorFlow.
"""

from __future__ import annotations

import dataclasses
import functools
import math

from privqml import validation
from privqml.errors import ConfigError
from privqml.models.privacy import accounting

#: the per-example gradient paths of a DP step (:mod:`privqml.models.privacy.dpsgd`), named here so that a
#: configuration is checked without TensorFlow
PATHS = ("fast", "stock")

#: TF Privacy's float32 noise stddev may apply σ up to 2⁻²³ low: a calibrated σ is raised by this factor.
SIGMA_MARGIN = 1.0 + 2.0**-20


@dataclasses.dataclass(frozen=True)
class Budget:
    """What a DP-SGD run will spend, as the trainer applies it (add-or-remove-one adjacency).

    Attributes:
        sampling_probability: q = L/n, each example's probability of being in a step's Poisson batch.
        steps_per_epoch: max(1, round(n/L)).
        steps: T = epochs · steps_per_epoch, the steps accounted for.
        noise_multiplier: σ = noise stddev / C (dimensionless) as the trainer applies it: the given σ,
            or the calibrated σ times :data:`SIGMA_MARGIN`; 0 for a non-private run; None when the
            budget was only checked (``calibrate=False``), not calibrated.
        calibrated_with: the accountant σ was calibrated with, or None (σ given, or not private).
        target_epsilon: the ε asked for (``inf`` for a non-private run), or None when σ was given.
        delta: δ.
        private: False only for a non-private run (target ε = ∞: no clipping, no noise).
    """

    sampling_probability: float
    steps_per_epoch: int
    steps: int
    noise_multiplier: float | None
    calibrated_with: str | None
    target_epsilon: float | None
    delta: float
    private: bool


def check_budget(
    *,
    epsilon: float | None,
    delta: float,
    noise_multiplier: float | None,
    n_train: int,
    batch_size: int,
    epochs: int,
    accountant: str = "rdp",
    allow_large_delta: bool = False,
    clip: float | str | None = None,
    calibrate: bool = True,
) -> Budget:
    """The :class:`Budget` of a run, or a one-line ConfigError (module docstring for what is refused).

    Args:
        epsilon: the target ε (> 0; ``inf`` for a non-private run), or None when σ is given.
        delta: δ ∈ (0, 1), below 1/n_train unless ``allow_large_delta``.
        noise_multiplier: σ given directly (0, or in [0.3, 2¹⁶]), or None to calibrate it from ε.
        n_train: n, the number of private training examples.
        batch_size: L, the expected batch size (q = L/n).
        epochs: passes over the data; T = epochs · max(1, round(n/L)).
        accountant: ``rdp`` or ``pld``, the accountant σ is calibrated with.
        allow_large_delta: accept δ ≥ 1/n (the outputs must then say so).
        clip: C as a number, ``"bound"`` (checked once resolved), or None (not checked here).
        calibrate: False refuses exactly what True refuses but skips the calibration of σ (seconds per
            budget): the target ε is reachable with σ in [0.3, 2¹⁶] when ε(σ = 2¹⁶) ≤ ε ≤ ε(σ = 0.3), since
            ε decreases in σ. For a sweep's checks before its first run; σ is then None.

    Calls with equal arguments are answered from a per-process cache (a sweep checks many cells
    with the same budget); a refusal is recomputed, but its one RDP evaluation is cached too.
    """
    if epsilon is not None and noise_multiplier is not None:
        raise ConfigError(
            f"epsilon={epsilon} and noise_multiplier={noise_multiplier} both given; give a target epsilon "
            "(noise is calibrated) or a noise multiplier, not both"
        )
    if epsilon is None and noise_multiplier is None:
        raise ConfigError("give epsilon (target, or inf for no privacy) or noise_multiplier")
    if epsilon is not None:
        epsilon = validation.epsilon("epsilon", epsilon)
    if noise_multiplier is not None:
        noise_multiplier = validation.noise_multiplier(
            "noise_multiplier", noise_multiplier, positive_floor=accounting.PLD_SIGMA_FLOOR)
    if clip is not None:
        clip = validation.clip("clip", clip)
    return _check_budget(
        epsilon, validation.delta("delta", delta), noise_multiplier, validation.size("n_train", n_train),
        validation.integer("batch_size", batch_size, 1, hint="the expected batch size L"),
        validation.integer("epochs", epochs, 1), validation.choice("accountant", accountant, accounting.ACCOUNTANTS),
        bool(allow_large_delta), bool(calibrate),
    )


@functools.lru_cache(maxsize=4096)
def _check_budget(epsilon: float | None, delta: float, noise_multiplier: float | None, n_train: int,
                  batch_size: int, epochs: int, accountant: str, allow_large_delta: bool, calibrate: bool) -> Budget:
    """:func:`check_budget` after the values are checked one by one (canonical, hashable arguments)."""
    if batch_size > n_train:
        raise ConfigError(
            f"batch_size={batch_size} exceeds n_train={n_train}, the number of training examples; use "
            f"batch_size <= {n_train}"
        )
    q = batch_size / n_train
    steps_per_epoch = max(1, round(n_train / batch_size))
    steps = epochs * steps_per_epoch
    if epsilon is not None and math.isinf(epsilon):
        return Budget(q, steps_per_epoch, steps, 0.0, None, epsilon, delta, private=False)
    if delta >= 1.0 / n_train and not allow_large_delta:
        raise ConfigError(
            f"delta={delta:g} >= 1/n_train = {1.0 / n_train:.3g}: a mechanism that publishes one "
            f"training example outright meets it; use delta < {1.0 / n_train:.3g} (e.g. "
            f"{10 ** math.floor(math.log10(0.1 / n_train)):g}) or --allow-large-delta"
        )
    if noise_multiplier is not None:
        sigma = accounting.check_accountable(q, noise_multiplier, "pld")  # both accountants report ε
        return Budget(q, steps_per_epoch, steps, sigma, None, None, delta, private=True)
    floor = accounting.PLD_SIGMA_FLOOR
    accounting.check_accountable(q, floor, "pld")
    floor_eps = accounting.compute_epsilon(q, floor, steps, delta, "rdp")
    if floor_eps < epsilon:
        raise _unreachable(epsilon, f"noise_multiplier < {floor}", floor_eps, q, steps)
    ceiling = accounting.max_accountable_noise_multiplier(q)  # ≤ 2^16, the float-exact range's own end
    ceiling_eps = accounting.compute_epsilon(q, ceiling, steps, delta, "rdp")
    if ceiling_eps > epsilon:
        raise ConfigError(
            f"epsilon={epsilon:g} needs noise_multiplier > {ceiling:.6g}, beyond the range where float32 noise and "
            f"the accountants are exact at q={q:.3g}; use epsilon >= "
            f"{validation.limit_text(ceiling_eps, lower=True, digits=3)} for this q, T={steps}"
        )
    if not calibrate:
        return Budget(q, steps_per_epoch, steps, None, None, epsilon, delta, private=True)
    sigma = _calibrated_sigma(epsilon, delta, q, steps, accountant)
    if sigma < floor:  # at the floor within the calibration's tolerance
        raise _unreachable(epsilon, f"noise_multiplier={sigma:.3g} < {floor}", floor_eps, q, steps)
    applied = validation.noise_multiplier("noise_multiplier", sigma * SIGMA_MARGIN)
    accounting.check_accountable(q, applied, "pld")
    return Budget(q, steps_per_epoch, steps, applied, accountant, epsilon, delta, private=True)


def _unreachable(epsilon: float, needs: str, floor_eps: float, q: float, steps: int) -> ConfigError:
    return ConfigError(
        f"epsilon={epsilon:g} needs {needs}, below which the PLD accountant cannot finish in "
        f"bounded memory; use epsilon <= {validation.limit_text(floor_eps, lower=False, digits=3)} for this "
        f"q={q:.3g}, T={steps} (or epsilon=inf for a non-private run)"
    )


@functools.lru_cache(maxsize=4096)
def _calibrated_sigma(epsilon: float, delta: float, q: float, steps: int, accountant: str) -> float:
    """:func:`~privqml.models.privacy.accounting.calibrate_noise_multiplier`, memoised per process: σ is a
    pure function of (ε, δ, q, T, accountant), and a sweep calibrates the same budget for every arm,
    clip and replicate (about a second each time)."""
    return accounting.calibrate_noise_multiplier(epsilon, delta, q, steps, accountant)


def account(
    *,
    n_train: int,
    batch_size: int,
    epochs: int,
    delta: float,
    epsilon: float | None = None,
    noise_multiplier: float | None = None,
    accountant: str = "rdp",
    allow_large_delta: bool = False,
) -> accounting.PrivacyReport:
    """Accounting without training: the guarantee a ``privqml train`` run with these settings records.

    Give ``noise_multiplier`` (σ; ε follows) or ``epsilon`` (σ is calibrated with ``accountant`` and applied
    with the trainer's margin :data:`SIGMA_MARGIN`). Poisson sampling at q = L/n for T = epochs · round(n/L)
    steps, add-or-remove-one adjacency; ε by both accountants (RDP and PLD, :mod:`dp_accounting`). The same
    refusals as :func:`check_budget` (one line each). The trainer accounts the σ its float32 query applies,
    f32(σC)/f32(C) rounded down, so its ε can differ from this one in about the seventh digit.
    """
    budget = check_budget(epsilon=epsilon, delta=delta, noise_multiplier=noise_multiplier, n_train=n_train,
                          batch_size=batch_size, epochs=epochs, accountant=accountant,
                          allow_large_delta=allow_large_delta)
    event = accounting.dpsgd_event(budget.sampling_probability, budget.noise_multiplier, budget.steps)
    return accounting.privacy_report(event, budget.delta, budget.noise_multiplier, budget.sampling_probability,
                                     budget.steps, budget.calibrated_with, budget.target_epsilon, budget.private)


__all__ = ["Budget", "PATHS", "SIGMA_MARGIN", "account", "check_budget"]
