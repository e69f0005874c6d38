"""``privqml demo`` stage 3: both models at the same ε, δ, sampling, steps and clipping threshold."""

from __future__ import annotations

import numpy as np
import pytest

from privqml.cli.demo import train_pair
from privqml.models.training.setup import run_setup


def test_quantum_and_classical_share_budget_and_clip():
    q, c = train_pair(epsilon=2.0, epochs=1, n_train=48, n_test=24, batch_size=8)
    assert q.clip == c.clip == pytest.approx(q.grad_norm_bound)
    assert q.config.model == "hea" and c.config.model == "mlp:match=hea"
    assert q.privacy.noise_multiplier == c.privacy.noise_multiplier
    assert q.privacy.steps == c.privacy.steps == 6
    assert q.privacy.epsilon_rdp == pytest.approx(c.privacy.epsilon_rdp) and q.privacy.epsilon_rdp <= 2.0
    assert c.model["matched_to"] == q.model["name"] and c.model["n_weights"] <= q.model["n_weights"]
    for run in (q, c):  # the reported accuracy is the released weights' on the 24 test examples
        setup = run_setup(run.config)
        setup.model.weights.assign(np.asarray(run.final_weights, np.float32))
        _, accuracy = setup.model.evaluate(setup.data.x_test, setup.data.y_test)
        assert run.test_accuracy == pytest.approx(accuracy) and run.test_accuracy * 24 == pytest.approx(
            round(run.test_accuracy * 24))
