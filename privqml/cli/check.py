"""``privqml check``: the claims of arXiv:2606.29293 checked end to end, with a report.

    privqml check [c1|c2|c3|all] [--profile demo|quick|full] [--executor local|ray]
                  [--address ADDR] [--workers N] [--out DIR] [--json]

writes ``DIR/report.md``, the PNG plots and ``DIR/results.json`` (with a ``verdicts`` object)
and prints the verdicts. Results of finished runs live under ``DIR/runs/``: running the same
command again reuses them, and an interrupted check resumes.

C3 in the ``quick`` and ``full`` profiles has two stages (:mod:`privqml.paper_checks.staged`): its
regime map explores; a plan fixed by a stated rule and a power calculation is written to
``DIR/c3_confirmation/plan.json`` and hashed before any confirmation run; the planned cells run on
fresh, disjoint replicates and C3's verdict comes from those runs alone. A different plan in the same
``DIR`` after confirmation started is refused (exit status 2).

Before any run starts and before any file is written, the budget of every private run of the
profile and ``--out`` (a directory that can be written) are checked: a problem is one ``error:``
line, exit status 2. The runs are simulations of DP training (seeded noise): the verdict table,
the JSON and the plots say so.
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console

from privqml import jsonio
from privqml.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        claims: str = typer.Argument("all", help="c1, c2, c3, a comma-separated list, or all"),
        profile: str = typer.Option("demo", "--profile", help="demo (minutes, indicative), quick (<15 min on 2 cores), full"),
        executor: str = typer.Option("local", "--executor", help="local (process pool) or ray"),
        address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (with --executor ray); "
                                              "without it a local Ray instance is started"),
        workers: Optional[int] = typer.Option(None, "--workers", help="processes (local) or CPUs of a local Ray instance; "
                                              "default: all cores"),
        out: str = typer.Option("paper_checks_out", "--out", help="output directory (report.md, results.json, PNGs, runs/)"),
        model: Optional[str] = typer.Option(None, "--model", help="check the claims on this quantum model instead of "
                                            "the profile's (a built-in spec or your ansatz as path/to/file.py:function)"),
        qubits: Optional[int] = typer.Option(None, "--qubits", help="with --model: passed to the model (n_qubits)"),
        layers: Optional[int] = typer.Option(None, "--layers", help="with --model: passed to the model (n_layers)"),
        observable: Optional[str] = typer.Option(None, "--observable", help="with --model: passed to your ansatz's function"),
        device: Optional[str] = typer.Option(None, "--device", help="check the claims on a Google device (rainbow, "
                                             "weber): the profile's quantum models placed on it, compiled to its gate "
                                             "set, with its calibrated noise, beside the noiseless ones (with --model: "
                                             "that model on the device instead)"),
        as_json: bool = typer.Option(False, "--json", help="print results.json's verdicts as one JSON object"),
    ) -> None:
        """Check the paper's claims C1-C3 and write report.md, PNG plots and results.json."""
        from privqml.models.specs import CLASSICAL_FAMILIES, check_function, parse_model_spec, with_options

        if model is None and (qubits, layers, observable) != (None, None, None):
            raise ConfigError("--qubits/--layers/--observable apply to --model; give --model (e.g. --model hea)")
        if model is not None:
            model = with_options(model, qubits, layers, observable, device)  # a user's file: its hash recorded
            if parse_model_spec(model)[0] in CLASSICAL_FAMILIES:
                raise ConfigError(f"--model {model}: the claims are about a quantum model; give a quantum family "
                                  "or path/to/file.py:function (the classical arms are matched to it)")
            check_function(model)  # a user's function runs once here, before TensorFlow loads
        # SciPy and matplotlib come with the paper checks (seconds to import): loaded only when
        # this command runs, so that `privqml --help` and the other commands start fast.
        from privqml.paper_checks.executors import make_executor
        from privqml.paper_checks.preflight import check_out_dir
        from privqml.paper_checks.profiles import get_profile
        from privqml.paper_checks.report import NOT_COVERED_STATEMENT, SIMULATION_LABEL
        from privqml.paper_checks.run import check_claims, parse_claims, print_verdicts, rich_progress, run_checks

        names = parse_claims(claims)  # validate before starting anything
        check_out_dir(out)  # creates nothing: run_checks creates it once the records' clips are checked
        settings = get_profile(profile) if model is None else get_profile(profile).with_model(model)
        if device is not None and model is None:  # the device arm beside the profile's noiseless models
            settings = settings.with_device(device)
        check_claims(names, settings)  # every private run's budget
        make_executor(executor, address=address, workers=workers)
        command = f"privqml check {','.join(names)} --profile {profile} --executor {executor}" + (
            f" --address {address}" if address else "") + (f" --model {model}" if model else "") + (
            f" --device {device}" if device and not model else "") + f" --out {out}"
        console = Console(stderr=as_json)
        try:
            with rich_progress(console, f"check {','.join(names)} ({profile})") as progress:
                result = run_checks(names, settings, executor=executor, address=address, out_dir=out,
                                    workers=workers, progress=progress, command=command)
        except KeyboardInterrupt:
            console.print(f"[yellow]interrupted[/]: finished runs are kept in {out}/runs; "
                          "run the same command again to resume")
            raise SystemExit(130) from None  # privqml.cli.main drops typer.Exit codes (standalone_mode=False)
        if as_json:
            payload = jsonio.loads(result.results_json.read_text())
            typer.echo(jsonio.dumps({"verdicts": payload["verdicts"], "labels": payload["labels"],
                                     "simulation": SIMULATION_LABEL if result.simulation else None,
                                     "not_covered": NOT_COVERED_STATEMENT,
                                     "report": str(result.report_md), "results": str(result.results_json)}, indent=2))
        else:
            print_verdicts(result, console)
        if result.summary_failures:
            console.print(f"[red]the analysis of {', '.join(result.summary_failures)} failed[/] (its runs are kept; "
                          f"the traceback is in {result.results_json})")
        if result.failures or result.summary_failures:
            raise SystemExit(1)  # see above: a typer.Exit code would be lost
