"""Files of a training run: atomic JSON, the curves PNG, and the per-epoch checkpoint.

Everything is written to a temporary file in the same directory and moved into place with
``os.replace``, so an interrupted run never leaves a half-written ``run.json`` or checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import tempfile

from privqml.atomic import save_figure_atomic, write_text_atomic
from privqml.errors import ConfigError


def _clean(value):
    """JSON-safe copy: non-finite floats become None (strict JSON has no Infinity/NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return _clean(value.item())
    return value


def to_json(obj: dict, indent: int | None = 2) -> str:
    return json.dumps(_clean(obj), indent=indent, allow_nan=False)


def write_json_atomic(path: str | os.PathLike, obj: dict) -> pathlib.Path:
    """Write ``obj`` as strict JSON to ``path`` atomically (tmp file + os.replace)."""
    return write_text_atomic(path, to_json(obj))


def check_out_dir(out_dir: str | os.PathLike) -> pathlib.Path:
    """The output folder of a run, created and proven writable *before* any work starts.

    Raises ConfigError naming the path when it is a file, or cannot be created or written.
    """
    path = pathlib.Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"out={str(out_dir)!r} is a file; give a directory for run.json and curves.png")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".privqml-write-test.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"out={str(out_dir)!r} cannot be written ({exc.strerror or exc}); choose a writable directory"
        ) from None
    return path


def read_json(path: str | os.PathLike) -> dict | None:
    path = pathlib.Path(path)
    if not path.is_file():
        return None
    with open(path) as handle:
        return json.load(handle)


def plot_run(run: dict, path: str | os.PathLike) -> pathlib.Path:
    """Accuracy per epoch; per-example norms vs C and G*; measured vs predicted clipping bias."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = pathlib.Path(path)
    covered, diagnostics, guarantee = run["covered"], run["not_covered"], run["guarantee"]
    test_history, train_history = covered["test_history"], diagnostics["train_history"]
    meter = diagnostics["clip_history"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].plot([h["epoch"] for h in train_history], [h["train_accuracy"] for h in train_history], "o-",
                 label="train (not covered by ε)")
    axes[0].plot([h["epoch"] for h in test_history], [h["test_accuracy"] for h in test_history], "s-", label="test")
    axes[0].set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=run.get("model", {}).get("name", ""))
    axes[0].legend()
    steps = [m["step"] for m in meter]
    if meter:
        axes[1].plot(steps, [m["norm_max"] for m in meter], lw=1, label="max ‖g_i‖")
        axes[1].plot(steps, [m["norm_mean"] for m in meter], lw=1, label="mean ‖g_i‖")
    if covered.get("clip") is not None:
        axes[1].axhline(covered["clip"], color="k", ls="--", label=f"C = {covered['clip']:.3g}")
    if covered.get("grad_norm_bound") is not None:
        axes[1].axhline(covered["grad_norm_bound"], color="r", ls=":", label=f"G* = {covered['grad_norm_bound']:.3g}")
    axes[1].set(xlabel="step", ylabel="per-example gradient norm", title="clipping meter (not covered by ε)")
    axes[1].legend(fontsize=8)
    if meter:
        axes[2].plot(steps, [m["bias"] for m in meter], lw=1, label="measured bias")
        axes[2].plot(steps, [m["bias_bound_batch"] for m in meter], lw=1, label="mean (‖g_i‖ − C)₊")
    predicted = diagnostics["clip_meter"].get("predicted_bias_max")
    if predicted is not None:
        axes[2].axhline(predicted, color="r", ls=":", label="(G* − C)₊")
    axes[2].set(xlabel="step", ylabel="‖mean clip(g) − mean g‖", title="clipping bias")
    axes[2].legend(fontsize=8)
    eps = guarantee.get("epsilon_rdp")
    simulation = guarantee["randomness"]["mode"] == "simulation"
    fig.suptitle(
        f"{covered['dataset']['name']}: test accuracy {covered['test_accuracy']:.3f}, "
        + (f"ε_RDP = {eps:.3g}, ε_PLD = {guarantee.get('epsilon_pld'):.3g}, δ = {guarantee.get('delta'):g}"
           if eps is not None else "not private (ε = ∞)")
        + (" — SIMULATION (seeded noise, not private)" if simulation else "")
    )
    return save_figure_atomic(fig, path, dpi=110)


__all__ = ["check_out_dir", "plot_run", "read_json", "to_json", "write_json_atomic"]
