"""privqml.models.training — the training driver and its records.

- :mod:`~privqml.models.training.records` — ``TrainConfig`` and ``RunResult`` (run.json's blocks);
- :mod:`~privqml.models.training.setup` — ``run_setup(config) -> RunSetup``: model, data, q, T, C
  and σ of a run, shared by the trainer and the audits;
- :mod:`~privqml.models.training.trainer` — ``train(config) -> RunResult``;
- :mod:`~privqml.models.training.runio` — atomic run files, the curves PNG, the output folder check.
"""
