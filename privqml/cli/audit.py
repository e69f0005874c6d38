"""``privqml audit``: empirical privacy audit of one DP-SGD step (or of quantum noise alone).

Prints the canary's shift and the noise scale with confidence intervals, the empirical ε lower
bound against the accounted ε, every check and a verdict (consistent / violation /
no-guarantee); ``--json`` prints one object with at least ``epsilon_accounted``,
``epsilon_lower_bound``, ``noise_std_estimate``, ``canary_shift_estimate`` and ``verdict``.
"""

from __future__ import annotations

import json
import math
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from privqml.errors import ConfigError

DEFAULT_TRIALS = {"dpsgd": 20_000, "shots": 50, "depolarizing": 40}
THOROUGH_FACTOR = 10


def _parse_clip(text: str) -> float | str:
    if text == "bound":
        return "bound"
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            f"clip={text!r}: give a positive number or 'bound' (a clip computed from the training "
            "data is a privacy leak and is refused)"
        ) from None
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"clip={text!r} must be a finite number > 0, or 'bound'")
    return value


def audit_report(
    model: str = "hea",
    dataset: str = "quantum",
    epsilon: float = 1.0,
    delta: float = 1e-5,
    clip: str = "bound",
    mechanism: str = "dpsgd",
    path: str = "fast",
    inject: Optional[str] = None,
    trials: Optional[int] = None,
    thorough: bool = False,
    whole_run: bool = False,
    shots: int = 100,
    noise: float = 0.05,
    seed: int = 0,
) -> dict:
    """Everything ``privqml audit`` prints, as one strict-JSON-ready dict."""
    from privqml.models.privacy import faults
    from privqml.verify.audit.one_step import one_step_audit, strict_json
    from privqml.verify.audit.setting import build_setting, setting_mechanism, short_run_replay

    if trials is None:
        trials = DEFAULT_TRIALS.get(mechanism, 100) * (THOROUGH_FACTOR if thorough else 1)
    trainer_fault = inject if inject in faults.FAULTS else None
    setting = build_setting(model, dataset, epsilon=epsilon, delta=delta, clip=_parse_clip(clip),
                            mechanism=mechanism, shots=shots, noise=noise, path=path, seed=seed)
    mech = setting_mechanism(setting, mechanism, path=path, inject=None if trainer_fault else inject)
    with faults.injected(trainer_fault):
        extra = ()
        if hasattr(mech, "nonfinite_canary_check"):
            extra = (mech.nonfinite_canary_check(), short_run_replay(setting, path=path))
        result = one_step_audit(mech, trials=int(trials), delta=delta, seed=seed, extra_checks=extra)
    report = result.as_dict()
    report["setting"] = setting.describe()
    report["canary_gradient_norm"] = float(mech.canary_norm)
    if result.clip_norm is not None and mech.canary_norm < result.clip_norm:
        report["power_note"] = (
            f"the canary's gradient norm {mech.canary_norm:.4g} is below the clip C={result.clip_norm:.4g}: "
            "its shift is smaller than the sensitivity the accountant assumes, so the lower bound cannot "
            "approach the accounted epsilon (a smaller --clip makes the audit sharper)"
        )
    report["epsilon_accounted_note"] = (
        "one DP-SGD step with the canary in the batch (GaussianDpEvent(noise_multiplier), no sampling "
        "amplification); the whole run's target epsilon is setting.target_epsilon"
        if math.isfinite(result.epsilon_accounted)
        else "no finite epsilon is accounted: no DP noise is added, the only randomness is quantum noise"
    )
    if thorough and mechanism == "dpsgd" and not inject:
        real = setting_mechanism(setting, mechanism, path=path, real_steps=True)
        report["real_step_audit"] = one_step_audit(real, trials=max(50, int(trials) // 100), delta=delta,
                                                   seed=seed + 1).as_dict()
        if report["real_step_audit"]["verdict"] == "violation":
            report["verdict"] = "violation"
    if whole_run:
        from privqml.verify.audit.one_run import one_run_training_audit

        sigma = setting.noise_multiplier if mechanism == "dpsgd" else 0.0
        report["whole_run_audit"] = one_run_training_audit(
            setting.model_spec, dataset, clip=_parse_clip(clip) if mechanism == "dpsgd" else 1.0,
            noise_multiplier=max(sigma, 1.0) if mechanism == "dpsgd" else 1.0, delta=delta,
            n_canaries=4000 if thorough else 1000, seed=seed,
            mechanism="noise-omitted" if inject == "noise-omitted" else "correct",
        ).as_dict()
    return strict_json(report)


def _fmt(value) -> str:
    return "∞ (none)" if value is None else f"{value:.4g}"


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


def run_audit_report(run_dir: str, inject: Optional[str], trials: Optional[int], thorough: bool, seed: int) -> dict:
    """Everything ``privqml audit --run DIR`` prints, as one strict-JSON-ready dict."""
    from privqml.verify.audit.trained_run import audit_run

    if trials is None:
        trials = DEFAULT_TRIALS["dpsgd"] * (THOROUGH_FACTOR if thorough else 1)
    return audit_run(run_dir, trials=int(trials), n_canaries=4000 if thorough else 1000, inject=inject,
                     seed=seed).as_dict()


def _print_run(report: dict, console: Console) -> None:
    colour = {"consistent": "green", "violation": "bold red", "no-guarantee": "yellow"}
    s = report["setting"]
    table = Table(title=f"privqml audit --run {report['run_dir']}"
                  + (f" (re-trained with fault {report['inject']})" if report["inject"] else ""), show_header=False)
    table.add_row("model / dataset", f"{s['model']} / {s['dataset']}")
    table.add_row("C, σ, q, T, batch, path",
                  f"{_fmt(s['clip_norm'])}, {s['noise_multiplier']:.4g}, {s['sampling_probability']:.4g}, "
                  f"{s['steps']}, {s['batch_size']}, {s['path']}")
    table.add_row("ε (RDP / PLD) of the run", f"{_fmt(s['epsilon_rdp'])} / {_fmt(s['epsilon_pld'])} at δ={s['delta']:g}")
    table.add_row("randomness", s["randomness"])
    for name, audit in report["sub_audits"].items():
        failed = [c["name"] for c in audit.get("checks", []) if not c["passed"]]
        detail = f"[{colour[audit['verdict']]}]{audit['verdict']}[/]"
        if "epsilon_lower_bound" in audit:
            detail += f"  ε_lb {_fmt(audit['epsilon_lower_bound'])} vs accounted {_fmt(audit['epsilon_accounted'])}"
        if failed:
            detail += f"  failed: {', '.join(failed)}"
        table.add_row(f"sub-audit {name}", detail)
    table.add_row("verdict", f"[{colour[report['verdict']]}]{report['verdict']}[/]")
    console.print(table)
    for audit in report["sub_audits"].values():
        for check in audit.get("checks", []):
            if not check["passed"]:
                console.print(f"{check['name']}: {check['detail']}", style="red")


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        model: str = typer.Option("hea", "--model", help="model spec, e.g. hea, reupload:n_layers=3, mlp"),
        dataset: str = typer.Option("quantum", "--dataset", help="dataset spec, e.g. quantum, circle, digits:0v1"),
        epsilon: float = typer.Option(1.0, "--epsilon", help="target epsilon of the training run (sigma is calibrated)"),
        delta: float = typer.Option(1e-5, "--delta", help="delta of the guarantee and of the audit"),
        clip: str = typer.Option("bound", "--clip", help="clip norm C (a number) or 'bound'"),
        mechanism: str = typer.Option("dpsgd", "--mechanism", help="dpsgd | shots | depolarizing (quantum noise only)"),
        path: str = typer.Option("fast", "--path", help="per-example gradient path: fast | stock"),
        inject: Optional[str] = typer.Option(None, "--inject", help="a broken trainer (published-seed | nonfinite-leak | noise-omitted) "
                                             "or NumPy variant (reference | sensitivity-doubled | data-clip | noise-replayed); must be flagged"),
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
        console = Console(stderr=as_json)
        if run is not None:
            with console.status(f"auditing the run in {run} …"):
                report = run_audit_report(run, inject, trials, thorough, seed)
        else:
            with console.status(f"auditing {mechanism} on {model} / {dataset} …"):
                report = audit_report(model, dataset, epsilon, delta, clip, mechanism, path, inject, trials,
                                      thorough, whole_run, shots, noise, seed)
        if as_json:
            typer.echo(json.dumps(report, indent=2, allow_nan=False))
        elif run is not None:
            _print_run(report, console)
        else:
            _print(report, console)
