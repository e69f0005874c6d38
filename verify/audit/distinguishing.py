"""The two-dataset audit: an empirical lower bound on ε from a distinguishing test.

An audit runs a mechanism many times on two neighbouring datasets (with and without a canary
example) and turns a threshold test into a statement "with confidence 1 − α the mechanism is
*not* (ε, δ)-DP for any ε below ε_lb". A lower bound above the accounted ε is a bug.

(Jagielski, Ullman & Oprea, NeurIPS 2020, "Auditing differentially private machine learning: how
private is private SGD?", Sec. 3; Nasr et al., IEEE S&P 2021 and USENIX Security 2023.) For a test
that answers "with" on the set S = {score ≥ t}, with false positive rate FPR = P_without(S) and
false negative rate FNR = P_with(S^c), (ε, δ)-DP applied to S and to S^c gives

    1 − FNR ≤ e^ε · FPR + δ        and        1 − FPR ≤ e^ε · FNR + δ,

so ε ≥ max( log((1 − δ − FNR)/FPR), log((1 − δ − FPR)/FNR) ). With Clopper–Pearson upper
bounds FPR⁺, FNR⁺ (:mod:`privqml.verify.audit.binomial`) holding together with probability
≥ 1 − α (each one-sided at α/2), the same expression in FPR⁺, FNR⁺ is a lower bound on ε with
confidence 1 − α. The threshold t must not be tuned on the trials that are counted: either it is
chosen on *separate* calibration trials (``threshold="split"``), fixed in advance (a number), or
picked from a grid fixed in advance with a Bonferroni correction over the grid (a sequence of K
thresholds: each at α/K).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence, Union

import numpy as np

from privqml import validation
from privqml.errors import ConfigError, DataError
from privqml.verify.audit.binomial import clopper_pearson_upper

ThresholdSpec = Union[str, float, Sequence[float]]


def epsilon_from_error_rates(fpr, fnr, delta: float):
    """ε implied by a test with false positive rate ``fpr`` and false negative rate ``fnr``:
    max(0, log((1 − δ − FNR)/FPR), log((1 − δ − FPR)/FNR)); +inf when a rate is 0 and its
    numerator positive. Vectorised."""
    fpr = np.asarray(fpr, dtype=np.float64)
    fnr = np.asarray(fnr, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.log(np.maximum(1.0 - delta - fnr, 0.0)) - np.log(fpr)
        second = np.log(np.maximum(1.0 - delta - fpr, 0.0)) - np.log(fnr)
    first = np.where(np.isnan(first), -np.inf, first)
    second = np.where(np.isnan(second), -np.inf, second)
    out = np.maximum(0.0, np.maximum(first, second))
    return float(out) if out.ndim == 0 else out


@dataclasses.dataclass(frozen=True)
class DistinguishingAudit:
    """The outcome of a threshold test between trials with and without the canary.

    The test answers "with canary" when score ≥ ``threshold``. Counts refer to the
    *evaluation* trials only (the calibration trials of ``threshold_selection="split"`` are
    not counted). ``epsilon_lower_bound`` holds with probability ≥ ``confidence`` over the
    evaluation trials (Clopper–Pearson, α/2 per rate, divided by the grid size when a grid was
    searched); ``epsilon_point_estimate`` is the same formula on the raw rates (no guarantee).
    Units: ε in nats (natural logarithm), δ a probability.
    """

    threshold: float
    threshold_selection: str
    n_with: int
    n_without: int
    false_positives: int
    false_negatives: int
    fpr_upper: float
    fnr_upper: float
    delta: float
    confidence: float
    epsilon_lower_bound: float
    epsilon_point_estimate: float

    @property
    def fpr(self) -> float:
        return self.false_positives / self.n_without

    @property
    def fnr(self) -> float:
        return self.false_negatives / self.n_with

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def as_scores(name: str, values) -> np.ndarray:
    """``values`` as a non-empty, finite float64 vector of attack scores (DataError otherwise)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise DataError(f"{name} is empty; run at least one trial on each side")
    if not np.all(np.isfinite(x)):
        raise DataError(f"{name} contains NaN or infinite scores; check the attack statistic")
    return x


def _counts(with_scores: np.ndarray, without_scores: np.ndarray, thresholds: np.ndarray):
    """False positives (without ≥ t) and false negatives (with < t) for every threshold."""
    without_sorted = np.sort(without_scores)
    with_sorted = np.sort(with_scores)
    fp = without_sorted.size - np.searchsorted(without_sorted, thresholds, side="left")
    fn = np.searchsorted(with_sorted, thresholds, side="left")
    return fp, fn


