"""The Dataset record and datasets by name: seeded splits, the public domain, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.errors import ConfigError, DataError
from privqml.models.data import Dataset, dataset_classes, load_dataset
from privqml.models.reduction import from_npz


@pytest.mark.parametrize("spec", ["quantum", "circle", "linear", "digits:3v5", "digits:0,1,2"])
def test_datasets_are_seeded_inside_the_domain_and_frozen(spec):
    a = load_dataset(spec, 4, seed=5)
    b = load_dataset(spec, 4, seed=5)
    c = load_dataset(spec, 4, seed=6)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    for x in (a.x_train, a.x_test):
        assert x.min() >= -math.pi and x.max() <= math.pi
    assert a.n_classes == dataset_classes(spec)
    assert set(np.unique(a.y_train)) == set(range(a.n_classes))
    with pytest.raises(ValueError):
        a.x_train[0, 0] = 1.0  # read-only arrays in a frozen record


def test_nan_and_shape_errors(tmp_path):
    x = np.zeros((4, 2))
    x[1, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        Dataset("bad", x, [0, 1, 0, 1], np.zeros((2, 2)), [0, 1], 2, ((-1, 1), (-1, 1)))
    with pytest.raises(DataError, match="rows"):
        Dataset("bad", np.zeros((4, 2)), [0, 1, 0], np.zeros((2, 2)), [0, 1], 2, ((-1, 1), (-1, 1)))
    with pytest.raises(DataError, match="features"):
        Dataset("bad", np.zeros((4, 2)), [0, 1, 0, 1], np.zeros((2, 3)), [0, 1], 2, ((-1, 1), (-1, 1)))
    with pytest.raises(DataError, match="labels in"):
        Dataset("bad", np.zeros((4, 2)), [0, 1, 0, 2], np.zeros((2, 2)), [0, 1], 2, ((-1, 1), (-1, 1)))
    with pytest.raises(DataError, match="outside the public domain"):
        Dataset("bad", np.full((4, 2), 3.0), [0, 1, 0, 1], np.zeros((2, 2)), [0, 1], 2, ((-1, 1), (-1, 1)))
    path = tmp_path / "nan.npz"
    bad = np.random.default_rng(0).normal(size=(20, 6))
    bad[3, 2] = np.nan
    np.savez(path, x_train=bad, y_train=np.arange(20) % 2, x_test=np.zeros((4, 6)), y_test=[0, 1, 0, 1])
    with pytest.raises(DataError, match="NaN"):
        from_npz(str(path), 4)


@pytest.mark.parametrize("spec", ["foo", "digits:3", "digits:3v3", "digits:1v12", "missing.npz"])
def test_unknown_datasets_are_config_errors(spec):
    with pytest.raises(ConfigError):
        load_dataset(spec, 4)


def test_fingerprint_identifies_the_split():
    a, b = load_dataset("circle", 4, seed=0), load_dataset("circle", 4, seed=1)
    assert a.fingerprint() == load_dataset("circle", 4, seed=0).fingerprint() != b.fingerprint()
