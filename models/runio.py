"""Files of a training run: atomic JSON, the curves PNG, and the per-epoch checkpoint.

Everything is written to a temporary file in the same directory and moved into place with
``os.replace``, so an interrupted run never leaves a half-written ``run.json`` or checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import pathlib

from privqml.atomic import save_figure_atomic, write_text_atomic


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
    history = run.get("history", [])
    meter = run.get("clip_history", [])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    epochs = [h["epoch"] for h in history]
    axes[0].plot(epochs, [h["train_accuracy"] for h in history], "o-", label="train")
    axes[0].plot(epochs, [h["test_accuracy"] for h in history], "s-", label="test")
    axes[0].set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=run.get("model", {}).get("name", ""))
    axes[0].legend()
    steps = [m["step"] for m in meter]
    if meter:
        axes[1].plot(steps, [m["norm_max"] for m in meter], lw=1, label="max ‖g_i‖")
        axes[1].plot(steps, [m["norm_mean"] for m in meter], lw=1, label="mean ‖g_i‖")
    if run.get("clip") is not None:
        axes[1].axhline(run["clip"], color="k", ls="--", label=f"C = {run['clip']:.3g}")
    if run.get("grad_norm_bound") is not None:
        axes[1].axhline(run["grad_norm_bound"], color="r", ls=":", label=f"G* = {run['grad_norm_bound']:.3g}")
    axes[1].set(xlabel="step", ylabel="per-example gradient norm", title="clipping meter")
    axes[1].legend(fontsize=8)
    if meter:
        axes[2].plot(steps, [m["bias"] for m in meter], lw=1, label="measured bias")
        axes[2].plot(steps, [m["bias_bound_batch"] for m in meter], lw=1, label="mean (‖g_i‖ − C)₊")
    if run.get("predicted_bias_max") is not None:
        axes[2].axhline(run["predicted_bias_max"], color="r", ls=":", label="(G* − C)₊")
    axes[2].set(xlabel="step", ylabel="‖mean clip(g) − mean g‖", title="clipping bias")
    axes[2].legend(fontsize=8)
    privacy = run.get("privacy", {})
    eps = privacy.get("epsilon_rdp")
    fig.suptitle(
        f"{run.get('dataset', {}).get('name', '')}: test accuracy {run.get('test_accuracy', float('nan')):.3f}, "
        + (f"ε_RDP = {eps:.3g}, ε_PLD = {privacy.get('epsilon_pld'):.3g}, δ = {privacy.get('delta'):g}"
           if eps is not None else "not private (ε = ∞)")
    )
    return save_figure_atomic(fig, path, dpi=110)


__all__ = ["plot_run", "read_json", "to_json", "write_json_atomic"]