def _bound_at(with_scores, without_scores, thresholds, alpha, delta):
    fp, fn = _counts(with_scores, without_scores, thresholds)
    fpr_hi = clopper_pearson_upper(fp, without_scores.size, alpha / 2)
    fnr_hi = clopper_pearson_upper(fn, with_scores.size, alpha / 2)
    return epsilon_from_error_rates(fpr_hi, fnr_hi, delta), fp, fn, fpr_hi, fnr_hi


def _candidate_thresholds(scores: np.ndarray, max_candidates: int = 512) -> np.ndarray:
    unique = np.unique(scores)
    if unique.size <= max_candidates:
        return unique
    return np.unique(np.quantile(unique, np.linspace(0.0, 1.0, max_candidates)))

def audit_distinguishing_test(
    with_scores,
    without_scores,
    *,
    delta: float,
    confidence: float = 0.95,
    threshold: ThresholdSpec = "split",
    calibration_fraction: float = 0.5,
    seed: int = 0,
) -> DistinguishingAudit:
    """Empirical ε lower bound from scores of trials with and without the canary.

    Args:
        with_scores, without_scores: one score per trial; larger means "canary present".
        delta: the δ at which ε is bounded (the δ of the claimed guarantee).
        confidence: 1 − α, the probability that the reported bound holds.
        threshold: ``"split"`` (choose t on a random ``calibration_fraction`` of the trials,
            count on the rest), a number fixed in advance, or a sequence of K thresholds fixed
            in advance (each evaluated at α/K, the best reported: Bonferroni).
        seed: seeds the calibration split.
    """
    validation.delta("delta", delta, allow_zero=True)
    validation.confidence("confidence", confidence)
    with_scores = as_scores("with_scores", with_scores)
    without_scores = as_scores("without_scores", without_scores)
    alpha = 1.0 - confidence
    if isinstance(threshold, str):
        if threshold != "split":
            raise ConfigError(
                f"threshold={threshold!r}: use 'split', a number, or a list of numbers fixed in advance"
            )
        validation.in_interval("calibration_fraction", calibration_fraction, 0.0, 1.0, hi_open=True)
        rng = np.random.default_rng(seed)
        w = rng.permutation(with_scores)
        o = rng.permutation(without_scores)
        nw, no = int(w.size * calibration_fraction), int(o.size * calibration_fraction)
        if min(nw, no, w.size - nw, o.size - no) < 1:
            raise DataError(
                f"too few trials to split: {w.size} with and {o.size} without the canary; "
                "run more trials or pass a threshold fixed in advance"
            )
        cal_w, eval_w, cal_o, eval_o = w[:nw], w[nw:], o[:no], o[no:]
        candidates = _candidate_thresholds(np.concatenate([cal_w, cal_o]))
        eps, *_ = _bound_at(cal_w, cal_o, candidates, alpha, delta)
        chosen = float(candidates[int(np.argmax(eps))])
        grid, per_alpha, label = np.array([chosen]), alpha, f"split({calibration_fraction:g})"
    else:
        grid = np.atleast_1d(np.asarray(threshold, dtype=np.float64))
        if grid.size == 0 or not np.all(np.isfinite(grid)):
            raise ConfigError(f"threshold={threshold!r} must be finite number(s)")
        eval_w, eval_o = with_scores, without_scores
        per_alpha = alpha / grid.size
        label = "given" if grid.size == 1 else f"bonferroni({grid.size})"
    eps, fp, fn, fpr_hi, fnr_hi = _bound_at(eval_w, eval_o, grid, per_alpha, delta)
    best = int(np.argmax(np.atleast_1d(eps)))
    fp, fn = int(np.atleast_1d(fp)[best]), int(np.atleast_1d(fn)[best])
    point = epsilon_from_error_rates(fp / eval_o.size, fn / eval_w.size, delta)
    return DistinguishingAudit(
        threshold=float(grid[best]),
        threshold_selection=label,
        n_with=int(eval_w.size),
        n_without=int(eval_o.size),
        false_positives=fp,
        false_negatives=fn,
        fpr_upper=float(np.atleast_1d(fpr_hi)[best]),
        fnr_upper=float(np.atleast_1d(fnr_hi)[best]),
        delta=float(delta),
        confidence=float(confidence),
        epsilon_lower_bound=float(np.atleast_1d(eps)[best]),
        epsilon_point_estimate=float(point),
    )


__all__ = ["DistinguishingAudit", "ThresholdSpec", "as_scores", "audit_distinguishing_test", "epsilon_from_error_rates"]
