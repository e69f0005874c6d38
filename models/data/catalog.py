"""Datasets by name: where the examples come from, how they are split, and which map they get.

Nothing is downloaded. Every dataset is a frozen :class:`Dataset` (defined in
:mod:`privqml.models.data.dataset`) with integer labels 0..K−1 (every class present in the source)
and features inside the model's public input domain.

Tasks (``load_dataset(spec, ...)``):

``quantum``, ``circle``, ``linear``  synthetic: features drawn in the box, labels by a fixed rule
                (:mod:`privqml.models.data.synthetic`); nothing is fitted (preprocessing ``none``).
``digits:AvB``  scikit-learn's 8×8 digits (Alpaydin & Kaynak 1998), classes A and B → 0, 1.
``digits:A,B,C`` multi-class, labels in the order given. ``digits`` alone is ``digits:0v1``.
``path.npz``    arrays ``x_train, y_train, x_test, y_test``; optionally ``x_public`` (and
                ``y_public``, validated but unused: the fit is unsupervised), ≥ 1 examples the file
                declares public, none equal to a row of x_train, and ``feature_range`` ([2] or
                [d, 2]), a declared public range of the raw features.
``path.csv``    feature columns then an integer label column (optional header); each row goes to
                the test split with probability :data:`TEST_FRACTION` by its own draw
                (:func:`row_draws`), independent of its label and of every other row.

Splits and preprocessing (``preprocessing=``, one of :data:`PREPROCESSING_MODES`; the maps are
in :mod:`privqml.models.data.reduction`):

``public-split``   digits (their default): a seeded, stratified :data:`PUBLIC_FRACTION` of the
                   non-test examples — public data, scikit-learn's bundled images — is held out,
                   used neither for training nor for testing, and the PCA and the min-max scaling
                   are fitted on it alone. Files: the file's own ``x_public`` (an .npz's default
                   when it has one); a file without ``x_public`` has no public rows to split.
``public-classes`` (digits only) fitted on every digit of the classes not in the task (public
                   proxy data); all task examples stay available for training and testing.
``projection``     a fixed random projection scaled by the public range of the raw features
                   (digits: pixels 0..16, known a priori; files: ``feature_range`` declared by the
                   caller or by the .npz). A file's default when it has no ``x_public`` but a
                   declared range.
``own-rows-split`` (files only, explicit opt-in) rows of the user's own file are held out to fit
                   the PCA and the scaling: each non-test row with probability
                   :data:`PUBLIC_FRACTION`, by its own keyed draw (:func:`row_draws`), so adding,
                   removing or relabelling a row moves no other row. The training rows that remain
                   are covered by (ε, δ); the held-out rows are the user's data used in the clear,
                   NOT protected, and counted in ``Dataset.n_unprotected``.
``private-fit``    fitted on the private training split: NOT covered by (ε, δ). Opt-in only.

A file without ``x_public`` and without a declared range has no default: loading it with
``preprocessing=None`` is a one-line :class:`~privqml.errors.ConfigError` naming the ways out.

The test split is drawn first, the same in every mode, so the modes are compared on the same test
examples: a seeded stratified split for the digits (public data), the per-row draw for a CSV,
the file's own arrays for an .npz.
"""

from __future__ import annotations

import hashlib
import pathlib

import numpy as np

from privqml import validation
from privqml.errors import ConfigError, DataError
from privqml.models.data.dataset import (
    DEFAULT_FILL,
    PREPROCESSING_MODES,
    UNPROTECTED_MODE,
    Dataset,
    check_domain,
    check_features,
    check_preprocessing,
    check_seed,
    check_size,
    integer_labels,
)
from privqml.models.data.reduction import RawSplit, preprocess
from privqml.models.data.synthetic import SYNTHETIC_TASKS, synthetic

