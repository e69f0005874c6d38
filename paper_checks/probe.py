"""A trivial task function for testing the protocol and an executor (or a Ray cluster).

``probe_task`` needs no TensorFlow: it draws numbers from the task's generator, optionally
sleeps, optionally records that it ran (one file per execution, so executions can be counted
across processes), and optionally fails. Use it to check a cluster before a long sweep::

    from privqml.paper_checks.executors import make_executor
    from privqml.paper_checks.probe import probe_task
    from privqml.paper_checks.protocol import Task
    from privqml.paper_checks.sweep import run_sweep
    tasks = [Task.make("probe", "draw", replicate=r, n=3) for r in range(8)]
    run_sweep(tasks, probe_task, "probe_out", make_executor("ray", address="auto"))
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from privqml.paper_checks.protocol import Task


def probe_task(task: Task, rng: np.random.Generator) -> dict[str, Any]:
    """Parameters (all optional): ``n`` draws (default 4), ``sleep`` seconds, ``log_dir`` to
    record the execution in, ``fail`` to raise. Returns the draws, their sum and the worker pid."""
    draws = rng.normal(size=int(task.get("n", 4)))
    if task.get("sleep"):
        time.sleep(float(task["sleep"]))
    if task.get("fail"):
        raise RuntimeError(f"probe task asked to fail (replicate={task.replicate})")
    log_dir = task.get("log_dir")
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        (Path(log_dir) / f"{task.key}.{uuid.uuid4().hex}").write_text(str(os.getpid()))
    return {"draws": draws.tolist(), "total": float(draws.sum()), "worker_pid": os.getpid()}


def executions(log_dir: Path | str) -> dict[str, int]:
    """Task key -> number of times :func:`probe_task` ran it with this ``log_dir``."""
    counts: dict[str, int] = {}
    for path in Path(log_dir).glob("*.*"):
        key = path.name.split(".")[0]
        counts[key] = counts.get(key, 0) + 1
    return counts
