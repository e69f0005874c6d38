"""privqml.paper_checks — the claims of arXiv:2606.29293 checked end to end.

Modules (one concept each; nothing here imports TensorFlow until a task runs):

- :mod:`~privqml.paper_checks.protocol` — frozen :class:`Task` records, fixed output paths,
  atomic result files;
- :mod:`~privqml.paper_checks.executors` — serial, local process pool (``spawn``), Ray;
- :mod:`~privqml.paper_checks.sweep` — resumable :func:`run_sweep` over an executor;
- :mod:`~privqml.paper_checks.stats` — t-intervals, retention, paired tests, verdict rules;
- :mod:`~privqml.paper_checks.report`, :mod:`~privqml.paper_checks.plots` — report.md,
  results.json, PNG plots;
- :mod:`~privqml.paper_checks.profiles` — ``demo`` / ``quick`` / ``full``;
- :mod:`~privqml.paper_checks.training` — a task record to one run of the models layer's trainer;
- :mod:`~privqml.paper_checks.learning_rate` — each arm's learning rate chosen on public data only;
- :mod:`~privqml.paper_checks.regimes`, :mod:`~privqml.paper_checks.regime_analysis`,
  :mod:`~privqml.paper_checks.regime_report` — regime maps: a comparison design and its task
  records; runs to cells, Holm-adjusted tests, per-cell and overall verdicts, causes; tables,
  heatmap and causes plot;
- :mod:`~privqml.paper_checks.compare` — what ``privqml compare`` runs;
- :mod:`~privqml.paper_checks.c1_quantum_noise`, :mod:`~privqml.paper_checks.c2_clipping_bias`,
  :mod:`~privqml.paper_checks.c3_accuracy` — one module per claim: ``tasks(profile)``,
  ``run_task(task, rng)``, ``analyse(profile, results)`` (pure: a typed analysis record with the
  verdict), ``render(analysis, out_dir) -> ClaimReport`` (tables, plots) and ``summarise``, the
  two in a row;
- :mod:`~privqml.paper_checks.run` — :func:`run_checks` (what ``privqml check`` runs) and
  :func:`demo` (what ``make demo`` ends with).
"""

from __future__ import annotations

from privqml._lazy import lazy_exports

_EXPORTS = {
    "Task": "protocol",
    "run_sweep": "sweep",
    "load_sweep": "protocol",
    "SweepError": "sweep",
    "make_executor": "executors",
    "LocalExecutor": "executors",
    "RayExecutor": "executors",
    "SerialExecutor": "executors",
    "PROFILES": "profiles",
    "Profile": "profiles",
    "get_profile": "profiles",
    "Verdict": "stats",
    "mean_ci": "stats",
    "paired_test": "stats",
    "retention": "stats",
    "ClaimReport": "report",
    "write_report": "report",
    "CheckRun": "run",
    "run_checks": "run",
    "demo": "run",
}

__getattr__, __dir__, __all__ = lazy_exports("privqml.paper_checks", _EXPORTS)
