"""``privqml bound``: derive and print the gradient-norm bounds of an ansatz."""

from __future__ import annotations

import math
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from privqml import jsonio


def _report(ansatz_spec: str, ansatz, bound, loss: Optional[str], clamp: Optional[float], tightness: bool,
            tightness_starts: int, seed: int, explain: bool = False, progress=None, device: Optional[dict] = None
            ) -> dict:
    """The report of one derived ``bound`` of ``ansatz`` (the loss bound and tightness from it), with the device
    record when the ansatz was placed on one."""
    # lazy: SymPy and Cirq load only when a command runs (privqml --help stays fast)
    from privqml.theory import loss_gradient_bound

    result = bound.as_dict()
    result["ansatz_spec"] = ansatz_spec
    if device is not None:
        result["device"] = device
    explicit_loss = loss is not None
    if loss is None:
        loss = "bce_logits" if ansatz.n_outputs == 1 else "softmax_ce"
    loss_bound = loss_gradient_bound(ansatz, loss, clamp=clamp, bound=bound)
    result.update(loss_bound.as_dict())
    stages = bound.refinement_totals(0)
    result["refinement_stages"] = [{"stage": name, "bound": value} for name, value in stages]
    if explain:
        result["explain"] = bound.explain()
    from privqml.theory.noise import has_noise

    if has_noise(ansatz):
        # each weight's channel factors (min over its slots, per observable): what the noise refinement scaled
        factors: dict[str, float] = {}
        for entry in (result.get("explain") or bound.explain())["observables"]:
            for row in entry.get("noise", []):
                for name in row["weights"]:
                    factors[name] = min(factors.get(name, 1.0), row["factor"])
        result["channel_factors"] = factors
    if tightness:
        # lazy: NumPy's generator and SciPy's optimiser load only for --tightness
        import numpy as np

        from privqml.theory.exact.tightness import max_gradient_norm

        def starts(what: str):
            return None if progress is None else (lambda done, total: progress(done, total, f"{what}: start {done}"))

        estimate = max_gradient_norm(ansatz, n_starts=tightness_starts, seed=np.random.default_rng(seed),
                                     progress=starts("true max of the gradient norm"))
        true_max = float(estimate.true_max_estimate)
        ratio = (lambda v: v / true_max if true_max > 0 else None)  # noqa: E731
        result["true_max_estimate"] = true_max
        result["tightness_ratio"] = ratio(bound.per_observable[0])
        result["tightness_starts"] = tightness_starts
        result["tightness_by_stage"] = [{"stage": name, "bound": value, "ratio": ratio(value)} for name, value in stages]
        # every observable of a multi-output readout, not only the first
        per_observable = [{"observable": 0, "bound": bound.per_observable[0], "true_max_estimate": true_max,
                           "ratio": ratio(bound.per_observable[0])}]
        for c in range(1, ansatz.n_outputs):
            other = float(max_gradient_norm(ansatz, observable=c, n_starts=tightness_starts,
                                            seed=np.random.default_rng(seed),
                                            progress=starts(f"true max of output {c}")).true_max_estimate)
            per_observable.append({"observable": c, "bound": bound.per_observable[c], "true_max_estimate": other,
                                   "ratio": bound.per_observable[c] / other if other > 0 else None})
        result["tightness_by_observable"] = per_observable
        if explicit_loss and loss_bound.bounded:
            loss_estimate = max_gradient_norm(ansatz, n_starts=tightness_starts, seed=np.random.default_rng(seed),
                                              loss=loss, clamp=clamp, progress=starts(f"true max through {loss}"))
            loss_max = float(loss_estimate.true_max_estimate)
            result["loss_true_max_estimate"] = loss_max
            result["loss_tightness"] = [
                {"stage": "product (sup|∂ℓ/∂f| · G)", "bound": loss_bound.uncoupled_value,
                 "ratio": loss_bound.uncoupled_value / loss_max if loss_max > 0 else None},
                {"stage": "coupled (Bernstein–Szegő)", "bound": loss_bound.value,
                 "ratio": loss_bound.value / loss_max if loss_max > 0 else None},
            ]
    return result


