"""A quick comparison for ``privqml demo``: a quantum and a matched classical model, one ε, one C.

Both models are trained by :func:`privqml.models.training.trainer.train` on the default task with the
same privacy budget (ε, δ), the same Poisson sampling, the same number of steps and the same
clipping threshold C — the quantum model's loss-gradient bound (the classical model's
``clip="bound"`` resolves to the bound of the quantum model it is matched to). About 20 s on two
CPU cores with the defaults (hea 4 qubits vs mlp, 10 epochs). One seed, a smoke-level comparison:
the claim-level check, with seeds and confidence intervals, is :mod:`privqml.paper_checks`.
"""

from __future__ import annotations

import dataclasses

from privqml.models.training.trainer import DEFAULT_DATASET, RunResult, TrainConfig, train


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Quantum vs classical at one (ε, δ) and one C.

    Attributes:
        quantum, classical: the two runs.
        epsilon, delta: the target budget (each run reports ε by RDP and PLD).
        clip: the common clipping threshold C.
    """

    quantum: RunResult
    classical: RunResult
    epsilon: float
    delta: float
    clip: float

    @property
    def quantum_accuracy(self) -> float:
        return self.quantum.test_accuracy

    @property
    def classical_accuracy(self) -> float:
        return self.classical.test_accuracy

    def rows(self) -> list[dict]:
        out = []
        for run in (self.quantum, self.classical):
            meter = run.meter_summary()
            out.append({
                "model": run.model["name"], "family": run.model["family"], "n_weights": run.model["n_weights"],
                "test_accuracy": run.test_accuracy, "epsilon_rdp": run.privacy.epsilon_rdp,
                "epsilon_pld": run.privacy.epsilon_pld, "clip": run.clip,
                "clip_fraction_max": meter["clip_fraction_max"], "clip_bias_max": meter["clip_bias_max"],
                "seconds": run.timing["total_seconds"],
            })
        return out


def compare_at_epsilon(
    epsilon: float = 1.0,
    delta: float = 1e-5,
    dataset: str = DEFAULT_DATASET,
    quantum: str = "hea",
    classical: str = "mlp",
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 0.05,
    seed: int = 0,
    n_train: int | None = None,
    n_test: int | None = None,
    progress=None,
) -> Comparison:
    """Train ``quantum`` and ``classical`` (matched to it) at (ε, δ) with C = the quantum bound."""
    common = dict(dataset=dataset, epsilon=epsilon, delta=delta, clip="bound", epochs=epochs,
                  batch_size=batch_size, lr=lr, seed=seed, n_train=n_train, n_test=n_test)
    family, _, options = quantum.partition(":")
    match = f"match={family}" + (f",{options}" if options else "")
    q_run = train(TrainConfig(model=quantum, **common), progress=progress)
    c_run = train(TrainConfig(model=f"{classical}:{match}", **common), progress=progress)
    assert abs(q_run.clip - c_run.clip) < 1e-12, (q_run.clip, c_run.clip)
    return Comparison(q_run, c_run, float(epsilon), float(delta), float(q_run.clip))


__all__ = ["Comparison", "compare_at_epsilon"]
