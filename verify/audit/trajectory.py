r"""The weights a run's record implies, and the centred noise statistic along them.

The trainer's weights are post-processing of its releases: θ_t = opt(θ_{t−1}, g̃_t) with θ_0 the
initial weights of the public seed and ``opt`` the run's optimizer (SGD or Adam at its learning
rate). From ``run.json`` alone (configuration, released updates) and the run's data, the auditor
therefore recomputes θ_0, θ_1, …, θ_T, and with them:

``weights-from-updates``  θ_T must be the recorded final weights, to T·:data:`WEIGHTS_RTOL_PER_STEP`
    of the largest weight (at least 1): the trainer applied the same float32 updates with the same
    optimizer, so an honest record matches to float32 rounding, a few units in the last place of
    |θ| per step. Released weights that are not
    the post-processing of the accounted releases carry something the accountant never saw; a
    record whose updates were edited after training fails this check as well.
the centred noise statistic  at each θ_{t−1} the clipped per-example gradients c_i of all n
    training examples give the centre m_t = q Σ_i c_i and the quiet directions of the
    batch-sampling part (:func:`privqml.verify.audit.record.centred_statistic`); both depend on the
    data and the past releases only, which is what makes the centred test valid
    (:mod:`privqml.verify.audit.record`). Its rank k is fixed at θ_0
    (:func:`~privqml.verify.audit.record.quiet_dimension`). Per-example gradients are the trainer's
    fast path (:func:`privqml.models.privacy.dpsgd.per_example_gradients`); a non-finite one counts as
    zero, as the trainer releases it.

Cost: T passes of per-example gradients over the whole training split (n/L times a training run's
gradient work) and one [n, P] singular value decomposition per step.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from privqml.models.data import Dataset
from privqml.models.privacy import dpsgd
from privqml.models.training.records import TrainConfig
from privqml.models.training.setup import run_setup
from privqml.models.training.trainer import optimizer_for
from privqml.verify.audit.record import CentredNoise, ReleaseRecord, centred_statistic, quiet_dimension
from privqml.verify.audit.verdicts import Check

#: Tolerance of ``weights-from-updates`` per step, relative to max(1, max_j |θ_j|).
WEIGHTS_RTOL_PER_STEP = 1e-6


@dataclasses.dataclass(frozen=True)
class RecordTrajectory:
    """The trajectory a record implies.

    Attributes:
        centred: the centred, projected noise statistic along it.
        final_weights_error: max_j |θ_T,j (recomputed) − θ_T,j (recorded)| (units of the weights).
        weights_tolerance: the error allowed: T · :data:`WEIGHTS_RTOL_PER_STEP` · max(1, max_j |θ_T,j|).
    """

    centred: CentredNoise
    final_weights_error: float
    weights_tolerance: float

    def weights_check(self) -> Check:
        """``weights-from-updates`` (module docstring)."""
        passed = bool(self.final_weights_error <= self.weights_tolerance)
        return Check(
            "weights-from-updates", passed,
            f"the run's optimizer applied to the recorded updates from the public initial weights gives the recorded "
            f"final weights to {self.final_weights_error:.3g} (tolerance {self.weights_tolerance:.3g})"
            + ("" if passed else ": the released weights are not the post-processing of the released updates"),
        )


def _clipped_gradients(model, x: np.ndarray, y: np.ndarray, clip_norm: float) -> np.ndarray:
    grads, _ = dpsgd.per_example_gradients(model, x, y)
    grads = np.asarray(grads, dtype=np.float64)
    grads[~np.all(np.isfinite(grads), axis=1)] = 0.0  # released as zero by the trainer
    norms = np.linalg.norm(grads, axis=1, keepdims=True)
    return grads * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-300))


def record_trajectory(config: TrainConfig, data: Dataset, record: ReleaseRecord, final_weights) -> RecordTrajectory:
    """Walk the weights of ``record`` (released updates of a run of ``config`` on ``data``) from the
    public initial weights; see the module docstring. The record must be well formed
    (:func:`~privqml.verify.audit.record.structure_checks`)."""
    setup = run_setup(config, data)  # the model at the public initial weights
    model, q = setup.model, record.sampling_probability
    sigma_c = record.noise_multiplier * record.clip_norm
    optimizer = optimizer_for(config)
    x, y = data.x_train.astype(np.float32), data.y_train
    updates = np.asarray(record.released_updates, dtype=np.float32)
    dimension, total = None, 0.0
    for update in updates:
        clipped = _clipped_gradients(model, x, y, record.clip_norm)
        if dimension is None:
            dimension = quiet_dimension(clipped, q, sigma_c)
        if dimension > 0:
            total += centred_statistic(record.expected_batch_size * update.astype(np.float64), clipped, q, sigma_c,
                                       dimension)
        optimizer.apply_gradients([(tf.constant(update), model.weights)])
    recorded = np.asarray(final_weights, dtype=np.float64)
    error = float(np.max(np.abs(model.weights.numpy().astype(np.float64) - recorded)))
    tolerance = len(updates) * WEIGHTS_RTOL_PER_STEP * max(1.0, float(np.max(np.abs(recorded))))
    return RecordTrajectory(CentredNoise(total, int(dimension or 0), len(updates)), error, tolerance)


__all__ = ["RecordTrajectory", "WEIGHTS_RTOL_PER_STEP", "record_trajectory"]
