"""Files of a training run: atomic JSON, the curves PNG, and the output folder check.

JSON is written in the package's one convention (:mod:`privqml.jsonio`: strict JSON, an infinite
ε as ``"inf"``), to a temporary file in the same directory that is moved into place with
``os.replace`` (:mod:`privqml.atomic`), so an interrupted run never leaves a half-written
``run.json`` or checkpoint. The curves are computed from a run summary by :func:`run_curves`
(pure) and drawn by :func:`plot_run`, which returns the curves it drew.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import tempfile

from privqml import jsonio
from privqml.atomic import save_figure_atomic, write_text_atomic
from privqml.errors import ConfigError


def write_json_atomic(path: str | os.PathLike, obj) -> pathlib.Path:
    """Write ``obj`` as privqml JSON (:func:`privqml.jsonio.dumps`) to ``path`` atomically."""
    return write_text_atomic(path, jsonio.dumps(obj))


def read_json(path: str | os.PathLike):
    """The privqml JSON in ``path``, or None when there is no such file."""
    path = pathlib.Path(path)
    if not path.is_file():
        return None
    return jsonio.loads(path.read_text())


#: The file in an output directory that names the command whose output it holds (``{"kind": …}``).
OUTPUT_MARKER = ".privqml-output.json"
#: What each kind of output directory is, for messages: a training run, a comparison, the paper checks.
OUTPUT_KINDS = {
    "run": "a training run (privqml train: run.json, curves.png)",
    "comparison": "a comparison (privqml compare: report.md, results.json, runs/)",
    "checks": "the paper checks (privqml check / demo: report.md, results.json, runs/)",
}


def output_kind(path: pathlib.Path) -> str | None:
    """Which command's output ``path`` holds: its marker's kind; for a folder written before markers, ``run``
    when it holds run.json or checkpoint.json and ``sweep`` (a comparison or the checks) when it holds
    results.json or runs/; None when it holds neither (empty, or other files)."""
    marker = path / OUTPUT_MARKER
    if marker.is_file():
        try:
            return str(jsonio.loads(marker.read_text())["kind"])
        except (OSError, ValueError, KeyError, TypeError):
            return "unknown"
    if (path / "run.json").is_file() or (path / "checkpoint.json").is_file():
        return "run"
    if (path / "results.json").is_file() or (path / "runs").is_dir():
        return "sweep"
    return None


def check_out_path(out_dir: str | os.PathLike, holds: str = "run.json and curves.png",
                   kind: str | None = None) -> pathlib.Path:
    """The output directory, checked without creating anything (a refused run leaves no empty folder): refused
    in one line when it is a file, when the nearest existing ancestor is a file, or when that ancestor cannot
    be written, and (with ``kind``, one of :data:`OUTPUT_KINDS`) when it holds another command's output.
    ``holds`` says what the directory is for, in the message."""
    path = pathlib.Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"out={str(out_dir)!r} is a file; give a directory for {holds}")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"out={str(out_dir)!r} cannot be created: {str(existing)!r} is a file; give a directory path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"out={str(out_dir)!r} cannot be written ({str(existing)!r}: permission denied); choose a "
                          "writable directory")
    if kind is not None and path.is_dir():
        found = output_kind(path)
        same = found in (None, kind) or (found == "sweep" and kind in ("comparison", "checks"))
        if not same:
            what = OUTPUT_KINDS.get(found, f"another command ({OUTPUT_MARKER} says {found!r})")
            raise ConfigError(f"out={str(out_dir)!r} holds the output of {what}; give another directory for {holds}")
    return path


def check_out_dir(out_dir: str | os.PathLike, kind: str | None = None) -> pathlib.Path:
    """The output folder of a run, created and proven writable *before* any work starts, and marked as
    holding ``kind``'s output (:data:`OUTPUT_MARKER`; refused when it holds another kind's).

    Raises ConfigError naming the path when it is a file, or cannot be created or written.
    """
    path = pathlib.Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"out={str(out_dir)!r} is a file; give a directory for run.json and curves.png")
    if kind is not None:
        check_out_path(out_dir, "this output", kind)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".privqml-write-test.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"out={str(out_dir)!r} cannot be written ({exc.strerror or exc}); choose a writable directory"
        ) from None
    if kind is not None and not (path / OUTPUT_MARKER).is_file():
        write_json_atomic(path / OUTPUT_MARKER, {"kind": kind})
    return path


@dataclasses.dataclass(frozen=True)
class RunCurves:
    """What ``curves.png`` shows, read from a run summary (``run.json``).

    Attributes:
        epochs: 1..E.
        train_accuracy, test_accuracy: accuracy after each epoch (train: NOT covered by ε).
        meter_steps: the steps the clipping meter measured.
        norm_max, norm_mean: max and mean per-example gradient norm at those steps (loss per unit
            weight; NOT covered by ε).
        bias, bias_bound_batch: measured clipping bias and the batch's mean (‖g_i‖ − C)₊.
        clip: C (None for a non-private run without one).
        grad_norm_bound: G*, the loss-gradient bound (None for a classical model).
        predicted_bias_max: (G* − C)₊, or None without a bound.
        title: the figure's title: dataset, test accuracy, ε by both accountants or "not private",
            and the simulation label when the noise was seeded.
    """

    epochs: tuple[int, ...]
    train_accuracy: tuple[float, ...]
    test_accuracy: tuple[float, ...]
    meter_steps: tuple[int, ...]
    norm_max: tuple[float, ...]
    norm_mean: tuple[float, ...]
    bias: tuple[float, ...]
    bias_bound_batch: tuple[float, ...]
    clip: float | None
    grad_norm_bound: float | None
    predicted_bias_max: float | None
    title: str


def run_curves(run: dict) -> RunCurves:
    """The curves of the run summary ``run`` (:meth:`RunResult.summary`, or ``run.json`` read back)."""
    covered, diagnostics, guarantee = run["covered"], run["not_covered"], run["guarantee"]
    meter = diagnostics["clip_history"]
    eps_rdp, eps_pld = jsonio.number(guarantee.get("epsilon_rdp")), jsonio.number(guarantee.get("epsilon_pld"))
    private = eps_rdp is not None and math.isfinite(eps_rdp)
    simulation = guarantee["randomness"]["mode"] == "simulation"
    title = (
        f"{covered['dataset']['name']}: test accuracy {covered['test_accuracy']:.3f}, "
        + (f"ε_RDP = {eps_rdp:.3g}, ε_PLD = {eps_pld:.3g}, δ = {guarantee.get('delta'):g}" if private
           else "not private (ε = ∞)")
        + (" — SIMULATION (seeded noise, not private)" if simulation else "")
    )
    return RunCurves(
        epochs=tuple(h["epoch"] for h in covered["test_history"]),
        train_accuracy=tuple(jsonio.number(h["train_accuracy"]) for h in diagnostics["train_history"]),
        test_accuracy=tuple(jsonio.number(h["test_accuracy"]) for h in covered["test_history"]),
        meter_steps=tuple(m["step"] for m in meter),
        norm_max=tuple(m["norm_max"] for m in meter),
        norm_mean=tuple(m["norm_mean"] for m in meter),
        bias=tuple(m["bias"] for m in meter),
        bias_bound_batch=tuple(m["bias_bound_batch"] for m in meter),
        clip=covered.get("clip"),
        grad_norm_bound=covered.get("grad_norm_bound"),
        predicted_bias_max=diagnostics["clip_meter"].get("predicted_bias_max"),
        title=title,
    )


def plot_run(run: dict, path: str | os.PathLike) -> RunCurves:
    """Draw :func:`run_curves` of ``run`` as a PNG at ``path`` (atomically) and return the curves:
    accuracy per epoch; per-example norms vs C and G*; measured vs predicted clipping bias."""
    # deliberately lazy: matplotlib (and its Agg backend, chosen here so that importing privqml
    # never switches a user's backend) loads only when a plot is drawn
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = run_curves(run)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].plot(curves.epochs, curves.train_accuracy, "o-", label="train (not covered by ε)")
    axes[0].plot(curves.epochs, curves.test_accuracy, "s-", label="test")
    axes[0].set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=run.get("model", {}).get("name", ""))
    axes[0].legend()
    if curves.meter_steps:
        axes[1].plot(curves.meter_steps, curves.norm_max, lw=1, label="max ‖g_i‖")
        axes[1].plot(curves.meter_steps, curves.norm_mean, lw=1, label="mean ‖g_i‖")
    if curves.clip is not None:
        axes[1].axhline(curves.clip, color="k", ls="--", label=f"C = {curves.clip:.3g}")
    if curves.grad_norm_bound is not None:
        axes[1].axhline(curves.grad_norm_bound, color="r", ls=":", label=f"G* = {curves.grad_norm_bound:.3g}")
    axes[1].set(xlabel="step", ylabel="per-example gradient norm", title="clipping meter (not covered by ε)")
    axes[1].legend(fontsize=8)
    if curves.meter_steps:
        axes[2].plot(curves.meter_steps, curves.bias, lw=1, label="measured bias (private data)")
        axes[2].plot(curves.meter_steps, curves.bias_bound_batch, lw=1, label="mean (‖g_i‖ − C)₊")
    if curves.predicted_bias_max is not None:
        axes[2].axhline(curves.predicted_bias_max, color="r", ls=":", label="(G* − C)₊")
    axes[2].set(xlabel="step", ylabel="‖mean clip(g) − mean g‖", title="clipping bias (not covered by ε)")
    axes[2].legend(fontsize=8)
    fig.suptitle(curves.title)
    save_figure_atomic(fig, path, dpi=110)
    return curves


def existing_run(out_dir: str | os.PathLike, config: dict) -> tuple[str, str]:
    """What ``out_dir`` already holds for a run of ``config`` (its ``as_dict()``, JSON values):
    ``("empty", "")``, ``("finished", …)`` / ``("interrupted", …)`` for this very configuration, or
    ``("other", …)`` naming the run it holds — which a new run must not overwrite silently."""
    path = pathlib.Path(out_dir)
    for name, state in (("run.json", "finished"), ("checkpoint.json", "interrupted")):
        saved = read_json(path / name) if path.is_dir() else None
        if saved is None:
            continue
        recorded = saved.get("config") if name == "run.json" else (saved.get("identity") or {}).get("config")
        if recorded != config:
            differ = sorted(k for k in set(config) | set(recorded or {}) if (recorded or {}).get(k) != config.get(k))
            return "other", (f"{path / name} holds a {state} run of another configuration (differs in "
                             f"{', '.join(differ[:6]) or 'its format'})")
        epoch = saved.get("epoch")
        return state, ("" if epoch is None else f"after epoch {epoch} of {config.get('epochs')}")
    return "empty", ""


__all__ = ["OUTPUT_KINDS", "OUTPUT_MARKER", "existing_run", "RunCurves", "check_out_dir", "check_out_path", "output_kind", "plot_run", "read_json", "run_curves", "write_json_atomic"]
