"""The learning-rate rule of a fair comparison: each arm's step size chosen on public data only.

A comparison of private models is only fair if each arm trains at a step size that suits it, and
only private if that step size is not tuned on the private training data (a tuned hyper-parameter
leaks; Papernot & Steinke, ICLR 2022). The rule here reads no private training example:

**Rule.** For an arm (a model spec) on a task, train the arm *without* privacy (no clipping, no
noise: public data need none) for ``epochs`` epochs, Adam, expected batch ``batch_size``, from the
arm's public initial weights, at every learning rate of ``grid`` on a public *fit* set; keep the
learning rate with the highest accuracy on a public *validation* set; ties go to the lower
validation loss, then to the smaller learning rate.

The public data (:func:`public_data`):

- synthetic tasks (``quantum``, ``circle``, ``linear``): a *public proxy task* — the task's own
  generator at the public seed :data:`PROXY_SEED`, ``n_fit`` + ``n_val`` examples drawn afresh.
  No private example is among them (they are new draws), and for ``quantum`` the teacher circuit
  is another random draw of the same family. The choice is therefore the same for every replicate.
- digits: the replicate's own public split — the seeded, stratified held-out share of the
  non-test examples on which both arms' PCA map is fitted (``preprocessing='public-split'``),
  mapped by that same public map, then split in halves (stratified, seeded) into fit and
  validation. The private training split and the test split are never read.
- files: not supported by the rule (their public part may have no labels); give the learning
  rate explicitly.

:func:`choose_lr` returns a :class:`LRChoice` (the grid, every accuracy and loss, the choice and
where the public data came from), cached per process: a sweep's tasks of one arm and task share it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from privqml import validation
from privqml.errors import ConfigError
from privqml.models.data import Dataset, SYNTHETIC_TASKS, digits_split, parse_digit_classes
from privqml.models.data.dataset import DEFAULT_FILL
from privqml.models.data.reduction import fit_map
from privqml.models.data.synthetic import synthetic

#: The public seed of the synthetic proxy tasks (a constant no replicate derives: replicate seeds
#: are hashes of the task record, see :meth:`privqml.paper_checks.protocol.Task.int_seed`).
PROXY_SEED = 20_261_201


@dataclasses.dataclass(frozen=True)
class LRRule:
    """The learning-rate rule's settings (module docstring).

    Attributes:
        grid: candidate learning rates (Adam step sizes), ascending.
        epochs: non-private epochs per candidate on the public fit set.
        batch_size: expected (Poisson) batch size of those runs.
        n_fit, n_val: sizes of the synthetic proxy task's fit and validation sets (digits use
            their public split, halved).
    """

    grid: tuple[float, ...] = (0.01, 0.05, 0.2)
    epochs: int = 5
    batch_size: int = 32
    n_fit: int = 200
    n_val: int = 200

    def __post_init__(self) -> None:
        if not self.grid:
            raise ConfigError("lr grid is empty; give at least one learning rate, e.g. 0.01,0.05,0.2")
        for lr in self.grid:
            validation.positive("lr", lr, hint="a learning rate of the grid, e.g. 0.05")
        object.__setattr__(self, "grid", tuple(sorted(float(v) for v in self.grid)))
        validation.integer("lr epochs", self.epochs, 1)
        validation.integer("lr batch_size", self.batch_size, 1)
        validation.size("n_fit", self.n_fit)
        validation.size("n_val", self.n_val)

    def to_params(self) -> dict[str, Any]:
        """The rule as task-record parameters (every setting that determines the choice)."""
        return {"lr_grid": self.grid, "lr_epochs": self.epochs, "lr_batch_size": self.batch_size,
                "lr_n_fit": self.n_fit, "lr_n_val": self.n_val}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "LRRule":
        return cls(tuple(params["lr_grid"]), int(params["lr_epochs"]), int(params["lr_batch_size"]),
                   int(params["lr_n_fit"]), int(params["lr_n_val"]))


@dataclasses.dataclass(frozen=True)
class PublicData:
    """The public examples the rule trains (``data.x_train``) and validates (``data.x_test``) on.

    ``source`` says in words what they are; ``rows`` are the rows of the source pool read (for
    digits the rows of scikit-learn's ``load_digits``; empty for a freshly drawn proxy task).
    """

    data: Dataset
    source: str
    rows: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class LRChoice:
    """The rule's outcome for one arm and task: ``lr`` and the evidence (validation accuracy and
    loss per grid value, in grid order), with the public data it came from."""

    lr: float
    grid: tuple[float, ...]
    accuracies: tuple[float, ...]
    losses: tuple[float, ...]
    source: str
    public_fingerprint: str
    n_fit: int
    n_val: int

    def to_json(self) -> dict[str, Any]:
        return {"lr": self.lr, "grid": list(self.grid), "validation_accuracy": list(self.accuracies),
                "validation_loss": list(self.losses), "source": self.source,
                "public_fingerprint": self.public_fingerprint, "n_fit": self.n_fit, "n_val": self.n_val}


def supports(dataset_spec: str) -> bool:
    """Whether the rule has public data for ``dataset_spec`` (synthetic tasks and digits)."""
    return dataset_spec in SYNTHETIC_TASKS or dataset_spec == "digits" or dataset_spec.startswith("digits:")


def _digits_public(spec: str, n_features: int, domain, seed: int) -> PublicData:
    """The replicate's public split of ``spec`` (:func:`~privqml.models.data.catalog.digits_split`, its rows and
    labels), mapped like the private runs, halved."""
    # scikit-learn (seconds to import) only where digits are used, like the data layer does
    from sklearn.model_selection import train_test_split

    raw = digits_split(spec, "public-split", seed)
    feature_map = fit_map(raw, n_features, domain, DEFAULT_FILL, seed)
    x, y = feature_map.transform(raw.x_public), raw.y_public
    fit, val = train_test_split(np.arange(len(y)), test_size=0.5, random_state=seed, stratify=y)
    data = Dataset(name=f"{raw.name} (public split)", x_train=x[fit], y_train=y[fit], x_test=x[val], y_test=y[val],
                   n_classes=raw.n_classes, feature_domain=tuple(domain), class_names=raw.class_names,
                   preprocessing=f"public split of {raw.name}: {raw.public_source}", seed=seed)
    return PublicData(data, f"the public split of {raw.name} at seed {seed} ({len(y)} examples: "
                      f"{len(fit)} fit, {len(val)} validation)", tuple(int(i) for i in raw.public_index))


def public_data(dataset_spec: str, model_spec: str, seed: int, rule: LRRule) -> PublicData:
    """The public fit/validation data of ``dataset_spec`` for ``model_spec`` (module docstring)."""
    # TensorFlow and TFQ come with the model zoo: only in the process that trains (not the report)
    from privqml.models.zoo import build_model

    if not supports(dataset_spec):
        raise ConfigError(
            f"dataset={dataset_spec!r}: the public learning-rate rule needs a synthetic task or digits; "
            "give the learning rate explicitly (--lr NUMBER)"
        )
    model = build_model(model_spec, n_classes=2 if dataset_spec in SYNTHETIC_TASKS else len(
        parse_digit_classes(dataset_spec)))
    if dataset_spec in SYNTHETIC_TASKS:
        data = synthetic(dataset_spec, model.n_features, rule.n_fit, rule.n_val, PROXY_SEED, model.input_domain)
        return PublicData(data, f"public proxy task: {dataset_spec} drawn afresh at the public seed {PROXY_SEED} "
                          f"({rule.n_fit} fit, {rule.n_val} validation examples)")
    return _digits_public(dataset_spec, model.n_features, model.input_domain, seed)


def choice_seed(dataset_spec: str, seed: int) -> int:
    """The seed the rule uses: :data:`PROXY_SEED` for synthetic tasks (one choice for every
    replicate), the replicate's seed for digits (its own public split)."""
    return PROXY_SEED if dataset_spec in SYNTHETIC_TASKS else int(seed)


