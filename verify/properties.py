r"""The properties a bound must satisfy, as pure checks of engine results.

Each check compares one engine's :class:`~privqml.verify.engines.GradientResult` on a batch with
a bound and returns an :class:`Observation`: the largest observed ratio ``observed / bound`` (or
``|difference| / tolerance`` for agreement), and whether every entry passed. An entry passes
when observed ≤ bound + tolerance, the tolerance being the engine's stated numerical error
(float32 TFQ engines, see :mod:`privqml.verify.engines`); the ratio is reported raw, except
against a bound smaller than the tolerance, where it is ``observed / (bound + tolerance)`` (≤ 1 when
the entry passes).

=================  =============================================================================
property           what must hold, for every example b and observable c
=================  =============================================================================
``per_weight``     |∂f_c/∂θ_j| ≤ B_j (``bound.per_weight``), exact engines
``total``          ‖∇f_c‖ ≤ G_c (``bound.per_observable``) and ≤ ``bound.pointwise(x_b)``
``loss``           ‖∇_θ ℓ‖ ≤ ``loss_gradient_bound(ansatz, loss).value`` for every bounded loss
``shots``          every finite-shot estimate ĝ obeys ``gradient_bound(ansatz, sampled=True)``
                   (per weight and total) and the estimator bound: per weight
                   |ĝ_j| ≤ ((e_max − e_min)/2) Σ_k Ω_k |∂t_k/∂θ_j| with Ω_k the *theory's* spreads
                   (no pruning; e the range of a sample mean), and
                   ‖ĝ_c‖ ≤ (e-half-range / h_c) · ``naive_by_observable[c]``
``noisy``          the exact noisy gradient obeys the noiseless ansatz's bound (per weight and
                   total) and the noisy ansatz's own bound; every trajectory estimate obeys
                   the estimator bound as for shots
``agree``          |g_engine − g_reference| ≤ tol_engine + tol_reference (Hoeffding for shots)
``zero``           ∂f_c/∂θ_j = 0 (within tolerance) for every j in ``bound.zero_weights``
=================  =============================================================================

Why the shots property uses the un-pruned bound: a single shot estimate of ∂f/∂t_k is a
difference of two *independent* sample means of the shifted circuits. For a slot outside the
observable's light cone (or commuting with it) the two means have the same expectation but not
the same value, so the estimate is not zero; the pruned bound (``grad_norm_bound``) is a bound on
the *gradient*, not on its estimators. A DP clipping threshold for hardware gradients must
therefore be the un-pruned bound at the sampling range: the theory's
``gradient_bound(ansatz, sampled=True)``, which ``check_sampled_bound`` holds every estimate to.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from privqml.theory.ansatz import Ansatz
from privqml.theory.observable_range import observable_range
from privqml.theory.loss import loss_gradient_bound
from privqml.verify.engines import GradientResult, angle_map, observable_norms
from privqml.verify.losses import dloss_dvalues, loss_gradients

PROPERTIES = ("per_weight", "total", "loss", "shots", "noisy", "agree", "zero")
RELATIVE_SLACK = 1e-9  # float64 slack on bounds computed in float64 (relative)


@dataclasses.dataclass(frozen=True)
class Observation:
    """The outcome of one property check on one batch.

    Attributes:
        property: the property's name (see :data:`PROPERTIES`).
        engine: the engine whose result was checked.
        passed: every entry within bound + tolerance.
        ratio: the largest observed/bound (or difference/tolerance); ``inf`` when a nonzero
            value met a zero bound; 0 when nothing was checked.
        row: the batch row of the worst entry.
        detail: a one-line description of the worst entry.
    """

    property: str
    engine: str
    passed: bool
    ratio: float
    row: int
    detail: str


def _worst(name: str, engine: str, observed: np.ndarray, bound: np.ndarray, tolerance: np.ndarray, label) -> Observation:
    """Compare observed ≤ bound + tolerance entrywise ([batch, ...] arrays); ``label(index)`` names an entry."""
    observed, bound = np.broadcast_arrays(np.asarray(observed, float), np.asarray(bound, float))
    tolerance = np.broadcast_to(np.asarray(tolerance, float), observed.shape)
    if observed.size == 0:
        return Observation(name, engine, True, 0.0, 0, "nothing to check")
    slack = tolerance + RELATIVE_SLACK * np.abs(bound)
    failed = observed > bound + slack
    # a bound below the engine's resolution (0 < bound ≤ slack, e.g. a term ∝ a noise strength of
    # 1e-300) is measured against bound + slack: the raw ratio would be noise over nothing
    resolved = np.where(bound > slack, bound, bound + slack)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bound > 0, observed / np.where(bound > 0, resolved, 1.0), np.where(observed > slack, np.inf, 0.0))
    excess = np.where(failed, observed - bound - slack, -np.inf)
    index = np.unravel_index(int(np.argmax(excess)) if failed.any() else int(np.argmax(ratio)), observed.shape)
    detail = f"{label(index)}: observed {observed[index]:.6g} vs bound {bound[index]:.6g} (tolerance {slack[index]:.2g})"
    return Observation(name, engine, not bool(failed.any()), float(np.max(ratio)), int(index[0]), detail)


def check_per_weight(bound, result: GradientResult) -> Observation:
    """|∂f_c/∂θ_j| ≤ B_j for every example, observable and weight."""
    per_weight = np.asarray(list(bound.per_weight.values()), dtype=float)
    names = list(bound.per_weight)
    return _worst("per_weight", result.engine, np.abs(result.jacobian), per_weight[None, None, :], result.tolerance,
                  lambda i: f"example {i[0]}, observable {i[1]}, |d f/d {names[i[2]]}|")


def check_total(bound, result: GradientResult, inputs: np.ndarray) -> Observation:
    """‖∇f_c‖ ≤ G_c and ‖∇f_c‖ ≤ pointwise(x_b)."""
    norms = result.grad_norms()  # [B, C]
    tol = np.linalg.norm(result.tolerance, axis=-1)
    per_obs = np.asarray(bound.per_observable, dtype=float)[None, :]
    pointwise = np.asarray([bound.pointwise(x) for x in inputs], dtype=float)[:, None]
    limit = np.minimum(per_obs, pointwise)
    return _worst("total", result.engine, norms, limit, tol,
                  lambda i: f"example {i[0]}, ||grad f_{i[1]}||")


def check_loss(ansatz: Ansatz, bound, result: GradientResult, loss: str, labels: np.ndarray,
               clamp: float | None = None) -> Observation:
    """‖∇_θ ℓ‖ ≤ the loss-gradient bound (skipped, ratio 0, when the bound is ``None``)."""
    loss_bound = loss_gradient_bound(ansatz, loss, clamp=clamp, bound=bound)
    name = f"loss:{loss}"
    if loss_bound.value is None:
        return Observation("loss", result.engine, True, 0.0, 0, f"{loss}: unbounded ({loss_bound.unbounded_reason})")
    grads = loss_gradients(result, ansatz, loss, labels, clamp=clamp)
    # ∇ℓ = Σ_c λ_c ∇f_c: the Jacobian tolerance enters weighted by |λ_c| = |∂ℓ/∂f_c|
    lam = np.abs(dloss_dvalues(result.values, ansatz, loss, labels, clamp))
    tol = np.einsum("bc,bc->b", lam, np.linalg.norm(result.tolerance, axis=-1))
    return _worst("loss", result.engine, np.linalg.norm(grads, axis=-1), np.full(grads.shape[0], loss_bound.value), tol,
                  lambda i: f"example {i[0]}, {name} labels, ||grad loss||")


def estimator_bounds(ansatz: Ansatz, bound, weights: np.ndarray, inputs: np.ndarray,
                     mean_width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(per-weight [B, C, P], total [C]) bounds on single estimates with sample means of width ``mean_width`` [C].

    Per weight: (width/2)·Σ_k Ω_k |∂t_k/∂θ_j(θ_b, x_b)| with the theory's spreads Ω_k; total:
    (width_c/2)/h_c · naive_c, h_c the half-range of the observable's exact range.
    """
    amap = angle_map(ansatz)
    derivatives = np.abs(amap.derivatives(weights, inputs))  # [B, K, P]
    per_weight = np.einsum("k,bkp->bp", amap.spreads, derivatives)[:, None, :] * (mean_width / 2.0)[None, :, None]
    half_ranges = np.asarray([(hi - lo) / 2.0 for lo, hi in bound.observable_ranges], dtype=float)
    naive = np.asarray(bound.naive_by_observable, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.where(half_ranges > 0, (mean_width / 2.0) / half_ranges * naive, 0.0)
    return per_weight, total


def eigenvalue_widths(ansatz: Ansatz) -> np.ndarray:
    """[n_observables] λ_max − λ_min: the range of one trajectory's (pure-state) expectation."""
    ranges = [observable_range(o) for o in ansatz.observables]
    return np.asarray([hi - lo for lo, hi, _ in ranges], dtype=float)


def sample_mean_widths(ansatz: Ansatz) -> np.ndarray:
    """[n_observables] 2 Σ_t |c_t|: the range of a finite-shot sample mean of the Pauli sum
    (each term is sampled separately, so every term can take its extreme value at once)."""
    return 2.0 * observable_norms(ansatz)


def check_sampled_bound(name: str, sampled_bound, result: GradientResult, inputs: np.ndarray) -> Observation:
    """Every single estimate obeys the theory's bound for estimates, ``gradient_bound(ansatz,
    sampled=True)`` (un-pruned, at the sample-mean range c_0 ∓ Σ|c_t|), per weight and in total.

    The estimate is judged as a value: only float32 slack (1e-5 relative), not its statistical
    tolerance."""
    slack = 1e-5 * (1.0 + np.abs(result.jacobian))
    as_value = dataclasses.replace(result, tolerance=slack)
    return merge(name, [check_per_weight(sampled_bound, as_value), check_total(sampled_bound, as_value, inputs)])


def check_estimates(name: str, ansatz: Ansatz, bound, result: GradientResult, weights: np.ndarray,
                    inputs: np.ndarray, mean_width: np.ndarray) -> Observation:
    """Every stochastic estimate obeys the estimator bound (per weight and total), see the module table."""
    per_weight, total = estimator_bounds(ansatz, bound, weights, inputs, mean_width)
    names = [w.name for w in ansatz.weights]
    tol = 1e-5 * (1.0 + per_weight)  # float32 arithmetic of the estimates
    first = _worst(name, result.engine, np.abs(result.jacobian), per_weight, tol,
                   lambda i: f"example {i[0]}, observable {i[1]}, estimate of d f/d {names[i[2]]}")
    second = _worst(name, result.engine, result.grad_norms(), total[None, :], 1e-5 * (1.0 + total[None, :]),
                    lambda i: f"example {i[0]}, ||estimate of grad f_{i[1]}||")
    return merge(name, [first, second])


def check_agreement(result: GradientResult, reference: GradientResult, weight_names) -> Observation:
    """|g − g_ref| ≤ tol + tol_ref entrywise (ratio = |difference| / tolerance)."""
    diff = np.abs(result.jacobian - reference.jacobian)
    tol = result.tolerance + reference.tolerance
    observation = _worst("agree", result.engine, diff / tol, np.ones_like(diff), np.zeros_like(diff),
                         lambda i: f"example {i[0]}, observable {i[1]}, d f/d {weight_names[i[2]]} vs {reference.engine} "
                                   f"({result.jacobian[i]:.6g} vs {reference.jacobian[i]:.6g}) in units of the tolerance")
    return observation


def check_zero(bound, result: GradientResult) -> Observation:
    """∂f_c/∂θ_j = 0 within tolerance for every provably-zero weight j."""
    names = list(bound.weight_names)
    index = [names.index(w) for w in bound.zero_weights]
    if not index:
        return Observation("zero", result.engine, True, 0.0, 0, "no provably-zero weight")
    observed = np.abs(result.jacobian[:, :, index])
    return _worst("zero", result.engine, observed, np.zeros_like(observed), result.tolerance[:, :, index],
                  lambda i: f"example {i[0]}, observable {i[1]}, d f/d {names[index[i[2]]]} (provably zero)")


def merge(name: str, observations) -> Observation:
    """One observation from several (failed first, else the largest ratio)."""
    observations = list(observations)
    if not observations:
        return Observation(name, "-", True, 0.0, 0, "nothing checked")
    failed = [o for o in observations if not o.passed]
    worst = failed[0] if failed else max(observations, key=lambda o: o.ratio)
    ratio = max(o.ratio for o in observations)
    return Observation(name, worst.engine, not failed, ratio, worst.row, worst.detail)


__all__ = [
    "Observation",
    "PROPERTIES",
    "check_agreement",
    "check_estimates",
    "check_loss",
    "check_per_weight",
    "check_total",
    "check_zero",
    "eigenvalue_widths",
    "estimator_bounds",
    "sample_mean_widths",
    "merge",
    "check_sampled_bound",
]
