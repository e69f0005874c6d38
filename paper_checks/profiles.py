"""Profiles: how much of each check to run — ``demo``, ``quick``, ``full``.

A profile only sets sizes (seeds, grids, epochs, trials); the protocol, the task records and
the verdict rules are the same for all three. Task records carry every parameter that
determines a result, never the profile's name, so a ``quick`` run reuses any ``demo`` result
whose record it shares (and ``full`` those of ``quick``) when they write to the same directory.

- ``demo``: one seed, two ε, short training — a few minutes on 2 cores. Its verdicts are marked
  *indicative*: with one seed there is no interval and no test.
- ``quick``: 5 seeds, four finite ε (0.1 … 8) and two clips on two tasks, at CI-like sizes — a small
  regime map that already shows the trend along ε; under 15 minutes on 2 cores (measured; see
  paper_checks/README.md).
- ``full``: larger grids and more audit trials; C3 is a regime map (:data:`C3_FULL_BLOCKS`) — the
  wall time is stated in paper_checks/README.md.

**The full C3 regime map** is not a full factorial (7 ε × 5 C × 3 n × 4 quantum models × 4 tasks
× 3 arms × seeds would take days on 2 cores). It is a *centre-and-axes* design:

- at the central setting of each task (4 qubits, n_train = 400, the quantum family that learns the
  task — ``hea`` for ``quantum`` and digits, ``reupload`` for ``circle``, on which ``hea`` stays at
  chance) the whole ε × C plane: ε ∈ {0.1, 0.2, 0.5, 1, 2, 4, 8} (and ∞, the reference) ×
  C ∈ {G*/4, G*, 4·G*, 0.5, 0.1};
- around it, one axis at a time at C = G* and ε ∈ {0.5, 2, 8}: n_train ∈ {200, 1600} (on the
  ``quantum`` task: digits have the size of their split), the model (``reupload`` at 4 qubits,
  ``hea`` and ``reupload`` at 8 qubits, on ``quantum``) and the features (digits 3v5 at 8 features,
  ``hea`` at 8 qubits).

Why: the claim is about the privacy regime (ε, C), so that plane is mapped whole where the models
learn; the other axes ask whether the answer moves with data, model and size, which a line
through the centre shows at a fraction of the cost. All cells form one Holm family, so every cell
added costs power: the axes carry three ε each, enough to show a trend.
"""

from __future__ import annotations

import dataclasses
import functools

from privqml.errors import ConfigError
from privqml.paper_checks.learning_rate import LRRule
from privqml.paper_checks.regimes import Block, ConfirmSettings, Design


