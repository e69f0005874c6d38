"""Run the paper checks: one sweep over the claims' task records, then one report.

:func:`run_checks` builds the task records of the chosen claims for a profile, checks the
budget and clip of every private run and the output directory before it creates anything
(:mod:`privqml.paper_checks.preflight`; :func:`check_claims` checks the budgets without
TensorFlow, for the command line to call before it starts), runs them as a single resumable
sweep (:func:`privqml.paper_checks.sweep.run_sweep`) on the chosen executor — results under
``DIR/runs/`` — and renders ``DIR/report.md``, ``DIR/*.png`` and ``DIR/results.json``. Running it
again with the same ``DIR`` recomputes nothing that finished; an interrupted run resumes. :func:`demo` is what ``make demo`` ends with.

The task function of the sweep is :func:`run_task`, which dispatches on ``task.claim`` to the
claim module's ``run_task``; each claim module also provides ``tasks(profile)``,
``summarise(profile, results, out_dir) -> ClaimReport`` and ``result_privacy(task, result)``, the
statement every result file carries (what ε covers, which fields are private diagnostics).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from privqml import jsonio
from privqml.errors import ConfigError
from privqml.paper_checks import c1_quantum_noise, c2_clipping_bias, c3_accuracy, preflight
from privqml.paper_checks.executors import make_executor
from privqml.paper_checks.profiles import Profile, get_profile
from privqml.paper_checks.protocol import Task, atomic_write_json
from privqml.paper_checks.report import NOT_COVERED_LABEL, SIMULATION_LABEL, ClaimReport, write_report
from privqml.paper_checks.stats import INCONCLUSIVE, Verdict
from privqml.paper_checks.sweep import ProgressCallback, run_sweep
from privqml.progress import progress_bar

CLAIM_MODULES: dict[str, ModuleType] = {"c1": c1_quantum_noise, "c2": c2_clipping_bias, "c3": c3_accuracy}
DEFAULT_OUT = "paper_checks_out"


def claim_module(claim: str) -> ModuleType:
    try:
        return CLAIM_MODULES[claim]
    except KeyError:
        raise ConfigError(f"claim={claim!r} unknown; choose one of {[*CLAIM_MODULES, 'all']}") from None


def run_task(task: Task, rng: np.random.Generator) -> dict[str, Any]:
    """The sweep's task function: the claim module's ``run_task``."""
    return claim_module(task.claim).run_task(task, rng)


def run_task_group(tasks) -> list[dict[str, Any]]:
    """The sweep's group function: the training runs of one cell (seeds and arms) in one call
    (:func:`privqml.paper_checks.training.run_training_tasks`); grouped by :func:`group_key`."""
    # TensorFlow and TFQ: imported only in the process that trains (not by the driver or the report).
    from privqml.paper_checks.training import run_training_tasks

    return run_training_tasks(tasks)


def group_key(task: Task):
    """Which tasks run together: training tasks of one cell (TF-free, called by the driver)."""
    if task.kind != "train":
        return None
    return (task.claim, tuple((name, value) for name, value in task.params if name != "model"))


def result_privacy(task: Task, result: dict[str, Any]) -> dict[str, Any]:
    """The statement of a result file: the claim module's ``result_privacy``."""
    return claim_module(task.claim).result_privacy(task, result)


def parse_claims(claims: str | Iterable[str]) -> tuple[str, ...]:
    """``"all"`` | ``"c1"`` | ``"c1,c3"`` | an iterable of names -> ordered, validated names."""
    items = [claims] if isinstance(claims, str) else list(claims)
    names: list[str] = []
    for item in items:
        for name in str(item).lower().replace(" ", "").split(","):
            if name == "all":
                names.extend(CLAIM_MODULES)
            elif name:
                claim_module(name)
                names.append(name)
    if not names:
        raise ConfigError(f"claims={claims!r} is empty; choose c1, c2, c3 or all")
    return tuple(n for n in CLAIM_MODULES if n in names)


def check_claims(claims: str | Iterable[str], profile: Profile) -> None:
    """The budget of every private run of ``claims`` at ``profile`` (one-line ConfigError otherwise),
    without TensorFlow: C1's and C2's records, C3's design by its cells (its records pin G*, which
    needs the models: :func:`run_checks` checks their clips when it makes them)."""
    for name in parse_claims(claims):
        if name == "c3":
            preflight.check_design(profile.c3_design())
        else:
            preflight.check_tasks(claim_module(name).tasks(profile))


