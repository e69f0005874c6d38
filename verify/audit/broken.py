"""Deliberately broken DP-SGD mechanisms, for the audits to prove they catch them.

An audit that has never seen a violation is not evidence. Each class here is a
:class:`~privqml.models.privacy.dpsgd.Mechanism` that overrides one part and is *injected* into the real
trainer and step (``train(config, mechanism=...)``, ``dp_step(..., mechanism=...)``), the way TF Privacy's
optimizers take a query; the trainer itself has no switch that weakens it:

``published-seed``  the noise and the Poisson batches are derived from the run's *recorded* seed
                    (the bug of a trainer that seeds its generators from ``run.json``): a replay of
                    the recorded configuration reproduces the released updates exactly.
``nonfinite-leak``  per-example gradients are clipped by TF Privacy's plain ``GaussianSumQuery`` (no
                    finiteness guard) and releases are not checked, so one example whose gradient is
                    NaN or infinite turns the release non-finite.
``noise-omitted``   the Gaussian noise is not added, while the accountant is told σ was.
"""

from __future__ import annotations

import numpy as np
from tensorflow_privacy.privacy.dp_query.gaussian_query import GaussianSumQuery

from privqml import validation
from privqml.models.privacy import randomness
from privqml.models.privacy.dpsgd import Mechanism


class PublishedSeed(Mechanism):
    """Noise and batches of epoch e derived from (the recorded seed, e)."""

    name = "published-seed"

    def epoch_randomness(self, simulation_seed, epoch, public_seed=0):
        if simulation_seed is not None:
            return randomness.derived_randomness(int(simulation_seed), int(epoch))
        return randomness.derived_randomness(int(public_seed), int(epoch))


class NonfiniteLeak(Mechanism):
    """No finiteness guard in the clipping query, no check of the release."""

    name = "nonfinite-leak"

    def query_class(self) -> type:
        return GaussianSumQuery

    def check_release(self, noised, clip_norm, noise_multiplier, where):
        return noised


class NoiseOmitted(Mechanism):
    """No noise added; the accountant is told the σ asked for."""

    name = "noise-omitted"

    def noise(self, rng, shape, clip_norm, noise_multiplier):
        return np.zeros(shape, np.float32)

    def stock_noise_multiplier(self, noise_multiplier):
        return 0.0

    def accounted_noise_multiplier(self, applied, requested):
        return requested


#: every broken mechanism by name (one instance each, so the trainer's traced functions are cached per fault)
BROKEN_TRAINERS: dict[str, Mechanism] = {m.name: m for m in (PublishedSeed(), NonfiniteLeak(), NoiseOmitted())}
FAULTS = tuple(BROKEN_TRAINERS)


def broken_trainer(name: str) -> Mechanism:
    """The broken mechanism ``name`` (one of :data:`FAULTS`), to inject into the trainer."""
    return BROKEN_TRAINERS[validation.choice("inject", name, FAULTS, what="trainer fault")]


__all__ = ["BROKEN_TRAINERS", "FAULTS", "NoiseOmitted", "NonfiniteLeak", "PublishedSeed", "broken_trainer"]
