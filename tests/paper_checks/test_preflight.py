"""Preflight: the training-set size a budget is checked at, the clip a record fixes, the order of
the cells, and the output directory checked without creating anything."""

from __future__ import annotations

import math

import pytest

from privqml.errors import ConfigError
from privqml.paper_checks import preflight
from privqml.paper_checks.protocol import Task


def test_training_size_is_n_train_for_synthetic_tasks_and_the_split_for_digits():
    assert preflight.training_size("quantum", 48) == 48 and preflight.training_size("circle", None) == 400
    # 360 images of 0 and 1 (178 + 182): ceil(30 %) = 108 test, then ceil(20 %) of the other 252 = 51 public: 201
    assert preflight.training_size("digits:0v1", 400) == preflight.training_size("digits:0v1", None) == 201
    assert preflight.training_size("digits:3v5", 100) == 204 and preflight.training_size("digits:0,1,2", 1) == 300


def test_a_file_without_public_data_is_refused_by_the_loader_in_one_line(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("".join(f"{i % 7 / 7:.3f},{i % 5 / 5:.3f},{i % 2}\n" for i in range(40)))
    with pytest.raises(ConfigError) as info:
        preflight.training_size(str(path), None)
    assert "declares no public data" in str(info.value) and len(str(info.value).splitlines()) == 1


def test_the_clip_a_record_fixes():
    common = dict(model="hea", dataset="quantum", epsilon=1.0, delta=1e-5, epochs=1, batch_size=16, n_train=48)
    assert preflight.task_clip_value(Task.make("c3", "train", clip=0.5, **common)) == 0.5
    assert preflight.task_clip_value(Task.make("c3", "train", clip_ratio=4.0, g_star=0.75, **common)) == 3.0
    assert preflight.task_clip_value(Task.make("c2", "train", clip_ratio=4.0, **common)) is None  # G* derived later
    assert preflight.task_clip_value(Task.make("c1", "audit", clip="bound", **common)) is None
    tiny = Task.make("c3", "train", clip_ratio=1e-30, g_star=0.75, **common)
    with pytest.raises(ConfigError, match=r"^clip=1e-30xbound of model='hea' on dataset='quantum' is C = 1e-30·G\*"):
        preflight.check_tasks([tiny])
    preflight.check_tasks([tiny.replace(epsilon=math.inf)])  # the non-private reference clips nothing


def test_cells_likely_to_be_refused_come_first():
    cells = [("quantum", 400, e, 1e-5, 32, 6) for e in (1.0, 2.0, 8.0)] + [("quantum", 200, e, 1e-5, 32, 6)
                                                                           for e in (0.5, 8.0, 8.0)]
    order = [(c[1], c[2]) for c in preflight._refusals_first(cells)]
    assert order == [(400, 8.0), (200, 8.0), (200, 0.5), (400, 1.0), (400, 2.0)]  # each cell once


def test_out_dir_is_checked_without_creating_anything(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("x")
    fresh = tmp_path / "a" / "b"
    assert preflight.check_out_dir(fresh) == fresh and not (tmp_path / "a").exists()
    with pytest.raises(ConfigError, match="is a file"):
        preflight.check_out_dir(taken)
    with pytest.raises(ConfigError, match=f"cannot be created: '{taken}' is a file"):
        preflight.check_out_dir(taken / "x" / "y")
    assert preflight.prepare_out_dir(fresh).is_dir()
    assert [p.name for p in fresh.iterdir()] == [".privqml-output.json"]  # the marker; the write probe is gone
