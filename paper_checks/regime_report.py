"""Rendering a :class:`~privqml.paper_checks.regime_analysis.RegimeMap`: tables, the heatmap, the causes plot.

- :func:`tables` — the map (one row per cell and classical arm: accuracies, q − c with its 95%
  interval, Holm-adjusted p, outcome, the cell's verdict), retention, the causes per arm
  (fraction clipped, clip bias, noise-to-signal σC/(L‖mean clip_C(g)‖): computed from private
  per-example gradients, so their columns are marked "not covered by ε"), the non-private
  references with weight counts, and the public learning-rate choices;
- :func:`plot_heatmap` — one heatmap per block and classical arm (rows C, columns ε) of the mean
  q − c with significance marks; the numbers drawn are those of the map table (tests hold them
  equal);
- :func:`plot_causes` — per block, the regime (q − c against ε per C) beside its causes
  (fraction clipped and clip bias against C, noise-to-signal against ε, per arm);
- :func:`render` — all of it as a :class:`~privqml.paper_checks.report.ClaimReport`.

A map whose runs drew their noise from recorded seeds (``RegimeMap.simulation``) carries
:data:`~privqml.paper_checks.report.SIMULATION_LABEL` on a title line of both figures and beside its
verdict.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from privqml.paper_checks import plots
from privqml.paper_checks.regime_analysis import RegimeCell, RegimeMap
from privqml.paper_checks.regimes import bound_ratio, clip_label
from privqml.paper_checks.report import SIMULATION_LABEL, ClaimReport, Figure, Table, diagnostic

HEATMAP_NAME = "regime_map.png"
CAUSES_NAME = "regime_causes.png"
_MARKS = {"quantum higher": "▲", "classical higher": "▼", "equivalent": "≈"}


def _clip_order(clip) -> tuple[int, float]:
    """Bound multiples first (by k), then numbers (by value)."""
    ratio = bound_ratio(clip)
    return (0, ratio) if ratio is not None else (1, float(clip))


def _short(model: str) -> str:
    """``mlp:match=hea,n_qubits=8`` -> ``mlp``: classical arms are matched to the block's quantum model."""
    family, _, options = model.partition(":")
    return family if options.startswith("match=") else model


def map_rows(regime_map: RegimeMap) -> tuple[tuple, ...]:
    """The map table's rows: one per (cell, classical arm); column 10 is the mean q − c (a float)."""
    rows = []
    for cell in regime_map.cells:
        for arm, comp in zip(cell.classical, cell.comparisons):
            diff = comp.accuracy.difference
            rows.append((cell.dataset, cell.quantum_model, cell.n_train, clip_label(cell.clip, cell.clip_value),
                         cell.epsilon, len(cell.replicates), cell.quantum.accuracy.format(), _short(arm.model),
                         arm.accuracy.format(), diff.mean,
                         f"[{diff.low:.3f}, {diff.high:.3f}]" if math.isfinite(diff.low) else "–",
                         comp.accuracy.adjusted_pvalue, comp.accuracy.wilcoxon_pvalue, comp.accuracy.outcome,
                         cell.verdict))
    return tuple(rows)


#: the causes table's diagnostic columns (private per-example gradients), each marked "not covered by ε"
CAUSES_COLUMNS = tuple(diagnostic(name) for name in ("fraction clipped", "clip bias", "noise/signal"))
MAP_COLUMNS = ("task", "quantum", "n_train", "C", "ε", "seeds", "quantum acc", "classical", "classical acc",
               "q − c", "95% CI", "p (t, Holm)", "p (Wilcoxon)", "outcome", "cell verdict")


