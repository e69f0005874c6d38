"""PNG plots of the paper checks (matplotlib, Agg backend; no display needed).

Each function takes plain numbers (no result objects), writes one PNG and returns a
:class:`Drawn` record: the path, the numbers drawn and the figure's titles, read back from the
matplotlib artists before the figure is saved (so a test can hold a figure to the table it
illustrates, and find a label such as the simulation flag in what was drawn). A ``title`` may hold
several lines; callers put the simulation label on a line of its own:

- :func:`plot_accuracy_vs_epsilon` — C3: test accuracy (mean and 95% interval over seeds) against
  ε, one panel per (task, clip), one line per model; ε = ∞ (no privacy) drawn at the right edge.
- :func:`plot_norms_vs_bound` — C2: largest per-example gradient norm seen in a whole run against
  the bound G*, as the ratio max‖g‖/G* (must stay ≤ 1 for quantum models).
- :func:`plot_bias` — C2: measured clipping bias ‖mean(clip(g)) − mean(g)‖ against the
  prediction (G* − C)₊, quantum (points must lie on or below y = x) and classical.
- :func:`plot_audit` — C1: empirical ε lower bound of each mechanism beside its accounted ε
  (∞ when the mechanism has no finite accounted ε).
- :func:`plot_regime_heatmap` — regime maps: quantum − classical accuracy per (C, ε), with
  significance marks, one panel per block and classical arm.
- :func:`plot_line_panels` — a grid of line panels (the regimes beside their causes).
- :func:`plot_confirmation` — a confirmation stage: per planned test the exploration mean beside the
  confirmation mean and its 95 % interval, with the equivalence band.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from privqml.atomic import save_figure_atomic  # noqa: E402

_COLOURS = {"quantum": "tab:blue", "classical": "tab:orange"}

Points = tuple[tuple[float, float], ...]


@dataclasses.dataclass(frozen=True)
class Drawn:
    """A PNG and the numbers it shows.

    Attributes:
        path: the PNG written.
        series: label -> the ``(x, y)`` points drawn for it, in drawing order: a line's vertices,
            a bar set's (bar centre, bar height) pairs and a scatter's offsets are read back from
            the matplotlib artists before saving; a shaded band's edges are the arrays given to
            ``fill_between``. x positions are those of the axes (an ε = ∞ point sits where the
            plot draws it, labelled ∞).
        xticklabels: the tick labels of the (first) x axis, in order.
        texts: the figure's title (suptitle) and every axes title, in that order, as drawn.
    """

    path: Path
    series: Mapping[str, Points]
    xticklabels: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()


def _line(line) -> Points:
    return tuple((float(x), float(y)) for x, y in zip(line.get_xdata(), line.get_ydata()))


def _bars(container) -> Points:
    return tuple((float(p.get_x() + p.get_width() / 2), float(p.get_height())) for p in container.patches)


def _scatter(collection) -> Points:
    return tuple((float(x), float(y)) for x, y in collection.get_offsets())


def _texts(fig) -> tuple[str, ...]:
    """The suptitle, then every non-empty axes title, read from the figure's artists."""
    titles = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
    return tuple(t for t in titles if t)


def _save(fig, path: Path | str, series: Mapping[str, Points], ax=None) -> Drawn:
    ticks = tuple(t.get_text() for t in ax.get_xticklabels()) if ax is not None else ()
    texts = _texts(fig)
    return Drawn(save_figure_atomic(fig, path, dpi=110), dict(series), ticks, texts)


def plot_accuracy_vs_epsilon(
    path: Path | str,
    panels: Mapping[str, Mapping[str, Sequence[tuple[float, float, float, float]]]],
    title: str = "Test accuracy vs privacy budget",
) -> Drawn:
    """``panels[panel][model] = [(epsilon, mean, low, high), ...]``; ε may be ``inf``, low/high NaN.

    Series drawn: ``"<panel> | <model>"`` (the means, by ε) and, where the interval exists,
    ``"<panel> | <model> | low"`` and ``... | high`` (the band's edges).
    """
    series: dict[str, Points] = {}
    names = list(panels)
    cols = min(3, max(1, len(names)))
    rows = math.ceil(len(names) / cols) if names else 1
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax, name in zip(axes.flat, names):
        finite = sorted({e for points in panels[name].values() for e, *_ in points if math.isfinite(e)})
        inf_x = (max(finite) * 4) if finite else 1.0
        for model, points in panels[name].items():
            pts = sorted(((inf_x if not math.isfinite(e) else e), m, lo, hi) for e, m, lo, hi in points)
            xs = [p[0] for p in pts]
            means = [p[1] for p in pts]
            colour = _COLOURS.get(model.split(":")[0], None)
            (line,) = ax.plot(xs, means, "o-", label=model, color=colour)
            series[f"{name} | {model}"] = _line(line)
            lows = [p[2] for p in pts]
            highs = [p[3] for p in pts]
            if all(math.isfinite(v) for v in lows + highs):
                ax.fill_between(xs, lows, highs, alpha=0.2, color=colour)
                series[f"{name} | {model} | low"] = tuple(zip(map(float, xs), map(float, lows)))
                series[f"{name} | {model} | high"] = tuple(zip(map(float, xs), map(float, highs)))
        if finite:
            ax.set_xscale("log")
            ticks = finite + [inf_x]
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:g}" for t in finite] + ["∞"])
            ax.minorticks_off()
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("ε")
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path, series, axes.flat[0])


