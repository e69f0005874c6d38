"""Reduced datasets (digits, npz, csv): label order, the PCA + min-max map, user files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.errors import DataError
from privqml.models.data import TEST_DRAW, dataset_classes, digits, load_dataset, row_draws
from privqml.models.data.reduction import fit_reduction


def test_digits_labels_follow_the_spec_order():
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    data = digits("digits:5v3", n_features=4, seed=0, preprocessing="public-classes")  # keeps every 5 and 3
    assert data.class_names == ("digit 5", "digit 3")
    counts = np.bincount(np.concatenate([data.y_train, data.y_test]))
    assert counts.tolist() == [int(np.sum(labels == 5)), int(np.sum(labels == 3))] == [182, 183]
    held_out = digits("digits:5v3", n_features=4, seed=0)  # public-split: 51 of them held out as public
    assert held_out.n_train + held_out.n_test + held_out.n_public == 365 and held_out.n_public == 51


def test_reduction_is_fitted_on_the_given_rows_only():
    rng = np.random.default_rng(0)
    x_train = rng.normal(size=(50, 10))
    domain = ((-math.pi, math.pi),) * 3
    reduction = fit_reduction(x_train, 3, domain, 0.5, seed=0)
    # the training split lands exactly on the box [-pi/2, pi/2] (min-max fitted on it)
    z = reduction.transform(x_train)
    np.testing.assert_allclose(z.min(axis=0), -math.pi / 2, atol=1e-12)
    np.testing.assert_allclose(z.max(axis=0), math.pi / 2, atol=1e-12)
    # a wild test point cannot move the fit and is clipped into the domain
    z_far = reduction.transform(1e6 * np.ones((1, 10)))
    assert np.all(np.abs(z_far) <= math.pi)
    np.testing.assert_array_equal(fit_reduction(x_train, 3, domain, 0.5, seed=0).transform(x_train), z)


def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "ok.npz"
    np.savez(path, x_train=rng.normal(size=(30, 6)), y_train=np.arange(30) % 3,
             x_test=rng.normal(size=(9, 6)), y_test=np.arange(9) % 3)
    data = load_dataset(str(path), 4, feature_range=(-6.0, 6.0))  # the default with a declared range
    assert (data.n_train, data.n_test, data.n_public, data.n_features, data.n_classes) == (30, 9, 0, 4, 3)
    assert (data.preprocessing_mode, data.n_unprotected) == ("projection", 0)
    assert np.bincount(data.y_train).tolist() == [10, 10, 10]
    fitted = load_dataset(str(path), 4, preprocessing="private-fit")
    assert (fitted.n_train, fitted.n_public, fitted.preprocessing_covered) == (30, 0, False)
    own = load_dataset(str(path), 4, preprocessing="own-rows-split")
    assert own.n_train + own.n_public == 30 and own.n_unprotected == own.n_public >= 4


def test_csv_with_header_and_nan(tmp_path):
    rng = np.random.default_rng(2)
    rows = np.column_stack([rng.normal(size=(40, 5)), np.arange(40) % 2])
    good = tmp_path / "good.csv"
    np.savetxt(good, rows, delimiter=",", header="a,b,c,d,e,label", comments="")
    data = load_dataset(str(good), 3, seed=1, feature_range=(-5.0, 5.0))
    expected_test = int(np.sum(row_draws(np.loadtxt(good, delimiter=",", skiprows=1)[:, :5], 1, TEST_DRAW) < 0.3))
    assert (data.n_train, data.n_test, data.n_public, data.n_features, data.n_classes) == (
        40 - expected_test, expected_test, 0, 3, 2)
    assert 4 <= expected_test <= 20  # 40 rows, each in the test split with probability 0.3
    assert dataset_classes(str(good)) == 2
    rows[7, 2] = np.nan
    bad = tmp_path / "bad.csv"
    np.savetxt(bad, rows, delimiter=",")
    with pytest.raises(DataError, match=r"bad.csv: features contains NaN or infinite values \(first at row 7, column 2\)"):
        load_dataset(str(bad), 3, feature_range=(-5.0, 5.0))
