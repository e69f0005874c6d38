"""The report of a paper check: ``report.md`` (claim, verdict, tables, plots) and ``results.json``.

Each claim module turns its sweep into a :class:`ClaimReport`; :func:`write_report` renders
any number of them into one directory:

- ``report.md`` — per claim: the statement, the verdict (marked *indicative* when it rests on
  one seed), the rule that produced it, the reasons, tables and the PNG plots (which the claim
  module has already written into the same directory);
- ``results.json`` — strict JSON in privqml's convention (:mod:`privqml.jsonio`: non-finite
  numbers are the strings ``"inf"``, ``"-inf"``, ``"nan"``) with ``verdicts`` (claim -> verdict),
  ``labels`` (claim -> verdict with "(indicative)" when so), ``claims`` (claim ->
  :meth:`ClaimReport.to_json`: the verdict record and the numbers behind it) and ``meta``
  (profile, executor, wall time, package versions, command).

Two labels travel with every output that needs them: :data:`SIMULATION_LABEL` (runs whose noise and
Poisson batches are derived from a recorded seed — a reproducible simulation of DP training, not a
release that is private against a reader of the seed) and :data:`NOT_COVERED_LABEL` (numbers computed
from the private training data — per-example gradient norms, fractions clipped, clip bias,
noise-to-signal, train accuracy, class counts — which the (ε, δ) guarantee does not cover;
:func:`diagnostic` marks a column or field name with it).
"""

from __future__ import annotations

import dataclasses
import math
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

from privqml.atomic import write_text_atomic
from privqml.paper_checks.protocol import atomic_write_json
from privqml.paper_checks.stats import Verdict

_VERSIONED = ("privqml", "tensorflow", "tensorflow-quantum", "tensorflow-privacy", "dp-accounting", "cirq-core",
              "numpy", "scipy", "scikit-learn", "ray")

SIMULATION_LABEL = "SIMULATION: seeded noise, not a private release"
NOT_COVERED_LABEL = "not covered by ε"
NOT_COVERED_STATEMENT = (
    "numbers marked [not covered by ε] are diagnostics computed from the private training data (per-example "
    "gradients, train accuracy, class counts): the (ε, δ) guarantee does not cover them"
)
RANDOMNESS_NOTE = (
    "Randomness: every training run here is a *simulation* of DP training (noise and Poisson batches "
    "derived from the task's recorded seed, so the arms of a paired comparison share them): its epsilon is "
    "the guarantee of the simulated mechanism, not privacy against a reader of the seed. `privqml train` "
    "without --simulation-seed draws both from secret OS entropy."
)


def diagnostic(name: str) -> str:
    """``name`` (a table column or a JSON field) marked as a diagnostic of the private training data."""
    return f"{name} [{NOT_COVERED_LABEL}]"


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if math.isnan(value):
            return "–"
        return f"{value:.4g}"
    if value is None:
        return "–"
    return str(value).replace("|", "\\|")


