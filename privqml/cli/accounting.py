"""``privqml epsilon`` and ``privqml sigma``: accounting without training (like TF Privacy's
``compute_dp_sgd_privacy``), by :func:`privqml.models.privacy.budget.account` — the settings, sampling and
accountants ``privqml train`` uses, so the numbers are the ones a run with these settings records.
No TensorFlow is imported: both answer in about a second.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from privqml import jsonio


def _print(report: dict, title: str, console: Console) -> None:
    table = Table(title=title, show_header=False)
    rows = [
        ("ε (RDP)", f"{report['epsilon_rdp']:.4g}  (dp_accounting.rdp.RdpAccountant)"),
        ("ε (PLD)", f"{report['epsilon_pld']:.4g}  (dp_accounting.pld.PLDAccountant)"),
        ("δ", f"{report['delta']:g}"),
        ("σ (noise multiplier)", f"{report['noise_multiplier']:.6g}"
         + (f"  (calibrated with {report['calibrated_with']} for ε = {report['target_epsilon']:g}, then ×"
            f" the trainer's margin)" if report["calibrated_with"] else "  (given)")),
        ("sampling", f"Poisson, q = {report['sampling_probability']:.4g}, T = {report['steps']} steps"),
        ("adjacency", f"{report['adjacency']} (n_train treated as public)"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def register(app: typer.Typer) -> None:
    common = dict(
        n_train=typer.Option(..., "--n-train", help="training examples n (q = batch / n)"),
        batch_size=typer.Option(32, "--batch-size", help="expected (Poisson) batch size L"),
        epochs=typer.Option(10, "--epochs", help="T = epochs · round(n / L) steps"),
        delta=typer.Option(1e-5, "--delta", help="δ in (0, 1), below 1/n"),
    )

    @app.command("epsilon")
    def epsilon(
        noise_multiplier: float = typer.Option(..., "--noise-multiplier", help="σ = noise stddev / C"),
        n_train: int = common["n_train"],
        batch_size: int = common["batch_size"],
        epochs: int = common["epochs"],
        delta: float = common["delta"],
        allow_large_delta: bool = typer.Option(False, "--allow-large-delta", help="accept delta >= 1/n_train"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """ε of DP-SGD at a given σ, by both accountants, without training."""
        from privqml.models.privacy.budget import account

        report = account(n_train=n_train, batch_size=batch_size, epochs=epochs, delta=delta,
                         noise_multiplier=noise_multiplier, allow_large_delta=allow_large_delta).as_dict()
        if as_json:
            typer.echo(jsonio.dumps(report))
        else:
            _print(report, f"privqml epsilon — σ = {noise_multiplier:g}, n = {n_train}, L = {batch_size}, "
                           f"{epochs} epochs", Console())

    @app.command("sigma")
    def sigma(
        target: float = typer.Option(..., "--epsilon", help="target ε (> 0)"),
        n_train: int = common["n_train"],
        batch_size: int = common["batch_size"],
        epochs: int = common["epochs"],
        delta: float = common["delta"],
        accountant: str = typer.Option("rdp", "--accountant", help="calibrate σ with rdp or pld (both are reported)"),
        allow_large_delta: bool = typer.Option(False, "--allow-large-delta", help="accept delta >= 1/n_train"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """The σ ``privqml train`` would apply for a target ε, and the ε it spends, without training."""
        from privqml.models.privacy.budget import account

        report = account(n_train=n_train, batch_size=batch_size, epochs=epochs, delta=delta, epsilon=target,
                         accountant=accountant, allow_large_delta=allow_large_delta).as_dict()
        if as_json:
            typer.echo(jsonio.dumps(report))
        else:
            _print(report, f"privqml sigma — ε = {target:g}, n = {n_train}, L = {batch_size}, {epochs} epochs",
                   Console())
