"""``privqml compare`` as a function: a user's quantum model against classical ones, as a regime map.

:func:`comparison_design` validates a comparison given as text (the command line's values, or
the same from Python) and returns a :class:`~privqml.paper_checks.regimes.Design` — one block per
n_train, each over the ε × C grid, the quantum arm and the classical arms (bare families are
matched to the quantum model) — after checking the budget of every private cell
(:func:`privqml.paper_checks.preflight.check_cells`: δ against 1/n with n the size each block
trains on, an ε the accountants can reach). :func:`run_comparison` makes the task records, checks
their clips (a bound multiple's C = k·G* once G* is pinned) and the output directory before it
creates anything, then runs the design as a resumable sweep (task records under
``DIR/runs/compare/``, each result file stating what ε covers; the same command again recomputes
nothing, an interrupted one resumes) on the local pool or Ray, analyses it and writes
``DIR/report.md``, ``DIR/results.json``, ``DIR/regime_map.png`` and ``DIR/regime_causes.png``.

With ``confirm`` (``privqml compare --confirm``) the map is the exploration stage of a two-stage
comparison (:mod:`privqml.paper_checks.staged`): a plan fixed by a stated rule and a power
calculation is written to ``DIR/confirmation/plan.json`` and hashed before any confirmation run,
the planned cells run on fresh, disjoint replicates, and the verdict comes from those runs alone
(``DIR/confirmation.png`` beside the map's figures).
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from privqml import validation
from privqml.errors import ConfigError
from privqml.models.data import SYNTHETIC_TASKS, dataset_classes
from privqml.paper_checks import preflight, regime_analysis, regime_report, regimes
from privqml.paper_checks.executors import make_executor
from privqml.paper_checks.learning_rate import LRRule, supports
from privqml.paper_checks.protocol import Task, atomic_write_json
from privqml.paper_checks.regimes import Block, ConfirmSettings, Design
from privqml.paper_checks.report import ClaimReport, write_report
from privqml.paper_checks.run import group_key, run_task_group
from privqml.paper_checks.sweep import ProgressCallback, run_sweep

CLAIM = "compare"
TITLE = "quantum vs classical under DP-SGD at fixed C and ε"
STATEMENT = ("At a fixed clipping threshold C and a fixed budget (ε, δ), the quantum model keeps higher private test "
             "accuracy than each classical model (per cell, paired by seed, Holm-adjusted over the map).")


def _items(name: str, text: str | Sequence) -> list[str]:
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else [str(t).strip() for t in text]
    items = [t for t in items if t]
    if not items:
        raise ConfigError(f"{name}={text!r} is empty; give a comma-separated list")
    return items


def _numbers(name: str, text: str | Sequence, convert: type, example: str,
             check: Callable[[Any], Any] = lambda value: value) -> list:
    """The items of a comma-separated list converted by ``convert`` (float or int) and passed through
    ``check`` one by one; a one-line error naming the first item that is not a number or fails the check."""
    values = []
    for item in _items(name, text):
        try:
            value = convert(item)
        except ValueError:
            what = "an integer" if convert is int else "a number"
            raise ConfigError(f"{name}: {item!r} is not {what}; write e.g. {example}") from None
        values.append(check(value))
    return values


def parse_epsilons(text: str | Sequence) -> tuple[float, ...]:
    """``"0.5,1,inf"`` -> (0.5, 1.0) — the finite ε of the cells (ε = ∞ is always run as the reference)."""
    values = _numbers("epsilons", text, float, "--epsilons 0.5,1,4", lambda v: validation.epsilon("epsilon", v))
    finite = tuple(sorted({v for v in values if math.isfinite(v)}))
    if not finite:
        raise ConfigError(f"epsilons={text!r} has no finite value; give at least one, e.g. --epsilons 1,4 "
                          "(ε = ∞, the non-private reference, is always run)")
    return finite


def parse_clips(text: str | Sequence) -> tuple[Any, ...]:
    """``"bound,4xbound,0.5"`` -> ("bound", "4xbound", 0.5) (:func:`~privqml.paper_checks.regimes.parse_clip`)."""
    return tuple(dict.fromkeys(regimes.parse_clip(item) for item in _items("clips", text)))


def parse_sizes(text: str | Sequence) -> tuple[int, ...]:
    sizes = _numbers("n_train", text, int, "--n-train 200,400", lambda n: validation.size("n_train", n))
    return tuple(dict.fromkeys(sizes))


def _model(role: str, spec: str) -> str:
    """``spec`` checked by the model-spec parser (no TensorFlow), and of the ``role``'s kind (quantum: a
    built-in family or a user's ``file.py:function``; classical); a user's function is called once here."""
    from privqml.models.specs import CLASSICAL_FAMILIES, QUANTUM_FAMILIES, USER_FAMILY, check_function, parse_model_spec

    family, _ = parse_model_spec(spec.strip())
    families = (*QUANTUM_FAMILIES, USER_FAMILY) if role == "quantum" else CLASSICAL_FAMILIES
    if family not in families:
        choices = [*QUANTUM_FAMILIES, "path/to/file.py:function"] if role == "quantum" else list(CLASSICAL_FAMILIES)
        raise ConfigError(f"{role}={spec!r}: {family!r} is not a {role} model family; choose one of {choices} "
                          "(options after ':', e.g. hea:n_qubits=8)")
    check_function(spec.strip())
    return spec.strip()


def comparison_design(
    quantum: str = "hea", classical: str | Sequence[str] = "mlp,logistic", dataset: str = "quantum",
    epsilons: str | Sequence = "1,4", clips: str | Sequence = "bound", n_train: str | Sequence | None = None,
    seeds: int = 5, epochs: int = 10, batch_size: int = 32, delta: float = 1e-5, n_test: int = 300,
    lr: str | float = "auto", lr_grid: str | Sequence = "0.01,0.05,0.2", lr_epochs: int = 5,
) -> Design:
    """A validated :class:`Design` (one-line :class:`ConfigError` naming the bad value otherwise).

    ``n_train``: the training-set sizes of a synthetic task (default 400); digits and files train on the size
    their split gives, so a size given for them is refused rather than ignored.
    ``lr="auto"``: each arm's learning rate by the public rule of
    :mod:`privqml.paper_checks.learning_rate` on ``lr_grid``; a number: that rate for every arm.
    The settings and the budget of every (ε, n) cell are checked first, the model specs last (their
    parser loads TensorFlow), so a budget that cannot be met is refused within seconds.
    """
    dataset_classes(dataset)  # validates the task's name
    validation.integer("seeds", seeds, 1, hint="replicates per cell; >= 2 for intervals and tests")
    validation.integer("epochs", epochs, 1)
    validation.integer("batch_size", batch_size, 1)
    validation.delta("delta", delta)
    validation.size("n_test", n_test)
    if isinstance(lr, str) and lr.strip() == "auto":
        if not supports(dataset):
            raise ConfigError(f"lr='auto' needs public data of dataset={dataset!r} (synthetic tasks, digits); "
                              "give a number, e.g. --lr 0.05")
        grid = _numbers("lr_grid", lr_grid, float, "--lr-grid 0.01,0.05,0.2")
        rule, rate = LRRule(tuple(grid), validation.integer("lr_epochs", lr_epochs, 1)), 0.05
    else:
        try:
            rate = float(lr)
        except (TypeError, ValueError):
            raise ConfigError(f"lr={lr!r} is neither 'auto' nor a number; write --lr auto or e.g. --lr 0.05") from None
        rule = None
        validation.positive("lr", rate, hint="a learning rate, e.g. 0.05, or auto")
    finite, clip_set = parse_epsilons(epsilons), parse_clips(clips)
    if dataset in SYNTHETIC_TASKS:
        sizes = parse_sizes("400" if n_train is None else n_train)
    elif n_train is not None:  # their split fixes the size: a given size would be ignored, or repeat the same runs
        raise ConfigError(f"n_train={n_train!r}: dataset={dataset!r} trains on the size its split gives "
                          f"({preflight.training_size(dataset, None)} examples); omit --n-train, or use a synthetic "
                          f"task ({', '.join(SYNTHETIC_TASKS)}) to vary it")
    else:
        sizes = (preflight.training_size(dataset, None),)
    # δ < 1/n, a reachable ε, σ in range: every cell, before any run (and before TensorFlow loads)
    preflight.check_cells(dataset, sizes, finite, delta, batch_size, epochs)
    quantum = _model("quantum", quantum)
    arms = tuple(_model("classical", c) for c in _items("classical", classical))
    axis = "n_train" if len(sizes) > 1 else "centre"
    blocks = tuple(Block(dataset, quantum, arms, n, finite, clip_set, axis=axis) for n in sizes)
    return Design(CLAIM, blocks, seeds, epochs, batch_size, delta, n_test, rule, rate)


def run_task(task: Task, rng: np.random.Generator) -> dict[str, Any]:
    """The sweep's task function: one training run (:func:`privqml.paper_checks.training.run_training_task`)."""
    # TensorFlow and TFQ: imported only in the process that trains (not by the driver or the report).
    from privqml.paper_checks.training import run_training_task

    return run_training_task(task)


