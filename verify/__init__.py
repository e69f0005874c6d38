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
- mutation checks: :func:`scaled_bound`, :func:`pruned_bound`, :func:`spreads_scaled`,
  :func:`scaled_spreads`.
"""

from __future__ import annotations

from privqml._lazy import by_module, lazy_exports

_EXPORTS = {
    "strategies": (
        "ansatze", "points", "weights_for", "inputs_for", "labels_for", "noise_models", "shot_counts", "pauli_sums",
    ),
    "engines": (
        "gradients", "get_engine", "EngineOptions", "GradientResult", "ENGINE_NAMES", "Engine",
    ),
    "losses": ("loss_gradients",),
    "properties": ("PROPERTIES",),
    "runner": (
        "verify_ansatz", "verify_random_ansatze", "assert_bound_holds", "demo_verify", "PROFILES", "Profile",
    ),
    "report": ("VerifyReport", "PropertyReport", "Counterexample", "print_report"),
    "mutations": ("scaled_bound", "pruned_bound", "spreads_scaled", "scaled_spreads"),
}
__getattr__, __dir__, __all__ = lazy_exports("privqml.verify", by_module(_EXPORTS))
