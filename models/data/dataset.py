"""The ``Dataset`` record and the checks every dataset source shares.

Every dataset is a frozen :class:`Dataset` with integer class labels 0..K−1 and features
already inside the model's *public* input domain (one closed interval per feature, radians for
angle encodings), so that the gradient bound — a sup over that domain — covers every example.

The record also says how raw data became those features (``preprocessing_mode``), and whether
the (ε, δ) guarantee of a DP-SGD run on it covers that step (``preprocessing_covered``). The
unit of privacy is one example of the private training split (add-or-remove adjacency). A
transform T is *covered* when it depends on no private training example — a declared public
split disjoint from the private one, public proxy data, rows held out of the user's own data, or
nothing at all — because then T(x_i) depends on example i alone, adding or removing one private
example changes no other example's features, and DP-SGD's guarantee for the features carries over
to the raw examples (post-processing of a fixed map). A transform fitted on the private training
split itself makes every training example's features depend on every other one; its sensitivity
is unbounded and the guarantee does not cover it.

Rows held out of the user's own data to fit the map (``own-rows-split``) are a different loss: the
training rows that remain are covered, but the held-out rows themselves are used in the clear and
have no protection at all. The record counts them (``n_unprotected``).

This module sits below the dataset sources (:mod:`privqml.models.data.synthetic`,
:mod:`privqml.models.data.reduction`, :mod:`privqml.models.data`); it imports none of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Sequence

import numpy as np

from privqml import validation
from privqml.errors import ConfigError, DataError

DEFAULT_FILL = 0.5
PREPROCESSING_MODES = ("none", "public-split", "public-classes", "projection", "own-rows-split", "private-fit")
"""How raw data are mapped to circuit inputs:

``none``            the features are the data (synthetic tasks draw them inside the domain);
``public-split``    fitted on public examples held out, disjoint from the train and test splits
                    (a split of public data such as the digits, or rows a file declares public);
``public-classes``  fitted on public proxy data (digit classes that are not in the task);
``projection``      a data-independent map (a fixed random projection, scaled by a public range);
``own-rows-split``  fitted on rows held out of the user's own data: the training rows that remain
                    are covered, the held-out rows are NOT protected by (ε, δ); opt-in only;
``private-fit``     fitted on the private training split — NOT covered by (ε, δ); opt-in only.
"""
PUBLIC_MODES = ("public-split", "public-classes")
"""The modes that fit the map on examples that are public (declared or known to be)."""
HELD_OUT_MODES = PUBLIC_MODES + ("own-rows-split",)
"""The modes that fit the map on examples held out of training and testing (``n_public`` ≥ 1)."""
UNPROTECTED_MODE = "own-rows-split"
"""The one mode whose held-out rows are the user's own data and lose protection (``n_unprotected``)."""


def check_preprocessing(mode, choices: Sequence[str] = PREPROCESSING_MODES, source: str = "") -> str:
    """``mode`` if it is one of ``choices``; otherwise a one-line :class:`ConfigError`.

    ``source`` names the data the choice is for (``digits:3v5``, ``data.csv``) when ``choices``
    is the subset of :data:`PREPROCESSING_MODES` that applies to it.
    """
    where = f" for {source}" if source else ""
    if isinstance(mode, str) and mode in PREPROCESSING_MODES and mode not in choices:
        raise ConfigError(f"preprocessing={mode!r} does not apply{where}; choose one of {list(choices)}")
    return validation.choice("preprocessing", mode, tuple(choices), where=where)


def check_size(name: str, value) -> int:
    """A number of examples: an integer ≥ 1 (``bool`` is not a size)."""
    return validation.size(name, value)


