"""The protocol engine: record identity, fixed paths, atomic writes, skip, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from privqml.errors import ConfigError
from privqml.paper_checks import protocol
from privqml.paper_checks.executors import LocalExecutor, SerialExecutor
from privqml.paper_checks.probe import executions, probe_task
from privqml.paper_checks.protocol import SweepError, Task, load_result, run_sweep


def test_key_depends_on_every_field_and_not_on_keyword_order():
    base = Task.make("c3", "train", replicate=2, model="hea", epsilon=1.0, clip=0.5)
    assert Task.make("c3", "train", replicate=2, clip=0.5, epsilon=1.0, model="hea") == base
    assert Task.make("c3", "train", replicate=2, clip=0.5, epsilon=1.0, model="hea").key == base.key
    variants = [
        base.replace(epsilon=2.0),
        base.replace(epsilon=1),  # an int is a different parameter value than a float
        base.replace(model="reupload"),
        base.replace(replicate=3),
        base.replace(extra=None),
        Task.make("c2", "train", replicate=2, model="hea", epsilon=1.0, clip=0.5),
        Task.make("c3", "audit", replicate=2, model="hea", epsilon=1.0, clip=0.5),
    ]
    keys = {v.key for v in variants} | {base.key}
    assert len(keys) == len(variants) + 1


def test_key_and_path_are_stable_golden_values():
    # A change here orphans every stored result: bump PROTOCOL_VERSION instead of editing this.
    task = Task.make("c3", "train", replicate=0, model="hea", epsilon=float("inf"), clip=(0.5, 1))
    assert task.key == "ceb2f589cf42ebfdc76cd375607dca814e0184f5a1103f0903f23ecaa1736533"
    payload = protocol._canonical_json(task.to_json())
    assert payload == (
        '{"claim":"c3","kind":"train","params":{"clip":[0.5,1],"epsilon":Infinity,"model":"hea"},'
        '"protocol_version":1,"replicate":0}'
    )
    assert task.rel_path == Path("c3/train/clip=0.5+1_epsilon=inf_model=hea_r0-ceb2f589cf42ebfd.json")
    assert task.int_seed() == Task.make("c3", "train", model="hea", clip=(0.5, 1), epsilon=float("inf")).int_seed()


def test_bad_parameters_are_refused_with_the_name():
    with pytest.raises(ConfigError, match="data="):
        Task.make("c3", "train", data={"a": 1})
    with pytest.raises(ConfigError, match="replicate"):
        Task.make("c3", "train", replicate=-1)
    with pytest.raises(ConfigError, match="claim"):
        Task.make("c 3", "train")


def test_same_record_same_stream_and_shared_seeds():
    a = Task.make("c3", "train", replicate=1, dataset="digits", model="hea")
    b = Task.make("c3", "train", replicate=1, dataset="digits", model="mlp")
    assert np.array_equal(a.rng().normal(size=5), Task.make("c3", "train", replicate=1, model="hea", dataset="digits").rng().normal(size=5))
    assert not np.array_equal(a.rng().normal(size=5), b.rng().normal(size=5))
    # Shared fields: the two arms of a paired comparison get the same data seed ...
    assert a.int_seed("dataset") == b.int_seed("dataset")
    assert np.array_equal(a.rng("dataset").random(4), b.rng("dataset").random(4))
    # ... which still differs between replicates and between datasets.
    assert a.int_seed("dataset") != a.replace(replicate=2).int_seed("dataset")
    assert a.int_seed("dataset") != a.replace(dataset="moons").int_seed("dataset")
    with pytest.raises(ConfigError, match="not parameters"):
        a.rng("nope")


def test_atomic_write_leaves_old_file_when_replace_fails(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    protocol.atomic_write_json(path, {"v": 1})

    def boom(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        protocol.atomic_write_json(path, {"v": 2})
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary left behind


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
    from privqml.paper_checks.protocol import Task, run_sweep

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
