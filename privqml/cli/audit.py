"""``privqml audit``: empirical privacy audit of one DP-SGD step (or of quantum noise alone), or of
a finished run (``--run DIR``).

Parses the options, runs :func:`privqml.verify.audit.report.audit_report` (or
:func:`~privqml.verify.audit.report.run_audit_report`) and prints the result: the canary's shift and
the noise scale with confidence intervals, the empirical ε lower bound against the accounted ε,
every check and a verdict (consistent / violation / no-guarantee); ``--json`` prints one object
with at least ``epsilon_accounted``, ``epsilon_lower_bound``, ``noise_std_estimate``,
``canary_shift_estimate`` and ``verdict``.

With ``--run DIR`` the table shows what every sub-audit ran at (the run's model, loss, C, σ, q, T,
batch, path, optimizer, public seed, preprocessing, feature range and data fingerprint), the record
checks' statistics and each sub-audit's verdict. A run whose data here differs from the recorded
data (by fingerprint) is refused with one line and exit status 2; ``--inject wrong-data`` shows that
refusal as the failed ``data-fingerprint`` check, verdict ``violation``.
"""

from __future__ import annotations

import math
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from privqml import jsonio
from privqml.errors import ConfigError


def _fmt(value) -> str:
    number = jsonio.number(value)
    return "∞ (none)" if number is None or math.isinf(number) else f"{number:.4g}"


def _interval(estimate: dict) -> str:
    return f"{estimate['value']:.5g}  [{estimate['lower']:.5g}, {estimate['upper']:.5g}]"


def _print(report: dict, console: Console) -> None:
    colour = {"consistent": "green", "violation": "bold red", "no-guarantee": "yellow"}[report["verdict"]]
    table = Table(title=f"privqml audit — {report['description']}", show_header=False)
    s = report["setting"]
    table.add_row("model / dataset", f"{s['model']} / {s['dataset']}")
    table.add_row("clip C", f"{_fmt(s['clip_norm'])}  ({s['clip_source']})")
    table.add_row("noise multiplier σ", f"{s['noise_multiplier']:.4g}")
    table.add_row("trials per side", str(report["trials"]))
    table.add_row("canary shift (CI)", f"{_interval(report['canary_shift_estimate'])}  expected {_fmt(report['canary_shift_expected'])}")
    table.add_row("noise std along canary (CI)", f"{_interval(report['noise_std_estimate'])}  expected {report['noise_std_expected']:.5g}")
    table.add_row("ε lower bound (empirical)", f"{_fmt(report['epsilon_lower_bound'])}  at δ={report['delta']:g}, "
                  f"confidence {report['confidence']:g}")
    table.add_row("ε accounted (one step)", f"{_fmt(report['epsilon_accounted'])}  ({report['accountant']})")
    for check in report["checks"]:
        mark = "[green]ok[/]" if check["passed"] else "[bold red]FAIL[/]"
        table.add_row(f"check {check['name']}", f"{mark}  {check['detail']}")
    if "real_step_audit" in report:
        real = report["real_step_audit"]
        table.add_row("real-step audit", f"{real['verdict']} (ε_lb {_fmt(real['epsilon_lower_bound'])}, {real['trials']} trials)")
    if "whole_run_audit" in report:
        run = report["whole_run_audit"]
        table.add_row("whole-run audit (one run, canaries)",
                      f"{run['verdict']}: ε_lb {_fmt(run['epsilon_lower_bound'])} vs accounted {_fmt(run['epsilon_accounted'])}"
                      f" ({run['n_canaries']} canaries, {run['steps']} steps)")
    table.add_row("verdict", f"[{colour}]{report['verdict']}[/]")
    console.print(table)
    console.print(report["epsilon_accounted_note"], style="dim")
    if "power_note" in report:
        console.print(report["power_note"], style="dim")