def sweep_tasks(claims: Sequence[str], profile: Profile) -> list[Task]:
    """All records of ``claims``; C1's audits first (the longest tasks start first), then C3, C2."""
    order = {"c1": 0, "c3": 1, "c2": 2}
    out: list[Task] = []
    for claim in sorted(claims, key=order.get):
        out.extend(claim_module(claim).tasks(profile))
    return out


@dataclasses.dataclass(frozen=True)
class CheckRun:
    """The outcome of :func:`run_checks`: where the report is and the verdict of each claim.

    ``failures``: failed runs (task path -> traceback); ``summary_failures``: claims whose analysis
    raised (claim -> traceback) — either makes ``privqml check`` exit 1.
    """

    profile: str
    out_dir: Path
    report_md: Path
    results_json: Path
    reports: tuple[ClaimReport, ...]
    tasks_computed: int
    tasks_skipped: int
    failures: dict[str, str]
    wall_seconds: float
    summary_failures: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def verdicts(self) -> dict[str, str]:
        """Claim -> verdict label (``"supported (indicative)"`` in the demo profile)."""
        return {r.claim: r.verdict.label for r in self.reports}

    @property
    def simulation(self) -> bool:
        """Some claim's runs drew their noise from recorded seeds (:data:`SIMULATION_LABEL`)."""
        return any(r.simulation for r in self.reports)


def _failed_report(claim: str, error: str) -> ClaimReport:
    """The report of a claim whose analysis raised: the exception's type as the reason (its message
    may quote a stored diagnostic of the private data; the traceback is in results.json)."""
    module = claim_module(claim)
    kind = error.strip().splitlines()[-1].split(":", 1)[0]
    verdict = Verdict(module.CLAIM, INCONCLUSIVE, "the summary of this claim failed",
                      (f"{kind} in the analysis (traceback in results.json)",))
    return ClaimReport(module.CLAIM, module.TITLE, module.STATEMENT, verdict, {"error": error})


def run_checks(
    claims: str | Iterable[str] = "all",
    profile: str | Profile = "demo",
    executor: str = "local",
    address: str | None = None,
    out_dir: str | Path = DEFAULT_OUT,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    command: str | None = None,
) -> CheckRun:
    """Run the checks of ``claims`` at ``profile`` and write the report into ``out_dir``."""
    started = time.perf_counter()
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    names = parse_claims(claims)
    tasks = sweep_tasks(names, prof)
    preflight.check_tasks(tasks)  # budgets and clips (k·G* where pinned) of every private run, before any file
    out = preflight.prepare_out_dir(out_dir)
    runner = make_executor(executor, address=address, workers=workers)
    summary = run_sweep(tasks, run_task, out / "runs", runner, progress=progress, raise_on_failure=False,
                        privacy=result_privacy, group_fn=run_task_group, group_key=group_key)
    staged = None
    if "c3" in names and prof.c3_confirm is not None:
        staged = _confirm_c3(prof, summary, out, runner, progress)
    failures = {str(t.rel_path): tb for t, tb in {**summary.failures, **(staged.failures if staged else {})}.items()}
    if failures:
        atomic_write_json(out / "failures.json", failures)
    elif (out / "failures.json").exists():
        (out / "failures.json").unlink()
    reports, summary_failures = [], {}
    for name in names:
        try:
            if name == "c3" and staged is not None:
                reports.append(claim_module(name).summarise(prof, summary.results, out, staged=staged))
                continue
            reports.append(claim_module(name).summarise(prof, summary.results, out))
        except Exception:  # noqa: BLE001 - one claim's bug must not hide the others' verdicts
            summary_failures[name] = traceback.format_exc()
            reports.append(_failed_report(name, summary_failures[name]))
    wall = time.perf_counter() - started
    meta = {
        "profile": prof.name,
        "profile_settings": prof.to_json(),
        "claims": list(names),
        "executor": runner.describe(),
        "wall_seconds": round(wall, 1),  # this invocation (a resumed check reuses earlier runs)
        "task_seconds": round(summary.task_seconds, 1),  # Σ of every run's own time, reused ones included
        "tasks_total": len(summary.results) + len(failures),
        "tasks_computed": len(summary.computed) + (staged.computed if staged else 0),
        "tasks_skipped": len(summary.skipped) + (staged.reused if staged else 0),
        "tasks_failed": len(failures),
        **({} if staged is None else {"confirmation_runs": len(staged.results), "plan_sha256": staged.plan_sha256,
                                      "confirmation_skipped": staged.skipped}),
        "command": command or f"privqml check {','.join(names)} --profile {prof.name} --executor {executor}",
    }
    report_md, results_json = write_report(out, reports, meta)
    return CheckRun(prof.name, out, report_md, results_json, tuple(reports), meta["tasks_computed"],
                    meta["tasks_skipped"], failures, wall, summary_failures)


