"""Datasets for the models layer: the ``Dataset`` record and datasets by name.

Nothing is downloaded. Every dataset is a frozen :class:`Dataset` with integer class labels
0..K−1 and features already inside the model's *public* input domain (one closed interval per
feature, radians for angle encodings), so that the gradient bound — a sup over that domain —
covers every example.

Tasks (``load_dataset(spec, ...)``):

``quantum``     x ~ U(box)^n, y = 1[f*(x) > 0] with f*(x) = ⟨Z₀⟩ of a *random* hardware-efficient
                teacher circuit ``hea(n, 2)`` (weights ~ U(−π, π) from the seed, redrawn until the
                classes are balanced), points with |f*| < 0.05 rejected; computed with Cirq in
                complex128. The default ``hea`` model (2 layers) can represent it exactly.
``circle``      x ~ U(box)^n, y = 1[‖x‖₂ < r] with r the median radius (balanced classes).
``linear``      x ~ U(box)^n, y = 1[w·x > 0] with w ~ N(0, I) from the seed.
``digits:AvB``  scikit-learn's 8×8 digits (Alpaydin & Kaynak 1998), classes A and B → 0, 1.
``digits:A,B,C`` multi-class, labels in the order given. ``digits`` alone is ``digits:0v1``.
``path.npz``    arrays ``x_train, y_train, x_test, y_test``; reduced like digits.
``path.csv``    feature columns then an integer label column (optional header); seeded stratified
                70/30 split; reduced like digits.

The *box* is the central ``fill`` fraction of each domain interval (default one half: [−π/2, π/2]
for the default [−π, π]; the end points ±π of an angle encoding are the same rotation, so
filling the whole interval would make the extremes indistinguishable).

Reduction (digits, npz, csv): PCA to ``n_features`` components, then each component mapped
affinely from its training [min, max] onto the box, and clipped to the domain. Both steps are
fitted on the **training split only** (the test split never informs them). They are *not*
differentially private: the DP guarantee of a training run covers the gradient steps given the
fixed features, as in most DP-ML benchmarks; :attr:`Dataset.preprocessing` says so.

The generators live in :mod:`privqml.models.synthetic` and :mod:`privqml.models.reduction`
(their names are also reachable from here).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import pathlib
from typing import Sequence

import numpy as np

from privqml.errors import ConfigError, DataError

DEFAULT_FILL = 0.5
SYNTHETIC_TASKS = ("quantum", "circle", "linear")


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A train/test split with integer labels and features inside a public domain.

    Attributes:
        name: the spec it was loaded from (e.g. ``digits:3v5``).
        x_train, x_test: float64 arrays [n, n_features], each column inside ``feature_domain``.
        y_train, y_test: int64 arrays [n] with values in 0..n_classes−1.
        n_classes: K ≥ 2.
        feature_domain: the public (lo, hi) interval of every feature (the model's input domain).
        class_names: what each label stands for (e.g. ``("digit 3", "digit 5")``).
        preprocessing: what was fitted on which data, and what the DP guarantee does not cover.
        seed: the seed of the split and of any synthetic draw.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    feature_domain: tuple[tuple[float, float], ...]
    class_names: tuple[str, ...] = ()
    preprocessing: str = "none"
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass init
        for split in ("train", "test"):
            x = _check_features(getattr(self, f"x_{split}"), f"x_{split}")
            y = _check_labels(getattr(self, f"y_{split}"), f"y_{split}", self.n_classes)
            if x.shape[0] != y.shape[0]:
                raise DataError(
                    f"x_{split} has {x.shape[0]} rows but y_{split} has {y.shape[0]} labels; "
                    "give one label per example"
                )
            x.setflags(write=False)
            y.setflags(write=False)
            set_(f"x_{split}", x)
            set_(f"y_{split}", y)
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise DataError(
                f"x_train has {self.x_train.shape[1]} features but x_test has {self.x_test.shape[1]}"
            )
        if self.x_train.shape[0] == 0:
            raise DataError("x_train is empty; a training split needs at least one example")
        domain = tuple((float(lo), float(hi)) for lo, hi in self.feature_domain)
        if len(domain) != self.n_features:
            raise DataError(
                f"feature_domain has {len(domain)} intervals for {self.n_features} features"
            )
        for split in ("train", "test"):
            x = getattr(self, f"x_{split}")
            for j, (lo, hi) in enumerate(domain):
                if x.size and (x[:, j].min() < lo - 1e-9 or x[:, j].max() > hi + 1e-9):
                    raise DataError(
                        f"x_{split}[:, {j}] spans [{x[:, j].min():.4g}, {x[:, j].max():.4g}], "
                        f"outside the public domain [{lo:.4g}, {hi:.4g}]; rescale the features"
                    )
        set_("feature_domain", domain)
        present = np.unique(self.y_train)
        if present.size < 2:
            raise DataError(
                f"y_train holds only class(es) {present.tolist()}; a classifier needs >= 2 classes"
            )

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    def fingerprint(self) -> str:
        """SHA-256 of the arrays (identifies the exact split a run was trained on)."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def summary(self) -> dict:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint(),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "class_names": list(self.class_names),
            "class_balance_train": np.bincount(self.y_train, minlength=self.n_classes).tolist(),
            "preprocessing": self.preprocessing,
            "seed": self.seed,
        }


