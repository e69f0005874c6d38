"""``privqml compare``: a quantum model against classical ones under DP-SGD, as a regime map.

    privqml compare --quantum SPEC --classical SPEC[,SPEC...] --dataset D --epsilons E[,E...]
                    --clips C[,C...] --n-train N[,N...] --seeds N [--epochs N] [--lr auto|NUMBER]
                    [--confirm [--confirm-cells M] [--effect D] [--power P] [--seed-cap N]]
                    [--out DIR] [--executor local|ray] [--address ADDR] [--workers N] [--json]

Clips are numbers, ``bound`` (the quantum model's data-free loss-gradient bound G*) or multiples of
it (``0.25xbound``, ``4xbound``); ε = ∞ (the non-private reference) is always run. Arms are paired
by seed (same split, Poisson draws and noise: simulation mode) and each arm's learning rate is
chosen on public data (``--lr auto``). Writes ``DIR/report.md``, ``DIR/results.json``,
``DIR/regime_map.png`` and ``DIR/regime_causes.png``; finished runs live under ``DIR/runs/`` and
are reused, so an interrupted comparison resumes.

``--confirm`` adds the two-stage protocol (:mod:`privqml.paper_checks.staged`): the map explores;
a plan (at most M cells in both directions, fresh seeds per cell for power P at effect D under
Holm, at most N seeds a cell) is written to ``DIR/confirmation/plan.json`` and hashed before any
confirmation run; the verdict comes from the confirmation runs alone. A different plan in the same
``--out`` after confirmation started is refused.

Before any run starts and before any file is written, every budget of the grid (δ < 1/n, an ε the
accountants can reach, σ and C in the exact range) and ``--out`` (a directory that can be written)
are checked: a problem is one ``error:`` line, exit status 2. The runs are simulations of DP
training (seeded noise, so the arms are paired): the console, the JSON and the plots say so.
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console

from privqml import jsonio
from privqml.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        quantum: str = typer.Option("hea", "--quantum", help="quantum model spec, e.g. hea, reupload:n_qubits=8, "
                                    "or your ansatz as path/to/file.py:function"),
        qubits: Optional[int] = typer.Option(None, "--qubits", help="passed to the quantum model (n_qubits)"),
        layers: Optional[int] = typer.Option(None, "--layers", help="passed to the quantum model (n_layers)"),
        observable: Optional[str] = typer.Option(None, "--observable", help="passed to your ansatz's function"),
        device: Optional[str] = typer.Option(None, "--device", help="place the quantum model on a Google device "
                                             "(rainbow, weber): compiled to its gate set, with its calibrated noise"),
        classical: str = typer.Option("mlp,logistic", "--classical",
                                      help="classical model specs, comma-separated (mlp, linear, logistic; "
                                           "bare families are matched to the quantum model)"),
        dataset: str = typer.Option("quantum", "--dataset", help="quantum, circle, linear, digits:AvB, file.npz/.csv"),
        epsilons: str = typer.Option("1,4", "--epsilons", help="target ε list, e.g. 0.5,1,4 (∞ always run)"),
        clips: str = typer.Option("bound", "--clips", help="clip list: numbers, bound, or multiples like 4xbound"),
        n_train: Optional[str] = typer.Option(None, "--n-train", help="training-set sizes of a synthetic task, e.g. "
                                              "200,400 (default 400); digits and files: the size their split gives"),
        seeds: int = typer.Option(5, "--seeds", help="replicates per cell (>= 2 for intervals and tests)"),
        epochs: int = typer.Option(10, "--epochs", help="training epochs of every run"),
        batch_size: int = typer.Option(32, "--batch-size", help="expected (Poisson) batch size"),
        delta: float = typer.Option(1e-5, "--delta", help="δ of every (ε, δ)"),
        n_test: int = typer.Option(300, "--n-test", help="test examples (synthetic tasks)"),
        lr: str = typer.Option("auto", "--lr", help="auto (each arm's rate chosen on public data) or a number"),
        lr_grid: str = typer.Option("0.01,0.05,0.2", "--lr-grid", help="candidate learning rates of --lr auto"),
        out: str = typer.Option("compare_out", "--out", help="output directory (report.md, results.json, PNGs, runs/)"),
        executor: str = typer.Option("local", "--executor", help="local (process pool) or ray"),
        address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (with --executor ray)"),
        workers: Optional[int] = typer.Option(None, "--workers", help="processes (local) or CPUs of a local Ray "
                                              "instance; default: all cores"),
        confirm: bool = typer.Option(False, "--confirm", help="explore, then confirm a pre-registered plan on fresh "
                                     "seeds; the verdict comes from the confirmation alone"),
        confirm_cells: int = typer.Option(6, "--confirm-cells", help="with --confirm: at most this many cells"),
        effect: float = typer.Option(0.03, "--effect", help="with --confirm: smallest accuracy difference worth "
                                     "reporting (the plan's power is at this effect)"),
        power: float = typer.Option(0.8, "--power", help="with --confirm: planned power per cell"),
        seed_cap: int = typer.Option(400, "--seed-cap", help="with --confirm: most fresh seeds one cell may take"),
        as_json: bool = typer.Option(False, "--json", help="print the verdict and the files as one JSON object"),
    ) -> None:
        """Map where a quantum model keeps more private accuracy than classical ones (fixed C and ε)."""
        # SciPy, matplotlib and the models' TensorFlow come with the comparison (seconds to import):
        # loaded only when this command runs, so that `privqml --help` and the other commands start fast.
        from privqml.paper_checks.compare import comparison_design, run_comparison
        from privqml.paper_checks.executors import make_executor
        from privqml.paper_checks.preflight import check_out_dir
        from privqml.paper_checks.regimes import ConfirmSettings
        from privqml.paper_checks.report import NOT_COVERED_STATEMENT, SIMULATION_LABEL
        from privqml.paper_checks.run import rich_progress

        from privqml.models.specs import with_options

        quantum = with_options(quantum, qubits, layers, observable, device)  # a user's file: its hash recorded
        check_out_dir(out, "comparison")  # creates nothing: run_comparison creates it once the records' clips are checked
        settings = ConfirmSettings(confirm_cells, effect, power, seed_cap) if confirm else None
        stray = [flag for flag, value, default in (("--confirm-cells", confirm_cells, 6), ("--effect", effect, 0.03),
                                                   ("--power", power, 0.8), ("--seed-cap", seed_cap, 400))
                 if value != default]
        if stray and not confirm:
            raise ConfigError(f"{', '.join(stray)} given without --confirm, where nothing uses them; add --confirm")
        if confirm and seeds < 2:
            raise ConfigError(f"--confirm with --seeds {seeds}: the exploration needs >= 2 seeds to size the "
                              "confirmation; use e.g. --seeds 5")
        design = comparison_design(quantum, classical, dataset, epsilons, clips, n_train, seeds, epochs, batch_size,
                                   delta, n_test, lr, lr_grid)  # validates everything, budgets too, before any run
        make_executor(executor, address=address, workers=workers)
        command = (f"privqml compare --quantum {quantum} --classical {classical} --dataset {dataset} "
                   f"--epsilons {epsilons} --clips {clips}" + (f" --n-train {n_train}" if n_train else "")
                   + f" --seeds {seeds} --epochs {epochs} "
                   f"--lr {lr} --out {out}"
                   + (f" --confirm --confirm-cells {confirm_cells} --effect {effect:g} --power {power:g} "
                      f"--seed-cap {seed_cap}" if confirm else ""))
        console = Console(stderr=as_json)
        try:
            with rich_progress(console, "compare") as progress:
                result = run_comparison(design, out, executor=executor, address=address, workers=workers,
                                        progress=progress, command=command, confirm=settings)
        except KeyboardInterrupt:
            console.print(f"[yellow]interrupted[/]: finished runs are kept in {out}/runs; "
                          "run the same command again to resume")
            raise SystemExit(130) from None  # privqml.cli.main drops typer.Exit codes (standalone_mode=False)
        verdict = result.report.verdict
        simulation = SIMULATION_LABEL if result.report.simulation else None
        if as_json:
            typer.echo(jsonio.dumps({"verdict": verdict.verdict, "label": verdict.label, "reasons": list(verdict.reasons),
                                     "simulation": simulation, "not_covered": NOT_COVERED_STATEMENT,
                                     "report": str(result.report_md), "results": str(result.results_json)}, indent=2))
        else:
            if simulation:
                console.print(f"[bold yellow]{simulation}[/] (paired arms share the seeded noise and batches)")
            console.print(f"[bold]{verdict.label}[/] — {result.report.headline}", highlight=False)
            for reason in verdict.reasons:
                console.print(f"- {reason}", markup=False, highlight=False)
            console.print(f"report: {result.report_md}  results: {result.results_json}  "
                          f"({result.tasks_computed} runs computed, {result.tasks_skipped} reused, "
                          f"{result.wall_seconds:.0f} s)")
        if result.failures:
            console.print(f"[red]{len(result.failures)} run(s) failed[/] — see {result.out_dir / 'failures.json'}")
            raise SystemExit(1)  # see above: a typer.Exit code would be lost
