"""High-dimensional data reduced to the circuit's inputs: scikit-learn digits and user files.

Reduction: PCA to ``n_features`` components, then each component mapped affinely from its
training [min, max] onto the box (the central ``fill`` of the public domain) and clipped to the
domain — both fitted on the **training split only**. Not differentially private: the DP
guarantee of a run covers the gradient steps given these fixed features (``Dataset.preprocessing``
says so).
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np

from privqml.errors import ConfigError, DataError
from privqml.models.data import DEFAULT_FILL, Dataset, _box, _check_domain, _check_features, _check_labels


@dataclasses.dataclass(frozen=True)
class Reduction:
    """PCA to n components, then an affine map of each component onto the box, clipped.

    ``transform(x) = clip(lo_box + (pca(x) − min_train) / (max_train − min_train) · (hi_box − lo_box), domain)``
    with min/max taken over the training split's PCA scores.
    """

    pca: object
    score_min: np.ndarray
    score_max: np.ndarray
    box: np.ndarray
    domain: tuple[tuple[float, float], ...]

    def transform(self, x: np.ndarray) -> np.ndarray:
        scores = self.pca.transform(x)
        width = np.where(self.score_max > self.score_min, self.score_max - self.score_min, 1.0)
        unit = (scores - self.score_min) / width
        out = self.box[:, 0] + unit * (self.box[:, 1] - self.box[:, 0])
        lo = np.array([d[0] for d in self.domain])
        hi = np.array([d[1] for d in self.domain])
        return np.clip(out, lo, hi)


def fit_reduction(x_train: np.ndarray, n_features: int, domain, fill: float, seed: int) -> Reduction:
    """Fit the PCA and the scaling on ``x_train`` alone."""
    from sklearn.decomposition import PCA

    if n_features > min(x_train.shape):
        raise ConfigError(
            f"cannot reduce {x_train.shape[1]} features of {x_train.shape[0]} training examples to "
            f"n_features={n_features}; use a model with fewer inputs or more data"
        )
    pca = PCA(n_components=n_features, random_state=seed).fit(x_train)
    scores = pca.transform(x_train)
    return Reduction(pca, scores.min(axis=0), scores.max(axis=0), _box(domain, fill), tuple(domain))


def _reduced(name, x_train, y_train, x_test, y_test, n_classes, n_features, domain, fill, seed, class_names):
    reduction = fit_reduction(x_train, n_features, domain, fill, seed)
    return Dataset(
        name=name,
        x_train=reduction.transform(x_train),
        y_train=y_train,
        x_test=reduction.transform(x_test),
        y_test=y_test,
        n_classes=n_classes,
        feature_domain=tuple(domain),
        class_names=class_names,
        preprocessing=(
            f"PCA to {n_features} components and min-max scaling onto the central {fill:g} of the "
            "domain, both fitted on the training split only (not differentially private: the DP "
            "guarantee covers the gradient steps given these fixed features)"
        ),
        seed=seed,
    )


def _parse_digit_classes(spec: str) -> tuple[int, ...]:
    body = spec.split(":", 1)[1] if ":" in spec else "0v1"
    parts = body.split("v") if "v" in body else body.split(",")
    try:
        classes = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"dataset={spec!r}: write digits:AvB (binary, e.g. digits:3v5) or digits:A,B,C"
        ) from None
    if len(classes) < 2 or len(set(classes)) != len(classes) or any(not 0 <= c <= 9 for c in classes):
        raise ConfigError(f"dataset={spec!r}: need >= 2 distinct digits in 0..9")
    return classes


def digits(
    spec: str = "digits:0v1",
    n_features: int = 4,
    seed: int = 0,
    domain=None,
    fill: float = DEFAULT_FILL,
    test_fraction: float = 0.3,
) -> Dataset:
    """scikit-learn's bundled 8×8 digits, the classes named in ``spec``, stratified seeded split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    domain = _check_domain(n_features, domain, fill)
    classes = _parse_digit_classes(spec)
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction={test_fraction!r} must lie in (0, 1)")
    images, labels = load_digits(return_X_y=True)
    keep = np.isin(labels, classes)
    x, y_raw = images[keep], labels[keep]
    label_of = {digit: label for label, digit in enumerate(classes)}  # spec order -> label
    y = np.array([label_of[int(v)] for v in y_raw], dtype=np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    name = f"digits:{classes[0]}v{classes[1]}" if len(classes) == 2 else "digits:" + ",".join(map(str, classes))
    return _reduced(
        name, x_train, y_train, x_test, y_test, len(classes), n_features, domain, fill, seed,
        tuple(f"digit {c}" for c in classes),
    )


def from_npz(path: str, n_features: int, seed: int = 0, domain=None, fill: float = DEFAULT_FILL) -> Dataset:
    """User data: an .npz with ``x_train, y_train, x_test, y_test`` (labels 0..K−1), reduced."""
    domain = _check_domain(n_features, domain, fill)
    file = pathlib.Path(path)
    if not file.is_file():
        raise ConfigError(f"dataset file {path!r} not found")
    with np.load(file, allow_pickle=False) as data:
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in data]
        if missing:
            raise DataError(f"{path} lacks arrays {missing}; need x_train, y_train, x_test, y_test")
        arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    x_train = _check_features(arrays["x_train"], "x_train")
    x_test = _check_features(arrays["x_test"], "x_test")
    if x_train.shape[1] != x_test.shape[1]:
        raise DataError(f"x_train has {x_train.shape[1]} features but x_test has {x_test.shape[1]}")
    n_classes = int(max(np.max(arrays["y_train"]), np.max(arrays["y_test"]))) + 1
    y_train = _check_labels(arrays["y_train"], "y_train", n_classes)
    y_test = _check_labels(arrays["y_test"], "y_test", n_classes)
    if x_train.shape[0] != y_train.shape[0] or x_test.shape[0] != y_test.shape[0]:
        raise DataError(
            f"shape mismatch: x_train {x_train.shape} / y_train {y_train.shape}, "
            f"x_test {x_test.shape} / y_test {y_test.shape}"
        )
    return _reduced(
        file.name, x_train, y_train, x_test, y_test, n_classes, n_features, domain, fill, seed,
        tuple(str(c) for c in range(n_classes)),
    )


