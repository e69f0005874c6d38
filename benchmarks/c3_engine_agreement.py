r"""Do two C3 regime maps agree within seed noise? (the TFQ-path map vs the vectorised-engine map)

Command (from the repository root)::

    .venv/bin/python -m benchmarks.c3_engine_agreement BEFORE/results.json AFTER/results.json \
        [--out benchmarks/results/c3_engine_agreement.json]

For every (cell, arm) present in both maps — cell = (dataset, quantum model, n_train, C, ε), arm = the
quantum model or a classical one — the mean private test accuracy over the 5 seeds of each map and

    z = (mean_after − mean_before) / √(sd_before²/n_before + sd_after²/n_after).

The two maps use the same tasks and seeds — the same data splits, initial weights and Poisson
batches — but not the same noise stream (the TF Privacy Gaussian query then, the per-run NumPy
generator now) nor the same simulator (TFQ then, tensorcircuit-ng now). If the engines agree the
differences are seed noise: z is at most about t-distributed with 8 degrees of freedom (|z| > 2.31
in at most about 5 % of (cell, arm) pairs; fewer, since the shared batches correlate the two runs of
a seed and the unpaired SE overstates the noise), and the mean difference over all pairs — where a
systematic engine difference would show — is near 0 within its standard error. Writes the JSON, a Markdown summary and a PNG (z
histogram against the t₈ density; before vs after means).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from benchmarks import harness

RESULTS = Path(__file__).parent / "results" / "c3_engine_agreement.json"
T8_975 = 2.306  # the two-sided 5 % point of Student's t with 8 degrees of freedom


def _arms(path: Path) -> dict:
    """(dataset, quantum model, n_train, clip, ε, arm) → accuracy summary {mean, sd, n}."""
    claims = json.loads(Path(path).read_text())["claims"]["C3"]["numbers"]["cells"]
    out = {}
    for cell in claims:
        key = (cell["dataset"], cell["quantum_model"], cell["n_train"], str(cell["clip"]), float(cell["epsilon"]))
        for arm in [cell["quantum"], *cell["classical"]]:
            out[key + (arm["model"],)] = arm["accuracy"]
    return out


def compare(before: Path, after: Path) -> dict:
    a, b = _arms(before), _arms(after)
    rows = []
    for key in sorted(set(a) & set(b), key=str):
        x, y = a[key], b[key]
        se = math.sqrt(x["sd"] ** 2 / x["n"] + y["sd"] ** 2 / y["n"])
        diff = y["mean"] - x["mean"]
        rows.append({"cell": list(key[:5]), "arm": key[5], "before": x["mean"], "after": y["mean"], "difference": diff,
                     "z": diff / se if se > 0 else (0.0 if diff == 0 else math.inf)})
    z = np.array([r["z"] for r in rows])
    diffs = np.array([r["difference"] for r in rows])
    finite = z[np.isfinite(z)]
    return {
        "before": str(before), "after": str(after), "pairs": len(rows),
        "only_before": len(set(a) - set(b)), "only_after": len(set(b) - set(a)),
        "mean_difference": float(np.mean(diffs)), "median_abs_difference": float(np.median(np.abs(diffs))),
        "mean_difference_se": float(np.std(diffs, ddof=1) / math.sqrt(len(diffs))),
        "fraction_abs_z_over_t8_975": float(np.mean(np.abs(finite) > T8_975)),
        "z_sd": float(np.std(finite, ddof=1)), "rows": rows,
    }


def plot(result: dict, path: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats

    z = np.array([r["z"] for r in result["rows"] if math.isfinite(r["z"])])
    before = np.array([r["before"] for r in result["rows"]])
    after = np.array([r["after"] for r in result["rows"]])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    bins = np.linspace(-5, 5, 41)
    left.hist(z, bins=bins, density=True, alpha=0.7, label=f"{len(z)} (cell, arm) pairs")
    grid = np.linspace(-5, 5, 200)
    left.plot(grid, stats.t.pdf(grid, 8), "k--", label="Student t, 8 d.o.f. (no difference)")
    left.set_xlabel("z = (after − before) / SE")
    left.legend(fontsize=8)
    right.scatter(before, after, s=8, alpha=0.6)
    right.plot([0.4, 1.0], [0.4, 1.0], "k:", lw=1)
    right.set_xlabel("mean test accuracy, TFQ path (before)")
    right.set_ylabel("mean test accuracy, vectorised engine (after)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"z": z.tolist(), "before": before.tolist(), "after": after.tolist()}


def markdown(result: dict, command: str) -> str:
    return "\n".join([
        f"Command: `{command}`", "",
        f"{result['pairs']} (cell, arm) pairs in both maps ({result['only_before']} only before, "
        f"{result['only_after']} only after).", "",
        "| figure | value | if the engines agree |", "|---|---|---|",
        f"| mean difference after − before | {result['mean_difference']:+.4f} (SE {result['mean_difference_se']:.4f}) | ≈ 0 |",
        f"| median absolute difference | {result['median_abs_difference']:.4f} | seed noise (sd 0.03–0.12 per arm) |",
        f"| share of pairs with \\|z\\| > {T8_975} | {result['fraction_abs_z_over_t8_975']:.3f} | ≈ 0.05 |",
        f"| sd of z | {result['z_sd']:.3f} | ≈ 1.15 (t₈) |",
    ])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = compare(args.before, args.after)
    command = f".venv/bin/python -m benchmarks.c3_engine_agreement {args.before} {args.after}"
    result["command"] = command
    result["plotted"] = plot(result, args.out.with_suffix(".png"))
    harness.atomic_write_json(args.out, result)
    text = markdown(result, command)
    harness.atomic_write_text(args.out.with_suffix(".md"), text + "\n")
    print(text)


if __name__ == "__main__":
    main()
