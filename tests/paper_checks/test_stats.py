"""Statistics and verdict rules: closed forms, Holm's procedure, every verdict branch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.errors import DataError
from privqml.paper_checks import stats
from privqml.paper_checks.stats import (
    CLASSICAL_HIGHER,
    EQUIVALENT,
    INCONCLUSIVE,
    NOT_SUPPORTED,
    QUANTUM_HIGHER,
    SUPPORTED,
    UNDECIDED,
    check_verdict,
    classify,
    comparative_verdict,
    holm_adjust,
    mean_ci,
    paired_test,
    retention,
)


def test_mean_ci_closed_form():
    # 1..5: mean 3, s = sqrt(2.5), t_{4,0.975} = 2.7764451051977987 (tables), half width = t*s/sqrt(5).
    interval = mean_ci([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert interval.mean == 3.0 and interval.n == 5
    assert interval.low == pytest.approx(3 - half, abs=1e-12)
    assert interval.high == pytest.approx(3 + half, abs=1e-12)
    assert interval.half_width == pytest.approx(1.9632, abs=1e-4)
    one = mean_ci([0.7])
    assert one.mean == 0.7 and math.isnan(one.low) and one.format() == "0.700 (n=1)"
    with pytest.raises(DataError, match="NaN"):
        mean_ci([1.0, float("nan")])


def test_mean_ci_coverage_is_95_percent_seeded():
    # 4000 normal samples of size 5; coverage ~ Binomial(4000, 0.95): sd 0.0034, tolerance 4 sd.
    rng = np.random.default_rng(7)
    hits = sum(
        (lambda iv: iv.low <= 1.0 <= iv.high)(mean_ci(rng.normal(1.0, 2.0, size=5))) for _ in range(4000)
    )
    assert abs(hits / 4000 - 0.95) < 4 * math.sqrt(0.95 * 0.05 / 4000)


def test_retention_is_the_mean_of_paired_ratios():
    interval = retention([0.8, 0.6, 0.9], [1.0, 0.75, 0.9])
    assert interval.mean == pytest.approx((0.8 + 0.8 + 1.0) / 3)
    with pytest.raises(DataError, match="pair"):
        retention([0.8], [0.9, 0.9])
    with pytest.raises(DataError, match="> 0"):
        retention([0.8], [0.0])


def test_paired_test_matches_the_t_formula_and_wilcoxon_exact_values():
    q = np.array([0.80, 0.82, 0.79, 0.85, 0.81])
    c = np.array([0.75, 0.80, 0.78, 0.80, 0.76])
    d = q - c
    comp = paired_test(q, c)
    t = d.mean() / (d.std(ddof=1) / math.sqrt(5))
    assert comp.t_statistic == pytest.approx(t, rel=1e-12)
    assert comp.difference.mean == pytest.approx(d.mean())
    # All five differences positive: exact two-sided Wilcoxon p = 2 / 2^5.
    assert comp.wilcoxon_pvalue == pytest.approx(0.0625)
    assert comp.wilcoxon_statistic == 0.0
    constant = paired_test([0.9, 0.8], [0.8, 0.7])
    assert math.isinf(constant.t_statistic) and constant.t_pvalue == 0.0
    equal = paired_test([0.9, 0.8], [0.9, 0.8])
    assert equal.t_pvalue == 1.0 and equal.wilcoxon_pvalue == 1.0


def test_holm_adjust_known_example():
    # p = (0.01, 0.04, 0.03, 0.005), m = 4: sorted 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1 -> max 0.06
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = holm_adjust([0.5, float("nan"), 0.9])
    assert adjusted[0] == 1.0 and math.isnan(adjusted[1]) and adjusted[2] == 1.0


def _cell(diffs):
    base = np.full(len(diffs), 0.7)
    return paired_test(base + np.asarray(diffs), base)


def test_classify_outcomes():
    cells = classify(
        [
            _cell([0.10, 0.12, 0.11, 0.09, 0.10]),  # clearly quantum higher
            _cell([-0.10, -0.12, -0.11, -0.09, -0.10]),  # clearly classical higher
            _cell([0.001, -0.002, 0.0, 0.002, -0.001]),  # tight around 0 -> equivalent
            _cell([0.2, -0.2, 0.1, -0.15, 0.05]),  # noisy -> undecided
        ]
    )
    assert [c.outcome for c in cells] == [QUANTUM_HIGHER, CLASSICAL_HIGHER, EQUIVALENT, UNDECIDED]
    assert cells[0].adjusted_pvalue >= cells[0].t_pvalue
    single = classify([_cell([0.05]), _cell([-0.05]), _cell([0.01])])
    assert [c.outcome for c in single] == [QUANTUM_HIGHER, CLASSICAL_HIGHER, EQUIVALENT]
    assert all(c.indicative for c in single)


def _with(outcomes, indicative=False):
    template = _cell([0.1, 0.1])
    return [stats.dataclasses.replace(template, outcome=o, indicative=indicative) for o in outcomes]


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        ([QUANTUM_HIGHER, QUANTUM_HIGHER, UNDECIDED, EQUIVALENT], SUPPORTED),
        ([QUANTUM_HIGHER, QUANTUM_HIGHER, CLASSICAL_HIGHER, UNDECIDED], INCONCLUSIVE),
        ([QUANTUM_HIGHER, CLASSICAL_HIGHER, CLASSICAL_HIGHER, UNDECIDED], NOT_SUPPORTED),
        ([EQUIVALENT, EQUIVALENT, UNDECIDED, UNDECIDED], NOT_SUPPORTED),
        ([EQUIVALENT, UNDECIDED, UNDECIDED, UNDECIDED], INCONCLUSIVE),
        ([QUANTUM_HIGHER, UNDECIDED, UNDECIDED, UNDECIDED], INCONCLUSIVE),
        ([], INCONCLUSIVE),
    ],
)
def test_comparative_verdict_rules(outcomes, expected):
    verdict = comparative_verdict("C3", _with(outcomes))
    assert verdict.verdict == expected
    assert not verdict.indicative


def test_indicative_verdicts_are_labelled():
    verdict = comparative_verdict("C3", _with([QUANTUM_HIGHER], indicative=True))
    assert verdict.verdict == SUPPORTED and verdict.label == "supported (indicative)"


def test_check_verdict():
    assert check_verdict("C2", {"a": True, "b": True}).verdict == SUPPORTED
    assert check_verdict("C2", {"a": True, "b": False}).verdict == NOT_SUPPORTED
    assert check_verdict("C2", {"a": True, "b": None}).verdict == INCONCLUSIVE
    assert check_verdict("C2", {"a": None, "b": False}).reasons[0] == "failed: b"
    assert check_verdict("C2", {}).verdict == INCONCLUSIVE


def test_intervals_stay_inside_the_range_of_what_they_estimate():
    from privqml.paper_checks import stats

    accuracies = [1.0, 1.0, 0.5]  # the t-interval of the mean would reach past 1
    raw = stats.mean_ci(accuracies)
    clipped = stats.mean_ci(accuracies, bounds=stats.ACCURACY_RANGE)
    assert raw.high > 1 and (clipped.low, clipped.high) == (raw.low, 1.0)
    assert stats.mean_ci([0.0, 0.0, 0.5], bounds=stats.ACCURACY_RANGE).low == 0.0
    assert clipped.mean == raw.mean and clipped.sd == raw.sd
    inner = stats.mean_ci([0.6, 0.7, 0.65], bounds=stats.ACCURACY_RANGE)
    assert (inner.low, inner.high) == (stats.mean_ci([0.6, 0.7, 0.65]).low, stats.mean_ci([0.6, 0.7, 0.65]).high)
    assert stats.paired_test([1.0, 1.0, 0.0], [0.0, 0.0, 1.0]).difference.high <= 1.0
