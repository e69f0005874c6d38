"""Resumable sweeps: skip finished tasks, rerun corrupt ones, keep successes, resume after a kill."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from privqml.paper_checks.executors import LocalExecutor, SerialExecutor
from privqml.paper_checks.probe import executions, probe_task
from privqml.paper_checks.protocol import Task, load_result, load_sweep
from privqml.paper_checks.sweep import SweepError, run_sweep


def test_finished_tasks_are_skipped_and_corrupt_files_rerun(tmp_path):
    log = tmp_path / "log"
    tasks = [Task.make("probe", "draw", replicate=r, n=3, log_dir=str(log)) for r in range(4)]
    first = run_sweep(tasks + tasks[:2], probe_task, tmp_path / "out")  # duplicates run once
    assert len(first.computed) == 4 and not first.skipped
    second = run_sweep(tasks, probe_task, tmp_path / "out")
    assert not second.computed and len(second.skipped) == 4
    assert second.results == first.results
    assert set(executions(log).values()) == {1}
    # the compute behind the results is the same whether they were run now or reused
    stored = sum(load_result(t, tmp_path / "out")["wall_seconds"] for t in tasks)
    assert first.task_seconds == pytest.approx(stored) and second.task_seconds == pytest.approx(stored)
    assert first.task_seconds > 0
    # A truncated file (e.g. written by hand) is not a result: that task alone runs again.
    (tmp_path / "out" / tasks[0].rel_path).write_text('{"task": ')
    third = run_sweep(tasks, probe_task, tmp_path / "out")
    assert third.computed == (tasks[0],)
    assert executions(log)[tasks[0].key] == 2
    assert third.results[tasks[0]]["draws"] == first.results[tasks[0]]["draws"]


def test_failures_are_reported_and_successes_kept(tmp_path):
    tasks = [Task.make("probe", "draw", replicate=r, fail=(r == 1)) for r in range(3)]
    with pytest.raises(SweepError, match="1 task\\(s\\) failed") as info:
        run_sweep(tasks, probe_task, tmp_path)
    assert list(info.value.failures) == [tasks[1]]
    assert "asked to fail" in info.value.failures[tasks[1]]
    assert load_result(tasks[0], tmp_path) is not None and load_result(tasks[2], tmp_path) is not None
    assert load_result(tasks[1], tmp_path) is None


_SWEEP_SCRIPT = textwrap.dedent(
    """
    import sys
    from privqml.paper_checks.executors import LocalExecutor
    from privqml.paper_checks.probe import probe_task
    from privqml.paper_checks.protocol import Task
    from privqml.paper_checks.sweep import run_sweep

    def tasks(log):
        return [Task.make("probe", "draw", replicate=r, n=3, sleep=0.4, log_dir=log) for r in range(12)]

    if __name__ == "__main__":
        run_sweep(tasks(sys.argv[2]), probe_task, sys.argv[1], LocalExecutor(workers=2))
    """
)


def test_sweep_killed_midway_resumes_losing_nothing_recomputing_nothing(tmp_path):
    out, log = tmp_path / "out", tmp_path / "log"
    script = tmp_path / "sweep.py"
    script.write_text(_SWEEP_SCRIPT)
    tasks = [Task.make("probe", "draw", replicate=r, n=3, sleep=0.4, log_dir=str(log)) for r in range(12)]
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(log)], start_new_session=True)
    deadline = time.monotonic() + 90
    try:
        while len(list(out.rglob("*.json"))) < 4:
            assert proc.poll() is None, "the sweep ended before it could be interrupted"
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its pool workers, mid-task
        proc.wait()
    done_before = {t.key for t in tasks if load_result(t, out) is not None}
    snapshot = {t.key: (out / t.rel_path).read_bytes() for t in tasks if t.key in done_before}
    runs_before = executions(log)
    assert 4 <= len(done_before) < len(tasks)
    assert all(runs_before.get(key) == 1 for key in done_before)

    summary = run_sweep(tasks, probe_task, out, LocalExecutor(workers=2))

    everything = {t.key for t in tasks}
    assert {t.key for t in summary.skipped} == done_before
    assert {t.key for t in summary.computed} == everything - done_before
    runs_after = executions(log)
    rerun = {key for key in runs_after if runs_after[key] > runs_before.get(key, 0)}
    assert rerun == everything - done_before  # nothing finished was recomputed
    assert all(runs_after[key] == 1 for key in done_before)
    assert all((out / t.rel_path).read_bytes() == snapshot[t.key] for t in tasks if t.key in done_before)
    # Nothing lost: every task has its result, equal to a fresh in-process run of the same record.
    assert len(summary.results) == len(tasks)
    for task in tasks:
        fresh = probe_task(task.replace(log_dir=str(tmp_path / "scratch")), task.rng())
        assert summary.results[task]["draws"] == fresh["draws"]
    assert not list(out.rglob("*.tmp"))


def test_keyboard_interrupt_in_driver_keeps_finished_results(tmp_path):
    tasks = [Task.make("probe", "draw", replicate=r, sleep=0.2) for r in range(8)]
    seen = []

    def progress(done, total, task, computed):
        if task is None:  # the start announcement
            return
        seen.append(task)
        if len(seen) == 3:
            raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(tasks, probe_task, tmp_path, LocalExecutor(workers=2), progress=progress)
    assert time.monotonic() - start < 20
    stored = [t for t in tasks if load_result(t, tmp_path) is not None]
    assert set(seen) <= set(stored) and len(stored) >= 3
    resumed = run_sweep(tasks, probe_task, tmp_path, SerialExecutor())
    assert set(resumed.skipped) == set(stored)
    assert len(resumed.results) == 8


def test_task_files_of_earlier_versions_with_infinity_tokens_are_still_found(tmp_path):
    task = Task.make("probe", "draw", replicate=1, n=2, epsilon=math.inf)
    old = {"task": task.to_json(), "key": task.key, "result": {"draws": [0.5, -1.0], "total": -0.5,
                                                                "worst": -math.inf, "spread": math.nan},
           "wall_seconds": 2.0, "finished_at": "2026-11-21T10:00:00+0000", "worker": "1@host"}
    path = tmp_path / task.rel_path
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(old, indent=1, sort_keys=True, allow_nan=True))  # how they were written
    assert "Infinity" in path.read_text()
    summary = run_sweep([task], probe_task, tmp_path)
    assert summary.skipped == (task,) and not summary.computed  # found, not recomputed
    result = summary.results[task]
    assert result["worst"] == -math.inf and math.isnan(result["spread"]) and result["draws"] == [0.5, -1.0]
    assert load_sweep([task], tmp_path)[task]["total"] == -0.5


def test_the_privacy_statement_sits_beside_the_result_and_changes_no_key(tmp_path):
    tasks = [Task.make("probe", "draw", replicate=r, n=2) for r in range(2)]
    before = [(t.key, t.rel_path) for t in tasks]
    first = run_sweep(tasks[:1], probe_task, tmp_path)  # an older file, written without a statement
    statement = {"covered": "the releases", "not_covered_fields": ["draws"]}
    second = run_sweep(tasks, probe_task, tmp_path, privacy=lambda task, result: {**statement, "n": len(result)})
    assert second.skipped == (tasks[0],) and second.computed == (tasks[1],)  # the old file still counts as finished
    assert [(t.key, t.rel_path) for t in tasks] == before
    old, new = (json.loads((tmp_path / t.rel_path).read_text()) for t in tasks)
    assert "privacy" not in old and old["result"] == first.results[tasks[0]]
    assert new["privacy"] == {**statement, "n": len(second.results[tasks[1]])}  # top level, beside "result"
    assert "privacy" not in new["result"] and load_result(tasks[1], tmp_path)["result"] == second.results[tasks[1]]


def probe_group(tasks):
    """A group function for the tests: each member's probe result, and the group's size beside it."""
    out = []
    for task in tasks:
        result = dict(probe_task(task, task.rng()))
        result["group_size"] = len(tasks)
        out.append(result)
    return out


def _by_n(task):
    return None if task.get("alone") else task["n"]


@pytest.mark.parametrize("executor", [SerialExecutor(), LocalExecutor(workers=2)])
def test_grouped_tasks_run_together_store_one_file_each_and_equal_their_results_alone(tmp_path, executor):
    tasks = [Task.make("probe", "draw", replicate=r, n=n) for n in (2, 3) for r in range(3)]
    tasks.append(Task.make("probe", "draw", replicate=0, n=2, alone=True))
    grouped = run_sweep(tasks, probe_task, tmp_path / "grouped", executor, group_fn=probe_group, group_key=_by_n,
                        max_group=2)
    assert set(grouped.computed) == set(tasks) and not grouped.failures
    sizes = [grouped.results[t].get("group_size") for t in tasks]
    assert sizes[:6].count(2) == 4 and sizes[:6].count(1) == 2  # 3 tasks per key, at most 2 per call
    assert sizes[6] is None  # the task no group takes ran through the task function
    alone = run_sweep(tasks, probe_task, tmp_path / "alone")
    for task in tasks:  # each member's result is its own record's, whoever it ran with
        assert grouped.results[task]["draws"] == alone.results[task]["draws"]
        assert load_result(task, tmp_path / "grouped")["result"] == grouped.results[task]
    again = run_sweep(tasks, probe_task, tmp_path / "grouped", executor, group_fn=probe_group, group_key=_by_n)
    assert not again.computed and len(again.skipped) == len(tasks)


def test_a_failing_group_fails_its_members_and_keeps_the_other_groups(tmp_path):
    tasks = [Task.make("probe", "draw", replicate=r, n=n, fail=(n == 3)) for n in (2, 3) for r in range(2)]
    summary = run_sweep(tasks, probe_task, tmp_path, group_fn=probe_group, group_key=_by_n, raise_on_failure=False)
    assert set(summary.failures) == {t for t in tasks if t["n"] == 3}
    assert all(load_result(t, tmp_path) is not None for t in tasks if t["n"] == 2)


def test_the_sweep_announces_its_start_before_the_first_computed_result(tmp_path):
    """No silent first minute: progress hears task=None before any run is computed, and not when all are found."""
    import io

    from rich.console import Console

    from privqml.paper_checks.run import rich_progress

    tasks = [Task.make("probe", "draw", replicate=r) for r in range(3)]
    calls = []
    run_sweep(tasks, probe_task, tmp_path, SerialExecutor(), progress=lambda *a: calls.append(a))
    assert calls[0] == (0, 3, None, False) and [c[2] for c in calls[1:]] == tasks
    calls.clear()
    run_sweep(tasks, probe_task, tmp_path, SerialExecutor(), progress=lambda *a: calls.append(a))
    assert None not in [c[2] for c in calls]  # everything found: nothing starts
    log = io.StringIO()
    with rich_progress(Console(file=log, force_terminal=False, width=200), "compare") as update:
        update(1, 3, None, False)
    assert log.getvalue().startswith("compare [1/3]") and "started: 2 runs to compute (1 found)" in log.getvalue()
