r"""Benchmark 5 — wall time of ``privqml check --profile quick`` and per-task time of the protocol.

Long (it trains every model of the profile), so it runs only when named:
``python -m benchmarks.run --only check`` (``--quick`` runs the ``demo`` profile instead).

Each repetition runs the command as a child process on a **fresh, empty output directory**
(``benchmarks/results/tmp/check_<profile>/``): the protocol's sweeps are resumable and would
otherwise skip every finished task and time nothing. Measured:

- wall seconds of the whole command, and the CPU seconds of it and its children
  (``resource.getrusage(RUSAGE_CHILDREN)``): CPU / wall is the parallelism actually obtained;
- per task: the ``wall_seconds`` the protocol stores in every result file
  (:func:`privqml.paper_checks.protocol.store_result`), grouped by claim and kind — count,
  total, median (min–max) over the tasks of the group.

Default one repetition (a run takes minutes); ``--repeats N`` gives the median of N runs.
Target: the quick profile under 15 minutes on 2 cores.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from benchmarks import harness
from privqml import jsonio

TITLE = "Wall time of `privqml check --profile quick`, and per-task time of the protocol"
DEFAULT_REPEATS = 1
TARGET_SECONDS = 15 * 60
_OUT_OPTIONS = ("--out-dir", "--out", "--output", "--output-dir")


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("privqml")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from privqml.cli import main; main()"]


def _discover() -> tuple[list[str] | None, str | None, str]:
    """(base command, output option, reason when unavailable)."""
    base = _cli() + ["check"]
    try:
        proc = subprocess.run(base + ["--help"], capture_output=True, text=True, timeout=300,
                              cwd=harness.REPO_ROOT, env=dict(os.environ, COLUMNS="200"))
    except (OSError, subprocess.SubprocessError) as exc:
        return None, None, f"cannot run privqml: {exc}"
    if proc.returncode != 0:
        return None, None, ("`privqml check` is not available yet: "
                            + (proc.stderr.strip().splitlines() or ["no output"])[-1])
    text = proc.stdout
    if "--profile" not in text:
        return None, None, "`privqml check --help` lists no --profile option"
    for option in _OUT_OPTIONS:
        if re.search(rf"{re.escape(option)}\b", text):
            return base, option, ""
    return base, None, ""


def task_times(out_dir: Path) -> dict[str, dict]:
    """Per (claim/kind): the protocol's stored ``wall_seconds`` of every task result file."""
    groups: dict[str, list[float]] = defaultdict(list)
    for path in out_dir.rglob("*.json"):
        try:
            payload = jsonio.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(payload, dict) or "task" not in payload or "wall_seconds" not in payload:
            continue
        task = payload["task"]
        groups[f"{task.get('claim')}/{task.get('kind')}"].append(float(payload["wall_seconds"]))
    return {key: {"count": len(v), "total_s": sum(v), "per_task_s": harness.Stat.of(v).as_dict()}
            for key, v in sorted(groups.items())}


def run(options) -> dict:
    profile = "demo" if options.quick else "quick"
    base, out_option, reason = _discover()
    if base is None:
        return {"title": TITLE, "status": "unavailable", "reason": reason, "profile": profile,
                "targets": [harness.target("quick paper-check profile", "< 15 min on 2 cores",
                                           "not measured: " + reason, None)]}
    repeats = options.repeats or DEFAULT_REPEATS
    runs = []
    started = time.perf_counter()
    for r in range(repeats):
        out_dir = harness.RESULTS_DIR / "tmp" / f"check_{profile}"
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        cmd = base + ["--profile", profile] + ([out_option, str(out_dir)] if out_option else [])
        log = out_dir.parent / f"check_{profile}.log"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        with open(log, "w") as handle:
            proc = subprocess.run(cmd, cwd=harness.REPO_ROOT if out_option else out_dir,
                                  stdout=handle, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        where = out_dir
        runs.append({
            "command": " ".join(os.path.relpath(c, harness.REPO_ROOT) if c.startswith(str(harness.REPO_ROOT)) else c
                                for c in cmd),
            "returncode": proc.returncode,
            "wall_s": wall,
            "cpu_s_children": cpu,
            "cpu_over_wall": cpu / wall if wall > 0 else None,
            "tasks": task_times(where),
            "log": str(log.relative_to(harness.REPO_ROOT)),
        })
        print(f"[check] run {r + 1}/{repeats}: {wall:.0f} s wall, {cpu:.0f} s CPU, exit {proc.returncode}",
              file=sys.stderr, flush=True)
    wall = harness.Stat.of([r["wall_s"] for r in runs])
    ok = all(r["returncode"] == 0 for r in runs)
    met = (wall.median < TARGET_SECONDS) if ok else False
    measured = f"{wall.median / 60:.1f} min ({wall.min / 60:.1f}–{wall.max / 60:.1f}), n={wall.n}"
    if not ok:
        measured += f"; exit status {[r['returncode'] for r in runs]} (see the log)"
    target_name = "quick paper-check profile" if profile == "quick" else "demo profile (quick smoke run)"
    return {
        "title": TITLE,
        "status": "ok" if ok else "error",
        "error": None if ok else f"privqml check exited with {[r['returncode'] for r in runs]}; log: {runs[-1]['log']}",
        "profile": profile,
        "repeats": repeats,
        "cores": len(os.sched_getaffinity(0)),
        "wall_s": wall.as_dict(),
        "runs": runs,
        "elapsed_s": time.perf_counter() - started,
        "targets": [harness.target(target_name, "< 15 min on 2 cores" if profile == "quick" else "(no target)",
                                   measured, met if profile == "quick" else None)],
    }


def markdown(section: dict) -> str:
    if section.get("status") == "unavailable":
        return ""
    wall = section["wall_s"]
    lines = [
        f"Profile `{section.get('profile')}`, fresh output directory per run, {section.get('cores')} cores; "
        f"{section.get('repeats')} run(s). Whole command: {wall['median'] / 60:.2f} min "
        f"({wall['min'] / 60:.2f}–{wall['max'] / 60:.2f}).",
        "",
    ]
    last = section["runs"][-1]
    task_total = sum(group["total_s"] for group in last["tasks"].values())
    lines.append(
        f"Last run: `{last['command']}` — wall {last['wall_s']:.0f} s; Σ per-task wall {task_total:.0f} s "
        f"(Σ / command wall = {task_total / last['wall_s']:.2f}: how many tasks ran at once on average); "
        f"CPU of the reaped child processes {last['cpu_s_children']:.0f} s (CPU / wall "
        f"{last['cpu_over_wall'] or 0:.2f}: below the task concurrency when other load shares the cores).")
    lines += ["", "Per task (protocol `wall_seconds`, last run):", "",
              "| claim/kind | tasks | total s | per task s, median (min–max) |", "|---|---|---|---|"]
    for key, group in last["tasks"].items():
        s = group["per_task_s"]
        lines.append(f"| {key} | {group['count']} | {group['total_s']:.0f} | "
                     f"{s['median']:.3g} ({s['min']:.3g}–{s['max']:.3g}) |")
    return "\n".join(lines)


def plot(section: dict, out_dir) -> list[str]:
    return []