DEFAULT_PREPROCESSING = "public-split"
"""The digits' default (their split is of public data). A file's default depends on what it
declares public: ``x_public`` → ``public-split``, a feature range → ``projection``, else none."""
PUBLIC_FRACTION = 0.2
"""Share of the non-test examples held out to fit the map: exactly (stratified) for the digits'
``public-split``; the probability of each row's own draw under ``own-rows-split``."""
TEST_FRACTION = 0.3
"""Share of the examples in the test split: exactly (stratified) for the digits; the probability of
each row's own draw for a CSV."""
DIGITS_PIXEL_RANGE = (0.0, 16.0)
"""The 8×8 digits are 4×4-block counts of set pixels in 32×32 bitmaps: every value is in 0..16."""
DIGITS_MODES = ("public-split", "public-classes", "projection", "private-fit")
FILE_MODES = ("public-split", "projection", UNPROTECTED_MODE, "private-fit")
assert set(DIGITS_MODES) | set(FILE_MODES) == set(PREPROCESSING_MODES) - {"none"}
DEFAULT_N_TRAIN, DEFAULT_N_TEST = 400, 200
TEST_DRAW, OWN_ROWS_DRAW = "test split", "own-rows hold-out"
"""The purposes that key :func:`row_draws`: a row's test draw and its hold-out draw are independent."""

_WAYS_OUT = (
    "ship the public examples as x_public in an .npz, declare the raw features' public range for the "
    "data-independent projection (--feature-range lo,hi on the command line, feature_range=(lo, hi) in "
    f"Python), or opt in to preprocessing='{UNPROTECTED_MODE}' (--preprocessing {UNPROTECTED_MODE}), which "
    f"holds out about {PUBLIC_FRACTION:.0%} of the file's own rows to fit the map and leaves those rows "
    "unprotected"
)


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
    except ValueError as exc:  # numpy names line numbers and column counts, not values
        raise DataError(f"{path}: cannot read as a numeric CSV: {' '.join(str(exc).split())}") from None
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


def _n_classes(source: str, *labels: np.ndarray) -> int:
    """K = 1 + the largest label (at least 2), every class 0..K−1 with an example in ``labels``
    (already checked to be integers ≥ 0); a class without one is a :class:`DataError`."""
    pooled = np.concatenate([np.asarray(y, dtype=np.int64) for y in labels])
    if not pooled.size:
        raise DataError(f"{source}: no labelled examples; need rows with labels 0..K-1")
    n_classes = max(2, int(pooled.max()) + 1)
    counts = np.bincount(pooled, minlength=n_classes)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise DataError(
            f"{source}: class {empty[0]} of the labels 0..{n_classes - 1} has no example; relabel the "
            "classes to 0..K-1 so that every class has at least one example"
        )
    return n_classes


def _stratified(positions: np.ndarray, y: np.ndarray, fraction: float, seed, source: str, what: str):
    """(kept, held-out) positions: a seeded stratified split holding out ``fraction`` (for the
    digits, public data; a user's rows are split by :func:`row_draws` instead)."""
    # scikit-learn is imported here, not at the top: it costs ~2 s that the dataset registry
    # (the CLI, the run records) must not pay.
    from sklearn.model_selection import train_test_split

    try:
        kept, held = train_test_split(positions, test_size=fraction, random_state=seed, stratify=y)
    except ValueError as exc:
        remedy = (
            "use preprocessing='public-classes' or 'projection'" if what == "public"
            else "give more examples of every class"
        )
        raise DataError(
            f"{source}: cannot hold out a stratified {fraction:g} of {len(positions)} examples as the "
            f"{what} split ({exc}); {remedy}"
        ) from None
    return np.asarray(kept, dtype=np.int64), np.asarray(held, dtype=np.int64)


def _public_seed(seed: int) -> int:
    """The public split's random state: derived from the run seed, distinct from the test split's."""
    return int(np.random.SeedSequence([seed, 0x9B11C]).generate_state(1)[0])


