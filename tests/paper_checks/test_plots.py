"""Plots: every figure carries the numbers it was given (read back from the drawn artists)."""

from __future__ import annotations

import math

import matplotlib.image as mpimg
import pytest

from privqml.paper_checks import plots

INF = math.inf


def _png_ok(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    image = mpimg.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 300
    assert image[..., :3].std() > 0.01  # not a blank canvas


def _flat(points):
    return [v for point in points for v in point]


def test_accuracy_plot_draws_means_and_bands_with_infinity_at_the_right_edge(tmp_path):
    drawn = plots.plot_accuracy_vs_epsilon(tmp_path / "acc.png", {
        "synthetic, C=bound": {"quantum:hea": [(8.0, 0.8, 0.75, 0.85), (1.0, 0.7, 0.65, 0.75), (INF, 0.9, 0.88, 0.92)],
                               "classical:mlp": [(1.0, 0.6, 0.5, 0.7), (8.0, 0.7, 0.6, 0.8), (INF, 0.92, 0.9, 0.94)]},
        "digits, C=1": {"quantum:hea": [(1.0, 0.7, math.nan, math.nan), (INF, 0.9, math.nan, math.nan)]},
    })
    _png_ok(drawn.path)
    # sorted by ε; ε = ∞ drawn at 4 × the largest finite ε of the panel, labelled ∞
    assert drawn.series["synthetic, C=bound | quantum:hea"] == ((1.0, 0.7), (8.0, 0.8), (32.0, 0.9))
    assert drawn.series["synthetic, C=bound | quantum:hea | low"] == ((1.0, 0.65), (8.0, 0.75), (32.0, 0.88))
    assert drawn.series["synthetic, C=bound | classical:mlp | high"] == ((1.0, 0.7), (8.0, 0.8), (32.0, 0.94))
    assert drawn.series["digits, C=1 | quantum:hea"] == ((1.0, 0.7), (4.0, 0.9))
    assert "digits, C=1 | quantum:hea | low" not in drawn.series  # one seed: no band
    assert drawn.xticklabels == ("1", "8", "∞")


def test_norm_bars_are_the_ratios_to_the_bound(tmp_path):
    drawn = plots.plot_norms_vs_bound(tmp_path / "norms.png", [("hea/binary", 0.8, 1.2, True),
                                                               ("mlp/binary", 3.0, 1.2, False)])
    _png_ok(drawn.path)
    assert _flat(drawn.series["max_norm / bound"]) == pytest.approx([0, 0.8 / 1.2, 1, 3.0 / 1.2])
    assert drawn.xticklabels == ("hea/binary", "mlp/binary")


def test_bias_plot_draws_measured_against_predicted_and_against_the_ratio(tmp_path):
    drawn = plots.plot_bias(tmp_path / "bias.png", [("hea", 1.0, 0.0, 0.0), ("hea", 0.5, 0.1, 0.6),
                                                   ("classical:mlp", 0.5, 0.4, None),
                                                   ("classical:mlp", 1.0, 0.3, None)])
    _png_ok(drawn.path)
    assert drawn.series["quantum runs"] == ((0.0, 0.0), (0.6, 0.1))  # (predicted, measured), classical excluded
    assert drawn.series["hea"] == ((0.5, 0.1), (1.0, 0.0))  # (C/G*, measured), sorted by ratio
    assert drawn.series["classical:mlp"] == ((0.5, 0.4), (1.0, 0.3))


def test_audit_bars_carry_both_epsilons_and_draw_infinity_at_the_top(tmp_path):
    drawn = plots.plot_audit(tmp_path / "audit.png", [("dpsgd", 0.4, 2.0, 2.0), ("shots", 3.1, INF, 2.0)])
    _png_ok(drawn.path)
    top = 3.1 * 1.5 + 0.1  # the axis: 1.5 × the largest finite ε, plus 0.1
    assert _flat(drawn.series["empirical ε lower bound"]) == pytest.approx([-0.2, 0.4, 0.8, 3.1])
    assert _flat(drawn.series["accounted ε"]) == pytest.approx([0.2, 2.0, 1.2, top])
    assert _flat(drawn.series["reference ε"]) == pytest.approx([0.0, 2.0, 1.0, 2.0])
    assert drawn.xticklabels == ("dpsgd", "shots")


def test_titles_are_read_back_from_the_figure_with_every_line(tmp_path):
    label = "SIMULATION: seeded noise, not a private release"
    drawn = plots.plot_regime_heatmap(tmp_path / "map.png", {
        "quantum | hea | n=48 vs mlp": (["G*"], [1.0, 4.0], [[0.1, -0.05]], [["▲", ""]])},
        title=f"C3: quantum − classical\n{label}")
    suptitle, panel = drawn.texts
    assert suptitle.splitlines() == ["C3: quantum − classical  (▲ quantum higher, ▼ classical higher after Holm; "
                                     "≈ equivalent)", label]  # the marks' legend stays on the first line
    assert panel == "quantum | hea | n=48 vs mlp"
    bars = plots.plot_norms_vs_bound(tmp_path / "norms.png", [("hea/binary", 0.8, 1.2, True)], title=f"norms\n{label}")
    assert bars.texts == (f"norms\n{label}",)  # a one-axes plot: the axes title