def _read_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    file = pathlib.Path(path)
    if not file.is_file():
        raise ConfigError(f"dataset file {path!r} not found")
    try:
        table = np.genfromtxt(file, delimiter=",", dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: cannot read as a numeric CSV: {exc}") from exc
    if table.ndim != 2 or table.shape[1] < 2:
        raise DataError(f"{path}: need rows of features followed by an integer label column")
    if np.all(np.isnan(table[0])):  # a header row
        table = table[1:]
    return table[:, :-1], table[:, -1]


def from_csv(
    path: str, n_features: int, seed: int = 0, domain=None, fill: float = DEFAULT_FILL, test_fraction: float = 0.3
) -> Dataset:
    """User data: a CSV of feature columns and a last column of labels 0..K−1 (an optional header
    row), split (stratified, seeded) into train and test, reduced like digits."""
    from sklearn.model_selection import train_test_split

    domain = _check_domain(n_features, domain, fill)
    features, labels = _read_csv(path)
    x = _check_features(features, "features")
    if not np.all(np.isfinite(labels)):
        raise DataError(f"{path}: the label column contains NaN or infinite values")
    n_classes = int(labels.max()) + 1 if labels.size else 0
    y = _check_labels(labels, "labels", max(n_classes, 2))
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return _reduced(
        pathlib.Path(path).name, x_train, y_train, x_test, y_test, max(n_classes, 2), n_features, domain,
        fill, seed, tuple(str(c) for c in range(max(n_classes, 2))),
    )


__all__ = ["Reduction", "digits", "fit_reduction", "from_csv", "from_npz"]
