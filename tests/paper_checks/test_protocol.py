"""The protocol: record identity, fixed paths, seeds, atomic result files in the package's JSON convention."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from privqml.errors import ConfigError
from privqml.paper_checks import protocol
from privqml.paper_checks.protocol import Task, load_result, store_result


def test_key_depends_on_every_field_and_not_on_keyword_order():
    base = Task.make("c3", "train", replicate=2, model="hea", epsilon=1.0, clip=0.5)
    assert Task.make("c3", "train", replicate=2, clip=0.5, epsilon=1.0, model="hea") == base
    assert Task.make("c3", "train", replicate=2, clip=0.5, epsilon=1.0, model="hea").key == base.key
    variants = [
        base.replace(epsilon=2.0),
        base.replace(epsilon=1),  # an int is a different parameter value than a float
        base.replace(model="reupload"),
        base.replace(replicate=3),
        base.replace(extra=None),
        Task.make("c2", "train", replicate=2, model="hea", epsilon=1.0, clip=0.5),
        Task.make("c3", "audit", replicate=2, model="hea", epsilon=1.0, clip=0.5),
    ]
    keys = {v.key for v in variants} | {base.key}
    assert len(keys) == len(variants) + 1


def test_key_and_path_are_stable_golden_values():
    # A change here orphans every stored result: bump PROTOCOL_VERSION instead of editing this.
    task = Task.make("c3", "train", replicate=0, model="hea", epsilon=float("inf"), clip=(0.5, 1))
    assert task.key == "ceb2f589cf42ebfdc76cd375607dca814e0184f5a1103f0903f23ecaa1736533"
    payload = protocol._canonical_json(task.to_json())
    assert payload == (
        '{"claim":"c3","kind":"train","params":{"clip":[0.5,1],"epsilon":Infinity,"model":"hea"},'
        '"protocol_version":1,"replicate":0}'
    )
    assert task.rel_path == Path("c3/train/clip=0.5+1_epsilon=inf_model=hea_r0-ceb2f589cf42ebfd.json")
    assert task.int_seed() == Task.make("c3", "train", model="hea", clip=(0.5, 1), epsilon=float("inf")).int_seed()


def test_key_of_a_task_with_infinite_epsilon_is_unchanged_by_the_file_encoding():
    # The non-private C3 reference of the demo profile, as stored by every earlier sweep (task files
    # then wrote Infinity, now "inf"): its key and path must stay these, or interrupted sweeps
    # would recompute it.
    task = Task.make("c3", "train", replicate=0, model="hea", dataset="quantum", delta=1e-5, epochs=6,
                     batch_size=32, lr=0.05, optimizer="adam", n_train=200, n_test=200, epsilon=math.inf, clip=None)
    assert task.key == "e5705ad76d07a0b4896e3bcb4d36c719f73f17aa5515b68c8bf2bc75b5cb0725"
    assert task.rel_path == Path("c3/train/batch_size=32_clip=None_dataset=quantum_delta=1e-05_epochs=6_epsilon=inf_"
                                 "lr=0.05_model=hea_n_test=20_r0-e5705ad76d07a0b4.json")


def test_task_files_write_non_finite_numbers_as_strings_and_read_back_floats(tmp_path):
    task = Task.make("c3", "train", model="hea", epsilon=math.inf, clip=None, bounds=(-math.inf, 1.0))
    store_result(task, tmp_path, {"epsilon_pld": math.inf, "seconds": math.nan, "accuracy": 0.75}, 1.5)
    text = (tmp_path / task.rel_path).read_text()
    stored = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert stored["task"]["params"]["epsilon"] == "inf" and stored["task"]["params"]["bounds"] == ["-inf", 1.0]
    assert stored["result"]["epsilon_pld"] == "inf" and stored["result"]["seconds"] == "nan"
    assert stored["key"] == task.key
    back = load_result(task, tmp_path)["result"]
    assert back["epsilon_pld"] == math.inf and math.isnan(back["seconds"]) and back["accuracy"] == 0.75
    assert Task.from_json(stored["task"]) == task


def test_bad_parameters_are_refused_with_the_name():
    with pytest.raises(ConfigError, match="data="):
        Task.make("c3", "train", data={"a": 1})
    with pytest.raises(ConfigError, match="replicate"):
        Task.make("c3", "train", replicate=-1)
    with pytest.raises(ConfigError, match="claim"):
        Task.make("c 3", "train")
    with pytest.raises(ConfigError, match="epsilon='inf'.*float"):  # reads back from a task file as a number
        Task.make("c3", "train", epsilon="inf")


def test_results_read_back_in_the_package_json_convention():
    # a record's to_json()/as_dict() may already write ±∞ as "inf"/"-inf": those are numbers too
    assert protocol.readable_result({"a": (1, 2.0), "b": math.inf, "c": {"d": ["-inf", "x"]}}) == {
        "a": [1, 2.0], "b": math.inf, "c": {"d": [-math.inf, "x"]}}
    with pytest.raises(TypeError):
        protocol.readable_result({"obj": object()})


def test_same_record_same_stream_and_shared_seeds():
    a = Task.make("c3", "train", replicate=1, dataset="digits", model="hea")
    b = Task.make("c3", "train", replicate=1, dataset="digits", model="mlp")
    assert np.array_equal(a.rng().normal(size=5), Task.make("c3", "train", replicate=1, model="hea", dataset="digits").rng().normal(size=5))
    assert not np.array_equal(a.rng().normal(size=5), b.rng().normal(size=5))
    # Shared fields: the two arms of a paired comparison get the same data seed ...
    assert a.int_seed("dataset") == b.int_seed("dataset")
    assert np.array_equal(a.rng("dataset").random(4), b.rng("dataset").random(4))
    # ... which still differs between replicates and between datasets.
    assert a.int_seed("dataset") != a.replace(replicate=2).int_seed("dataset")
    assert a.int_seed("dataset") != a.replace(dataset="moons").int_seed("dataset")
    with pytest.raises(ConfigError, match="not parameters"):
        a.rng("nope")


def test_atomic_write_leaves_old_file_when_replace_fails(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    protocol.atomic_write_json(path, {"v": 1})

    def boom(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        protocol.atomic_write_json(path, {"v": 2})
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary left behind


def test_a_task_label_is_readable_in_a_progress_line():
    from privqml.paper_checks.protocol import Task

    matched = Task.make("c3", "train", replicate=3, model="mlp:match=examples/my_ansatz.py%3Amy_ansatz,sha256=ab12",
                        dataset="circle", epsilon=float("inf"), clip_ratio=0.25, n_train=400)
    assert matched.label == "mlp~my_ansatz.py:my_ansatz on circle n=400 ε=∞ C=0.25·G* seed 3"
    assert Task.make("c3", "train", model="hea:n_qubits=8", dataset="digits:3v5", epsilon=2.0,
                     clip=0.5).label == "hea on digits:3v5 ε=2 C=0.5 seed 0"
    assert Task.make("c1", "counterexample", replicate=1).label == "c1/counterexample #1"
