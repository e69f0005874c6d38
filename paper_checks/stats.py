"""Statistics of the paper checks: t-intervals, retention, paired tests, and the verdict rules.

Everything is computed over *replicates* (seeds) r = 1..n of one setting.

- **Mean and 95% interval.** x̄ ± t_{n−1, 0.975} · s/√n with s the sample standard deviation
  (ddof = 1): the Student-t interval for the mean of a normal sample. With n = 1 there is no
  interval (``low``/``high`` are NaN) and anything built on it is marked *indicative*.
- **Retention.** Per replicate, R_r = acc_private,r / acc_nonprivate,r (the same replicate's
  data split and initial seed at ε = ∞); reported as the mean of R_r with its t-interval.
  Pairing by replicate removes the split-to-split variation that a ratio of means would carry.
- **Paired comparison, quantum vs classical** per (task, clip, ε): d_r = q_r − c_r over the
  replicates both arms share (rounded to 1e-12). Two-sided paired t-test (``scipy.stats``'s
  one-sample t-test of d against 0, which is ``ttest_rel(q, c)``; with every d_r equal and
  non-zero the statistic is infinite and p is taken as 0) and the Wilcoxon
  signed-rank test (``scipy.stats.wilcoxon``, exact for small n; it is a robustness check — with
  n = 5 its smallest two-sided p is 2/2⁵ = 0.0625, so it can never reject at 0.05 there).
- **Multiplicity.** The t-test p-values of the cells of one claim are Holm–Bonferroni adjusted
  (Holm 1979): sorted p₍₁₎ ≤ … ≤ p₍ₘ₎, p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) p₍ⱼ₎). The
  family-wise error over the cells is then ≤ α.

Cell outcomes (α = 0.05, equivalence margin δ = 0.02 accuracy unless stated):

- ``quantum higher``: mean d > 0 and Holm-adjusted p < α;
- ``classical higher``: mean d < 0 and Holm-adjusted p < α;
- ``equivalent``: otherwise, if the 95% interval of mean d lies inside [−δ, δ];
- ``undecided``: otherwise (too few replicates or too much spread to tell).

With one replicate there is no test: the outcome follows the sign of d beyond ±δ and is
*indicative*.

Verdict rules for a comparative claim ("quantum keeps higher accuracy"), over its m cells,
with h = ⌈m/2⌉:

- **supported** if at least h cells are ``quantum higher`` and none is ``classical higher``;
- **not supported** if more cells are ``classical higher`` than ``quantum higher``, or no cell
  is ``quantum higher`` while at least h are ``classical higher`` or ``equivalent``;
- **inconclusive** otherwise (mixed results, or too little power).

A *check* claim (a list of pass/fail checks, C2) is **supported** when every check passes,
**not supported** when any fails, **inconclusive** when a check could not be made.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from scipy import stats as sps

from privqml.errors import ConfigError, DataError

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)

QUANTUM_HIGHER = "quantum higher"
CLASSICAL_HIGHER = "classical higher"
EQUIVALENT = "equivalent"
UNDECIDED = "undecided"

ALPHA = 0.05
MARGIN = 0.02


def _defined_or_none(value: float) -> float | None:
    """None for a quantity that does not exist here (NaN: no interval at n = 1, no test at n < 2);
    ±∞ stays a float, which :mod:`privqml.jsonio` writes as ``"inf"``/``"-inf"``."""
    return None if value is None or math.isnan(value) else float(value)


@dataclasses.dataclass(frozen=True)
class Interval:
    """A sample mean with its two-sided Student-t confidence interval (units of the sample).

    ``low``/``high`` (and ``sd``) are NaN when n = 1 (no interval can be formed); :meth:`to_json`
    writes them as None.
    """

    mean: float
    low: float
    high: float
    n: int
    sd: float
    confidence: float = 0.95

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": _defined_or_none(self.mean),
            "low": _defined_or_none(self.low),
            "high": _defined_or_none(self.high),
            "n": self.n,
            "sd": _defined_or_none(self.sd),
            "confidence": self.confidence,
        }

    def format(self, digits: int = 3) -> str:
        if self.n < 2 or not math.isfinite(self.low):
            return f"{self.mean:.{digits}f} (n={self.n})"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def _as_sample(name: str, values: Iterable[float]) -> np.ndarray:
    array = np.asarray(list(values), dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise DataError(f"{name} must be a non-empty 1-D sequence of numbers; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name}={array.tolist()} contains NaN or infinity; drop failed runs first")
    return array


#: the range of an accuracy, and of a difference of two accuracies
ACCURACY_RANGE = (0.0, 1.0)
DIFFERENCE_RANGE = (-1.0, 1.0)


def mean_ci(values: Iterable[float], confidence: float = 0.95, bounds: tuple[float, float] | None = None) -> Interval:
    """Mean and Student-t interval: x̄ ± t_{n−1,(1+confidence)/2} · s/√n, clipped to ``bounds`` (the range the
    quantity cannot leave, e.g. :data:`ACCURACY_RANGE`: an interval past 1 for an accuracy says nothing more)."""
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence={confidence!r} must be in (0, 1), e.g. 0.95")
    sample = _as_sample("values", values)
    n = sample.size
    mean = float(sample.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, 1, math.nan, confidence)
    sd = float(sample.std(ddof=1))
    half = float(sps.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Interval(mean, low, high, n, sd, confidence)


def retention(private: Sequence[float], nonprivate: Sequence[float], confidence: float = 0.95) -> Interval:
    """Mean over replicates of acc_private,r / acc_nonprivate,r with its t-interval (paired by r)."""
    p = _as_sample("private", private)
    q = _as_sample("nonprivate", nonprivate)
    if p.size != q.size:
        raise DataError(f"private has {p.size} replicates but nonprivate has {q.size}; pair them by replicate")
    if np.any(q <= 0):
        raise DataError(f"nonprivate accuracies {q.tolist()} must be > 0 to form a retention ratio")
    return mean_ci(p / q, confidence, bounds=(0.0, math.inf))


@dataclasses.dataclass(frozen=True)
class PairedComparison:
    """Quantum vs classical over shared replicates: d_r = quantum_r − classical_r.

    Attributes:
        difference: mean of d with its t-interval.
        t_statistic, t_pvalue: two-sided paired t-test (NaN with n < 2; the statistic is ±∞ when
            every d_r is the same non-zero number).
        wilcoxon_statistic, wilcoxon_pvalue: two-sided Wilcoxon signed-rank (NaN with n < 2).
        adjusted_pvalue: Holm-adjusted t-test p-value within the claim (set by :func:`classify`).
        outcome: one of ``quantum higher`` / ``classical higher`` / ``equivalent`` / ``undecided``.
        indicative: True when n < 2 (no test; the outcome follows the sign of d).
    """

    difference: Interval
    t_statistic: float
    t_pvalue: float
    wilcoxon_statistic: float
    wilcoxon_pvalue: float
    adjusted_pvalue: float = math.nan
    outcome: str = UNDECIDED
    indicative: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "difference": self.difference.to_json(),
            "t_statistic": _defined_or_none(self.t_statistic),
            "t_pvalue": _defined_or_none(self.t_pvalue),
            "wilcoxon_statistic": _defined_or_none(self.wilcoxon_statistic),
            "wilcoxon_pvalue": _defined_or_none(self.wilcoxon_pvalue),
            "holm_adjusted_pvalue": _defined_or_none(self.adjusted_pvalue),
            "outcome": self.outcome,
            "indicative": self.indicative,
        }


def paired_test(quantum: Sequence[float], classical: Sequence[float], confidence: float = 0.95) -> PairedComparison:
    """Paired t-test and Wilcoxon signed-rank test of quantum − classical (two-sided)."""
    q = _as_sample("quantum", quantum)
    c = _as_sample("classical", classical)
    if q.size != c.size:
        raise DataError(f"quantum has {q.size} replicates but classical has {c.size}; pair them by replicate")
    # Rounded to 1e-12 so that equal accuracy gaps (k/N - k'/N) computed in floating point
    # compare equal; accuracies are far coarser than that.
    d = np.round(q - c, 12)
    diff = mean_ci(d, confidence, bounds=DIFFERENCE_RANGE)
    if d.size < 2:
        return PairedComparison(diff, math.nan, math.nan, math.nan, math.nan)
    if np.all(d == d[0]):
        # Zero spread: the t statistic is 0/0 (all zero) or ±inf (constant non-zero difference).
        t_stat = 0.0 if d[0] == 0 else math.copysign(math.inf, d[0])
        t_p = 1.0 if d[0] == 0 else 0.0
    else:
        res = sps.ttest_1samp(d, 0.0)  # = ttest_rel(q, c) on the rounded differences
        t_stat, t_p = float(res.statistic), float(res.pvalue)
    if np.all(d == 0):
        w_stat, w_p = 0.0, 1.0
    else:
        res = sps.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        w_stat, w_p = float(res.statistic), float(res.pvalue)
    return PairedComparison(diff, t_stat, t_p, w_stat, w_p)


def holm_adjust(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni step-down adjusted p-values (NaN entries stay NaN and are not counted)."""
    p = np.asarray(pvalues, dtype=float)
    valid = np.flatnonzero(np.isfinite(p))
    adjusted = np.full(p.shape, math.nan)
    m = valid.size
    running = 0.0
    for rank, index in enumerate(valid[np.argsort(p[valid], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


def classify(comparisons: Sequence[PairedComparison], alpha: float = ALPHA, margin: float = MARGIN) -> list[PairedComparison]:
    """Holm-adjust the t-test p-values across ``comparisons`` and set each cell's outcome."""
    adjusted = holm_adjust([c.t_pvalue for c in comparisons])
    out = []
    for comp, p_adj in zip(comparisons, adjusted):
        mean = comp.difference.mean
        if comp.difference.n < 2:
            outcome = QUANTUM_HIGHER if mean > margin else CLASSICAL_HIGHER if mean < -margin else EQUIVALENT
            out.append(dataclasses.replace(comp, outcome=outcome, indicative=True))
            continue
        if math.isfinite(p_adj) and p_adj < alpha and mean != 0:
            outcome = QUANTUM_HIGHER if mean > 0 else CLASSICAL_HIGHER
        elif -margin <= comp.difference.low and comp.difference.high <= margin:
            outcome = EQUIVALENT
        else:
            outcome = UNDECIDED
        out.append(dataclasses.replace(comp, adjusted_pvalue=p_adj, outcome=outcome))
    return out


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A claim's verdict, the rule that produced it and the reasons, in words.

    ``indicative`` marks verdicts resting on one replicate (no interval, no test): a hint, not
    evidence.
    """

    claim: str
    verdict: str
    rule: str
    reasons: tuple[str, ...] = ()
    indicative: bool = False

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict={self.verdict!r} is not one of {VERDICTS}")

    @property
    def label(self) -> str:
        return f"{self.verdict} (indicative)" if self.indicative else self.verdict

    def to_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "verdict": self.verdict, "label": self.label, "indicative": self.indicative,
                "rule": self.rule, "reasons": list(self.reasons)}


COMPARATIVE_RULE = (
    "per cell: paired t-test of quantum - classical over seeds, Holm-adjusted across cells at alpha={alpha}; "
    "'equivalent' if the 95% interval of the difference lies within +-{margin}. Claim supported if >= half the "
    "cells are 'quantum higher' and none 'classical higher'; not supported if more cells are 'classical higher' "
    "than 'quantum higher', or none is 'quantum higher' while >= half are 'classical higher' or 'equivalent'; "
    "inconclusive otherwise. One seed: outcome by the sign of the difference beyond the margin (indicative)."
)


def comparative_verdict(claim: str, cells: Sequence[PairedComparison], alpha: float = ALPHA,
                        margin: float = MARGIN) -> Verdict:
    """The verdict of a "quantum higher than classical" claim from its classified cells."""
    rule = COMPARATIVE_RULE.format(alpha=alpha, margin=margin)
    if not cells:
        return Verdict(claim, INCONCLUSIVE, rule, ("no cells were measured",))
    indicative = any(c.indicative for c in cells)
    counts = {name: sum(c.outcome == name for c in cells) for name in (QUANTUM_HIGHER, CLASSICAL_HIGHER, EQUIVALENT, UNDECIDED)}
    m = len(cells)
    half = math.ceil(m / 2)
    summary = ", ".join(f"{v} {k}" for k, v in counts.items()) + f" (of {m} cells)"
    if counts[QUANTUM_HIGHER] >= half and counts[CLASSICAL_HIGHER] == 0:
        verdict = SUPPORTED
    elif counts[CLASSICAL_HIGHER] > counts[QUANTUM_HIGHER] or (
        counts[QUANTUM_HIGHER] == 0 and counts[CLASSICAL_HIGHER] + counts[EQUIVALENT] >= half
    ):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return Verdict(claim, verdict, rule, (summary,), indicative)


CHECK_RULE = "supported if every check passes; not supported if any check fails; inconclusive if a check could not be made"


def check_verdict(claim: str, checks: Mapping[str, bool | None], indicative: bool = False) -> Verdict:
    """Verdict of a claim made of pass/fail checks (None = could not be made)."""
    failed = [name for name, ok in checks.items() if ok is False]
    missing = [name for name, ok in checks.items() if ok is None]
    passed = [name for name, ok in checks.items() if ok is True]
    if not checks:
        return Verdict(claim, INCONCLUSIVE, CHECK_RULE, ("no checks were made",), indicative)
    if failed:
        verdict = NOT_SUPPORTED
    elif missing:
        verdict = INCONCLUSIVE
    else:
        verdict = SUPPORTED
    reasons = tuple(
        [f"failed: {name}" for name in failed] + [f"not made: {name}" for name in missing] + [f"passed: {name}" for name in passed]
    )
    return Verdict(claim, verdict, CHECK_RULE, reasons, indicative)
