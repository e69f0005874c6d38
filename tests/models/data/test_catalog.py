"""The Dataset record and datasets by name: seeded splits, the public domain, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml.errors import ConfigError, DataError
from privqml.models.data import PREPROCESSING_MODES, Dataset, dataset_classes, from_npz, load_dataset
from privqml.models.data.dataset import check_preprocessing


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


@pytest.mark.parametrize("spec", ["circle", "digits:3v5"])
@pytest.mark.parametrize(("name", "value"), [("n_train", 0), ("n_train", -5), ("n_test", 0), ("n_train", True), ("n_test", 2.5)])
def test_sizes_below_one_are_config_errors_not_the_default(spec, name, value):
    with pytest.raises(ConfigError, match=f"^{name}={value!r} must be an integer >= 1"):
        load_dataset(spec, 4, **{name: value})


def test_sizes_are_used_by_synthetic_tasks():
    data = load_dataset("linear", 3, n_train=7, n_test=5)
    assert (data.n_train, data.n_test) == (7, 5)
    assert (load_dataset("linear", 3).n_train, load_dataset("linear", 3).n_test) == (400, 200)


def _npz_with_labels(path, y_train, y_test=(0, 1, 0, 1)):
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.normal(size=(len(y_train), 6)), y_train=np.asarray(y_train, dtype=float),
             x_test=rng.normal(size=(len(y_test), 6)), y_test=np.asarray(y_test, dtype=float))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_labels_in_files_are_data_errors_naming_the_file(tmp_path, bad):
    labels = [0.0, 1.0] * 10
    labels[5] = bad
    npz = tmp_path / "labels.npz"
    _npz_with_labels(npz, labels)
    for call in (lambda: dataset_classes(str(npz)), lambda: load_dataset(str(npz), 4)):
        with pytest.raises(DataError, match=r"labels.npz: y_train contains NaN or infinite labels \(first at index 5\)"):
            call()
    rows = np.column_stack([np.random.default_rng(1).normal(size=(20, 5)), labels])
    csv = tmp_path / "labels.csv"
    np.savetxt(csv, rows, delimiter=",")
    for call in (lambda: dataset_classes(str(csv)), lambda: load_dataset(str(csv), 3)):
        with pytest.raises(DataError, match=r"labels.csv: label column contains NaN or infinite labels \(first at index 5\)"):
            call()


def test_bad_label_values_in_files_are_data_errors(tmp_path):
    npz = tmp_path / "frac.npz"
    _npz_with_labels(npz, [0.0, 1.5] * 10)
    with pytest.raises(DataError, match="frac.npz: y_train has non-integer labels"):
        dataset_classes(str(npz))
    _npz_with_labels(npz, [0.0, 1.0] * 10, y_test=(0, -1, 0, 1))
    with pytest.raises(DataError, match="frac.npz: y_test has a negative label"):
        load_dataset(str(npz), 4)
    csv = tmp_path / "words.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{'yes' if i == 4 else i % 2}\n" for i in range(20)))
    with pytest.raises(DataError, match=r"words.csv: label column contains NaN or infinite labels \(first at index 4\)"):
        dataset_classes(str(csv))


def test_preprocessing_modes_and_their_validator():
    assert PREPROCESSING_MODES == ("none", "public-split", "public-classes", "projection", "own-rows-split", "private-fit")
    assert check_preprocessing("projection") == "projection"
    with pytest.raises(ConfigError) as info:
        check_preprocessing("pca-on-train")
    assert str(info.value) == f"preprocessing='pca-on-train' is unknown; choose one of {list(PREPROCESSING_MODES)}"
    assert "\n" not in str(info.value)


def test_dataset_records_its_preprocessing():
    x, y = np.zeros((4, 2)), [0, 1, 0, 1]
    plain = Dataset("plain", x, y, x, y, 2, ((-1, 1), (-1, 1)))
    assert (plain.preprocessing_mode, plain.preprocessing_covered, plain.n_public) == ("none", True, 0)
    fitted = Dataset("fit", x, y, x, y, 2, ((-1, 1), (-1, 1)), preprocessing_mode="private-fit")
    assert fitted.preprocessing_covered is False
    summary = Dataset("pub", x, y, x, y, 2, ((-1, 1), (-1, 1)), preprocessing_mode="public-split", n_public=9).summary()
    assert (summary["preprocessing_mode"], summary["preprocessing_covered"], summary["n_public"]) == ("public-split", True, 9)
    with pytest.raises(ConfigError, match="preprocessing_covered=True contradicts preprocessing_mode='private-fit'"):
        Dataset("bad", x, y, x, y, 2, ((-1, 1), (-1, 1)), preprocessing_mode="private-fit", preprocessing_covered=True)
    with pytest.raises(ConfigError, match="n_public=0 does not fit preprocessing_mode='public-split'"):
        Dataset("bad", x, y, x, y, 2, ((-1, 1), (-1, 1)), preprocessing_mode="public-split")
    with pytest.raises(ConfigError, match="n_public=3 does not fit preprocessing_mode='projection'"):
        Dataset("bad", x, y, x, y, 2, ((-1, 1), (-1, 1)), preprocessing_mode="projection", n_public=3)
    with pytest.raises(ConfigError, match="preprocessing='fitted' is unknown"):
        Dataset("bad", x, y, x, y, 2, ((-1, 1), (-1, 1)), preprocessing_mode="fitted")


@pytest.mark.parametrize(
    ("spec", "mode", "covered", "n_public"),
    [("quantum", "none", True, 0), ("digits:3v5", "public-split", True, 51), ("digits:0,1,2", "public-split", True, 75)],
)
def test_defaults_are_covered(spec, mode, covered, n_public):
    """digits:3v5 has 365 images: 110 = ceil(0.3·365) test, then 51 = ceil(0.2·255) public;
    digits:0,1,2 has 537: 162 test, 75 = ceil(0.2·375) public."""
    summary = load_dataset(spec, 4).summary()
    assert (summary["preprocessing_mode"], summary["preprocessing_covered"], summary["n_public"]) == (mode, covered, n_public)
    assert summary["n_unprotected"] == 0  # the digits are public data: no row lost protection
    assert "covers" in summary["preprocessing"] and "NOT covered" not in summary["preprocessing"]


@pytest.mark.parametrize("spec", ["circle", "digits:3v5"])
def test_negative_seeds_are_config_errors(spec):
    with pytest.raises(ConfigError, match=r"^seed=-1 must be an integer >= 0$"):
        load_dataset(spec, 4, seed=-1)