def check_seed(seed) -> int:
    """A seed of the public choices (splits, synthetic draws): an integer >= 0."""
    return validation.seed("seed", seed)


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
        preprocessing: in words, what was fitted on which data and whether (ε, δ) covers it.
        seed: the seed of the split and of any synthetic draw (a public choice).
        preprocessing_mode: one of :data:`PREPROCESSING_MODES`.
        preprocessing_covered: True when the map from raw data to features depends on no
            private training example, so the DP guarantee of a run covers the whole pipeline
            from the raw training data; False exactly for ``private-fit``. Derived from the mode
            when not given; a value that contradicts the mode is an error. It speaks of the
            training rows only: rows held out to fit the map are counted in ``n_unprotected``.
        n_public: examples held out (neither trained nor tested on) to fit the map; ≥ 1 for the
            modes of :data:`HELD_OUT_MODES`, 0 otherwise. Under ``public-split`` and
            ``public-classes`` they are public data; under ``own-rows-split`` they are the
            user's own rows, counted again in ``n_unprotected``.
        n_unprotected: rows of the user's own data that lost protection: held out to fit the map
            and used in the clear, so no (ε, δ) guarantee covers them. Equal to ``n_public``
            under ``own-rows-split``, 0 in every other mode (``private-fit`` uncovers the whole
            preprocessing instead, as ``preprocessing_covered=False`` says).
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
    preprocessing_mode: str = "none"
    preprocessing_covered: bool | None = None
    n_public: int = 0
    n_unprotected: int = 0

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass init
        for split in ("train", "test"):
            x = check_features(getattr(self, f"x_{split}"), f"x_{split}")
            y = check_labels(getattr(self, f"y_{split}"), f"y_{split}", self.n_classes)
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
        lows, highs = np.array([d[0] for d in domain]), np.array([d[1] for d in domain])
        for split in ("train", "test"):
            x = getattr(self, f"x_{split}")
            outside = (x < lows - 1e-9) | (x > highs + 1e-9)
            if np.any(outside):  # the position, never the private value
                row, col = (int(i) for i in np.argwhere(outside)[0])
                raise DataError(
                    f"x_{split}[{row}, {col}] lies outside the public domain [{lows[col]:.4g}, {highs[col]:.4g}] "
                    f"of feature {col}; rescale the features"
                )
        set_("feature_domain", domain)
        if np.unique(self.y_train).size < 2:
            raise DataError("y_train holds a single class; a classifier needs examples of >= 2 classes")
        self._check_preprocessing_fields(set_)

    def _check_preprocessing_fields(self, set_) -> None:
        mode = check_preprocessing(self.preprocessing_mode)
        covered = mode != "private-fit"
        if self.preprocessing_covered is None:
            set_("preprocessing_covered", covered)
        elif not isinstance(self.preprocessing_covered, (bool, np.bool_)) or self.preprocessing_covered != covered:
            raise ConfigError(
                f"preprocessing_covered={self.preprocessing_covered!r} contradicts "
                f"preprocessing_mode={mode!r}; only 'private-fit' is not covered by (epsilon, delta): "
                "omit preprocessing_covered to derive it from the mode"
            )
        else:
            set_("preprocessing_covered", bool(self.preprocessing_covered))
        n_public = validation.integer("n_public", self.n_public, 0, hint="the examples held out to fit the map")
        if (n_public >= 1) != (mode in HELD_OUT_MODES):
            raise ConfigError(
                f"n_public={n_public} does not fit preprocessing_mode={mode!r}; the modes "
                f"{list(HELD_OUT_MODES)} fit on >= 1 held-out example, the others on none (n_public=0)"
            )
        set_("n_public", int(n_public))
        n_unprotected = validation.integer(
            "n_unprotected", self.n_unprotected, 0, hint="the user's own rows held out to fit the map"
        )
        expected = n_public if mode == UNPROTECTED_MODE else 0
        if n_unprotected != expected:
            raise ConfigError(
                f"n_unprotected={n_unprotected} does not fit preprocessing_mode={mode!r} with n_public={n_public}; "
                f"only {UNPROTECTED_MODE!r} holds out the user's own rows (n_unprotected = n_public), "
                "every other mode has n_unprotected=0"
            )
        set_("n_unprotected", int(n_unprotected))

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
            "preprocessing_mode": self.preprocessing_mode,
            "preprocessing_covered": self.preprocessing_covered,
            "n_public": self.n_public,
            "n_unprotected": self.n_unprotected,
            "seed": self.seed,
        }


