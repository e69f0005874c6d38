"""Where the tasks of a sweep run: in this process, in a local process pool, or on Ray.

Every executor (:class:`Executor`) has one method, ``run(fn, tasks)``, yielding an
:class:`Outcome` per task *as it finishes* (any order); :func:`privqml.paper_checks.sweep.run_sweep`
stores each one at once. The sweep definition — the list of
:class:`~privqml.paper_checks.protocol.Task` records and the module-level task function — is the
same whichever executor runs it, and so are the numbers: each task draws only from its own
record-seeded generator.

- :class:`SerialExecutor` — in this process, one task after another (debugging, tests).
- :class:`LocalExecutor` — the default: ``concurrent.futures.ProcessPoolExecutor`` with the
  ``spawn`` start method. TensorFlow is not fork-safe (a forked child inherits the parent's
  thread pools and locks in whatever state they were), so workers start a fresh interpreter.
  Workers end themselves when the driver dies, even by SIGKILL (:func:`_exit_with_driver`).
- :class:`RayExecutor` — Ray tasks; ``address`` joins an existing cluster (``"auto"`` or
  ``"ray://host:10001"``; every node must have privqml installed), otherwise a local Ray
  instance is started for the sweep and shut down after it.

Each task runs with ``threads_per_worker`` CPU threads for TensorFlow and BLAS (set through
``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS``, ``OMP_NUM_THREADS`` before the task
imports TensorFlow) so that n workers on n cores do not oversubscribe them.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import logging
import multiprocessing
import os
import socket
import threading
import time
import traceback
import warnings
from typing import Any, Iterable, Iterator, Protocol

from privqml.errors import ConfigError
from privqml.paper_checks.protocol import Task, TaskFunction, readable_result

EXECUTORS = ("local", "ray", "serial")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of running one task.

    Attributes:
        task: the record.
        ok: True if ``fn`` returned a mapping a task file can hold.
        result: that mapping as it reads back from the file
            (:func:`~privqml.paper_checks.protocol.readable_result`; None when not ok).
        wall_seconds: wall time of ``fn`` in the worker (s).
        error: the formatted traceback when not ok.
        worker: ``"pid@host"`` of the process that ran it.
    """

    task: Task
    ok: bool
    result: dict[str, Any] | None
    wall_seconds: float
    error: str | None = None
    worker: str = ""


def _thread_env(threads: int) -> dict[str, str]:
    n = str(int(threads))
    return {
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": n,
        "OMP_NUM_THREADS": n,
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


#: seconds between a pool worker's checks that its driver still lives
PARENT_POLL_SECONDS = 0.5


def _exit_with_driver(driver: int) -> None:
    """Pool-worker initializer: end this worker when the driver process ``driver`` is gone.

    A driver killed by SIGTERM or SIGKILL runs no cleanup, and its workers would go on training
    tasks nobody stores (measured: orphaned workers had to be killed by pid). A daemon thread
    polls the parent pid; when the worker has been re-parented it exits at once, without
    writing anything (results are stored by the driver only, so nothing is half-written).
    """
    def watch() -> None:
        while os.getppid() == driver:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="privqml-driver-watch", daemon=True).start()


def execute_task(fn: TaskFunction, task: Task, threads_per_worker: int | None = None) -> Outcome:
    """Run ``fn(task, task.rng())`` and wrap what happens in an :class:`Outcome` (never raises
    for an error inside ``fn``). Runs in the worker process."""
    if threads_per_worker:
        for name, value in _thread_env(threads_per_worker).items():
            os.environ.setdefault(name, value)
        # TensorFlow's Python warnings (retracing, vectorized_map fallbacks) from every worker
        # would bury the progress bar; errors still surface, and failures carry a traceback.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    worker = f"{os.getpid()}@{socket.gethostname()}"
    start = time.perf_counter()
    try:
        # Made file-ready here, so an unwritable result fails as this task's error, not in the driver.
        result = readable_result(fn(task, task.rng()))
        return Outcome(task, True, result, time.perf_counter() - start, None, worker)
    except Exception:  # noqa: BLE001 - reported per task; the sweep continues
        return Outcome(task, False, None, time.perf_counter() - start, traceback.format_exc(), worker)


class Executor(Protocol):
    """Where a sweep's tasks run: ``run`` yields one :class:`Outcome` per task as it finishes."""

    name: str

    def run(self, fn: TaskFunction, tasks: Iterable[Task]) -> Iterator[Outcome]: ...

    def describe(self) -> str: ...


class SerialExecutor:
    """Runs tasks one after another in the calling process."""

    name = "serial"

    def run(self, fn: TaskFunction, tasks: Iterable[Task]) -> Iterator[Outcome]:
        for task in tasks:
            yield execute_task(fn, task)

    def describe(self) -> str:
        return "serial (this process)"


