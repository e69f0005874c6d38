"""privqml.models.privacy — the DP mechanism and what it spends.

- :mod:`~privqml.models.privacy.dpsgd` — Poisson batches, per-example gradients, one DP-SGD step
  through TF Privacy's Gaussian sum query (with a finiteness guard);
- :mod:`~privqml.models.privacy.accounting` — RDP and PLD accounting, noise calibration (the only
  accounting path);
- :mod:`~privqml.models.privacy.clipping` — the clipping-bias meter;
- :mod:`~privqml.models.privacy.randomness` — secret (OS-entropy) or labelled simulation randomness;
- :mod:`~privqml.models.privacy.faults` — named broken variants for the audits to catch.
"""
