"""``privqml demo``: the main job on built-in defaults (what ``make demo`` runs).

Stages, each printed as it runs:
1. derive the bounds of the built-in ansätze (theory);
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


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo() -> None:
        """Run the main job on built-in defaults: bounds, verification, DP training, paper checks."""
        console = Console(width=max(Console().width, 130))
        stage_bounds(console)
