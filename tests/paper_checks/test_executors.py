"""Executors: the same sweep gives the same numbers on serial, local-pool and Ray executors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from privqml.errors import ConfigError
from privqml.paper_checks.executors import LocalExecutor, RayExecutor, SerialExecutor, make_executor
from privqml.paper_checks.probe import probe_task
from privqml.paper_checks.protocol import Task, load_result
from privqml.paper_checks.sweep import run_sweep


def _tasks():
    return [Task.make("probe", "draw", replicate=r, n=5) for r in range(4)]


def test_make_executor_validates_its_arguments():
    assert isinstance(make_executor("local", workers=2), LocalExecutor)
    assert isinstance(make_executor("serial"), SerialExecutor)
    assert isinstance(make_executor("ray", address="auto"), RayExecutor)
    with pytest.raises(ConfigError, match="executor='dask'"):
        make_executor("dask")
    with pytest.raises(ConfigError, match="address="):
        make_executor("local", address="10.0.0.1:6379")
    with pytest.raises(ConfigError, match="fork"):
        LocalExecutor(start_method="fork")
    with pytest.raises(ConfigError, match="workers=0"):
        LocalExecutor(workers=0)


def test_local_pool_runs_in_other_processes_with_identical_numbers(tmp_path):
    serial = run_sweep(_tasks(), probe_task, tmp_path / "serial", SerialExecutor())
    pooled = run_sweep(_tasks(), probe_task, tmp_path / "pool", LocalExecutor(workers=2))
    assert {r["worker_pid"] for r in serial.results.values()} == {os.getpid()}
    assert os.getpid() not in {r["worker_pid"] for r in pooled.results.values()}
    for task in _tasks():
        assert pooled.results[task]["draws"] == serial.results[task]["draws"]
        assert pooled.results[task]["total"] == serial.results[task]["total"]


def _children(pid: int) -> set[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in found.split()}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_pool_workers_exit_when_the_driver_is_killed(tmp_path):
    driver_code = (
        "from privqml.paper_checks.executors import LocalExecutor\n"
        "from privqml.paper_checks.probe import probe_task\n"
        "from privqml.paper_checks.protocol import Task\n"
        "from privqml.paper_checks.sweep import run_sweep\n"
        "if __name__ == '__main__':\n"
        f"    run_sweep([Task.make('probe', 'draw', replicate=r, sleep=120) for r in range(2)], probe_task, "
        f"{str(tmp_path / 'out')!r}, LocalExecutor(workers=2))\n"
    )
    script = tmp_path / "driver.py"
    script.write_text(driver_code)
    driver = subprocess.Popen([sys.executable, str(script)], start_new_session=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the two pool workers (beside spawn's resource tracker)
            workers = {p for p in _children(driver.pid)
                       if "multiprocessing.spawn" in open(f"/proc/{p}/cmdline").read().replace("\0", " ")}
            if len(workers) == 2:
                break
            time.sleep(0.2)
        assert len(workers) == 2, "the pool did not start its two workers"
        time.sleep(2.0)  # let them import and start their (120 s) tasks
        driver.send_signal(signal.SIGKILL)  # no cleanup runs in the driver
        driver.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(p) for p in workers), "orphaned workers kept running after the driver died"
        assert not list((tmp_path / "out").rglob("*.json"))  # nothing half-done was stored
    finally:
        for pid in workers | {driver.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def test_ray_local_instance_runs_the_same_sweep_with_identical_numbers(tmp_path):
    import ray  # heavy (seconds): imported only by the test that uses it; part of the [test] extra
    assert not ray.is_initialized()
    tasks = _tasks() + [Task.make("probe", "draw", replicate=9, fail=True)]
    summary = run_sweep(tasks, probe_task, tmp_path / "ray", RayExecutor(num_cpus=2), raise_on_failure=False)
    assert not ray.is_initialized()  # the local instance it started is shut down again
    serial = run_sweep(_tasks(), probe_task, tmp_path / "serial", SerialExecutor())
    assert set(summary.computed) == set(_tasks())  # the failing one is reported, not stored
    assert load_result(tasks[-1], tmp_path / "ray") is None
    for task in _tasks():
        assert summary.results[task]["draws"] == serial.results[task]["draws"]
        assert summary.results[task]["worker_pid"] != os.getpid()
        assert load_result(task, tmp_path / "ray")["worker"].split("@")[0] == str(summary.results[task]["worker_pid"])
