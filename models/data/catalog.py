"""Datasets by name: where the examples come from, how they are split, and which map they get.

Nothing is downloaded. Every dataset is a frozen :class:`Dataset` (defined in
:mod:`privqml.models.data.dataset`) with integer labels 0..K−1 and features inside the
model's public input domain.

Tasks (``load_dataset(spec, ...)``):

``quantum``, ``circle``, ``linear``  synthetic: features drawn in the box, labels by a fixed rule
                (:mod:`privqml.models.data.synthetic`); nothing is fitted (preprocessing ``none``).
``digits:AvB``  scikit-learn's 8×8 digits (Alpaydin & Kaynak 1998), classes A and B → 0, 1.
``digits:A,B,C`` multi-class, labels in the order given. ``digits`` alone is ``digits:0v1``.
``path.npz``    arrays ``x_train, y_train, x_test, y_test``; optionally ``x_public`` (and
                ``y_public``, validated but unused: the fit is unsupervised), examples the file
                declares public, and ``feature_range`` ([2] or [d, 2]), a declared public range.
``path.csv``    feature columns then an integer label column (optional header); seeded stratified
                70/30 train/test split.

Splits and preprocessing (``preprocessing=``, one of :data:`PREPROCESSING_MODES`; the maps are
in :mod:`privqml.models.data.reduction`):

``public-split``   (default for digits and files) a seeded, stratified :data:`PUBLIC_FRACTION` of
                   the non-test examples is declared public and held out — used neither for
                   training nor for testing — and the PCA and the min-max scaling are fitted on it
                   alone. An .npz with ``x_public`` uses those instead. The split is a public
                   choice made before training (its seed is recorded); the private dataset, whose
                   examples the (ε, δ) guarantee is about, is the training split that remains.
``public-classes`` (digits only) fitted on every digit of the classes not in the task (public
                   proxy data); all task examples stay available for training and testing.
``projection``     a fixed random projection scaled by the public range of the raw features
                   (digits: pixels 0..16, known a priori; files: ``feature_range`` must be declared).
``private-fit``    fitted on the private training split: NOT covered by (ε, δ). Opt-in only.

The test split is drawn first, with the same seeded stratified split in every mode, so the modes
are compared on the same test examples.
"""

from __future__ import annotations

import pathlib

import numpy as np

from privqml import validation
from privqml.errors import ConfigError, DataError
from privqml.models.data.dataset import (
    DEFAULT_FILL,
    PREPROCESSING_MODES,
    Dataset,
    check_domain,
    check_features,
    check_preprocessing,
    check_seed,
    check_size,
    integer_labels,
)
from privqml.models.data.reduction import REDUCED_MODES, RawSplit, preprocess
from privqml.models.data.synthetic import SYNTHETIC_TASKS, synthetic

DEFAULT_PREPROCESSING = "public-split"
PUBLIC_FRACTION = 0.2
"""Share of the non-test examples held out as public data in the ``public-split`` mode."""
TEST_FRACTION = 0.3
DIGITS_PIXEL_RANGE = (0.0, 16.0)
"""The 8×8 digits are 4×4-block counts of set pixels in 32×32 bitmaps: every value is in 0..16."""
FILE_MODES = ("public-split", "projection", "private-fit")
DEFAULT_N_TRAIN, DEFAULT_N_TEST = 400, 200


# -- sources -----------------------------------------------------------------------------------
def parse_digit_classes(spec: str) -> tuple[int, ...]:
    """The digit classes of ``digits:AvB`` / ``digits:A,B,C`` in spec order (``digits``: 0, 1)."""
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


