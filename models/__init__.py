"""privqml.models — TFQ and classical models trained with TF Privacy's DP-SGD.

Modules (one concept each):

- :mod:`~privqml.models.data` — synthetic tasks and scikit-learn digits, the frozen ``Dataset``;
- :mod:`~privqml.models.losses` — per-example losses in the project's conventions;
- :mod:`~privqml.models.base`, :mod:`~privqml.models.quantum`, :mod:`~privqml.models.classical`,
  :mod:`~privqml.models.zoo` — the model contract, quantum families, matched classical baselines,
  models by name;
- :mod:`~privqml.models.accounting` — RDP and PLD accounting, noise calibration;
- :mod:`~privqml.models.dpsgd` — Poisson batches, per-example gradients (fast and stock paths),
  one DP-SGD step through TF Privacy's Gaussian sum query;
- :mod:`~privqml.models.clipping` — the clipping-bias meter;
- :mod:`~privqml.models.trainer` — ``train(config) -> RunResult``;
- :mod:`~privqml.models.demo` — the quantum-vs-classical comparison ``privqml demo`` prints.

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
    "PrivacyReport": "accounting",
    "calibrate_noise_multiplier": "accounting",
    "compute_epsilon": "accounting",
    "StepResult": "dpsgd",
    "add_noise": "dpsgd",
    "clipped_sum": "dpsgd",
    "dp_step": "dpsgd",
    "nonprivate_step": "dpsgd",
    "per_example_gradients": "dpsgd",
    "poisson_batch": "dpsgd",
    "ClipMeter": "clipping",
    "measure_clipping": "clipping",
    "RunResult": "trainer",
    "TrainConfig": "trainer",
    "train": "trainer",
    "Comparison": "demo",
    "compare_at_epsilon": "demo",
}

__getattr__, __dir__, __all__ = lazy_exports("privqml.models", _EXPORTS)
