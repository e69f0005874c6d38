"""privqml.verify.audit — empirical privacy audits of mechanisms and of finished runs.

- :mod:`~privqml.verify.audit.verdicts` — pass/fail checks and the three verdicts every audit ends in;
- :mod:`~privqml.verify.audit.one_step` — the one-step canary audit;
- :mod:`~privqml.verify.audit.mechanisms` — the step mechanisms audited (the trainer's own release,
  broken NumPy variants, quantum noise alone) and the public canary;
- :mod:`~privqml.verify.audit.setting` — an audit's set-up from a training configuration;
- :mod:`~privqml.verify.audit.one_run` — one training run with many canaries; the sampler audit;
- :mod:`~privqml.verify.audit.trained_run` — ``audit --run DIR``: the data by its fingerprint, the record,
  replay, one-step, one-run, merged;
- :mod:`~privqml.verify.audit.record` — the recorded releases against the recorded σ, C, q and n;
- :mod:`~privqml.verify.audit.record_faults` — broken records and wrong data, for the run audit to flag;
- :mod:`~privqml.verify.audit.replay` — can a reader of run.json reproduce the released updates?
- :mod:`~privqml.verify.audit.report` — what ``privqml audit`` runs and reports, with its verdict;
- :mod:`~privqml.verify.audit.mia` — membership-inference attacks;
- :mod:`~privqml.verify.audit.quantum` — exact privacy loss of shot and depolarising noise;
- statistics, one concept each: :mod:`~privqml.verify.audit.binomial` (Clopper–Pearson bounds),
  :mod:`~privqml.verify.audit.estimates` (intervals for a shift and a noise scale),
  :mod:`~privqml.verify.audit.distinguishing` (ε lower bound from a two-dataset test),
  :mod:`~privqml.verify.audit.one_run_bound` (ε lower bound from one run's canary guesses),
  :mod:`~privqml.verify.audit.gaussian` (the Gaussian mechanism's exact ε, a known-ε oracle).
"""