def read_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(features [n, d], labels [n]) of a CSV: feature columns, then a label column; the labels
    are checked (finite integers ≥ 0), the features are not."""
    file = pathlib.Path(path)
    if not file.is_file():
        raise ConfigError(f"dataset file {path!r} not found")
    try:
        table = np.genfromtxt(file, delimiter=",", dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: cannot read as a numeric CSV: {exc}") from None
    if table.ndim != 2 or table.shape[1] < 2:
        raise DataError(f"{path}: need rows of features followed by an integer label column")
    if np.all(np.isnan(table[0])):  # a header row
        table = table[1:]
    return table[:, :-1], integer_labels(table[:, -1], f"{path}: label column")


def _read_npz(path: str) -> dict[str, np.ndarray]:
    file = pathlib.Path(path)
    if not file.is_file():
        raise ConfigError(f"dataset file {path!r} not found")
    try:
        with np.load(file, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read as an .npz of numeric arrays: {exc}") from None
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise DataError(f"{path} lacks arrays {missing}; need x_train, y_train, x_test, y_test")
    for key in ("y_train", "y_test", "y_public"):
        if key in arrays:
            arrays[key] = integer_labels(arrays[key], f"{path}: {key}")
    return arrays


def _n_classes(*labels: np.ndarray) -> int:
    """K = 1 + the largest label (at least 2); labels already checked to be integers >= 0."""
    largest = [int(y.max()) for y in labels if y.size]
    return max(2, max(largest) + 1) if largest else 2


def _stratified(positions: np.ndarray, y: np.ndarray, fraction: float, seed, source: str, what: str):
    """(kept, held-out) positions: a seeded stratified split holding out ``fraction``."""
    # scikit-learn is imported here, not at the top: it costs ~2 s that the dataset registry
    # (the CLI, the run records) must not pay.
    from sklearn.model_selection import train_test_split

    try:
        kept, held = train_test_split(positions, test_size=fraction, random_state=seed, stratify=y)
    except ValueError as exc:
        remedy = (
            "declare public data (x_public in an .npz) or use preprocessing='projection' with a "
            "public feature_range" if what == "public" else "give more examples of every class"
        )
        raise DataError(
            f"{source}: cannot hold out a stratified {fraction:g} of {len(positions)} examples as the "
            f"{what} split ({exc}); {remedy}"
        ) from None
    return np.asarray(kept, dtype=np.int64), np.asarray(held, dtype=np.int64)


def _public_seed(seed: int) -> int:
    """The public split's random state: derived from the run seed, distinct from the test split's."""
    return int(np.random.SeedSequence([seed, 0x9B11C]).generate_state(1)[0])


def _check_feature_range(feature_range, d: int, source: str) -> np.ndarray | None:
    if feature_range is None:
        return None
    try:
        values = np.array(feature_range, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.shape == (2,):
        values = np.tile(values, (d, 1))
    if values.shape != (d, 2) or not np.all(np.isfinite(values)) or np.any(values[:, 0] >= values[:, 1]):
        raise ConfigError(
            f"feature_range={feature_range!r} for {source} must be one finite (lo, hi) with lo < hi, "
            f"or {d} such pairs (one per raw feature)"
        )
    return values


# -- splits ------------------------------------------------------------------------------------
def _carve(y: np.ndarray, mode: str, test_fraction: float, seed: int, source: str):
    """(train, test, public) positions into ``y``: the test split first (seeded, stratified, the
    same in every mode), then, for ``public-split``, a stratified PUBLIC_FRACTION of the rest."""
    validation.in_interval("test_fraction", test_fraction, 0.0, 1.0, hi_open=True)
    seed = check_seed(seed)
    rest, test = _stratified(np.arange(len(y)), y, test_fraction, seed, source, "test")
    if mode != "public-split":
        return rest, test, np.empty(0, dtype=np.int64)
    train, public = _stratified(rest, y[rest], PUBLIC_FRACTION, _public_seed(seed), source, "public")
    return train, test, public


_HELD_OUT = (
    f"a seeded stratified {PUBLIC_FRACTION:.0%} of the non-test examples, held out: "
    "used neither for training nor for testing"
)


def digits_split(
    spec: str, preprocessing: str = DEFAULT_PREPROCESSING, seed: int = 0, test_fraction: float = TEST_FRACTION
) -> RawSplit:
    """The raw 8×8 digits of ``spec`` (64 pixels in 0..16), split for ``preprocessing``.

    Indices are rows of scikit-learn's ``load_digits``. ``public-classes`` takes every image of
    the digit classes not in the task as the public data.
    """
    from sklearn.datasets import load_digits  # lazy, like scikit-learn in _stratified

    classes = parse_digit_classes(spec)
    name = f"digits:{classes[0]}v{classes[1]}" if len(classes) == 2 else "digits:" + ",".join(map(str, classes))
    mode = check_preprocessing(preprocessing, REDUCED_MODES, name)
    images, labels = load_digits(return_X_y=True)
    task = np.flatnonzero(np.isin(labels, classes))
    label_of = {digit: label for label, digit in enumerate(classes)}  # spec order -> label
    y = np.array([label_of[int(v)] for v in labels[task]], dtype=np.int64)
    train, test, public = _carve(y, mode, test_fraction, seed, name)
    public_index, public_source = task[public], _HELD_OUT if public.size else ""
    if mode == "public-classes":
        public_index = np.flatnonzero(~np.isin(labels, classes))
        others = sorted(set(range(10)) - set(classes))
        if not others:
            raise ConfigError(
                f"preprocessing='public-classes' for {name}: every digit class is in the task, none is "
                "left as public proxy data; use preprocessing='public-split' or 'projection'"
            )
        public_source = (
            f"the {public_index.size} images of digit classes {', '.join(map(str, others))}, "
            "not in the task (public proxy data)"
        )
    return RawSplit(
        name, mode, images[task[train]], y[train], images[task[test]], y[test], images[public_index],
        len(classes), tuple(f"digit {c}" for c in classes), task[train], task[test], public_index,
        public_source, np.tile(DIGITS_PIXEL_RANGE, (images.shape[1], 1)),
        "pixels 0..16 of the 8x8 digits, known a priori",
    )


def npz_split(path: str, preprocessing: str = DEFAULT_PREPROCESSING, seed: int = 0, feature_range=None) -> RawSplit:
    """An .npz's arrays, split for ``preprocessing``; indices count x_train, x_test, x_public rows
    in that order. ``public-split`` uses the file's ``x_public`` if it has one, else holds out a
    seeded stratified :data:`PUBLIC_FRACTION` of x_train."""
    name = pathlib.Path(path).name
    mode = check_preprocessing(preprocessing, FILE_MODES, name)
    seed = check_seed(seed)
    arrays = _read_npz(path)
    x_train = check_features(arrays["x_train"], f"{path}: x_train")
    x_test = check_features(arrays["x_test"], f"{path}: x_test")
    y_train, y_test = arrays["y_train"], arrays["y_test"]
    rows_match = x_train.shape[0] == y_train.shape[0] and x_test.shape[0] == y_test.shape[0]
    if not rows_match or x_train.shape[1] != x_test.shape[1]:
        raise DataError(
            f"{path}: shape mismatch: x_train {x_train.shape} / y_train {y_train.shape}, "
            f"x_test {x_test.shape} / y_test {y_test.shape}; need one label per row and equal feature counts"
        )
    n_train, n_test, d = x_train.shape[0], x_test.shape[0], x_train.shape[1]
    range_source = "declared by the caller"
    if feature_range is None and "feature_range" in arrays:
        feature_range, range_source = arrays["feature_range"], f"the array feature_range of {name}"
    declared_range = _check_feature_range(feature_range, d, name)
    train, public_index = np.arange(n_train), np.empty(0, dtype=np.int64)
    x_public, public_source = np.empty((0, d)), ""
    if mode == "public-split" and arrays.get("x_public", np.empty(0)).size:
        x_public = check_features(arrays["x_public"], f"{path}: x_public")
        if x_public.shape[1] != d or ("y_public" in arrays and arrays["y_public"].shape[0] != x_public.shape[0]):
            raise DataError(
                f"{path}: x_public {x_public.shape} must have {d} columns (like x_train) and one y_public label per row"
            )
        public_index = n_train + n_test + np.arange(x_public.shape[0])
        public_source = f"the arrays x_public of {name}, declared public by the file"
    elif mode == "public-split":
        train, public_index = _stratified(train, y_train, PUBLIC_FRACTION, _public_seed(seed), name, "public")
        x_public = x_train[public_index]
        public_source = _HELD_OUT.replace("the non-test examples", "x_train")
    n_classes = _n_classes(y_train, y_test)
    return RawSplit(
        name, mode, x_train[train], y_train[train], x_test, y_test, x_public, n_classes,
        tuple(str(c) for c in range(n_classes)), train, n_train + np.arange(n_test), public_index,
        public_source, declared_range, range_source,
    )


def csv_split(
    path: str, preprocessing: str = DEFAULT_PREPROCESSING, seed: int = 0, test_fraction: float = TEST_FRACTION,
    feature_range=None,
) -> RawSplit:
    """A CSV's rows, split for ``preprocessing`` (indices are data rows, header excluded)."""
    name = pathlib.Path(path).name
    mode = check_preprocessing(preprocessing, FILE_MODES, name)
    features, y = read_csv(path)
    x = check_features(features, f"{path}: features")
    declared_range = _check_feature_range(feature_range, x.shape[1], name)
    train, test, public = _carve(y, mode, test_fraction, seed, name)
    n_classes = _n_classes(y)
    return RawSplit(
        name, mode, x[train], y[train], x[test], y[test], x[public], n_classes,
        tuple(str(c) for c in range(n_classes)), train, test, public, _HELD_OUT if public.size else "",
        declared_range, "declared by the caller",
    )