def _check_features(x, name: str) -> np.ndarray:
    try:
        x = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} cannot be read as numbers: {exc}") from exc
    if x.ndim != 2:
        raise DataError(f"{name} has shape {x.shape}; need a 2-D array of shape (n_examples, n_features)")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise DataError(
            f"{name} contains NaN or infinite values (first at row {bad[0]}, column {bad[1]}); "
            "clean or impute the features before training"
        )
    return x


def _check_labels(y, name: str, n_classes: int) -> np.ndarray:
    y_arr = np.asarray(y)
    if y_arr.ndim != 1:
        raise DataError(f"{name} has shape {y_arr.shape}; need a 1-D array of integer labels")
    if y_arr.size and not np.all(np.isfinite(y_arr.astype(np.float64))):
        raise DataError(f"{name} contains NaN or infinite labels")
    if y_arr.size and np.any(y_arr.astype(np.float64) != np.round(y_arr.astype(np.float64))):
        raise DataError(f"{name} has non-integer labels; use class indices 0..K-1")
    y_int = y_arr.astype(np.int64)
    if y_int.size and (y_int.min() < 0 or y_int.max() >= n_classes):
        raise DataError(
            f"{name} has labels in [{y_int.min()}, {y_int.max()}]; need 0..{n_classes - 1} "
            f"for n_classes={n_classes}"
        )
    return y_int


def _box(domain: Sequence[tuple[float, float]], fill: float) -> np.ndarray:
    """The central ``fill`` fraction of each interval, as a [n, 2] array."""
    lo = np.array([d[0] for d in domain], dtype=np.float64)
    hi = np.array([d[1] for d in domain], dtype=np.float64)
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    return np.stack([mid - fill * half, mid + fill * half], axis=1)


def _check_domain(n_features: int, domain, fill: float) -> tuple[tuple[float, float], ...]:
    if not (isinstance(n_features, (int, np.integer)) and n_features >= 1):
        raise ConfigError(f"n_features={n_features!r} must be an integer >= 1")
    if domain is None:
        domain = ((-math.pi, math.pi),) * n_features
    domain = tuple((float(lo), float(hi)) for lo, hi in domain)
    if len(domain) != n_features:
        raise ConfigError(f"domain has {len(domain)} intervals for n_features={n_features}")
    if any(not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) for lo, hi in domain):
        raise ConfigError(f"domain={domain} must be finite intervals with lo < hi")
    if not (0.0 < fill <= 1.0):
        raise ConfigError(f"fill={fill!r} must lie in (0, 1]")
    return domain


# -- by name -----------------------------------------------------------------------------------
def dataset_classes(spec: str) -> int:
    """How many classes ``spec`` has (without loading it), so a model can pick its readout."""
    if spec in SYNTHETIC_TASKS:
        return 2
    if spec == "digits" or spec.startswith("digits:"):
        from privqml.models.reduction import _parse_digit_classes

        return len(_parse_digit_classes(spec))
    if spec.endswith(".npz"):
        if not pathlib.Path(spec).is_file():
            raise ConfigError(f"dataset file {spec!r} not found")
        with np.load(spec, allow_pickle=False) as data:
            if "y_train" not in data or "y_test" not in data:
                raise DataError(f"{spec} lacks y_train / y_test")
            return int(max(np.max(data["y_train"]), np.max(data["y_test"]))) + 1
    if spec.endswith(".csv"):
        from privqml.models.reduction import _read_csv

        _, labels = _read_csv(spec)
        finite = labels[np.isfinite(labels)]
        return max(2, int(finite.max()) + 1) if finite.size else 2
    raise ConfigError(
        f"dataset={spec!r} is unknown; choose one of {list(SYNTHETIC_TASKS)}, digits:AvB, "
        "digits:A,B,C, path/to/data.npz or path/to/data.csv"
    )


def load_dataset(
    spec: str,
    n_features: int,
    seed: int = 0,
    domain=None,
    n_train: int | None = None,
    n_test: int | None = None,
    fill: float = DEFAULT_FILL,
) -> Dataset:
    """Load the dataset named by ``spec`` with ``n_features`` features inside ``domain``."""
    from privqml.models.reduction import digits, from_csv, from_npz
    from privqml.models.synthetic import synthetic

    dataset_classes(spec)  # validates the name
    if spec in SYNTHETIC_TASKS:
        return synthetic(spec, n_features, n_train or 400, n_test or 200, seed, domain, fill)
    if spec.endswith(".npz"):
        return from_npz(spec, n_features, seed, domain, fill)
    if spec.endswith(".csv"):
        return from_csv(spec, n_features, seed, domain, fill)
    return digits(spec, n_features, seed, domain, fill)


_MOVED = {
    "synthetic": "synthetic", "quantum_teacher": "synthetic", "hea_expectation": "synthetic",
    "Reduction": "reduction", "fit_reduction": "reduction", "digits": "reduction",
    "from_npz": "reduction", "from_csv": "reduction",
}


def __getattr__(name: str):
    """The loaders live in :mod:`privqml.models.synthetic` and :mod:`privqml.models.reduction`."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"privqml.models.{_MOVED[name]}"), name)
    raise AttributeError(f"module 'privqml.models.data' has no attribute {name!r}")


__all__ = ["DEFAULT_FILL", "Dataset", "SYNTHETIC_TASKS", "dataset_classes", "load_dataset", *sorted(_MOVED)]