def row_draws(x: np.ndarray, seed: int, purpose: str) -> np.ndarray:
    """One uniform u_i ∈ [0, 1) per row of ``x`` [n, d]: the first 8 bytes of
    SHA-256(``privqml row draw`` ‖ purpose ‖ seed ‖ the float64 bytes of row i), read as a
    big-endian unsigned integer, over 2⁶⁴.

    Row i's draw is a function of the public seed, the purpose and that row's own raw features
    alone — not of its label, its position or any other row — so adding, removing or relabelling
    one row changes no other row's draw. A row goes to a part when u_i < that part's fraction;
    draws for different purposes are independent. -0.0 is read as 0.0, so equal rows draw alike.
    """
    key = hashlib.sha256(f"privqml row draw\0{purpose}\0{int(seed)}\0".encode())
    rows = np.ascontiguousarray(np.asarray(x, dtype=np.float64) + 0.0, dtype="<f8")
    draws = np.empty(rows.shape[0])
    for i, row in enumerate(rows):
        digest = key.copy()
        digest.update(row.tobytes())
        draws[i] = int.from_bytes(digest.digest()[:8], "big") / 2.0**64
    return draws


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


def _declared_public(arrays: dict[str, np.ndarray], x_train: np.ndarray, path: str) -> np.ndarray | None:
    """An .npz's ``x_public`` [m ≥ 1, d], checked, or None when the file has none. Refused: an
    empty array, a shape that does not fit x_train (or y_public), a row equal to a row of x_train."""
    if "x_public" not in arrays:
        return None
    if np.asarray(arrays["x_public"]).size == 0:
        raise DataError(
            f"{path}: x_public has 0 rows; put the public examples in it, or leave the array out and "
            f"declare a feature_range or opt in to preprocessing='{UNPROTECTED_MODE}'"
        )
    x_public = check_features(arrays["x_public"], f"{path}: x_public")
    d = x_train.shape[1]
    if x_public.shape[1] != d or ("y_public" in arrays and arrays["y_public"].shape[0] != x_public.shape[0]):
        raise DataError(
            f"{path}: x_public {x_public.shape} must have {d} columns (like x_train) and one y_public label per row"
        )
    first_of = {}
    for j, row in enumerate(x_train + 0.0):  # + 0.0: -0.0 and 0.0 are the same value
        first_of.setdefault(row.tobytes(), j)
    for i, row in enumerate(x_public + 0.0):
        if row.tobytes() in first_of:
            raise DataError(
                f"{path}: x_public row {i} equals x_train row {first_of[row.tobytes()]}; public examples must "
                "not repeat private training rows: drop the shared rows from x_public or from x_train"
            )
    return x_public


def _file_mode(preprocessing, name: str, has_public: bool, has_range: bool) -> str:
    """The mode for a user file: ``preprocessing`` checked, or (None) the file's default —
    ``public-split`` on its ``x_public``, else ``projection`` over its declared range, else none:
    a :class:`ConfigError` naming the ways out. ``public-split`` needs ``x_public``."""
    if preprocessing is None:
        if has_public:
            return "public-split"
        if has_range:
            return "projection"
        raise ConfigError(f"{name} declares no public data, so it has no default preprocessing: {_WAYS_OUT}")
    mode = check_preprocessing(preprocessing, FILE_MODES, name)
    if mode == "public-split" and not has_public:
        raise ConfigError(
            f"preprocessing='public-split' for {name} needs examples the file declares public (x_public in an "
            f".npz) and it has none; rows carved out of the file's own data are not public: {_WAYS_OUT}"
        )
    return mode


# -- splits ------------------------------------------------------------------------------------
def _carve(y: np.ndarray, mode: str, test_fraction: float, seed: int, source: str):
    """Digits: (train, test, public) positions into ``y``: the test split first (seeded,
    stratified, the same in every mode), then, for ``public-split``, a stratified
    PUBLIC_FRACTION of the rest. The digits are public data, so a stratified split leaks nothing."""
    validation.in_interval("test_fraction", test_fraction, 0.0, 1.0, hi_open=True)
    seed = check_seed(seed)
    rest, test = _stratified(np.arange(len(y)), y, test_fraction, seed, source, "test")
    if mode != "public-split":
        return rest, test, np.empty(0, dtype=np.int64)
    train, public = _stratified(rest, y[rest], PUBLIC_FRACTION, _public_seed(seed), source, "public")
    return train, test, public


