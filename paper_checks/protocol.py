"""The comparison protocol: frozen task records, fixed output paths, result files.

Every run of a paper check — one training run, one audit, one bias measurement — is a
:class:`Task`: a frozen record of *all* the parameters that determine its result. From the
record alone follow

- its **key**, the SHA-256 of a canonical encoding of every field (so two records that differ in
  any parameter never share a result, and equal records always do);
- its **output path** ``<claim>/<kind>/<readable prefix>-<key[:16]>.json`` under the sweep's
  output directory — the prefix is for people, the hash is what makes it unique;
- its **random stream**: a NumPy ``Generator`` (PCG64) seeded from the key, passed to the task
  function, so the same record reproduces the same numbers wherever it runs.

A finished task's file holds the record, its key and the task function's result — and, where
the sweep is given one, a ``privacy`` statement beside them: what the run's (ε, δ) covers and which
fields of the result are diagnostics of the private training data it does not cover. The
statement is no part of the record, so it never changes a key or a path (a sweep resumed with or
without it finds the same files). The file is written
atomically (a temporary file in the same directory, fsync, ``os.replace``) in privqml's JSON
convention (:mod:`privqml.jsonio`: strict JSON, ±∞ and NaN as the strings ``"inf"``, ``"-inf"``,
``"nan"``). Files written by earlier versions, with the non-standard ``Infinity``/``NaN`` tokens,
read back to the same record and the same numbers. :func:`load_result` accepts a file only when
it holds the very record asked for; :func:`privqml.paper_checks.sweep.run_sweep` builds resumable
sweeps on these pieces.

The pattern is ReCirq's (``recirq/qaoa/experiments/*_tasks.py``): task dataclasses, an
output-path function, ``if os.path.exists(fn): skip``, a thin ``main()``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from privqml import jsonio
from privqml.atomic import write_text_atomic
from privqml.errors import ConfigError

#: Bumped when the meaning of a task's parameters changes, so old results are not reused.
PROTOCOL_VERSION = 1

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_SCALARS = (bool, int, float, str, type(None))

#: ``fn(task, rng) -> dict`` — what a sweep runs. Module-level, so it pickles by reference.
TaskFunction = Callable[["Task", np.random.Generator], Mapping[str, Any]]


def _normalise(name: str, value: Any) -> Any:
    """Scalars stay; lists/tuples become tuples of normalised values; anything else is refused.

    The strings ``"inf"``, ``"-inf"`` and ``"nan"`` are refused too: a task file writes the
    numbers ±∞ and NaN that way, so such a string could not be read back as itself.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and value in jsonio.NONFINITE:
        raise ConfigError(
            f"task parameter {name}={value!r} is a string that task files use for a number; "
            f"pass the number float({value!r}) instead"
        )
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
    """The text a key hashes: sorted keys, no spaces, floats as Python's shortest round-trip repr.

    ``1`` and ``1.0`` encode differently and so are different parameters. This is the pre-image
    of a hash, not a file: it keeps Python's ``Infinity``/``NaN`` tokens, which no string value
    can produce, so ``float("inf")`` and any string stay different parameters, and the keys (and
    output paths) of stored results stay what they were when the results were written.
    """
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _decode(value: Any) -> Any:
    """A value read from a task file with the strings ``"inf"``, ``"-inf"``, ``"nan"`` (privqml's
    JSON convention for non-finite numbers) turned back into floats."""
    if isinstance(value, str) and value in jsonio.NONFINITE:
        return jsonio.number(value)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


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
        """The record of :meth:`to_json` as read from a task file (``"inf"`` or ``Infinity``: ∞)."""
        params = {name: _decode(value) for name, value in payload["params"].items()}
        return cls.make(payload["claim"], payload["kind"], replicate=int(payload["replicate"]), **params)

    @property
    def key(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the whole record."""
        return hashlib.sha256(_canonical_json(self.to_json()).encode()).hexdigest()

    @property
    def label(self) -> str:
        """A name a person reads in a progress line: ``hea on circle n=400 ε=2 C=0.25·G* seed 3`` (the model
        spec shortened: ``mlp~my_ansatz.py:f`` for an MLP matched to a user's ansatz, no file hash)."""
        p = self.as_dict()
        parts = [_short_model(p["model"])] if "model" in p else []
        if "dataset" in p:
            parts.append(f"on {p['dataset']}")
        if p.get("n_train") is not None:
            parts.append(f"n={p['n_train']}")
        if "epsilon" in p:
            epsilon = float(p["epsilon"])
            parts.append("ε=∞" if math.isinf(epsilon) else f"ε={epsilon:g}")
        if p.get("clip_ratio") is not None:
            parts.append(f"C={float(p['clip_ratio']):g}·G*")
        elif p.get("clip") is not None:
            parts.append(f"C={p['clip']}")
        parts += [f"{name}={p[name]}" for name in ("mechanism", "shots", "depolarizing") if p.get(name) is not None]
        return " ".join([*parts, f"seed {self.replicate}"]) if parts else f"{self.claim}/{self.kind} #{self.replicate}"

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
def atomic_write_json(path: Path | str, payload: Any) -> None:
    """Write ``payload`` to ``path`` as indented, key-sorted strict JSON (:func:`privqml.jsonio.dumps`),
    atomically (:func:`privqml.atomic.write_text_atomic`: readers see the old file or the new one)."""
    write_text_atomic(path, jsonio.dumps(payload, indent=1, sort_keys=True))


def readable_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """``result`` as it reads back from its task file: lists for tuples, Python numbers for NumPy
    ones, and ±∞ and NaN as floats — also where ``result`` already holds them as the strings
    ``"inf"``, ``"-inf"``, ``"nan"`` of privqml's JSON convention (records' ``to_json()``/``as_dict()``).

    Raises:
        TypeError: a value JSON cannot hold (the task fails with it, not the sweep's driver).
    """
    return _decode(jsonio.loads(jsonio.dumps(dict(result), indent=None)))


def result_path(task: Task, out_dir: Path | str) -> Path:
    return Path(out_dir) / task.rel_path


def load_result(task: Task, out_dir: Path | str) -> dict[str, Any] | None:
    """The stored record ``{"task", "key", "result", "wall_seconds", ...}`` or None when not finished.

    ``result`` is as :func:`readable_result` gives it, whichever way the file wrote ±∞ and NaN. A
    file whose stored task differs from ``task`` (a hash-prefix collision, or a file edited by
    hand) or that does not parse is treated as not finished, so the task is run again.
    """
    path = result_path(task, out_dir)
    try:
        payload = jsonio.loads(path.read_text())
    except (OSError, ValueError):
        return None
    try:
        same = Task.from_json(payload["task"]) == task and payload["task"]["protocol_version"] == PROTOCOL_VERSION
        result = _decode(payload["result"])
    except (KeyError, TypeError, ConfigError):
        return None
    return {**payload, "result": result} if same else None


def store_result(task: Task, out_dir: Path | str, result: Mapping[str, Any], wall_seconds: float,
                 worker: str = "", privacy: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write the finished ``task``'s file (atomically) and return what was written; ``privacy``, when
    given, is written at the top level beside the result (module docstring)."""
    payload = {
        "task": task.to_json(),
        "key": task.key,
        "result": dict(result),
        "wall_seconds": float(wall_seconds),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "worker": worker,
    }
    if privacy is not None:
        payload["privacy"] = dict(privacy)
    atomic_write_json(result_path(task, out_dir), payload)
    return payload


def load_sweep(tasks: Iterable[Task], out_dir: Path | str) -> dict[Task, dict[str, Any]]:
    """The stored results of the finished tasks among ``tasks`` (unfinished ones are absent)."""
    out: dict[Task, dict[str, Any]] = {}
    for task in tasks:
        stored = load_result(task, out_dir)
        if stored is not None:
            out[task] = stored["result"]
    return out


def _short_model(spec: str) -> str:
    """A model spec as a label: options and file hashes dropped but a device (``hea@rainbow``), a matched arm as
    ``mlp~hea`` (``mlp~hea@rainbow`` when matched to a model on a device)."""
    family, _, rest = str(spec).partition(":")
    if family.endswith(".py"):
        function, _, rest = rest.partition(":")
        family = f"{os.path.basename(family)}:{function}"
    options = dict(item.partition("=")[::2] for item in rest.split(",") if "=" in item)
    match = urllib.parse.unquote(options.get("match", ""))
    if match.partition(":")[0].endswith(".py"):
        match = f"{os.path.basename(match.partition(':')[0])}:{match.partition(':')[2]}"
    device = f"@{options['device']}" if options.get("device") else ""
    return (f"{family}~{match}" if match else family) + device
