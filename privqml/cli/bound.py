"""``privqml bound``: derive and print the gradient-norm bounds of an ansatz."""

from __future__ import annotations

import math
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from privqml import jsonio


def _report(ansatz_spec: str, ansatz, bound, loss: Optional[str], clamp: Optional[float], tightness: bool,
            tightness_starts: int, seed: int) -> dict:
    """The report of one derived ``bound`` of ``ansatz`` (the loss bound and tightness from it)."""
    # lazy: SymPy and Cirq load only when a command runs (privqml --help stays fast)
    from privqml.theory import loss_gradient_bound

    result = bound.as_dict()
    result["ansatz_spec"] = ansatz_spec
    if loss is None:
        loss = "bce_logits" if ansatz.n_outputs == 1 else "softmax_ce"
    loss_bound = loss_gradient_bound(ansatz, loss, clamp=clamp, bound=bound)
    result.update(loss_bound.as_dict())
    if tightness:
        # lazy: NumPy's generator and SciPy's optimiser load only for --tightness
        import numpy as np

        from privqml.theory.exact.tightness import max_gradient_norm

        estimate = max_gradient_norm(ansatz, n_starts=tightness_starts, seed=np.random.default_rng(seed))
        true_max = float(estimate.true_max_estimate)
        result["true_max_estimate"] = true_max
        result["tightness_ratio"] = (bound.grad_norm_bound / true_max) if true_max > 0 else None
        result["tightness_starts"] = tightness_starts
    return result


def _derive(ansatz_spec: str, qubits: Optional[int], layers: Optional[int], observable: Optional[str]):
    """(ansatz, its gradient bound): the one derivation every output of the command uses."""
    # lazy: SymPy and Cirq load only when a command runs (privqml --help stays fast)
    from privqml.theory import gradient_bound, load_ansatz

    ansatz = load_ansatz(ansatz_spec, n_qubits=qubits, n_layers=layers, observable=observable)
    return ansatz, gradient_bound(ansatz)


def bound_report(
    ansatz_spec: str,
    qubits: Optional[int] = None,
    layers: Optional[int] = None,
    observable: Optional[str] = None,
    loss: Optional[str] = None,
    clamp: Optional[float] = None,
    tightness: bool = False,
    tightness_starts: int = 16,
    seed: int = 0,
) -> dict:
    """Everything ``privqml bound`` prints, as one dict of Python values (see the README for the
    keys); :func:`privqml.jsonio.dumps` writes it (non-finite bounds as "inf")."""
    ansatz, bound = _derive(ansatz_spec, qubits, layers, observable)
    return _report(ansatz_spec, ansatz, bound, loss, clamp, tightness, tightness_starts, seed)


def _print_table(result: dict, console: Console) -> None:
    head = Table(title=f"privqml bound — {result['ansatz']}", show_header=False)
    head.add_row("qubits / weights", f"{result['n_qubits']} / {result['n_weights']}")
    head.add_row("observable range", ", ".join(f"[{lo:.4g}, {hi:.4g}]" for lo, hi in result["observable_ranges"]))
    domain = result["input_domain"]
    if domain:
        spans = {tuple(v) for v in domain.values()}
        text = ", ".join(f"[{lo:.4g}, {hi:.4g}]" for lo, hi in spans)
        head.add_row("public input domain", f"{len(domain)} inputs in {text}")
    slots = result["slots"]
    head.add_row(
        "angle slots",
        f"{slots['total']} total, {slots['live']} live, {slots['pruned_commuting']} commuting, "
        f"{slots['pruned_outside_light_cone']} outside light cone",
    )
    fmt = lambda v: "∞" if v is None or not math.isfinite(v) else f"{v:.6g}"  # noqa: E731
    head.add_row("‖∇θ f‖₂ bound", fmt(result["grad_norm_bound"]))
    head.add_row("naive bound", fmt(result["naive_bound"]))
    head.add_row(f"‖∇θ ℓ‖₂ bound ({result['loss']})", fmt(result["loss_grad_norm_bound"]))
    if result["loss_unbounded_reason"]:
        head.add_row("unbounded because", result["loss_unbounded_reason"])
    if "true_max_estimate" in result:
        head.add_row("true max (numerical)", fmt(result["true_max_estimate"]))
        head.add_row("bound / true max", fmt(result["tightness_ratio"]))
    console.print(head)
    per_weight = Table(title="per weight: sup |∂f/∂θ_j| (per unit of the weight)")
    per_weight.add_column("weight")
    per_weight.add_column("bound", justify="right")
    zero = set(result["zero_weights"])
    items = list(result["per_weight"].items())
    shown = items if len(items) <= 40 else items[:20] + [("…", None)] + items[-19:]
    for name, value in shown:
        if name == "…":
            per_weight.add_row("…", f"({len(items) - 39} more)")
            continue
        per_weight.add_row(name, fmt(value) + ("  (provably 0)" if name in zero else ""))
    console.print(per_weight)


def register(app: typer.Typer) -> None:
    @app.command("bound")
    def bound(
        ansatz: str = typer.Argument("hea", help="built-in name (hea, reupload, native) or path/to/file.py:function"),
        qubits: Optional[int] = typer.Option(None, "--qubits", help="number of qubits (built-ins)"),
        layers: Optional[int] = typer.Option(None, "--layers", help="number of layers (built-ins)"),
        observable: Optional[str] = typer.Option(None, "--observable", help="Z0, Z0*Z1, sumZ, Z0,Z1,Z2 or classes:K"),
        loss: Optional[str] = typer.Option(None, "--loss", help="bce_logits, mse, hinge, bce_prob, softmax_ce"),
        clamp: Optional[float] = typer.Option(None, "--clamp", help="probability clamp for bce_prob"),
        tightness: bool = typer.Option(False, "--tightness", help="also estimate the true max numerically"),
        starts: int = typer.Option(16, "--starts", help="multi-start count for --tightness"),
        seed: int = typer.Option(0, "--seed"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        latex: bool = typer.Option(False, "--latex", help="print the total bound as LaTeX"),
    ) -> None:
        """Derive deterministic gradient-norm bounds (per weight, total, through the loss)."""
        model, derived = _derive(ansatz, qubits, layers, observable)
        result = _report(ansatz, model, derived, loss, clamp, tightness, starts, seed)
        if as_json:
            typer.echo(jsonio.dumps(result))
            return
        if latex:
            typer.echo(derived.to_latex())
            return
        _print_table(result, Console())