def load_noisy(ansatz_spec: str, qubits: Optional[int], layers: Optional[int], observable: Optional[str],
               noise: Optional[str] = None, device: Optional[str] = None):
    """(the ansatz a command works on, the device placement or None): the ansatz of ``ansatz_spec`` with
    ``--noise`` channels after every moment or placed on ``--device`` (:func:`privqml.theory.noise.noisy`)."""
    # lazy: SymPy and Cirq load only when a command runs (privqml --help stays fast)
    from privqml.theory import load_ansatz
    from privqml.theory.noise import noisy, parse_noise

    return noisy(load_ansatz(ansatz_spec, n_qubits=qubits, n_layers=layers, observable=observable),
                 parse_noise(noise) if noise else None, device)


def _derive(ansatz_spec: str, qubits: Optional[int], layers: Optional[int], observable: Optional[str],
            noise: Optional[str] = None, device: Optional[str] = None):
    """(ansatz, its gradient bound, the device record or None): the one derivation every output uses."""
    from privqml.theory import gradient_bound

    ansatz, placed = load_noisy(ansatz_spec, qubits, layers, observable, noise, device)
    if placed is None:
        return ansatz, gradient_bound(ansatz), None
    record = placed.summary()
    record["noiseless_bound"] = list(gradient_bound(placed.noiseless).per_observable)
    return ansatz, gradient_bound(ansatz), record


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
    noise: Optional[str] = None,
    explain: bool = False,
    device: Optional[str] = None,
) -> dict:
    """Everything ``privqml bound`` prints, as one dict of Python values (see the README for the
    keys); :func:`privqml.jsonio.dumps` writes it (non-finite bounds as "inf")."""
    ansatz, bound, record = _derive(ansatz_spec, qubits, layers, observable, noise, device)
    return _report(ansatz_spec, ansatz, bound, loss, clamp, tightness, tightness_starts, seed, explain, device=record)


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
        f"{slots['pruned_outside_light_cone']} outside light cone, "
        f"{slots.get('pruned_whole_observable', 0)} commuting with the whole observable",
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
        for row in result["tightness_by_observable"][1:]:
            head.add_row(f"bound / true max, output {row['observable']}",
                         f"{fmt(row['bound'])} / {fmt(row['true_max_estimate'])} = {fmt(row['ratio'])}")
    console.print(head)
    if "device" in result:
        _print_device(result["device"], result["grad_norm_bound"], console)
    stages = Table(title="the bound after each refinement (each with the ones above it)")
    stages.add_column("refinement")
    stages.add_column("‖∇θ f‖₂ bound", justify="right")
    by_stage = {row["stage"]: row for row in result.get("tightness_by_stage", [])}
    if by_stage:
        stages.add_column("bound / true max", justify="right")
    for row in result["refinement_stages"]:
        cells = [row["stage"], fmt(row["bound"])]
        if by_stage:
            cells.append(fmt(by_stage[row["stage"]]["ratio"]))
        stages.add_row(*cells)
    for row in result.get("loss_tightness", []):
        stages.add_row(f"loss: {row['stage']}", fmt(row["bound"]), fmt(row["ratio"]))
    console.print(stages)
    if "explain" in result:
        _print_explain(result["explain"], console)
    per_weight = Table(title="per weight: sup |∂f/∂θ_j| (per unit of the weight)")
    per_weight.add_column("weight")
    per_weight.add_column("bound", justify="right")
    channel = result.get("channel_factors")
    if channel is not None:
        per_weight.add_column("channel factor", justify="right")
    zero = set(result["zero_weights"])
    items = list(result["per_weight"].items())
    shown = items if len(items) <= 40 else items[:20] + [("…", None)] + items[-19:]
    for name, value in shown:
        if name == "…":
            per_weight.add_row("…", f"({len(items) - 39} more)")
            continue
        cells = [name, fmt(value) + ("  (provably 0)" if name in zero else "")]
        if channel is not None:
            cells.append(f"{channel[name]:.4f}" if name in channel else "—")
        per_weight.add_row(*cells)
    console.print(per_weight)


