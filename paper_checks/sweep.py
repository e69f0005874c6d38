"""Resumable sweeps: run every task of a list not yet finished, store each result as it arrives.

:func:`run_sweep` skips every task whose result file already exists and holds the same record
(:func:`privqml.paper_checks.protocol.load_result`), runs the rest on an executor
(:mod:`privqml.paper_checks.executors`), and writes each result as soon as it arrives, atomically.
A sweep killed at any moment therefore resumes where it stopped: finished work is never lost nor
recomputed, and a half-written file can never be mistaken for a result.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from privqml.errors import ConfigError
from privqml.paper_checks.executors import Executor, SerialExecutor
from privqml.paper_checks.protocol import Task, TaskFunction, load_result, store_result

#: ``progress(done, total, task, computed)``: called after each task, found on disk or computed, and once with
#: ``task=None`` before the first task to compute is started (its first result may be minutes away).
ProgressCallback = Callable[[int, int, "Task | None", bool], None]
#: ``privacy(task, result)``: the statement a result file carries beside the result — what the run's
#: (ε, δ) covers and which result fields are diagnostics it does not (:func:`store_result`).
PrivacyStatement = Callable[[Task, Mapping[str, Any]], Mapping[str, Any]]


#: ``group_fn(tasks) -> results``: runs several tasks in one call (one result per task, in order).
GroupFunction = Callable[[Sequence[Task]], Sequence[Mapping[str, Any]]]
#: ``group_key(task)``: tasks with equal (non-None) keys may run together in one ``group_fn`` call.
GroupKey = Callable[[Task], Hashable | None]


@dataclasses.dataclass(frozen=True)
class TaskGroup:
    """Tasks one call runs together (e.g. the seeds and arms of one cell, advanced in one vectorised
    step): an executor runs a group as it runs a task, and the sweep stores each member's result in
    that member's own file. A kill loses the groups in flight, never a stored member."""

    tasks: tuple[Task, ...]
    alone: bool = False  # a task no group takes: run by the sweep's task function

    @property
    def key(self) -> str:
        return self.tasks[0].key + f"+{len(self.tasks) - 1}"

    @property
    def rel_path(self) -> Path:
        return self.tasks[0].rel_path

    def rng(self):  # the executors' contract; group functions draw from each member's own record
        return self.tasks[0].rng()


def _run_group(group_fn: GroupFunction, fn: TaskFunction, group: TaskGroup, rng) -> dict[str, Any]:
    """The task function of a group (module level, so process pools can pickle it): member key → result."""
    if group.alone:
        (task,) = group.tasks
        return {task.key: dict(fn(task, task.rng()))}
    results = list(group_fn(list(group.tasks)))
    if len(results) != len(group.tasks):
        raise RuntimeError(f"group function returned {len(results)} results for {len(group.tasks)} tasks")
    return {task.key: dict(result) for task, result in zip(group.tasks, results)}


def _groups(tasks: list[Task], group_key: GroupKey, max_group: int) -> list[TaskGroup]:
    """``tasks`` bundled by key (in first-appearance order; None keys alone), at most ``max_group`` each."""
    bundles: dict[Any, list[Task]] = {}
    for index, task in enumerate(tasks):
        key = group_key(task)
        bundles.setdefault(("alone", index) if key is None else ("key", key), []).append(task)
    out = []
    for (kind, _), members in bundles.items():
        out += [TaskGroup(tuple(members[i:i + max_group]), alone=kind == "alone")
                for i in range(0, len(members), max_group)]
    return out


class SweepError(RuntimeError):
    """Some tasks failed; every task that succeeded was stored. ``failures``: task -> traceback."""

    def __init__(self, failures: dict[Task, str]):
        self.failures = dict(failures)
        first_task, first_tb = next(iter(self.failures.items()))
        super().__init__(
            f"{len(self.failures)} task(s) failed; first: {first_task.rel_path}\n{first_tb}\n"
            "finished tasks are saved: fix the cause and run the same sweep again to resume"
        )


