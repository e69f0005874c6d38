"""C3 — accuracy retention at a fixed clip and a fixed privacy budget (arXiv:2606.29293), as a regime map.

Claim: *quantum models can retain higher accuracy in private-training regimes where the formal
guarantee is ensured by a classical DP-SGD mechanism* — under a fixed clipping threshold C and a
fixed budget (ε, δ), higher than equivalent classical models, on synthetic and image tasks.

Protocol (the paper's fixed-C, fixed-ε comparison, mapped over regimes by
:mod:`privqml.paper_checks.regimes`):

- cells (task, quantum model, n_train, C, ε) from the profile's blocks (``Profile.c3_blocks``;
  the full profile's design and why it was chosen: :mod:`privqml.paper_checks.profiles`);
- arms: the quantum model, the MLP matched to it (same inputs, loss and readout, at most as many
  weights) and a logistic model (what a DP practitioner tries first), weight counts reported;
- C the same for every arm of a cell: multiples of the quantum model's data-free bound G* and
  fixed numbers; ε = ∞ (no clipping, no noise) is each arm's non-private reference;
- each arm's learning rate chosen on public data only (:mod:`privqml.paper_checks.learning_rate`);
- replicates paired by seed: the arms share the data split, the Poisson draws and the noise.

Verdict: per cell, then overall, by the rule of :mod:`privqml.paper_checks.regime_analysis` — Holm over
every (cell, classical arm) comparison; a cell is *supported* when the quantum model is
significantly higher than every classical arm; the claim, existential, is supported when at least
one cell is, not supported when every cell is not supported (a classical arm higher or
equivalent), inconclusive otherwise. Retention (private / non-private) and the causes (fraction
clipped, clip bias, noise-to-signal) are reported beside each cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from privqml.paper_checks import regime_analysis, regime_report, regimes
from privqml.paper_checks.profiles import Profile
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.regime_analysis import RegimeMap
from privqml.paper_checks.report import ClaimReport

CLAIM = "C3"
TITLE = "accuracy retention at fixed clip and budget"
STATEMENT = (
    "Under a fixed clipping threshold and a fixed privacy budget, quantum models keep higher accuracy "
    "than equivalent classical models, on synthetic and on image-classification tasks (\"can retain higher "
    "accuracy in private-training regimes\")."
)
PLOT_PREFIX = "c3_"


def tasks(profile: Profile) -> list[Task]:
    """Every training run of the profile's regime map (private cells and the ε = ∞ references)."""
    return regimes.tasks(profile.c3_design())


def run_task(task: Task, rng: np.random.Generator) -> dict[str, Any]:
    # TensorFlow and TFQ: imported only in the process that trains (not by the report).
    from privqml.paper_checks.training import run_training_task

    return run_training_task(task)


def result_privacy(task: Task, result: Mapping[str, Any]) -> dict[str, Any]:
    """What a run's result file says ε covers (:func:`privqml.paper_checks.training.result_privacy`)."""
    # TensorFlow comes with the training module; the driver that stores results has it loaded for G*.
    from privqml.paper_checks.training import result_privacy as training_privacy

    return training_privacy(task, dict(result))


def analyse(profile: Profile, results: Mapping[Task, Mapping[str, Any]]) -> RegimeMap:
    """The regime map of C3's runs (pure): cells, Holm-adjusted tests, references, verdict."""
    return regime_analysis.analyse(profile.c3_design(), results, indicative=profile.indicative, verdict_claim=CLAIM)


def render(regime_map: RegimeMap, out_dir: Path) -> ClaimReport:
    """The claim's report: the map's tables, the heatmap and the causes plot (into ``out_dir``)."""
    return regime_report.render(regime_map, out_dir, CLAIM, TITLE, STATEMENT, prefix=PLOT_PREFIX)


def summarise(profile: Profile, results: Mapping[Task, Mapping[str, Any]], out_dir: Path, staged=None) -> ClaimReport:
    """:func:`render` of :func:`analyse`; with ``staged`` (a :class:`~privqml.paper_checks.staged.Staged`
    of the profile's confirmation) the two-stage report, whose verdict is the confirmation's."""
    if staged is None:
        return render(analyse(profile, results), out_dir)
    from privqml.paper_checks import staged_report  # SciPy: only with a confirmation stage

    return staged_report.render(analyse(profile, results), staged, out_dir, CLAIM, TITLE, STATEMENT, prefix=PLOT_PREFIX)