@dataclasses.dataclass(frozen=True)
class Table:
    """A table of the report: a title, column names and rows of cells."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def markdown(self) -> str:
        lines = [f"**{self.title}**", "", "| " + " | ".join(_cell(c) for c in self.columns) + " |",
                 "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "columns": list(self.columns), "rows": [list(r) for r in self.rows]}


@dataclasses.dataclass(frozen=True)
class Figure:
    """A plot of the report: its PNG's file name in the report directory, a caption, the numbers
    drawn in it (:attr:`privqml.paper_checks.plots.Drawn.series`: label -> (x, y) points) and its
    titles as drawn (:attr:`~privqml.paper_checks.plots.Drawn.texts`: the simulation label, where it
    applies, is among them)."""

    name: str
    caption: str
    series: Mapping[str, tuple[tuple[float, float], ...]] = dataclasses.field(default_factory=dict)
    texts: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ClaimReport:
    """What one claim module found.

    Attributes:
        claim: ``"C1"``, ``"C2"`` or ``"C3"``.
        title: short name of the claim.
        statement: the claim in words.
        verdict: the :class:`~privqml.paper_checks.stats.Verdict`.
        numbers: the numbers behind the verdict (JSON-able; written to results.json).
        tables: tables for report.md.
        plots: the figures, whose PNGs are already in the report directory.
        notes: caveats, what was and was not measured, settings.
        headline: the key numbers in one line (printed beside the verdict).
        simulation: the claim's runs drew their noise from recorded seeds (:data:`SIMULATION_LABEL`
            goes beside its verdict and on its plots).
    """

    claim: str
    title: str
    statement: str
    verdict: Verdict
    numbers: Mapping[str, Any]
    tables: tuple[Table, ...] = ()
    plots: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()
    headline: str = ""
    simulation: bool = False

    def to_json(self) -> dict[str, Any]:
        """The claim's entry of results.json (``claims.<claim>``)."""
        return {
            "title": self.title,
            "statement": self.statement,
            "headline": self.headline,
            "verdict": self.verdict.to_json(),
            "numbers": self.numbers,
            "tables": [t.to_json() for t in self.tables],
            "plots": [figure.name for figure in self.plots],
            "notes": list(self.notes),
            "simulation": self.simulation,
        }

    def markdown(self) -> str:
        parts = [f"## {self.claim} — {self.title}", "", f"> {self.statement}", "",
                 f"**Verdict: {self.verdict.label}**" + (f" — {self.headline}" if self.headline else ""), ""]
        if self.simulation:
            parts += [f"**{SIMULATION_LABEL}**", ""]
        parts += [f"- {reason}" for reason in self.verdict.reasons]
        parts += ["", f"*Rule:* {self.verdict.rule}", ""]
        for table in self.tables:
            parts += [table.markdown(), ""]
        for figure in self.plots:
            parts += [f"![{figure.caption}]({figure.name})", "", f"*{figure.caption}*", ""]
        if self.notes:
            parts += ["Notes:", ""] + [f"- {note}" for note in self.notes] + [""]
        return "\n".join(parts)


def write_report(out_dir: Path | str, claims: Sequence[ClaimReport], meta: Mapping[str, Any] | None = None,
                 heading: str = "privqml paper checks — arXiv:2606.29293") -> tuple[Path, Path]:
    """Write ``report.md`` (titled ``heading``) and ``results.json`` into ``out_dir`` (atomically);
    return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "versions": package_versions(), **dict(meta or {})}
    indicative = any(c.verdict.indicative for c in claims)
    lines = [f"# {heading}", ""]
    if meta.get("command"):
        lines += [f"Command: `{meta['command']}`", ""]
    if meta.get("profile"):
        lines += [f"Profile: **{meta['profile']}**" + (" — verdicts are *indicative* (one seed, no intervals)" if indicative else ""), ""]
    skipped = (meta.get("profile_settings") or {}).get("device_skipped") or ()
    if skipped:
        lines += ["Left noiseless only (no device arm):", ""] + [f"- {why}" for why in skipped] + [""]
    simulation = any(c.simulation for c in claims)
    if simulation:
        lines += [f"**{SIMULATION_LABEL}.**", ""]
    lines += [f"> {RANDOMNESS_NOTE}", "", f"> Privacy scope: {NOT_COVERED_STATEMENT}.", ""]
    lines += ["| claim | verdict | key numbers |", "|---|---|---|"]
    lines += [f"| {c.claim} {c.title} | {c.verdict.label} | {_cell(c.headline)} |" for c in claims]
    lines += [""]
    for claim in claims:
        lines += [claim.markdown(), ""]
    lines += ["## Run", ""]
    for key in ("profile", "executor", "wall_seconds", "task_seconds", "tasks_computed", "tasks_skipped"):
        if key in meta:
            lines.append(f"- {key}: {_cell(meta[key])}")
    lines.append("- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    report_md = out / "report.md"
    write_text_atomic(report_md, "\n".join(lines) + "\n")
    payload = {
        "verdicts": {c.claim: c.verdict.verdict for c in claims},
        "labels": {c.claim: c.verdict.label for c in claims},
        "indicative": indicative,
        "randomness": {"mode": "simulation", "statement": RANDOMNESS_NOTE,
                       "label": SIMULATION_LABEL if simulation else None},
        "not_covered": NOT_COVERED_STATEMENT,
        "claims": {c.claim: c.to_json() for c in claims},
        "meta": meta,
    }
    results_json = out / "results.json"
    atomic_write_json(results_json, payload)
    return report_md, results_json

