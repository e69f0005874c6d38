"""privqml.models.privacy — the DP mechanism and what it spends.

- :mod:`~privqml.models.privacy.dpsgd` — Poisson batches, per-example gradients, one DP-SGD step
  through TF Privacy's Gaussian sum query (with a finiteness guard and an overflow-free clip);
- :mod:`~privqml.models.privacy.accounting` — RDP and PLD accounting, noise calibration (the only
  accounting path), refusing σ and q outside the accountants' exact range;
- :mod:`~privqml.models.privacy.budget` — the budget check every command runs before any work
  (no TensorFlow);
- :mod:`~privqml.models.privacy.clipping` — the clipping-bias meter;
- :mod:`~privqml.models.privacy.randomness` — secret (OS-entropy) or labelled simulation randomness.

The mechanism has no test hooks: the trainer and the step take a :class:`~privqml.models.privacy.dpsgd.Mechanism`
(:data:`~privqml.models.privacy.dpsgd.GAUSSIAN`, the only one built here); the broken variants the audits must
catch are subclasses injected from :mod:`privqml.verify.audit.broken`.

Names are loaded lazily: importing this package imports no TensorFlow, and
``from privqml.models.privacy import check_budget`` loads only the budget module (dp-accounting);
``dp_step`` and the other mechanism names load TensorFlow on first use. Submodules import as usual
(``from privqml.models.privacy import dpsgd``).
"""

from __future__ import annotations

from privqml._lazy import by_module, lazy_exports

_EXPORTS = by_module({
    "budget": ("Budget", "SIGMA_MARGIN", "check_budget"),
    "accounting": ("PLD_SIGMA_FLOOR", "PrivacyReport", "calibrate_noise_multiplier", "check_accountable",
                   "compute_epsilon", "epsilon_of_event"),
    "clipping": ("ClipMeter", "l2_norms", "measure_clipping"),
    "dpsgd": ("NonFiniteReleaseError", "StepResult", "add_noise", "clipped_sum", "dp_step", "poisson_batch"),
})

__getattr__, __dir__, __all__ = lazy_exports("privqml.models.privacy", _EXPORTS)
