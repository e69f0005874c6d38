"""privqml.models — TFQ and classical models trained with TF Privacy's DP-SGD.

Modules (one concept each):

- :mod:`~privqml.models.data` (package) — synthetic tasks, digits and files, public preprocessing,
  the frozen ``Dataset``;
- :mod:`~privqml.models.losses` — per-example losses in the project's conventions;
- :mod:`~privqml.models.base`, :mod:`~privqml.models.quantum`, :mod:`~privqml.models.classical`,
  :mod:`~privqml.models.zoo` — the model contract, quantum families, matched classical baselines,
  models by name;
- :mod:`~privqml.models.privacy` (package) — the DP mechanism: DP-SGD step, accounting, clipping
  meter, secret randomness;
- :mod:`~privqml.models.training` (package) — ``train(config) -> RunResult``, the run set-up the
  trainer and the audits share, run records and files;

Names are loaded lazily (``from privqml.models import train`` imports TensorFlow then).
"""

from __future__ import annotations

from privqml._lazy import lazy_exports

_EXPORTS = {
    "Dataset": "data",
    "load_dataset": "data",
    "build_model": "zoo",
    "QuantumModel": "quantum",
    "quantum_model": "quantum",
    "MLPModel": "classical",
    "LinearModel": "classical",
    "matched_classical": "classical",
    "PrivacyReport": "privacy.accounting",
    "calibrate_noise_multiplier": "privacy.accounting",
    "compute_epsilon": "privacy.accounting",
    "StepResult": "privacy.dpsgd",
    "add_noise": "privacy.dpsgd",
    "clipped_sum": "privacy.dpsgd",
    "dp_step": "privacy.dpsgd",
    "nonprivate_step": "privacy.dpsgd",
    "per_example_gradients": "privacy.dpsgd",
    "poisson_batch": "privacy.dpsgd",
    "ClipMeter": "privacy.clipping",
    "measure_clipping": "privacy.clipping",
    "RunResult": "training.trainer",
    "TrainConfig": "training.trainer",
    "RunSetup": "training.setup",
    "run_setup": "training.setup",
    "train": "training.trainer",
}

__getattr__, __dir__, __all__ = lazy_exports("privqml.models", _EXPORTS)