def plot_norms_vs_bound(path: Path | str, rows: Sequence[tuple[str, float, float, bool]],
                        title: str = "Largest per-example gradient norm / bound") -> Drawn:
    """``rows = [(label, max_norm, bound, is_quantum), ...]``: bars of max_norm / bound.

    For a classical model ``bound`` is the G* of the quantum model it is matched to (it has no
    bound of its own), so its bar may exceed 1. Series drawn: ``"max_norm / bound"`` (one bar per
    row, x = row index; the row labels are the tick labels).
    """
    fig, ax = plt.subplots(figsize=(max(5.0, 0.55 * len(rows) + 2), 3.8))
    values = [r[1] / r[2] for r in rows]
    colours = ["tab:blue" if r[3] else "tab:orange" for r in rows]
    bars = ax.bar(range(len(rows)), values, color=colours)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="bound G* (ratio 1)")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r[0] for r in rows], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("max ||g_i|| / G*")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path, {"max_norm / bound": _bars(bars)}, ax)


def plot_bias(path: Path | str, points: Sequence[tuple[str, float, float, float | None]],
              title: str = "Clipping bias: measured vs predicted") -> Drawn:
    """``points = [(series label, clip/bound, measured_bias, predicted_bias or None), ...]``.

    Left: measured against predicted for the quantum runs, with the line y = x (every point
    must lie on or below it). Right: measured bias against C/G* per series (classical series,
    labelled ``classical:...``, dashed). Both on symmetric-log axes: the bias is often 0.
    Series drawn: ``"quantum runs"`` (predicted, measured) and, per series label, (C/G*, measured).
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    series: dict[str, Points] = {}
    quantum = [p for p in points if p[3] is not None]
    if quantum:
        xs = [p[3] for p in quantum]
        ys = [p[2] for p in quantum]
        top = max(xs + ys + [1e-3]) * 1.5
        left.plot([0, top], [0, top], "k--", lw=1, label="measured = predicted")
        series["quantum runs"] = _scatter(left.scatter(xs, ys, color="tab:blue", label="quantum runs", s=18, zorder=3))
        left.set_xlim(-1e-4, top)
        left.set_ylim(-1e-4, top)
    left.set_xscale("symlog", linthresh=1e-2)
    left.set_yscale("symlog", linthresh=1e-2)
    left.set_xlabel("predicted bound (G* - C)+")
    left.set_ylabel("measured ||mean clip(g) - mean g||")
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    for label in sorted({p[0] for p in points}):
        sel = sorted((p[1], p[2]) for p in points if p[0] == label)
        style = "s--" if label.startswith("classical") else "o-"
        (line,) = right.plot([s[0] for s in sel], [s[1] for s in sel], style, label=label, ms=4)
        series[label] = _line(line)
    right.axvline(1.0, color="k", ls=":", lw=1)
    right.set_xscale("log")
    right.set_yscale("symlog", linthresh=1e-3)
    right.set_ylim(bottom=0)
    right.set_xlabel("clip / G*")
    right.set_ylabel("measured bias (max over steps)")
    right.legend(fontsize=6)
    right.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path, series)


def plot_audit(path: Path | str, rows: Sequence[tuple[str, float, float, float]],
               title: str = "Empirical epsilon lower bound vs accounted epsilon") -> Drawn:
    """``rows = [(mechanism, eps_lower_bound, eps_accounted (inf if none), reference_eps), ...]``.

    Series drawn: ``"empirical ε lower bound"`` and ``"accounted ε"`` (bar centre, height; an
    infinite ε is drawn at the top of the axis and marked ∞) and ``"reference ε"`` (the dotted
    level of each finite reference, at its bar pair's centre).
    """
    series: dict[str, Points] = {"reference ε": ()}
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(rows) + 2), 3.6))
    finite = [v for r in rows for v in (r[1], r[2], r[3]) if math.isfinite(v)]
    cap = (max(finite) if finite else 1.0) * 1.5 + 0.1
    xs = range(len(rows))
    lower = [min(r[1], cap) for r in rows]
    accounted = [min(r[2], cap) for r in rows]
    series["empirical ε lower bound"] = _bars(
        ax.bar([x - 0.2 for x in xs], lower, width=0.4, color="tab:red", label="empirical ε lower bound"))
    series["accounted ε"] = _bars(
        ax.bar([x + 0.2 for x in xs], accounted, width=0.4, color="tab:gray", label="accounted ε (∞ drawn at top)"))
    for x, r in zip(xs, rows):
        if not math.isfinite(r[2]):
            ax.text(x + 0.2, cap * 0.95, "∞", ha="center", va="top", fontsize=12)
        if math.isfinite(r[3]):
            (level,) = ax.plot([x - 0.45, x + 0.45], [r[3], r[3]], "k:", lw=1)
            (start, height), (end, _) = _line(level)
            series["reference ε"] += (((start + end) / 2, height),)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r[0] for r in rows], fontsize=8)
    ax.set_ylim(0, cap)
    ax.set_ylabel("ε")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path, series, ax)


def plot_regime_heatmap(
    path: Path | str,
    panels: Mapping[str, tuple[Sequence[str], Sequence[float], Sequence[Sequence[float]], Sequence[Sequence[str]]]],
    title: str = "Quantum − classical private test accuracy",
) -> Drawn:
    """Regime maps: ``panels[name] = (row labels (C), column ε values, values[row][col], marks[row][col])``.

    Each panel is a heatmap of the values (NaN: no cell, drawn blank) on a diverging scale centred on
    0, every cell annotated with its value and mark (▲ quantum significantly higher, ▼ classical
    significantly higher, ≈ equivalent, nothing: undecided). Series drawn: ``"<panel> | C=<row>"``
    -> (ε, value) per column, read back from the image's array (NaN cells left out).
    """
    series: dict[str, Points] = {}
    names = list(panels)
    cols = min(2, max(1, len(names)))
    rows = math.ceil(len(names) / cols) if names else 1
    # each row of panels as tall as its largest C axis; constrained layout keeps the title clear of them
    heights = [0.45 * max([len(panels[n][0]) for n in names[r * cols:(r + 1) * cols]] or [1]) + 1.5
               for r in range(rows)]
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, sum(heights) + 0.5), squeeze=False,
                             gridspec_kw={"height_ratios": heights}, layout="constrained")
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    finite = [v for p in panels.values() for row in p[2] for v in row if math.isfinite(v)]
    limit = max([abs(v) for v in finite] + [0.05])
    for ax, name in zip(axes.flat, names):
        row_labels, epsilons, values, marks = panels[name]
        image = ax.imshow([[float(v) for v in row] for row in values], cmap="RdBu", vmin=-limit, vmax=limit,
                          aspect="auto")
        drawn = image.get_array()
        for i, label in enumerate(row_labels):
            points = []
            for j, epsilon in enumerate(epsilons):
                value = drawn[i, j]
                if np.ma.is_masked(value) or not math.isfinite(float(value)):
                    continue
                points.append((float(epsilon), float(value)))
                ax.text(j, i, f"{float(value):+.2f}{marks[i][j]}", ha="center", va="center", fontsize=7)
            series[f"{name} | C={label}"] = tuple(points)
        ax.set_xticks(range(len(epsilons)))
        ax.set_xticklabels([f"{e:g}" for e in epsilons], fontsize=8)
        ax.set_yticks(range(len(row_labels)))
        ax.set_yticklabels(row_labels, fontsize=8)
        ax.set_xlabel("ε")
        ax.set_ylabel("C")
        ax.set_title(name, fontsize=8)
        fig.colorbar(image, ax=ax, label="q − c accuracy")
    first, *rest = title.split("\n")  # the marks' legend ends the first line; further lines (labels) follow
    fig.suptitle("\n".join([first + "  (▲ quantum higher, ▼ classical higher after Holm; ≈ equivalent)", *rest]),
                 fontsize=9)
    return _save(fig, path, series, axes.flat[0])


def plot_line_panels(
    path: Path | str,
    rows: Sequence[tuple[str, Sequence[Mapping]]],
    title: str = "",
) -> Drawn:
    """A grid of line panels: ``rows = [(row title, [panel, ...]), ...]`` with each panel a mapping
    ``{"title", "xlabel", "ylabel", "logx" (bool), "logy" (bool), "hline" (float or None),
    "series": {label: [(x, y), ...]}}``. Series drawn: ``"<row> | <panel title> | <label>"``.
    """
    series: dict[str, Points] = {}
    n_cols = max((len(p) for _, p in rows), default=1)
    # constrained layout keeps the figure title clear of the first row's panel titles
    fig, axes = plt.subplots(len(rows) or 1, n_cols, figsize=(3.6 * n_cols, 2.9 * max(1, len(rows))), squeeze=False,
                             layout="constrained")
    for r, (row_title, panels) in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= len(panels):
                ax.axis("off")
                continue
            panel = panels[c]
            for label, points in panel["series"].items():
                pts = sorted((float(x), float(y)) for x, y in points if y is not None and math.isfinite(float(y)))
                if not pts:
                    continue
                style = "s--" if label.startswith("classical") else "o-"
                (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label, ms=3)
                series[f"{row_title} | {panel['title']} | {label}"] = _line(line)
            if panel.get("hline") is not None:
                ax.axhline(panel["hline"], color="k", lw=0.8, ls=":")
            if panel.get("logx"):
                ax.set_xscale("log")
                xs = sorted({x for pts in panel["series"].values() for x, _ in pts if x and x > 0})
                if xs:
                    ax.set_xticks(xs)
                    ax.set_xticklabels([f"{x:.3g}" for x in xs], rotation=45)
                    ax.minorticks_off()
            if panel.get("logy"):
                ax.set_yscale("log")
            ax.set_title(f"{row_title}\n{panel['title']}" if c == 0 else panel["title"], fontsize=7)
            ax.set_xlabel(panel.get("xlabel", ""), fontsize=7)
            ax.set_ylabel(panel.get("ylabel", ""), fontsize=7)
            ax.tick_params(labelsize=6)
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=5)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path, series, axes.flat[0])


def plot_confirmation(path: Path | str, rows: Sequence[tuple[str, float, float, float, float]], margin: float,
                      title: str = "Confirmation: quantum − classical accuracy on fresh seeds") -> Drawn:
    """``rows = [(label, exploration mean d, confirmation mean d, interval low, interval high), ...]``
    per planned test (cell and classical arm), drawn at x = 0, 1, ...

    Series drawn: ``"exploration"`` and ``"confirmation"`` (the means, as points), ``"interval low"``
    and ``"interval high"`` (the confirmation's 95 % interval ends) and ``"±margin"`` (the
    equivalence band's edges at the first and last x).
    """
    fig, ax = plt.subplots(figsize=(max(5.5, 0.9 * len(rows) + 2.5), 4.0))
    xs = np.arange(len(rows), dtype=float)
    explored = np.array([r[1] for r in rows], float)
    confirmed = np.array([r[2] for r in rows], float)
    low, high = np.array([r[3] for r in rows], float), np.array([r[4] for r in rows], float)
    ax.axhspan(-margin, margin, color="tab:gray", alpha=0.2, label=f"±{margin:g} (equivalence margin)")
    ax.axhline(0.0, color="k", lw=0.8)
    series: dict[str, Points] = {"±margin": ((-0.5, -margin), (len(rows) - 0.5, margin))}
    series["exploration"] = _scatter(ax.scatter(xs - 0.15, explored, marker="o", facecolors="none",
                                                edgecolors="tab:gray", label="exploration mean (chose the cell)"))
    series["confirmation"] = _scatter(ax.scatter(xs + 0.15, confirmed, color=_COLOURS["quantum"], zorder=3,
                                                 label="confirmation mean, 95 % interval"))
    ax.vlines(xs + 0.15, low, high, color=_COLOURS["quantum"])
    series["interval low"] = tuple((float(x), float(v)) for x, v in zip(xs + 0.15, low))
    series["interval high"] = tuple((float(x), float(v)) for x, v in zip(xs + 0.15, high))
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r[0] for r in rows], fontsize=7, rotation=30, ha="right")
    ax.set_xlim(-0.5, len(rows) - 0.5)
    ax.set_ylabel("quantum − classical test accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path, series, ax)