def result_privacy(task: Task, result: Mapping[str, Any]) -> dict[str, Any]:
    """What a run's result file says ε covers (:func:`privqml.paper_checks.training.result_privacy`)."""
    # TensorFlow comes with the training module; the driver has it loaded already (the model specs, G*).
    from privqml.paper_checks.training import result_privacy as training_privacy

    return training_privacy(task, dict(result))


@dataclasses.dataclass(frozen=True)
class ComparisonRun:
    """What :func:`run_comparison` wrote and found."""

    out_dir: Path
    report: ClaimReport
    report_md: Path
    results_json: Path
    tasks_computed: int
    tasks_skipped: int
    failures: Mapping[Task, str]
    wall_seconds: float


def run_comparison(design: Design, out_dir: str | Path = "compare_out", executor: str = "local",
                   address: str | None = None, workers: int | None = None, progress: ProgressCallback | None = None,
                   command: str = "", confirm: ConfirmSettings | None = None) -> ComparisonRun:
    """Run ``design`` (resumable) and write its regime map into ``out_dir`` (module docstring); with
    ``confirm``, the exploration map is followed by a pre-registered confirmation on fresh seeds
    (:mod:`privqml.paper_checks.staged`) whose verdict is the report's."""
    started = time.perf_counter()
    records = regimes.tasks(design)
    preflight.check_tasks(records)  # budgets and the clips the records fix, k·G* included: before any file
    out = preflight.prepare_out_dir(out_dir, "comparison")
    runner = make_executor(executor, address=address, workers=workers)
    def sweep(tasks):
        return run_sweep(tasks, run_task, out / "runs", runner, progress=progress, raise_on_failure=False,
                         privacy=result_privacy, group_fn=run_task_group, group_key=group_key)

    summary = sweep(records)
    regime_map = regime_analysis.analyse(design, summary.results, verdict_claim="compare")
    failures = dict(summary.failures)
    computed, reused = len(summary.computed), len(summary.skipped)
    if confirm is None:
        report = regime_report.render(regime_map, out, "compare", TITLE, STATEMENT)
    else:
        from privqml.paper_checks import staged, staged_report

        def checked_sweep(tasks):
            preflight.check_tasks(tasks)
            return sweep(tasks)

        stages = staged.run_stages(regime_map, summary.results, len(summary.failures), confirm, out / staged.STAGE_DIR,
                                   checked_sweep, "compare")
        failures.update(stages.failures)
        computed, reused = computed + stages.computed, reused + stages.reused
        report = staged_report.render(regime_map, stages, out, "compare", TITLE, STATEMENT)
    if failures:
        atomic_write_json(out / "failures.json", {str(t.rel_path): tb for t, tb in failures.items()})
    elif (out / "failures.json").exists():
        (out / "failures.json").unlink()
    wall = time.perf_counter() - started
    meta = {"executor": runner.describe(), "wall_seconds": round(wall, 1), "task_seconds": round(summary.task_seconds, 1),
            "tasks_computed": computed, "tasks_skipped": reused,
            "tasks_failed": len(failures), "command": command}
    report_md, results_json = write_report(out, [report], meta, heading="privqml compare — regime map")
    return ComparisonRun(out, report, report_md, results_json, computed, reused,
                         failures, wall)


__all__ = ["CLAIM", "ComparisonRun", "comparison_design", "parse_clips", "parse_epsilons", "parse_sizes",
           "result_privacy", "run_comparison", "run_task"]
