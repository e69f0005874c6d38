"""From raw high-dimensional examples to circuit inputs: the preprocessing modes.

A :class:`RawSplit` holds a task's raw examples split into a private training part, a test part
and (for the modes of :data:`~privqml.models.data.dataset.HELD_OUT_MODES`) a held-out part;
:func:`preprocess` fits the map from raw features to circuit inputs and applies it to train and
test, giving a :class:`Dataset`.

Maps (k = ``n_features`` circuit inputs, each landing in the *box*, the central ``fill`` of its
public domain interval, then clipped to the domain):

``Reduction``   PCA to k components, then each component mapped affinely from its [min, max]
                over the fitting data onto the box. Fitted on the public examples
                (``public-split``, ``public-classes``), on rows held out of the user's own data
                (``own-rows-split``), or — ``private-fit`` only — on the private training split.
``Projection``  data-independent: u = (x − c)/h maps the declared public range [c − h, c + h] of
                each raw feature onto [−1, 1]; z = R·u with R a fixed k×d matrix of orthonormal
                rows (a Gaussian matrix from the public seed :data:`PROJECTION_SEED`,
                orthonormalised); since |z_j| ≤ ‖R_j‖₁ on the whole cube, z_j/‖R_j‖₁ ∈ [−1, 1]
                is mapped affinely onto the box.

Why only these are covered by (ε, δ): the unit of privacy is one private training example. In
every mode but ``private-fit`` the fitted map T is a function of data other than the private
training split, so removing any one training example leaves T — and every other example's
features T(x_j) — unchanged; DP-SGD's guarantee on the features is then a guarantee on the raw
examples. Under ``private-fit``, T depends on all training examples (PCA mean and axes, min and
max), its sensitivity is unbounded, and the guarantee does not extend to it. Under
``own-rows-split`` the training rows are covered in this sense, but the rows held out to fit T are
the user's own data used in the clear: they get no guarantee (``Dataset.n_unprotected``).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from privqml.errors import ConfigError, DataError
from privqml.models.data.dataset import (
    HELD_OUT_MODES,
    PREPROCESSING_MODES,
    UNPROTECTED_MODE,
    Dataset,
    box,
    check_preprocessing,
)

PROJECTION_SEED = 20_260_629
"""The public seed of the random projection: a constant, written in ``Dataset.preprocessing``."""

REDUCED_MODES = tuple(m for m in PREPROCESSING_MODES if m != "none")


@dataclasses.dataclass(frozen=True)
class RawSplit:
    """A task's raw examples, split for one preprocessing mode (before any map is fitted).

    Attributes:
        name: the task (``digits:3v5``, ``data.npz``).
        preprocessing_mode: the mode the split was made for (one of :data:`REDUCED_MODES`).
        x_train, y_train: the private training split, raw features [n_train, d] and labels.
        x_test, y_test: the test split.
        x_public: the held-out examples the map is fitted on [n_public, d]: public data under
            ``public-split``/``public-classes``, the user's own rows under ``own-rows-split``
            (0 rows in the other modes).
        n_classes, class_names: the label set.
        train_index, test_index, public_index: the rows of each part in the source's pool of
            examples (for digits the rows of scikit-learn's ``load_digits``; for a CSV its data
            rows; for an .npz the rows of x_train, then x_test, then x_public, in that order).
        public_source: in words, what the held-out examples are ("" when there are none).
        feature_range: the declared public [lo, hi] of each raw feature, [d, 2], or None. It
            must be known a priori (like the 0..16 pixel range of the digits), never measured
            on the data.
        feature_range_source: in words, where ``feature_range`` comes from.
        y_public: the labels of the held-out rows where the source gives them as examples of the task
            (the digits' ``public-split``), else None (``public-classes`` holds other classes).
    """

    name: str
    preprocessing_mode: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_public: np.ndarray
    n_classes: int
    class_names: tuple[str, ...]
    train_index: np.ndarray
    test_index: np.ndarray
    public_index: np.ndarray
    public_source: str = ""
    feature_range: np.ndarray | None = None
    feature_range_source: str = ""
    y_public: np.ndarray | None = None

    def __post_init__(self) -> None:
        assert self.preprocessing_mode in REDUCED_MODES, self.preprocessing_mode
        assert self.x_train.shape[0] == self.y_train.shape[0] == self.train_index.shape[0]
        assert self.y_public is None or self.y_public.shape[0] == self.x_public.shape[0]
        assert self.x_test.shape[0] == self.y_test.shape[0] == self.test_index.shape[0]
        assert self.x_public.shape[0] == self.public_index.shape[0]
        assert (self.x_public.shape[0] >= 1) == (self.preprocessing_mode in HELD_OUT_MODES)
        parts = [set(self.train_index.tolist()), set(self.test_index.tolist()), set(self.public_index.tolist())]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2]), "parts must be disjoint"

    @property
    def n_public(self) -> int:
        return int(self.x_public.shape[0])

    @property
    def n_unprotected(self) -> int:
        """The user's own rows held out to fit the map (``own-rows-split``): no guarantee covers them."""
        return self.n_public if self.preprocessing_mode == UNPROTECTED_MODE else 0

    def without_train(self, positions: Sequence[int]) -> RawSplit:
        """The adjacent split: the training examples at ``positions`` (rows of x_train) removed."""
        keep = np.setdiff1d(np.arange(self.x_train.shape[0]), np.asarray(positions, dtype=np.int64))
        return dataclasses.replace(
            self, x_train=self.x_train[keep], y_train=self.y_train[keep], train_index=self.train_index[keep]
        )


def rowwise_product(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``x @ matrix.T`` [n, k], each row computed on its own in one fixed order.

    ``np.einsum`` (without ``optimize``) does not call BLAS. A BLAS matrix product blocks the rows
    of ``x``, and the rounding of a row's result can move with its position in the batch (OpenBLAS
    0.3: 2e-15 after removing the first of 300 rows), so removing one example would change other
    examples' features in the last bit; here row i's result depends on row i alone.
    """
    return np.einsum("ij,kj->ik", x, matrix)


@dataclasses.dataclass(frozen=True)
class Reduction:
    """PCA to k components, then an affine map of each component onto the box, clipped.

    ``transform(x) = clip(lo_box + (pca(x) − score_min) / (score_max − score_min) · (hi_box − lo_box), domain)``
    with pca(x) = (x − mean)·Vᵀ (V the k principal axes, no whitening), computed row by row
    (:func:`rowwise_product`), and score_min, score_max the per-component min and max of the fitting
    data's PCA scores (a constant component gets width 1).
    """

    pca: object
    score_min: np.ndarray
    score_max: np.ndarray
    box: np.ndarray
    domain: tuple[tuple[float, float], ...]

    def scores(self, x: np.ndarray) -> np.ndarray:
        """The PCA scores (x − mean)·Vᵀ of every row of ``x``, row by row."""
        return pca_scores(self.pca, x)

    def transform(self, x: np.ndarray) -> np.ndarray:
        scores = self.scores(x)
        width = np.where(self.score_max > self.score_min, self.score_max - self.score_min, 1.0)
        unit = (scores - self.score_min) / width
        return _onto_box(unit, self.box, self.domain)


def fit_reduction(
    x_fit: np.ndarray, n_features: int, domain, fill: float, seed: int, what: str = "training examples"
) -> Reduction:
    """Fit the PCA and the scaling on ``x_fit`` alone (``what`` names those rows in errors)."""
    # scikit-learn is imported here, not at the top: it costs ~2 s, and importing the dataset
    # registry (the CLI, the run records) must not pay for it.
    from sklearn.decomposition import PCA

    if n_features > min(x_fit.shape):
        raise ConfigError(
            f"cannot reduce {x_fit.shape[1]} raw features of {x_fit.shape[0]} {what} to "
            f"n_features={n_features}; use a model with fewer inputs or more {what}"
        )
    pca = PCA(n_components=n_features, random_state=seed).fit(x_fit)
    scores = pca_scores(pca, x_fit)
    return Reduction(pca, scores.min(axis=0), scores.max(axis=0), box(domain, fill), tuple(domain))


def pca_scores(pca, x: np.ndarray) -> np.ndarray:
    """``pca.transform(x)`` of a fitted, non-whitening scikit-learn PCA, row by row
    (:func:`rowwise_product`; equal to scikit-learn's to float rounding)."""
    assert not pca.whiten, "the reduction never whitens"
    return rowwise_product(np.asarray(x, dtype=np.float64) - pca.mean_, pca.components_)


@dataclasses.dataclass(frozen=True)
class Projection:
    """The data-independent map: ``transform(x)`` = box centre + (R·u)_j / ‖R_j‖₁ · box half-width.

    u = (x − centre)/half_width ∈ [−1, 1]^d for x inside the declared public feature range, and
    R [k, d] has orthonormal rows; |(R·u)_j| ≤ ‖R_j‖₁ (Hölder, equality at u = sign(R_j)), so every
    x in the range lands in the box (the final clip to the domain changes nothing there), and the
    map depends on no data at all; R·u is computed row by row (:func:`rowwise_product`), so a row's
    features do not depend on the other rows of the batch either.
    """

    matrix: np.ndarray
    centre: np.ndarray
    half_width: np.ndarray
    box: np.ndarray
    domain: tuple[tuple[float, float], ...]
    seed: int

    def transform(self, x: np.ndarray) -> np.ndarray:
        u = (x - self.centre) / self.half_width
        unit = (rowwise_product(u, self.matrix) / np.abs(self.matrix).sum(axis=1) + 1.0) / 2.0  # in [0, 1]
        return _onto_box(unit, self.box, self.domain)


def random_projection(
    feature_range: np.ndarray, n_features: int, domain, fill: float, seed: int = PROJECTION_SEED
) -> Projection:
    """The :class:`Projection` of d raw features with public ``feature_range`` [d, 2] onto k inputs.

    R is Q^T from the QR factorisation of a d×k standard Gaussian matrix drawn from
    ``numpy.random.default_rng(seed)``, with the signs fixed so that diag(R_factor) > 0.
    """
    d = feature_range.shape[0]
    if n_features > d:
        raise ConfigError(
            f"cannot project {d} raw features onto n_features={n_features}; use a model with <= {d} inputs"
        )
    gaussian = np.random.default_rng(seed).standard_normal((d, n_features))
    q, r = np.linalg.qr(gaussian)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    centre = (feature_range[:, 0] + feature_range[:, 1]) / 2
    half_width = (feature_range[:, 1] - feature_range[:, 0]) / 2
    return Projection(q.T.copy(), centre, half_width, box(domain, fill), tuple(domain), seed)


def _onto_box(unit: np.ndarray, box_: np.ndarray, domain) -> np.ndarray:
    """Affine map of [0, 1] onto each box interval, then clipped to the domain."""
    out = box_[:, 0] + unit * (box_[:, 1] - box_[:, 0])
    return np.clip(out, [d[0] for d in domain], [d[1] for d in domain])


def fit_map(raw: RawSplit, n_features: int, domain, fill: float, seed: int) -> Reduction | Projection:
    """The map of ``raw.preprocessing_mode``, fitted on the data that mode allows, and no other.

    ``public-split``/``public-classes``/``own-rows-split``: :func:`fit_reduction` on
    ``raw.x_public``; ``projection``: :func:`random_projection` (no data); ``private-fit``:
    :func:`fit_reduction` on ``raw.x_train``. The test split never informs the map.
    """
    mode = raw.preprocessing_mode
    if mode == UNPROTECTED_MODE:
        return fit_reduction(raw.x_public, n_features, domain, fill, seed, what="held-out rows")
    if mode in HELD_OUT_MODES:
        return fit_reduction(raw.x_public, n_features, domain, fill, seed, what="public examples")
    if mode == "private-fit":
        return fit_reduction(raw.x_train, n_features, domain, fill, seed, what="training examples")
    if raw.feature_range is None:
        raise ConfigError(
            f"preprocessing='projection' needs a public range of the raw features of {raw.name}; "
            "pass feature_range=(lo, hi) known a priori (not measured on the data; --feature-range lo,hi "
            "on the command line)"
        )
    lo, hi = raw.feature_range[:, 0], raw.feature_range[:, 1]
    for split, x in (("x_train", raw.x_train), ("x_test", raw.x_test)):
        outside = (x < lo) | (x > hi)
        if np.any(outside):  # the position and the declared range, never the private value
            row, col = (int(i) for i in np.argwhere(outside)[0])
            raise DataError(
                f"{raw.name}: {split}[{row}, {col}] lies outside the declared public feature_range "
                f"[{lo[col]:g}, {hi[col]:g}] of feature {col}; declare a range that holds all values a priori"
            )
    return random_projection(raw.feature_range, n_features, domain, fill)


def describe(raw: RawSplit, n_features: int, fill: float) -> str:
    """``Dataset.preprocessing``: what was fitted on which data, and whether (ε, δ) covers it."""
    mode = raw.preprocessing_mode
    reduction = f"PCA to {n_features} components and min-max scaling onto the central {fill:g} of the domain"
    if mode == "private-fit":
        return (
            f"{reduction}, both fitted on the {raw.x_train.shape[0]} examples of the private training "
            "split (explicit opt-in preprocessing='private-fit'): every training example's features depend "
            "on every other training example, so this preprocessing is NOT covered by the (epsilon, delta) "
            "guarantee, which then covers only the gradient steps given these fixed features"
        )
    covered = (
        "no private training example and no test example informs the map, so the (epsilon, delta) "
        "guarantee of a run covers the whole pipeline from the raw training data"
    )
    if mode == "projection":
        return (
            f"a fixed random projection of the {raw.x_train.shape[1]} raw features onto {n_features} "
            f"orthonormal directions (Gaussian matrix from the public seed {PROJECTION_SEED}, "
            f"orthonormalised), scaled from the public feature range ({raw.feature_range_source}) onto "
            f"the central {fill:g} of the domain; the map depends on no data: {covered}"
        )
    if mode == UNPROTECTED_MODE:
        return (
            f"{reduction}, both fitted on {raw.n_public} rows held out of {raw.name}'s own data ({raw.public_source}; "
            "explicit opt-in preprocessing='own-rows-split'): these held-out rows are the user's own rows, NOT "
            f"public, used in the clear and NOT protected by the (epsilon, delta) guarantee "
            f"({raw.n_unprotected} rows lost protection); they are disjoint from the training and test splits, "
            f"so the guarantee covers the pipeline from the raw data for the {raw.x_train.shape[0]} training rows"
        )
    return (
        f"{reduction}, both fitted on {raw.n_public} public examples only ({raw.public_source}), disjoint "
        f"from the training and test splits; {covered} (the public examples are declared public and get "
        "no privacy guarantee)"
    )


def preprocess(raw: RawSplit, n_features: int, domain, fill: float, seed: int) -> Dataset:
    """The :class:`Dataset` of ``raw``: :func:`fit_map`, applied to the train and test splits."""
    check_preprocessing(raw.preprocessing_mode, REDUCED_MODES, raw.name)
    feature_map = fit_map(raw, n_features, domain, fill, seed)
    return Dataset(
        name=raw.name,
        x_train=feature_map.transform(raw.x_train),
        y_train=raw.y_train,
        x_test=feature_map.transform(raw.x_test),
        y_test=raw.y_test,
        n_classes=raw.n_classes,
        feature_domain=tuple(domain),
        class_names=raw.class_names,
        preprocessing=describe(raw, n_features, fill),
        seed=seed,
        preprocessing_mode=raw.preprocessing_mode,
        n_public=raw.n_public,
        n_unprotected=raw.n_unprotected,
    )


__all__ = [
    "PROJECTION_SEED", "REDUCED_MODES", "Projection", "RawSplit", "Reduction", "describe", "fit_map",
    "fit_reduction", "pca_scores", "preprocess", "random_projection", "rowwise_product",
]
