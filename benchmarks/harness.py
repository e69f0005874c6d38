r"""Timing primitives: interleaved repetitions, robust summaries, the machine record.

**Interleaving.** For variants V_1..V_m and repetitions r = 1..R, repetition r runs every
variant once, in the order rotated by r (V_r, V_{r+1}, …), so that a burst of load from another
process hits neighbouring variants alike and no variant always runs first. A *ratio* a/b is
computed per repetition, ρ_r = t_a,r / t_b,r, and summarised over r — never as a ratio of two
medians taken at different times.

**Inner loops.** A call much shorter than the timer's resolution (or the scheduler's
granularity) is repeated ``inner`` times per measurement and the time divided by ``inner``;
``inner`` is calibrated once, from one call made after the warm-up (so tracing does not count),
so that one measurement lasts at least ``min_seconds``. Every variant of one comparison then keeps its own ``inner``.

**Clocks.** Each measurement records wall time (``time.perf_counter``) and the CPU time of the
whole process (``time.process_time``: all threads, user + system). On a shared machine the
wall time includes waiting for a core; CPU time does not, which makes it the steadier figure
for single-threaded work (SymPy) — both are reported.

**Summary.** median, min and max over the repetitions (:class:`Stat`), values kept.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import gc
import importlib.metadata
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

from privqml.atomic import write_text_atomic

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

_PACKAGES = (
    "tensorflow",
    "tensorflow-quantum",
    "tensorflow-privacy",
    "dp-accounting",
    "cirq-core",
    "sympy",
    "numpy",
    "hypothesis",
)


@dataclasses.dataclass(frozen=True)
class Stat:
    """median, min and max of repeated measurements (same unit as ``values``)."""

    median: float
    min: float
    max: float
    n: int
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> "Stat":
        values = tuple(float(v) for v in values)
        if not values:
            return cls(math.nan, math.nan, math.nan, 0, ())
        ordered = sorted(values)
        n = len(ordered)
        median = ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])
        return cls(median, ordered[0], ordered[-1], n, values)

    def scaled(self, factor: float) -> "Stat":
        return Stat(self.median * factor, self.min * factor, self.max * factor, self.n,
                    tuple(v * factor for v in self.values))

    def as_dict(self) -> dict:
        return {"median": _num(self.median), "min": _num(self.min), "max": _num(self.max),
                "n": self.n, "values": [_num(v) for v in self.values]}


def _num(value: float):
    """JSON number rounded to 6 significant digits (timer noise is far larger); NaN/inf → null."""
    return None if value is None or not math.isfinite(value) else float(f"{value:.6g}")


@dataclasses.dataclass(frozen=True)
class Timing:
    """Per-call wall and CPU seconds of one variant over the repetitions."""

    wall: Stat
    cpu: Stat
    inner: int

    def as_dict(self) -> dict:
        return {"wall_s": self.wall.as_dict(), "cpu_s": self.cpu.as_dict(), "inner": self.inner}


def _time_once(fn: Callable[[], object], inner: int, before: Callable[[], None] | None) -> tuple[float, float]:
    wall = cpu = 0.0
    for _ in range(inner):
        if before is not None:
            before()  # not timed (e.g. clearing caches for a cold measurement)
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        w1, c1 = time.perf_counter(), time.process_time()
        wall += w1 - w0
        cpu += c1 - c0
    return wall / inner, cpu / inner


def interleaved(
    variants: Mapping[str, Callable[[], object]],
    repeats: int,
    *,
    warmup: int = 1,
    min_seconds: float = 0.0,
    max_inner: int = 1000,
    before: Callable[[], None] | None = None,
    gc_collect: bool = True,
) -> dict[str, Timing]:
    """Time every variant ``repeats`` times, interleaved and rotated (see the module docstring).

    Args:
        variants: name → zero-argument callable doing one unit of work (one step, one gradient).
        repeats: repetitions R (≥ 1); each yields one value per variant.
        warmup: untimed calls per variant first (tracing, caches, lazy imports).
        min_seconds: calibrate ``inner`` so one measurement lasts at least this long.
        before: called before every timed call, outside the timer.
        gc_collect: run the garbage collector before each repetition (not timed).

    Returns:
        name → :class:`Timing` (per-call seconds, median/min/max over the repetitions).
    """
    if repeats < 1:
        raise ValueError(f"repeats={repeats} must be >= 1")
    names = list(variants)
    inner = {}
    for name in names:
        for _ in range(warmup):
            _time_once(variants[name], 1, before)
        inner[name] = 1
        if min_seconds > 0:  # calibrate on a call made after the warm-up (tracing excluded)
            seconds, _cpu = _time_once(variants[name], 1, before)
            inner[name] = int(min(max_inner, max(1, math.ceil(min_seconds / max(seconds, 1e-9)))))
    walls = {n: [] for n in names}
    cpus = {n: [] for n in names}
    for r in range(repeats):
        if gc_collect:
            gc.collect()
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            wall, cpu = _time_once(variants[name], inner[name], before)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {n: Timing(Stat.of(walls[n]), Stat.of(cpus[n]), inner[n]) for n in names}


def ratio(timings: Mapping[str, Timing], numerator: str, denominator: str, clock: str = "wall") -> Stat:
    """Per-repetition ratio t_numerator / t_denominator, summarised (same-repetition pairs)."""
    a = getattr(timings[numerator], clock).values
    b = getattr(timings[denominator], clock).values
    return Stat.of([x / y if y > 0 else math.inf for x, y in zip(a, b)])


# ---------------------------------------------------------------------------------------
# the machine and the command
# ---------------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine_info() -> dict:
    """CPU model, cores, memory, OS, Python and package versions, git commit, load average."""
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": _git("rev-parse", "--short=12", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
    }


def machine_line(machine: Mapping) -> str:
    """One line for reports: 'AMD EPYC, 2 cores, 23 GiB, Python 3.11.x, TF 2.15.0, ...'."""
    p = machine.get("packages", {})
    return (
        f"{machine.get('cpu_model')}, {machine.get('usable_cores')} cores, {machine.get('memory_gib')} GiB, "
        f"Python {machine.get('python')}, TF {p.get('tensorflow')}, TFQ {p.get('tensorflow-quantum')}, "
        f"TF Privacy {p.get('tensorflow-privacy')}, Cirq {p.get('cirq-core')}, SymPy {p.get('sympy')}"
    )


def command_line(argv: Sequence[str] | None = None) -> str:
    """The exact command as typed from the repository root (``make bench`` when run by make)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    python = os.path.relpath(sys.executable, REPO_ROOT) if sys.executable.startswith(str(REPO_ROOT)) else sys.executable
    text = shlex.join([python, "-m", "benchmarks.run", *argv])
    if os.environ.get("MAKELEVEL") and not argv:
        text = f"make bench  # = {text}"
    return text


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------
def atomic_write_text(path: Path | str, text: str) -> None:
    """Write to a temporary file in the same directory, fsync, then ``os.replace``."""
    write_text_atomic(path, text)


def _rounded(value):
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def atomic_write_json(path: Path | str, payload) -> None:
    """Indented JSON, floats rounded to 6 significant digits, NaN/inf as null."""
    text = json.dumps(_rounded(json.loads(json.dumps(payload, default=_json_default, allow_nan=True))),
                      indent=1, allow_nan=False)
    atomic_write_text(path, text + "\n")


def _json_default(value):
    if isinstance(value, (Stat, Timing)):
        return value.as_dict()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def target(name: str, goal: str, measured: str, met: bool | None, note: str = "", info: bool = False) -> dict:
    """A target record: what was asked, what was measured, met (None: not measured).

    ``info=True`` marks a summary figure with no numeric target (shown as "info")."""
    record = {"target": name, "goal": goal, "measured": measured, "met": met, "note": note}
    if info:
        record["info"] = True
    return record


__all__ = [
    "RESULTS_DIR",
    "REPO_ROOT",
    "Stat",
    "Timing",
    "atomic_write_json",
    "atomic_write_text",
    "command_line",
    "interleaved",
    "machine_info",
    "machine_line",
    "now_iso",
    "ratio",
    "target",
]