def _print_run(report: dict, console: Console) -> None:
    colour = {"consistent": "green", "violation": "bold red", "no-guarantee": "yellow"}
    s = report["setting"]
    table = Table(title=f"privqml audit --run {report['run_dir']}"
                  + (f" (fault injected: {report['inject']})" if report["inject"] else ""), show_header=False)
    table.add_row("model / loss / dataset", f"{s['model']} / {s['loss']} / {s['dataset']}")
    table.add_row("C, σ, q, T, batch, path",
                  f"{_fmt(s['clip_norm'])}, {s['noise_multiplier']:.4g}, {s['sampling_probability']:.4g}, "
                  f"{s['steps']}, {s['batch_size']}, {s['path']}")
    table.add_row("optimizer, lr, public seed", f"{s['optimizer']}, {s['lr']:g}, {s['seed']}")
    table.add_row("preprocessing, feature range", f"{s['preprocessing']}, {s['feature_range']}")
    recorded = s["data_fingerprint_recorded"]
    table.add_row("data (n_train, fingerprint)", f"{s['n_train']}, {s['data_fingerprint'][:12]}"
                  + ("" if recorded == s["data_fingerprint"] else f" (recorded: {str(recorded)[:12]})"))
    table.add_row("ε (RDP / PLD) of the run", f"{_fmt(s['epsilon_rdp'])} / {_fmt(s['epsilon_pld'])} at δ={s['delta']:g}")
    table.add_row("randomness", s["randomness"])
    for name, audit in report["sub_audits"].items():
        failed = [c["name"] for c in audit.get("checks", []) if not c["passed"]]
        detail = f"[{colour[audit['verdict']]}]{audit['verdict']}[/]"
        if "epsilon_lower_bound" in audit:
            detail += f"  ε_lb {_fmt(audit['epsilon_lower_bound'])} vs accounted {_fmt(audit['epsilon_accounted'])}"
        if audit.get("noise_p_value") is not None:
            centred = audit.get("centred_p_value")
            detail += (f"  noise p={audit['noise_p_value']:.3g}"
                       + ("" if centred is None else f", centred p={centred:.3g}")
                       + f" (α={audit['alpha']:g}), max norm/bound {audit['norm_ratio_max']:.3g}")
        if failed:
            detail += f"  failed: {', '.join(failed)}"
        table.add_row(f"sub-audit {name}", detail)
    table.add_row("verdict", f"[{colour[report['verdict']]}]{report['verdict']}[/]")
    console.print(table)
    for audit in report["sub_audits"].values():
        for check in audit.get("checks", []):
            if not check["passed"]:
                console.print(f"{check['name']}: {check['detail']}", style="red", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        model: str = typer.Option("hea", "--model", help="model spec, e.g. hea, reupload:n_layers=3, mlp, "
                                  "or your ansatz as path/to/file.py:function"),
        qubits: Optional[int] = typer.Option(None, "--qubits", help="passed to the model (n_qubits)"),
        layers: Optional[int] = typer.Option(None, "--layers", help="passed to the model (n_layers)"),
        observable: Optional[str] = typer.Option(None, "--observable", help="passed to your ansatz's function"),
        device: Optional[str] = typer.Option(None, "--device", help="place the quantum model on a Google device "
                                             "(rainbow, weber): compiled to its gate set, with its calibrated noise"),
        dataset: str = typer.Option("quantum", "--dataset", help="dataset spec, e.g. quantum, circle, digits:0v1"),
        epsilon: float = typer.Option(1.0, "--epsilon", help="target epsilon of the training run (sigma is calibrated)"),
        delta: float = typer.Option(1e-5, "--delta", help="delta of the guarantee and of the audit"),
        clip: str = typer.Option("bound", "--clip", help="clip norm C (a number) or 'bound'"),
        mechanism: str = typer.Option("dpsgd", "--mechanism", help="dpsgd | shots | depolarizing (quantum noise only)"),
        path: str = typer.Option("fast", "--path", help="per-example gradient path: fast | stock"),
        inject: Optional[str] = typer.Option(None, "--inject", help="a broken trainer (published-seed | nonfinite-leak | noise-omitted) "
                                             "or NumPy variant (reference | sensitivity-doubled | data-clip | noise-replayed); "
                                             "with --run also a broken record (noise-shrunk-in-record | wrong-data); must be flagged"),
        run: Optional[str] = typer.Option(None, "--run", help="audit the finished run in this --out folder at its exact configuration"),
        trials: Optional[int] = typer.Option(None, "--trials", help="trials per side (default: 20000 dpsgd, 50 shots, 40 depolarizing)"),
        thorough: bool = typer.Option(False, "--thorough", help="10x trials and a real-step audit of the path"),
        whole_run: bool = typer.Option(False, "--whole-run", help="also audit one training run with 1000 canaries"),
        shots: int = typer.Option(100, "--shots", help="shots per expectation for --mechanism shots"),
        noise: float = typer.Option(0.05, "--noise", help="depolarising probability for --mechanism depolarizing"),
        seed: int = typer.Option(0, "--seed"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Audit a DP-SGD step empirically: estimates with intervals, epsilon lower bound vs accounted, verdict."""
        from privqml.models.specs import check_function, with_options

        if run is None:
            model = with_options(model, qubits, layers, observable, device)  # a user's file: its hash recorded
            check_function(model)  # a user's function runs once here, before TensorFlow loads
        elif (qubits, layers, observable, device) != (None, None, None, None):
            raise ConfigError("--qubits/--layers/--observable/--device with --run: the run's record fixes its model; "
                              "omit them")
        # deliberately lazy: TensorFlow loads only when this command runs (privqml --help stays fast)
        from privqml.verify.audit.report import audit_report, run_audit_report

        console = Console(stderr=as_json)
        if run is not None:
            with console.status(f"auditing the run in {run} …"):
                report = run_audit_report(run, inject=inject, trials=trials, thorough=thorough, seed=seed).as_dict()
        else:
            with console.status(f"auditing {mechanism} on {model} / {dataset} …"):
                report = audit_report(
                    model, dataset, epsilon=epsilon, delta=delta, clip=clip, mechanism=mechanism, path=path,
                    inject=inject, trials=trials, thorough=thorough, whole_run=whole_run, shots=shots,
                    noise=noise, seed=seed,
                ).as_dict()
        if as_json:
            typer.echo(jsonio.dumps(report))
        elif run is not None:
            _print_run(report, console)
        else:
            _print(report, console)
