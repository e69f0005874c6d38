"""The numbers of one training run that the claims read: a typed record, with one ``to_json``/``from_json``.

A training task's result file holds :meth:`RunNumbers.to_json` (the keys below, in this order; non-finite
numbers as :mod:`privqml.jsonio` writes them everywhere: ``"inf"``, ``"-inf"``, ``"nan"``); the analyses read
it back with :meth:`RunNumbers.from_json` and use attributes, not string lookups. Result files of earlier
versions that lack a field read it as None. TensorFlow-free: the driver and the reports import it.

``model`` and ``dataset`` are plain descriptions (name, family, weights, outputs, loss; name, sizes,
classes), not live objects. The meaning of every field is in
:func:`privqml.paper_checks.training.compact_run`, which makes the record from a finished run.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np

from privqml import jsonio


@dataclasses.dataclass(frozen=True)
class RunNumbers:
    """What :func:`~privqml.paper_checks.training.compact_run` keeps of a finished run (see there)."""

    test_accuracy: float
    train_accuracy: float | None = None
    accuracy_per_epoch: tuple[float, ...] = ()
    private: bool = True
    epsilon_rdp: float | None = None
    epsilon_pld: float | None = None
    delta: float | None = None
    noise_multiplier: float | None = None
    steps: int | None = None
    sampling_probability: float | None = None
    clip: float | None = None
    clip_source: str | None = None
    grad_norm_bound: float | None = None
    reference_grad_norm_bound: float | None = None
    max_per_example_norm: float | None = None
    clip_fraction_max: float | None = None
    clip_bias_max: float | None = None
    predicted_bias_max: float | None = None
    meter_readings: int = 0
    steps_over_bound: int = 0
    steps_bias_over_prediction: int = 0
    steps_clipped: int = 0
    simulation: bool = False
    model: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    dataset: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    clip_fraction_mean: float | None = None
    clip_bias_mean: float | None = None
    signal_norm_median: float | None = None
    noise_to_signal: float | None = None
    seconds: float | None = None
    mean_step_seconds: float | None = None
    lr: float | None = None
    lr_choice: Mapping[str, Any] | None = None

    @property
    def n_weights(self) -> int | None:
        return self.model.get("n_weights")

    @property
    def n_test(self) -> int | None:
        return self.dataset.get("n_test")

    def to_json(self) -> dict[str, Any]:
        """The result file's dict (``lr_choice`` only when a rule chose the rate)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["accuracy_per_epoch"] = list(self.accuracy_per_epoch)
        out["model"], out["dataset"] = dict(self.model), dict(self.dataset)
        if self.lr_choice is None:
            del out["lr_choice"]
        return out

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> "RunNumbers":
        """The record of a result file's dict (a :class:`RunNumbers` is returned as it is)."""
        if isinstance(payload, cls):
            return payload
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in payload.items() if k in names}
        for f in dataclasses.fields(cls):  # the numbers ("inf", "nan" as jsonio writes them) read back as floats
            if f.type.startswith("float") and f.name in values:
                values[f.name] = jsonio.number(values[f.name])
        values["accuracy_per_epoch"] = tuple(jsonio.number(v) for v in values.get("accuracy_per_epoch", ()))
        values["model"] = dict(values.get("model") or {})
        values["dataset"] = dict(values.get("dataset") or {})
        return cls(**values)


def finite_mean(runs, name: str) -> float | None:
    """The mean of attribute ``name`` over the runs where it is a finite number (None if there is none)."""
    values = [float(v) for v in (getattr(r, name) for r in runs) if v is not None and math.isfinite(float(v))]
    return float(np.mean(values)) if values else None


__all__ = ["RunNumbers", "finite_mean"]
