"""Resumable sweeps: run every task of a list not yet finished, store each result as it arrives.

:func:`run_sweep` skips every task whose result file already exists and holds the same record
(:func:`privqml.paper_checks.protocol.load_result`), runs the rest on an executor
(:mod:`privqml.paper_checks.executors`), and writes each result as soon as it arrives, atomically.
A sweep killed at any moment therefore resumes where it stopped: finished work is never lost nor
recomputed, and a half-written file can never be mistaken for a result.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from privqml.errors import ConfigError
from privqml.paper_checks.executors import Executor, SerialExecutor
from privqml.paper_checks.protocol import Task, TaskFunction, load_result, store_result

#: ``progress(done, total, task, computed)``: called after each task, found on disk or computed.
ProgressCallback = Callable[[int, int, Task, bool], None]
#: ``privacy(task, result)``: the statement a result file carries beside the result — what the run's
#: (ε, δ) covers and which result fields are diagnostics it does not (:func:`store_result`).
PrivacyStatement = Callable[[Task, Mapping[str, Any]], Mapping[str, Any]]


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

    Results are written by this (driver) process as each task finishes, so the workers need no
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
    for outcome in runner.run(fn, pending):
        if not outcome.ok:
            failures[outcome.task] = outcome.error
            continue
        statement = privacy(outcome.task, outcome.result) if privacy is not None else None
        store_result(outcome.task, out_dir, outcome.result, outcome.wall_seconds, outcome.worker, statement)
        results[outcome.task] = outcome.result
        computed.append(outcome.task)
        task_seconds += outcome.wall_seconds
        if progress:
            progress(len(results), len(ordered), outcome.task, True)
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