def tables(regime_map: RegimeMap) -> tuple[Table, ...]:
    cells = regime_map.cells
    retention = tuple(
        (c.dataset, c.quantum_model, c.n_train, clip_label(c.clip, c.clip_value), c.epsilon,
         c.quantum.retention.format() if c.quantum.retention else "–", _short(arm.model),
         arm.retention.format() if arm.retention else "–", comp.retention.difference.format(),
         comp.retention.adjusted_pvalue, comp.retention.outcome)
        for c in cells for arm, comp in zip(c.classical, c.comparisons) if comp.retention is not None)
    causes = tuple(
        (c.dataset, c.quantum_model, c.n_train, clip_label(c.clip, c.clip_value), c.epsilon, _short(arm.model),
         arm.clip_fraction, arm.clip_bias, arm.noise_to_signal)
        for c in cells for arm in (c.quantum, *c.classical))
    references = tuple((r.dataset, r.n_train, r.n_examples, _short(r.model), r.n_weights, r.accuracy.n,
                        r.accuracy.format(),
                        ", ".join(f"{v:g}" for v in r.lrs) or "–", "yes" if r.near_chance else "")
                       for r in regime_map.references)
    lr = tuple((entry["dataset"], _short(entry["model"]),
                ", ".join(sorted({f"{c['lr']:g}" for c in entry["choices"]})), len(entry["choices"]),
                " / ".join(f"{g:g}" for g in entry["choices"][0]["grid"]),
                " / ".join(f"{a:.3f}" for a in entry["choices"][0]["validation_accuracy"]),
                entry["choices"][0]["source"])
               for entry in regime_map.lr_choices)
    return (
        Table("Regime map: private test accuracy, quantum vs each classical arm (mean [95% CI] over seeds; "
              "p: paired t-test, Holm-adjusted over the whole map; Wilcoxon unadjusted)", MAP_COLUMNS, map_rows(regime_map)),
        Table("Retention = accuracy(ε) / accuracy(ε = ∞), per seed (Holm over the map's retention comparisons)",
              ("task", "quantum", "n_train", "C", "ε", "quantum", "classical", "classical retention", "q − c",
               "p (t, Holm)", "outcome"), retention),
        Table("Causes per arm (means over seeds): fraction of examples clipped, clip bias ‖mean clip(g) − mean g‖, "
              "noise-to-signal σC/(L·‖mean clip(g)‖) — computed from the per-example gradients of the private "
              "training data: diagnostics, not covered by ε",
              ("task", "quantum", "n_train", "C", "ε", "arm", *CAUSES_COLUMNS), causes),
        Table("Non-private reference (ε = ∞: no clipping, no noise) and weight counts",
              ("task", "n_train", "examples trained on", "model", "weights", "seeds", "test accuracy", "lr",
               "near chance"), references),
        Table("Learning rates chosen on public data (never on the private training split); accuracies of the first "
              "choice's grid", ("task", "model", "lr chosen", "choices", "grid", "public validation accuracy", "public data"),
              lr),
    )


def _blocks(regime_map: RegimeMap) -> dict[str, list[RegimeCell]]:
    out: dict[str, list[RegimeCell]] = defaultdict(list)
    for cell in regime_map.cells:
        out[cell.block_name].append(cell)
    return out


def heatmap_panels(regime_map: RegimeMap) -> dict[str, tuple]:
    """Per block and classical arm: (C labels, ε values, q − c means [C][ε] (NaN where no cell), marks)."""
    panels = {}
    for name, cells in _blocks(regime_map).items():
        clips = sorted({c.clip for c in cells}, key=_clip_order)
        epsilons = sorted({c.epsilon for c in cells})
        value_of = {(c.clip, c.epsilon): c for c in cells}
        labels = [clip_label(clip, next(c.clip_value for c in cells if c.clip == clip)) for clip in clips]
        for j, arm in enumerate(cells[0].classical):
            values = [[math.nan] * len(epsilons) for _ in clips]
            marks = [[""] * len(epsilons) for _ in clips]
            for a, clip in enumerate(clips):
                for b, eps in enumerate(epsilons):
                    cell = value_of.get((clip, eps))
                    if cell is not None:
                        comp = cell.comparisons[j].accuracy
                        values[a][b] = comp.difference.mean
                        marks[a][b] = _MARKS.get(comp.outcome, "")
            panels[f"{name} vs {_short(arm.model)}"] = (labels, epsilons, values, marks)
    return panels


def figure_title(regime_map: RegimeMap, title: str) -> str:
    """``title``, with :data:`SIMULATION_LABEL` on a line of its own when the map's runs are simulations."""
    return f"{title}\n{SIMULATION_LABEL}" if regime_map.simulation else title


def plot_heatmap(regime_map: RegimeMap, out_dir: Path, name: str = HEATMAP_NAME) -> Figure:
    drawn = plots.plot_regime_heatmap(
        Path(out_dir) / name, heatmap_panels(regime_map),
        title=figure_title(regime_map, f"{regime_map.verdict.claim}: quantum − classical private test accuracy"))
    return Figure(name, "Regime map: mean quantum − classical private test accuracy per (C, ε), per block and "
                  "classical arm; ▲/▼ significant after Holm over the whole map, ≈ equivalent", drawn.series, drawn.texts)


def _mean(values) -> float | None:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(values)) if values else None


