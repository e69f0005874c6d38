"""Synthetic tasks: the quantum teacher against Cirq, labels and balance, nothing fitted."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest

from privqml.errors import ConfigError
from privqml.models.data import load_dataset
from privqml.models.data.synthetic import hea_expectation, quantum_teacher, synthetic
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
    np.testing.assert_allclose(hea_expectation(x, weights, 2), expected, atol=1e-12)


def test_quantum_task_is_labelled_by_its_teacher_and_balanced():
    data = load_dataset("quantum", 4, seed=1)
    box = np.array([[-math.pi / 2, math.pi / 2]] * 4)
    teacher = quantum_teacher(4, box, seed=1)
    scores = hea_expectation(data.x_train, teacher, 2)
    assert np.all(np.abs(scores) >= 0.05)  # the margin
    np.testing.assert_array_equal(data.y_train, (scores > 0).astype(int))
    share = data.y_train.mean()
    assert 0.3 <= share <= 0.7, share


@pytest.mark.parametrize("task", ["circle", "linear"])
def test_synthetic_tasks_fit_nothing_and_are_covered(task):
    data = synthetic(task, 3, n_train=50, n_test=20, seed=4)
    assert (data.preprocessing_mode, data.preprocessing_covered, data.n_public) == ("none", True, 0)
    assert "nothing is fitted on data" in data.preprocessing
    box = np.array([[-math.pi / 2, math.pi / 2]] * 3)
    assert np.all(data.x_train >= box[:, 0]) and np.all(data.x_train <= box[:, 1])
    if task == "circle":  # the median radius splits the 70 points in half
        assert int(np.sum(np.concatenate([data.y_train, data.y_test]))) == 35


@pytest.mark.parametrize(("name", "value"), [("n_train", 0), ("n_test", -1), ("n_train", 3.0)])
def test_synthetic_sizes_are_validated(name, value):
    with pytest.raises(ConfigError, match=f"^{name}={value!r} must be an integer >= 1"):
        synthetic("linear", 3, **{name: value})