def _confirm_c3(prof: Profile, explored, out: Path, runner, progress):
    """C3's plan and confirmation stages (:mod:`privqml.paper_checks.staged`) after its exploration
    map ran in ``explored`` (the check's sweep summary); the confirmation runs share ``out/runs``."""
    from privqml.paper_checks import staged

    design = prof.c3_design()
    exploration = {t: r for t, r in explored.results.items() if t.claim == design.claim}
    failed = sum(1 for t in explored.failures if t.claim == design.claim)

    def sweep(records):
        preflight.check_tasks(records)
        return run_sweep(records, run_task, out / "runs", runner, progress=progress, raise_on_failure=False,
                         privacy=result_privacy, group_fn=run_task_group, group_key=group_key)

    return staged.run_stages(c3_accuracy.analyse(prof, exploration), exploration, failed, prof.c3_confirm,
                             out / f"c3_{staged.STAGE_DIR}", sweep,
                             c3_accuracy.CLAIM)


@contextlib.contextmanager
def rich_progress(console=None, description: str = "paper checks") -> Iterator[ProgressCallback]:
    """A sweep ``progress`` callback: a live bar on a terminal, a line per computed run in a log
    (reused runs are summarised at most every 10 s); see :mod:`privqml.progress`."""
    with progress_bar(console, description) as bar:

        def update(done: int, total: int, task: Task | None, computed: bool) -> None:
            if task is None:  # the sweep starts computing: say so before the first (possibly long) run
                bar(done, total, f"started: {total - done} runs to compute ({done} found); a model's first run "
                                 "also chooses its learning rate on public data, so the first results take longest")
                return
            what = f"{task.claim}/{task.kind} {'ran' if computed else 'found'}: {task.label}"
            bar(done, total, what, line=computed)

        yield update


def print_verdicts(check: CheckRun, console=None) -> None:
    """The verdict table (with the simulation label when the runs drew seeded noise) and where the report is."""
    console = console or Console()
    simulation = f"\n{SIMULATION_LABEL}" if check.simulation else ""
    table = RichTable(title=f"Paper checks of arXiv:2606.29293 — profile {check.profile}{simulation}",
                      caption=escape(f"numbers marked [{NOT_COVERED_LABEL}]: diagnostics of the private training data"))
    for column in ("claim", "verdict", "key numbers"):
        table.add_column(column)
    for report in check.reports:
        colour = {"supported": "green", "not supported": "red"}.get(report.verdict.verdict, "yellow")
        key = report.headline or "; ".join(report.verdict.reasons[:2])
        table.add_row(escape(f"{report.claim} {report.title}"), f"[{colour}]{escape(report.verdict.label)}[/]",
                      escape(key))
    console.print(table)
    if check.failures:
        console.print(f"[red]{len(check.failures)} task(s) failed[/] — see {check.out_dir / 'failures.json'}")
    console.print(f"report: {check.report_md}  results: {check.results_json}  "
                  f"({check.tasks_computed} runs computed, {check.tasks_skipped} reused, {check.wall_seconds:.0f} s)")


def demo(out_dir: str | Path = "demo_out/paper_checks", console=None, executor: str = "local",
         workers: int | None = None) -> CheckRun:
    """The demo profile of all three claims, with progress; prints the (indicative) verdicts and
    where the report is. What ``make demo`` ends with."""
    console = console or Console()
    console.print("[bold]Paper checks (demo profile: one seed, verdicts indicative)[/]")
    with rich_progress(console) as progress:
        check = run_checks("all", "demo", executor=executor, out_dir=out_dir, workers=workers, progress=progress,
                           command="privqml check all --profile demo")
    print_verdicts(check, console)
    return check


def load_verdicts(out_dir: str | Path) -> dict[str, str]:
    """The ``verdicts`` object of a written ``results.json``."""
    return jsonio.loads((Path(out_dir) / "results.json").read_text())["verdicts"]
