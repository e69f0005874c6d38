"""Checks of a sweep before any work: every private run's budget, its clip, the output directory.

``privqml compare``, ``privqml check`` and ``privqml demo`` run these before they start a run or
write a file; each problem is one :class:`~privqml.errors.ConfigError` line naming the value.

- **Budgets** (:func:`check_budget_cell`): every distinct (ε, δ, n, expected batch L, epochs) of a
  private run goes through :func:`privqml.models.privacy.budget.check_budget` — δ ≥ 1/n, an ε that
  needs a noise multiplier below the PLD accountant's floor, σ outside the range the accountants
  are exact in — with n the number of private training examples the run will have
  (:func:`training_size`: ``n_train`` for a synthetic task, the size its split gives for digits and
  files, found without TensorFlow and without the preprocessing).
- **Clips** (:func:`task_clip_value`): a numeric clip, and a bound multiple k·G* whose record pins
  G*, as the value C the run will apply, through :func:`privqml.validation.clip_norm` (finite, > 0,
  inside the range where float32 arithmetic is exact).
- **The output directory** (:func:`check_out_dir`): refused when it is a file, or when it cannot
  be created (a parent is a file) or written — checked without creating anything;
  :func:`prepare_out_dir` then creates it and proves it writable.

:func:`check_cells` and :func:`check_design` check a task's (n, ε) grid and a regime-map design
by their cells (no TensorFlow: the bound multiples' values are checked when the task list, which
pins G*, is made); :func:`check_tasks` checks task records (training runs and audits), which is
where a bound multiple's C is known.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Iterable

from privqml import validation
from privqml.errors import ConfigError
from privqml.models.data import SYNTHETIC_TASKS, csv_split, digits_split, npz_split
from privqml.models.data.catalog import DEFAULT_N_TRAIN
from privqml.models.privacy.budget import check_budget
from privqml.models.training.runio import check_out_dir as create_out_dir
from privqml.models.training.runio import check_out_path
from privqml.paper_checks.protocol import Task
from privqml.paper_checks.regimes import Design

#: task kinds whose records describe a DP-SGD run (a training run, or the audit of one)
BUDGETED_KINDS = ("train", "audit")
#: the accountant the trainer calibrates σ with in every paper-check run (TrainConfig's default)
ACCOUNTANT = "rdp"


@functools.lru_cache(maxsize=None)
def training_size(dataset: str, n_train: int | None) -> int:
    """n: how many private training examples a run on ``dataset`` has, the loader's default
    preprocessing being the one the paper checks train with.

    A synthetic task trains on ``n_train`` examples (400 when None); digits on the training split
    their seeded, stratified ``public-split`` gives — a function of the public spec and the split
    fractions alone (the seed moves which examples, never how many); an .npz on all its ``x_train``
    rows (its default is its ``x_public`` or its declared feature range; without either, and for a
    .csv, which can declare neither here, the loader refuses the file with one line, which is then
    this check's answer). Found once per dataset, with seed 0, without fitting the preprocessing.
    """
    if dataset in SYNTHETIC_TASKS:
        return int(n_train) if n_train is not None else DEFAULT_N_TRAIN
    if dataset.endswith(".npz"):
        split = npz_split(dataset)
    elif dataset.endswith(".csv"):
        split = csv_split(dataset)
    else:
        split = digits_split(dataset)
    return int(len(split.y_train))


@functools.lru_cache(maxsize=None)
def _budget(epsilon: float, delta: float, n_train: int, batch_size: int, epochs: int) -> None:
    check_budget(epsilon=epsilon, delta=delta, noise_multiplier=None, n_train=n_train, batch_size=batch_size,
                 epochs=epochs, accountant=ACCOUNTANT, calibrate=False)


def check_budget_cell(dataset: str, epsilon: float, delta: float, n_train: int, batch_size: int, epochs: int) -> None:
    """One private run's budget (ε, δ) at n = ``n_train`` examples, expected batch L, ``epochs``
    (module docstring); the error names the task and n, which are public."""
    try:
        _budget(float(epsilon), float(delta), int(n_train), int(batch_size), int(epochs))
    except ConfigError as exc:
        raise ConfigError(f"dataset={dataset!r} (n_train={n_train}), epsilon={epsilon:g}: {exc}") from None


#: one private run's budget: (dataset, n, ε, δ, expected batch L, epochs)
Cell = tuple[str, int, float, float, int, int]


def _refusals_first(cells: Iterable[Cell]) -> list[Cell]:
    """The distinct cells, those most likely to be refused first: each setting's largest ε (an
    unreachable ε), largest first, then each setting's smallest ε (σ above the exact range),
    smallest first, then the rest; ties by the largest n (δ ≥ 1/n)."""
    by_setting: dict[tuple, set[float]] = {}
    for dataset, n, epsilon, delta, batch_size, epochs in cells:
        by_setting.setdefault((dataset, n, delta, batch_size, epochs), set()).add(epsilon)

    def cell(setting: tuple, epsilon: float) -> Cell:
        dataset, n, delta, batch_size, epochs = setting
        return (dataset, n, epsilon, delta, batch_size, epochs)

    largest = sorted((cell(s, max(e)) for s, e in by_setting.items()), key=lambda c: (-c[2], -c[1]))
    smallest = sorted((cell(s, min(e)) for s, e in by_setting.items()), key=lambda c: (c[2], -c[1]))
    rest = [cell(s, x) for s, e in by_setting.items() for x in sorted(e)]
    return list(dict.fromkeys(largest + smallest + rest))


def _check_cells(cells: Iterable[Cell]) -> None:
    """Every distinct cell's budget, in :func:`_refusals_first` order: a refusal costs one RDP
    evaluation, an accepted cell a calibration of σ (seconds), so a bad budget is refused at once."""
    for dataset, n, epsilon, delta, batch_size, epochs in _refusals_first(cells):
        check_budget_cell(dataset, epsilon, delta, n, batch_size, epochs)


def check_cells(dataset: str, n_trains: Iterable[int | None], epsilons: Iterable[float], delta: float,
                batch_size: int, epochs: int) -> None:
    """The budget of every (n_train, ε) cell of one task, finite ε only (ε = ∞ spends nothing)."""
    finite = [float(e) for e in epsilons if math.isfinite(e)]
    _check_cells((dataset, training_size(dataset, n), e, float(delta), int(batch_size), int(epochs))
                 for n in n_trains for e in finite)


def check_design(design: Design) -> None:
    """Every (ε, n) cell of a regime-map design: its budget (the clips are checked by
    :func:`check_tasks` once the records pin G*)."""
    _check_cells((block.dataset, training_size(block.dataset, block.n_train), float(e), float(design.delta),
                  int(design.batch_size), int(design.epochs)) for block in design.blocks for e in block.epsilons)


def task_clip_value(task: Task) -> float | None:
    """C as the run of ``task`` will apply it, where the record fixes it: a number, or k·G* with
    the pinned G*; None for ``"bound"``, a non-private run, or a multiple whose G* is derived later."""
    if task.get("clip_ratio") is not None:
        g_star = task.get("g_star")
        return float(task["clip_ratio"]) * float(g_star) if g_star is not None else None
    clip = task.get("clip")
    return float(clip) if isinstance(clip, (int, float)) and not isinstance(clip, bool) else None


def _check_clip(task: Task) -> None:
    value = task_clip_value(task)
    if value is None:
        return
    if task.get("clip_ratio") is None:
        validation.clip_norm("clip", value)
        return
    ratio, g_star = float(task["clip_ratio"]), float(task["g_star"])
    try:
        validation.clip_norm("clip", value)
    except ConfigError as exc:
        raise ConfigError(f"clip={ratio:g}xbound of model={task['model']!r} on dataset={task['dataset']!r} is "
                          f"C = {ratio:g}·G* = {ratio:g}·{g_star:.6g}: {exc}") from None


def check_tasks(tasks: Iterable[Task]) -> None:
    """Every private run among ``tasks`` (training runs and audits): its clip, then its budget."""
    private = [t for t in tasks if t.kind in BUDGETED_KINDS and math.isfinite(float(t.get("epsilon", math.inf)))]
    for task in private:  # ε = ∞ (the non-private reference): no budget, no clipping
        _check_clip(task)
    _check_cells((t["dataset"], training_size(t["dataset"], t.get("n_train")), float(t["epsilon"]), float(t["delta"]),
                  int(t["batch_size"]), int(t["epochs"])) for t in private)


def check_out_dir(out_dir: str | os.PathLike, kind: str = "checks") -> Path:
    """The output directory, checked without creating anything (:func:`privqml.models.training.runio.check_out_path`):
    refused when it holds another kind of output (``kind``: ``checks`` or ``comparison``)."""
    return check_out_path(out_dir, holds="report.md, results.json, the plots and runs/", kind=kind)


def prepare_out_dir(out_dir: str | os.PathLike, kind: str = "checks") -> Path:
    """:func:`check_out_dir`, then the directory created, proven writable and marked as ``kind``'s
    (:func:`privqml.models.training.runio.check_out_dir`)."""
    check_out_dir(out_dir, kind)
    return create_out_dir(out_dir, kind)


__all__ = ["ACCOUNTANT", "BUDGETED_KINDS", "check_budget_cell", "check_cells", "check_design", "check_out_dir", "check_tasks",
           "prepare_out_dir", "task_clip_value", "training_size"]
