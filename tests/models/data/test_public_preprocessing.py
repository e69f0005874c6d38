"""Preprocessing that the (ε, δ) guarantee covers: the map from raw data to circuit inputs must not
depend on the private training split (add-or-remove one training example changes no other
example's features), nor on the test split; ``private-fit`` must visibly fail that check."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from sklearn.datasets import load_digits

from privqml.errors import ConfigError, DataError
from privqml.models.data import PUBLIC_FRACTION, csv_split, digits, digits_split, load_dataset, npz_split
from privqml.models.data.reduction import PROJECTION_SEED, fit_map, preprocess, random_projection

DOMAIN = ((-math.pi, math.pi),) * 4
COVERED = ("public-split", "public-classes", "projection")


def _features(raw):
    data = preprocess(raw, 4, DOMAIN, 0.5, seed=0)
    return data.x_train, data.x_test


def _removal_changes(raw, positions):
    """For each removed training position i: max |Δ feature| over every other train and test example."""
    x_train, x_test = _features(raw)
    changes = []
    for i in positions:
        x_train_i, x_test_i = _features(raw.without_train([i]))
        kept = np.delete(x_train, i, axis=0)
        changes.append(max(np.abs(x_train_i - kept).max(), np.abs(x_test_i - x_test).max()))
    return np.array(changes)


def _positions(raw):
    n = raw.x_train.shape[0]
    return [0, 1, 17, n // 3, n // 2, n - 2, n - 1]


@pytest.mark.parametrize("spec", ["digits:3v5", "digits:0v1"])
@pytest.mark.parametrize("mode", COVERED)
def test_removing_a_training_example_leaves_every_other_feature_unchanged(spec, mode):
    raw = digits_split(spec, mode, seed=2)
    changes = _removal_changes(raw, _positions(raw))
    assert changes.tolist() == [0.0] * len(changes)  # bit for bit, not merely close


@pytest.mark.parametrize("spec", ["digits:3v5", "digits:0v1"])
def test_private_fit_changes_other_examples_features(spec):
    """The same check fails for a map fitted on the private training split: removing any one
    example moves the others' features (PCA mean and axes, min-max) by at least 1e-3 rad."""
    raw = digits_split(spec, "private-fit", seed=2)
    changes = _removal_changes(raw, _positions(raw))
    assert np.all(changes > 1e-3), changes


@pytest.mark.parametrize("mode", COVERED + ("private-fit",))
def test_test_examples_do_not_inform_the_map(mode):
    raw = digits_split("digits:3v5", mode, seed=0)
    x_train, _ = _features(raw)
    altered = dataclasses.replace(raw, x_test=16.0 - raw.x_test[::-1])
    np.testing.assert_array_equal(_features(altered)[0], x_train)


@pytest.mark.parametrize("seed", [0, 3])
def test_public_split_is_a_disjoint_stratified_hold_out(seed):
    _, labels = load_digits(return_X_y=True)
    raw = digits_split("digits:3v5", "public-split", seed=seed)
    train, test, public = (set(i.tolist()) for i in (raw.train_index, raw.test_index, raw.public_index))
    assert not (train & public) and not (test & public) and not (train & test)
    assert train | test | public == set(np.flatnonzero(np.isin(labels, (3, 5))).tolist())
    non_test = len(train) + len(public)
    assert len(public) == pytest.approx(PUBLIC_FRACTION * non_test, abs=1)
    public_labels = labels[raw.public_index]
    for digit in (3, 5):  # stratified: each class held out in proportion, +-1
        share = np.sum(labels[sorted(train | public)] == digit) * PUBLIC_FRACTION
        assert abs(np.sum(public_labels == digit) - share) <= 1
    np.testing.assert_array_equal(raw.x_public, load_digits().data[raw.public_index])
    # the test split is the same in every mode (so the modes are compared on the same examples)
    np.testing.assert_array_equal(raw.test_index, digits_split("digits:3v5", "private-fit", seed=seed).test_index)


def test_public_classes_fit_on_the_other_digits_and_keep_every_task_example():
    _, labels = load_digits(return_X_y=True)
    raw = digits_split("digits:0v1", "public-classes", seed=0)
    assert set(np.unique(labels[raw.public_index]).tolist()) == set(range(2, 10))
    assert raw.n_public == int(np.sum(labels >= 2))
    task = set(np.flatnonzero(labels <= 1).tolist())
    assert set(raw.train_index.tolist()) | set(raw.test_index.tolist()) == task
    data = digits("digits:0v1", 4, preprocessing="public-classes")
    assert (data.n_train + data.n_test, data.n_public) == (len(task), raw.n_public)


