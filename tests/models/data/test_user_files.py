"""A user's own data file: no public part unless the file ships one or a range is declared.

Rows carved out of the user's file are not public. The default for a file without ``x_public`` is the
data-independent projection over a declared range (or a refusal); the CSV train/test split and the
opt-in ``own-rows-split`` hold-out are per-row keyed draws, so removing or relabelling one row moves
no other row and changes no other row's features, bit for bit.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from privqml.errors import ConfigError, DataError
from privqml.models.data import (
    OWN_ROWS_DRAW,
    PUBLIC_FRACTION,
    TEST_DRAW,
    Dataset,
    csv_split,
    dataset_classes,
    load_dataset,
    npz_split,
    row_draws,
)
from privqml.models.data.dataset import check_features, check_labels, integer_labels

RANGE = (-3.0, 3.0)


def _rows(n: int, d: int = 6, seed: int = 0, n_classes: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(*RANGE, size=(n, d)), np.arange(n) % n_classes])


def _write_csv(path, rows) -> str:
    np.savetxt(path, rows, delimiter=",", fmt="%.17g")
    return str(path)


def _by_row(path: str, mode: str | None = None, seed: int = 4, feature_range=RANGE) -> dict[int, tuple[str, bytes]]:
    """Every data row of the CSV at ``path``: (its part, the raw bytes of its circuit features)."""
    raw = csv_split(path, mode, seed, feature_range=feature_range)
    data = load_dataset(path, 4, seed=seed, preprocessing=mode, feature_range=feature_range)
    rows = {int(i): ("train", data.x_train[k].tobytes()) for k, i in enumerate(raw.train_index)}
    rows.update({int(i): ("test", data.x_test[k].tobytes()) for k, i in enumerate(raw.test_index)})
    rows.update({int(i): ("held-out", b"") for i in raw.public_index})
    assert len(rows) == len(raw.train_index) + len(raw.test_index) + len(raw.public_index)
    return rows


def _moved(before: dict, after: dict, renumber) -> int:
    """How many rows of ``after`` changed part or features against ``before`` (row i of ``after``
    is row renumber(i) of ``before``)."""
    return sum(before[renumber(i)] != value for i, value in after.items())


# -- the default: data-independent, or refused --------------------------------------------------
def test_csv_default_with_a_declared_range_is_the_projection(tmp_path):
    path = _write_csv(tmp_path / "u.csv", _rows(300))
    data = load_dataset(path, 4, seed=4, feature_range=RANGE)
    assert (data.preprocessing_mode, data.preprocessing_covered, data.n_public, data.n_unprotected) == (
        "projection", True, 0, 0)
    assert data.n_train + data.n_test == 300  # no row outside the guarantee
    assert "depends on no data" in data.preprocessing and "public-split" not in data.preprocessing


@pytest.mark.parametrize("suffix", ["csv", "npz"])
def test_a_file_without_public_data_or_range_is_refused_in_one_line(tmp_path, suffix):
    rows = _rows(60)
    path = tmp_path / f"plain.{suffix}"
    if suffix == "csv":
        _write_csv(path, rows)
    else:
        np.savez(path, x_train=rows[:40, :-1], y_train=rows[:40, -1], x_test=rows[40:, :-1], y_test=rows[40:, -1])
    with pytest.raises(ConfigError) as info:
        load_dataset(str(path), 4)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"plain.{suffix} declares no public data, so it has no default preprocessing")
    for way_out in ("x_public", "--feature-range lo,hi", "feature_range=(lo, hi)", "own-rows-split"):
        assert way_out in message, way_out
    # public-split is refused by name too: rows carved from the file are not public
    with pytest.raises(ConfigError, match=f"preprocessing='public-split' for plain.{suffix} needs examples the file"):
        load_dataset(str(path), 4, preprocessing="public-split")


def test_npz_defaults_follow_what_the_file_declares(tmp_path):
    rows = _rows(70)
    arrays = dict(x_train=rows[:50, :-1], y_train=rows[:50, -1], x_test=rows[50:60, :-1], y_test=rows[50:60, -1])
    public = tmp_path / "pub.npz"
    np.savez(public, **arrays, x_public=rows[60:, :-1])
    data = load_dataset(str(public), 4)
    assert (data.preprocessing_mode, data.n_public, data.n_unprotected, data.n_train) == ("public-split", 10, 0, 50)
    assert "x_public of pub.npz, declared public by the file" in data.preprocessing
    ranged = tmp_path / "ranged.npz"
    np.savez(ranged, **arrays, feature_range=np.array(RANGE))
    data = load_dataset(str(ranged), 4)
    assert (data.preprocessing_mode, data.n_public, data.n_train) == ("projection", 0, 50)
    assert "the array feature_range of ranged.npz" in data.preprocessing
    # the caller's range takes the place of none
    assert load_dataset(str(tmp_path / "pub.npz"), 4, feature_range=RANGE).preprocessing_mode == "public-split"


# -- adjacency: one row removed or relabelled moves nothing else ----------------------------------
def test_removing_one_csv_row_moves_no_other_row_and_no_feature_bit(tmp_path):
    rows = _rows(300)
    path = _write_csv(tmp_path / "full.csv", rows)
    before = _by_row(path)
    train_rows = [i for i, (part, _) in before.items() if part == "train"]
    assert len(train_rows) > 150 and sum(part == "test" for part, _ in before.values()) > 50
    for removed in (train_rows[0], train_rows[len(train_rows) // 2], train_rows[-1]):
        after = _by_row(_write_csv(tmp_path / "minus.csv", np.delete(rows, removed, axis=0)))
        assert len(after) == 299
        renumber = lambda i, r=removed: i if i < r else i + 1  # noqa: E731
        assert _moved(before, after, renumber) == 0
        for i, (part, features) in after.items():  # spelled out: same part, bit-identical features
            assert part == before[renumber(i)][0]
            assert np.array_equal(np.frombuffer(features), np.frombuffer(before[renumber(i)][1]))


def test_flipping_one_csv_label_moves_no_row(tmp_path):
    rows = _rows(300)
    path = _write_csv(tmp_path / "full.csv", rows)
    before = _by_row(path)
    for flipped in (0, 17, 299):
        relabelled = rows.copy()
        relabelled[flipped, -1] = 1 - relabelled[flipped, -1]
        after = _by_row(_write_csv(tmp_path / "flip.csv", relabelled))
        assert _moved(before, after, lambda i: i) == 0  # the flipped row included: its part is its own draw


def test_removing_one_npz_training_row_keeps_every_other_feature_bit_identical(tmp_path):
    rows = _rows(200)
    arrays = dict(x_train=rows[:150, :-1], y_train=rows[:150, -1], x_test=rows[150:, :-1], y_test=rows[150:, -1],
                  feature_range=np.array(RANGE))
    full = tmp_path / "full.npz"
    np.savez(full, **arrays)
    data = load_dataset(str(full), 4, seed=2)
    assert (data.preprocessing_mode, data.n_train) == ("projection", 150)
    for removed in (0, 70, 149):
        smaller = dict(arrays, x_train=np.delete(arrays["x_train"], removed, axis=0),
                       y_train=np.delete(arrays["y_train"], removed))
        np.savez(tmp_path / "minus.npz", **smaller)
        other = load_dataset(str(tmp_path / "minus.npz"), 4, seed=2)
        assert np.delete(data.x_train, removed, axis=0).tobytes() == other.x_train.tobytes()
        assert data.x_test.tobytes() == other.x_test.tobytes()


def test_own_rows_split_is_a_per_row_draw_and_says_who_lost_protection(tmp_path):
    rows = _rows(300)
    path = _write_csv(tmp_path / "own.csv", rows)
    raw = csv_split(path, "own-rows-split", seed=4)
    data = load_dataset(path, 4, seed=4, preprocessing="own-rows-split")
    # membership is exactly the two keyed draws of each row's own features
    x = rows[:, :-1]
    in_test = row_draws(x, 4, TEST_DRAW) < 0.3
    held = ~in_test & (row_draws(x, 4, OWN_ROWS_DRAW) < PUBLIC_FRACTION)
    np.testing.assert_array_equal(raw.test_index, np.flatnonzero(in_test))
    np.testing.assert_array_equal(raw.public_index, np.flatnonzero(held))
    n_rest = 300 - int(in_test.sum())
    # Binomial(n_rest, 0.2): within 4 standard deviations of its mean
    assert abs(held.sum() - PUBLIC_FRACTION * n_rest) <= 4 * np.sqrt(n_rest * PUBLIC_FRACTION * (1 - PUBLIC_FRACTION))
    assert (data.preprocessing_mode, data.preprocessing_covered) == ("own-rows-split", True)
    assert data.n_public == data.n_unprotected == int(held.sum()) >= 1
    assert data.n_train + data.n_test + data.n_unprotected == 300
    summary = data.summary()
    assert (summary["n_unprotected"], summary["n_public"]) == (data.n_unprotected, data.n_public)
    text = data.preprocessing
    assert "user's own rows, NOT public" in text and "NOT protected by the (epsilon, delta) guarantee" in text
    assert f"({data.n_unprotected} rows lost protection)" in text
    assert f"covers the pipeline from the raw data for the {data.n_train} training rows" in text
    # removing a training row or relabelling any row moves no other row between the three parts
    before = _by_row(path, "own-rows-split")
    removed = int(raw.train_index[10])
    after = _by_row(_write_csv(tmp_path / "minus.csv", np.delete(rows, removed, axis=0)), "own-rows-split")
    assert sum(before[i if i < removed else i + 1][0] != part for i, (part, _) in after.items()) == 0
    relabelled = rows.copy()
    relabelled[:, -1] = 1 - relabelled[:, -1]  # every label flipped
    after = _by_row(_write_csv(tmp_path / "flip.csv", relabelled), "own-rows-split")
    assert sum(before[i][0] != part for i, (part, _) in after.items()) == 0


def test_own_rows_split_is_for_files_only():
    with pytest.raises(ConfigError, match="preprocessing='own-rows-split' does not apply for digits:3v5"):
        load_dataset("digits:3v5", 4, preprocessing="own-rows-split")


def test_the_stratified_split_moved_rows_and_the_draw_does_not():
    """The measurement behind the per-row draw: a split stratified by label (scikit-learn) moves many
    rows between train and test when one training row is removed; the per-row draw moves none."""
    from sklearn.model_selection import train_test_split

    rows = _rows(300)
    y = rows[:, -1]
    kept, test = train_test_split(np.arange(300), test_size=0.3, random_state=4, stratify=y)
    removed = int(kept[0])
    _, test_after = train_test_split(np.arange(299), test_size=0.3, random_state=4, stratify=np.delete(y, removed))
    renumbered = {i if i < removed else i + 1 for i in test_after.tolist()}
    assert len(set(test.tolist()) ^ renumbered) > 10  # many rows changed split
    in_test = row_draws(rows[:, :-1], 4, TEST_DRAW) < 0.3
    in_test_after = row_draws(np.delete(rows, removed, axis=0)[:, :-1], 4, TEST_DRAW) < 0.3
    np.testing.assert_array_equal(np.delete(in_test, removed), in_test_after)


# -- the draw itself ----------------------------------------------------------------------------
def test_row_draws_are_a_keyed_hash_of_the_row_alone():
    x = np.random.default_rng(0).normal(size=(2000, 3))
    draws = row_draws(x, 7, TEST_DRAW)
    digest = hashlib.sha256(b"privqml row draw\0test split\x007\0" + x[5].astype("<f8").tobytes()).digest()
    assert draws[5] == int.from_bytes(digest[:8], "big") / 2.0**64  # the documented formula, exactly
    order = np.random.default_rng(1).permutation(2000)
    np.testing.assert_array_equal(row_draws(x[order], 7, TEST_DRAW), draws[order])  # no position
    assert not np.array_equal(row_draws(x, 8, TEST_DRAW), draws)  # the seed keys it
    other = row_draws(x, 7, OWN_ROWS_DRAW)
    assert abs(np.corrcoef(draws, other)[0, 1]) < 0.1  # purposes draw independently (|r| ~ 0.02)
    assert abs(draws.mean() - 0.5) < 4 * np.sqrt(1 / 12 / 2000)  # uniform: mean 1/2, sd sqrt(1/12/n)
    assert abs(np.mean(draws < 0.3) - 0.3) < 4 * np.sqrt(0.21 / 2000)
    assert row_draws(np.array([[-0.0, 1.0]]), 0, "p")[0] == row_draws(np.array([[0.0, 1.0]]), 0, "p")[0]


# -- smaller defects: empty classes, x_public, private values in messages ------------------------
def test_a_class_without_examples_is_refused(tmp_path):
    rows = _rows(40)
    rows[:, -1] = 1 + np.arange(40) % 2  # labels {1, 2}: class 0 empty
    csv = _write_csv(tmp_path / "gap.csv", rows)
    for call in (lambda: dataset_classes(csv), lambda: load_dataset(csv, 4, feature_range=RANGE)):
        with pytest.raises(DataError) as info:
            call()
        assert str(info.value) == (
            f"{csv}: class 0 of the labels 0..2 has no example; relabel the classes to 0..K-1 so that every "
            "class has at least one example"
        )
    npz = tmp_path / "gap.npz"
    np.savez(npz, x_train=rows[:30, :-1], y_train=np.arange(30) % 2 * 3, x_test=rows[30:, :-1],
             y_test=(np.arange(10) % 2) * 3)  # labels {0, 3}: classes 1 and 2 empty
    with pytest.raises(DataError, match=r"gap.npz: class 1 of the labels 0..3 has no example"):
        load_dataset(str(npz), 4, feature_range=RANGE)
    np.savez(npz, x_train=rows[:30, :-1], y_train=np.arange(30) % 2, x_test=rows[30:, :-1],
             y_test=np.full(10, 2))  # class 2 only in the test arrays: present in the file
    assert dataset_classes(str(npz)) == 3


def test_x_public_must_be_new_rows_and_not_empty(tmp_path):
    rows = _rows(60)
    arrays = dict(x_train=rows[:40, :-1], y_train=rows[:40, -1], x_test=rows[40:50, :-1], y_test=rows[40:50, -1])
    path = tmp_path / "dup.npz"
    x_public = rows[50:, :-1].copy()
    x_public[3] = arrays["x_train"][17]
    np.savez(path, **arrays, x_public=x_public)
    with pytest.raises(DataError) as info:
        load_dataset(str(path), 4)
    assert "x_public row 3 equals x_train row 17" in str(info.value) and "\n" not in str(info.value)
    x_public[3, 0], arrays["x_train"][17, 0] = -0.0, 0.0  # -0.0 and 0.0 are the same value
    np.savez(path, **arrays, x_public=x_public)
    with pytest.raises(DataError, match="x_public row 3 equals x_train row 17"):
        load_dataset(str(path), 4, preprocessing="projection", feature_range=RANGE)  # checked in every mode
    np.savez(path, **arrays, x_public=np.empty((0, 6)))
    with pytest.raises(DataError, match=r"dup.npz: x_public has 0 rows"):
        load_dataset(str(path), 4)


SECRET = 5.123456789


def _no_secret(call) -> str:
    with pytest.raises((DataError, ConfigError)) as info:
        call()
    message = str(info.value)
    for text in ("5.12", "5.123", "-5.12", f"{SECRET:g}", f"{SECRET:.4g}"):
        assert text not in message, message
    return message


def test_error_messages_name_positions_not_private_values(tmp_path):
    domain = ((-1.0, 1.0), (-1.0, 1.0))
    x = np.zeros((4, 2))
    x[2, 1] = SECRET
    message = _no_secret(lambda: Dataset("d", x, [0, 1, 0, 1], np.zeros((2, 2)), [0, 1], 2, domain))
    assert message.startswith("x_train[2, 1] lies outside the public domain [-1, 1] of feature 1")
    message = _no_secret(lambda: Dataset("d", np.zeros((4, 2)), [0, 1, 0, 1], -x[2:], [0, 1], 2, domain))
    assert message.startswith("x_test[0, 1] lies outside the public domain [-1, 1] of feature 1")
    assert _no_secret(lambda: integer_labels([0, 1, -SECRET, 1], "y")) == (
        "y has non-integer labels (first at index 2); use class indices 0..K-1")
    assert _no_secret(lambda: integer_labels([0, 1, -5, 1], "y")).startswith("y has a negative label (first at index 2)")
    message = _no_secret(lambda: check_labels([0, 1, 5, 1], "y", 2))
    assert message.startswith("y has a label outside 0..1 (first at index 2)") and "5" not in message
    assert _no_secret(lambda: check_features([["1", "secret-5.12"]], "x")) == (
        "x cannot be read as numbers; give numeric features")
    rows = _rows(40)
    rows[9, 2] = SECRET  # outside the declared range (-3, 3)
    csv = _write_csv(tmp_path / "out.csv", rows)
    message = _no_secret(lambda: load_dataset(csv, 4, feature_range=RANGE))
    assert "lies outside the declared public feature_range [-3, 3] of feature 2" in message
    assert "x_train[" in message or "x_test[" in message
    assert "single class" in _no_secret(
        lambda: Dataset("d", np.zeros((4, 2)), [1, 1, 1, 1], np.zeros((2, 2)), [0, 1], 2, domain))


def test_the_unprotected_count_is_checked_against_the_mode():
    x, y, domain = np.zeros((4, 2)), [0, 1, 0, 1], ((-1, 1), (-1, 1))
    own = Dataset("own", x, y, x, y, 2, domain, preprocessing_mode="own-rows-split", n_public=5, n_unprotected=5)
    assert (own.preprocessing_covered, own.n_unprotected, own.summary()["n_unprotected"]) == (True, 5, 5)
    with pytest.raises(ConfigError, match="n_unprotected=0 does not fit preprocessing_mode='own-rows-split'"):
        Dataset("bad", x, y, x, y, 2, domain, preprocessing_mode="own-rows-split", n_public=5)
    with pytest.raises(ConfigError, match="n_unprotected=3 does not fit preprocessing_mode='public-split'"):
        Dataset("bad", x, y, x, y, 2, domain, preprocessing_mode="public-split", n_public=3, n_unprotected=3)
    with pytest.raises(ConfigError, match="n_public=0 does not fit preprocessing_mode='own-rows-split'"):
        Dataset("bad", x, y, x, y, 2, domain, preprocessing_mode="own-rows-split")
    with pytest.raises(ConfigError, match="preprocessing_covered=False contradicts preprocessing_mode='own-rows-split'"):
        Dataset("bad", x, y, x, y, 2, domain, preprocessing_mode="own-rows-split", n_public=2, n_unprotected=2,
                preprocessing_covered=False)


def test_npz_split_indices_under_own_rows(tmp_path):
    rows = _rows(80)
    path = tmp_path / "idx.npz"
    np.savez(path, x_train=rows[:60, :-1], y_train=rows[:60, -1], x_test=rows[60:, :-1], y_test=rows[60:, -1])
    raw = npz_split(str(path), "own-rows-split", seed=1)
    held = np.flatnonzero(row_draws(rows[:60, :-1], 1, OWN_ROWS_DRAW) < PUBLIC_FRACTION)
    np.testing.assert_array_equal(raw.public_index, held)
    np.testing.assert_array_equal(raw.x_public, rows[held, :-1])
    np.testing.assert_array_equal(raw.test_index, 60 + np.arange(20))
