r"""Broken records for the run audit to catch: faults of what an audit is handed, not of the trainer.

The trainer faults (:mod:`privqml.models.privacy.faults`) make the trainer misbehave while it
trains. These leave the trainer alone and change what the audit of a finished run is given, so
the record checks (:mod:`privqml.verify.audit.record`) and the data-fingerprint check must flag
them:

``noise-shrunk-in-record``  every released update of ``run.json`` scaled by
                            :data:`NOISE_SHRINK_FACTOR` = 0.1: the record of a run whose noise
                            std was σC/10 while the accountant was told σ (its clipped sums
                            shrink with it).
``wrong-data``              the run audited against a dataset that differs from the one it was
                            trained on: the first training row of the loaded data is moved to the
                            lower corner of the public input domain (the upper corner if it is
                            there already), so the data's fingerprint differs from the recorded one.

A fault is an object with two hooks, each the identity unless the fault changes that input:
:meth:`RecordFault.summary` (the ``run.json`` object) and :meth:`RecordFault.data` (the loaded
:class:`~privqml.models.data.Dataset`).
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from privqml import jsonio, validation
from privqml.models.data import Dataset

NOISE_SHRINK_FACTOR = 0.1


@dataclasses.dataclass(frozen=True)
class RecordFault:
    """A named change of a run's record or data (module docstring); the base changes nothing."""

    name: str
    description: str

    def summary(self, summary: dict) -> dict:
        """The ``run.json`` object the audit is handed."""
        return summary

    def data(self, data: Dataset) -> Dataset:
        """The dataset the audit is handed."""
        return data


@dataclasses.dataclass(frozen=True)
class NoiseShrunkInRecord(RecordFault):
    """Released updates scaled by ``factor``: noise std factor·σC where σC was accounted."""

    factor: float = NOISE_SHRINK_FACTOR

    def summary(self, summary: dict) -> dict:
        out = copy.deepcopy(summary)
        covered = out["covered"]
        covered["released_updates"] = [[self.factor * jsonio.number(v) for v in row]
                                       for row in covered["released_updates"]]
        return out


@dataclasses.dataclass(frozen=True)
class WrongData(RecordFault):
    """The first training row moved to a corner of the public domain (a different dataset)."""

    def data(self, data: Dataset) -> Dataset:
        x_train = np.array(data.x_train, dtype=np.float64)
        lower = np.array([lo for lo, _ in data.feature_domain])
        upper = np.array([hi for _, hi in data.feature_domain])
        x_train[0] = upper if np.array_equal(x_train[0], lower) else lower
        return dataclasses.replace(data, x_train=x_train.astype(data.x_train.dtype))


RECORD_FAULTS = {
    fault.name: fault
    for fault in (
        NoiseShrunkInRecord("noise-shrunk-in-record",
                            f"released updates of run.json scaled by {NOISE_SHRINK_FACTOR:g} "
                            "(noise shrunk in the record)"),
        WrongData("wrong-data", "the run audited against a dataset with one training row changed"),
    )
}


def record_fault(name: str) -> RecordFault:
    """The record fault called ``name`` (ConfigError naming the choices otherwise)."""
    return RECORD_FAULTS[validation.choice("inject", name, tuple(RECORD_FAULTS), what="record fault")]


__all__ = ["NOISE_SHRINK_FACTOR", "NoiseShrunkInRecord", "RECORD_FAULTS", "RecordFault", "WrongData", "record_fault"]