def causes_rows(regime_map: RegimeMap) -> list[tuple[str, list[dict]]]:
    """Per block: the regime (q − c vs ε per C, against the first classical arm) and the causes."""
    rows = []
    for name, cells in _blocks(regime_map).items():
        clips = sorted({c.clip for c in cells}, key=_clip_order)
        first = _short(cells[0].classical[0].model)
        regime = {f"C={clip_label(clip)}": [(c.epsilon, c.comparisons[0].accuracy.difference.mean)
                                            for c in cells if c.clip == clip] for clip in clips}
        arms = [(0, "quantum:" + _short(cells[0].quantum.model))] + [
            (i + 1, "classical:" + _short(a.model)) for i, a in enumerate(cells[0].classical)]

        def per_arm(attr: str, index: int, clip) -> list:
            chosen = [c for c in cells if c.clip == clip]
            arm = [(c.quantum, *c.classical)[index] for c in chosen]
            return [(c.epsilon, getattr(a, attr)) for c, a in zip(chosen, arm)]

        by_clip = {label: [] for _, label in arms}
        bias = {label: [] for _, label in arms}
        for clip in clips:
            value = next(c.clip_value for c in cells if c.clip == clip)
            for index, label in arms:
                by_clip[label].append((value, _mean(y for _, y in per_arm("clip_fraction", index, clip))))
                bias[label].append((value, _mean(y for _, y in per_arm("clip_bias", index, clip))))
        central = "bound" if "bound" in clips else clips[0]
        noise = {label: per_arm("noise_to_signal", index, central) for index, label in arms}
        rows.append((name, [
            {"title": f"q − {first} accuracy", "xlabel": "ε", "ylabel": "q − c", "logx": True, "hline": 0.0,
             "series": regime},
            {"title": "fraction clipped (mean over ε)", "xlabel": "C", "ylabel": "fraction", "logx": True,
             "series": by_clip},
            {"title": "clip bias (mean over ε)", "xlabel": "C", "ylabel": "‖bias‖", "logx": True, "series": bias},
            {"title": f"noise / signal at C={clip_label(central)}", "xlabel": "ε", "ylabel": "σC/(L‖ḡ‖)", "logx": True,
             "logy": True, "series": noise},
        ]))
    return rows


def plot_causes(regime_map: RegimeMap, out_dir: Path, name: str = CAUSES_NAME) -> Figure:
    drawn = plots.plot_line_panels(
        Path(out_dir) / name, causes_rows(regime_map),
        title=figure_title(regime_map, f"{regime_map.verdict.claim}: regimes and their causes (fraction clipped, "
                                       "clip bias, noise/signal: not covered by ε)"))
    return Figure(name, "Per block: quantum − classical accuracy against ε (per C) beside the causes — fraction "
                  "clipped and clip bias against C, noise-to-signal against ε — per arm (the causes are diagnostics "
                  "of the private training data, not covered by ε)", drawn.series, drawn.texts)


def headline(regime_map: RegimeMap) -> str:
    cells = regime_map.cells
    if not cells:
        return "no cells"
    diffs = [comp.accuracy.difference.mean for c in cells for comp in c.comparisons]
    return (f"{len(cells)} cells: supported in {len(regime_map.supported)}, not supported in "
            f"{len(regime_map.not_supported)}; q − c from {min(diffs):+.3f} to {max(diffs):+.3f} (mean {np.mean(diffs):+.3f})")


def notes(regime_map: RegimeMap) -> tuple[str, ...]:
    design = regime_map.design
    lr = (f"learning rate per arm by the public rule (grid {', '.join(f'{v:g}' for v in design.lr_rule.grid)}, "
          f"{design.lr_rule.epochs} non-private epochs on public data, best public validation accuracy)"
          if design.lr_rule else f"Adam lr={design.lr:g} for every arm")
    return (
        f"{design.epochs} epochs, expected batch {design.batch_size} (Poisson), Adam, {lr}; δ={design.delta:g}; σ "
        "calibrated per run from the target ε (RDP); every arm of a cell has the same C, ε, δ, q and steps, hence the same σ.",
        "Pairing: replicate r of a task has one seed for every arm (data split, Poisson draws, noise): the runs are "
        "simulations of DP training, reproducible from the recorded seed"
        + (f" ({SIMULATION_LABEL})." if regime_map.simulation else "."),
        "Fraction clipped, clip bias and noise-to-signal are computed from the per-example gradients of the private "
        "training data: diagnostics, not covered by ε (only the released weights and what is computed from them on "
        "test or public data are).",
        "Features are the same for every arm: synthetic tasks are drawn in the public domain; digits are mapped by "
        "PCA + scaling fitted on a held-out public split.",
    ) + (("One seed: no intervals and no tests; outcomes follow the sign of the difference (indicative).",)
         if design.seeds < 2 else ())


def render(regime_map: RegimeMap, out_dir: Path, claim: str, title: str, statement: str,
           prefix: str = "") -> ClaimReport:
    """The map as a :class:`ClaimReport`; the heatmap and causes PNGs are written into ``out_dir``
    as ``<prefix>regime_map.png`` and ``<prefix>regime_causes.png``."""
    figures = (plot_heatmap(regime_map, out_dir, prefix + HEATMAP_NAME),
               plot_causes(regime_map, out_dir, prefix + CAUSES_NAME))
    return ClaimReport(claim=claim, title=title, statement=statement, verdict=regime_map.verdict,
                       numbers=regime_map.to_json(), tables=tables(regime_map), headline=headline(regime_map),
                       plots=figures, notes=notes(regime_map), simulation=regime_map.simulation)


__all__ = ["CAUSES_COLUMNS", "CAUSES_NAME", "HEATMAP_NAME", "MAP_COLUMNS", "causes_rows", "figure_title", "headline",
           "heatmap_panels", "map_rows", "notes", "plot_causes", "plot_heatmap", "render", "tables"]
