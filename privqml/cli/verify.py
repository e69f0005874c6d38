"""``privqml verify``: property-test an ansatz's gradient bound against Cirq and TFQ gradients.

Exit status: 0 when every property holds, 1 when one fails (the shrunk counterexample is
printed), 2 for bad input (an unsupported gate, an undeclared symbol, a bad option).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import typer
from rich.console import Console

from privqml import jsonio
from privqml.errors import ConfigError
from privqml.verify.engines import DEFAULT_ENGINES
from privqml.verify.report import print_report


def run_verify(
    ansatz_spec: str,
    examples: Optional[int] = None,
    engines: str = DEFAULT_ENGINES,
    seed: int = 0,
    qubits: Optional[int] = None,
    layers: Optional[int] = None,
    observable: Optional[str] = None,
    profile: str = "ci",
    weaken: Optional[float] = None,
    progress=None,
    noise: Optional[str] = None,
    device: Optional[str] = None,
):
    """Load the ansatz and run :func:`privqml.verify.verify_ansatz`; returns the report."""
    # lazy: SymPy, Cirq and Hypothesis load only when the command runs (privqml --help stays fast)
    from privqml.cli.bound import load_noisy
    from privqml.theory import gradient_bound
    from privqml.verify.engines import parse_engines
    from privqml.verify.mutations import scaled_bound
    from privqml.verify.runner import PROFILES, verify_ansatz

    if profile not in PROFILES:
        raise ConfigError(f"profile={profile!r} is not known; choose one of {sorted(PROFILES)}")
    if examples is not None and examples < 1:
        raise ConfigError(f"--examples={examples} must be >= 1")
    if weaken is not None and not (0.0 <= weaken < 1.0):
        raise ConfigError(f"--weaken={weaken} must lie in [0, 1): it multiplies the bound to check the tests have teeth")
    engine_names = parse_engines(engines)
    ansatz, placed = load_noisy(ansatz_spec, qubits, layers, observable, noise, device)
    bound_fn = gradient_bound if weaken is None else (lambda a: scaled_bound(gradient_bound(a), weaken))
    report = verify_ansatz(ansatz, examples=examples, engines=engine_names, seed=seed, profile=profile,
                           bound_fn=bound_fn, progress=progress)
    return report if placed is None else dataclasses.replace(report, device=placed.summary())


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        ansatz: str = typer.Argument("hea", help="built-in name (hea, reupload, native) or path/to/file.py:function"),
        examples: Optional[int] = typer.Option(None, "--examples", help="Hypothesis examples per property (default: the profile's)"),
        engines: str = typer.Option(DEFAULT_ENGINES, "--engines",
                                    help="comma-separated: adjoint,pshift,fd,shots,noisy,numeric,oracle,vectorised"),
        seed: int = typer.Option(0, "--seed", help="Hypothesis seed"),
        qubits: Optional[int] = typer.Option(None, "--qubits", help="number of qubits (built-ins)"),
        layers: Optional[int] = typer.Option(None, "--layers", help="number of layers (built-ins)"),
        observable: Optional[str] = typer.Option(None, "--observable", help="Z0, Z0*Z1, sumZ, Z0,Z1,Z2 or classes:K"),
        profile: str = typer.Option("ci", "--profile", help="ci (fast) or thorough (many examples, more shots)"),
        weaken: Optional[float] = typer.Option(None, "--weaken",
                                               help="mutation check: multiply the bound by this factor in [0,1); the run should then FAIL"),
        noise: Optional[str] = typer.Option(None, "--noise", help="verify the ansatz with these channels after "
                                            "every moment (its noise-aware bound), e.g. depolarize:0.01"),
        device: Optional[str] = typer.Option(None, "--device", help="verify the ansatz as a Google device (rainbow, "
                                             "weber) runs it: placed, compiled, with its calibrated noise"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Property-test the gradient bound of an ansatz with Hypothesis (exit 1 on a counterexample)."""
        err = Console(stderr=True)
        progress = None if as_json else (lambda name: err.print(f"checking {name} …", highlight=False))
        report = run_verify(ansatz, examples, engines, seed, qubits, layers, observable, profile, weaken, progress,
                            noise, device)
        if as_json:
            typer.echo(jsonio.dumps(report))
        else:
            print_report(report, Console())
        if not report.passed:
            raise typer.Exit(code=1)
