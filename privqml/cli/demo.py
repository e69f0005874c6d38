"""``privqml demo``: the main job on built-in defaults (what ``make demo`` runs).

Stages, each printed as it runs:
1. derive the bounds of the built-in ansätze (theory);
2. property-test the default ansatz's bound against TFQ and Cirq gradients (verify);
3. train a quantum and a matched classical model with DP-SGD at one ε, clipped at the bound (models);
4. the paper checks, demo profile: the three (indicative) verdicts and where the report is.

Every stage imports its layer when it runs, not when the CLI starts: the theory loads SymPy and
Cirq, the others TensorFlow, and ``privqml --help`` imports this module.
"""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

DEMO_ANSATZE = (
    ("hea", dict(n_qubits=4, n_layers=2, observable="Z0")),
    ("hea", dict(n_qubits=4, n_layers=2, observable="sumZ")),
    ("reupload", dict(n_qubits=2, n_layers=3, observable="Z0")),
    ("native", dict(n_qubits=4, n_layers=2, observable="Z0*Z1")),
    ("hea", dict(n_qubits=4, n_layers=2, observable="classes:3")),
)


def stage_bounds(console: Console) -> None:
    # deliberately lazy (module docstring): SymPy and Cirq
    from privqml.theory import builtin_ansatz, gradient_bound, loss_gradient_bound

    table = Table(title="Stage 1 — gradient-norm bounds of the built-in ansätze (public domain [-π, π])")
    for column in ("ansatz", "qubits", "weights", "‖∇f‖ bound", "naive", "provably-zero weights", "loss", "‖∇ℓ‖ bound", "time"):
        table.add_column(column, justify="right" if column not in ("ansatz", "loss") else "left")
    for name, options in DEMO_ANSATZE:
        start = time.perf_counter()
        ansatz = builtin_ansatz(name, **options)
        bound = gradient_bound(ansatz)
        loss = "bce_logits" if ansatz.n_outputs == 1 else "softmax_ce"
        loss_bound = loss_gradient_bound(ansatz, loss, bound=bound)
        elapsed = time.perf_counter() - start
        table.add_row(
            f"{name} {options['observable']}", str(ansatz.n_qubits), str(ansatz.n_weights),
            f"{bound.grad_norm_bound:.4g}", f"{bound.naive_bound:.4g}", str(len(bound.zero_weights)),
            loss, f"{loss_bound.value:.4g}", f"{elapsed:.2f}s",
        )
    console.print(table)


def stage_verify(console: Console) -> bool:
    # deliberately lazy (module docstring): TensorFlow Quantum
    from privqml.verify.runner import demo_verify

    console.rule("Stage 2 — verify: the bound against real gradients")
    report = demo_verify(console=console)
    return bool(report.passed)


def stage_train(console: Console, epsilon: float = 1.0) -> None:
    # deliberately lazy (module docstring): TensorFlow
    from privqml.models.demo import compare_at_epsilon

    console.rule(f"Stage 3 — DP-SGD at ε = {epsilon} (δ = 1e-5), quantum vs matched classical, C = the bound")
    comparison = compare_at_epsilon(epsilon=epsilon)
    table = Table()
    for column in ("model", "weights", "test accuracy", "ε (RDP)", "ε (PLD)", "clip C", "max fraction clipped", "max clip bias", "time"):
        table.add_column(column)
    for row in comparison.rows():
        table.add_row(
            row["model"], str(row["n_weights"]), f"{row['test_accuracy']:.3f}", f"{row['epsilon_rdp']:.3f}",
            f"{row['epsilon_pld']:.3f}", f"{row['clip']:.4g}", f"{row['clip_fraction_max']:.3f}",
            f"{row['clip_bias_max']:.3g}", f"{row['seconds']:.1f}s",
        )
    console.print(table)
    console.print(
        f"quantum test accuracy {comparison.quantum_accuracy:.3f}, classical test accuracy "
        f"{comparison.classical_accuracy:.3f} (one seed; the claim-level comparison is stage 4)"
    )


def stage_checks(console: Console, out_dir: str) -> None:
    # deliberately lazy (module docstring): TensorFlow
    from privqml.paper_checks.run import demo as checks_demo

    console.rule("Stage 4 — paper checks (demo profile)")
    checks_demo(out_dir=out_dir, console=console)


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: str = typer.Option("demo_out/paper_checks", "--out", help="where the paper-check report goes"),
    ) -> None:
        """Run the main job on built-in defaults: bounds, verification, DP training, paper checks."""
        console = Console(width=max(Console().width, 130))
        start = time.perf_counter()
        stage_bounds(console)
        verified = stage_verify(console)
        stage_train(console)
        stage_checks(console, out)
        console.print(f"demo finished in {time.perf_counter() - start:.0f} s")
        if not verified:
            raise typer.Exit(1)
