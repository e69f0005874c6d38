"""``privqml train``: DP-SGD (or the non-private reference) on a quantum or classical model.

Wraps :func:`privqml.models.trainer.train`. With ``--out DIR`` it writes ``DIR/run.json`` (the
object ``--json`` prints), ``DIR/curves.png`` and a per-epoch ``DIR/checkpoint.json`` (an
interrupted run resumes; a finished one is loaded, not redone).
"""

from __future__ import annotations

import math
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from privqml.errors import ConfigError


def parse_clip(text: str):
    """``bound`` or a positive number."""
    text = str(text).strip()
    if text == "bound":
        return "bound"
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"clip={text!r}: give a positive number or 'bound' (the theory's loss-gradient bound)") from None
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(
            f"clip={text} must be a finite number > 0; use 'bound' (privqml bound MODEL) or a positive number"
        )
    return value


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_summary(summary: dict, console: Console) -> None:
    table = Table(title=f"privqml train — {summary['model']['name']} on {summary['dataset']['name']}", show_header=False)
    privacy = summary["privacy"]
    rows = [
        ("test accuracy", summary["test_accuracy"]),
        ("train accuracy", summary["train_accuracy"]),
        ("ε (RDP / PLD)", "∞ (not private)" if not summary["private"]
         else f"{_fmt(summary['epsilon_rdp'])} / {_fmt(summary['epsilon_pld'])}"),
        ("δ", summary["delta"]),
        ("noise multiplier σ", summary["noise_multiplier"]),
        ("calibrated with", privacy["calibrated_with"]),
        ("sampling", f"Poisson, q = {summary['sampling_probability']:.4g}, T = {summary['steps']} steps"),
        ("clip C", f"{_fmt(summary['clip'])} ({summary['clip_source']})"),
        ("loss-gradient bound G*", summary["grad_norm_bound"]),
        ("max per-example ‖g‖", summary["max_per_example_norm"]),
        ("max fraction clipped", summary["clip_fraction_max"]),
        ("max clipping bias (measured)", summary["clip_bias_max"]),
        ("predicted bias bound (G* − C)₊", summary["predicted_bias_max"]),
        ("weights", summary["model"]["n_weights"]),
        ("time", f"{summary['timing']['total_seconds']:.1f} s"),
    ]
    for name, value in rows:
        table.add_row(name, _fmt(value))
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        model: str = typer.Option("hea", "--model", help="hea, reupload, native, mlp, linear (options: hea:n_layers=3,noise=0.01)"),
        dataset: str = typer.Option("quantum", "--dataset", help="quantum, circle, linear, digits:AvB, digits:A,B,C or file.npz"),
        epsilon: Optional[float] = typer.Option(None, "--epsilon", help="target ε (> 0), or inf for non-private training (default 1)"),
        delta: float = typer.Option(1e-5, "--delta", help="δ in (0, 1)"),
        noise_multiplier: Optional[float] = typer.Option(None, "--noise-multiplier", help="σ given directly (instead of --epsilon)"),
        clip: str = typer.Option("bound", "--clip", help="clipping threshold C > 0, or 'bound' (the theory's loss-gradient bound)"),
        epochs: int = typer.Option(10, "--epochs"),
        batch_size: int = typer.Option(32, "--batch-size", help="expected Poisson batch size (q = batch/n)"),
        lr: float = typer.Option(0.05, "--lr"),
        seed: int = typer.Option(0, "--seed"),
        optimizer: str = typer.Option("adam", "--optimizer", help="adam or sgd"),
        path: str = typer.Option("fast", "--path", help="per-example gradients: fast (tiled weights) or stock (TF Privacy optimizer)"),
        accountant: str = typer.Option("rdp", "--accountant", help="calibrate σ with rdp or pld (both are reported)"),
        loss: Optional[str] = typer.Option(None, "--loss", help="bce_logits, mse, hinge, bce_prob, softmax_ce"),
        meter_every: int = typer.Option(1, "--meter-every", help="clipping-meter period in steps (0: off)"),
        n_train: Optional[int] = typer.Option(None, "--n-train", help="training size of synthetic tasks (default 400)"),
        n_test: Optional[int] = typer.Option(None, "--n-test", help="test size of synthetic tasks (default 200)"),
        out: Optional[str] = typer.Option(None, "--out", help="directory for run.json, curves.png, checkpoint.json"),
        as_json: bool = typer.Option(False, "--json", help="print the run object as JSON on stdout"),
    ) -> None:
        """Train with DP-SGD (Poisson sampling, TF Privacy clipping + noise, RDP and PLD accounting)."""
        from privqml.models import runio
        from privqml.models.trainer import TrainConfig
        from privqml.models.trainer import train as run_training

        if epsilon is not None and noise_multiplier is not None:
            raise ConfigError(
                f"--epsilon {epsilon} and --noise-multiplier {noise_multiplier} both given; choose one"
            )
        if epsilon is None and noise_multiplier is None:
            epsilon = 1.0
        config = TrainConfig(
            model=model, dataset=dataset, epsilon=epsilon, delta=delta, noise_multiplier=noise_multiplier,
            clip=parse_clip(clip), epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
            seed=seed, path=path, accountant=accountant, meter_every=meter_every, loss=loss,
            n_train=n_train, n_test=n_test,
        )
        from privqml.progress import progress_bar

        err = Console(stderr=True)
        with progress_bar(err, "train", transient=True) as bar:

            def progress(info: dict) -> None:
                text = f"{model} on {dataset}, epoch {info['epoch']}"
                if "test_accuracy" in info:
                    text += f", test acc {info['test_accuracy']:.3f}"
                # in a log: one line per finished epoch (the call that carries its test accuracy)
                bar(info["step"], info["total_steps"], text, line="test_accuracy" in info)

            result = run_training(config, out_dir=out, progress=progress)
        summary = result.summary()
        if as_json:
            typer.echo(runio.to_json(summary))
        else:
            _print_summary(summary, Console())
            if out:
                Console().print(f"wrote {out}/run.json and {out}/curves.png")