@pytest.mark.parametrize("mode", ["public-split", "public-classes"])
def test_the_public_map_is_fitted_on_the_public_examples(mode):
    """Min-max fitted on the public scores: the public examples span exactly the box [−π/2, π/2]."""
    raw = digits_split("digits:3v5", mode, seed=1)
    public_features = fit_map(raw, 4, DOMAIN, 0.5, seed=1).transform(raw.x_public)
    np.testing.assert_allclose(public_features.min(axis=0), -math.pi / 2, atol=1e-12)
    np.testing.assert_allclose(public_features.max(axis=0), math.pi / 2, atol=1e-12)


def test_private_fit_is_the_previous_train_fitted_pipeline():
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    images, labels = load_digits(return_X_y=True)
    keep = np.isin(labels, (3, 5))
    x_train, x_test, _, _ = train_test_split(images[keep], labels[keep], test_size=0.3, random_state=4, stratify=labels[keep])
    scores = PCA(n_components=4, random_state=4).fit(x_train).transform(x_train)
    expected = -math.pi / 2 + (scores - scores.min(0)) / (scores.max(0) - scores.min(0)) * math.pi
    data = load_dataset("digits:3v5", 4, seed=4, preprocessing="private-fit")
    np.testing.assert_allclose(data.x_train, expected, atol=1e-12)
    assert (data.preprocessing_mode, data.preprocessing_covered, data.n_public) == ("private-fit", False, 0)
    assert "NOT covered by the (epsilon, delta) guarantee" in data.preprocessing


def test_projection_is_fixed_orthonormal_and_lands_in_the_box():
    pixels = np.tile([0.0, 16.0], (64, 1))
    proj = random_projection(pixels, 4, DOMAIN, 0.5)
    np.testing.assert_allclose(proj.matrix @ proj.matrix.T, np.eye(4), atol=1e-12)
    np.testing.assert_array_equal(proj.matrix, random_projection(pixels, 4, DOMAIN, 0.5, PROJECTION_SEED).matrix)
    # the centre of the pixel cube maps to the box centre; the vertex 8 + 8·sign(R_j) to its top edge
    assert np.abs(proj.transform(np.full((1, 64), 8.0))).max() < 1e-12
    vertex = 8.0 + 8.0 * np.sign(proj.matrix)
    np.testing.assert_allclose(np.diag(proj.transform(vertex)), math.pi / 2, atol=1e-12)
    # the map is the same whatever the data seed: it depends on no data
    a = load_dataset("digits:3v5", 4, seed=0, preprocessing="projection")
    b = load_dataset("digits:3v5", 4, seed=1, preprocessing="projection")
    images = load_digits().data
    raw_a = digits_split("digits:3v5", "projection", seed=0)
    np.testing.assert_allclose(a.x_train, proj.transform(images[raw_a.train_index]), atol=0)
    assert np.abs(a.x_train).max() <= math.pi / 2 and np.abs(b.x_test).max() <= math.pi / 2
    assert f"public seed {PROJECTION_SEED}" in a.preprocessing and a.n_public == 0


def _npz(path, rng, public=True):
    arrays = dict(x_train=rng.uniform(0, 1, size=(40, 6)), y_train=np.arange(40) % 2,
                  x_test=rng.uniform(0, 1, size=(10, 6)), y_test=np.arange(10) % 2)
    if public:
        arrays.update(x_public=rng.uniform(0, 1, size=(12, 6)), y_public=np.arange(12) % 2)
    np.savez(path, **arrays)
    return arrays


def test_npz_x_public_is_the_public_data(tmp_path):
    path = tmp_path / "pub.npz"
    arrays = _npz(path, np.random.default_rng(0))
    raw = npz_split(str(path), "public-split")
    np.testing.assert_array_equal(raw.x_public, arrays["x_public"])
    np.testing.assert_array_equal(raw.public_index, 50 + np.arange(12))  # after x_train, x_test
    data = load_dataset(str(path), 4)
    assert (data.n_train, data.n_test, data.n_public, data.preprocessing_covered) == (40, 10, 12, True)
    assert _removal_changes(raw, [0, 13, 39]).tolist() == [0.0, 0.0, 0.0]
    assert "x_public of pub.npz" in data.preprocessing