@dataclasses.dataclass(frozen=True)
class Profile:
    """Sizes of one paper-check run.

    Attributes:
        name: ``demo`` | ``quick`` | ``full``.
        indicative: verdicts rest on one seed (no intervals).
        seeds: replicates per setting (C3; C2 uses ``c2_seeds``).
        n_train, n_test: examples per split (synthetic tasks; digits uses its own split sizes);
            C3's n_train is its blocks'.
        epochs: training epochs (C3), batch_size: the *expected* Poisson batch size L,
        learning_rate: Adam step size (C2; C3 without a learning-rate rule), delta: the δ of every (ε, δ).
        c1_*: the audit — mechanisms run beside DP-SGD, trials, shots, depolarising strength.
        c2_*: the clipping-bias check — families, task kinds (dataset specs), clip/G* ratios.
        c3_blocks: the accuracy comparison's regime map (:class:`~privqml.paper_checks.regimes.Block`:
            task, quantum arm, classical arms, n_train, ε grid, clips; ε = ∞ is always run).
        c3_lr_rule: the public learning-rate rule of every C3 arm (None: ``learning_rate``).
        c3_confirm: the confirmation stage of C3 (:mod:`privqml.paper_checks.staged`), or None for the
            exploration map alone (the demo: one seed gives no sd to plan with).
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
    c3_blocks: tuple[Block, ...]
    c3_lr_rule: LRRule | None
    c3_confirm: ConfirmSettings | None = None
    #: the families and C3 blocks :meth:`with_device` left noiseless only, each with why (listed in report.md)
    device_skipped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.seeds < 1 or self.c2_seeds < 1:
            raise ConfigError(f"profile {self.name}: seeds={self.seeds} and c2_seeds={self.c2_seeds} must be >= 1")
        if not self.c3_blocks:
            raise ConfigError(f"profile {self.name}: c3_blocks is empty; give at least one block")
        if not any(r >= 1 for r in self.c2_clip_ratios) or not any(r < 1 for r in self.c2_clip_ratios):
            raise ConfigError(f"profile {self.name}: c2_clip_ratios need values both >= 1 and < 1 (clip / bound)")

    def to_json(self) -> dict:
        """Every setting by name (``profile_settings`` in results.json)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    def with_model(self, spec: str) -> "Profile":
        """This profile with ``spec`` (a built-in or a user's ``file.py:function``) as the quantum model of every
        claim: C1's audited model, C2's only family, and the quantum arm of every C3 block (its classical arms
        re-matched to it; blocks that become equal are run once). The tasks, sizes and grids stay the profile's."""
        blocks = []
        for block in self.c3_blocks:
            classical = tuple(dict.fromkeys(c.partition(":")[0] for c in block.classical))
            replaced = dataclasses.replace(block, quantum=spec, classical=classical)
            if replaced not in blocks:
                blocks.append(replaced)
        return dataclasses.replace(self, c1_model=spec, c2_families=(spec,), c3_blocks=tuple(blocks))

    def with_device(self, device: str) -> "Profile":
        """This profile on a Google device beside the noiseless one: C1 audits the profile's model placed on
        ``device`` (:func:`privqml.theory.devices.on_device`), C2 runs every family noiseless and on the device,
        and every C3 block gets a twin whose quantum arm is on the device, against the same classical families matched
        to it (their runs are the twin's own: its C = G* is the device model's)."""
        from privqml.models.specs import with_options

        on = functools.partial(with_options, device=device)
        # a device run trains on exact density matrices of circuits with hundreds of channels, far slower than a
        # noiseless one: the confirmation is sized for effects of at least DEVICE_EFFECT (fewer fresh seeds: n ∝ 1/effect²), fixed
        # here — before any run — so the plan stays pre-registered
        confirm = self.c3_confirm if self.c3_confirm is None else dataclasses.replace(
            self.c3_confirm, effect=max(self.c3_confirm.effect, DEVICE_EFFECT),
            seed_cap=min(self.c3_confirm.seed_cap, DEVICE_SEED_CAP))
        # the twin's classical arms are matched to the device model: their own runs, at its C = G*
        # (a block whose quantum arm cannot be placed, or is wider than DEVICE_MAX_QUBITS, gets no twin)
        twin_refusals = {block: _device_refusal(block.quantum, device) for block in self.c3_blocks}
        twins = tuple(dataclasses.replace(block, quantum=on(block.quantum),
                                          classical=tuple(dict.fromkeys(c.partition(":")[0] for c in block.classical)))
                      for block in self.c3_blocks if twin_refusals[block] is None)
        refusals = {f: _device_refusal(f, device) for f in self.c2_families}
        skipped = [f"{f}: {why}" for f, why in refusals.items() if why]
        skipped += [f"C3 block {b.dataset} | {b.quantum} | n={b.n_train}: {why}" for b, why in twin_refusals.items() if why]
        return dataclasses.replace(self, c1_model=on(self.c1_model),
                                   c2_families=self.c2_families + tuple(on(f) for f in self.c2_families
                                                                        if refusals[f] is None),
                                   device_skipped=tuple(dict.fromkeys(skipped)),
                                   c3_blocks=self.c3_blocks + twins, c3_confirm=confirm)

    def c3_design(self) -> Design:
        """C3's comparison as a :class:`~privqml.paper_checks.regimes.Design` (claim ``c3``)."""
        return Design("c3", self.c3_blocks, self.seeds, self.epochs, self.batch_size, self.delta, self.n_test,
                      self.c3_lr_rule, self.learning_rate)


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
)


def _device_refusal(spec: str, device: str) -> str | None:
    """Why the quantum model of ``spec`` cannot be placed on ``device`` (``native``'s parametrised FSim gates have
    no fixed decomposition to compile), or None — decided before any run, so no task fails on it."""
    from privqml.errors import ConfigError, UnsupportedGateError
    from privqml.models.specs import QUANTUM_FAMILIES, parse_model_spec
    from privqml.theory.builtins import builtin_ansatz
    from privqml.theory.devices import on_device

    family, options = parse_model_spec(spec)
    if family not in QUANTUM_FAMILIES:
        return None  # a user's ansatz (--model file.py:f) is placed when its model is built: its error names it
    sizes = {k: options[k] for k in ("n_qubits", "n_layers") if k in options}
    ansatz = builtin_ansatz(family, **sizes)
    if ansatz.n_qubits > DEVICE_MAX_QUBITS:
        return (f"{ansatz.n_qubits} qubits: exact density matrices of more than {DEVICE_MAX_QUBITS} qubits with the "
                "device's hundreds of channels are beyond a profile's budget (run it with --model and --device)")
    try:
        on_device(ansatz, device)
    except (UnsupportedGateError, ConfigError) as error:
        return str(error).split(";")[0]
    return None


