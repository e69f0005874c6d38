"""``privqml demo``: the main job on built-in defaults (what ``make demo`` runs).

Stages, each printed as it runs:
1. derive the bounds of the built-in ansätze (theory);
2. property-test the default ansatz's bound against TFQ and Cirq gradients (verify);
3. train a quantum and a matched classical model with DP-SGD at one ε, clipped at the bound (models);
4. the paper checks, demo profile: the three (indicative) verdicts and where the report is.

Every stage imports its layer when it runs, not when the CLI starts: the theory loads SymPy and
Cirq, the others TensorFlow, and ``privqml --help`` imports this module.

Before stage 1, :func:`preflight` checks what the stages will train — the budget of stage 3's runs
and of every private run of the demo profile — and ``--out`` (a directory that can be written,
checked without creating it): a problem is one ``error:`` line, exit status 2, before any work.
Stage 3's columns read from the private per-example gradients are marked "not covered by ε".
"""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

#: stage 3: quantum vs matched classical, DP-SGD with secret noise, C = the quantum bound
TRAIN_SETTINGS = dict(epsilon=1.0, delta=1e-5, dataset="quantum", epochs=10, batch_size=32)
DEMO_ANSATZE = (
    ("hea", dict(n_qubits=4, n_layers=2, observable="Z0")),
    ("hea", dict(n_qubits=4, n_layers=2, observable="sumZ")),
    ("reupload", dict(n_qubits=2, n_layers=3, observable="Z0")),
    ("native", dict(n_qubits=4, n_layers=2, observable="Z0*Z1")),
    ("hea", dict(n_qubits=4, n_layers=2, observable="classes:3")),
)


def preflight(out_dir: str) -> None:
    """Stage 3's budget, the demo profile's budgets and the report directory, before any stage runs."""
    # deliberately lazy (module docstring): the accountants and the paper checks' modules
    from privqml.paper_checks import preflight as checks
    from privqml.paper_checks.profiles import get_profile
    from privqml.paper_checks.run import check_claims

    checks.check_out_dir(out_dir)
    train = TRAIN_SETTINGS
    checks.check_budget_cell(train["dataset"], train["epsilon"], train["delta"],
                             checks.training_size(train["dataset"], None), train["batch_size"], train["epochs"])
    check_claims("all", get_profile("demo"))


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


def train_pair(quantum: str = "hea", classical: str = "mlp", **settings):
    """Stage 3's two runs: ``quantum`` and ``classical`` matched to it (:func:`privqml.models.specs.matched_spec`)
    through the trainer, at the same (ε, δ), Poisson sampling, steps and C = the quantum model's bound (the
    matched model's ``clip='bound'`` resolves to it). Two runs, one seed: what DP-SGD does to each model; the
    comparison with seeds, intervals and a verdict is :mod:`privqml.paper_checks.compare` (stage 4,
    ``privqml compare``)."""
    # deliberately lazy (module docstring): TensorFlow
    from privqml.models.specs import matched_spec
    from privqml.models.training.trainer import TrainConfig, train

    settings = {**TRAIN_SETTINGS, **settings}
    runs = tuple(train(TrainConfig(model=spec, clip="bound", **settings))
                 for spec in (quantum, matched_spec(classical, quantum)))
    if abs(runs[0].clip - runs[1].clip) > 1e-12:
        raise AssertionError(f"the matched model's clip {runs[1].clip!r} is not the quantum bound {runs[0].clip!r}")
    return runs


def stage_train(console: Console) -> None:
    console.rule(f"Stage 3 — DP-SGD at ε = {TRAIN_SETTINGS['epsilon']:g} (δ = {TRAIN_SETTINGS['delta']:g}), quantum vs "
                 "matched classical, C = the bound")
    runs = train_pair()
    table = Table(caption="max fraction clipped, max clip bias: diagnostics of the private training data, "
                          "not covered by ε")
    for column in ("model", "weights", "test accuracy", "ε (RDP)", "ε (PLD)", "clip C",
                   "max fraction clipped (not covered by ε)", "max clip bias (not covered by ε)", "time"):
        table.add_column(column)
    for run in runs:
        meter = run.meter_summary()
        table.add_row(
            run.model["name"], str(run.model["n_weights"]), f"{run.test_accuracy:.3f}",
            f"{run.privacy.epsilon_rdp:.3f}", f"{run.privacy.epsilon_pld:.3f}", f"{run.clip:.4g}",
            f"{meter['clip_fraction_max']:.3f}", f"{meter['clip_bias_max']:.3g}", f"{run.timing['total_seconds']:.1f}s",
        )
    console.print(table)
    console.print(
        f"quantum test accuracy {runs[0].test_accuracy:.3f}, classical test accuracy "
        f"{runs[1].test_accuracy:.3f} (one seed; the claim-level comparison is stage 4)"
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
        preflight(out)  # before any stage: one error line, exit 2, nothing created
        console = Console(width=max(Console().width, 130))
        start = time.perf_counter()
        stage_bounds(console)
        verified = stage_verify(console)
        stage_train(console)
        stage_checks(console, out)
        console.print(f"demo finished in {time.perf_counter() - start:.0f} s")
        if not verified:
            raise typer.Exit(1)
