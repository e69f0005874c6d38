"""``privqml train``: DP-SGD (or the non-private reference) on a quantum or classical model.

Wraps :func:`privqml.models.training.trainer.train`. With ``--out DIR`` it writes ``DIR/run.json`` (the
object ``--json`` prints), ``DIR/curves.png`` and a per-epoch ``DIR/checkpoint.json`` (an
interrupted run resumes; a finished one is loaded, not redone).
"""

from __future__ import annotations

import pathlib
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from privqml import jsonio, validation
from privqml.errors import ConfigError
from privqml.models.data.synthetic import SYNTHETIC_TASKS
from privqml.models.training import runio
from privqml.progress import progress_bar


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _range(values) -> str:
    return f"{min(values)} / {max(values)}" if values else "—"


def feature_range_option(text: str | None) -> tuple | None:
    """``"lo,hi"`` (one range for every raw feature) or ``"lo1,hi1;lo2,hi2;…"`` (one per feature) as pairs."""
    if text is None:
        return None
    try:
        pairs = tuple(tuple(float(v) for v in part.split(",")) for part in text.split(";") if part.strip())
    except ValueError:
        pairs = ()
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise ConfigError(
            f"feature-range={text!r} must be 'lo,hi' (every raw feature) or 'lo1,hi1;lo2,hi2;...' (one pair per "
            "feature): the public range of the file's raw features, known without looking at the data"
        )
    return pairs[0] if len(pairs) == 1 else pairs