def _print_device(record: dict, noisy_bound: float, console: Console) -> None:
    """Where the ansatz was placed, what it was compiled to, the calibrated noise, and the noiseless bound of the
    same compiled circuit beside the noisy one."""
    table = Table(title=f"on device {record['device']} ({record['gateset']})", show_header=False)
    calibration = record["calibration"]
    table.add_row("calibration", f"{calibration.get('file') or calibration.get('device')} "
                                 f"({calibration.get('timestamp_utc') or 'no timestamp'})")
    table.add_row("qubits", ", ".join(f"{a} → {d}" for a, d in record["qubits"].items()))
    table.add_row("compiled gates", ", ".join(f"{k}: {v}" for k, v in sorted(record["gate_counts"].items())))
    table.add_row("compiled circuit sha256", record["circuit_sha256"][:16])
    for kind, stats in record["noise"].items():
        table.add_row(f"noise: {kind}", ", ".join(f"{k}={v}" for k, v in stats.items()))
    noiseless = record["noiseless_bound"][0]
    table.add_row("bound noiseless / noisy",
                  f"{noiseless:.6g} / {noisy_bound:.6g} ({noisy_bound / noiseless:.3f}×)" if noiseless > 0
                  else f"{noiseless:.6g} / {noisy_bound:.6g}")
    console.print(table)


def _print_explain(explain: dict, console: Console) -> None:
    """The gates each refinement pruned, grouped or scaled, and why."""
    for entry in explain["observables"]:
        table = Table(title=f"what the refinements did — observable {entry['observable']}")
        table.add_column("refinement")
        table.add_column("gates / weights")
        table.add_column("why")
        for row in entry["pruned"]:
            table.add_row(f"pruned ({row['refinement']})", row["gate"], row["why"])
        for row in entry.get("prefix", []):
            table.add_row("prefix", f"qubits {row['qubits']}: {', '.join(row['weights'])} (σ = {row['sigma']:.4g})",
                          row["why"])
        for row in entry.get("suffix", []):
            table.add_row("suffix", f"qubit {row['qubit']}: {', '.join(row['weights'])}", row["why"])
        for row in entry.get("noise", []):
            table.add_row("noise", f"{row['gate']} × {row['factor']:.4g}", f"channels after it: {row['channels']}")
        for row in entry.get("near_zero", []):
            table.add_row("near zero (not pruned)", f"{row['gate']} × {row['factor']:.3g}",
                          "only a negligible Heisenberg remainder reaches it: bounded by that remainder, not claimed zero")
        if any(row["stage"] == "terms" for row in entry.get("changed", [])):
            for row in entry.get("terms", []):
                table.add_row("terms", f"{row['coefficient']:g}·{row['term']}: {', '.join(row['weights']) or '—'}",
                              row["why"])
        if any(row["stage"] == "blocks" for row in entry.get("changed", [])):
            for row in entry.get("blocks", []):
                table.add_row("blocks", f"qubit {row['qubit']} run (slots {row['slots']}): {', '.join(row['weights'])}",
                              row["why"])
        if entry.get("split"):
            split = entry["split"]
            table.add_row("split", f"c̄ = {split['level']:.4g}: |c̄|·G(S) = {split['level'] * split['shape_bound']:.4g}, "
                                   f"G(B) = {split['rest_bound']:.4g}", split["why"])
        changed = ", ".join(f"{row['stage']} {row['from']:.4g} → {row['to']:.4g}" for row in entry.get("changed", []))
        table.caption = f"refinements that lowered the bound: {changed or 'none (the base bound stands)'}"
        console.print(table)


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
        noise: Optional[str] = typer.Option(None, "--noise", help="channels after every moment, e.g. "
                                            "depolarize:0.01 or amplitude_damp:0.02,phase_flip:0.01"),
        device: Optional[str] = typer.Option(None, "--device", help="a Google device (rainbow, weber): the ansatz "
                                             "placed on its qubits, compiled to its gate set, with its calibrated "
                                             "noise and readout error"),
        explain: bool = typer.Option(False, "--explain", help="say which gates each refinement pruned, grouped "
                                     "or scaled, and why"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        latex: bool = typer.Option(False, "--latex", help="print the total bound as LaTeX"),
    ) -> None:
        """Derive deterministic gradient-norm bounds (per weight, total, through the loss)."""
        model, derived, record = _derive(ansatz, qubits, layers, observable, noise, device)
        from privqml.progress import progress_bar

        with progress_bar(Console(stderr=True), "bound --tightness", transient=True) as bar:
            result = _report(ansatz, model, derived, loss, clamp, tightness, starts, seed, explain,
                             progress=bar if tightness else None, device=record)
        if as_json:
            typer.echo(jsonio.dumps(result))
            return
        if latex:
            typer.echo(derived.to_latex())
            return
        _print_table(result, Console())
