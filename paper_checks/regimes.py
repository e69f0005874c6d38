r"""Regime maps: where does a quantum model keep more accuracy than classical ones under DP-SGD?

The paper's fixed-C, fixed-ε protocol as an engine. A comparison is a :class:`Design`: blocks of
cells, each block one task, one quantum arm, its classical arms and one n_train, over a grid of
(ε, C); replicates r = 0..n−1. The engine turns a design into task records (:func:`tasks`) that a
resumable sweep runs, and the sweep's results into a :class:`RegimeMap` (:func:`analyse`, pure);
:mod:`privqml.paper_checks.regime_report` renders a map (tables, heatmap, causes plot, JSON).

**Pairing.** Every run of replicate r of one task takes its seed from the task's dataset and r
alone (``Task.int_seed("dataset")``): the arms of a cell share the data split, the Poisson draws
and the noise stream (common random numbers; the runs are labelled *simulations* of DP training).

**Clips.** A cell's C is the same for every arm: a number, or a multiple k·G* of the quantum
arm's loss-gradient bound G* (data-free; a classical arm uses the G* of the quantum model it is
matched to), written ``bound`` (k = 1) or ``<k>xbound`` (``0.25xbound``, ``4xbound``). A record
of such a cell pins G*'s *value* (``g_star``, computed when the task list is made), so every run
of a cell trains at one C even if the theory's bound changes between runs of a resumed sweep: a
changed bound makes new records (new runs), never a cell that mixes two C values.

**Fair arms.** Each arm trains at the learning rate the public rule of
:mod:`privqml.paper_checks.learning_rate` chose for it (never on private data), or at one given
learning rate.

:mod:`privqml.paper_checks.regime_analysis` turns the runs of a design into a regime map (cells,
Holm-adjusted tests, per-cell and overall verdicts, causes).
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from privqml import validation
from privqml.errors import ConfigError
from privqml.models.specs import matched_spec
from privqml.paper_checks.learning_rate import LRRule
from privqml.paper_checks.protocol import Task

_BOUND_RE = re.compile(r"^\s*(?:([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*[x*×]\s*)?(?:bound|G\*)\s*$", re.IGNORECASE)



# -- clips ----------------------------------------------------------------------------------
def parse_clip(value: Any) -> str | float:
    """A clip choice: ``"bound"``, ``"<k>xbound"`` (k > 0; ``"1xbound"`` is ``"bound"``) or a number > 0
    inside the range where float32 clipping is exact (:func:`privqml.validation.clip_norm`; a multiple's
    value k·G* is checked when a record pins G*).

    Raises ConfigError naming the value and what to write instead.
    """
    if isinstance(value, str):
        match = _BOUND_RE.match(value)
        if match:
            ratio = float(match.group(1)) if match.group(1) else 1.0
            if not math.isfinite(ratio) or ratio <= 0:
                raise ConfigError(f"clip={value!r}: the multiple of the bound must be > 0, e.g. 0.25xbound")
            return "bound" if ratio == 1.0 else f"{ratio:g}xbound"
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"clip={value!r} is not a clip; write a number > 0, 'bound' or a multiple of it "
                              "such as 0.25xbound or 4xbound") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"clip={value!r} must be a finite number > 0, 'bound' or a multiple such as 4xbound; "
                          "a clip computed from the training data is a privacy leak and is refused")
    return validation.clip_norm("clip", float(value))


def bound_ratio(clip: str | float) -> float | None:
    """k of a bound multiple (``"bound"``: 1), None for a number."""
    if isinstance(clip, str):
        return 1.0 if clip == "bound" else float(clip[: -len("xbound")])
    return None


def clip_params(clip: str | float, g_star: float | None = None) -> dict[str, Any]:
    """The task-record parameters of a clip: ``clip_ratio`` (and, given, the pinned value ``g_star``
    of G*) for a bound multiple, ``clip`` for a number."""
    ratio = bound_ratio(clip)
    if ratio is None:
        return {"clip": float(clip)}
    return {"clip_ratio": ratio} if g_star is None else {"clip_ratio": ratio, "g_star": float(g_star)}


def bound_value(quantum: str, dataset: str) -> float:
    """G* of the quantum model ``quantum`` on ``dataset``'s number of classes: the value the records
    of a block's bound-multiple cells pin (data-free; derived once per process and pair)."""
    from privqml.models.data import dataset_classes  # light
    from privqml.paper_checks.training import reference_bound  # TensorFlow: only for designs that clip at k·G*

    try:
        return reference_bound(quantum, dataset_classes(dataset))
    except ValueError as exc:  # no finite bound: a k·G* clip cannot be formed
        raise ConfigError(f"quantum={quantum!r} on dataset={dataset!r} has no finite loss-gradient bound G* ({exc}); "
                          "give numeric clips instead of bound multiples") from None


