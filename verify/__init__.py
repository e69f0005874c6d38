"""privqml.verify — the theory's bounds held against gradients that Cirq and TFQ compute.

Public API (imported lazily, so that ``import privqml.verify`` does not load TensorFlow until an
engine is used):

- strategies (Hypothesis, for your own tests): :func:`ansatze`, :func:`points`, :func:`weights_for`,
  :func:`inputs_for`, :func:`labels_for`, :func:`noise_models`, :func:`shot_counts`, :func:`pauli_sums`;
- engines: :func:`gradients`, :func:`get_engine`, :class:`EngineOptions`, :class:`GradientResult`,
  :data:`ENGINE_NAMES`, :func:`loss_gradients`;
- noise: :class:`NoiseModel`, :func:`with_noise`;
- properties and runs: :func:`verify_ansatz`, :func:`verify_random_ansatze`, :func:`assert_bound_holds`,
  :class:`VerifyReport`, :data:`PROFILES`, :func:`demo_verify`, :func:`print_report`;
- mutation checks: :func:`scaled_bound`, :func:`pruned_bound`, :func:`spreads_scaled`.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "privqml.verify.strategies": (
        "ansatze", "points", "weights_for", "inputs_for", "labels_for", "noise_models", "shot_counts", "pauli_sums",
    ),
    "privqml.verify.engines": (
        "gradients", "get_engine", "EngineOptions", "GradientResult", "ENGINE_NAMES", "Engine",
    ),
    "privqml.verify.losses": ("loss_gradients",),
    "privqml.verify.noise": ("NoiseModel", "with_noise"),
    "privqml.verify.properties": ("PROPERTIES",),
    "privqml.verify.runner": (
        "verify_ansatz", "verify_random_ansatze", "assert_bound_holds", "demo_verify", "PROFILES", "Profile",
    ),
    "privqml.verify.report": ("VerifyReport", "PropertyReport", "Counterexample", "print_report"),
    "privqml.verify.mutations": ("scaled_bound", "pruned_bound", "spreads_scaled"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'privqml.verify' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


__all__ = sorted(_WHERE)
