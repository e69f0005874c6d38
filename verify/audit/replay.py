r"""The replay audit: can a reader of ``run.json`` reproduce the run's released updates?

The adversary who holds ``run.json`` and the training data (the DP threat model: it knows every
example but the one in question) re-runs the first :data:`REPLAY_STEPS` steps of the recorded
configuration with the recorded seed put through the seed derivations it knows (privqml's former
one, (seed, epoch) → PCG64 and seed·1000003 + epoch for TensorFlow; plain seeding; the declared
simulation seed) and compares with the recorded released updates. A match means the noise and
the batches are a function of what was written out: against that adversary ε = ∞.
"""

from __future__ import annotations

import numpy as np

from privqml.models.data import Dataset
from privqml.models.privacy import dpsgd
from privqml.models.privacy.randomness import EpochRandomness, epoch_randomness
from privqml.models.training.records import TrainConfig
from privqml.models.training.setup import run_setup
from privqml.models.training.trainer import optimizer_for, release_step, train
from privqml.verify.audit.setting import AuditSetting
from privqml.verify.audit.verdicts import Check

#: How many leading steps the replay re-runs (each must match for a reproduction).
REPLAY_STEPS = 3


def _candidates(config) -> list[tuple[str, object]]:
    """Seed derivations the replaying adversary tries: (label, epoch → EpochRandomness)."""
    seed = int(config.seed)
    out = [
        ("recorded seed, (seed, epoch) derivation", lambda e: epoch_randomness(seed, e)),
        ("recorded seed, plain",
         lambda e: EpochRandomness(np.random.default_rng(seed), seed, np.random.default_rng(seed))),
    ]
    if config.simulation_seed is not None:
        out.append(("declared simulation seed", lambda e: epoch_randomness(config.simulation_seed, e)))
    return out


def replay_check(run, data: Dataset | None = None, mechanism: dpsgd.Mechanism = dpsgd.GAUSSIAN) -> Check:
    """Re-run the first :data:`REPLAY_STEPS` steps of ``run`` (a RunResult) under every candidate
    derivation of its recorded seeds; a candidate reproducing every released update fails it.
    ``data`` is the run's training data (default: loaded as its configuration names it)."""
    config = run.config
    released = np.asarray(run.released_updates, np.float64)
    steps = min(REPLAY_STEPS, len(released))
    if steps == 0:
        return Check("replay", True, "no released updates recorded: nothing to replay")
    setup = run_setup(config, data)  # the recorded data and a model at the recorded initial weights
    # what "reproduced" means, in the release's own scale: a replay from the same randomness agrees to float32
    # rounding, fresh noise differs by about its standard deviation σC/L per coordinate, whatever C is
    sigma, clip = run.privacy.noise_multiplier, run.clip
    scale = sigma * clip / config.batch_size if run.privacy.private and sigma > 0 and clip else 0.0
    atol = 1e-4 * scale if scale > 0 else 1e-7 * max(float(np.max(np.abs(released[:steps]))), np.finfo(np.float64).tiny)
    initial = setup.model.weights.numpy()
    x_train = setup.data.x_train.astype(np.float32)
    candidates = _candidates(config)
    for label, derive in candidates:
        setup.model.weights.assign(initial)
        optimizer = optimizer_for(config)
        streams = derive(0)
        dpsgd.reseed_noise(streams.noise_seed)
        matched = 0
        for t in range(steps):  # the trainer's own step, with the candidate's randomness
            _, result = release_step(setup, x_train, streams, optimizer, mechanism=mechanism)
            if not np.allclose(result.gradient, released[t], rtol=1e-5, atol=atol):
                break
            matched += 1
        if matched == steps:
            return Check(
                "replay", False,
                f"the first {steps} released updates are reproduced from run.json ({label}): the noise and the "
                "batches are a function of what was written out — against a reader of run.json epsilon is infinite",
            )
    return Check("replay", True,
                 f"no known derivation of the recorded seeds reproduces the first {steps} released updates "
                 f"({len(candidates)} tried)")


def short_run_replay(setting: AuditSetting, *, path: str = "fast", epochs: int = 1,
                     mechanism: dpsgd.Mechanism = dpsgd.GAUSSIAN) -> Check:
    """Train the setting's configuration briefly (secret randomness, as ``privqml train`` does) and
    replay it from its record (:func:`replay_check`): the check fails when the recorded seed
    reproduces the released updates."""
    config = TrainConfig(model=setting.model_spec, dataset=setting.dataset, epsilon=None,
                         noise_multiplier=setting.noise_multiplier, clip=setting.clip_norm,
                         batch_size=setting.expected_batch_size, epochs=epochs, n_train=setting.n_train,
                         seed=setting.seed, path=path, delta=setting.delta, meter_every=0)
    return replay_check(train(config, mechanism=mechanism), mechanism=mechanism)


__all__ = ["REPLAY_STEPS", "replay_check", "short_run_replay"]