def check_features(x, name: str) -> np.ndarray:
    """``x`` as a finite float64 array [n_examples, n_features]; ``name`` says where it came from."""
    try:
        x = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):  # the exception's text may quote a value: never print it
        raise DataError(f"{name} cannot be read as numbers; give numeric features") from None
    if x.ndim != 2:
        raise DataError(f"{name} has shape {x.shape}; need a 2-D array of shape (n_examples, n_features)")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise DataError(
            f"{name} contains NaN or infinite values (first at row {bad[0]}, column {bad[1]}); "
            "clean or impute the features before training"
        )
    return x


def integer_labels(y, name: str) -> np.ndarray:
    """``y`` as an int64 array of class indices ≥ 0; NaN, ±inf, fractions and negatives refused.

    ``name`` says where the labels came from (``data.csv: label column``).
    """
    y_arr = np.asarray(y)
    if y_arr.ndim != 1:
        raise DataError(f"{name} has shape {y_arr.shape}; need a 1-D array of integer labels")
    if y_arr.dtype.kind not in "biuf":
        raise DataError(f"{name} has labels of dtype {y_arr.dtype}; use integer class indices 0..K-1")
    values = y_arr.astype(np.float64)
    if not np.all(np.isfinite(values)):
        first = int(np.argwhere(~np.isfinite(values))[0][0])
        raise DataError(
            f"{name} contains NaN or infinite labels (first at index {first}); "
            "fix or drop those examples: labels must be class indices 0..K-1"
        )
    fractional = np.flatnonzero(values != np.round(values))
    if fractional.size:
        raise DataError(
            f"{name} has non-integer labels (first at index {fractional[0]}); use class indices 0..K-1"
        )
    negative = np.flatnonzero(values < 0)
    if negative.size:
        raise DataError(f"{name} has a negative label (first at index {negative[0]}); use class indices 0..K-1")
    return values.astype(np.int64)


def check_labels(y, name: str, n_classes: int) -> np.ndarray:
    """``y`` as int64 class indices in 0..n_classes−1."""
    y_int = integer_labels(y, name)
    above = np.flatnonzero(y_int >= n_classes)
    if above.size:
        raise DataError(
            f"{name} has a label outside 0..{n_classes - 1} (first at index {above[0]}); need labels in "
            f"0..{n_classes - 1} for n_classes={n_classes}"
        )
    return y_int


def box(domain: Sequence[tuple[float, float]], fill: float) -> np.ndarray:
    """The central ``fill`` fraction of each interval, as a [n, 2] array of (lo, hi)."""
    lo = np.array([d[0] for d in domain], dtype=np.float64)
    hi = np.array([d[1] for d in domain], dtype=np.float64)
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    return np.stack([mid - fill * half, mid + fill * half], axis=1)


def check_domain(n_features: int, domain, fill: float) -> tuple[tuple[float, float], ...]:
    """The public input domain (default [−π, π] per feature) and the fill fraction, validated."""
    validation.integer("n_features", n_features, 1)
    if domain is None:
        domain = ((-math.pi, math.pi),) * n_features
    domain = tuple((float(lo), float(hi)) for lo, hi in domain)
    if len(domain) != n_features:
        raise ConfigError(f"domain has {len(domain)} intervals for n_features={n_features}")
    if any(not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) for lo, hi in domain):
        raise ConfigError(f"domain={domain} must be finite intervals with lo < hi")
    validation.probability("fill", fill, hint="the central fraction of each interval the data fill")
    return domain


__all__ = [
    "DEFAULT_FILL", "HELD_OUT_MODES", "PREPROCESSING_MODES", "PUBLIC_MODES", "UNPROTECTED_MODE", "Dataset", "box",
    "check_domain", "check_features", "check_labels", "check_preprocessing", "check_seed", "check_size",
    "integer_labels",
]
