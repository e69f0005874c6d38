"""Datasets: the quantum teacher against Cirq, seeded splits, the public domain, train-only fits."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest

from privqml.errors import ConfigError, DataError
from privqml.models.data import (
    Dataset,
    _hea_expectation,
    dataset_classes,
    digits,
    fit_reduction,
    from_npz,
    load_dataset,
    quantum_teacher,
)
from privqml.theory import hea


def test_hea_expectation_matches_cirq_simulator_in_float64():
    rng = np.random.default_rng(3)
    x = rng.uniform(-math.pi / 2, math.pi / 2, size=(12, 4))
    weights = rng.uniform(-math.pi, math.pi, 16)
    ansatz = hea(4, 2, "Z0")
    simulator = cirq.Simulator(dtype=np.complex128)
    expected = [
        simulator.simulate_expectation_values(ansatz.circuit, list(ansatz.observables), ansatz.resolver(weights, row))[0].real
        for row in x
    ]
    np.testing.assert_allclose(_hea_expectation(x, weights, 2), expected, atol=1e-12)


def test_quantum_task_is_labelled_by_its_teacher_and_balanced():
    data = load_dataset("quantum", 4, seed=1)
    box = np.array([[-math.pi / 2, math.pi / 2]] * 4)
    teacher = quantum_teacher(4, box, seed=1)
    scores = _hea_expectation(data.x_train, teacher, 2)
    assert np.all(np.abs(scores) >= 0.05)  # the margin
    np.testing.assert_array_equal(data.y_train, (scores > 0).astype(int))
    share = data.y_train.mean()
    assert 0.3 <= share <= 0.7, share


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


def test_digits_labels_follow_the_spec_order():
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    data = digits("digits:5v3", n_features=4, seed=0)
    assert data.class_names == ("digit 5", "digit 3")
    counts = np.bincount(np.concatenate([data.y_train, data.y_test]))
    assert counts.tolist() == [int(np.sum(labels == 5)), int(np.sum(labels == 3))]


def test_reduction_is_fitted_on_the_training_split_only():
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


def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "ok.npz"
    np.savez(path, x_train=rng.normal(size=(30, 6)), y_train=np.arange(30) % 3,
             x_test=rng.normal(size=(9, 6)), y_test=np.arange(9) % 3)
    data = load_dataset(str(path), 4)
    assert (data.n_train, data.n_test, data.n_features, data.n_classes) == (30, 9, 4, 3)


@pytest.mark.parametrize("spec", ["foo", "digits:3", "digits:3v3", "digits:1v12", "missing.npz"])
def test_unknown_datasets_are_config_errors(spec):
    with pytest.raises(ConfigError):
        load_dataset(spec, 4)


def test_csv_with_header_and_nan(tmp_path):
    rng = np.random.default_rng(2)
    rows = np.column_stack([rng.normal(size=(40, 5)), np.arange(40) % 2])
    good = tmp_path / "good.csv"
    np.savetxt(good, rows, delimiter=",", header="a,b,c,d,e,label", comments="")
    data = load_dataset(str(good), 3, seed=1)
    assert (data.n_train + data.n_test, data.n_features, data.n_classes) == (40, 3, 2)
    assert dataset_classes(str(good)) == 2
    rows[7, 2] = np.nan
    bad = tmp_path / "bad.csv"
    np.savetxt(bad, rows, delimiter=",")
    with pytest.raises(DataError, match="NaN"):
        load_dataset(str(bad), 3)


def test_fingerprint_identifies_the_split():
    a, b = load_dataset("circle", 4, seed=0), load_dataset("circle", 4, seed=1)
    assert a.fingerprint() == load_dataset("circle", 4, seed=0).fingerprint() != b.fingerprint()