class LocalExecutor:
    """A local process pool (``spawn``): ``workers`` processes, ``threads_per_worker`` threads each.

    Args:
        workers: number of processes; default ``os.cpu_count()`` (never more than the tasks).
        threads_per_worker: CPU threads each task may use (TF intra/inter-op, OpenMP).
        start_method: ``"spawn"`` (default; required with TensorFlow) or ``"forkserver"``.
        max_tasks_per_child: recycle a worker after this many tasks (bounds TF memory growth);
            None keeps workers for the whole sweep (each new worker re-imports TensorFlow).
    """

    name = "local"

    def __init__(self, workers: int | None = None, threads_per_worker: int = 1, start_method: str = "spawn",
                 max_tasks_per_child: int | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ConfigError(f"workers={workers!r} must be a positive integer (or None for os.cpu_count())")
        if start_method == "fork":
            raise ConfigError("start_method='fork' is not safe with TensorFlow; use 'spawn' (default) or 'forkserver'")
        if start_method not in multiprocessing.get_all_start_methods():
            raise ConfigError(f"start_method={start_method!r} is not available here; use 'spawn'")
        self.workers = workers or (os.cpu_count() or 1)
        self.threads_per_worker = threads_per_worker
        self.start_method = start_method
        self.max_tasks_per_child = max_tasks_per_child

    def describe(self) -> str:
        return f"local process pool ({self.workers} x {self.start_method}, {self.threads_per_worker} thread(s) each)"

    def run(self, fn: TaskFunction, tasks: Iterable[Task]) -> Iterator[Outcome]:
        tasks = list(tasks)
        if not tasks:
            return
        kwargs: dict[str, Any] = {}
        if self.max_tasks_per_child is not None:
            kwargs["max_tasks_per_child"] = self.max_tasks_per_child
        pool = cf.ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=_exit_with_driver,
            initargs=(os.getpid(),),
            **kwargs,
        )
        finished = False
        try:
            futures = {pool.submit(execute_task, fn, task, self.threads_per_worker): task for task in tasks}
            for future in cf.as_completed(futures):
                try:
                    yield future.result()
                except Exception:  # noqa: BLE001 - a worker died (BrokenProcessPool, OOM kill, ...)
                    yield Outcome(futures[future], False, None, 0.0, traceback.format_exc(), "")
            finished = True
        finally:
            # On interruption (KeyboardInterrupt, generator closed) do not wait for tasks in flight:
            # they are not stored, and the next run of the sweep runs them again.
            pool.shutdown(wait=finished, cancel_futures=not finished)


class RayExecutor:
    """Ray tasks, one CPU each. ``address=None`` starts (and afterwards stops) a local instance.

    Args:
        address: an existing cluster (``"auto"``, ``"ray://head:10001"``, ``"10.0.0.1:6379"``);
            None for a local instance with ``num_cpus`` CPUs.
        num_cpus: CPUs of the local instance (default ``os.cpu_count()``); ignored with ``address``.
        threads_per_worker: CPU threads each task may use.
        cpus_per_task: Ray CPU resource requested per task.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, threads_per_worker: int = 1,
                 cpus_per_task: float = 1.0):
        self.address = address
        self.num_cpus = num_cpus
        self.threads_per_worker = threads_per_worker
        self.cpus_per_task = cpus_per_task

    def describe(self) -> str:
        where = f"cluster at {self.address}" if self.address else f"local instance ({self.num_cpus or os.cpu_count()} CPUs)"
        return f"ray ({where})"

    def run(self, fn: TaskFunction, tasks: Iterable[Task]) -> Iterator[Outcome]:
        tasks = list(tasks)
        if not tasks:
            return
        try:
            import ray  # optional and heavy: imported only when a sweep runs on Ray
        except ImportError as exc:  # pragma: no cover - ray is in the test extra
            raise ConfigError("executor='ray' needs Ray: pip install 'privqml[ray]'") from exc
        started_here = False
        if not ray.is_initialized():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # Ray's accelerator-env tip
                if self.address:
                    ray.init(address=self.address, log_to_driver=False)
                else:
                    ray.init(num_cpus=self.num_cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False)
            started_here = True
        remote = ray.remote(num_cpus=self.cpus_per_task, max_retries=0)(execute_task)
        refs = {remote.remote(fn, task, self.threads_per_worker): task for task in tasks}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    try:
                        yield ray.get(ref)
                    except Exception:  # noqa: BLE001 - worker crash, serialisation error, ...
                        yield Outcome(refs[ref], False, None, 0.0, traceback.format_exc(), "")
        finally:
            for ref in pending:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - best effort on interruption
                    pass
            if started_here:
                ray.shutdown()


def make_executor(name: str = "local", address: str | None = None, workers: int | None = None,
                  threads_per_worker: int = 1) -> Executor:
    """The executor called ``name`` (``local`` | ``ray`` | ``serial``).

    ``address`` is only meaningful for Ray; ``workers`` is the process count (local) or the
    CPU count of a local Ray instance.
    """
    if name not in EXECUTORS:
        raise ConfigError(f"executor={name!r} is not one of {EXECUTORS}; use 'local' (default) or 'ray'")
    if address and name != "ray":
        raise ConfigError(f"address={address!r} is for a Ray cluster; pass executor='ray' (--executor ray) with it")
    if name == "serial":
        return SerialExecutor()
    if name == "local":
        return LocalExecutor(workers=workers, threads_per_worker=threads_per_worker)
    return RayExecutor(address=address, num_cpus=workers, threads_per_worker=threads_per_worker)