def _print_summary(summary: dict, console: Console) -> None:
    """Three tables: what (ε, δ) is, what it covers, and the diagnostics it does not cover."""
    g, covered, diag = summary["guarantee"], summary["covered"], summary["not_covered"]
    meter = diag["clip_meter"]
    title = f"privqml train — {summary['model']['name']} on {covered['dataset']['name']}"
    guarantee = Table(title=title + ": the guarantee", show_header=False)
    rows = [
        ("ε (RDP / PLD)", "∞ (not private)" if not g["private"] else f"{_fmt(g['epsilon_rdp'])} / {_fmt(g['epsilon_pld'])}"),
        ("δ", g["delta"]),
        ("adjacency", f"{g['adjacency']}; n_train = {g['n_train']} treated as public"),
        ("noise multiplier σ", g["noise_multiplier"]),
        ("calibrated with", g["calibrated_with"]),
        ("sampling", f"Poisson, q = {g['sampling_probability']:.4g}, T = {g['steps']} steps"),
        ("randomness", g["randomness"]["mode"]),
        ("preprocessing", f"{g['preprocessing']['mode']} ({'covered' if g['preprocessing']['covered'] else 'NOT covered'} by ε)"
                          + (f"; {covered['dataset']['n_unprotected']} held-out rows of your file NOT protected"
                             if covered["dataset"].get("n_unprotected") else "")),
    ]
    for name, value in rows:
        guarantee.add_row(name, _fmt(value))
    console.print(guarantee)
    for caveat in g["caveats"]:
        console.print(f"warning: {caveat}", style="bold yellow")
    released = Table(title="covered by (ε, δ): released weights and updates, test metrics", show_header=False)
    for name, value in (
        ("test accuracy", covered["test_accuracy"]),
        ("clip C", f"{_fmt(covered['clip'])} ({covered['clip_source']})"),
        ("loss-gradient bound G*", covered["grad_norm_bound"]),
        ("weights", summary["model"]["n_weights"]),
        ("released updates", len(covered["released_updates"])),
    ):
        released.add_row(name, _fmt(value))
    console.print(released)
    private = Table(title="NOT covered by ε: diagnostics of the private training data", show_header=False)
    for name, value in (
        ("train accuracy", diag["train_accuracy"]),
        ("max per-example ‖g‖", meter["max_per_example_norm"]),
        ("max fraction clipped", meter["clip_fraction_max"]),
        ("max clipping bias (measured)", meter["clip_bias_max"]),
        ("predicted bias bound (G* − C)₊", meter["predicted_bias_max"]),
        ("non-finite per-example gradients (released as 0)", diag["nonfinite_examples"]),
        ("class counts", diag["class_balance_train"]),
        ("Poisson batch sizes (min / max)", _range(diag.get("batch_sizes", []))),
        ("time (depends on the batch sizes)", f"{diag['timing']['total_seconds']:.1f} s"),
    ):
        private.add_row(name, _fmt(value))
    console.print(private)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        model: str = typer.Option("hea", "--model", help="hea, reupload, native, mlp, linear (options: hea:n_layers=3,noise=0.01), "
                                  "or your ansatz as path/to/file.py:function"),
        qubits: Optional[int] = typer.Option(None, "--qubits", help="passed to the model (n_qubits)"),
        layers: Optional[int] = typer.Option(None, "--layers", help="passed to the model (n_layers)"),
        observable: Optional[str] = typer.Option(None, "--observable", help="passed to your ansatz's function"),
        device: Optional[str] = typer.Option(None, "--device", help="a Google device (rainbow, weber): the model "
                                             "placed on it, compiled to its gate set, trained with its calibrated "
                                             "noise (exact density matrices) and its noisy bound as clip"),
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
        simulation_seed: Optional[int] = typer.Option(
            None, "--simulation-seed",
            help="derive noise and batches from this seed: a reproducible SIMULATION of DP training, not private "
                 "against anyone who knows the seed (default: secret OS randomness)"),
        preprocessing: Optional[str] = typer.Option(
            None, "--preprocessing",
            help="digits/files to circuit inputs: public-split (digits' default; files with x_public), "
                 "public-classes, projection (default for a file with --feature-range), own-rows-split (opt-in: "
                 "held-out rows of your file lose protection), or private-fit (NOT covered by ε)"),
        allow_large_delta: bool = typer.Option(False, "--allow-large-delta", help="accept delta >= 1/n_train (warned in every output)"),
        feature_range: Optional[str] = typer.Option(
            None, "--feature-range",
            help="files only: the public range of the raw features, 'lo,hi' or 'lo1,hi1;lo2,hi2;...', known a "
                 "priori (not read off the data); a file without x_public is then mapped data-independently"),
        out: Optional[str] = typer.Option(None, "--out", help="directory for run.json, curves.png, checkpoint.json "
                                          "(the same configuration again resumes or loads it)"),
        force: bool = typer.Option(False, "--force", help="replace a run of another configuration found in --out"),
        as_json: bool = typer.Option(False, "--json", help="print the run object as JSON on stdout"),
    ) -> None:
        """Train with DP-SGD (Poisson sampling, TF Privacy clipping + noise, RDP and PLD accounting)."""
        # Everything is checked before TensorFlow loads (seconds): the model spec (a user's function runs once),
        # the dataset's name, and the whole configuration (records.TrainConfig needs no TensorFlow).
        from privqml.models.data import dataset_classes
        from privqml.models.specs import check_function, with_options
        from privqml.models.training.records import TrainConfig

        model = with_options(model, qubits, layers, observable, device)  # a user's file: its hash recorded
        if out is not None:  # before any work: a bad --out must not cost a training run (and is not created yet)
            runio.check_out_path(out, kind="run")

        if epsilon is not None and noise_multiplier is not None:
            raise ConfigError(
                f"--epsilon {epsilon} and --noise-multiplier {noise_multiplier} both given; choose one"
            )
        if epsilon is None and noise_multiplier is None:
            epsilon = 1.0
        for name, value in (("--n-train", n_train), ("--n-test", n_test)):
            if value is not None and dataset not in SYNTHETIC_TASKS:
                raise ConfigError(
                    f"{name} {value} applies to the synthetic tasks {list(SYNTHETIC_TASKS)}, not to dataset={dataset!r} "
                    "(its split fixes the sizes); omit it"
                )
        config = TrainConfig(
            model=model, dataset=dataset, epsilon=epsilon, delta=delta, noise_multiplier=noise_multiplier,
            clip=validation.clip("clip", clip), epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
            seed=seed, path=path, accountant=accountant, meter_every=meter_every, loss=loss,
            n_train=n_train, n_test=n_test, simulation_seed=simulation_seed, preprocessing=preprocessing,
            allow_large_delta=allow_large_delta, feature_range=feature_range_option(feature_range),
        )
        check_function(model, dataset_classes(dataset))
        err = Console(stderr=True)
        if out is not None:
            state, detail = runio.existing_run(out, jsonio.to_jsonable(config.as_dict()))
            if state == "other" and not force:
                raise ConfigError(f"{detail}; choose another --out, or --force to replace it")
            if state == "other":
                err.print(f"--force: replacing {detail}", markup=False, highlight=False, soft_wrap=True)
                for name in ("run.json", "checkpoint.json", "curves.png"):
                    (pathlib.Path(out) / name).unlink(missing_ok=True)
            elif state == "finished":
                err.print(f"{out}/run.json already holds this run (same configuration): loading it, not retraining "
                          "(its data fingerprint is checked too)", markup=False, highlight=False, soft_wrap=True)
            elif state == "interrupted":
                err.print(f"resuming {out} from its checkpoint {detail}: finished epochs are kept, the rest "
                          "draws fresh secret randomness", markup=False, highlight=False, soft_wrap=True)
        # deliberately lazy: TensorFlow loads only now (privqml --help and refused inputs stay fast)
        from privqml.models.training.trainer import train as run_training

        with progress_bar(err, "train", transient=True) as bar:

            def progress(info: dict) -> None:
                text = f"{model} on {dataset}, epoch {info['epoch']}"
                if "test_accuracy" in info:
                    text += f", test acc {info['test_accuracy']:.3f}"
                # in a log: one line per finished epoch (the call that carries its test accuracy)
                bar(info["step"], info["total_steps"], text, line="test_accuracy" in info)

            try:
                result = run_training(config, out_dir=out, progress=progress)
            except KeyboardInterrupt:
                kept = (f"finished epochs are kept in {out}/checkpoint.json; run the same command again to resume"
                        if out else "nothing was kept (no --out)")
                err.print(f"interrupted: {kept}", markup=False, highlight=False, soft_wrap=True)
                raise SystemExit(130) from None  # privqml.cli.main drops typer.Exit codes (standalone_mode=False)
        summary = result.summary()
        if as_json:
            typer.echo(jsonio.dumps(summary))
        else:
            _print_summary(summary, Console())
            if out:
                Console().print(f"wrote {out}/run.json and {out}/curves.png ({out}/checkpoint.json, which held "
                                "private diagnostics, was deleted at the end of the run)")
