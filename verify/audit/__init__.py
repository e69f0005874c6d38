"""privqml.verify.audit — empirical privacy audits of mechanisms and of finished runs.

- :mod:`~privqml.verify.audit.one_step` — the one-step canary audit and the verdict rule;
- :mod:`~privqml.verify.audit.mechanisms` — the step mechanisms audited (the trainer's own release,
  broken NumPy variants, quantum noise alone);
- :mod:`~privqml.verify.audit.setting` — an audit's set-up from a training configuration;
- :mod:`~privqml.verify.audit.one_run` — one training run with many canaries; the sampler audit;
- :mod:`~privqml.verify.audit.trained_run` — ``audit --run DIR``: replay, one-step, one-run, merged;
- :mod:`~privqml.verify.audit.mia` — membership-inference attacks;
- :mod:`~privqml.verify.audit.quantum` — exact privacy loss of shot and depolarising noise;
- :mod:`~privqml.verify.audit.statistics` — intervals and ε lower bounds from error rates.
"""
