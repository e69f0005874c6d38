"""Run records: TrainConfig validation and the privqml-JSON round trip of RunResult."""

from __future__ import annotations

import json
import math

import pytest

from privqml.errors import ConfigError
from privqml.models.privacy.accounting import PrivacyReport
from privqml.models.privacy.clipping import measure_clipping
from privqml.models.training.records import RunResult, TrainConfig


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(clip=0.0), dict(clip=-1.0), dict(clip=math.inf), dict(clip="auto"), dict(epsilon=0.0), dict(epsilon=-2.0),
        dict(delta=0.0), dict(delta=1.0), dict(epsilon=1.0, noise_multiplier=1.0), dict(epsilon=None),
        dict(noise_multiplier=-1.0, epsilon=None), dict(epochs=0), dict(batch_size=0), dict(lr=0.0),
        dict(optimizer="rmsprop"), dict(path="loop"), dict(accountant="moments"), dict(meter_every=-1),
        dict(n_train=0), dict(n_test=-1), dict(simulation_seed=-1), dict(simulation_seed=1.5),
        dict(noise_multiplier=0.1, epsilon=None), dict(preprocessing="pca"),
    ],
)
def test_bad_configs(kwargs):
    with pytest.raises(ConfigError):
        TrainConfig(**kwargs)


def test_summary_round_trip_with_infinite_epsilon():
    config = TrainConfig(model="mlp", epsilon=math.inf, clip=1.0)
    privacy = PrivacyReport(math.inf, math.inf, 1e-5, 0.0, 0.1, 20, private=False)
    meter = (measure_clipping([[3.0, 4.0], [0.0, 1.0]], 2.5, None, step=0),)
    history = ({"epoch": 1, "steps": 20, "train_loss": 0.7, "train_accuracy": 0.5, "test_loss": 0.6,
                "test_accuracy": 0.75},)
    dataset = {"name": "d", "n_train": 200, "fingerprint": "ab", "class_balance_train": [100, 100],
               "preprocessing": "none", "preprocessing_mode": "none", "preprocessing_covered": True}
    run = RunResult(config, {"name": "m"}, dataset, privacy, 2.5, "given", None, history, meter, (0.1, 0.2),
                    {"total_seconds": 1.0}, ((0.5, -0.5),), 0)
    text = json.dumps(run.summary(), allow_nan=False)
    assert run.summary()["guarantee"]["epsilon_rdp"] == "inf" and run.summary()["config"]["epsilon"] == "inf"
    back = RunResult.from_summary(json.loads(text))
    assert back.config == config and back.clip_history == meter and back.test_accuracy == 0.75
    assert math.isinf(back.privacy.epsilon_rdp) and back.summary() == run.summary()
    meter_summary = run.summary()["not_covered"]["clip_meter"]
    assert meter_summary["clip_fraction_max"] == 0.5 and meter_summary["predicted_bias_max"] is None
    assert back.released_updates == ((0.5, -0.5),) and back.history == history


def test_a_run_json_of_an_older_privqml_with_null_epsilon_still_reads():
    """privqml once wrote an infinite ε as null: such a run.json reads back as ε = ∞."""
    config = TrainConfig(model="mlp", epsilon=math.inf, clip=1.0)
    privacy = PrivacyReport(math.inf, math.inf, 1e-5, 0.0, 0.1, 20, private=False)
    history = ({"epoch": 1, "steps": 20, "train_loss": math.inf, "train_accuracy": 0.5, "test_loss": 0.6,
                "test_accuracy": 0.75},)
    dataset = {"name": "d", "n_train": 200, "fingerprint": "ab", "class_balance_train": [100, 100],
               "preprocessing": "none", "preprocessing_mode": "none", "preprocessing_covered": True}
    run = RunResult(config, {"name": "m"}, dataset, privacy, 1.0, "given", None, history, (), (0.1,),
                    {"total_seconds": 1.0}, ((0.5,),), 0)
    summary = run.summary()
    assert summary["not_covered"]["train_history"][0]["train_loss"] == "inf"
    legacy = json.loads(json.dumps(summary).replace('"inf"', "null"))
    back = RunResult.from_summary(legacy)
    assert back.config == config and math.isinf(back.privacy.epsilon_rdp) and math.isinf(back.privacy.epsilon_pld)
    assert RunResult.from_summary(summary).history == history  # "inf" reads back as a float