def choose_lr(model_spec: str, dataset_spec: str, seed: int, rule: LRRule) -> LRChoice:
    """:class:`LRChoice` of ``model_spec`` on ``dataset_spec`` for the replicate seeded ``seed``."""
    return _choose(model_spec, dataset_spec, choice_seed(dataset_spec, seed), rule)


@functools.lru_cache(maxsize=512)
def _choose(model_spec: str, dataset_spec: str, seed: int, rule: LRRule) -> LRChoice:
    # TensorFlow and TFQ come with the trainer: only in the process that trains (not the report)
    from privqml.models.training.records import TrainConfig
    from privqml.models.training.trainer import train_replicates

    public = public_data(dataset_spec, model_spec, seed, rule)
    data = public.data
    batch = min(rule.batch_size, data.n_train)
    scores = []
    configs = [TrainConfig(model=model_spec, dataset=dataset_spec, epsilon=math.inf, clip=1.0, epochs=rule.epochs,
                           batch_size=batch, lr=lr, optimizer="adam", seed=seed, simulation_seed=seed, meter_every=0)
               for lr in rule.grid]
    for run in train_replicates(configs, data=data):  # the grid's runs advance together, one call per step
        last = run.history[-1]
        loss = float(last["test_loss"])
        scores.append((float(last["test_accuracy"]), loss if math.isfinite(loss) else math.inf))
    best = min(range(len(rule.grid)), key=lambda i: (-scores[i][0], scores[i][1], rule.grid[i]))
    return LRChoice(rule.grid[best], rule.grid, tuple(s[0] for s in scores), tuple(s[1] for s in scores),
                    public.source, data.fingerprint(), data.n_train, data.n_test)


__all__ = ["LRChoice", "LRRule", "PROXY_SEED", "PublicData", "choice_seed", "choose_lr", "public_data", "supports"]