def clip_label(clip: str | float, value: float | None = None) -> str:
    """``G*``, ``0.25 G*`` or ``0.5``; with the value of a bound multiple in brackets."""
    ratio = bound_ratio(clip)
    if ratio is None:
        return f"{float(clip):g}"
    name = "G*" if ratio == 1 else f"{ratio:g}·G*"
    return f"{name} ({value:.3g})" if value is not None else name


def task_clip(task: Task) -> str | float | None:
    """The clip of a stored task record in :func:`parse_clip` form (None: the non-private reference)."""
    if task.get("clip_ratio") is not None:
        ratio = float(task["clip_ratio"])
        return "bound" if ratio == 1.0 else f"{ratio:g}xbound"
    clip = task.get("clip")
    if clip is None:
        return None
    return "bound" if clip == "bound" else float(clip)


# -- the design -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Block:
    """One block of a regime map: a task, a quantum arm, its classical arms, n_train and the (ε, C) grid.

    Attributes:
        dataset: the task (dataset spec).
        quantum: the quantum model spec (``hea``, ``reupload:n_qubits=8``).
        classical: classical model specs (:func:`matched_spec` matches bare families to ``quantum``).
        n_train: training examples (synthetic tasks; digits have the size of their split).
        epsilons: the finite target ε of the cells (ε = ∞ is always run as the reference).
        clips: the clips (:func:`parse_clip` forms).
        axis: what the block varies around the central setting (``centre``, ``n_train``,
            ``model``, ``features``, or a user's label).
    """

    dataset: str
    quantum: str
    classical: tuple[str, ...]
    n_train: int
    epsilons: tuple[float, ...]
    clips: tuple[Any, ...]
    axis: str = "centre"

    def __post_init__(self) -> None:
        if not self.classical:
            raise ConfigError(f"block {self.dataset}/{self.quantum}: give at least one classical model")
        object.__setattr__(self, "classical", tuple(matched_spec(c, self.quantum) for c in self.classical))
        finite = tuple(float(e) for e in self.epsilons if math.isfinite(float(e)))
        if not finite:
            raise ConfigError(f"block {self.dataset}/{self.quantum}: give at least one finite epsilon")
        object.__setattr__(self, "epsilons", finite)
        object.__setattr__(self, "clips", tuple(parse_clip(c) for c in self.clips))

    @property
    def arms(self) -> tuple[str, ...]:
        return (self.quantum, *self.classical)

    @property
    def name(self) -> str:
        return f"{self.dataset} | {self.quantum} | n={self.n_train}"