@dataclasses.dataclass(frozen=True)
class SweepSummary:
    """What :func:`run_sweep` did: results per task, which it computed vs found on disk, and the
    tracebacks of the tasks that failed (only with ``raise_on_failure=False``)."""

    results: dict[Task, dict[str, Any]]
    computed: tuple[Task, ...]
    skipped: tuple[Task, ...]
    wall_seconds: float
    failures: dict[Task, str] = dataclasses.field(default_factory=dict)
    #: Σ of every finished task's own wall time (reused ones as stored): the compute behind the
    #: results, which ``wall_seconds`` of a resumed sweep does not show
    task_seconds: float = 0.0


def _unique(tasks: Iterable[Task]) -> list[Task]:
    """``tasks`` in order, each record once."""
    unique: dict[str, Task] = {}
    for task in tasks:
        if not isinstance(task, Task):
            raise ConfigError(f"sweep entry {task!r} is a {type(task).__name__}; pass Task records")
        unique.setdefault(task.key, task)
    return list(unique.values())


def run_sweep(
    tasks: Iterable[Task],
    fn: TaskFunction,
    out_dir: Path | str,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    raise_on_failure: bool = True,
    privacy: PrivacyStatement | None = None,
    group_fn: GroupFunction | None = None,
    group_key: GroupKey | None = None,
    max_group: int = 64,
) -> SweepSummary:
    """Run every task not yet finished under ``out_dir``; return all results.

    Args:
        tasks: the sweep (duplicates are run once).
        fn: module-level ``fn(task, rng) -> dict`` (JSON-serialisable); ``rng`` is
            ``task.rng()``. It must not depend on anything outside the record.
        out_dir: the sweep directory; results go to ``out_dir / task.rel_path``.
        executor: from :func:`privqml.paper_checks.executors.make_executor`; default serial
            in this process.
        progress: ``progress(done, total, task, computed)`` after each task (skipped ones too).
        raise_on_failure: raise :class:`SweepError` at the end if any task failed.
        privacy: ``privacy(task, result)`` -> the statement each new result file carries at its top
            level (what ε covers, which fields are private diagnostics); not part of the record, so
            finished files are found whether or not they carry it.
        group_fn, group_key: run the pending tasks with equal ``group_key`` together, ``group_fn``
            (module level) returning one result per task — each stored in its own file as usual, so
            what a group computes is stored and found exactly like single tasks; tasks keyed None
            (and every task when ``group_fn`` is None) run alone through ``fn``.
        max_group: the largest group.

    Results are written by this (driver) process as each task (or group) finishes, so the workers need no
    access to ``out_dir`` (a remote Ray cluster works) and a kill loses only tasks in flight.
    Every result is returned as it reads back from its file, computed now or found.
    """
    start = time.perf_counter()
    ordered = _unique(tasks)
    results: dict[Task, dict[str, Any]] = {}
    skipped: list[Task] = []
    pending: list[Task] = []
    task_seconds = 0.0
    for task in ordered:
        stored = load_result(task, out_dir)
        if stored is None:
            pending.append(task)
            continue
        task_seconds += float(stored.get("wall_seconds", 0.0))
        results[task] = stored["result"]
        skipped.append(task)
        if progress:
            progress(len(results), len(ordered), task, False)
    computed: list[Task] = []
    failures: dict[Task, str] = {}
    runner = executor if executor is not None else SerialExecutor()
    if group_fn is not None and group_key is not None:
        work, call = _groups(pending, group_key, max_group), functools.partial(_run_group, group_fn, fn)
    else:
        work, call = pending, fn
    if progress and pending:
        progress(len(results), len(ordered), None, False)
    for outcome in runner.run(call, work):
        members = outcome.task.tasks if isinstance(outcome.task, TaskGroup) else (outcome.task,)
        for task in members:
            if not outcome.ok:
                failures[task] = outcome.error
                continue
            result = outcome.result[task.key] if isinstance(outcome.task, TaskGroup) else outcome.result
            seconds = outcome.wall_seconds / len(members)
            statement = privacy(task, result) if privacy is not None else None
            store_result(task, out_dir, result, seconds, outcome.worker, statement)
            results[task] = result
            computed.append(task)
            task_seconds += seconds
            if progress:
                progress(len(results), len(ordered), task, True)
    if failures and raise_on_failure:
        raise SweepError(failures)
    return SweepSummary(
        results={task: results[task] for task in ordered if task in results},  # in sweep order
        computed=tuple(computed),
        skipped=tuple(skipped),
        wall_seconds=time.perf_counter() - start,
        failures=failures,
        task_seconds=task_seconds,
    )