def test_npz_without_x_public_holds_out_own_rows_only_on_request(tmp_path):
    path = tmp_path / "nopub.npz"
    _npz(path, np.random.default_rng(1), public=False)
    with pytest.raises(ConfigError, match="nopub.npz declares no public data"):
        npz_split(str(path), seed=3)
    with pytest.raises(ConfigError, match="preprocessing='public-split' for nopub.npz needs examples the file declares public"):
        npz_split(str(path), "public-split", seed=3)
    raw = npz_split(str(path), "own-rows-split", seed=3)
    held = set(raw.public_index.tolist())
    assert (raw.n_public, raw.n_unprotected, raw.x_train.shape[0]) == (len(held), len(held), 40 - len(held))
    assert 1 <= len(held) <= 20  # each of 40 rows with probability 0.2: 8 expected
    assert not held & set(raw.train_index.tolist()) and held | set(raw.train_index.tolist()) == set(range(40))
    assert _removal_changes(raw, [0, 5, raw.x_train.shape[0] - 1]).tolist() == [0.0, 0.0, 0.0]


def test_projection_of_user_files_needs_a_declared_range(tmp_path):
    path = tmp_path / "u.csv"
    rng = np.random.default_rng(2)
    np.savetxt(path, np.column_stack([rng.uniform(0, 1, size=(40, 6)), np.arange(40) % 2]), delimiter=",")
    with pytest.raises(ConfigError, match="preprocessing='projection' needs a public range"):
        load_dataset(str(path), 4, preprocessing="projection")
    data = load_dataset(str(path), 4, preprocessing="projection", feature_range=(0.0, 1.0))
    assert (data.preprocessing_mode, data.n_public, data.n_train + data.n_test) == ("projection", 0, 40)
    raw = csv_split(str(path), "projection", feature_range=(0.0, 1.0))
    assert _removal_changes(raw, [0, 9, raw.x_train.shape[0] - 1]).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(DataError, match=r"outside the declared public feature_range \[0, 0.5\]"):
        load_dataset(str(path), 4, preprocessing="projection", feature_range=(0.0, 0.5))
    with pytest.raises(ConfigError, match="feature_range="):
        load_dataset(str(path), 4, preprocessing="projection", feature_range=(1.0, 0.0))
    npz = tmp_path / "r.npz"
    _npz(npz, rng, public=False)
    arrays = dict(np.load(npz))
    np.savez(npz, **arrays, feature_range=np.array([0.0, 1.0]))  # declared by the file
    assert load_dataset(str(npz), 4, preprocessing="projection").n_train == 40


@pytest.mark.parametrize(
    ("spec", "mode", "match"),
    [
        ("digits:0,1,2,3,4,5,6,7,8,9", "public-classes", "every digit class is in the task"),
        ("quantum", "public-split", r"preprocessing='public-split' does not apply for quantum; choose one of \['none'\]"),
        ("digits:3v5", "none", "preprocessing='none' does not apply for digits:3v5"),
        ("digits:3v5", "pca", r"preprocessing='pca' is unknown for digits:3v5; choose one of \['public-split'"),
    ],
)
def test_modes_that_do_not_apply_are_config_errors(spec, mode, match):
    with pytest.raises(ConfigError, match=match):
        load_dataset(spec, 4, preprocessing=mode)


def test_public_classes_is_for_digits_only(tmp_path):
    path = tmp_path / "p.npz"
    _npz(path, np.random.default_rng(4))
    with pytest.raises(ConfigError, match="preprocessing='public-classes' does not apply for p.npz"):
        load_dataset(str(path), 4, preprocessing="public-classes")


def test_too_few_public_examples_for_the_pca_is_a_config_error(tmp_path):
    path = tmp_path / "small.npz"
    rng = np.random.default_rng(5)
    np.savez(path, x_train=rng.normal(size=(20, 6)), y_train=np.arange(20) % 2, x_test=rng.normal(size=(4, 6)),
             y_test=[0, 1, 0, 1], x_public=rng.normal(size=(3, 6)))
    with pytest.raises(ConfigError, match="3 public examples to n_features=4"):
        load_dataset(str(path), 4)


def test_the_digits_public_split_carries_its_own_labels():
    """The learning-rate rule's public data reads the split's labels instead of rebuilding them from load_digits."""
    targets = load_digits().target
    raw = digits_split("digits:5v3", "public-split", 7)
    assert raw.y_public.shape == (raw.public_index.size,) and raw.public_index.size > 0
    np.testing.assert_array_equal(raw.y_public, np.where(targets[raw.public_index] == 5, 0, 1))  # spec order
    assert digits_split("digits:5v3", "public-classes", 7).y_public is None