# -- datasets ----------------------------------------------------------------------------------
def digits(
    spec: str = "digits:0v1",
    n_features: int = 4,
    seed: int = 0,
    domain=None,
    fill: float = DEFAULT_FILL,
    test_fraction: float = TEST_FRACTION,
    preprocessing: str = DEFAULT_PREPROCESSING,
) -> Dataset:
    """scikit-learn's bundled 8×8 digits, the classes named in ``spec``: :func:`digits_split`,
    then :func:`~privqml.models.data.reduction.preprocess`."""
    domain = check_domain(n_features, domain, fill)
    return preprocess(digits_split(spec, preprocessing, seed, test_fraction), n_features, domain, fill, seed)


def from_npz(
    path: str, n_features: int, seed: int = 0, domain=None, fill: float = DEFAULT_FILL,
    preprocessing: str = DEFAULT_PREPROCESSING, feature_range=None,
) -> Dataset:
    """User data: an .npz with ``x_train, y_train, x_test, y_test`` (labels 0..K−1), reduced."""
    domain = check_domain(n_features, domain, fill)
    return preprocess(npz_split(path, preprocessing, seed, feature_range), n_features, domain, fill, seed)


def from_csv(
    path: str, n_features: int, seed: int = 0, domain=None, fill: float = DEFAULT_FILL,
    test_fraction: float = TEST_FRACTION, preprocessing: str = DEFAULT_PREPROCESSING, feature_range=None,
) -> Dataset:
    """User data: a CSV of feature columns and a last column of labels 0..K−1 (an optional header
    row), split (stratified, seeded) into train and test, reduced."""
    domain = check_domain(n_features, domain, fill)
    raw = csv_split(path, preprocessing, seed, test_fraction, feature_range)
    return preprocess(raw, n_features, domain, fill, seed)


