r"""The one-run audit's statistics: an ε lower bound from guessing which canaries were in a run.

(Steinke, Nasr & Jagielski, NeurIPS 2023, "Privacy auditing with one (1) training run",
arXiv:2305.08846, main theorem and its Appendix-D computation.) m canaries are each included
independently with probability 1/2; the auditor guesses "in" for the k₊ highest scores and "out"
for the k₋ lowest (r = k₊ + k₋ guesses, the rest abstain) and counts v correct guesses. If the
training run is (ε, δ)-DP, then with W ~ Binomial(r, q), q = e^ε/(1 + e^ε) (the accuracy of ε-DP
randomized response),

    P[v correct guesses or more] ≤ P[W ≥ v] + 2 m δ · max_{1≤i≤v} (1/i) · P[v − i ≤ W < v].

The lower bound at confidence 1 − β is the largest ε whose p-value above is still ≤ β (found by
bisection; the p-value increases with ε).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
from scipy import special, stats

from privqml import validation
from privqml.errors import ConfigError, DataError
from privqml.verify.audit.distinguishing import as_scores


def one_run_p_value(n_canaries: int, n_guesses: int, n_correct: int, epsilon: float, delta: float) -> float:
    """P-value of v = ``n_correct`` correct guesses out of r = ``n_guesses`` under the null
    hypothesis "the run is (ε, δ)-DP" (module docstring; arXiv:2305.08846)."""
    m, r, v = int(n_canaries), int(n_guesses), int(n_correct)
    if not 0 <= v <= r <= m:
        raise DataError(f"need 0 <= n_correct={v} <= n_guesses={r} <= n_canaries={m}")
    validation.in_interval("epsilon", epsilon, 0.0, math.inf, lo_open=False)
    validation.delta("delta", delta, allow_zero=True)
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
    validation.confidence("confidence", confidence)
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
    validation.confidence("confidence", confidence)
    s = as_scores("scores", scores)
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


__all__ = ["OneRunAudit", "one_run_audit", "one_run_epsilon_lower_bound", "one_run_p_value"]
