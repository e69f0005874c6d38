"""The comparison protocol: frozen task records, fixed output paths, resumable sweeps.

Every run of a paper check — one training run, one audit, one bias measurement — is a
:class:`Task`: a frozen record of *all* the parameters that determine its result. From the
record alone follow

- its **key**, the SHA-256 of a canonical JSON encoding of every field (so two records that
  differ in any parameter never share a result, and equal records always do);
- its **output path** ``<claim>/<kind>/<readable prefix>-<key[:16]>.json`` under the sweep's
  output directory — the prefix is for people, the hash is what makes it unique;
- its **random stream**: a NumPy ``Generator`` (PCG64) seeded from the key, passed to the task
  function, so the same record reproduces the same numbers wherever it runs.

:func:`run_sweep` skips every task whose result file already exists (and holds the same
record), runs the rest on an executor (:mod:`privqml.paper_checks.executors`), and writes each
result as soon as it arrives, atomically (write a temporary file in the same directory, fsync,
``os.replace``). A sweep killed at any moment therefore resumes where it stopped: finished work
is never lost nor recomputed, and a half-written file can never be mistaken for a result.

The pattern is ReCirq's (``recirq/qaoa/experiments/*_tasks.py``): task dataclasses, an
output-path function, ``if os.path.exists(fn): skip``, a thin ``main()``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from privqml.atomic import write_text_atomic
from privqml.errors import ConfigError

#: Bumped when the meaning of a task's parameters changes, so old results are not reused.
PROTOCOL_VERSION = 1

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_SCALARS = (bool, int, float, str, type(None))

#: ``fn(task, rng) -> dict`` — what a sweep runs. Module-level, so it pickles by reference.
TaskFunction = Callable[["Task", np.random.Generator], Mapping[str, Any]]


def _normalise(name: str, value: Any) -> Any:
    """Scalars stay; lists/tuples become tuples of normalised values; anything else is refused."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_normalise(name, v) for v in value)
    raise ConfigError(
        f"task parameter {name}={value!r} is a {type(value).__name__}; use numbers, strings, "
        "booleans, None or tuples of them (flatten dicts into several parameters)"
    )


def _as_json(value: Any) -> Any:
    return [_as_json(v) for v in value] if isinstance(value, tuple) else value