#: the smallest accuracy difference a confirmation on a device is sized for, and its cap on fresh seeds per cell
#: (:meth:`Profile.with_device`)
DEVICE_EFFECT = 0.06
DEVICE_SEED_CAP = 80
#: the widest quantum model a profile's device arm trains (density matrices of 2^n × 2^n)
DEVICE_MAX_QUBITS = 4

_ARMS = ("mlp", "logistic")
C3_EPSILONS = (0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
C3_CLIPS = ("0.25xbound", "bound", "4xbound", 0.5, 0.1)
_AXIS = dict(epsilons=(0.5, 2.0, 8.0), clips=("bound",))

#: The full profile's regime map (module docstring): the ε × C plane per task, then one axis at a time.
C3_FULL_BLOCKS = (
    Block("quantum", "hea", _ARMS, 400, C3_EPSILONS, C3_CLIPS),
    Block("circle", "reupload", _ARMS, 400, C3_EPSILONS, C3_CLIPS),
    Block("digits:3v5", "hea", _ARMS, 400, C3_EPSILONS, C3_CLIPS),
    Block("quantum", "hea", _ARMS, 200, axis="n_train", **_AXIS),
    Block("quantum", "hea", _ARMS, 1600, axis="n_train", **_AXIS),
    Block("quantum", "reupload", _ARMS, 400, axis="model", **_AXIS),
    Block("quantum", "hea:n_qubits=8", _ARMS, 400, axis="model", **_AXIS),
    Block("quantum", "reupload:n_qubits=8", _ARMS, 400, axis="model", **_AXIS),
    Block("digits:3v5", "hea:n_qubits=8", _ARMS, 400, axis="features", **_AXIS),
)

PROFILES: dict[str, Profile] = {
    "demo": Profile(
        name="demo", indicative=True, seeds=1, n_train=200, n_test=200, epochs=6, batch_size=32,
        c1_trials=150, c1_trials_depolarizing=60,
        c2_families=("hea", "reupload"), c2_datasets=("quantum", "digits:0,1,2"),
        c2_clip_ratios=(0.1, 1.0), c2_epochs=1, c2_epsilon=2.0, c2_seeds=1,
        c3_blocks=tuple(Block(d, "hea", _ARMS, 200, (1.0, 8.0), ("bound",)) for d in ("quantum", "digits:0v1")),
        c3_lr_rule=LRRule(grid=(0.05, 0.2), epochs=3),
        **_COMMON,
    ),
    "quick": Profile(
        name="quick", indicative=False, seeds=5, n_train=200, n_test=1000, epochs=5, batch_size=32,
        c1_trials=500, c1_trials_depolarizing=300,
        c2_families=("hea", "reupload", "native"), c2_datasets=("quantum", "digits:0,1,2"),
        c2_clip_ratios=(0.03, 0.1, 0.3, 1.0), c2_epochs=2, c2_epsilon=2.0, c2_seeds=1,
        c3_blocks=tuple(Block(d, "hea", _ARMS, 200, (0.1, 0.5, 2.0, 8.0), ("bound", 0.5))
                        for d in ("quantum", "digits:0v1")),
        c3_lr_rule=LRRule(grid=(0.01, 0.05, 0.2), epochs=4),
        c3_confirm=ConfirmSettings(max_cells=4, seed_cap=200),
        **_COMMON,
    ),
    "full": Profile(
        name="full", indicative=False, seeds=5, n_train=400, n_test=2000, epochs=6, batch_size=32,
        c1_trials=3000, c1_trials_depolarizing=1000,
        c2_families=("hea", "reupload", "native"), c2_datasets=("quantum", "circle", "digits:0,1,2"),
        c2_clip_ratios=(0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 1.5), c2_epochs=5, c2_epsilon=2.0, c2_seeds=2,
        c3_blocks=C3_FULL_BLOCKS, c3_lr_rule=LRRule(grid=(0.01, 0.05, 0.2), epochs=5),
        c3_confirm=ConfirmSettings(max_cells=6, seed_cap=400),
        **_COMMON,
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"profile={name!r} unknown; choose one of {list(PROFILES)}") from None
