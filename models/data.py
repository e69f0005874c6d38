"""Datasets for the models layer: synthetic tasks and scikit-learn's bundled digits.

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

Reduction (digits, npz): PCA to ``n_features`` components, then each component mapped
affinely from its training [min, max] onto the box, and clipped to the domain. Both steps are
fitted on the **training split only** (the test split never informs them). They are *not*
differentially private: the DP guarantee of a training run covers the gradient steps given the
fixed features, as in most DP-ML benchmarks; :attr:`Dataset.preprocessing` says so.
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
QUANTUM_TEACHER_LAYERS = 2
QUANTUM_MARGIN = 0.05
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


# -- synthetic tasks ---------------------------------------------------------------------------
def _hea_expectation(x: np.ndarray, weights: np.ndarray, n_layers: int) -> np.ndarray:
    """⟨Z₀⟩ of ``hea(n, n_layers)`` at weights θ for every row of x, in complex128.

    The hea circuit is an encoding moment ⊗_q rx(x_q) followed by a data-free block U(θ), so
    f(x) = ψ(x)† M ψ(x) with M = U† Z₀ U built once by Cirq (``cirq.unitary``, complex128)
    and ψ(x) = ⊗_q rx(x_q)|0⟩ = ⊗_q (cos(x_q/2), −i sin(x_q/2)) in Cirq's qubit order.
    Agrees with ``cirq.Simulator(dtype=complex128)`` to 1e-12 (tests/models/test_data.py).
    """
    import cirq

    from privqml.theory.builtins import hea

    n = x.shape[1]
    ansatz = hea(n_qubits=n, n_layers=n_layers, observable="Z0")
    resolver = cirq.ParamResolver({s.name: float(v) for s, v in zip(ansatz.weights, weights)})
    block = cirq.resolve_parameters(ansatz.circuit[1:], resolver)
    assert not cirq.is_parameterized(block), "hea's data-free block must not depend on the inputs"
    qubits = ansatz.qubits
    unitary = cirq.unitary(cirq.Circuit(cirq.I.on_each(*qubits), block.all_operations()))
    observable = ansatz.observables[0].matrix(qubits)
    m = unitary.conj().T @ observable @ unitary
    states = np.ones((x.shape[0], 1), dtype=np.complex128)
    for q in range(n):  # qubit 0 is the most significant (Cirq's big-endian order)
        single = np.stack([np.cos(x[:, q] / 2), -1j * np.sin(x[:, q] / 2)], axis=1)
        states = np.einsum("bi,bj->bij", states, single).reshape(x.shape[0], -1)
    return np.real(np.sum((states.conj() @ m) * states, axis=1))


def quantum_teacher(n_features: int, box: np.ndarray, seed: int, n_layers: int = QUANTUM_TEACHER_LAYERS):
    """Teacher weights θ* ~ U(−π, π) of ``hea(n, n_layers)``, redrawn until balanced.

    Draw k = 0, 1, … uses the seed sequence [seed, 7919, k]; the first draw whose sign(f*) is
    between 40 % and 60 % positive, with mean |f*| ≥ 0.2 (a visible signal), on 2000 reference
    points from the box is kept (a public, data-independent choice). Returns θ*.
    """
    reference = np.random.default_rng([seed, 7920]).uniform(box[:, 0], box[:, 1], size=(2000, n_features))
    n_weights = 2 * n_features * n_layers
    for draw in range(1000):
        weights = np.random.default_rng([seed, 7919, draw]).uniform(-math.pi, math.pi, n_weights)
        values = _hea_expectation(reference, weights, n_layers)
        if 0.4 <= float(np.mean(values > 0)) <= 0.6 and float(np.mean(np.abs(values))) >= 0.2:
            return weights
    raise ConfigError(f"no balanced quantum teacher found for n_features={n_features}, seed={seed}")


def synthetic(
    task: str,
    n_features: int,
    n_train: int = 400,
    n_test: int = 200,
    seed: int = 0,
    domain=None,
    fill: float = DEFAULT_FILL,
) -> Dataset:
    """A synthetic binary task (see the module docstring); features uniform in the box."""
    if task not in SYNTHETIC_TASKS:
        raise ConfigError(f"synthetic task={task!r} unknown; choose one of {list(SYNTHETIC_TASKS)}")
    domain = _check_domain(n_features, domain, fill)
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise ConfigError(f"{name}={value!r} must be an integer >= 1")
    box = _box(domain, fill)
    rng = np.random.default_rng([seed, 1])
    n = n_train + n_test
    if task == "quantum":
        teacher = quantum_teacher(n_features, box, seed)
        kept = []
        while sum(len(k) for k in kept) < n:  # rejection: keep |f*(x)| >= margin
            candidates = rng.uniform(box[:, 0], box[:, 1], size=(2 * n, n_features))
            kept.append(candidates[np.abs(_hea_expectation(candidates, teacher, QUANTUM_TEACHER_LAYERS)) >= QUANTUM_MARGIN])
        x = np.concatenate(kept)[:n]
        score = _hea_expectation(x, teacher, QUANTUM_TEACHER_LAYERS)
        how = (
            f"y = 1[<Z0> of hea(n, {QUANTUM_TEACHER_LAYERS}) at balanced random teacher weights > 0], "
            f"points with |<Z0>| < {QUANTUM_MARGIN} rejected (Cirq unitary, complex128)"
        )
        threshold = 0.0
    else:
        x = rng.uniform(box[:, 0], box[:, 1], size=(n, n_features))
    if task == "circle":
        centre = box.mean(axis=1)
        score = -np.linalg.norm(x - centre, axis=1)
        how = "y = 1[||x - centre|| < median radius]"
        threshold = float(np.median(score))
    elif task == "linear":
        w = np.random.default_rng([seed, 2]).normal(size=n_features)
        score = (x - box.mean(axis=1)) @ w
        how = "y = 1[w.x > 0], w ~ N(0, I)"
        threshold = 0.0
    y = (score > threshold).astype(np.int64)
    return Dataset(
        name=task,
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_test=x[n_train:],
        y_test=y[n_train:],
        n_classes=2,
        feature_domain=domain,
        class_names=("0", "1"),
        preprocessing=f"synthetic: x ~ U({box[0].round(4).tolist()})^{n_features}; {how}",
        seed=seed,
    )


# -- reduction (fitted on training data only) -------------------------------------------------
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


def dataset_classes(spec: str) -> int:
    """How many classes ``spec`` has (without loading it), so a model can pick its readout."""
    if spec in SYNTHETIC_TASKS:
        return 2
    if spec == "digits" or spec.startswith("digits:"):
        return len(_parse_digit_classes(spec))
    if spec.endswith(".npz"):
        if not pathlib.Path(spec).is_file():
            raise ConfigError(f"dataset file {spec!r} not found")
        with np.load(spec, allow_pickle=False) as data:
            if "y_train" not in data or "y_test" not in data:
                raise DataError(f"{spec} lacks y_train / y_test")
            return int(max(np.max(data["y_train"]), np.max(data["y_test"]))) + 1
    if spec.endswith(".csv"):
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
    dataset_classes(spec)  # validates the name
    if spec in SYNTHETIC_TASKS:
        return synthetic(spec, n_features, n_train or 400, n_test or 200, seed, domain, fill)
    if spec.endswith(".npz"):
        return from_npz(spec, n_features, seed, domain, fill)
    if spec.endswith(".csv"):
        return from_csv(spec, n_features, seed, domain, fill)
    return digits(spec, n_features, seed, domain, fill)


__all__ = [
    "Dataset",
    "Reduction",
    "SYNTHETIC_TASKS",
    "dataset_classes",
    "digits",
    "fit_reduction",
    "from_csv",
    "from_npz",
    "load_dataset",
    "quantum_teacher",
    "synthetic",
]