def _canonical_json(payload: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, floats as Python's shortest round-trip repr.

    ``1`` and ``1.0`` encode differently (``1`` vs ``1.0``) and so are different parameters;
    ``inf`` encodes as ``Infinity``.
    """
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _slug(value: Any) -> str:
    if isinstance(value, float):
        text = "inf" if value == math.inf else ("-inf" if value == -math.inf else f"{value:g}")
    elif isinstance(value, tuple):
        text = "+".join(_slug(v) for v in value)
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9.+\-]", "", text)[:24]


@dataclasses.dataclass(frozen=True)
class Task:
    """One run of the protocol, identified by every parameter that determines its result.

    Attributes:
        claim: which check the task belongs to (``"c1"``, ``"c2"``, ``"c3"``, or any label).
        kind: what the task function does (``"train"``, ``"audit"``, ...); with ``claim`` it
            names the output sub-directory.
        params: the parameters as sorted ``(name, value)`` pairs; values are JSON scalars or
            tuples of them. Build records with :meth:`make`, which sorts and validates.
        replicate: the replicate (seed) index, 0, 1, 2, ... — replicates of one setting differ
            only here, so their random streams are independent while the setting is shared.
    """

    claim: str
    kind: str
    params: tuple[tuple[str, Any], ...] = ()
    replicate: int = 0

    def __post_init__(self) -> None:
        for label, value in (("claim", self.claim), ("kind", self.kind)):
            if not isinstance(value, str) or not _NAME_RE.match(value):
                raise ConfigError(
                    f"task {label}={value!r} must be a non-empty name of letters, digits, '_', '.', '-'"
                )
        if isinstance(self.replicate, bool) or not isinstance(self.replicate, int) or self.replicate < 0:
            raise ConfigError(f"task replicate={self.replicate!r} must be an integer >= 0")
        names = [name for name, _ in self.params]
        if names != sorted(set(names)):
            raise ConfigError(f"task params names={names} must be unique and sorted; build tasks with Task.make")

    @classmethod
    def make(cls, claim: str, kind: str, replicate: int = 0, **params: Any) -> "Task":
        """Build a record from keyword parameters (sorted and validated)."""
        items = tuple(sorted((name, _normalise(name, value)) for name, value in params.items()))
        return cls(claim=claim, kind=kind, params=items, replicate=replicate)

    # -- access ---------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """The parameters as a dict (tuples stay tuples)."""
        return dict(self.params)

    def __getitem__(self, name: str) -> Any:
        for key, value in self.params:
            if key == name:
                return value
        raise KeyError(f"task {self.claim}/{self.kind} has no parameter {name!r}")

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def replace(self, **params: Any) -> "Task":
        """A new record with some parameters changed or added (``replicate=`` too)."""
        replicate = params.pop("replicate", self.replicate)
        merged = {**self.as_dict(), **params}
        return Task.make(self.claim, self.kind, replicate=replicate, **merged)

    # -- identity -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The full record as a JSON object (what is hashed, plus nothing else)."""
        return {
            "protocol_version": PROTOCOL_VERSION,
            "claim": self.claim,
            "kind": self.kind,
            "replicate": self.replicate,
            "params": {name: _as_json(value) for name, value in self.params},
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> "Task":
        return cls.make(payload["claim"], payload["kind"], replicate=int(payload["replicate"]), **payload["params"])

    @property
    def key(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the whole record."""
        return hashlib.sha256(_canonical_json(self.to_json()).encode()).hexdigest()

    @property
    def rel_path(self) -> Path:
        """Fixed output path relative to the sweep directory: readable prefix + stable hash."""
        parts = [f"{name}={_slug(value)}" for name, value in self.params]
        prefix = "_".join(parts)
        if len(prefix) > 100:
            prefix = prefix[:100]
        prefix = f"{prefix}_r{self.replicate}" if prefix else f"r{self.replicate}"
        return Path(self.claim) / self.kind / f"{prefix}-{self.key[:16]}.json"

    # -- randomness -----------------------------------------------------------------------
    def seed_sequence(self, *shared: str) -> np.random.SeedSequence:
        """The task's seed: entropy from the key, or — with field names — from those fields only.

        ``task.seed_sequence()`` is unique to the whole record. ``task.seed_sequence("dataset")``
        depends only on the replicate index and the named parameters: tasks that differ in
        anything else (model, clip, epsilon) share it. Paired comparisons use it for what must
        be common to both arms — the data split of replicate r.
        """
        if shared:
            missing = [name for name in shared if name not in dict(self.params)]
            if missing:
                raise ConfigError(f"seed fields {missing} are not parameters of task {self.claim}/{self.kind}")
            text = "shared:" + _canonical_json(
                {"replicate": self.replicate, "fields": {name: _as_json(self[name]) for name in shared}}
            )
        else:
            text = "task:" + self.key
        digest = hashlib.sha256(text.encode()).digest()
        return np.random.SeedSequence(int.from_bytes(digest[:16], "little"))

    def rng(self, *shared: str) -> np.random.Generator:
        """A fresh PCG64 generator seeded by :meth:`seed_sequence` (same record -> same stream)."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(*shared)))

    def int_seed(self, *shared: str) -> int:
        """A 31-bit integer seed (for TensorFlow / scikit-learn) derived like :meth:`rng`."""
        return int(self.seed_sequence(*shared).generate_state(1, dtype=np.uint32)[0] & 0x7FFFFFFF)


# -- result files ---------------------------------------------------------------------------
def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see either the old file or the whole new one
    (:func:`privqml.atomic.write_text_atomic`: tmp file, fsync, ``os.replace``)."""
    write_text_atomic(path, text)


def atomic_write_json(path: Path | str, payload: Any) -> None:
    """:func:`atomic_write_text` of ``payload`` as indented JSON (``Infinity``/``NaN`` allowed)."""
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=True, allow_nan=True))


def result_path(task: Task, out_dir: Path | str) -> Path:
    return Path(out_dir) / task.rel_path


def load_result(task: Task, out_dir: Path | str) -> dict[str, Any] | None:
    """The stored record ``{"task", "result", "wall_seconds", ...}`` or None when not finished.

    A file whose stored task differs from ``task`` (a hash-prefix collision, or a file edited by
    hand) or that does not parse is treated as not finished, so the task is run again.
    """
    path = result_path(task, out_dir)
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    try:
        same = Task.from_json(payload["task"]) == task and payload["task"]["protocol_version"] == PROTOCOL_VERSION
    except (KeyError, TypeError, ConfigError):
        return None
    return payload if same else None


def store_result(task: Task, out_dir: Path | str, result: Mapping[str, Any], wall_seconds: float,
                 worker: str = "") -> dict[str, Any]:
    payload = {
        "task": task.to_json(),
        "key": task.key,
        "result": dict(result),
        "wall_seconds": float(wall_seconds),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "worker": worker,
    }
    atomic_write_json(result_path(task, out_dir), payload)
    return payload


# -- sweeps ---------------------------------------------------------------------------------
class SweepError(RuntimeError):
    """Some tasks failed; every task that succeeded was stored. ``failures``: task -> traceback."""

    def __init__(self, failures: Mapping[Task, str]):
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


ProgressCallback = Callable[[int, int, Task, bool], None]


def run_sweep(
    tasks: Iterable[Task],
    fn: TaskFunction,
    out_dir: Path | str,
    executor: Any = None,
    progress: ProgressCallback | None = None,
    raise_on_failure: bool = True,
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

    Results are written by this (driver) process as each task finishes, so the workers need no
    access to ``out_dir`` (a remote Ray cluster works) and a kill loses only tasks in flight.
    """
    from privqml.paper_checks.executors import SerialExecutor

    start = time.perf_counter()
    unique: dict[str, Task] = {}
    for task in tasks:
        if not isinstance(task, Task):
            raise ConfigError(f"sweep entry {task!r} is a {type(task).__name__}; pass Task records")
        unique.setdefault(task.key, task)
    ordered = list(unique.values())
    total = len(ordered)
    results: dict[Task, dict[str, Any]] = {}
    skipped: list[Task] = []
    pending: list[Task] = []
    task_seconds = 0.0
    for task in ordered:
        stored = load_result(task, out_dir)
        if stored is None:
            pending.append(task)
        else:
            task_seconds += float(stored.get("wall_seconds", 0.0))
            results[task] = stored["result"]
            skipped.append(task)
            if progress:
                progress(len(results), total, task, False)
    computed: list[Task] = []
    failures: dict[Task, str] = {}
    if pending:
        executor = executor if executor is not None else SerialExecutor()
        for outcome in executor.run(fn, pending):
            if outcome.ok:
                store_result(outcome.task, out_dir, outcome.result, outcome.wall_seconds, outcome.worker)
                # What a later run will load from disk (tuples become lists, ...): one form for both.
                results[outcome.task] = json.loads(json.dumps(dict(outcome.result), allow_nan=True))
                computed.append(outcome.task)
                task_seconds += outcome.wall_seconds
                if progress:
                    progress(len(results), total, outcome.task, True)
            else:
                failures[outcome.task] = outcome.error
    if failures and raise_on_failure:
        raise SweepError(failures)
    # Return in sweep order.
    ordered_results = {task: results[task] for task in ordered if task in results}
    return SweepSummary(
        results=ordered_results,
        computed=tuple(computed),
        skipped=tuple(skipped),
        wall_seconds=time.perf_counter() - start,
        failures=failures,
        task_seconds=task_seconds,
    )


def load_sweep(tasks: Iterable[Task], out_dir: Path | str) -> dict[Task, dict[str, Any]]:
    """The stored results of the finished tasks among ``tasks`` (unfinished ones are absent)."""
    out: dict[Task, dict[str, Any]] = {}
    for task in tasks:
        stored = load_result(task, out_dir)
        if stored is not None:
            out[task] = stored["result"]
    return out