@dataclasses.dataclass(frozen=True)
class Design:
    """A comparison: its blocks and the settings every run shares.

    Attributes:
        claim: the task records' claim label (their output sub-directory), e.g. ``c3``, ``compare``.
        blocks: the blocks (cells shared by two blocks are run and tested once).
        seeds: replicates per setting.
        epochs, batch_size (expected Poisson batch L), delta, n_test: shared training settings.
        lr_rule: the public learning-rate rule, or None to train every arm at ``lr``.
        lr: the learning rate when ``lr_rule`` is None.
    """

    claim: str
    blocks: tuple[Block, ...]
    seeds: int
    epochs: int
    batch_size: int
    delta: float
    n_test: int
    lr_rule: LRRule | None = LRRule()
    lr: float = 0.05

    def __post_init__(self) -> None:
        if not self.blocks:
            raise ConfigError("a comparison needs at least one block")
        if self.seeds < 1:
            raise ConfigError(f"seeds={self.seeds} must be >= 1")

    def to_json(self) -> dict[str, Any]:
        return jsonable(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class ConfirmSettings:
    """What the plan is sized for (:func:`~privqml.paper_checks.confirmation.make_plan`).

    Attributes:
        max_cells: at most this many cells confirmed (⌈m/2⌉ where quantum looks ahead, ⌊m/2⌋ where
            classical looks ahead or equal).
        effect: the smallest accuracy difference worth reporting; every planned test has power ≥
            ``power`` against it under Holm over the planned tests.
        power: the planned power.
        seed_cap: a cell needing more fresh seeds than this is not confirmed (said in the report).
        margin: the equivalence margin of the TOST (accuracy units).
        sd_confidence: plan with each arm's upper confidence bound of the exploration sd at this level
            (Browne 1995: a pilot's sd is too small about half the time; 0.8 as recommended), or None
            for the sample sd itself.
    """

    max_cells: int = 6
    effect: float = 0.03
    power: float = 0.8
    seed_cap: int = 400
    margin: float = 0.02  # privqml.paper_checks.stats.MARGIN (SciPy-free here: profiles load this module)
    sd_confidence: float | None = 0.8

    def __post_init__(self) -> None:
        validation.integer("max_cells", self.max_cells, 1, hint="cells to confirm, e.g. 6")
        validation.positive("effect", self.effect, hint="the smallest accuracy difference worth reporting, e.g. 0.03")
        validation.in_interval("power", self.power, 0.0, 1.0, lo_open=True, hi_open=True)
        validation.integer("seed_cap", self.seed_cap, 2, hint="the most fresh seeds one cell may take, e.g. 400")
        validation.positive("margin", self.margin, hint="the equivalence margin, e.g. 0.02")
        if self.sd_confidence is not None:
            validation.in_interval("sd_confidence", self.sd_confidence, 0.0, 1.0, lo_open=True, hi_open=True)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def jsonable(value: Any) -> Any:
    """Tuples as lists, recursively (for records' ``to_json``)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def run_params(design: Design, block: Block, model: str) -> dict[str, Any]:
    """The parameters every run record of ``model`` in ``block`` shares (all but replicate, ε and C)."""
    lr = design.lr_rule.to_params() if design.lr_rule is not None else {"lr": float(design.lr)}
    return dict(model=model, dataset=block.dataset, delta=design.delta, epochs=design.epochs,
                batch_size=design.batch_size, optimizer="adam", n_train=block.n_train, n_test=design.n_test, **lr)


def tasks(design: Design) -> list[Task]:
    """Every run of the design, once: per replicate, block and arm the reference (ε = ∞) and one run
    per (C, ε). Records shared by blocks (the central setting seen from an axis) appear once. A
    bound-multiple cell's records pin G* of the block's quantum arm (:func:`bound_value`), the same
    value for every arm of the cell.

    Replicate-major order: a sweep stopped part-way leaves whole replicates of every block, so the
    map it gives covers every cell with fewer seeds rather than some blocks not at all.
    """
    out: dict[str, Task] = {}
    g_stars = [bound_value(block.quantum, block.dataset) if any(bound_ratio(c) is not None for c in block.clips)
               else None for block in design.blocks]
    for r in range(design.seeds):
        for block, g_star in zip(design.blocks, g_stars):
            for model in block.arms:
                common = run_params(design, block, model)
                found = [Task.make(design.claim, "train", replicate=r, epsilon=math.inf, clip=None, **common)]
                found += [Task.make(design.claim, "train", replicate=r, epsilon=eps, **clip_params(clip, g_star),
                                    **common) for clip in block.clips for eps in block.epsilons]
                for task in found:
                    out.setdefault(task.key, task)
    return list(out.values())


__all__ = ["Block", "Design", "bound_ratio", "bound_value", "clip_label", "clip_params", "jsonable", "matched_spec", "run_params", "ConfirmSettings",
           "parse_clip", "task_clip", "tasks"]
