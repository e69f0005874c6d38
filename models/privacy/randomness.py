r"""Where the randomness that DP-SGD's guarantee rests on comes from: secret, or a labelled simulation.

The (ε, δ) guarantee of DP-SGD holds against an adversary who sees the released updates but
*not* the Gaussian noise nor which examples each Poisson batch held. Anyone who can regenerate
that randomness — because it was derived from a seed written in ``run.json`` — can replay the
run on D and on D minus one example and tell them apart with certainty (ε = ∞ against them).
Two modes, and nothing in between:

``secret`` (the default)
    Every epoch of every (re)start draws fresh seeds from the operating system's entropy
    (:func:`secrets.randbits`): 128 bits for the Poisson draws and 128 bits for the Gaussian noise
    of the fast path (NumPy's PCG64 each), and 63 bits for TensorFlow's global generator, which
    the stock path's TF Privacy optimizer draws its noise from.
    The seeds live in memory only; nothing written out determines them. A resumed run therefore
    continues with fresh randomness (its finished epochs are kept, its ledger is the planned T
    steps, so it spends exactly the budget accounted).

``simulation`` (``simulation_seed=S``)
    Noise and batches of epoch e are a function of (S, e): the run is reproducible and paired
    designs (common random numbers across the arms of a comparison) are possible. Such a run is a
    *simulation of* DP training: it is not private against anyone who knows S, and every output
    says so.

Residual limits of ``secret`` (stated, not hidden): the noise is sampled in floating point by
TensorFlow's Philox generator, which is neither a cryptographic generator nor an exact Gaussian;
textbook floating-point samplers leak through the pattern of representable values (Mironov,
"On significance of the least significant bits for differential privacy", CCS 2012). privqml
does not implement a snapping or discrete-Gaussian mechanism.
"""

from __future__ import annotations

import dataclasses
import secrets

import numpy as np

from privqml import validation

SECRET = "secret"
SIMULATION = "simulation"

SIMULATION_WARNING = (
    "SIMULATION of DP training: the noise and the Poisson batches are derived from "
    "simulation_seed, so this run is NOT private against anyone who knows that seed; its epsilon "
    "is the guarantee of the simulated mechanism, not of this output"
)
SECRET_STATEMENT = (
    "noise and Poisson batches drawn from generators seeded from the operating system's entropy "
    "at every epoch of every (re)start; the seeds are never written out (the recorded seed governs "
    "only the data split and the initial weights)"
)


@dataclasses.dataclass(frozen=True)
class EpochRandomness:
    """The randomness of one epoch: the Poisson-draw generator and the noise sources.

    Attributes:
        batches: the NumPy generator :func:`~privqml.models.privacy.dpsgd.poisson_batch` draws from.
        noise_seed: the global TensorFlow seed for the stock path's Gaussian noise of this epoch
            (held in memory only).
        noise: the NumPy generator the fast path's Gaussian noise is drawn from
            (:func:`privqml.models.privacy.fused.gaussian_noise`).
    """

    batches: np.random.Generator
    noise_seed: int
    noise: np.random.Generator


def check_simulation_seed(simulation_seed) -> int | None:
    """``None`` (secret randomness) or a non-negative integer seed (simulation mode)."""
    if simulation_seed is None:
        return None
    return validation.seed("simulation_seed", simulation_seed, hint="omit it (None) for secret randomness")


def epoch_randomness(simulation_seed: int | None, epoch: int) -> EpochRandomness:
    """The Poisson generator and noise seed of ``epoch``: from OS entropy, or from the simulation seed."""
    if simulation_seed is not None:
        return derived_randomness(int(simulation_seed), int(epoch))
    return EpochRandomness(np.random.default_rng(secrets.randbits(128)), secrets.randbits(63),
                           np.random.default_rng(secrets.randbits(128)))


def derived_randomness(seed: int, epoch: int) -> EpochRandomness:
    """The epoch's randomness as a function of (seed, epoch): simulation mode (and what a replay tries)."""
    return EpochRandomness(np.random.default_rng([seed, epoch, 31]), seed * 1_000_003 + epoch,
                           np.random.default_rng([seed, epoch, 37]))


def describe(simulation_seed: int | None) -> dict:
    """The randomness block of every output: mode, and what it means for the guarantee."""
    if simulation_seed is None:
        return {"mode": SECRET, "statement": SECRET_STATEMENT}
    return {"mode": SIMULATION, "simulation_seed": int(simulation_seed), "statement": SIMULATION_WARNING}


__all__ = [
    "EpochRandomness",
    "SECRET",
    "SIMULATION",
    "SIMULATION_WARNING",
    "check_simulation_seed",
    "derived_randomness",
    "describe",
    "epoch_randomness",
]
