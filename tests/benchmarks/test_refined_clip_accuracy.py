"""The refined-clip accuracy benchmark's analysis: paired statistics, the table, the plotted numbers (no TF)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from benchmarks import refined_clip_accuracy as rca

CELL = rca.Cell("hea", "quantum", 1.0)
BOUNDS = rca.ClipBounds(g_old=2.0, g_new=0.5)
SIGMA = 4.0


def _runs(old, new, clipped_old=0.0, clipped_new=0.25):
    runs = {}
    for seed, (a_old, a_new) in enumerate(zip(old, new)):
        for arm, acc, clipped in (("old", a_old, clipped_old), ("new", a_new, clipped_new)):
            runs[f"seed={seed},arm={arm}"] = {"seed": seed, "arm": arm, "test_accuracy": acc,
                                              "noise_multiplier": SIGMA, "fraction_clipped": clipped,
                                              "n_train": 200, "n_test": 200}
    return runs


def test_t_interval_closed_form():
    # values 1, 2, 3: mean 2, s = 1, half-width t_{0.975, 2} / sqrt(3); with 2 degrees of freedom
    # the t quantile has the closed form t_p = (2p - 1) / sqrt(2 p (1 - p)) (≈ 4.3027 at p = 0.975)
    interval = rca.t_interval([1.0, 2.0, 3.0])
    assert interval.mean == 2.0 and interval.n == 3
    t_975 = 0.95 / math.sqrt(2 * 0.975 * 0.025)
    assert interval.high - 2.0 == pytest.approx(t_975 / math.sqrt(3), rel=1e-12)
    assert interval.low == pytest.approx(4.0 - interval.high, rel=1e-12)
    single = rca.t_interval([0.7])
    assert single.mean == 0.7 and math.isnan(single.low) and math.isnan(single.high)


def test_paired_comparison_uses_per_seed_differences():
    old = [0.60, 0.70, 0.80, 0.65, 0.75]
    new = [0.66, 0.73, 0.85, 0.70, 0.79]  # differences 0.06, 0.03, 0.05, 0.05, 0.04
    c = rca.paired_comparison(old, new)
    diffs = np.array(new) - np.array(old)
    assert c.difference.mean == pytest.approx(0.046, abs=1e-12)
    half = stats.t.ppf(0.975, 4) * diffs.std(ddof=1) / math.sqrt(5)
    assert (c.difference.low, c.difference.high) == pytest.approx((0.046 - half, 0.046 + half), abs=1e-12)
    t = diffs.mean() / (diffs.std(ddof=1) / math.sqrt(5))
    assert c.p_value == pytest.approx(2 * stats.t.sf(abs(t), 4), rel=1e-9)
    # paired, not two-sample: the arms' spread is large, the differences' small
    assert c.p_value < 1e-3 < stats.ttest_ind(new, old).pvalue
    assert c.old.mean == pytest.approx(0.70) and c.new.mean == pytest.approx(0.746)


def test_paired_comparison_equal_differences_follow_the_paper_checks_convention():
    # 0.6 - 0.5, 0.7 - 0.6, 0.8 - 0.7 differ in the last bits: still "all equal" — a constant non-zero
    # difference, p = 0 as in privqml.paper_checks.stats.paired_test (one implementation of the comparison)
    c = rca.paired_comparison([0.5, 0.6, 0.7], [0.6, 0.7, 0.8])
    assert c.p_value == 0.0
    assert rca.paired_comparison([0.5, 0.6], [0.5, 0.6]).p_value == 1.0
    assert c.difference.mean == pytest.approx(0.1) and c.difference.low == pytest.approx(0.1)


def test_summarise_cell_pairs_seeds_and_scales_noise_by_clip():
    runs = _runs([0.6, 0.7, 0.8], [0.7, 0.7, 0.9])
    del runs["seed=2,arm=new"]  # seed 2 unfinished in one arm: left out of the pairs
    s = rca.summarise_cell(CELL, BOUNDS, runs)
    assert s.seeds == (0, 1)
    assert s.accuracy_old == (0.6, 0.7) and s.accuracy_new == (0.7, 0.7)
    assert (s.noise_std_old, s.noise_std_new) == (SIGMA * 2.0, SIGMA * 0.5)
    assert s.bounds.ratio == 0.25
    assert (s.fraction_clipped_old, s.fraction_clipped_new) == (0.0, 0.25)


def test_summarise_cell_refuses_arms_with_different_sigma():
    runs = _runs([0.6, 0.7], [0.7, 0.8])
    runs["seed=1,arm=new"]["noise_multiplier"] = SIGMA + 1
    with pytest.raises(AssertionError, match="σ differ"):
        rca.summarise_cell(CELL, BOUNDS, runs)


def test_plotted_numbers_equal_the_table(tmp_path):
    summaries = [
        rca.summarise_cell(CELL, BOUNDS, _runs([0.60, 0.70, 0.80], [0.66, 0.73, 0.85])),
        rca.summarise_cell(rca.Cell("native", "quantum", 4.0), rca.ClipBounds(8.0, 4.0),
                           _runs([0.50, 0.55, 0.52], [0.51, 0.50, 0.58])),
    ]
    path = tmp_path / "plot.png"
    drawn = rca.plot_accuracy(summaries, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = rca.table_rows(summaries)[2:]
    assert len(drawn) == len(rows) == 2
    for point, row, s in zip(drawn, rows, summaries):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert point["label"] == s.cell.label
        assert (point["old"], point["new"]) == (s.comparison.old.mean, s.comparison.new.mean)
        assert point["difference"] == s.comparison.difference.mean
        assert point["old_ci"] == (s.comparison.old.low, s.comparison.old.high)
        # the rendered table shows the same numbers as drawn
        assert cells[10].startswith(f"{point['old']:.3f} [{point['old_ci'][0]:.3f}, {point['old_ci'][1]:.3f}]")
        assert cells[11].startswith(f"{point['new']:.3f} [")
        assert cells[12].startswith(f"{point['difference']:+.3f} [")
    assert drawn[0]["new"] == pytest.approx(np.mean([0.66, 0.73, 0.85]))