def dataset_classes(spec: str) -> int:
    """How many classes ``spec`` has (without reducing it), so a model can pick its readout."""
    if not isinstance(spec, str):
        raise ConfigError(f"dataset={spec!r} must be a string naming a task or a file")
    if spec in SYNTHETIC_TASKS:
        return 2
    if spec == "digits" or spec.startswith("digits:"):
        return len(parse_digit_classes(spec))
    if spec.endswith(".npz"):
        arrays = _read_npz(spec)
        return _n_classes(arrays["y_train"], arrays["y_test"])
    if spec.endswith(".csv"):
        return _n_classes(read_csv(spec)[1])
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
    *,
    preprocessing: str | None = None,
    feature_range=None,
) -> Dataset:
    """Load the dataset named by ``spec`` with ``n_features`` features inside ``domain``.

    Args:
        n_train, n_test: sizes of the synthetic tasks (default 400 and 200); validated for every
            task (an integer >= 1), but the digits and files have the sizes their split gives.
        preprocessing: one of :data:`PREPROCESSING_MODES`; None is the task's default,
            ``public-split`` for digits and files and ``none`` for the synthetic tasks (the only
            mode they have).
        feature_range: for files only, the public range of the raw features, (lo, hi) or one
            pair per feature, known a priori; required by ``preprocessing='projection'``.
    """
    sizes = {k: check_size(k, v) for k, v in (("n_train", n_train), ("n_test", n_test)) if v is not None}
    dataset_classes(spec)  # validates the name
    if spec in SYNTHETIC_TASKS:
        if preprocessing is not None:
            check_preprocessing(preprocessing, ("none",), spec)
        if feature_range is not None:
            raise ConfigError(f"feature_range={feature_range!r} applies to .npz and .csv files, not to {spec}")
        n_train, n_test = sizes.get("n_train", DEFAULT_N_TRAIN), sizes.get("n_test", DEFAULT_N_TEST)
        return synthetic(spec, n_features, n_train, n_test, seed, domain, fill)
    mode = DEFAULT_PREPROCESSING if preprocessing is None else preprocessing
    if spec.endswith(".npz"):
        return from_npz(spec, n_features, seed, domain, fill, mode, feature_range)
    if spec.endswith(".csv"):
        return from_csv(spec, n_features, seed, domain, fill, preprocessing=mode, feature_range=feature_range)
    if feature_range is not None:
        raise ConfigError(
            f"feature_range={feature_range!r} applies to .npz and .csv files; "
            "the digits use their public pixel range 0..16"
        )
    return digits(spec, n_features, seed, domain, fill, preprocessing=mode)


__all__ = [
    "DEFAULT_FILL", "DEFAULT_PREPROCESSING", "DIGITS_PIXEL_RANGE", "Dataset", "FILE_MODES", "PREPROCESSING_MODES",
    "PUBLIC_FRACTION", "SYNTHETIC_TASKS", "TEST_FRACTION", "check_preprocessing", "csv_split", "dataset_classes",
    "digits", "digits_split", "from_csv", "from_npz", "load_dataset", "npz_split", "parse_digit_classes", "read_csv",
]
