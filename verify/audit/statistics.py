"""Statistics of privacy audits: from attack outcomes to an empirical lower bound on ε.

An audit runs a mechanism many times on two neighbouring datasets (with and without a canary
example) and turns a distinguishing test into a statement "with confidence 1 − α the mechanism
is *not* (ε, δ)-DP for any ε below ε_lb". A lower bound above the accounted ε is a bug.

**Two-dataset audit** (Jagielski, Ullman & Oprea, NeurIPS 2020, "Auditing differentially
private machine learning: how private is private SGD?", Sec. 3; Nasr et al., IEEE S&P 2021 and
USENIX Security 2023). For a test that answers "with" on the set S = {score ≥ t}, with false
positive rate FPR = P_without(S) and false negative rate FNR = P_with(S^c), (ε, δ)-DP applied to
S and to S^c gives

    1 − FNR ≤ e^ε · FPR + δ        and        1 − FPR ≤ e^ε · FNR + δ,

so ε ≥ max( log((1 − δ − FNR)/FPR), log((1 − δ − FPR)/FNR) ). With Clopper–Pearson upper
bounds FPR⁺, FNR⁺ holding together with probability ≥ 1 − α (each one-sided at α/2), the same
expression in FPR⁺, FNR⁺ is a lower bound on ε with confidence 1 − α. The threshold t must not
be tuned on the trials that are counted: either it is chosen on *separate* calibration trials
(``threshold="split"``), fixed in advance (a number), or picked from a grid fixed in advance
with a Bonferroni correction over the grid (a sequence of K thresholds: each at α/K).

**One-run audit** (Steinke, Nasr & Jagielski, NeurIPS 2023, "Privacy auditing with one (1)
training run", arXiv:2305.08846, main theorem and its Appendix-D computation). m canaries are
each included independently with probability 1/2; the auditor guesses "in" for the k₊ highest
scores and "out" for the k₋ lowest (r = k₊ + k₋ guesses, the rest abstain) and counts v correct
guesses. If the training run is (ε, δ)-DP, then with W ~ Binomial(r, q), q = e^ε/(1 + e^ε)
(the accuracy of ε-DP randomized response),

    P[v correct guesses or more] ≤ P[W ≥ v] + 2 m δ · max_{1≤i≤v} (1/i) · P[v − i ≤ W < v].

The lower bound at confidence 1 − β is the largest ε whose p-value above is still ≤ β (found
by bisection; the p-value increases with ε).

**Known-ε oracle.** The Gaussian mechanism with sensitivity Δ and noise σ (μ = Δ/σ, the
reciprocal of the noise multiplier) is exactly (ε, δ(ε))-DP with (Balle & Wang, ICML 2018,
Thm. 8)  δ(ε) = Φ(μ/2 − ε/μ) − e^ε Φ(−μ/2 − ε/μ); :func:`gaussian_epsilon` inverts it. The
tests use it as the true ε of simulated mechanisms.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence, Union

import numpy as np
from scipy import optimize, special, stats

from privqml.errors import ConfigError, DataError

ThresholdSpec = Union[str, float, Sequence[float]]


# -- binomial confidence bounds ------------------------------------------------------------
def clopper_pearson_upper(successes, trials, alpha: float):
    """One-sided exact (Clopper–Pearson) upper bound p⁺ on a proportion from k successes in n
    trials: p⁺ solves P_p⁺[Bin(n, p⁺) ≤ k] = α, so P[p ≤ p⁺] ≥ 1 − α. Vectorised over k;
    1 when k = n."""
    k = np.asarray(successes, dtype=np.float64)
    n = float(trials)
    with np.errstate(invalid="ignore"):
        upper = stats.beta.ppf(1.0 - alpha, k + 1.0, np.maximum(n - k, 1e-300))
    return np.where(k >= n, 1.0, upper)


def clopper_pearson_lower(successes, trials, alpha: float):
    """One-sided exact lower bound p⁻ (Clopper–Pearson): P[p ≥ p⁻] ≥ 1 − α; 0 when k = 0."""
    k = np.asarray(successes, dtype=np.float64)
    n = float(trials)
    with np.errstate(invalid="ignore"):
        lower = stats.beta.ppf(alpha, np.maximum(k, 1e-300), n - k + 1.0)
    return np.where(k <= 0, 0.0, lower)


@dataclasses.dataclass(frozen=True)
class BinomialInterval:
    """A two-sided Clopper–Pearson interval for a proportion (successes/trials)."""

    successes: int
    trials: int
    lower: float
    upper: float
    confidence: float

    @property
    def estimate(self) -> float:
        return self.successes / self.trials


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> BinomialInterval:
    """Exact two-sided interval, α/2 in each tail (Clopper & Pearson, Biometrika 1934)."""
    _check_confidence(confidence)
    if not (isinstance(trials, (int, np.integer)) and trials >= 1):
        raise DataError(f"trials={trials!r} must be an integer >= 1")
    if not 0 <= successes <= trials:
        raise DataError(f"successes={successes} must lie in [0, trials={trials}]")
    alpha = 1.0 - confidence
    return BinomialInterval(
        int(successes),
        int(trials),
        float(clopper_pearson_lower(successes, trials, alpha / 2)),
        float(clopper_pearson_upper(successes, trials, alpha / 2)),
        confidence,
    )


# -- intervals for the shift and the noise scale ------------------------------------------
@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval, in the units of the samples."""

    value: float
    lower: float
    upper: float
    confidence: float

    def covers(self, target: float) -> bool:
        return self.lower <= target <= self.upper

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def mean_difference(with_samples, without_samples, confidence: float = 0.95) -> Estimate:
    """mean(with) − mean(without) with a Welch t interval."""
    a = np.asarray(with_samples, dtype=np.float64)
    b = np.asarray(without_samples, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        raise DataError(f"need >= 2 samples on each side, got {a.size} and {b.size}")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Estimate(diff, diff, diff, confidence)
    dof = (va + vb) ** 2 / ((va**2) / (a.size - 1) + (vb**2) / (b.size - 1)) if va + vb > 0 else 1.0
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * se
    return Estimate(diff, diff - half, diff + half, confidence)


def standard_deviation(samples, confidence: float = 0.95) -> Estimate:
    """Sample standard deviation with the χ² interval (exact for Gaussian samples)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < 2:
        raise DataError(f"need >= 2 samples for a standard deviation, got {x.size}")
    dof = x.size - 1
    s2 = float(x.var(ddof=1))
    alpha = 1.0 - confidence
    lo = math.sqrt(dof * s2 / stats.chi2.ppf(1 - alpha / 2, dof))
    hi = math.sqrt(dof * s2 / stats.chi2.ppf(alpha / 2, dof))
    return Estimate(math.sqrt(s2), lo, hi, confidence)


# -- two-dataset distinguishing test --------------------------------------------------------
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


def _check_confidence(confidence: float) -> None:
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0):
        raise ConfigError(f"confidence={confidence!r} must be in (0, 1); 0.95 is the usual choice")


def _check_delta(delta: float) -> None:
    if not (isinstance(delta, (int, float)) and 0.0 <= delta < 1.0):
        raise ConfigError(f"delta={delta!r} must be in [0, 1); use e.g. 1e-5 (below 1/dataset size)")


def _as_scores(name: str, values) -> np.ndarray:
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
    _check_delta(delta)
    _check_confidence(confidence)
    with_scores = _as_scores("with_scores", with_scores)
    without_scores = _as_scores("without_scores", without_scores)
    alpha = 1.0 - confidence
    if isinstance(threshold, str):
        if threshold != "split":
            raise ConfigError(
                f"threshold={threshold!r}: use 'split', a number, or a list of numbers fixed in advance"
            )
        if not 0.0 < calibration_fraction < 1.0:
            raise ConfigError(f"calibration_fraction={calibration_fraction!r} must be in (0, 1)")
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


# -- one-run audit (Steinke, Nasr & Jagielski 2023) -----------------------------------------
def one_run_p_value(n_canaries: int, n_guesses: int, n_correct: int, epsilon: float, delta: float) -> float:
    """P-value of v = ``n_correct`` correct guesses out of r = ``n_guesses`` under the null
    hypothesis "the run is (ε, δ)-DP" (module docstring; arXiv:2305.08846)."""
    m, r, v = int(n_canaries), int(n_guesses), int(n_correct)
    if not 0 <= v <= r <= m:
        raise DataError(f"need 0 <= n_correct={v} <= n_guesses={r} <= n_canaries={m}")
    if epsilon < 0:
        raise ConfigError(f"epsilon={epsilon} must be >= 0")
    _check_delta(delta)
    q = float(special.expit(epsilon))  # e^ε/(1+e^ε)
    tail = float(stats.binom.sf(v - 1, r, q))  # P[W ≥ v]
    if delta == 0.0 or v == 0:
        return min(tail, 1.0)
    i = np.arange(1, v + 1)
    # P[v − i ≤ W ≤ v − 1] = P[W ≥ v − i] − P[W ≥ v]
    window = stats.binom.sf(v - i - 1, r, q) - tail
    alpha_term = float(np.max(window / i))
    return min(tail + 2.0 * m * delta * alpha_term, 1.0)


@dataclasses.dataclass(frozen=True)
class OneRunAudit:
    """One-run audit outcome: m canaries (each in with probability 1/2), r guesses, v correct.

    ``epsilon_lower_bound`` holds with probability ≥ ``confidence`` (arXiv:2305.08846);
    ``guess_accuracy`` = v / r. ``k_positive``/``k_negative`` were fixed before looking at
    the scores (a grid searched over is Bonferroni-corrected: ``n_k_tried``).
    """

    n_canaries: int
    n_included: int
    k_positive: int
    k_negative: int
    n_guesses: int
    n_correct: int
    delta: float
    confidence: float
    n_k_tried: int
    epsilon_lower_bound: float

    @property
    def guess_accuracy(self) -> float:
        return self.n_correct / self.n_guesses if self.n_guesses else float("nan")

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["guess_accuracy"] = self.guess_accuracy
        return out


def one_run_epsilon_lower_bound(
    n_canaries: int, n_guesses: int, n_correct: int, *, delta: float, confidence: float = 0.95
) -> float:
    """Largest ε rejected at level β = 1 − confidence: sup{ε : p-value(ε) ≤ β}; 0 if none."""
    _check_confidence(confidence)
    beta = 1.0 - confidence
    p = lambda eps: one_run_p_value(n_canaries, n_guesses, n_correct, eps, delta)  # noqa: E731
    if p(0.0) > beta:
        return 0.0
    hi = 1.0
    while p(hi) <= beta:
        hi *= 2.0
        if hi > 1e3:  # every guess right with r huge: report the cap honestly
            return math.inf
    lo = 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if p(mid) <= beta:
            lo = mid
        else:
            hi = mid
    return lo


def one_run_audit(
    scores,
    included,
    *,
    k_positive: int | Sequence[int],
    k_negative: int | Sequence[int] | None = None,
    delta: float,
    confidence: float = 0.95,
) -> OneRunAudit:
    """Guess membership of m canaries from their scores and bound ε from one run.

    Args:
        scores: one score per canary (larger = more likely included).
        included: booleans, the secret coin of each canary (each True with probability 1/2).
        k_positive, k_negative: guess "in" for the k₊ largest scores and "out" for the k₋
            smallest; k₋ defaults to k₊, pass 0 for positive-only guessing. Lists of equal
            length are tried pairwise with a Bonferroni correction (β divided by the count).
    """
    _check_confidence(confidence)
    s = _as_scores("scores", scores)
    inc = np.asarray(included).reshape(-1).astype(bool)
    if inc.size != s.size:
        raise DataError(f"scores has {s.size} entries but included has {inc.size}; one per canary")
    kp = np.atleast_1d(np.asarray(k_positive, dtype=int))
    kn = kp if k_negative is None else np.atleast_1d(np.asarray(k_negative, dtype=int))
    if kp.shape != kn.shape:
        raise ConfigError(f"k_positive={kp.tolist()} and k_negative={kn.tolist()} must have equal lengths")
    m = s.size
    if np.any(kp < 0) or np.any(kn < 0) or np.any(kp + kn > m) or np.any(kp + kn == 0):
        raise ConfigError(
            f"k_positive={kp.tolist()}, k_negative={kn.tolist()}: need 0 < k₊ + k₋ <= m={m}"
        )
    order = np.argsort(-s, kind="stable")
    sorted_in = inc[order]
    per_confidence = 1.0 - (1.0 - confidence) / kp.size
    best = None
    for a, b in zip(kp.tolist(), kn.tolist()):
        correct = int(sorted_in[:a].sum()) + int((~sorted_in[m - b :]).sum() if b else 0)
        eps = one_run_epsilon_lower_bound(m, a + b, correct, delta=delta, confidence=per_confidence)
        if best is None or eps > best[0]:
            best = (eps, a, b, correct)
    eps, a, b, correct = best
    return OneRunAudit(
        n_canaries=m,
        n_included=int(inc.sum()),
        k_positive=a,
        k_negative=b,
        n_guesses=a + b,
        n_correct=correct,
        delta=float(delta),
        confidence=float(confidence),
        n_k_tried=int(kp.size),
        epsilon_lower_bound=float(eps),
    )


# -- the Gaussian mechanism: a known-ε oracle -------------------------------------------------
def gaussian_delta(mu: float, epsilon: float) -> float:
    """δ(ε) of the Gaussian mechanism with μ = sensitivity/σ (Balle & Wang 2018, Thm. 8)."""
    if mu <= 0:
        raise ConfigError(f"mu={mu!r} must be > 0 (sensitivity / noise standard deviation)")
    a = mu / 2 - epsilon / mu
    b = -mu / 2 - epsilon / mu
    # Φ(a) − e^ε Φ(b), with the second term in log space to avoid overflow.
    second = math.exp(epsilon + stats.norm.logcdf(b)) if b > -40 else 0.0
    return float(stats.norm.cdf(a) - second)


def gaussian_epsilon(mu: float, delta: float) -> float:
    """The exact ε at ``delta`` of the Gaussian mechanism with μ = sensitivity/σ (inverts
    :func:`gaussian_delta`; the one-step DP-SGD step without sampling has μ = 1/noise_multiplier)."""
    _check_delta(delta)
    if delta <= 0:
        return math.inf
    if gaussian_delta(mu, 0.0) <= delta:
        return 0.0
    hi = 1.0
    while gaussian_delta(mu, hi) > delta:
        hi *= 2.0
    return float(optimize.brentq(lambda e: gaussian_delta(mu, e) - delta, 0.0, hi, xtol=1e-12))


__all__ = [
    "BinomialInterval",
    "DistinguishingAudit",
    "Estimate",
    "OneRunAudit",
    "audit_distinguishing_test",
    "clopper_pearson",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "epsilon_from_error_rates",
    "gaussian_delta",
    "gaussian_epsilon",
    "mean_difference",
    "one_run_audit",
    "one_run_epsilon_lower_bound",
    "one_run_p_value",
    "standard_deviation",
]