def _own_rows(x: np.ndarray, candidates: np.ndarray, seed: int, name: str) -> np.ndarray:
    """The positions among ``candidates`` (rows of ``x``) held out under ``own-rows-split``: each
    with probability PUBLIC_FRACTION by its own draw (:func:`row_draws`), never none."""
    held = candidates[row_draws(x[candidates], seed, OWN_ROWS_DRAW) < PUBLIC_FRACTION]
    if not held.size:
        raise DataError(
            f"{name}: preprocessing='{UNPROTECTED_MODE}' held out none of {candidates.size} rows "
            f"(each is held out with probability {PUBLIC_FRACTION:g}); give more rows, declare a feature_range "
            "or ship x_public"
        )
    return held


_HELD_OUT = (
    f"a seeded stratified {PUBLIC_FRACTION:.0%} of the non-test examples, held out: "
    "used neither for training nor for testing"
)
_OWN_ROWS = (
    f"each {{rows}} held out with probability {PUBLIC_FRACTION:g} by a keyed SHA-256 draw of the public seed "
    "and that row's own features, independent of labels and of other rows"
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
    mode = check_preprocessing(preprocessing, DIGITS_MODES, name)
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
        "pixels 0..16 of the 8x8 digits, known a priori", None if mode == "public-classes" else y[public],
    )


def npz_split(path: str, preprocessing: str | None = None, seed: int = 0, feature_range=None) -> RawSplit:
    """An .npz's arrays, split for ``preprocessing`` (None: the file's default, see
    :func:`_file_mode`); indices count x_train, x_test, x_public rows in that order.
    ``public-split`` fits on the file's ``x_public``; ``own-rows-split`` holds out rows of x_train,
    each by its own draw (:func:`row_draws`)."""
    name = pathlib.Path(path).name
    if preprocessing is not None:
        check_preprocessing(preprocessing, FILE_MODES, name)
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
    n_classes = _n_classes(path, y_train, y_test)
    n_train, n_test, d = x_train.shape[0], x_test.shape[0], x_train.shape[1]
    range_source = "declared by the caller"
    if feature_range is None and "feature_range" in arrays:
        feature_range, range_source = arrays["feature_range"], f"the array feature_range of {name}"
    declared_range = _check_feature_range(feature_range, d, name)
    declared_public = _declared_public(arrays, x_train, path)
    mode = _file_mode(preprocessing, name, declared_public is not None, declared_range is not None)
    train, public_index = np.arange(n_train), np.empty(0, dtype=np.int64)
    x_public, public_source = np.empty((0, d)), ""
    if mode == "public-split":
        x_public = declared_public
        public_index = n_train + n_test + np.arange(x_public.shape[0])
        public_source = f"the arrays x_public of {name}, declared public by the file"
    elif mode == UNPROTECTED_MODE:
        public_index = _own_rows(x_train, train, seed, name)
        train = np.setdiff1d(train, public_index)
        x_public = x_train[public_index]
        public_source = _OWN_ROWS.format(rows="row of x_train")
    return RawSplit(
        name, mode, x_train[train], y_train[train], x_test, y_test, x_public, n_classes,
        tuple(str(c) for c in range(n_classes)), train, n_train + np.arange(n_test), public_index,
        public_source, declared_range, range_source,
    )


