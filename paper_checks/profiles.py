"""Profiles: how much of each check to run — ``demo``, ``quick``, ``full``.

A profile only sets sizes (seeds, grids, epochs, trials); the protocol, the task records and
the verdict rules are the same for all three. Task records carry every parameter that
determines a result, never the profile's name, so a ``quick`` run reuses any ``demo`` result
whose record it shares (and ``full`` those of ``quick``) when they write to the same directory.

- ``demo``: one seed, two ε, short training — a few minutes on 2 cores. Its verdicts are marked
  *indicative*: with one seed there is no interval and no test.
- ``quick``: 5 seeds, two finite ε and two clips, at CI-like sizes — under 15 minutes on 2 cores
  (measured; see paper_checks/README.md).
- ``full``: 8 seeds, larger grids, longer training and more audit trials — the wall time is
  stated in paper_checks/README.md.
"""

from __future__ import annotations

import dataclasses
import math

from privqml.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Profile:
    """Sizes of one paper-check run.

    Attributes:
        name: ``demo`` | ``quick`` | ``full``.
        indicative: verdicts rest on one seed (no intervals).
        seeds: replicates per setting (C3; C2 uses ``c2_seeds``).
        n_train, n_test: examples per split (synthetic tasks; digits uses its own split sizes).
        epochs: training epochs (C3), batch_size: the *expected* Poisson batch size L,
        learning_rate: SGD step size, delta: the δ of every (ε, δ).
        c1_*: the audit — mechanisms run beside DP-SGD, trials, shots, depolarising strength.
        c2_*: the clipping-bias check — families, task kinds (dataset specs), clip/G* ratios.
        c3_*: the accuracy comparison — datasets, models, clips (``"bound"`` or a number), ε grid
            (``inf`` = no privacy: no clipping and no noise, the retention reference).
    """

    name: str
    indicative: bool
    seeds: int
    n_train: int
    n_test: int
    epochs: int
    batch_size: int
    learning_rate: float
    delta: float
    c1_model: str
    c1_mechanisms: tuple[str, ...]
    c1_trials: int
    c1_trials_depolarizing: int
    c1_shots: int
    c1_depolarizing: float
    c1_trajectories: int
    c1_epsilon: float
    c1_batch_size: int
    c1_n_train: int
    c1_counterexample_shots: tuple[int, ...]
    c2_families: tuple[str, ...]
    c2_datasets: tuple[str, ...]
    c2_clip_ratios: tuple[float, ...]
    c2_classical: tuple[str, ...]
    c2_epochs: int
    c2_epsilon: float
    c2_seeds: int
    c3_datasets: tuple[str, ...]
    c3_quantum: str
    c3_classical: str
    c3_clips: tuple[object, ...]
    c3_epsilons: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.seeds < 1 or self.c2_seeds < 1:
            raise ConfigError(f"profile {self.name}: seeds={self.seeds} and c2_seeds={self.c2_seeds} must be >= 1")
        if math.inf not in self.c3_epsilons:
            raise ConfigError(f"profile {self.name}: c3_epsilons must include inf (the non-private reference)")
        if not any(r >= 1 for r in self.c2_clip_ratios) or not any(r < 1 for r in self.c2_clip_ratios):
            raise ConfigError(f"profile {self.name}: c2_clip_ratios need values both >= 1 and < 1 (clip / bound)")

    def to_json(self) -> dict:
        """Every setting by name (``profile_settings`` in results.json)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


_COMMON = dict(
    learning_rate=0.05,
    delta=1e-5,
    c1_model="hea:n_qubits=2,n_layers=1",
    c1_mechanisms=("dpsgd", "shots", "depolarizing"),
    c1_shots=100,
    c1_depolarizing=0.05,
    c1_trajectories=20,
    c1_epsilon=2.0,
    c1_batch_size=8,
    c1_n_train=64,
    c1_counterexample_shots=(1, 10, 100, 1000),
    c2_classical=("mlp",),
    c3_quantum="hea",
    c3_classical="mlp",
)

PROFILES: dict[str, Profile] = {
    "demo": Profile(
        name="demo", indicative=True, seeds=1, n_train=200, n_test=200, epochs=6, batch_size=32,
        c1_trials=150, c1_trials_depolarizing=60,
        c2_families=("hea", "reupload"), c2_datasets=("quantum", "digits:0,1,2"),
        c2_clip_ratios=(0.1, 1.0), c2_epochs=1, c2_epsilon=2.0, c2_seeds=1,
        c3_datasets=("quantum", "digits:0v1"), c3_clips=("bound",), c3_epsilons=(1.0, 8.0, math.inf),
        **_COMMON,
    ),
    "quick": Profile(
        name="quick", indicative=False, seeds=5, n_train=200, n_test=200, epochs=8, batch_size=32,
        c1_trials=500, c1_trials_depolarizing=300,
        c2_families=("hea", "reupload", "native"), c2_datasets=("quantum", "digits:0,1,2"),
        c2_clip_ratios=(0.03, 0.1, 0.3, 1.0), c2_epochs=2, c2_epsilon=2.0, c2_seeds=1,
        c3_datasets=("quantum", "digits:0v1"), c3_clips=("bound", 0.5), c3_epsilons=(1.0, 4.0, math.inf),
        **_COMMON,
    ),
    "full": Profile(
        name="full", indicative=False, seeds=8, n_train=400, n_test=300, epochs=15, batch_size=32,
        c1_trials=3000, c1_trials_depolarizing=1000,
        c2_families=("hea", "reupload", "native"), c2_datasets=("quantum", "circle", "digits:0,1,2"),
        c2_clip_ratios=(0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 1.5), c2_epochs=5, c2_epsilon=2.0, c2_seeds=2,
        c3_datasets=("quantum", "circle", "digits:0v1", "digits:3v5"), c3_clips=("bound", 0.5, 0.1),
        c3_epsilons=(0.5, 1.0, 2.0, 4.0, 8.0, math.inf),
        **_COMMON,
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"profile={name!r} unknown; choose one of {list(PROFILES)}") from None