def csv_split(
    path: str, preprocessing: str | None = None, seed: int = 0, test_fraction: float = TEST_FRACTION,
    feature_range=None,
) -> RawSplit:
    """A CSV's rows, split for ``preprocessing`` (None: the file's default, see :func:`_file_mode`);
    indices are data rows, header excluded.

    Each row goes to the test split when its own draw (:func:`row_draws`, purpose
    :data:`TEST_DRAW`) is below ``test_fraction``; under ``own-rows-split`` each other row is held
    out when its draw for :data:`OWN_ROWS_DRAW` is below :data:`PUBLIC_FRACTION`. Neither draw
    looks at a label or another row.
    """
    name = pathlib.Path(path).name
    if preprocessing is not None:
        check_preprocessing(preprocessing, FILE_MODES, name)
    validation.in_interval("test_fraction", test_fraction, 0.0, 1.0, hi_open=True)
    seed = check_seed(seed)
    features, y = read_csv(path)
    x = check_features(features, f"{path}: features")
    n_classes = _n_classes(path, y)
    declared_range = _check_feature_range(feature_range, x.shape[1], name)
    mode = _file_mode(preprocessing, name, False, declared_range is not None)
    in_test = row_draws(x, seed, TEST_DRAW) < test_fraction
    test, rest = np.flatnonzero(in_test), np.flatnonzero(~in_test)
    if not test.size:
        raise DataError(
            f"{name}: none of its {len(y)} rows fell in the test split (each with probability "
            f"{test_fraction:g}); give more rows"
        )
    public = _own_rows(x, rest, seed, name) if mode == UNPROTECTED_MODE else np.empty(0, dtype=np.int64)
    train = np.setdiff1d(rest, public)
    return RawSplit(
        name, mode, x[train], y[train], x[test], y[test], x[public], n_classes,
        tuple(str(c) for c in range(n_classes)), train, test, public,
        _OWN_ROWS.format(rows="non-test row") if public.size else "", declared_range, "declared by the caller",
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
    preprocessing: str | None = None, feature_range=None,
) -> Dataset:
    """User data: an .npz with ``x_train, y_train, x_test, y_test`` (labels 0..K−1), reduced
    (:func:`npz_split`; ``preprocessing=None`` is the file's default)."""
    domain = check_domain(n_features, domain, fill)
    return preprocess(npz_split(path, preprocessing, seed, feature_range), n_features, domain, fill, seed)


def from_csv(
    path: str, n_features: int, seed: int = 0, domain=None, fill: float = DEFAULT_FILL,
    test_fraction: float = TEST_FRACTION, preprocessing: str | None = None, feature_range=None,
) -> Dataset:
    """User data: a CSV of feature columns and a last column of labels 0..K−1 (an optional header
    row), split into train and test row by row (:func:`csv_split`), reduced."""
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
        return _n_classes(spec, arrays["y_train"], arrays["y_test"])
    if spec.endswith(".csv"):
        return _n_classes(spec, read_csv(spec)[1])
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
        preprocessing: one of :data:`PREPROCESSING_MODES`; None is the task's default: ``none``
            for the synthetic tasks (the only mode they have), ``public-split`` for the digits;
            for a file ``public-split`` on its ``x_public``, else ``projection`` over a declared
            ``feature_range``, else a one-line :class:`ConfigError` naming the ways out.
        feature_range: for files only, the public range of the raw features, (lo, hi) or one
            pair per feature, known a priori; required by ``preprocessing='projection'`` unless
            the .npz declares it.
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
    if spec.endswith(".npz"):
        return from_npz(spec, n_features, seed, domain, fill, preprocessing, feature_range)
    if spec.endswith(".csv"):
        return from_csv(spec, n_features, seed, domain, fill, preprocessing=preprocessing, feature_range=feature_range)
    if feature_range is not None:
        raise ConfigError(
            f"feature_range={feature_range!r} applies to .npz and .csv files; "
            "the digits use their public pixel range 0..16"
        )
    mode = DEFAULT_PREPROCESSING if preprocessing is None else preprocessing
    return digits(spec, n_features, seed, domain, fill, preprocessing=mode)


__all__ = [
    "DEFAULT_FILL", "DEFAULT_PREPROCESSING", "DIGITS_MODES", "DIGITS_PIXEL_RANGE", "Dataset", "FILE_MODES",
    "OWN_ROWS_DRAW", "PREPROCESSING_MODES", "PUBLIC_FRACTION", "SYNTHETIC_TASKS", "TEST_DRAW", "TEST_FRACTION",
    "UNPROTECTED_MODE", "check_preprocessing", "csv_split", "dataset_classes", "digits", "digits_split", "from_csv",
    "from_npz", "load_dataset", "npz_split", "parse_digit_classes", "read_csv", "row_draws",
]
